"""HMAC-SHA256 (RFC 2104 / RFC 4231) from ``cryptography``, verified in constant time.

Tags are 32 bytes. :func:`append` places the tag *after* the data (``data || tag``);
:func:`split` takes it off again and :func:`verify_appended` checks and strips it. Keys shorter
than 32 bytes are refused (``HmacError(INVALID_KEY)``).
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as _hmac

from m2m_session.crypto.keys import KeyLike, fail, key_bytes, key_size
from m2m_session.errors import HmacError

__all__ = [
    "MIN_KEY_SIZE",
    "TAG_SIZE",
    "append",
    "keyed",
    "sign",
    "split",
    "verify",
    "verify_appended",
]

TAG_SIZE = 32
MIN_KEY_SIZE = 32

_Buffer = bytes | bytearray | memoryview


def _checked_key(key: KeyLike) -> bytes | bytearray | memoryview:
    raw = key_bytes(key)
    size = key_size(raw)
    if size < MIN_KEY_SIZE:
        raise HmacError(HmacError.Case.INVALID_KEY, f"got {size} bytes, at least 32 required")
    return raw


def _hmac_sha256(key: bytes | bytearray | memoryview) -> _hmac.HMAC:
    """A bare HMAC-SHA256 context for any key length (the RFC 4231 vectors use short keys)."""
    return _hmac.HMAC(key, hashes.SHA256())


def keyed(key: KeyLike) -> _hmac.HMAC:
    """An HMAC-SHA256 context keyed once, to ``copy()`` per message (the copy skips keying)."""
    return _hmac_sha256(_checked_key(key))


def sign(key: KeyLike, data: _Buffer) -> bytes:
    """The 32-byte HMAC-SHA256 tag of ``data``."""
    ctx = _hmac_sha256(_checked_key(key))
    ctx.update(data)
    return ctx.finalize()


def verify(key: KeyLike, data: _Buffer, tag: _Buffer) -> None:
    """Check ``tag`` in constant time; ``HmacError(VERIFICATION_FAILED)`` on mismatch."""
    raw = _checked_key(key)
    ctx = _hmac_sha256(raw)
    ctx.update(data)
    try:
        # cryptography compares with a constant-time comparison (and rejects other lengths).
        ctx.verify(bytes(tag))
    except InvalidSignature as exc:
        fail(HmacError(HmacError.Case.VERIFICATION_FAILED), exc)


def append(key: KeyLike, data: _Buffer) -> bytes:
    """``data || tag``."""
    return bytes(data) + sign(key, data)


def split(signed: _Buffer) -> tuple[bytes, bytes]:
    """``(data, tag)`` from ``data || tag`` without checking; ``DATA_TOO_SHORT`` under 32 bytes."""
    view = memoryview(signed)
    if view.nbytes < TAG_SIZE:
        raise HmacError(
            HmacError.Case.DATA_TOO_SHORT, f"{view.nbytes} bytes, at least {TAG_SIZE} needed"
        )
    return bytes(view[:-TAG_SIZE]), bytes(view[-TAG_SIZE:])


def verify_appended(key: KeyLike, signed: _Buffer) -> bytes:
    """Check ``data || tag`` and return ``data`` (errors as :func:`split` and :func:`verify`)."""
    data, tag = split(signed)
    verify(key, data, tag)
    return data
