"""FrameDecoder and encode_frame (PROTOCOL.md section 1)."""

from __future__ import annotations

import itertools
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from m2m_session.errors import M2MError, ProtocolError
from m2m_session.framing import (
    DEFAULT_MAX_FRAME_SIZE,
    HEADER_SIZE,
    FrameDecoder,
    FrameError,
    encode_frame,
)


def _header(length: int) -> bytes:
    return struct.pack(">I", length)


def _chunks(stream: bytes, cuts: list[int]) -> list[bytes]:
    """``stream`` split at the given offsets (sorted, deduplicated, clipped)."""
    points = sorted({c for c in cuts if 0 < c < len(stream)})
    edges = [0, *points, len(stream)]
    return [stream[a:b] for a, b in itertools.pairwise(edges)]


def test_encode_frame_is_big_endian_length_prefix() -> None:
    assert encode_frame(b"abc") == b"\x00\x00\x00\x03abc"
    assert encode_frame(b"x" * 258)[:4] == b"\x00\x00\x01\x02"
    assert HEADER_SIZE == 4
    assert DEFAULT_MAX_FRAME_SIZE == 16 * 1024 * 1024


def test_frame_error_is_a_protocol_error() -> None:
    assert issubclass(FrameError, ProtocolError)
    assert issubclass(FrameError, M2MError)


def test_single_frame_in_one_feed() -> None:
    decoder = FrameDecoder()
    frames = decoder.feed(encode_frame(b"hello"))
    assert [bytes(f) for f in frames] == [b"hello"]
    assert all(isinstance(f, memoryview) for f in frames)
    assert decoder.buffered == 0


def test_several_frames_in_one_feed_keep_order() -> None:
    decoder = FrameDecoder()
    stream = b"".join(encode_frame(body) for body in (b"one", b"two", b"three"))
    assert [bytes(f) for f in decoder.feed(stream)] == [b"one", b"two", b"three"]


@pytest.mark.parametrize("cut", range(1, len(encode_frame(b"abcdef")) * 2))
def test_two_frames_split_at_every_byte_boundary(cut: int) -> None:
    stream = encode_frame(b"abcdef") + encode_frame(b"ghijkl")
    decoder = FrameDecoder()
    frames = [bytes(f) for f in decoder.feed(stream[:cut])]
    frames += [bytes(f) for f in decoder.feed(stream[cut:])]
    assert frames == [b"abcdef", b"ghijkl"]
    assert decoder.buffered == 0


def test_byte_by_byte_feed() -> None:
    bodies = [b"a", b"bb" * 100, b"\x00\x00\x00\x00", b"xyz"]
    stream = b"".join(encode_frame(b) for b in bodies)
    decoder = FrameDecoder()
    out: list[bytes] = []
    for i in range(len(stream)):
        out.extend(bytes(f) for f in decoder.feed(stream[i : i + 1]))
    assert out == bodies
    assert decoder.buffered == 0


@settings(max_examples=150, deadline=None)
@given(
    bodies=st.lists(st.binary(min_size=1, max_size=300), max_size=12),
    cuts=st.lists(st.integers(min_value=0, max_value=4000), max_size=40),
    wrap=st.sampled_from(["bytes", "bytearray", "memoryview"]),
)
def test_arbitrary_chunking_round_trips(bodies: list[bytes], cuts: list[int], wrap: str) -> None:
    stream = b"".join(encode_frame(b) for b in bodies)
    decoder = FrameDecoder()
    out: list[bytes] = []
    for chunk in _chunks(stream, cuts):
        data: bytes | bytearray | memoryview = chunk
        if wrap == "bytearray":
            data = bytearray(chunk)
        elif wrap == "memoryview":
            data = memoryview(chunk)
        out.extend(bytes(f) for f in decoder.feed(data))
    assert out == bodies
    assert decoder.buffered == 0


@settings(max_examples=50, deadline=None)
@given(
    bodies=st.lists(st.binary(min_size=1, max_size=64), min_size=1, max_size=6),
    cuts=st.lists(st.integers(min_value=0, max_value=500), max_size=20),
)
def test_views_stay_valid_after_later_feeds(bodies: list[bytes], cuts: list[int]) -> None:
    """Views handed out earlier keep their content while the decoder goes on."""
    stream = b"".join(encode_frame(b) for b in bodies)
    decoder = FrameDecoder()
    views: list[memoryview] = []
    for chunk in _chunks(stream, cuts):
        views.extend(decoder.feed(chunk))
    assert [v.tobytes() for v in views] == bodies
    assert [len(v) for v in views] == [len(b) for b in bodies]


