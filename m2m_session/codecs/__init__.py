"""Codec registry: the DATA ``algorithm`` names and the encoders/decoders behind them.

A codec turns application bytes into DATA ``content`` and back. Every decoder enforces the
decoded-size cap while it decodes and never returns partial output (PROTOCOL.md sections 7, 8).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from m2m_session.codecs import brotli as _brotli
from m2m_session.codecs import none as _none
from m2m_session.errors import ConfigError, InvalidCodecError

__all__ = [
    "MAX_DECODED_SIZE",
    "Algorithm",
    "Codec",
    "default_algorithms",
    "get_codec",
    "normalize_algorithms",
]

#: Decoded DATA content cap (PROTOCOL.md section 7).
MAX_DECODED_SIZE = 16 * 1024 * 1024


class Algorithm(enum.StrEnum):
    """Every DATA algorithm name of the protocol, implemented here or not."""

    M2M = "M2M"
    TOKEN_NATIVE = "TOKEN_NATIVE"
    BROTLI = "BROTLI"
    NONE = "NONE"


@dataclass(frozen=True, slots=True)
class Codec:
    """One algorithm: ``encode(data)`` and ``decode(content, max_size)``."""

    algorithm: Algorithm
    encode: Callable[[bytes], bytes]
    decode: Callable[[bytes, int], bytes]


# In default preference order: what a server lists first in ACCEPT.
_REGISTRY: dict[str, Codec] = {
    Algorithm.BROTLI.value: Codec(Algorithm.BROTLI, _brotli.encode, _brotli.decode),
    Algorithm.NONE.value: Codec(Algorithm.NONE, _none.encode, _none.decode),
}


def default_algorithms() -> tuple[str, ...]:
    """The implemented algorithms, in our default preference order."""
    return tuple(_REGISTRY)


def get_codec(algorithm: str) -> Codec:
    """The codec for ``algorithm``; ``InvalidCodecError`` if it is unknown or not built here."""
    try:
        return _REGISTRY[algorithm]
    except KeyError:
        raise InvalidCodecError(f"no codec for algorithm {algorithm!r}") from None


def normalize_algorithms(names: Iterable[str] | str | None) -> tuple[str, ...]:
    """Validate a configured preference list (strings or :class:`Algorithm` members).

    ``None`` means every implemented codec. Raises ``ConfigError`` on an empty list, an unknown
    name or one this build cannot encode; duplicates keep their first position.
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
        if name not in _REGISTRY:
            raise ConfigError(f"algorithm {name} is not available in this build")
        if name not in result:
            result.append(name)
    if not result:
        raise ConfigError("at least one algorithm is required")
    return tuple(result)
