"""The sans-I/O protocol core: one :class:`Protocol` per session, bytes in, events and bytes out.

It owns the state machine of PROTOCOL.md section 6, validates every received message, answers
PINGs, runs negotiation on the server side and turns API calls into frames. It knows nothing of
sockets or clocks: every call takes ``now`` (seconds, any monotonic clock), and timers are
deadlines the shell asks for with :meth:`Protocol.next_deadline` and reports with
:meth:`Protocol.handle_timeout`.

The states and their transitions live in one module-level ``transitions`` machine that drives
every Protocol object through ``MACHINE.events[name].trigger(protocol)``: no per-session machine,
no per-session model registration. Only state changes trigger; DATA, PING and PONG check the state
with a string comparison, so the per-message path stays cheap.
"""

from __future__ import annotations

import enum
import functools
import hmac
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import msgpack
import structlog
from transitions import Machine, MachineError

from m2m_session import messages
from m2m_session.codecs import (
    DEFAULT_ENCODING,
    MAX_DECODED_SIZE,
    Algorithm,
    CodecOptions,
    Decoder,
    Encoder,
    get_codec,
    select,
)
from m2m_session.codes import CloseReason, RejectCode
from m2m_session.crypto.channel import OpeningChannel, SealingChannel
from m2m_session.crypto.exchange import X25519KeyPair
from m2m_session.crypto.handshake import (
    accept_confirmation,
    check_accept_confirmation,
    derive_session_keys,
)
from m2m_session.crypto.keys import KeyMaterial, zero
from m2m_session.errors import (
    CapabilityMismatchError,
    ContentBlockedError,
    CryptoError,
    DecompressionError,
    InferenceError,
    InvalidMessageError,
    KeyExchangeError,
    M2MError,
    NegotiationFailed,
    NetworkError,
    ProtocolError,
    SessionExpired,
    SessionNotEstablished,
)
from m2m_session.framing import DEFAULT_MAX_FRAME_SIZE, HEADER_SIZE, FrameDecoder
from m2m_session.messages import Accept, Close, Data, Hello, Ping, Pong, Reject, UnknownMessage
from m2m_session.negotiation import Agreement, negotiate_version, smaller_limit
from m2m_session.security.policy import ScanMode, ScanPolicy
from m2m_session.security.result import ScanResult
from m2m_session.security.scanner import Scanner

__all__ = [
    "MACHINE",
    "DataBlocked",
    "DataReceived",
    "Event",
    "Negotiated",
    "PongReceived",
    "Protocol",
    "ScanRequest",
    "Role",
    "SessionEnded",
    "SessionEstablished",
    "SessionStats",
    "State",
    "Timeouts",
    "UnknownMessageReceived",
    "state_diagram",
]

log = structlog.get_logger("m2m_session.protocol")


class Role(enum.StrEnum):
    CLIENT = "client"
    SERVER = "server"


class State(enum.StrEnum):
    """The five states of PROTOCOL.md section 6."""

    INITIAL = "INITIAL"
    HELLO_SENT = "HELLO_SENT"
    ESTABLISHED = "ESTABLISHED"
    CLOSING = "CLOSING"
    CLOSED = "CLOSED"


_INITIAL, _HELLO_SENT, _ESTABLISHED, _CLOSING, _CLOSED = (s.value for s in State)
_OPEN = [_INITIAL, _HELLO_SENT, _ESTABLISHED]

# (trigger, sources, destination), in the order of the section 6 table.
TRANSITIONS: tuple[tuple[str, list[str], str], ...] = (
    ("send_hello", [_INITIAL], _HELLO_SENT),
    ("send_accept", [_INITIAL], _ESTABLISHED),
    ("send_reject", [_INITIAL], _CLOSED),
    ("receive_accept", [_HELLO_SENT], _ESTABLISHED),
    ("receive_reject", [_HELLO_SENT], _CLOSED),
    ("close", [_ESTABLISHED], _CLOSING),
    ("abort", [_INITIAL, _HELLO_SENT], _CLOSED),
    ("receive_close", [*_OPEN, _CLOSING], _CLOSED),
    ("time_out", _OPEN, _CLOSED),
    ("fail", [*_OPEN, _CLOSING], _CLOSED),
    ("closing_done", [_CLOSING], _CLOSED),
    ("connection_lost", [*_OPEN, _CLOSING], _CLOSED),
)

MACHINE = Machine(
    model=None,
    states=[s.value for s in State],
    transitions=[
        {"trigger": trigger, "source": sources, "dest": dest}
        for trigger, sources, dest in TRANSITIONS
    ],
    initial=_INITIAL,
    auto_transitions=False,
)
_EVENTS = MACHINE.events


def state_diagram() -> str:
    """A Mermaid ``stateDiagram-v2`` read from the live machine's events."""
    lines = ["stateDiagram-v2", f"    [*] --> {MACHINE.initial}"]
    for name, event in _EVENTS.items():
        for source, transitions in event.transitions.items():
            lines.extend(f"    {source} --> {t.dest}: {name}" for t in transitions)
    lines.append(f"    {_CLOSED} --> [*]")
    return "\n".join(lines)


# --- configuration and results ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Timer settings in seconds (PROTOCOL.md section 6 defaults)."""

    handshake: float = 30.0
    session: float = 300.0
    ping_interval: float = 60.0
    ping_timeout: float = 10.0
    closing: float = 5.0
    #: Consecutive unanswered keep-alive PINGs that end the session.
    max_missed_pongs: int = 3

    def __post_init__(self) -> None:
        for name in ("handshake", "session", "ping_interval", "ping_timeout", "closing"):
            if not getattr(self, name) > 0:
                raise ValueError(f"timeout {name!r} must be positive")
        if self.max_missed_pongs < 1:
            raise ValueError("max_missed_pongs must be at least 1")