def test_partial_frame_is_buffered() -> None:
    decoder = FrameDecoder()
    frame = encode_frame(b"0123456789")
    assert decoder.feed(frame[:7]) == []
    assert decoder.buffered == 7
    assert [bytes(f) for f in decoder.feed(frame[7:])] == [b"0123456789"]
    assert decoder.buffered == 0


def test_empty_feed_is_harmless() -> None:
    decoder = FrameDecoder()
    assert decoder.feed(b"") == []
    decoder.feed(b"\x00\x00")
    assert decoder.feed(b"") == []
    assert decoder.buffered == 2


def test_zero_length_refused() -> None:
    decoder = FrameDecoder()
    with pytest.raises(FrameError, match="zero"):
        decoder.feed(_header(0))


def test_zero_length_refused_when_header_split() -> None:
    decoder = FrameDecoder()
    assert decoder.feed(b"\x00\x00") == []
    with pytest.raises(FrameError):
        decoder.feed(b"\x00\x00")


def test_zero_length_after_good_frame_in_later_feed() -> None:
    decoder = FrameDecoder()
    assert [bytes(f) for f in decoder.feed(encode_frame(b"ok"))] == [b"ok"]
    with pytest.raises(FrameError):
        decoder.feed(_header(0) + b"junk")


def test_oversized_refused_from_header_alone() -> None:
    decoder = FrameDecoder()
    with pytest.raises(FrameError, match="exceeds"):
        decoder.feed(_header(100 * 1024 * 1024))
    assert decoder.buffered == 0


@pytest.mark.parametrize("split", [1, 2, 3])
def test_oversized_refused_with_header_split(split: int) -> None:
    decoder = FrameDecoder()
    header = _header(100 * 1024 * 1024)
    assert decoder.feed(header[:split]) == []
    assert decoder.buffered == split
    with pytest.raises(FrameError):
        decoder.feed(header[split:])
    assert decoder.buffered < HEADER_SIZE


def test_oversized_refused_with_body_bytes_following() -> None:
    """The header plus some body bytes: refused, and none of the body kept."""
    decoder = FrameDecoder(max_frame_size=1024)
    with pytest.raises(FrameError):
        decoder.feed(_header(1025) + b"x" * 600)
    assert decoder.buffered == 0


def test_oversized_after_partial_previous_frame() -> None:
    decoder = FrameDecoder(max_frame_size=100)
    first = encode_frame(b"a" * 50)
    assert decoder.feed(first[:10]) == []
    # The frame completed before the bad header is still delivered; the error comes next.
    frames = decoder.feed(first[10:] + _header(101))
    assert [bytes(f) for f in frames] == [b"a" * 50]
    assert isinstance(decoder.error, FrameError)
    assert decoder.buffered < HEADER_SIZE
    with pytest.raises(FrameError):
        decoder.feed(b"")


def test_max_frame_size_is_inclusive() -> None:
    decoder = FrameDecoder(max_frame_size=8)
    assert [bytes(f) for f in decoder.feed(encode_frame(b"12345678"))] == [b"12345678"]
    with pytest.raises(FrameError):
        decoder.feed(encode_frame(b"123456789"))


def test_decoder_stays_failed() -> None:
    decoder = FrameDecoder()
    with pytest.raises(FrameError) as first:
        decoder.feed(_header(0))
    with pytest.raises(FrameError) as second:
        decoder.feed(encode_frame(b"valid"))
    assert second.value is first.value
    with pytest.raises(FrameError):
        decoder.feed(b"")


@pytest.mark.parametrize("bad", [0, -1, 2**32])
def test_invalid_max_frame_size(bad: int) -> None:
    with pytest.raises(ValueError, match="max_frame_size"):
        FrameDecoder(max_frame_size=bad)


def test_memoryview_slices_are_correct() -> None:
    stream = encode_frame(b"first") + encode_frame(b"second") + encode_frame(b"th")[:3]
    decoder = FrameDecoder()
    frames = decoder.feed(stream)
    assert len(frames) == 2
    assert frames[0].tobytes() == b"first"
    assert frames[1].tobytes() == b"second"
    assert frames[0].nbytes == 5
    assert frames[1][0] == ord("s")
    rest = decoder.feed(b"\x02th")
    assert [f.tobytes() for f in rest] == [b"th"]
