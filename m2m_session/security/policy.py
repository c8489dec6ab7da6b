"""How a session scans what it sends and receives: off, monitor, or blocking.

An endpoint scans when its own policy says so, and at least in monitor mode when the session
negotiated ``security_scanning`` (the ACCEPT flag promises scanned content). The receiver never
trusts the peer's ``security_status``: it scans again under its own policy.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from m2m_session.errors import ConfigError
from m2m_session.security.detectors import Detector, default_registry
from m2m_session.security.scanner import DEFAULT_THRESHOLD, Scanner

__all__ = ["DEFAULT_THREAD_ABOVE", "ScanMode", "ScanPolicy"]

#: :attr:`ScanPolicy.thread_above`: 16 KiB of prose scan in about 2 ms (attack-dense text in up
#: to ~60 ms), while handing a payload to a worker thread and back costs about 0.1 ms.
DEFAULT_THREAD_ABOVE = 16 * 1024


class ScanMode(enum.StrEnum):
    #: No scanning.
    DISABLED = "disabled"
    #: Scan, log metadata and count threats; deliver (and send) everything.
    MONITOR = "monitor"
    #: Scan; a threat at or above the threshold is not sent (``SecurityThreatError``) or not
    #: delivered (``ContentBlockedError`` from ``recv``, the session stays open).
    BLOCKING = "blocking"


@dataclass(frozen=True, slots=True)
class ScanPolicy:
    """A session's scanning policy; ``peers`` overrides the mode per peer agent id."""

    mode: ScanMode = ScanMode.MONITOR
    threshold: float = DEFAULT_THRESHOLD
    #: Regexes for known-good spans that never count as threats.
    allow: tuple[str, ...] = ()
    #: Per-peer modes by the peer's HELLO ``agent_id`` (servers know it), e.g. a trusted
    #: agent in MONITOR while everyone else is BLOCKING.
    peers: Mapping[str, ScanMode] = field(default_factory=dict)
    #: The detector: a loaded :class:`~m2m_session.security.Detector`, or a name of
    #: :func:`~m2m_session.security.default_registry` (``"rules"``, ``"learned"``,
    #: ``"combined"``), loaded here so a bad name or model file fails before any session.
    detector: Detector | str = "rules"
    #: Payloads larger than this many bytes are scanned in a worker thread, so one large
    #: message does not stall every other session of the event loop (a scan costs about
    #: 0.1 to 4 ms per KB); ``None`` scans everything inline. Order is kept either way.
    thread_above: int | None = DEFAULT_THREAD_ABOVE
    scanner: Scanner = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "mode", ScanMode(self.mode))
            object.__setattr__(
                self, "peers", {agent: ScanMode(mode) for agent, mode in self.peers.items()}
            )
        except ValueError as exc:
            raise ConfigError(f"scan mode must be one of {', '.join(ScanMode)}: {exc}") from None
        object.__setattr__(self, "allow", tuple(self.allow))
        if self.thread_above is not None and self.thread_above < 0:
            raise ConfigError(f"thread_above must be 0 or more bytes, not {self.thread_above}")
        # One scanner per policy, shared by its sessions: building the rules costs more than a
        # scan, and a Scanner keeps no per-message state.
        detector = self.detector
        if isinstance(detector, str):
            detector = default_registry(learned=detector != "rules").get(detector)
        scanner = Scanner(detector, threshold=self.threshold, allow=self.allow)
        object.__setattr__(self, "scanner", scanner)

    @classmethod
    def of(
        cls,
        mode: ScanMode | str,
        threshold: float = DEFAULT_THRESHOLD,
        allow: Iterable[str] = (),
        detector: Detector | str = "rules",
    ) -> ScanPolicy:
        """A policy from plain values (the CLI's ``--scan``, ``--threshold``, ``--detector``)."""
        return cls(ScanMode(mode), threshold, tuple(allow), detector=detector)

    def mode_for(self, agent_id: str | None) -> ScanMode:
        """The mode that applies to a peer."""
        if agent_id is not None:
            return self.peers.get(agent_id, self.mode)
        return self.mode
