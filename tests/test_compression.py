"""The stateless text-channel API: wire forms, prefix detection, caps (PROTOCOL.md section 8)."""

from __future__ import annotations

import base64
import contextlib
import functools
import json
import tracemalloc
import zlib
from collections.abc import Callable
from typing import Any

import brotli
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from m2m_session.codecs import MAX_DECODED_SIZE, Algorithm
from m2m_session.codecs import token_native as token_native_codec
from m2m_session.codecs.select import M2M_MIN, TINY
from m2m_session.compression import (
    BROTLI_PREFIX,
    M2M_PREFIX,
    TAG,
    ZLIB_LEGACY_PREFIX,
    compress,
    compress_auto,
    decompress,
    detect,
)
from m2m_session.errors import (
    CompressionError,
    DecompressionError,
    InvalidCodecError,
    M2MError,
    TokenizerError,
)

MiB = 1024 * 1024

needs_tokenizer = pytest.mark.skipif(
    not token_native_codec.is_available(), reason="the optional tokenizer is not installed"
)

# --- samples ----------------------------------------------------------------------------------

ROLES = ("system", "user", "assistant", "tool")


def chat_request(turns: int = 3, *, model: str = "gpt-4o", max_tokens: int = 256) -> bytes:
    """An OpenAI-style chat request, well over :data:`TINY` bytes."""
    messages = [{"role": "system", "content": "You are the planning agent of a fleet."}]
    for turn in range(turns):
        messages.append({"role": "user", "content": f"turn {turn}: route the shard, verify it"})
        messages.append({"role": "assistant", "content": f"done {turn}: shard routed, verified"})
    body = {"model": model, "messages": messages, "max_tokens": max_tokens}
    return json.dumps(body).encode()


_text = st.text(max_size=120)
_message = st.fixed_dictionaries({"role": st.sampled_from(ROLES), "content": _text})
chat_requests = st.builds(
    lambda model, messages, extra: json.dumps(
        {"model": model, "messages": messages, **extra}
    ).encode(),
    st.text(min_size=1, max_size=40),
    st.lists(_message, min_size=1, max_size=6),
    st.fixed_dictionaries(
        {},
        optional={
            "max_tokens": st.integers(1, 100_000),
            "temperature": st.floats(0, 2, allow_nan=False),
            "stream": st.booleans(),
        },
    ),
)


def zlib_wire(data: bytes, level: int = 6) -> bytes:
    """The legacy ``#M2M[v2.0]|DATA:`` form, built by hand."""
    return ZLIB_LEGACY_PREFIX + base64.b64encode(zlib.compress(data, level))


def brotli_wire(data: bytes) -> bytes:
    return BROTLI_PREFIX + base64.b64encode(brotli.compress(data, quality=1))


@pytest.fixture(scope="module")
def zeros_64mib() -> bytes:
    return bytes(64 * MiB)


def peak_memory(call: Callable[[], Any]) -> int:
    """Peak Python allocation while ``call()`` runs (it is expected to raise M2MError)."""
    tracemalloc.start()
    try:
        with pytest.raises(M2MError):
            call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# --- round trips ------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=2048) | st.binary(max_size=64).map(lambda b: b"#" + b))
def test_none_round_trip_or_refused_when_it_would_be_misread(data: bytes) -> None:
    try:
        wire = compress(data, "NONE")
    except CompressionError:
        assert TAG.match(data) is not None
        return
    assert wire == data
    assert decompress(wire) == data
    assert detect(wire) == "NONE"


@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=4096))
def test_brotli_round_trip(data: bytes) -> None:
    wire = compress(data, "BROTLI")
    assert wire.startswith(BROTLI_PREFIX)
    wire.decode("ascii")  # a text form
    assert detect(wire) == "BROTLI"
    assert decompress(wire) == data
    assert decompress(wire.decode("ascii")) == data  # str in, same result


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=chat_requests)
def test_m2m_round_trip(data: bytes) -> None:
    wire = compress(data, Algorithm.M2M)
    assert wire.startswith(M2M_PREFIX)
    assert detect(wire) == "M2M"
    assert decompress(wire) == data


