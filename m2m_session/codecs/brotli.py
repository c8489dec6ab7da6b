"""``BROTLI``: each DATA content is one complete Brotli stream."""

from __future__ import annotations

import brotli

from m2m_session.errors import CompressionError, DecompressionError

#: Quality 5 compresses agent traffic within a few percent of 11 at a fraction of the time;
#: DATA is compressed on the send path, so speed matters more than the last percent.
QUALITY = 5
_CHUNK = 1 << 20


def encode(data: bytes) -> bytes:
    """Compress ``data`` into one Brotli stream."""
    try:
        return bytes(brotli.compress(data, quality=QUALITY))
    except brotli.error as exc:
        raise CompressionError(f"brotli: {exc}") from exc


def decode(content: bytes, max_size: int) -> bytes:
    """Decompress one Brotli stream, stopping as soon as the output passes ``max_size``."""
    decompressor = brotli.Decompressor()
    output = process_capped(decompressor, content, max_size)
    if not decompressor.is_finished():
        raise DecompressionError("truncated Brotli stream")
    return output


def process_capped(decompressor: brotli.Decompressor, content: bytes, max_size: int) -> bytes:
    """Feed ``content`` to ``decompressor`` and drain its output, never holding more than one
    chunk past ``max_size``; ``DecompressionError`` when corrupt or over the cap."""
    limit = min(_CHUNK, max_size + 1)
    try:
        parts = [decompressor.process(content, output_buffer_limit=limit)]
        size = len(parts[0])
        # process() hands out output in pieces (about 32 KiB for a flushed chunk, even while
        # it reports it could take more input): drain until it has nothing left.
        while size <= max_size:
            part = decompressor.process(b"", output_buffer_limit=limit)
            if not part:
                break
            parts.append(part)
            size += len(part)
    except brotli.error as exc:
        raise DecompressionError(f"corrupt Brotli data ({exc})") from exc
    if size > max_size:
        raise DecompressionError(f"decoded content exceeds the {max_size}-byte cap")
    return parts[0] if len(parts) == 1 else b"".join(parts)
