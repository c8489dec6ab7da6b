"""NONE and BROTLI codecs and the codec registry (PROTOCOL.md sections 7 and 8)."""

from __future__ import annotations

import random
import time
from dataclasses import replace

import brotli
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import m2m_session.codecs
from m2m_session.codecs import (
    MAX_DECODED_SIZE,
    Algorithm,
    CodecOptions,
    Decoder,
    Encoder,
    default_algorithms,
    get_codec,
    normalize_algorithms,
)
from m2m_session.codecs import brotli as brotli_codec
from m2m_session.codecs import none as none_codec
from m2m_session.errors import (
    ConfigError,
    DecompressionError,
    InvalidCodecError,
    M2MError,
)

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """64 MiB of zeros in one Brotli stream (a few kilobytes)."""
    return bytes(brotli.compress(bytes(64 * MiB), quality=1))


# --- round trips --------------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=4096))
def test_none_round_trip(data: bytes) -> None:
    codec = get_codec("NONE")
    content = codec.encode(data)
    assert content == data
    assert codec.decode(content, len(data)) == data


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=4096))
def test_brotli_round_trip(data: bytes) -> None:
    codec = get_codec("BROTLI")
    content = codec.encode(data)
    assert isinstance(content, bytes)
    decoded = codec.decode(content, len(data))
    assert decoded == data
    assert isinstance(decoded, bytes)


@settings(max_examples=20, deadline=None)
@given(text=st.text(max_size=200))
def test_brotli_round_trip_text(text: str) -> None:
    raw = text.encode("utf-8")
    assert brotli_codec.decode(brotli_codec.encode(raw), len(raw)) == raw


def test_brotli_compresses_repetitive_data() -> None:
    data = b'{"role": "user", "content": "hello"}' * 200
    content = brotli_codec.encode(data)
    assert len(content) < len(data) // 10
    assert brotli_codec.decode(content, len(data)) == data


def test_brotli_round_trip_multi_chunk() -> None:
    """Output larger than the decoder's 1 MiB step still comes back whole and in order."""
    data = bytes(range(256)) * (3 * MiB // 256 + 7)
    assert brotli_codec.decode(brotli_codec.encode(data), len(data)) == data


# --- NONE cap -----------------------------------------------------------------------------------


def test_none_refuses_over_cap() -> None:
    with pytest.raises(DecompressionError):
        none_codec.decode(b"12345", 4)
    assert none_codec.decode(b"1234", 4) == b"1234"


# --- brotli decoder failures --------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [b"\xff" * 64, b"not brotli at all, just text", b"\x1b\x03\x00\xf8\xff\xff\xff\xff"],
)
def test_brotli_corrupt_input(content: bytes) -> None:
    with pytest.raises(DecompressionError):
        brotli_codec.decode(content, MiB)


def test_brotli_empty_input_is_truncated() -> None:
    with pytest.raises(DecompressionError, match="truncated"):
        brotli_codec.decode(b"", MiB)


def test_brotli_truncated_stream_at_every_cut() -> None:
    data = b"some agent traffic, repeated. " * 50 + bytes(range(256))
    content = brotli_codec.encode(data)
    for cut in range(len(content)):
        with pytest.raises(DecompressionError):
            brotli_codec.decode(content[:cut], MiB)


def test_brotli_trailing_garbage_refused() -> None:
    content = brotli_codec.encode(b"hello" * 20)
    with pytest.raises(DecompressionError):
        brotli_codec.decode(content + b"\x00garbage", MiB)


def test_brotli_bomb_refused_quickly(bomb: bytes) -> None:
    assert len(bomb) < 64 * 1024
    start = time.perf_counter()
    with pytest.raises(DecompressionError, match="cap"):
        brotli_codec.decode(bomb, 16 * MiB)
    # Stopping one step past the cap, not inflating 64 MiB first.
    assert time.perf_counter() - start < 2.0


def test_brotli_bomb_with_small_cap(bomb: bytes) -> None:
    with pytest.raises(DecompressionError):
        brotli_codec.decode(bomb, 1000)


def test_brotli_bomb_never_returns_partial(bomb: bytes) -> None:
    result: bytes | None = None
    with pytest.raises(DecompressionError):
        result = brotli_codec.decode(bomb, MAX_DECODED_SIZE)
    assert result is None


@pytest.mark.parametrize("size", [0, 1, 1000, MiB - 1, MiB, MiB + 1, 2 * MiB, 16 * MiB])
def test_brotli_output_exactly_at_cap_passes(size: int) -> None:
    data = b"\x00" * size
    content = brotli_codec.encode(data)
    assert brotli_codec.decode(content, size) == data


@pytest.mark.parametrize("size", [1, 1000, MiB, MiB + 1, 2 * MiB])
def test_brotli_output_one_over_cap_refused(size: int) -> None:
    content = brotli_codec.encode(b"\x00" * size)
    with pytest.raises(DecompressionError):
        brotli_codec.decode(content, size - 1)


