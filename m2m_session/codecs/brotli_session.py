"""``BROTLI_SESSION``: one Brotli stream per direction for the life of the session.

Each DATA carries the bytes the sender's compressor produced for that message, ended by a flush,
so the receiver's decompressor can decode it at once; later messages are compressed against
everything sent before, the way permessage-deflate with context takeover works. Messages must be
decoded in order and none may be lost: any failure ends the session.

The compression-oracle trade-off (CRIME/BREACH): when one compression context holds both a
secret and text an attacker chooses, and the attacker sees the compressed sizes, the sizes leak
whether the chosen text matches the secret. Do not negotiate BROTLI_SESSION for sessions that
mix secrets with content a third party can influence and observe the size of; it is not offered
by default.
"""

from __future__ import annotations

import brotli

from m2m_session.codecs.brotli import process_capped
from m2m_session.errors import CompressionError, DecompressionError

#: Quality 5 as for BROTLI. The window (2**20 = 1 MiB) is what later messages can refer back
#: to: a resent conversation history up to about 1 MiB compresses against the previous turn.
QUALITY = 5
WINDOW_BITS = 20


class SessionEncoder:
    """The sending side's compression context."""

    __slots__ = ("_compressor",)

    def __init__(self) -> None:
        self._compressor = brotli.Compressor(quality=QUALITY, lgwin=WINDOW_BITS)

    def encode(self, data: bytes) -> bytes:
        """Compress ``data`` against everything sent before and flush it."""
        try:
            return bytes(self._compressor.process(data) + self._compressor.flush())
        except brotli.error as exc:
            raise CompressionError(f"brotli session stream: {exc}") from exc


class SessionDecoder:
    """The receiving side's decompression context."""

    __slots__ = ("_decompressor",)

    def __init__(self) -> None:
        self._decompressor = brotli.Decompressor()

    def decode(self, content: bytes, max_size: int) -> bytes:
        """Decompress one flushed chunk, stopping as soon as the output passes ``max_size``."""
        output = process_capped(self._decompressor, content, max_size)
        if self._decompressor.is_finished():
            raise DecompressionError("the peer ended its Brotli session stream")
        return output
