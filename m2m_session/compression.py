"""Stateless compression for HTTP bodies and other text channels (PROTOCOL.md section 8).

Wire (text) forms, each recognised by its leading bytes:

* ``NONE``: the content as it is. Content that itself starts with a codec tag (below) cannot
  travel as ``NONE``: :func:`compress` refuses it and ``auto`` picks another algorithm.
* ``BROTLI``: ``#M2M[v3.0]|DATA:`` + Base64 of one Brotli stream (ASCII).
* ``M2M``: the M2M frame bytes, ``#M2M|1|...``, exactly as on a session (binary).
* ``TOKEN_NATIVE``: ``#TK|<id>|`` + Base64 of the VarInt token ids (ASCII); ``<id>`` is the
  tokenizer id byte (``C``, ``O``, ``L``).
* ``ZLIB_LEGACY`` (decoded only, never produced): ``#M2M[v2.0]|DATA:`` + Base64 of a zlib
  stream (RFC 1950).

Base64 is the standard alphabet with padding (RFC 4648 section 4), decoded strictly: no
whitespace or line breaks, no stray characters, canonical padding bits. A codec tag is ``#``,
then 1 to 16 characters of ``[A-Za-z0-9[]._-]``, then ``|``. A wire that starts with a tag but
none of the prefixes above (``#T1|``, ``#M2M|2|``...) is refused with ``InvalidCodecError``; any
other wire (``# heading``, JSON, plain text) is ``NONE``. Every decoder enforces ``max_size``
while it decodes and returns the whole content or raises: never partial output.
"""

from __future__ import annotations

import binascii
import re
import struct
import zlib
from typing import Final

from m2m_session.codecs import MAX_DECODED_SIZE, Algorithm
from m2m_session.codecs import brotli as _brotli
from m2m_session.codecs import m2m as _m2m
from m2m_session.codecs import token_native as _token_native
from m2m_session.codecs.select import choose
from m2m_session.crypto.keys import KeyLike
from m2m_session.errors import (
    CompressionError,
    DecompressionError,
    InvalidCodecError,
    M2MError,
)

__all__ = [
    "AUTO",
    "BROTLI_PREFIX",
    "M2M_PREFIX",
    "STATELESS_ALGORITHMS",
    "TAG",
    "TOKEN_NATIVE_PREFIX",
    "ZLIB_LEGACY",
    "ZLIB_LEGACY_PREFIX",
    "compress",
    "compress_auto",
    "decompress",
    "detect",
]

AUTO: Final = "AUTO"
#: Name :func:`detect` gives the legacy ``#M2M[v2.0]`` zlib form (not a DATA algorithm).
ZLIB_LEGACY: Final = "ZLIB_LEGACY"

BROTLI_PREFIX: Final = b"#M2M[v3.0]|DATA:"
ZLIB_LEGACY_PREFIX: Final = b"#M2M[v2.0]|DATA:"
M2M_PREFIX: Final = b"#M2M|1|"
TOKEN_NATIVE_PREFIX: Final = b"#TK|"

#: A codec tag at the start of a wire: ``#``, 1 to 16 of ``[A-Za-z0-9[]._-]``, ``|``.
TAG: Final = re.compile(rb"#[A-Za-z0-9\[\]._-]{1,16}\|")

#: What ``auto`` chooses among: the stateless algorithms of :func:`codecs.select.choose`.
STATELESS_ALGORITHMS: Final = (Algorithm.M2M.value, Algorithm.BROTLI.value, Algorithm.NONE.value)

# Longest first: ``#M2M[v3.0]|`` and ``#M2M|`` are both tags; a prefix decides, not the tag.
_PREFIXES: Final = (
    (BROTLI_PREFIX, Algorithm.BROTLI.value),
    (ZLIB_LEGACY_PREFIX, ZLIB_LEGACY),
    (M2M_PREFIX, Algorithm.M2M.value),
    (TOKEN_NATIVE_PREFIX, Algorithm.TOKEN_NATIVE.value),
)
_ZLIB_CHUNK: Final = 1 << 20
# What a buggy or surprised decoder may raise on hostile input; reported as DecompressionError.
_DECODE_FAILURES: Final = (
    ValueError,
    TypeError,
    IndexError,
    KeyError,
    OverflowError,
    struct.error,
    zlib.error,
)


