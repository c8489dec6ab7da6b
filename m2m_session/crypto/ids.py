"""Validated agent and organisation ids: 1-128 characters of ``[A-Za-z0-9_-]``.

The ids become segments of key-derivation paths (``m2m/v1/{org}/{agent}``), so the character
set excludes ``/`` and ``:`` and every path has exactly one reading.
"""

from __future__ import annotations

import re

from m2m_session.errors import IdError

__all__ = ["MAX_ID_LENGTH", "AgentId", "OrgId", "validate_id"]

MAX_ID_LENGTH = 128
_ID_CHARS = re.compile(r"[A-Za-z0-9_-]+")


def validate_id(value: object, what: str = "id") -> str:
    """Return ``value`` if it is a valid id, else raise :class:`IdError`.

    Checked in this order: ``EMPTY`` (not a string counts as invalid characters), ``TOO_LONG``
    (over 128 characters), ``INVALID_CHARS``. Messages name the kind of id, never its value.
    """
    if not isinstance(value, str):
        raise IdError(IdError.Case.INVALID_CHARS, f"{what} must be a string")
    if not value:
        raise IdError(IdError.Case.EMPTY, what)
    if len(value) > MAX_ID_LENGTH:
        raise IdError(IdError.Case.TOO_LONG, f"{what} has {len(value)} characters")
    if _ID_CHARS.fullmatch(value) is None:
        raise IdError(IdError.Case.INVALID_CHARS, what)
    return value


class AgentId(str):
    """An agent id; a ``str`` subclass, so it formats and sorts like the plain string."""

    __slots__ = ()

    def __new__(cls, value: str) -> AgentId:
        return super().__new__(cls, validate_id(value, "agent id"))

    def __repr__(self) -> str:
        return f"AgentId({str.__repr__(self)})"


class OrgId(str):
    """An organisation id; a ``str`` subclass, so it formats and sorts like the plain string."""

    __slots__ = ()

    def __new__(cls, value: str) -> OrgId:
        return super().__new__(cls, validate_id(value, "org id"))

    def __repr__(self) -> str:
        return f"OrgId({str.__repr__(self)})"
