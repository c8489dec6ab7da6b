"""Capability negotiation (PROTOCOL.md section 4): the server's checks, in order, on one HELLO.

Pure functions: the caller supplies what only it knows (is this peer over its rate, is the server
full, what does the embedding agent's policy hook say) and gets back an ACCEPT with a fresh
session id, or a REJECT.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog

from m2m_session.codecs import Algorithm, default_algorithms
from m2m_session.codes import RejectCode
from m2m_session.crypto.handshake import select_mode
from m2m_session.messages import PROTOCOL_VERSION, Accept, Hello, Reject

__all__ = [
    "DEFAULT_ENCODING",
    "KNOWN_ENCODINGS",
    "Agreement",
    "Capabilities",
    "PolicyHook",
    "negotiate",
    "negotiate_encoding",
    "negotiate_version",
    "new_session_id",
    "smaller_limit",
]

log = structlog.get_logger("m2m_session.negotiation")

KNOWN_ENCODINGS = ("CL100K_BASE", "O200K_BASE", "LLAMA_BPE")
DEFAULT_ENCODING = "CL100K_BASE"
_VERSION = re.compile(r"(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})")
_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
_ID_LENGTH = 20
_ID_SPACE = 36**_ID_LENGTH

#: ``on_hello(hello)``: ``None`` or ``True`` lets the peer in, ``False`` refuses it with
#: SECURITY_POLICY, a :class:`RejectCode` refuses it with that code.
PolicyHook = Callable[[Hello], "bool | RejectCode | None"]


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a server accepts (or a client offers): the inputs of negotiation."""

    version: str = PROTOCOL_VERSION
    algorithms: tuple[str, ...] = field(default_factory=default_algorithms)
    encodings: tuple[str, ...] = ()
    require_scanning: bool = False
    #: The server scans content under a policy of its own, required or not.
    scanning: bool = False
    #: DATA security modes the server accepts, in its preference order; with
    #: ``require_encryption`` a client offering none but ``NONE`` is refused.
    security_modes: tuple[str, ...] = ("AEAD", "HMAC", "NONE")
    require_encryption: bool = False
    session_timeout_ms: int = 300_000
    max_payload_size: int = 0
    extensions: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Agreement:
    """A successful negotiation: the ACCEPT to send and the session's id."""

    accept: Accept
    session_id: str


def new_session_id() -> str:
    """``sess_`` and 20 CSPRNG characters of ``[a-z0-9]`` (about 103 bits)."""
    # One uniform draw below 36**20 written in base 36: the same distribution as 20 separate
    # secrets.choice calls, for one read of the system CSPRNG instead of dozens.
    value = secrets.randbelow(_ID_SPACE)
    chars = []
    for _ in range(_ID_LENGTH):
        value, digit = divmod(value, 36)
        chars.append(_ID_ALPHABET[digit])
    return "sess_" + "".join(chars)


def parse_version(version: object) -> tuple[int, int] | None:
    """``(major, minor)`` of a ``"MAJOR.MINOR"`` string, or None when malformed."""
    if type(version) is not str:
        return None
    match = _VERSION.fullmatch(version)
    return None if match is None else (int(match[1]), int(match[2]))


def negotiate_version(offered: object, supported: str = PROTOCOL_VERSION) -> str | None:
    """The agreed version (same MAJOR, lower MINOR), or None when incompatible or malformed."""
    theirs, ours = parse_version(offered), parse_version(supported)
    if theirs is None or ours is None or theirs[0] != ours[0]:
        return None
    return f"{ours[0]}.{min(theirs[1], ours[1])}"


def negotiate_encoding(hello: Hello, supported: tuple[str, ...]) -> str:
    """The client's preferred encoding if supported, else the first in common, else CL100K."""
    if hello.preferred_encoding is not None and hello.preferred_encoding in supported:
        return hello.preferred_encoding
    for name in hello.encodings:
        if name in supported:
            return name
    return DEFAULT_ENCODING


def negotiate(
    hello: Hello,
    capabilities: Capabilities,
    *,
    rate_limited: bool = False,
    busy: bool = False,
    policy: PolicyHook | None = None,
    session_id_factory: Callable[[], str] = new_session_id,
) -> Agreement | Reject:
    """Run the section 4 checks on ``hello``; the first that fails decides the REJECT code."""
    if rate_limited:
        return Reject(RejectCode.RATE_LIMITED, "too many sessions from this address; retry later")
    if busy:
        return Reject(RejectCode.SERVER_BUSY, "the server holds its maximum number of sessions")

    version = negotiate_version(hello.version, capabilities.version)
    if version is None:
        shown = "missing" if hello.version is None else repr(hello.version)
        return Reject(
            RejectCode.VERSION_MISMATCH,
            f"version {shown} is not compatible with {capabilities.version}",
        )

    offered = set(hello.algorithms)
    common = tuple(name for name in capabilities.algorithms if name in offered)
    if not common:
        return Reject(
            RejectCode.NO_COMMON_ALGORITHM,
            f"no algorithm in common; this server speaks {', '.join(capabilities.algorithms)}",
        )

    if capabilities.require_scanning and not hello.security_scanning:
        return Reject(RejectCode.SECURITY_POLICY, "this server requires security_scanning")
    acceptable = [
        mode
        for mode in capabilities.security_modes
        if not (capabilities.require_encryption and mode == "NONE")
    ]
    security_mode = select_mode(hello.security_modes or ("NONE",), acceptable)
    if security_mode is None:
        return Reject(
            RejectCode.SECURITY_POLICY,
            f"no acceptable security mode; this server accepts {', '.join(acceptable)}",
        )
    if policy is not None:
        refusal = _ask_policy(policy, hello)
        if refusal is not None:
            return refusal

    if hello.problems:
        return Reject(RejectCode.UNKNOWN, "malformed HELLO: " + "; ".join(hello.problems))

    max_payload = smaller_limit(hello.max_payload_size, capabilities.max_payload_size)
    encoding = (
        negotiate_encoding(hello, capabilities.encodings)
        if Algorithm.TOKEN_NATIVE in common
        else None
    )
    accept = Accept(
        version=version,
        algorithms=common,
        # Scanned when the server requires it, scans anyway, or the client asks (every end of
        # a session that promises scanning monitors at least).
        security_scanning=(
            capabilities.require_scanning or capabilities.scanning or hello.security_scanning
        ),
        session_timeout_ms=capabilities.session_timeout_ms,
        max_payload_size=max_payload,
        encoding=encoding,
        extensions=capabilities.extensions,
        security_mode=security_mode.value,
    )
    return Agreement(accept, session_id_factory())


def _ask_policy(policy: PolicyHook, hello: Hello) -> Reject | None:
    try:
        verdict = policy(hello)
    except Exception:
        log.exception("policy_hook_failed", agent_id=hello.agent_id)
        return Reject(RejectCode.UNKNOWN, "the server could not evaluate its policy")
    if verdict is None or verdict is True:
        return None
    if verdict is False:
        return Reject(RejectCode.SECURITY_POLICY, "refused by the server's security policy")
    try:
        code = RejectCode(verdict)
    except ValueError:
        log.error("policy_hook_bad_verdict", verdict=repr(verdict))
        return Reject(RejectCode.UNKNOWN, "the server could not evaluate its policy")
    return Reject(code, f"refused by the server's policy ({code.value})")


def smaller_limit(a: int, b: int) -> int:
    """The smaller of two limits where 0 means none."""
    if a and b:
        return min(a, b)
    return a or b
