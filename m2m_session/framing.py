"""Length-prefixed framing (PROTOCOL.md section 1): a 4-byte big-endian length, then the body.

The decoder is incremental and sans-I/O: feed it whatever the transport delivered and it returns
the complete frame bodies. A length of 0, or above ``max_frame_size``, is refused from the four
length bytes alone, before a single byte of the body is buffered.
"""

from __future__ import annotations

import struct

from m2m_session.errors import ProtocolError

__all__ = ["DEFAULT_MAX_FRAME_SIZE", "HEADER_SIZE", "FrameDecoder", "FrameError", "encode_frame"]

DEFAULT_MAX_FRAME_SIZE = 16 * 1024 * 1024
HEADER_SIZE = 4

_LENGTH = struct.Struct(">I")
_pack_length = _LENGTH.pack
_unpack_length_from = _LENGTH.unpack_from


class FrameError(ProtocolError):
    """A frame header the receiver refuses (zero or oversized length)."""


def encode_frame(body: bytes) -> bytes:
    """Prefix ``body`` with its length."""
    return _pack_length(len(body)) + body


class FrameDecoder:
    """Splits a byte stream into frame bodies.

    Complete frames inside one ``feed`` are returned as zero-copy ``memoryview`` slices of the
    data passed in; only an incomplete tail is copied into the internal buffer. The views stay
    valid as long as the caller keeps them (they pin the chunk they came from).
    """

    __slots__ = ("_buffer", "_error", "_needed", "max_frame_size")

    def __init__(self, max_frame_size: int = DEFAULT_MAX_FRAME_SIZE) -> None:
        if not 0 < max_frame_size <= 0xFFFFFFFF:
            raise ValueError("max_frame_size must be between 1 and 2**32-1")
        self.max_frame_size = max_frame_size
        self._buffer = bytearray()
        # Body length of the frame being buffered, or -1 while its header is incomplete.
        self._needed = -1
        self._error: FrameError | None = None

    @property
    def error(self) -> FrameError | None:
        """The error that stopped the decoder, once a bad header was seen."""
        return self._error

    @property
    def buffered(self) -> int:
        """Bytes held for a frame not yet complete."""
        return len(self._buffer)

    def feed(self, data: bytes | bytearray | memoryview) -> list[memoryview]:
        """Consume ``data``; return the bodies of the frames it completes, in order.

        Raises :class:`FrameError` on a zero or oversized length; the decoder then stays failed.
        Frames completed before the bad header in the same ``data`` are returned first, with
        :attr:`error` set, and the error is raised by the next call.
        """
        if self._error is not None:
            raise self._error
        frames: list[memoryview] = []
        view = memoryview(data)
        if self._buffer:
            rest = self._complete_buffered(view, frames)
            if rest is None:
                return frames
            view = rest
        size = len(view)
        pos = 0
        limit = self.max_frame_size
        while size - pos >= HEADER_SIZE:
            length = _unpack_length_from(view, pos)[0]
            if length == 0 or length > limit:
                try:
                    self._check(length)
                except FrameError:
                    if frames:
                        return frames  # delivered in order; the next feed raises the error
                    raise
            end = pos + HEADER_SIZE + length
            if end > size:
                break
            frames.append(view[pos + HEADER_SIZE : end])
            pos = end
        if pos < size:
            self._buffer += view[pos:]
            self._needed = -1
            if len(self._buffer) >= HEADER_SIZE:
                self._needed = _unpack_length_from(self._buffer, 0)[0]
        return frames

    def _complete_buffered(self, view: memoryview, frames: list[memoryview]) -> memoryview | None:
        """Finish the frame begun in an earlier feed; return the rest of ``view``, or None."""
        buffer = self._buffer
        if self._needed < 0:
            missing_header = HEADER_SIZE - len(buffer)
            buffer += view[:missing_header]
            view = view[missing_header:]
            if len(buffer) < HEADER_SIZE:
                return None
            self._needed = _unpack_length_from(buffer, 0)[0]
            self._check(self._needed)
        missing = HEADER_SIZE + self._needed - len(buffer)
        if len(view) < missing:
            buffer += view
            return None
        buffer += view[:missing]
        # Hand the buffer itself out and start a fresh one: no second copy of the body.
        frames.append(memoryview(buffer)[HEADER_SIZE:])
        self._buffer = bytearray()
        self._needed = -1
        return view[missing:]

    def _check(self, length: int) -> None:
        if length == 0:
            self._error = FrameError("zero-length frame")
        elif length > self.max_frame_size:
            self._error = FrameError(
                f"frame of {length} bytes exceeds max_frame_size {self.max_frame_size}"
            )
        else:
            return
        self._buffer.clear()
        raise self._error