def compress(
    content: bytes | str,
    algorithm: str | Algorithm = "auto",
    *,
    encoding: str = "CL100K_BASE",
) -> bytes:
    """The wire form of ``content`` under ``algorithm`` (``auto`` or a stateless algorithm).

    ``str`` content is UTF-8 encoded; ``encoding`` is the tokenizer of ``TOKEN_NATIVE``.
    Raises ``InvalidCodecError`` for an unknown algorithm or ``BROTLI_SESSION``,
    ``CompressionError`` for content over ``MAX_DECODED_SIZE`` or that the algorithm cannot
    carry, ``TokenizerError`` when ``TOKEN_NATIVE`` is unavailable or cannot round-trip.
    """
    name = _algorithm_name(algorithm)
    data = _content_bytes(content)
    if name == AUTO:
        return _compress_auto(data)[1]
    return _compress(data, name, encoding)


def compress_auto(content: bytes | str) -> tuple[str, bytes]:
    """``(algorithm chosen, wire)``: the session rules of ``codecs.select.choose``."""
    return _compress_auto(_content_bytes(content))


def decompress(
    wire: bytes | str, *, max_size: int = MAX_DECODED_SIZE, key: KeyLike | None = None
) -> bytes:
    """The content of ``wire``, its form detected by prefix; at most ``max_size`` bytes.

    ``key``: the key of a protected M2M frame (security mode 0x01/0x02, see
    :mod:`m2m_session.codecs.m2m`). Given a key, only a protected M2M frame is accepted: any
    other wire (an unprotected M2M frame, ``NONE``, ``BROTLI``...) is ``DecompressionError``,
    so that protection cannot be stripped by re-encoding the content.

    Raises ``InvalidCodecError`` for an unknown codec tag, ``DecompressionError`` for a corrupt
    or truncated wire or one that decodes past ``max_size``, ``TokenizerError`` for
    ``TOKEN_NATIVE`` without its tokenizer, ``HmacError`` / ``AeadError`` when a protected
    frame fails authentication.
    """
    if max_size < 0:
        raise ValueError(f"max_size must not be negative, not {max_size}")
    data = wire.encode("utf-8") if isinstance(wire, str) else bytes(wire)
    name = detect(data)
    if key is not None and name != Algorithm.M2M:
        raise DecompressionError(
            f"a key was given but the wire is {name}, not a protected M2M frame"
        )
    try:
        if name == Algorithm.NONE:
            result = data
        elif name == Algorithm.BROTLI:
            result = _brotli.decode(_b64decode(data[len(BROTLI_PREFIX) :]), max_size)
        elif name == ZLIB_LEGACY:
            result = _zlib_decode(_b64decode(data[len(ZLIB_LEGACY_PREFIX) :]), max_size)
        elif name == Algorithm.M2M:
            result = _m2m.decode(data, max_size, key=key)
        else:  # TOKEN_NATIVE
            try:
                text = data.decode("ascii")
            except UnicodeDecodeError as exc:
                raise DecompressionError("TOKEN_NATIVE text form is not ASCII") from exc
            result = _token_native.decode(_token_native.from_text(text), max_size)
    except M2MError:
        raise
    except _DECODE_FAILURES as exc:
        raise DecompressionError(f"corrupt {name} wire ({exc})") from exc
    if len(result) > max_size:
        raise DecompressionError(f"decoded content exceeds the {max_size}-byte cap")
    return bytes(result)