@needs_tokenizer
@settings(max_examples=60, deadline=None)
@given(text=st.text(max_size=300))
def test_token_native_round_trip(text: str) -> None:
    wire = compress(text, "token-native")
    assert wire.startswith(b"#TK|C|")
    wire.decode("ascii")
    assert detect(wire) == "TOKEN_NATIVE"
    assert decompress(wire) == text.encode()


@needs_tokenizer
def test_token_native_other_encoding_and_refusals() -> None:
    text = "Agents négocient leurs codecs. " * 10
    if "O200K_BASE" in token_native_codec.available_encodings():
        wire = compress(text, "TOKEN_NATIVE", encoding="O200K_BASE")
        assert wire.startswith(b"#TK|O|")
        assert decompress(wire) == text.encode()
    with pytest.raises(TokenizerError):
        compress(b"\xff\xfe not utf-8", "TOKEN_NATIVE")
    with pytest.raises(TokenizerError):
        compress(text, "TOKEN_NATIVE", encoding="NO_SUCH_BPE")


def test_str_content_is_utf8() -> None:
    assert compress("grüße, 世界", "none") == "grüße, 世界".encode()
    assert decompress(compress("grüße, 世界", "brotli")) == "grüße, 世界".encode()


def test_algorithm_names() -> None:
    data = b"some content " * 30
    for name in ("brotli", "BROTLI", " Brotli ", Algorithm.BROTLI):
        assert compress(data, name) == compress(data, "BROTLI")
    assert compress(data, "none") == data
    with pytest.raises(InvalidCodecError, match="needs a session"):
        compress(data, "BROTLI_SESSION")
    with pytest.raises(InvalidCodecError, match="needs a session"):
        compress(data, Algorithm.BROTLI_SESSION)
    for bad in ("LZMA", "ZLIB_LEGACY", "", "auto2"):
        with pytest.raises(InvalidCodecError):
            compress(data, bad)


def test_m2m_refuses_what_it_cannot_carry() -> None:
    with pytest.raises(CompressionError):
        compress(b"plain text, not an LLM-API payload " * 20, "M2M")
    with pytest.raises(CompressionError):
        compress(b'{"not": "a chat request"}' * 20, "M2M")


def test_content_over_the_cap_is_refused() -> None:
    too_big = bytes(MAX_DECODED_SIZE + 1)
    for algorithm in ("auto", "NONE", "BROTLI"):
        with pytest.raises(CompressionError, match="cap"):
            compress(too_big, algorithm)
    with pytest.raises(CompressionError):
        compress_auto(too_big)
    assert decompress(compress(bytes(MAX_DECODED_SIZE), "BROTLI")) == bytes(MAX_DECODED_SIZE)


# --- automatic choice -------------------------------------------------------------------------


def test_auto_tiny_goes_none() -> None:
    assert compress_auto(b"hi") == ("NONE", b"hi")
    assert compress_auto("") == ("NONE", b"")
    assert compress(b"x" * (TINY - 1)) == b"x" * (TINY - 1)


def test_auto_chat_json_goes_m2m() -> None:
    data = chat_request(12)
    assert len(data) >= M2M_MIN
    name, wire = compress_auto(data)
    assert name == "M2M"
    assert wire.startswith(M2M_PREFIX)
    assert compress(data) == wire
    assert decompress(wire) == data


def test_auto_small_chat_json_goes_brotli() -> None:
    # Under M2M_MIN the M2M header costs more than its routing data is worth.
    data = chat_request(1)
    assert TINY <= len(data) < M2M_MIN
    assert compress_auto(data)[0] == "BROTLI"


