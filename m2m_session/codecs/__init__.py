"""Codec registry: the DATA ``algorithm`` names and the encoders/decoders behind them.

A codec turns application bytes into DATA ``content`` and back. Every decoder enforces the
decoded-size cap while it decodes and never returns partial output (PROTOCOL.md sections 7, 8).
Stateless codecs share one coder; a stateful codec (``BROTLI_SESSION``) gets a fresh encoder and
decoder per session and direction, and its messages must be decoded in order.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from m2m_session.codecs import brotli as _brotli
from m2m_session.codecs import brotli_session as _brotli_session
from m2m_session.codecs import m2m as _m2m
from m2m_session.codecs import none as _none
from m2m_session.codecs import token_native as _token_native
from m2m_session.errors import ConfigError, InvalidCodecError

__all__ = [
    "DEFAULT_ENCODING",
    "MAX_DECODED_SIZE",
    "Algorithm",
    "Codec",
    "CodecOptions",
    "Decoder",
    "Encoder",
    "available_algorithms",
    "default_algorithms",
    "get_codec",
    "normalize_algorithms",
]

#: Decoded DATA content cap (PROTOCOL.md section 7).
MAX_DECODED_SIZE = 16 * 1024 * 1024
DEFAULT_ENCODING = "CL100K_BASE"


class Algorithm(enum.StrEnum):
    """Every DATA algorithm name this implementation knows, implemented here or not."""

    M2M = "M2M"
    TOKEN_NATIVE = "TOKEN_NATIVE"
    BROTLI_SESSION = "BROTLI_SESSION"
    BROTLI = "BROTLI"
    NONE = "NONE"


class Encoder(Protocol):
    def encode(self, data: bytes) -> bytes: ...


class Decoder(Protocol):
    def decode(self, content: bytes, max_size: int) -> bytes: ...


@dataclass(frozen=True, slots=True)
class CodecOptions:
    """Per-session parameters a codec may need (the negotiated tokenizer encoding)."""

    encoding: str = DEFAULT_ENCODING


@dataclass(frozen=True, slots=True)
class StatelessCoder:
    """A pair of plain functions acting as both encoder and decoder."""

    encode: Callable[[bytes], bytes]
    decode: Callable[[bytes, int], bytes]


@dataclass(frozen=True, slots=True)
class Codec:
    """One algorithm: how to make its coders, whether they keep state, whether it is usable."""

    algorithm: Algorithm
    new_encoder: Callable[[CodecOptions], Encoder]
    new_decoder: Callable[[CodecOptions], Decoder]
    stateful: bool = False
    #: Offered in HELLO and listed by the server unless the caller names algorithms itself.
    offered_by_default: bool = True
    is_available: Callable[[], bool] = lambda: True

    def encode(self, data: bytes, options: CodecOptions | None = None) -> bytes:
        """``data`` encoded by a fresh encoder: a one-message stream for a stateful codec."""
        return self.new_encoder(options or _DEFAULT_OPTIONS).encode(data)

    def decode(self, content: bytes, max_size: int, options: CodecOptions | None = None) -> bytes:
        """``content`` decoded by a fresh decoder, at most ``max_size`` bytes."""
        return self.new_decoder(options or _DEFAULT_OPTIONS).decode(content, max_size)


_DEFAULT_OPTIONS = CodecOptions()


def _stateless(coder: StatelessCoder) -> Callable[[CodecOptions], StatelessCoder]:
    return lambda _options: coder


def _token_native_coder(options: CodecOptions) -> StatelessCoder:
    encoding = options.encoding

    def encode(data: bytes) -> bytes:
        return _token_native.encode(data, encoding)

    return StatelessCoder(encode, _token_native.decode)


_M2M_CODER = StatelessCoder(_m2m.encode, _m2m.decode)
_BROTLI_CODER = StatelessCoder(_brotli.encode, _brotli.decode)
_NONE_CODER = StatelessCoder(_none.encode, _none.decode)

# In default preference order: what a server lists first in ACCEPT.
_REGISTRY: dict[str, Codec] = {
    codec.algorithm.value: codec
    for codec in (
        Codec(Algorithm.M2M, _stateless(_M2M_CODER), _stateless(_M2M_CODER)),
        Codec(
            Algorithm.TOKEN_NATIVE,
            _token_native_coder,
            _token_native_coder,
            # Only where the optional tokenizer extra and its files are installed.
            is_available=_token_native.is_available,
        ),
        Codec(
            Algorithm.BROTLI_SESSION,
            lambda _options: _brotli_session.SessionEncoder(),
            lambda _options: _brotli_session.SessionDecoder(),
            stateful=True,
            # Opt-in: a shared compression context is a compression oracle (CRIME/BREACH).
            offered_by_default=False,
        ),
        Codec(Algorithm.BROTLI, _stateless(_BROTLI_CODER), _stateless(_BROTLI_CODER)),
        Codec(Algorithm.NONE, _stateless(_NONE_CODER), _stateless(_NONE_CODER)),
    )
}


def available_algorithms() -> tuple[str, ...]:
    """Every algorithm usable in this build, in preference order."""
    return tuple(name for name, codec in _REGISTRY.items() if codec.is_available())


def default_algorithms() -> tuple[str, ...]:
    """The algorithms offered when the caller names none, in preference order."""
    return tuple(
        name
        for name, codec in _REGISTRY.items()
        if codec.offered_by_default and codec.is_available()
    )


def get_codec(algorithm: str) -> Codec:
    """The codec for ``algorithm``; ``InvalidCodecError`` if it is unknown or not built here."""
    try:
        return _REGISTRY[algorithm]
    except KeyError:
        raise InvalidCodecError(f"no codec for algorithm {algorithm!r}") from None


def normalize_algorithms(names: Iterable[str] | str | None) -> tuple[str, ...]:
    """Validate a configured preference list (strings or :class:`Algorithm` members).

    ``None`` means :func:`default_algorithms`. Raises ``ConfigError`` on an empty list, an
    unknown name or one this build cannot use; duplicates keep their first position.
    """
    if names is None:
        return default_algorithms()
    if isinstance(names, str):
        names = names.split(",")
    result: list[str] = []
    for raw in names:
        name = str(raw).strip().upper().replace("-", "_")
        if name not in Algorithm.__members__:
            raise ConfigError(
                f"unknown algorithm {raw!r}; known: {', '.join(Algorithm.__members__)}"
            )
        codec = _REGISTRY.get(name)
        if codec is None or not codec.is_available():
            raise ConfigError(f"algorithm {name} is not available in this build")
        if name not in result:
            result.append(name)
    if not result:
        raise ConfigError("at least one algorithm is required")
    return tuple(result)