# --- registry -----------------------------------------------------------------------------------


def test_default_algorithms_preference() -> None:
    tokenizer = ("TOKEN_NATIVE",) if get_codec("TOKEN_NATIVE").is_available() else ()
    # BROTLI_SESSION is opt-in: a shared compression context is a compression oracle.
    assert default_algorithms() == ("M2M", *tokenizer, "BROTLI", "NONE")


def test_an_unavailable_codec_is_neither_offered_nor_accepted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    registry = dict(m2m_session.codecs._REGISTRY)
    registry["TOKEN_NATIVE"] = replace(registry["TOKEN_NATIVE"], is_available=lambda: False)
    monkeypatch.setattr(m2m_session.codecs, "_REGISTRY", registry)
    assert "TOKEN_NATIVE" not in default_algorithms()
    with pytest.raises(ConfigError, match="not available"):
        normalize_algorithms(["TOKEN_NATIVE"])


@pytest.mark.parametrize(
    "name", ["BROTLI", "NONE", "M2M", "BROTLI_SESSION", Algorithm.BROTLI, Algorithm.NONE]
)
def test_get_codec_known(name: str) -> None:
    codec = get_codec(name)
    assert codec.algorithm == name


@pytest.mark.parametrize("name", ["ZSTD", "brotli", "", "LZ4"])
def test_get_codec_unknown(name: str) -> None:
    with pytest.raises(InvalidCodecError):
        get_codec(name)
    assert issubclass(InvalidCodecError, M2MError)


def test_normalize_none_means_defaults() -> None:
    assert normalize_algorithms(None) == default_algorithms()


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["brotli", "none"], ("BROTLI", "NONE")),
        (["None", "Brotli"], ("NONE", "BROTLI")),
        ([Algorithm.NONE, Algorithm.BROTLI], ("NONE", "BROTLI")),
        ("brotli,none", ("BROTLI", "NONE")),
        ("NONE, BROTLI", ("NONE", "BROTLI")),
        ("none", ("NONE",)),
        (["brotli", "BROTLI", "none", "Brotli"], ("BROTLI", "NONE")),
        (("NONE", "none"), ("NONE",)),
        (iter(["brotli"]), ("BROTLI",)),
    ],
)
def test_normalize_algorithms(names: object, expected: tuple[str, ...]) -> None:
    assert normalize_algorithms(names) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("names", [["zstd"], ["BROTLI", "gzip"], "brotli,lz4", [""]])
def test_normalize_unknown(names: list[str] | str) -> None:
    with pytest.raises(ConfigError, match="unknown"):
        normalize_algorithms(names)


@pytest.mark.parametrize("names", [[], ()])
def test_normalize_empty(names: list[str]) -> None:
    with pytest.raises(ConfigError):
        normalize_algorithms(names)


# --- BROTLI_SESSION -------------------------------------------------------------------------------


def _session_pair() -> tuple[Encoder, Decoder]:
    codec = get_codec("BROTLI_SESSION")
    return codec.new_encoder(CodecOptions()), codec.new_decoder(CodecOptions())


@settings(max_examples=50, deadline=None)
@given(st.lists(st.binary(max_size=3_000), max_size=30))
def test_brotli_session_round_trips_a_stream_of_messages(messages: list[bytes]) -> None:
    encoder, decoder = _session_pair()
    for message in messages:
        assert decoder.decode(encoder.encode(message), len(message)) == message


def test_brotli_session_later_messages_refer_back() -> None:
    encoder, decoder = _session_pair()
    rng = random.Random(3)
    history = bytes(rng.getrandbits(8) for _ in range(20_000))
    first = encoder.encode(history)
    again = encoder.encode(history + b"one more turn")
    assert len(first) > len(history) * 0.9  # random bytes: no gain on their own
    assert len(again) < len(history) / 20  # but the repeat is a back-reference
    assert decoder.decode(first, len(history)) == history
    assert decoder.decode(again, len(history) + 13) == history + b"one more turn"


def test_brotli_session_bomb_is_capped_while_decoding() -> None:
    encoder, decoder = _session_pair()
    content = encoder.encode(b"\x00" * (64 * MiB))
    started = time.perf_counter()
    with pytest.raises(DecompressionError, match="cap"):
        decoder.decode(content, MiB)
    assert time.perf_counter() - started < 2.0


def test_brotli_session_out_of_order_or_corrupt_chunks_fail() -> None:
    encoder, _ = _session_pair()
    chunks = [encoder.encode(f"message {n} ".encode() * 50) for n in range(3)]
    _, fresh = _session_pair()
    # The second chunk alone cannot give its message back: it refers to the first.
    try:
        out = fresh.decode(chunks[1], 500)
    except DecompressionError:
        pass
    else:
        assert out != b"message 1 " * 50
    _, fresh = _session_pair()
    with pytest.raises(DecompressionError):
        fresh.decode(b"\xff" * 40, 1000)
