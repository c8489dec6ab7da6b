"""Logging set-up for programs built on m2m_session: the CLI and the examples call it.

The library only *emits* structlog events (``session_established``, ``session_closed``,
``protocol_violation``...); it never configures logging. A program calls
:func:`configure_logging` once to get key-value events on stderr, or JSON lines with
``json=True``, filtered by level.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import structlog

from m2m_session.errors import ConfigError

__all__ = ["LEVELS", "configure_logging"]

#: Accepted level names, lowest first.
LEVELS: tuple[str, ...] = ("debug", "info", "warning", "error", "critical")
_NUMBERS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
}


def configure_logging(
    level: str | int = "info", *, json: bool = False, stream: TextIO | None = None
) -> None:
    """Send structlog events at ``level`` and above to ``stream`` (default: ``sys.stderr``).

    ``level`` is a name of :data:`LEVELS` (any case) or a ``logging`` level number. Events are
    rendered as ``key=value`` console lines, colored only when ``stream`` is a TTY, or as one
    JSON object per line when ``json`` is true. Calling it again replaces the configuration.
    Raises ``ConfigError`` for an unknown level name.
    """
    out = sys.stderr if stream is None else stream
    threshold = _level_number(level)
    renderer: structlog.typing.Processor
    processors: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]
    if json:
        processors.append(structlog.processors.format_exc_info)
        renderer = structlog.processors.JSONRenderer()
    else:
        processors.append(structlog.dev.set_exc_info)
        renderer = structlog.dev.ConsoleRenderer(colors=_is_tty(out))
    processors.append(renderer)
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(threshold),
        context_class=dict,
        logger_factory=structlog.PrintLoggerFactory(file=out),
        # Not cached: a later call (tests, embedding programs) must take effect everywhere.
        cache_logger_on_first_use=False,
    )


def _level_number(level: str | int) -> int:
    if isinstance(level, int):
        return level
    name = level.strip().lower()
    if name not in LEVELS:
        raise ConfigError(f"unknown log level {level!r}; use one of {', '.join(LEVELS)}")
    return _NUMBERS[name]


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False