def test_auto_large_text_goes_brotli() -> None:
    data = ("The quick brown agent relays the plan. " * 200).encode()
    name, wire = compress_auto(data)
    assert name == "BROTLI"
    assert wire.startswith(BROTLI_PREFIX)
    assert len(wire) < len(data) // 5
    assert decompress(wire) == data


def test_auto_never_sends_a_tag_lookalike_as_none() -> None:
    for data in (b"#T1|tiny", b"#M2M|1|x", b"#TK|C|", b"#M2M[v3.0]|DATA:"):
        name, wire = compress_auto(data)
        assert name == "BROTLI"
        assert decompress(wire) == data


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=600) | chat_requests)
def test_auto_round_trip(data: bytes) -> None:
    name, wire = compress_auto(data)
    assert name in ("M2M", "BROTLI", "NONE")
    assert detect(wire) == name
    assert decompress(wire) == data


# --- prefixes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wire", "name"),
    [
        (b"#M2M|1|\x00\x00", "M2M"),
        (b"#TK|C|AAAA", "TOKEN_NATIVE"),
        ("#TK|O|", "TOKEN_NATIVE"),
        (b"#M2M[v3.0]|DATA:", "BROTLI"),
        (b"#M2M[v2.0]|DATA:eJw=", "ZLIB_LEGACY"),
        (b"", "NONE"),
        (b"hello", "NONE"),
        ('{"model": "x"}', "NONE"),
        (b"# heading\nbody", "NONE"),
        (b"#hashtag and more|", "NONE"),
        (b"#|empty tag", "NONE"),
        (b"#" + b"a" * 17 + b"|too long for a tag", "NONE"),
        (b"#M2M[v3.0]", "NONE"),  # no '|': not a tag
        (b" #T1|leading space", "NONE"),
    ],
)
def test_detect(wire: bytes | str, name: str) -> None:
    assert detect(wire) == name


@pytest.mark.parametrize(
    ("wire", "prefix"),
    [
        (b"#T1|abc", "#T1|"),
        (b"#XYZ|whatever", "#XYZ|"),
        ("#XYZ|text", "#XYZ|"),
        (b"#M2M|2|future frame", "#M2M|"),
        (b"#M2M[v4.0]|DATA:AAAA", "#M2M[v4.0]|"),
        (b"#M2M[v3.0]|BLOB:AAAA", "#M2M[v3.0]|"),
        (b"#a|", "#a|"),
        (b"#" + b"a" * 16 + b"|", "#" + "a" * 16 + "|"),
        (b"#tk|C|AAAA", "#tk|"),  # prefixes are case-sensitive
    ],
)
def test_unknown_tags_are_invalid_codec(wire: bytes | str, prefix: str) -> None:
    with pytest.raises(InvalidCodecError) as caught:
        detect(wire)
    assert prefix in str(caught.value)
    assert caught.value.details == {"prefix": prefix}
    with pytest.raises(InvalidCodecError, match="unknown codec prefix"):
        decompress(wire)


@pytest.mark.parametrize(
    "text",
    [b"", b"plain text", b"# heading\n\nsome markdown", b"#!/bin/sh\necho hi", b"\x00\xff\x80"],
)
def test_passthrough(text: bytes) -> None:
    assert decompress(text) == text
    assert decompress(text, max_size=len(text)) == text


def test_passthrough_is_capped() -> None:
    with pytest.raises(DecompressionError, match="cap"):
        decompress(b"plain text", max_size=9)
    with pytest.raises(DecompressionError):
        decompress("é" * 5, max_size=9)  # 10 bytes of UTF-8


def test_negative_max_size_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="negative"):
        decompress(b"x", max_size=-1)


# --- BROTLI text form -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"!!!!",  # not the alphabet
        b"QUJD\n",  # a line break
        b"QUJ D",  # whitespace
        b"QUJ",  # padding missing
        b"QQ==QQ==",  # data after padding
        b"QR==",  # non-canonical padding bits
        b"QUJD-_",  # URL-safe alphabet
    ],
)
def test_brotli_base64_is_strict(body: bytes) -> None:
    with pytest.raises(DecompressionError, match="Base64"):
        decompress(BROTLI_PREFIX + body)


