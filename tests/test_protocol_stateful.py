"""Random sequences of API calls, timer ticks, deliveries and injected frames on a client and a
server core. Whatever happens, only M2MError escapes, the state is always one of the five, CLOSED
is final, and a core sends nothing once it has sent CLOSE or ended."""

from __future__ import annotations

from typing import Any

import msgpack
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
)

from m2m_session.codecs import get_codec
from m2m_session.codes import CloseReason
from m2m_session.errors import M2MError
from m2m_session.framing import encode_frame
from m2m_session.messages import Hello
from m2m_session.negotiation import Capabilities, negotiate
from m2m_session.protocol import (
    DataReceived,
    Event,
    Protocol,
    SessionEnded,
    SessionEstablished,
    State,
    Timeouts,
)

STATES = {s.value for s in State}
SIDES = st.sampled_from(["client", "server"])
TIMEOUTS = Timeouts(handshake=5.0, session=40.0, ping_interval=8.0, ping_timeout=2.0, closing=3.0)
ALGORITHM_NAMES = st.sampled_from(["BROTLI", "NONE", "M2M", "TOKEN_NATIVE", "ZSTD"])

# Session ids the injector picks from; "OWN" is replaced by the target's real session id.
SESSION_IDS = st.sampled_from(["OWN", "OWN", "OWN", None, "sess_aaaaaaaaaaaaaaaaaaaa"])

_SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.text(max_size=8),
    st.binary(max_size=8),
)


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly the well-typed value, sometimes something of another type."""
    return st.one_of(strategy, strategy, strategy, strategy, strategy, _SCALAR)


@st.composite
def _data_payload(draw: st.DrawFn) -> dict[str, Any]:
    raw = draw(st.binary(max_size=300))
    algorithm = draw(st.sampled_from(["NONE", "BROTLI", "M2M"]))
    content = get_codec(algorithm).encode(raw) if algorithm != "M2M" else raw
    if draw(st.integers(0, 3)) == 0:
        content = draw(st.binary(max_size=40))
    size = draw(st.one_of(st.just(len(raw)), st.integers(min_value=0, max_value=2**40)))
    payload: dict[str, Any] = {
        "algorithm": draw(_maybe(st.just(algorithm))),
        "content": draw(_maybe(st.just(content))),
        "original_size": draw(_maybe(st.just(size))),
    }
    if draw(st.booleans()):
        payload["text"] = draw(_maybe(st.booleans()))
    return payload


_HELLO_PAYLOAD = st.fixed_dictionaries(
    {
        "version": _maybe(st.sampled_from(["1.0", "1.1", "2.0", "1", ""])),
        "algorithms": _maybe(st.lists(ALGORITHM_NAMES, max_size=4)),
    },
    optional={
        "security_scanning": _maybe(st.booleans()),
        "max_payload_size": _maybe(st.integers(min_value=-5, max_value=500)),
        "agent_id": _maybe(st.text(max_size=10)),
        "encodings": _maybe(st.lists(st.text(max_size=5), max_size=2)),
    },
)
_ACCEPT_PAYLOAD = st.fixed_dictionaries(
    {
        "version": _maybe(st.sampled_from(["1.0", "1.1", "2.0"])),
        "algorithms": _maybe(st.lists(ALGORITHM_NAMES, max_size=3)),
        "security_scanning": _maybe(st.booleans()),
        "session_timeout_ms": _maybe(st.integers(min_value=-1, max_value=2**40)),
        "max_payload_size": _maybe(st.integers(min_value=-1, max_value=1000)),
    }
)
_REJECT_PAYLOAD = st.fixed_dictionaries(
    {
        "code": _maybe(st.sampled_from(["RATE_LIMITED", "UNKNOWN", "NEW"])),
        "message": _maybe(st.text(max_size=10)),
    }
)
_CLOSE_PAYLOAD = st.fixed_dictionaries(
    {},
    optional={
        "reason": _maybe(st.sampled_from([r.value for r in CloseReason] + ["LATER"])),
        "message": _maybe(st.text(max_size=10)),
    },
)

MESSAGES = st.one_of(
    st.tuples(st.just("HELLO"), _HELLO_PAYLOAD),
    st.tuples(st.just("ACCEPT"), _ACCEPT_PAYLOAD),
    st.tuples(st.just("REJECT"), _REJECT_PAYLOAD),
    st.tuples(st.just("DATA"), _data_payload()),
    st.tuples(st.just("DATA"), _data_payload()),
    st.tuples(st.sampled_from(["PING", "PONG"]), st.just({})),
    st.tuples(st.just("CLOSE"), _CLOSE_PAYLOAD),
    st.tuples(
        st.sampled_from(["SUBSCRIBE", "data"]), st.dictionaries(st.text(max_size=3), _SCALAR)
    ),
)


class SessionPair(RuleBasedStateMachine):
    """A client and a server core joined by two in-memory byte queues."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0
        self.cores: dict[str, Protocol] = {}
        self.peer = {"client": "server", "server": "client"}
        # Bytes a core has written that the other side has not yet read.
        self.wire: dict[str, bytes] = {"client": b"", "server": b""}
        self.events: dict[str, list[Event]] = {"client": [], "server": []}
        self.was_closed: dict[str, bool] = {"client": False, "server": False}
        self.silent: dict[str, bool] = {"client": False, "server": False}

    @initialize(
        algorithms=st.one_of(
            st.just([]), st.just([]), st.lists(ALGORITHM_NAMES, max_size=3, unique=True)
        ),
        client_limit=st.sampled_from([0, 0, 64, 1000]),
        server_limit=st.sampled_from([0, 0, 100]),
        require_scanning=st.sampled_from([False, False, False, True]),
        scanning=st.booleans(),
        session_timeout_ms=st.sampled_from([300_000, 20_000, 5_000]),
        handshake=st.sampled_from([True, True, True, False]),
    )
    def setup(
        self,
        algorithms: list[str],
        client_limit: int,
        server_limit: int,
        require_scanning: bool,
        scanning: bool,
        session_timeout_ms: int,
        handshake: bool,
    ) -> None:
        hello = Hello(
            algorithms=tuple(algorithms) if algorithms else ("BROTLI", "NONE"),
            security_scanning=scanning,
            max_payload_size=client_limit,
        )
        caps = Capabilities(
            require_scanning=require_scanning and not scanning,
            max_payload_size=server_limit,
            session_timeout_ms=session_timeout_ms,
        )
        self.cores["client"] = Protocol.client(hello, 0.0, timeouts=TIMEOUTS)
        self.cores["server"] = Protocol.server(
            lambda h: negotiate(h, caps), 0.0, timeouts=TIMEOUTS, max_frame_size=4096
        )
        if handshake:  # most runs start from a session (or a REJECT), not from scratch
            self.send_hello()
            self.deliver_everything()
            self.deliver_everything()

    # --- the guard around every call ----------------------------------------------------------

    def _call(self, side: str, name: str, *args: Any) -> None:
        core = self.cores[side]
        before = core.state
        try:
            result = getattr(core, name)(*args)
        except M2MError:
            # An API call refused. It may have ended the session on the way (send_data after
            # the idle deadline): the terminal event is then only available as ``ended``.
            result = []
            if before != State.CLOSED and core.ended is not None:
                result = [core.ended]
        if result is not None:
            assert isinstance(result, list)
            self._record(side, result)
        self._drain(side)

    def _record(self, side: str, events: list[Event]) -> None:
        log = self.events[side]
        for event in events:
            assert not any(isinstance(e, SessionEnded) for e in log), "event after SessionEnded"
            if isinstance(event, SessionEnded):
                assert isinstance(event.error, M2MError)
                assert self.cores[side].state == State.CLOSED
                assert self.cores[side].ended is event
            if isinstance(event, DataReceived):
                assert isinstance(event.data, (bytes, str))
            if isinstance(event, SessionEstablished):
                assert not any(isinstance(e, SessionEstablished) for e in log)
            log.append(event)

    def _drain(self, side: str) -> None:
        """Move what ``side`` wrote onto the wire, checking that it was allowed to write."""
        core = self.cores[side]
        out = core.data_to_send()
        if out:
            assert not self.silent[side], f"{side} wrote after CLOSE or after ending"
            self.wire[side] += out
        # Whatever was queued up to now may go out; from here on a closing or closed core is quiet.
        if core.state in (State.CLOSING, State.CLOSED):
            self.silent[side] = True

    # --- rules --------------------------------------------------------------------------------

    @rule()
    def send_hello(self) -> None:
        self._call("client", "send_hello", self.now)

    @rule(
        side=SIDES,
        data=st.one_of(st.text(max_size=200), st.binary(max_size=200), st.just("x" * 2000)),
    )
    def send_data(self, side: str, data: str | bytes) -> None:
        self._call(side, "send_data", data, self.now)

    @rule(side=SIDES, algorithm=ALGORITHM_NAMES)
    def send_data_with_algorithm(self, side: str, algorithm: str) -> None:
        self._call(side, "send_data", b"payload" * 40, self.now, algorithm)

    @rule(side=SIDES)
    def send_ping(self, side: str) -> None:
        self._call(side, "send_ping", self.now)

    @rule(side=SIDES, how=st.sampled_from([*CloseReason, "connection lost"]))
    def end(self, side: str, how: CloseReason | str) -> None:
        if isinstance(how, CloseReason):
            self._call(side, "close", self.now, how, "bye")
        else:
            self._call(side, "connection_lost", self.now)

    @rule(dt=st.floats(min_value=0.0, max_value=6.0, allow_nan=False))
    def advance(self, dt: float) -> None:
        self.now += dt
        self._call("client", "handle_timeout", self.now)
        self._call("server", "handle_timeout", self.now)

    @rule(side=SIDES)
    def tick_at_deadline(self, side: str) -> None:
        deadline = self.cores[side].next_deadline()
        if deadline is not None and deadline >= self.now:
            self.now = deadline
        self._call(side, "handle_timeout", self.now)

    @rule(side=SIDES, fraction=st.floats(min_value=0.0, max_value=1.0))
    def deliver(self, side: str, fraction: float) -> None:
        """Feed part (or all) of what ``side`` wrote to its peer."""
        pending = self.wire[side]
        count = round(len(pending) * fraction)
        chunk, self.wire[side] = pending[:count], pending[count:]
        self._call(self.peer[side], "receive_data", chunk, self.now)

    @rule()
    def deliver_everything(self) -> None:
        for side in ("client", "server"):
            chunk, self.wire[side] = self.wire[side], b""
            self._call(self.peer[side], "receive_data", chunk, self.now)

    @rule(side=SIDES, data=st.one_of(st.text(max_size=50), st.binary(max_size=50)))
    def exchange(self, side: str, data: str | bytes) -> None:
        """The common case: one side sends, everything in flight is delivered."""
        self._call(side, "send_data", data, self.now)
        self.deliver_everything()

    @rule(side=SIDES)
    def crossing_close(self, side: str) -> None:
        """Both ends act at once: one closes while the other still sends DATA and a PING."""
        self._call(side, "close", self.now)
        other = self.peer[side]
        self._call(other, "send_data", "crossing", self.now)
        self._call(other, "send_ping", self.now)
        self.deliver_everything()

    @rule(
        side=SIDES,
        message=st.one_of(MESSAGES, MESSAGES, MESSAGES, st.binary(max_size=64)),
        session_id=SESSION_IDS,
        timestamp=_maybe(st.integers(min_value=-(2**63), max_value=2**64 - 1)),
        framed=st.booleans(),
    )
    def inject(
        self,
        side: str,
        message: tuple[str, Any] | bytes,
        session_id: str | None,
        timestamp: Any,
        framed: bool,
    ) -> None:
        """What the real peer would not send: a random message, or random bytes."""
        if isinstance(message, bytes):
            data = encode_frame(message) if framed and message else message
            self._call(side, "receive_data", data, self.now)
            return
        type_name, payload = message
        if session_id == "OWN":
            session_id = self.cores[side].session_id
        body = msgpack.packb(
            {
                "type": type_name,
                "session_id": session_id,
                "timestamp": timestamp,
                "payload": payload,
            },
            use_bin_type=True,
        )
        self._call(side, "receive_data", encode_frame(bytes(body)), self.now)

    # --- invariants ---------------------------------------------------------------------------

    @invariant()
    def states_are_valid(self) -> None:
        for side, core in self.cores.items():
            assert core.state in STATES
            closed = core.state == State.CLOSED
            if self.was_closed[side]:
                assert closed, f"{side} left CLOSED"
            self.was_closed[side] = closed
            assert (core.ended is not None) == closed
            if closed:
                assert core.next_deadline() is None
                assert isinstance(core.ended, SessionEnded)
                assert isinstance(core.ended.error, M2MError)
                assert any(isinstance(e, SessionEnded) for e in self.events[side])
            if core.state == State.ESTABLISHED:
                assert core.session_id is not None
                assert core.negotiated is not None
                assert core.next_deadline() is not None


SessionPair.TestCase.settings = settings(
    max_examples=200,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestSessionPair = SessionPair.TestCase