@dataclass(frozen=True, slots=True)
class Negotiated:
    """What the two ends agreed on."""

    version: str
    algorithms: tuple[str, ...]
    security_scanning: bool
    session_timeout_ms: int
    max_payload_size: int
    encoding: str | None
    ping_interval_ms: int
    ping_timeout_ms: int
    extensions: dict[str, Any] = field(default_factory=dict)
    #: How DATA is protected: ``AEAD``, ``HMAC`` or ``NONE``.
    security_mode: str = "NONE"


@dataclass(slots=True)
class SessionStats:
    """Traffic counters. Bytes are frame bytes on the wire; ``bytes_saved`` is payload bytes
    minus DATA content bytes, both directions."""

    messages_sent: int = 0
    messages_received: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    data_sent: int = 0
    data_received: int = 0
    payload_bytes_sent: int = 0
    payload_bytes_received: int = 0
    bytes_saved: int = 0
    #: Security scanning: messages scanned (both ways), threats found at or above the
    #: threshold, and messages refused on the way out or not delivered on the way in.
    scanned: int = 0
    threats_detected: int = 0
    blocked_sent: int = 0
    blocked_received: int = 0
    #: DATA messages per algorithm, as sent and as received.
    algorithms_sent: dict[str, int] = field(default_factory=dict)
    algorithms_received: dict[str, int] = field(default_factory=dict)


# --- events -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SessionEstablished:
    negotiated: Negotiated
    session_id: str


@dataclass(slots=True)  # not frozen: built once per DATA, and frozen __init__ costs more
class DataReceived:
    data: bytes | str
    algorithm: str


@dataclass(frozen=True, slots=True)
class DataBlocked:
    """A DATA the scanner refused to deliver (blocking mode); the session stays open."""

    error: ContentBlockedError


@dataclass(frozen=True, slots=True)
class ScanRequest:
    """A received DATA too large to scan inline (``ScanPolicy.thread_above``): the shell runs
    :meth:`Protocol.scan_payload` where it likes (a worker thread) and hands the result to
    :meth:`Protocol.complete_scan`, which delivers or withholds ``data``. Events after this one
    must wait for it, so that messages keep their order."""

    data: bytes | str
    raw: bytes
    algorithm: str


@dataclass(frozen=True, slots=True)
class PongReceived:
    """A PONG; ``rtt`` is measured against the oldest unanswered PING."""

    rtt: float
    requested: bool  # True when that PING came from send_ping(), not the keep-alive


@dataclass(frozen=True, slots=True)
class UnknownMessageReceived:
    type_name: str


@dataclass(frozen=True, slots=True)
class SessionEnded:
    """The session reached CLOSED. ``error`` is what local operations raise from now on.

    ``clean`` is True for an orderly end (NORMAL or a shutdown reason, either side): iteration
    over received DATA then simply stops.
    """

    reason: CloseReason | None
    message: str | None
    error: M2MError
    by_peer: bool
    clean: bool


Event = (
    SessionEstablished
    | DataReceived
    | DataBlocked
    | ScanRequest
    | PongReceived
    | UnknownMessageReceived
    | SessionEnded
)

_CLEAN = frozenset({CloseReason.NORMAL, CloseReason.CLIENT_SHUTDOWN, CloseReason.SERVER_SHUTDOWN})
Negotiator = Callable[[Hello], Agreement | Reject]


# --- the core ---------------------------------------------------------------------------------


