"""What a scan reports: :class:`Finding` and :class:`ScanResult` (the seed's scan-result shape)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from m2m_session.codes import ThreatType
from m2m_session.errors import SecurityThreatError

__all__ = ["Finding", "ScanResult"]

_SEVERITY_RANK = {"critical": 3, "high": 2, "medium": 1}


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a detector found.

    ``detector`` names the rule or detector that fired (``"rules/pi.ignore-instructions"``);
    ``reason`` is a short fixed description of the rule, never the matched content, so findings
    can be logged without leaking what was scanned.
    """

    threat_type: ThreatType
    confidence: float
    detector: str
    reason: str

    def __post_init__(self) -> None:
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"confidence {self.confidence} is outside 0..1")

    @property
    def rank(self) -> tuple[float, int]:
        """Sort key: confidence first, then severity."""
        return (self.confidence, _SEVERITY_RANK[self.threat_type.severity])

    def to_dict(self) -> dict[str, Any]:
        """``{"threat_type", "severity", "confidence", "detector", "reason"}``."""
        return {
            "threat_type": str(self.threat_type),
            "severity": self.threat_type.severity,
            "confidence": round(self.confidence, 4),
            "detector": self.detector,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class ScanResult:
    """The outcome of one scan.

    ``safe`` is false when a finding reaches the scanner's threshold; ``threat_type`` and
    ``confidence`` are then those of the strongest finding, or of an attack at the threshold
    that characters reported as malformed were hiding (``None`` / the strongest sub-threshold
    confidence when safe). ``details`` holds every finding, the one named first, then strongest
    first.
    """

    scanned: bool
    safe: bool
    threat_type: ThreatType | None
    confidence: float
    details: list[Finding] = field(default_factory=list)

    @classmethod
    def clean(cls) -> ScanResult:
        """A scanned, safe result with no findings."""
        return cls(scanned=True, safe=True, threat_type=None, confidence=0.0, details=[])

    def to_dict(self) -> dict[str, Any]:
        """The seed's shape: ``{"scanned", "safe", "threat_type", "confidence", "details"}``."""
        return {
            "scanned": self.scanned,
            "safe": self.safe,
            "threat_type": None if self.threat_type is None else str(self.threat_type),
            "confidence": round(self.confidence, 4),
            "details": [finding.to_dict() for finding in self.details],
        }

    def to_error(self) -> SecurityThreatError:
        """The :class:`SecurityThreatError` for this result; ``ValueError`` if it is safe."""
        if self.safe or self.threat_type is None:
            raise ValueError("a safe scan result is not an error")
        return SecurityThreatError(str(self.threat_type), round(self.confidence, 4))