def test_brotli_corrupt_or_empty_stream() -> None:
    with pytest.raises(DecompressionError):
        decompress(BROTLI_PREFIX)
    with pytest.raises(DecompressionError):
        decompress(BROTLI_PREFIX + base64.b64encode(b"not a brotli stream at all"))


def test_brotli_cap_exact_boundary() -> None:
    data = bytes(range(256)) * 40
    wire = compress(data, "BROTLI")
    assert decompress(wire, max_size=len(data)) == data
    with pytest.raises(DecompressionError, match="cap"):
        decompress(wire, max_size=len(data) - 1)


def test_brotli_bomb_capped_while_decoding(zeros_64mib: bytes) -> None:
    wire = brotli_wire(zeros_64mib)
    assert len(wire) < 64 * 1024
    with pytest.raises(DecompressionError, match="cap"):
        decompress(wire)  # 64 MiB against the default 16 MiB cap
    assert peak_memory(lambda: decompress(wire, max_size=MiB)) < 8 * MiB


# --- legacy zlib ------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=4096), level=st.integers(0, 9))
def test_legacy_zlib_decodes(data: bytes, level: int) -> None:
    wire = zlib_wire(data, level)
    assert detect(wire) == "ZLIB_LEGACY"
    assert decompress(wire) == data
    assert decompress(wire.decode("ascii")) == data