class Protocol:
    """One session's protocol state. Create with :meth:`client` or :meth:`server`."""

    __slots__ = (
        "_algorithms",
        "_close_reason",
        "_closing_deadline",
        "_codec_options",
        "_decoders",
        "_encoders",
        "_ended",
        "_framer",
        "_handshake_deadline",
        "_hello",
        "_hello_body",
        "_keepalive_sent_at",
        "_key_pair",
        "_last_received",
        "_max_decoded",
        "_max_payload",
        "_missed_pongs",
        "_negotiator",
        "_opener",
        "_outbox",
        "_peer_agent_id",
        "_pending_pings",
        "_pinned_key",
        "_plain_ok",
        "_psk",
        "_scan_blocking",
        "_scan_policy",
        "_scan_thread_above",
        "_scanner",
        "_sealer",
        "_session_timeout",
        "_size_limit",
        "_stateful",
        "_static_key",
        "_wall_offset",
        "negotiated",
        "role",
        "scans_in_threads",
        "session_id",
        "state",
        "stats",
        "timeouts",
    )

    def __init__(
        self,
        role: Role,
        now: float,
        *,
        hello: Hello | None = None,
        negotiator: Negotiator | None = None,
        timeouts: Timeouts | None = None,
        max_frame_size: int = DEFAULT_MAX_FRAME_SIZE,
        max_decoded_size: int = MAX_DECODED_SIZE,
        wall_clock_offset: float = 0.0,
        scan_policy: ScanPolicy | None = None,
        key_pair: X25519KeyPair | None = None,
        psk: bytes | KeyMaterial | None = None,
        static_key: X25519KeyPair | None = None,
        pinned_key: bytes | None = None,
    ) -> None:
        self.role = role
        self.state: str = _INITIAL
        self.timeouts = timeouts or Timeouts()
        self.session_id: str | None = None
        self.negotiated: Negotiated | None = None
        self.stats = SessionStats()
        self._hello = hello
        self._negotiator = negotiator
        self._framer = FrameDecoder(max_frame_size)
        self._max_decoded = max_decoded_size
        self._max_payload = 0
        self._size_limit = max_decoded_size
        self._algorithms: frozenset[str] = frozenset()
        self._plain_ok = False
        self._scan_policy = scan_policy
        # DATA protection: the client's ephemeral key pair, the optional pre-shared key, and
        # the channels once keys are agreed.
        self._key_pair = key_pair
        self._psk = psk
        # A server's long-term key, and the server key a client pins (cross-organisation).
        self._static_key = static_key
        self._pinned_key = pinned_key
        self._hello_body: bytes | None = None
        self._sealer: SealingChannel | None = None
        self._opener: OpeningChannel | None = None
        self._scanner: Scanner | None = None
        self._scan_blocking = False
        self._scan_thread_above: int | None = None
        #: Whether some payloads are scanned outside the core (see :meth:`scans_in_thread`);
        #: an attribute, not a property, because ``send()`` reads it for every message.
        self.scans_in_threads = False
        self._peer_agent_id: str | None = None
        self._stateful: frozenset[str] = frozenset()
        self._codec_options = CodecOptions()
        # Coders made on first use: a stateful codec's context costs memory only when used.
        self._encoders: dict[str, Encoder] = {}
        self._decoders: dict[str, Decoder] = {}
        self._wall_offset = wall_clock_offset
        self._outbox: list[bytes] = []
        self._last_received = now
        self._session_timeout = self.timeouts.session
        # The server's HELLO wait starts with the connection; the client's with its HELLO.
        self._handshake_deadline: float | None = (
            now + self.timeouts.handshake if role is Role.SERVER else None
        )
        self._closing_deadline: float | None = None
        self._close_reason = CloseReason.NORMAL
        self._keepalive_sent_at: float | None = None
        self._missed_pongs = 0
        self._pending_pings: deque[tuple[float, bool]] = deque()
        self._ended: SessionEnded | None = None

    @classmethod
    def client(cls, hello: Hello, now: float, **options: Any) -> Protocol:
        """A client core; call :meth:`send_hello` to start the handshake."""
        return cls(Role.CLIENT, now, hello=hello, **options)

    @classmethod
    def server(cls, negotiator: Negotiator, now: float, **options: Any) -> Protocol:
        """A server core; ``negotiator(hello)`` decides each HELLO (see :mod:`negotiation`)."""
        return cls(Role.SERVER, now, negotiator=negotiator, **options)

    # --- output -------------------------------------------------------------------------------

    def data_to_send(self) -> bytes:
        """Drain the bytes the core wants written, in order."""
        outbox = self._outbox
        if not outbox:
            return b""
        data = outbox[0] if len(outbox) == 1 else b"".join(outbox)
        outbox.clear()
        return data

    @property
    def hello_to_send(self) -> bool:
        """True for a client that has not sent its HELLO yet."""
        return self.role is Role.CLIENT and self.state == _INITIAL

    @property
    def ended(self) -> SessionEnded | None:
        """The terminal event once the session is CLOSED."""
        return self._ended

    # --- API calls ----------------------------------------------------------------------------

    def send_hello(self, now: float) -> None:
        """Client: queue HELLO and start the handshake wait."""
        if self.role is not Role.CLIENT or self._hello is None:
            raise ProtocolError("only a client sends HELLO")
        self._trigger("send_hello")
        frame = messages.encode(self._hello, None, self._timestamp(now))
        self._hello_body = frame[HEADER_SIZE:]  # the key schedule is salted with these bytes
        self._queue_frame(frame)
        self._handshake_deadline = now + self.timeouts.handshake

    def send_data(
        self,
        data: bytes | bytearray | memoryview | str,
        now: float,
        algorithm: str | None = None,
        *,
        scanned: ScanResult | None = None,
    ) -> None:
        """Queue one DATA; raises when the session is not ESTABLISHED or the data can't go.

        ``scanned``: the scan of ``data`` made outside the core (:meth:`scans_in_thread`);
        without it a scanning session scans here."""
        if self.state != _ESTABLISHED or now >= self._last_received + self._session_timeout:
            self._check_open(now)  # raises
        if type(data) is str:
            raw = data.encode("utf-8")
            text = True
        elif isinstance(data, (bytes, bytearray, memoryview)):
            raw = bytes(data)
            text = False
        else:
            raise TypeError(f"send() takes bytes or str, not {type(data).__name__}")
        size = len(raw)
        if size > self._size_limit:
            self._check_size(size, "payload")  # raises
        if self._scanner is None:
            status = None
        else:
            if scanned is None:
                scanned = self._scanner.scan(data if type(data) is str else raw)
            status = self._judge_outgoing(scanned)
        if algorithm is None:
            # The common small message is decided here, without a call.
            algorithm = _NONE if size < _TINY and self._plain_ok else _choose(raw, self._algorithms)
        elif algorithm not in self._algorithms:
            raise CapabilityMismatchError(
                f"algorithm {algorithm!r} was not negotiated; this session uses "
                f"{', '.join(self.negotiated.algorithms if self.negotiated else ())}"
            )
        if algorithm == _NONE:
            content = raw
        else:
            content = self._encoder(algorithm).encode(raw)
            # A stateless codec that did not shrink the payload gives way to NONE; a stateful
            # one cannot, its context already holds the payload.
            if len(content) >= size and self._plain_ok and algorithm not in self._stateful:
                algorithm, content = _NONE, raw
        saved = size - len(content)
        if self._sealer is not None:
            content = self._sealer.seal(content)  # after compression; advances the counter
        frame = messages.encode_data(
            self.session_id or "", self._timestamp(now), algorithm, content, size, text, status
        )
        frame_size = len(frame)
        if frame_size - HEADER_SIZE > self._framer.max_frame_size:
            error = ProtocolError(
                f"a DATA frame of {frame_size - HEADER_SIZE} bytes exceeds the "
                f"{self._framer.max_frame_size}-byte frame limit"
            )
            if algorithm in self._stateful or self._sealer is not None:
                self._fail(error, now, [])  # the peer's context can no longer follow ours
            raise error
        self._outbox.append(frame)
        stats = self.stats
        stats.messages_sent += 1
        stats.bytes_sent += frame_size
        stats.data_sent += 1
        stats.algorithms_sent[algorithm] = stats.algorithms_sent.get(algorithm, 0) + 1
        stats.payload_bytes_sent += size
        stats.bytes_saved += saved

    def send_ping(self, now: float) -> None:
        """Queue a PING whose PONG is reported with ``requested=True``."""
        self._check_open(now)
        self._ping(now, requested=True)

    def _check_open(self, now: float) -> None:
        """Raise unless ESTABLISHED; an idle time already run out ends the session first
        (the TIMEOUT ending is then in :attr:`ended`)."""
        if self.state != _ESTABLISHED:
            raise self.not_established()
        if now >= self._last_received + self._session_timeout:
            self._expire(now, "idle timeout")
            raise self.not_established()

    def close(
        self, now: float, reason: CloseReason = CloseReason.NORMAL, message: str | None = None
    ) -> list[Event]:
        """Close locally: CLOSE then CLOSING when established, straight to CLOSED before.

        Closing an ending or ended session does nothing.
        """
        reason = CloseReason(reason)
        if self.state == _ESTABLISHED:
            self._trigger("close")
            self._close_reason = reason
            self._queue(Close(reason, message), now)
            self._closing_deadline = now + self.timeouts.closing
            return []
        if self.state in (_INITIAL, _HELLO_SENT):
            if self.state == _HELLO_SENT or self.role is Role.SERVER:
                self._queue(Close(reason, message), now)
            self._trigger("abort")
            error = SessionNotEstablished(f"session closed locally ({reason.value})")
            return [self._end(reason, message, error, by_peer=False)]
        return []

    def connection_lost(self, now: float, exc: BaseException | None = None) -> list[Event]:
        """The transport is gone: CLOSED from any state."""
        if self.state == _CLOSED:
            return []
        was = self.state
        self._trigger("connection_lost")
        if was == _CLOSING:
            error = SessionNotEstablished("session closed")
            return [self._end(self._close_reason, None, error, by_peer=False)]
        detail = f": {exc}" if exc else ""
        network = NetworkError(f"connection lost in {was}{detail}")
        if exc is not None:
            network.__cause__ = exc
        return [self._end(None, None, network, by_peer=True, clean=False)]

    # --- timers -------------------------------------------------------------------------------

    def next_deadline(self) -> float | None:
        """When :meth:`handle_timeout` next has work, or None."""
        state = self.state
        if state == _ESTABLISHED:
            idle = self._last_received + self._session_timeout
            if self._keepalive_sent_at is None:
                keepalive = self._last_received + self.timeouts.ping_interval
            else:
                keepalive = self._keepalive_sent_at + self.timeouts.ping_timeout
            return min(idle, keepalive)
        if state in (_INITIAL, _HELLO_SENT):
            return self._handshake_deadline
        if state == _CLOSING:
            return self._closing_deadline
        return None

    def handle_timeout(self, now: float) -> list[Event]:
        """Act on every deadline that has passed by ``now``."""
        state = self.state
        if state == _ESTABLISHED:
            if now >= self._last_received + self._session_timeout:
                return self._expire(now, "idle timeout")
            if self._keepalive_sent_at is None:
                if now >= self._last_received + self.timeouts.ping_interval:
                    self._ping(now, requested=False)
            elif now >= self._keepalive_sent_at + self.timeouts.ping_timeout:
                self._missed_pongs += 1
                if self._missed_pongs >= self.timeouts.max_missed_pongs:
                    return self._expire(now, f"{self._missed_pongs} PINGs went unanswered")
                self._ping(now, requested=False)
        elif state in (_INITIAL, _HELLO_SENT):
            if self._handshake_deadline is not None and now >= self._handshake_deadline:
                return self._expire(now, "handshake timeout")
        elif (
            state == _CLOSING
            and self._closing_deadline is not None
            and now >= self._closing_deadline
        ):
            self._trigger("closing_done")
            error = SessionNotEstablished("session closed")
            return [self._end(self._close_reason, None, error, by_peer=False)]
        return []

    # --- input --------------------------------------------------------------------------------

    def receive_data(self, data: bytes | bytearray | memoryview, now: float) -> list[Event]:
        """Feed received bytes; return the events they complete, in order."""
        if self.state == _CLOSED:
            return []
        events: list[Event] = []
        try:
            bodies = self._framer.feed(data)
        except ProtocolError as error:
            # Frames completed before the bad header still count, in order.
            self._fail(error, now, events)
            return events
        if bodies:
            self._receive_frames(bodies, now, events)
        frame_error = self._framer.error
        if frame_error is not None:
            self._fail(frame_error, now, events)
        return events

    def _receive_frames(self, bodies: list[memoryview], now: float, events: list[Event]) -> None:
        self._last_received = now
        stats = self.stats
        for body in bodies:
            if self.state == _CLOSED:
                break
            stats.messages_received += 1
            stats.bytes_received += len(body) + 4
            try:
                try:
                    raw = _unpackb(body, raw=False, strict_map_key=True)
                except Exception:
                    raw = _unpack(body)  # raises the InvalidMessageError that explains it
                # DATA in ESTABLISHED with a well-formed envelope, the per-message case, goes
                # straight to _on_data; anything else takes the full validation path.
                if (
                    self.state == _ESTABLISHED
                    and type(raw) is dict
                    and raw.get("type") == "DATA"
                    and raw.get("session_id") == self.session_id
                    and type(raw.get("timestamp")) is int
                    and type(payload := raw.get("payload")) is dict
                ):
                    self._on_data(*_data_fields(payload), events)
                else:
                    self._dispatch(_decode_unpacked(raw), body, now, events)
            except M2MError as error:
                self._fail(error, now, events)
                break

    def _dispatch(
        self, envelope: messages.Envelope, body: memoryview, now: float, events: list[Event]
    ) -> None:
        message = envelope.message
        state = self.state
        if state in (_ESTABLISHED, _CLOSING):
            if envelope.session_id != self.session_id:
                raise ProtocolError(f"message for a foreign session id {envelope.session_id!r}")
            # The per-message cases first, decided without the state machine.
            if isinstance(message, Data):  # DATA while CLOSING
                self._on_data(
                    message.algorithm,
                    message.content,
                    message.original_size,
                    message.text,
                    message.security_status,
                    events,
                )
                return
            if isinstance(message, Ping):
                if state == _ESTABLISHED:
                    self._queue(_PONG, now)
                return
            if isinstance(message, Pong):
                self._on_pong(now, events)
                return
        if isinstance(message, Close):
            self._on_close(message, events)
        elif isinstance(message, UnknownMessage):
            log.warning("unknown_message_type", type=message.type_name)
            events.append(UnknownMessageReceived(message.type_name))
        elif isinstance(message, Hello) and self.role is Role.SERVER and state == _INITIAL:
            if envelope.session_id is not None:
                problem = "HELLO must carry a nil session_id"
                message = replace(message, problems=(*message.problems, problem))
            self._on_hello(message, bytes(body), now, events)
        elif isinstance(message, Accept) and self.role is Role.CLIENT:
            self._on_accept(message, envelope.session_id, bytes(body), events)
        elif isinstance(message, Reject) and self.role is Role.CLIENT:
            self._on_reject(message, events)
        else:
            raise ProtocolError(
                f"{message.type.value} is not allowed for a {self.role.value} in {state}"
            )

    def _on_hello(self, hello: Hello, hello_body: bytes, now: float, events: list[Event]) -> None:
        assert self._negotiator is not None
        self._peer_agent_id = hello.agent_id
        decision = self._negotiator(hello)
        if isinstance(decision, Agreement):
            self.session_id = decision.session_id
            try:
                accept, accept_frame = self._secure(decision, hello, hello_body, now)
            except CryptoError as exc:
                decision = Reject(RejectCode.UNKNOWN, f"unusable key_share: {exc.message}")
        if isinstance(decision, Reject):
            self.session_id = None
            self._queue(decision, now)
            self._trigger("send_reject")
            error = NegotiationFailed(decision.code, decision.message)
            events.append(self._end(None, decision.message, error, by_peer=False, clean=False))
            return
        self._queue_frame(accept_frame)
        self._trigger("send_accept")
        events.append(self._establish(accept, decision.session_id))

    def _secure(
        self, decision: Agreement, hello: Hello, hello_body: bytes, now: float
    ) -> tuple[Accept, bytes]:
        """Server: the ACCEPT to send and its frame, with the key exchange, the key
        confirmation and the channels when the session protects DATA (docs/protocol.md §9)."""
        accept = decision.accept
        if accept.security_mode == _NO_PROTECTION:
            return accept, messages.encode(accept, decision.session_id, self._timestamp(now))
        assert hello.key_share is not None  # HELLO validation guarantees it
        key_pair = X25519KeyPair.generate()
        static_public = self._static_key.public_bytes() if self._static_key else None
        static = None if self._static_key is None else (self._static_key, hello.key_share)
        secret = self._shared_secret(key_pair, hello.key_share, static)
        try:
            confirmation = accept_confirmation(
                shared_secret=secret,
                hello_bytes=hello_body,
                security_mode=accept.security_mode,
                key_share=key_pair.public_bytes(),
                static_key=static_public,
                session_id=decision.session_id,
                psk=self._psk,
            )
            accept = replace(
                accept,
                key_share=key_pair.public_bytes(),
                static_key=static_public,
                key_confirmation=confirmation,
            )
            frame = messages.encode(accept, decision.session_id, self._timestamp(now))
            self._open_channels(secret, hello_body, frame[HEADER_SIZE:], "server", accept)
        finally:
            zero(secret)
        return accept, frame

    def _on_accept(
        self, accept: Accept, session_id: str | None, accept_body: bytes, events: list[Event]
    ) -> None:
        assert self._hello is not None
        if self.state != _HELLO_SENT:
            raise ProtocolError(f"ACCEPT is not allowed in {self.state}")
        if not session_id:
            raise InvalidMessageError("ACCEPT carries no session_id")
        # The server holds the session established from now: a CLOSE ERROR for a refused
        # ACCEPT must carry its id.
        self.session_id = session_id
        if negotiate_version(accept.version, self._hello.version or "") != accept.version:
            raise CapabilityMismatchError(f"server chose version {accept.version!r}")
        offered = set(self._hello.algorithms)
        foreign = [name for name in accept.algorithms if name not in offered]
        if foreign:
            raise CapabilityMismatchError(f"server chose algorithms not offered: {foreign}")
        if accept.security_scanning is False and self._hello.security_scanning:
            log.info("scanning_declined_by_server")
        offered_modes = self._hello.security_modes or (_NO_PROTECTION,)
        if accept.security_mode not in offered_modes:
            raise CapabilityMismatchError(
                f"server chose security mode {accept.security_mode!r}, not offered"
            )
        self.session_id = session_id
        if accept.security_mode != _NO_PROTECTION:
            if accept.key_share is None or self._key_pair is None:
                raise InvalidMessageError("ACCEPT of a protected session lacks 'key_share'")
            assert self._hello_body is not None
            static = self._check_static_key(accept.static_key)
            secret = self._shared_secret(self._key_pair, accept.key_share, static)
            try:
                # Before any DATA: a rewritten HELLO or ACCEPT, or a different PSK, stops here.
                expected = accept_confirmation(
                    shared_secret=secret,
                    hello_bytes=self._hello_body,
                    security_mode=accept.security_mode,
                    key_share=accept.key_share,
                    static_key=accept.static_key,
                    session_id=session_id,
                    psk=self._psk,
                )
                check_accept_confirmation(accept.key_confirmation, expected)
                self._open_channels(secret, self._hello_body, accept_body, "client", accept)
            finally:
                zero(secret)
        self._trigger("receive_accept")
        events.append(self._establish(accept, session_id))

    def _check_static_key(self, offered: bytes | None) -> tuple[X25519KeyPair, bytes] | None:
        """Client: the static key to mix in, after checking it against the pinned one."""
        pinned = self._pinned_key
        if pinned is not None and (offered is None or not hmac.compare_digest(offered, pinned)):
            raise KeyExchangeError(
                KeyExchangeError.Case.INVALID_PUBLIC_KEY,
                "the server's static key is not the pinned one",
            )
        if offered is None:
            return None
        assert self._key_pair is not None
        return (self._key_pair, offered)

    @staticmethod
    def _shared_secret(
        key_pair: X25519KeyPair, peer_share: bytes, static: tuple[X25519KeyPair, bytes] | None
    ) -> bytearray:
        """The X25519 secret, followed by the static one when a static key takes part, in a
        buffer the caller zeroes.

        ``static`` (a key pair and the peer's public key) adds the server's long-term key: the
        client's ephemeral key with the server's static one, so only the holder of the pinned
        static key can derive the keys.
        """
        with key_pair.agree(peer_share) as shared:
            secret = bytearray(shared.buffer())
        if static is not None:
            with static[0].agree(static[1]) as static_shared:
                secret += static_shared.buffer()
        return secret

    def _open_channels(
        self,
        secret: bytearray,
        hello_body: bytes,
        accept_body: bytes,
        role: Literal["client", "server"],
        accept: Accept,
    ) -> None:
        """Derive this session's keys and set up the DATA sealing, one channel per direction."""
        assert self.session_id is not None
        keys = derive_session_keys(
            shared_secret=KeyMaterial(secret),
            hello_bytes=hello_body,
            accept_bytes=accept_body,
            role=role,
            psk=self._psk,
        )
        self._sealer = SealingChannel(keys.send, accept.security_mode, self.session_id)
        self._opener = OpeningChannel(keys.receive, accept.security_mode, self.session_id)
        keys.wipe()

    def _on_reject(self, reject: Reject, events: list[Event]) -> None:
        self._trigger("receive_reject")  # outside HELLO_SENT: a ProtocolError
        error = NegotiationFailed(reject.code, reject.message)
        events.append(self._end(None, reject.message, error, by_peer=True, clean=False))

    def _establish(self, accept: Accept, session_id: str) -> SessionEstablished:
        # Both ends apply the ACCEPT's idle timeout; a client also holds a non-compliant server
        # to the limit it asked for.
        self._session_timeout = accept.session_timeout_ms / 1000
        hello_limit = self._hello.max_payload_size if self._hello else 0
        self._max_payload = smaller_limit(accept.max_payload_size, hello_limit)
        self._size_limit = smaller_limit(self._max_decoded, self._max_payload)
        self._algorithms = frozenset(accept.algorithms)
        self._plain_ok = _NONE in self._algorithms
        self._stateful = frozenset(
            name for name in accept.algorithms if name in _REGISTERED and get_codec(name).stateful
        )
        self._codec_options = CodecOptions(encoding=accept.encoding or DEFAULT_ENCODING)
        # Scanning: this end's policy, at least MONITOR when the session promised scanning.
        policy = self._scan_policy
        if policy is None and accept.security_scanning:
            policy = _monitor_policy()
        if policy is not None and policy.mode_for(self._peer_agent_id) is not ScanMode.DISABLED:
            self._scanner = policy.scanner
            self._scan_blocking = policy.mode_for(self._peer_agent_id) is ScanMode.BLOCKING
            self._scan_thread_above = policy.thread_above
            self.scans_in_threads = policy.thread_above is not None
        self._handshake_deadline = None
        self.negotiated = Negotiated(
            version=accept.version,
            algorithms=accept.algorithms,
            security_scanning=accept.security_scanning,
            session_timeout_ms=accept.session_timeout_ms,
            max_payload_size=accept.max_payload_size,
            encoding=accept.encoding,
            ping_interval_ms=round(self.timeouts.ping_interval * 1000),
            ping_timeout_ms=round(self.timeouts.ping_timeout * 1000),
            extensions=accept.extensions,
            security_mode=accept.security_mode,
        )
        return SessionEstablished(self.negotiated, session_id)

    def _on_data(
        self,
        algorithm: str,
        content: bytes,
        size: int,
        text: bool,
        security_status: dict[str, Any] | None,
        events: list[Event],
    ) -> None:
        if self._opener is not None:
            content = self._opener.open(content)  # authenticate before anything else
        if algorithm not in self._algorithms:
            raise CapabilityMismatchError(f"DATA uses algorithm {algorithm!r}, not negotiated")
        if size > self._size_limit:
            self._check_size(size, "DATA")  # raises
        # The declared size bounds the decoder: a bomb stops one byte past it.
        raw = content if algorithm == _NONE else self._decoder(algorithm).decode(content, size)
        if len(raw) != size:
            raise DecompressionError(
                f"DATA decoded to {len(raw)} bytes but declares original_size {size}"
            )
        stats = self.stats
        stats.data_received += 1
        stats.algorithms_received[algorithm] = stats.algorithms_received.get(algorithm, 0) + 1
        stats.payload_bytes_received += size
        stats.bytes_saved += size - len(content)
        if self.state != _ESTABLISHED:
            return  # CLOSING: the application has stopped reading
        data: bytes | str = raw
        if text:
            try:
                data = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InvalidMessageError("DATA marked text is not valid UTF-8") from exc
        if self._scanner is not None:
            if self.scans_in_thread(size):
                events.append(ScanRequest(data, raw, algorithm))
                return
            if self._withheld(self._scanner.scan(raw), events):
                return
        events.append(DataReceived(data, algorithm))

    def _on_pong(self, now: float, events: list[Event]) -> None:
        self._missed_pongs = 0
        self._keepalive_sent_at = None
        if self._pending_pings:
            sent_at, requested = self._pending_pings.popleft()
            events.append(PongReceived(now - sent_at, requested))

    def _on_close(self, close: Close, events: list[Event]) -> None:
        self._trigger("receive_close")
        reason = close.reason
        error: M2MError
        if reason is CloseReason.TIMEOUT:
            error = SessionExpired(f"the peer closed the session: TIMEOUT{_suffix(close.message)}")
        elif reason is CloseReason.ERROR:
            error = ProtocolError(f"the peer closed the session: ERROR{_suffix(close.message)}")
        else:
            error = SessionNotEstablished(f"the peer closed the session ({reason.value})")
        events.append(self._end(reason, close.message, error, by_peer=True, clean=reason in _CLEAN))

    # --- helpers ------------------------------------------------------------------------------

    def _trigger(self, name: str) -> None:
        try:
            _EVENTS[name].trigger(self)
        except MachineError as exc:
            raise ProtocolError(f"'{name}' is not allowed in state {self.state}") from exc

    def _queue(self, message: messages.Message, now: float) -> None:
        session_id = None if isinstance(message, (Hello, Reject)) else self.session_id
        self._queue_frame(messages.encode(message, session_id, self._timestamp(now)))

    def _queue_frame(self, frame: bytes) -> None:
        """Queue an encoded control frame and count it."""
        self._outbox.append(frame)
        self.stats.messages_sent += 1
        self.stats.bytes_sent += len(frame)

    def _timestamp(self, now: float) -> int:
        return int((now + self._wall_offset) * 1000)

    def _ping(self, now: float, *, requested: bool) -> None:
        self._queue(_PING, now)
        self._pending_pings.append((now, requested))
        if not requested:
            self._keepalive_sent_at = now

    def _judge_outgoing(self, result: ScanResult) -> dict[str, Any]:
        """Count and log the scan of a payload about to be sent: its DATA
        ``security_status``, or ``SecurityThreatError`` in blocking mode (nothing is queued)."""
        stats = self.stats
        stats.scanned += 1
        if not result.safe:
            stats.threats_detected += 1
            if self._scan_blocking:
                stats.blocked_sent += 1
            log.warning(
                "threat_detected",
                direction="out",
                session_id=self.session_id,
                threat_type=str(result.threat_type),
                confidence=round(result.confidence, 3),
                blocked=self._scan_blocking,
            )
            if self._scan_blocking:
                raise result.to_error()
        return {
            "scanned": True,
            "safe": result.safe,
            "threat_type": str(result.threat_type) if result.threat_type else None,
            "confidence": round(result.confidence, 4),
        }

    def scans_in_thread(self, size: int) -> bool:
        """Whether a payload of ``size`` bytes is scanned outside the core (see
        :class:`ScanRequest`; on the way out, :meth:`send_data` takes the result)."""
        limit = self._scan_thread_above
        return limit is not None and size > limit and self._scanner is not None

    def scan_payload(self, payload: bytes | str) -> ScanResult:
        """Scan ``payload`` with this session's scanner; touches no session state, so it may
        run in another thread."""
        if self._scanner is None:
            raise ProtocolError("this session does not scan")
        return self._scanner.scan(payload)

    def complete_scan(
        self, request: ScanRequest, result: ScanResult | Exception, now: float
    ) -> list[Event]:
        """Deliver or withhold the DATA of ``request`` by ``result`` (a scanner that failed:
        its exception, which ends the session ERROR as it would inline)."""
        # Delivered even if the session ended since: the DATA arrived while it was open, and
        # inline it would have been delivered before the end too.
        events: list[Event] = []
        if isinstance(result, M2MError):
            self._fail(result, now, events)
        elif isinstance(result, Exception):
            error = InferenceError(f"the scanner failed: {type(result).__name__}: {result}")
            error.__cause__ = result
            self._fail(error, now, events)
        elif not self._withheld(result, events):
            events.append(DataReceived(request.data, request.algorithm))
        return events

    def _withheld(self, result: ScanResult, events: list[Event]) -> bool:
        """Count and log the scan of a received payload, whatever the peer's
        ``security_status`` said; True when blocking mode withholds it (a
        :class:`DataBlocked` event takes its place)."""
        stats = self.stats
        stats.scanned += 1
        if result.safe:
            return False
        stats.threats_detected += 1
        log.warning(
            "threat_detected",
            direction="in",
            session_id=self.session_id,
            peer_agent_id=self._peer_agent_id,
            threat_type=str(result.threat_type),
            confidence=round(result.confidence, 3),
            blocked=self._scan_blocking,
        )
        if not self._scan_blocking:
            return False
        stats.blocked_received += 1
        error = ContentBlockedError(
            f"a received message was withheld: {result.threat_type}",
            details={"threat_type": str(result.threat_type), "confidence": result.confidence},
        )
        events.append(DataBlocked(error))
        return True

    def _encoder(self, algorithm: str) -> Encoder:
        """This session's encoder for ``algorithm``, made on first use."""
        encoder = self._encoders.get(algorithm)
        if encoder is None:
            encoder = get_codec(algorithm).new_encoder(self._codec_options)
            self._encoders[algorithm] = encoder
        return encoder

    def _decoder(self, algorithm: str) -> Decoder:
        """This session's decoder for ``algorithm``, made on first use."""
        decoder = self._decoders.get(algorithm)
        if decoder is None:
            decoder = get_codec(algorithm).new_decoder(self._codec_options)
            self._decoders[algorithm] = decoder
        return decoder

    def _check_size(self, size: int, what: str) -> None:
        """Raise for a payload over the content cap or the negotiated max_payload_size."""
        if size > self._max_decoded:
            error = DecompressionError if what == "DATA" else ProtocolError
            raise error(f"{what} of {size} bytes exceeds the {self._max_decoded}-byte content cap")
        if self._max_payload and size > self._max_payload:
            raise ProtocolError(
                f"{what} of {size} bytes exceeds the negotiated max_payload_size "
                f"{self._max_payload}"
            )

    def _expire(self, now: float, why: str) -> list[Event]:
        """End the session with TIMEOUT, telling the peer."""
        self._queue(Close(CloseReason.TIMEOUT, why), now)
        handshake = self.state != _ESTABLISHED
        self._trigger("time_out")
        error: M2MError
        if handshake and self.role is Role.CLIENT:
            error = NetworkError(f"no answer to HELLO within {self.timeouts.handshake:g} s")
        else:
            error = SessionExpired(why)
        return [self._end(CloseReason.TIMEOUT, why, error, by_peer=False, clean=False)]

    def _fail(self, error: M2MError, now: float, events: list[Event]) -> None:
        """A protocol violation: CLOSE ERROR (unless already closing), then CLOSED."""
        if self.state == _CLOSED:
            return
        log.warning(
            "protocol_violation",
            session_id=self.session_id,
            state=self.state,
            error=type(error).__name__,
            detail=error.message,
        )
        if self.state != _CLOSING:
            self._queue(Close(CloseReason.ERROR, error.message or str(error)), now)
        self._trigger("fail")
        events.append(
            self._end(CloseReason.ERROR, error.message, error, by_peer=False, clean=False)
        )

    def _end(
        self,
        reason: CloseReason | None,
        message: str | None,
        error: M2MError,
        *,
        by_peer: bool,
        clean: bool | None = None,
    ) -> SessionEnded:
        if clean is None:
            clean = reason in _CLEAN
        self._ended = SessionEnded(reason, message, error, by_peer, clean)
        self._pending_pings.clear()
        return self._ended

    def not_established(self) -> M2MError:
        """The error a local operation raises outside ESTABLISHED (section 6): SessionExpired
        after a TIMEOUT, SessionNotEstablished otherwise, chained to what ended the session."""
        ended = self._ended
        if ended is None:
            return SessionNotEstablished(f"the session is {self.state}")
        cause = ended.error
        error: M2MError
        if isinstance(cause, SessionExpired):
            error = SessionExpired(cause.message)
        else:
            error = SessionNotEstablished(f"the session has ended ({ended.reason or cause})")
        error.__cause__ = cause
        return error


_NO_PROTECTION = "NONE"
_TINY = select.TINY
_choose = select.choose
_REGISTERED = frozenset(Algorithm)
_NONE = Algorithm.NONE.value
_unpack = messages.unpack
_unpackb = msgpack.unpackb
_data_fields = messages.data_fields
_decode_unpacked = messages.decode_unpacked
_PING = Ping()
_PONG = Pong()


@functools.cache
def _monitor_policy() -> ScanPolicy:
    """The policy of a session that promised scanning but configured none; built on first
    need, since compiling the rules costs more than a scan."""
    return ScanPolicy(ScanMode.MONITOR)


def _suffix(message: str | None) -> str:
    return f": {message}" if message else ""
