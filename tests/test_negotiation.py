"""Server-side negotiation (PROTOCOL.md section 4)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from typing import Any

import pytest

from m2m_session.codes import RejectCode
from m2m_session.messages import Hello, Reject
from m2m_session.negotiation import (
    DEFAULT_ENCODING,
    Agreement,
    Capabilities,
    PolicyHook,
    negotiate,
    negotiate_encoding,
    negotiate_version,
    new_session_id,
)

GOOD = Hello(version="1.0", algorithms=("BROTLI", "NONE"))
SERVER = Capabilities(algorithms=("BROTLI", "NONE"))


def _agree(hello: Hello = GOOD, caps: Capabilities = SERVER, **kw: Any) -> Agreement:
    result = negotiate(hello, caps, **kw)
    assert isinstance(result, Agreement), result
    return result


def _reject(hello: Hello = GOOD, caps: Capabilities = SERVER, **kw: Any) -> Reject:
    result = negotiate(hello, caps, **kw)
    assert isinstance(result, Reject), result
    return result


# --- check order --------------------------------------------------------------------------------

# Each failing condition, in the order of section 4, as a change to (hello, caps, kwargs).
Condition = Callable[[Hello, Capabilities, dict[str, Any]], tuple[Hello, Capabilities]]


def _rate(h: Hello, c: Capabilities, kw: dict[str, Any]) -> tuple[Hello, Capabilities]:
    kw["rate_limited"] = True
    return h, c


def _busy(h: Hello, c: Capabilities, kw: dict[str, Any]) -> tuple[Hello, Capabilities]:
    kw["busy"] = True
    return h, c


def _version(h: Hello, c: Capabilities, kw: dict[str, Any]) -> tuple[Hello, Capabilities]:
    return Hello(**{**_fields(h), "version": "2.0"}), c


def _algorithm(h: Hello, c: Capabilities, kw: dict[str, Any]) -> tuple[Hello, Capabilities]:
    return Hello(**{**_fields(h), "algorithms": ("M2M",)}), c


def _security(h: Hello, c: Capabilities, kw: dict[str, Any]) -> tuple[Hello, Capabilities]:
    return Hello(**{**_fields(h), "security_scanning": False}), Capabilities(
        algorithms=c.algorithms, require_scanning=True
    )


def _malformed(h: Hello, c: Capabilities, kw: dict[str, Any]) -> tuple[Hello, Capabilities]:
    return Hello(**{**_fields(h), "problems": ("'agent_id' is bad",)}), c


def _fields(h: Hello) -> dict[str, Any]:
    return {
        "version": h.version,
        "algorithms": h.algorithms,
        "encodings": h.encodings,
        "preferred_encoding": h.preferred_encoding,
        "security_scanning": h.security_scanning,
        "max_payload_size": h.max_payload_size,
        "agent_id": h.agent_id,
        "extensions": h.extensions,
        "problems": h.problems,
    }


ORDER: list[tuple[RejectCode, Condition]] = [
    (RejectCode.RATE_LIMITED, _rate),
    (RejectCode.SERVER_BUSY, _busy),
    (RejectCode.VERSION_MISMATCH, _version),
    (RejectCode.NO_COMMON_ALGORITHM, _algorithm),
    (RejectCode.SECURITY_POLICY, _security),
    (RejectCode.UNKNOWN, _malformed),
]


PAIRS = list(itertools.combinations(range(len(ORDER)), 2))


def _apply(*conditions: Condition) -> Reject:
    hello, caps = GOOD, SERVER
    kw: dict[str, Any] = {}
    for condition in conditions:
        hello, caps = condition(hello, caps, kw)
    return _reject(hello, caps, **kw)


@pytest.mark.parametrize(("code", "condition"), ORDER, ids=[c.value for c, _ in ORDER])
def test_each_condition_alone(code: RejectCode, condition: Condition) -> None:
    reject = _apply(condition)
    assert reject.code == code
    assert reject.message


@pytest.mark.parametrize(
    ("earlier", "later"),
    PAIRS,
    ids=[f"{ORDER[a][0].value}>{ORDER[b][0].value}" for a, b in PAIRS],
)
def test_earlier_check_wins(earlier: int, later: int) -> None:
    code = ORDER[earlier][0]
    assert _apply(ORDER[earlier][1], ORDER[later][1]).code == code
    assert _apply(ORDER[later][1], ORDER[earlier][1]).code == code


def test_all_conditions_at_once_gives_rate_limited() -> None:
    assert _apply(*(c for _, c in reversed(ORDER))).code == RejectCode.RATE_LIMITED


def test_security_policy_beats_policy_hook_and_malformed() -> None:
    """A hook refusal is a SECURITY_POLICY failure: it beats a malformed payload too."""
    hello = Hello(**{**_fields(GOOD), "problems": ("bad",)})
    assert _reject(hello, policy=lambda h: False).code == RejectCode.SECURITY_POLICY


def test_policy_hook_not_consulted_when_earlier_check_fails() -> None:
    calls: list[Hello] = []

    def hook(h: Hello) -> bool:
        calls.append(h)
        return True

    _reject(Hello(version="2.0", algorithms=("NONE",)), policy=hook)
    _reject(Hello(algorithms=()), policy=hook)
    _reject(policy=hook, busy=True)
    assert calls == []


# --- version ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offered", "supported", "expected"),
    [
        ("1.0", "1.0", "1.0"),
        ("1.5", "1.0", "1.0"),
        ("1.0", "1.5", "1.0"),
        ("1.1", "1.3", "1.1"),
        ("1.7", "1.3", "1.3"),
        ("3.2", "3.9", "3.2"),
        ("0.4", "0.2", "0.2"),
    ],
)
def test_version_compatible(offered: str, supported: str, expected: str) -> None:
    assert negotiate_version(offered, supported) == expected


@pytest.mark.parametrize(
    "offered", ["2.0", "0.9", "1", "1.0.0", "01.0", "1.00", "", None, " 1.0", "1.0 ", "v1.0", 1.0]
)
def test_version_mismatch(offered: object) -> None:
    assert negotiate_version(offered, "1.0") is None


@pytest.mark.parametrize("offered", ["2.0", "1", "1.0.0", "01.0", "", None])
def test_version_mismatch_rejects(offered: str | None) -> None:
    reject = _reject(Hello(version=offered, algorithms=("NONE",)))
    assert reject.code == RejectCode.VERSION_MISMATCH


def test_negotiated_version_in_accept() -> None:
    assert _agree(Hello(version="1.5", algorithms=("NONE",))).accept.version == "1.0"
    caps = Capabilities(version="1.3", algorithms=("NONE",))
    assert _agree(Hello(version="1.1", algorithms=("NONE",)), caps).accept.version == "1.1"


# --- algorithms ---------------------------------------------------------------------------------


def test_algorithms_in_server_preference_order() -> None:
    hello = Hello(algorithms=("NONE", "ZSTD", "BROTLI"))
    assert _agree(hello).accept.algorithms == ("BROTLI", "NONE")
    caps = Capabilities(algorithms=("NONE", "BROTLI"))
    assert _agree(Hello(algorithms=("BROTLI", "NONE")), caps).accept.algorithms == (
        "NONE",
        "BROTLI",
    )


def test_only_common_algorithms() -> None:
    assert _agree(Hello(algorithms=("NONE", "M2M"))).accept.algorithms == ("NONE",)


@pytest.mark.parametrize("offer", [(), ("M2M", "TOKEN_NATIVE"), ("brotli", "none")])
def test_no_common_algorithm(offer: tuple[str, ...]) -> None:
    assert _reject(Hello(algorithms=offer)).code == RejectCode.NO_COMMON_ALGORITHM


# --- security policy ----------------------------------------------------------------------------


def test_require_scanning_without_client_scanning() -> None:
    caps = Capabilities(algorithms=("NONE",), require_scanning=True)
    assert _reject(Hello(algorithms=("NONE",)), caps).code == RejectCode.SECURITY_POLICY


def test_require_scanning_with_client_scanning() -> None:
    caps = Capabilities(algorithms=("NONE",), require_scanning=True)
    agreement = _agree(Hello(algorithms=("NONE",), security_scanning=True), caps)
    assert agreement.accept.security_scanning is True


@pytest.mark.parametrize(
    ("asked", "required", "server_scans", "flag"),
    [
        (False, False, False, False),
        (True, False, False, True),  # the client asked: both ends then monitor
        (False, False, True, True),  # the server scans under its own policy
        (True, True, False, True),
    ],
)
def test_scanning_flag(asked: bool, required: bool, server_scans: bool, flag: bool) -> None:
    caps = Capabilities(require_scanning=required, scanning=server_scans)
    agreement = negotiate(Hello(algorithms=("NONE",), security_scanning=asked), caps)
    assert isinstance(agreement, Agreement)
    assert agreement.accept.security_scanning is flag


@pytest.mark.parametrize(
    ("verdict", "code"),
    [
        (False, RejectCode.SECURITY_POLICY),
        (RejectCode.RATE_LIMITED, RejectCode.RATE_LIMITED),
        (RejectCode.SERVER_BUSY, RejectCode.SERVER_BUSY),
        (RejectCode.SECURITY_POLICY, RejectCode.SECURITY_POLICY),
        ("not-a-code", RejectCode.UNKNOWN),
    ],
)
def test_policy_hook_refusals(verdict: Any, code: RejectCode) -> None:
    assert _reject(policy=lambda h: verdict).code == code


@pytest.mark.parametrize("verdict", [None, True])
def test_policy_hook_allows(verdict: bool | None) -> None:
    _agree(policy=lambda h: verdict)


def test_policy_hook_raising_gives_unknown() -> None:
    def hook(h: Hello) -> bool:
        raise RuntimeError("database down")

    reject = _reject(policy=hook)
    assert reject.code == RejectCode.UNKNOWN
    assert "database down" not in reject.message  # internals are not leaked to the peer


def test_policy_hook_sees_the_hello() -> None:
    seen: list[str | None] = []

    def hook(h: Hello) -> bool:
        seen.append(h.agent_id)
        return h.agent_id == "trusted"

    policy: PolicyHook = hook
    _agree(Hello(algorithms=("NONE",), agent_id="trusted"), policy=policy)
    assert _reject(Hello(algorithms=("NONE",), agent_id="other"), policy=policy).code == (
        RejectCode.SECURITY_POLICY
    )
    assert seen == ["trusted", "other"]


def test_malformed_hello_gives_unknown_with_what() -> None:
    hello = Hello(algorithms=("NONE",), problems=("'agent_id' must be 1-128 characters",))
    reject = _reject(hello)
    assert reject.code == RejectCode.UNKNOWN
    assert "agent_id" in reject.message


# --- limits, encoding, extensions ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("client", "server", "expected"),
    [(0, 0, 0), (100, 0, 100), (0, 200, 200), (100, 200, 100), (300, 200, 200), (5, 5, 5)],
)
def test_max_payload_size_is_smaller_non_zero(client: int, server: int, expected: int) -> None:
    hello = Hello(algorithms=("NONE",), max_payload_size=client)
    caps = Capabilities(algorithms=("NONE",), max_payload_size=server)
    assert _agree(hello, caps).accept.max_payload_size == expected


def test_accept_carries_capabilities() -> None:
    caps = Capabilities(algorithms=("NONE",), session_timeout_ms=1234, extensions={"x": 1})
    accept = _agree(Hello(algorithms=("NONE",)), caps).accept
    assert accept.session_timeout_ms == 1234
    assert accept.extensions == {"x": 1}


def test_session_id_factory_used() -> None:
    assert _agree(session_id_factory=lambda: "sess_fixed").session_id == "sess_fixed"


@pytest.mark.parametrize(
    ("preferred", "offered", "supported", "expected"),
    [
        ("O200K_BASE", ("CL100K_BASE", "O200K_BASE"), ("CL100K_BASE", "O200K_BASE"), "O200K_BASE"),
        ("LLAMA_BPE", ("CL100K_BASE", "O200K_BASE"), ("O200K_BASE", "CL100K_BASE"), "CL100K_BASE"),
        (None, ("O200K_BASE", "CL100K_BASE"), ("CL100K_BASE", "O200K_BASE"), "O200K_BASE"),
        ("LLAMA_BPE", (), ("LLAMA_BPE",), "LLAMA_BPE"),
        ("LLAMA_BPE", ("LLAMA_BPE",), ("O200K_BASE",), DEFAULT_ENCODING),
        (None, (), (), "CL100K_BASE"),
        (None, ("O200K_BASE",), (), "CL100K_BASE"),
    ],
)
def test_negotiate_encoding(
    preferred: str | None, offered: tuple[str, ...], supported: tuple[str, ...], expected: str
) -> None:
    hello = Hello(algorithms=("NONE",), encodings=offered, preferred_encoding=preferred)
    assert negotiate_encoding(hello, supported) == expected


def test_encoding_only_with_token_native() -> None:
    caps = Capabilities(algorithms=("TOKEN_NATIVE", "NONE"), encodings=("O200K_BASE",))
    hello = Hello(algorithms=("TOKEN_NATIVE", "NONE"), encodings=("O200K_BASE",))
    assert _agree(hello, caps).accept.encoding == "O200K_BASE"
    assert _agree(Hello(algorithms=("NONE",)), caps).accept.encoding is None


# --- session ids --------------------------------------------------------------------------------

_SESSION_ID = re.compile(r"sess_[a-z0-9]{20}")


def test_new_session_id_format() -> None:
    for _ in range(200):
        assert _SESSION_ID.fullmatch(new_session_id())


def test_new_session_id_unique() -> None:
    ids = {new_session_id() for _ in range(10_000)}
    assert len(ids) == 10_000
    # Every character of the alphabet shows up: the ids are not drawn from a narrow range.
    assert set("".join(i[5:] for i in ids)) == set("abcdefghijklmnopqrstuvwxyz0123456789")


def test_agreement_ids_are_fresh() -> None:
    ids = {_agree().session_id for _ in range(100)}
    assert len(ids) == 100
    assert all(_SESSION_ID.fullmatch(i) for i in ids)