def test_legacy_zlib_multi_chunk_and_exact_cap() -> None:
    data = bytes(range(256)) * (3 * MiB // 256 + 7)  # more than one 1 MiB inflate step
    wire = zlib_wire(data)
    assert decompress(wire) == data
    assert decompress(wire, max_size=len(data)) == data
    with pytest.raises(DecompressionError, match="cap"):
        decompress(wire, max_size=len(data) - 1)
    assert decompress(zlib_wire(b""), max_size=0) == b""


def test_legacy_zlib_bomb_capped_while_decoding(zeros_64mib: bytes) -> None:
    wire = zlib_wire(zeros_64mib, 9)
    assert len(wire) < 256 * 1024
    with pytest.raises(DecompressionError, match="cap"):
        decompress(wire)
    assert peak_memory(lambda: decompress(wire, max_size=MiB)) < 8 * MiB


def test_legacy_zlib_corrupt_truncated_or_trailing() -> None:
    stream = zlib.compress(b"legacy payload " * 50)
    for bad in (stream[:-1], stream[: len(stream) // 2], stream[:2], b""):
        with pytest.raises(DecompressionError, match="truncated"):
            decompress(ZLIB_LEGACY_PREFIX + base64.b64encode(bad))
    with pytest.raises(DecompressionError, match="trailing"):
        decompress(ZLIB_LEGACY_PREFIX + base64.b64encode(stream + b"junk"))
    with pytest.raises(DecompressionError, match="zlib"):
        decompress(ZLIB_LEGACY_PREFIX + base64.b64encode(b"\x78\x9c garbage here"))
    raw_deflate = zlib.compressobj(wbits=-15)
    deflated = raw_deflate.compress(b"no zlib header") + raw_deflate.flush()
    with pytest.raises(DecompressionError):
        decompress(ZLIB_LEGACY_PREFIX + base64.b64encode(deflated))
    with pytest.raises(DecompressionError, match="Base64"):
        decompress(ZLIB_LEGACY_PREFIX + b"eJw=\n")


def test_compress_never_produces_the_legacy_form() -> None:
    data = b"some text that compresses well " * 100
    for algorithm in ("auto", "BROTLI", "NONE"):
        assert not compress(data, algorithm).startswith(b"#M2M[v2.0]")


# --- M2M --------------------------------------------------------------------------------------


def test_m2m_bomb_capped_while_decoding() -> None:
    messages = [{"role": "user", "content": "a" * MiB} for _ in range(12)]  # JSON string limit
    data = json.dumps({"model": "gpt-4o", "messages": messages})
    wire = compress(data, "M2M")
    assert len(wire) < 64 * 1024
    assert decompress(wire) == data.encode()
    with pytest.raises(DecompressionError):
        decompress(wire, max_size=len(data) - 1)
    assert peak_memory(lambda: decompress(wire, max_size=MiB)) < 8 * MiB


def test_m2m_corrupt_payload() -> None:
    wire = bytearray(compress(chat_request(), "M2M"))
    wire[-3] ^= 0xFF  # inside the Brotli payload
    with pytest.raises(DecompressionError):
        decompress(bytes(wire))


# --- hostile input ----------------------------------------------------------------------------


@functools.cache
def _valid_wires() -> tuple[bytes, ...]:
    wires = [
        compress(b"hello, plain text " * 30, "BROTLI"),
        compress(chat_request(), "M2M"),
        zlib_wire(b"legacy payload " * 40),
    ]
    if token_native_codec.is_available():
        wires.append(compress("token native text, tokens and more " * 5, "TOKEN_NATIVE"))
    return tuple(wires)


# Where each form's fixed prefix ends (a truncation before it may read as NONE or a bad tag).
# TOKEN_NATIVE has no length or checksum: a cut on a Base64 quantum that also ends a VarInt
# is a shorter valid wire, so only the kind of error is checked for it.
_PREFIX_LENGTHS = {b"#M2M[v3.0]": 16, b"#M2M[v2.0]": 16, b"#M2M|1|": 7}


@pytest.mark.parametrize("wire", _valid_wires(), ids=detect)
def test_truncated_wires_raise_m2m_errors(wire: bytes) -> None:
    """Every truncation decodes as something or raises an M2MError; past the fixed prefix of a
    self-checking form (BROTLI, ZLIB_LEGACY, M2M) it always raises: never partial output."""
    prefix_length = next(
        (n for p, n in _PREFIX_LENGTHS.items() if wire.startswith(p)), len(wire) + 1
    )
    for cut in range(len(wire)):
        truncated = wire[:cut]
        try:
            result = decompress(truncated)
        except M2MError:
            continue
        assert cut < prefix_length, f"cut at {cut} of {len(wire)} decoded to {result!r}"


WIRE_PREFIXES = (
    *(b"", b"#", b"#T1|", b"#M2M|1|", b"#TK|", b"#TK|C|", b"#TK|O|", b"#TK|L|"),
    *(BROTLI_PREFIX, ZLIB_LEGACY_PREFIX),
)


@settings(max_examples=300, deadline=None)
@given(
    prefix=st.sampled_from(WIRE_PREFIXES),
    tail=st.binary(max_size=200) | st.text(alphabet="ABCDEFabcdef0123456789+/=", max_size=200),
)
def test_random_wires_raise_only_m2m_errors(prefix: bytes, tail: bytes | str) -> None:
    wire = prefix + (tail.encode() if isinstance(tail, str) else tail)
    try:
        result = decompress(wire, max_size=4096)
    except M2MError:
        return
    assert isinstance(result, bytes)
    assert len(result) <= 4096


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_bit_flipped_wires_raise_only_m2m_errors(data: st.DataObject) -> None:
    wire = bytearray(data.draw(st.sampled_from(_valid_wires())))
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(wire) - 1))
        wire[position] ^= data.draw(st.integers(1, 255))
    with contextlib.suppress(M2MError):
        decompress(bytes(wire))


@settings(max_examples=100, deadline=None)
@given(data=st.binary(min_size=1, max_size=300))
def test_decompress_never_mistakes_compressed_output(data: bytes) -> None:
    assume(TAG.match(data) is None)
    for algorithm in ("BROTLI", "NONE"):
        assert decompress(compress(data, algorithm)) == data
