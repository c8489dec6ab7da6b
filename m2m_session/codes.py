"""The protocol's code words: REJECT codes, CLOSE reasons, threat types (PROTOCOL.md section 5)."""

from __future__ import annotations

import enum

__all__ = ["CloseReason", "RejectCode", "ThreatType"]


class RejectCode(enum.StrEnum):
    """Why a server refused a HELLO, in the order the server checks."""

    RATE_LIMITED = "RATE_LIMITED"
    SERVER_BUSY = "SERVER_BUSY"
    VERSION_MISMATCH = "VERSION_MISMATCH"
    NO_COMMON_ALGORITHM = "NO_COMMON_ALGORITHM"
    SECURITY_POLICY = "SECURITY_POLICY"
    UNKNOWN = "UNKNOWN"


class CloseReason(enum.StrEnum):
    """Why a session ended."""

    NORMAL = "NORMAL"
    CLIENT_SHUTDOWN = "CLIENT_SHUTDOWN"
    SERVER_SHUTDOWN = "SERVER_SHUTDOWN"
    TIMEOUT = "TIMEOUT"
    ERROR = "ERROR"


class ThreatType(enum.StrEnum):
    """What the security scanner can find, with its severity."""

    PROMPT_INJECTION = "PROMPT_INJECTION"
    JAILBREAK = "JAILBREAK"
    DATA_EXFILTRATION = "DATA_EXFILTRATION"
    MALFORMED_INPUT = "MALFORMED_INPUT"
    EXCESSIVE_NESTING = "EXCESSIVE_NESTING"

    @property
    def severity(self) -> str:
        """The seed's severity: ``critical``, ``high`` or ``medium``."""
        return _SEVERITY[self]


_SEVERITY = {
    ThreatType.PROMPT_INJECTION: "high",
    ThreatType.JAILBREAK: "critical",
    ThreatType.DATA_EXFILTRATION: "high",
    ThreatType.MALFORMED_INPUT: "medium",
    ThreatType.EXCESSIVE_NESTING: "medium",
}
