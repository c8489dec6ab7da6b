"""``NONE``: the content travels as it is."""

from __future__ import annotations

from m2m_session.errors import DecompressionError


def encode(data: bytes) -> bytes:
    """Return ``data`` unchanged."""
    return data


def decode(content: bytes, max_size: int) -> bytes:
    """Return ``content`` unchanged, refusing anything over ``max_size``."""
    if len(content) > max_size:
        raise DecompressionError(f"content of {len(content)} bytes exceeds the {max_size} cap")
    return content