def detect(wire: bytes | str) -> str:
    """The algorithm ``wire``'s prefix names: ``M2M``, ``TOKEN_NATIVE``, ``BROTLI``,
    ``ZLIB_LEGACY`` or ``NONE``; ``InvalidCodecError`` for any other codec tag."""
    data = wire[:64].encode("utf-8") if isinstance(wire, str) else bytes(wire[:64])
    for prefix, name in _PREFIXES:
        if data.startswith(prefix):
            return name
    tag = TAG.match(data)
    if tag is not None:
        raise InvalidCodecError(
            f"unknown codec prefix {tag.group().decode('ascii')!r}",
            details={"prefix": tag.group().decode("ascii")},
        )
    return Algorithm.NONE.value


# --- helpers ----------------------------------------------------------------------------------


def _algorithm_name(algorithm: str | Algorithm) -> str:
    name = str(algorithm).strip().upper().replace("-", "_")
    if name == Algorithm.BROTLI_SESSION:
        raise InvalidCodecError(
            "BROTLI_SESSION needs a session (its context spans messages); use BROTLI"
        )
    if name != AUTO and name not in Algorithm.__members__:
        raise InvalidCodecError(
            f"unknown algorithm {str(algorithm)!r}; stateless ones: auto, "
            "M2M, TOKEN_NATIVE, BROTLI, NONE"
        )
    return name


def _content_bytes(content: bytes | str) -> bytes:
    data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
    if len(data) > MAX_DECODED_SIZE:
        raise CompressionError(
            f"content of {len(data)} bytes exceeds the {MAX_DECODED_SIZE}-byte cap"
        )
    return data


def _compress(data: bytes, name: str, encoding: str) -> bytes:
    if name == Algorithm.NONE:
        if TAG.match(data) is not None:
            raise CompressionError(
                "content starts with a codec tag and would be misread as NONE; use BROTLI"
            )
        return data
    if name == Algorithm.BROTLI:
        return BROTLI_PREFIX + binascii.b2a_base64(_brotli.encode(data), newline=False)
    if name == Algorithm.M2M:
        return _m2m.encode(data)
    # TOKEN_NATIVE
    return _token_native.to_text(_token_native.encode(data, encoding)).encode("ascii")


def _compress_auto(data: bytes) -> tuple[str, bytes]:
    name = choose(data, STATELESS_ALGORITHMS)
    if name == Algorithm.NONE and TAG.match(data) is not None:
        name = Algorithm.BROTLI.value
    if name == Algorithm.M2M:
        try:
            return name, _m2m.encode(data)
        except CompressionError:  # looked like an LLM-API payload, but M2M cannot carry it
            name = Algorithm.BROTLI.value
    return name, _compress(data, name, "CL100K_BASE")


def _b64decode(text: bytes) -> bytes:
    """Strict standard Base64: padded, no whitespace or stray characters, canonical."""
    try:
        data = binascii.a2b_base64(text, strict_mode=True)
    except binascii.Error as exc:
        raise DecompressionError(f"invalid Base64 ({exc})") from exc
    if binascii.b2a_base64(data, newline=False) != text:
        raise DecompressionError("invalid Base64 (non-canonical padding bits)")
    return data


def _zlib_decode(stream: bytes, max_size: int) -> bytes:
    """Inflate one zlib stream, stopping as soon as the output passes ``max_size``."""
    inflater = zlib.decompressobj()
    parts: list[bytes] = []
    size = 0
    pending = stream
    try:
        while not inflater.eof and size <= max_size:
            part = inflater.decompress(pending, min(_ZLIB_CHUNK, max_size + 1 - size))
            pending = inflater.unconsumed_tail
            if not part:  # every input byte used and the stream has not ended
                break
            parts.append(part)
            size += len(part)
    except zlib.error as exc:
        raise DecompressionError(f"corrupt zlib stream ({exc})") from exc
    if size > max_size:
        raise DecompressionError(f"decoded content exceeds the {max_size}-byte cap")
    if not inflater.eof:
        raise DecompressionError("truncated zlib stream")
    if inflater.unused_data:
        raise DecompressionError("trailing bytes after the zlib stream")
    return b"".join(parts)
