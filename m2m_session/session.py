"""The asyncio shell around one :class:`~m2m_session.protocol.Protocol`: a :class:`Session`.

The session moves bytes between a transport and the sans-I/O core, runs the one timer the core
asks for, and turns core events into awaitable results. It is an ``asyncio.Protocol`` so any
transport works: plain TCP, TLS (pass ``ssl``), or anything else that speaks the transport API.
"""

from __future__ import annotations

import asyncio
import time
import typing
from collections import deque
from collections.abc import AsyncIterator, Iterable
from dataclasses import replace
from types import TracebackType
from typing import Any, Self

import structlog

from m2m_session.codecs import normalize_algorithms
from m2m_session.codecs.token_native import available_encodings
from m2m_session.codes import CloseReason
from m2m_session.crypto.exchange import X25519KeyPair
from m2m_session.crypto.handshake import SecurityMode, parse_modes
from m2m_session.crypto.keys import KeyMaterial
from m2m_session.errors import (
    ConfigError,
    ContentBlockedError,
    M2MError,
    NetworkError,
    SessionNotEstablished,
)
from m2m_session.framing import DEFAULT_MAX_FRAME_SIZE
from m2m_session.messages import PROTOCOL_VERSION, Hello, is_valid_agent_id
from m2m_session.protocol import (
    DataBlocked,
    DataReceived,
    Event,
    Negotiated,
    PongReceived,
    Protocol,
    ScanRequest,
    SessionEnded,
    SessionEstablished,
    SessionStats,
    State,
    Timeouts,
)
from m2m_session.security.policy import ScanPolicy
from m2m_session.security.result import ScanResult

__all__ = ["DEFAULT_MAX_QUEUE", "Session", "SessionOwner", "connect"]

log = structlog.get_logger("m2m_session.session")

_ESTABLISHED = State.ESTABLISHED.value

#: Received messages buffered before the session stops reading the socket.
DEFAULT_MAX_QUEUE = 256


class SessionOwner(typing.Protocol):
    """What a server learns from the sessions it accepted."""

    def _session_connected(self, session: Session) -> None: ...
    def _session_established(self, session: Session) -> None: ...
    def _session_closed(self, session: Session) -> None: ...


class Session(asyncio.Protocol):
    """One M2M session. Get one from :meth:`connect`, or as a server handler's argument.

    ``send``/``recv``/``ping``/``close`` are the API; ``connection_made``, ``data_received`` and
    the other ``asyncio.Protocol`` methods are transport plumbing, not for callers.
    """

    __slots__ = (
        "_backlog",
        "_closed_waiter",
        "_core",
        "_drain_waiter",
        "_ended",
        "_established_waiter",
        "_inbox",
        "_loop",
        "_max_queue",
        "_owner",
        "_paused_reading",
        "_paused_writing",
        "_peer",
        "_ping_waiters",
        "_recv_waiters",
        "_scan_task",
        "_send_lock",
        "_timer",
        "_timer_at",
        "_transport",
        "hello",
    )

    def __init__(
        self,
        core: Protocol,
        *,
        max_queue: int = DEFAULT_MAX_QUEUE,
        hello: Hello | None = None,
        owner: SessionOwner | None = None,
    ) -> None:
        self._core = core
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._peer: str | None = None
        # Received messages, or the ContentBlockedError that stands in for a withheld one.
        self._inbox: deque[bytes | str | ContentBlockedError] = deque()
        self._max_queue = max_queue
        self._recv_waiters: list[asyncio.Future[None]] = []
        self._drain_waiter: asyncio.Future[None] | None = None
        self._established_waiter: asyncio.Future[None] | None = None
        self._closed_waiter: asyncio.Future[None] | None = None
        self._ping_waiters: deque[asyncio.Future[float]] | None = None
        self._paused_reading = False
        self._paused_writing = False
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        self._ended: SessionEnded | None = None
        self._owner = owner
        # While a received DATA is scanned in a worker thread, the events after it wait here
        # (None: no scan running), and reading pauses.
        self._backlog: deque[Event] | None = None
        self._scan_task: asyncio.Task[None] | None = None
        # Held by a send() scanning in a worker thread; later sends queue behind it in order.
        self._send_lock = asyncio.Lock()
        #: The HELLO of this session: ours on a client, the peer's on a server.
        self.hello = hello

    # --- opening ------------------------------------------------------------------------------

    @classmethod
    async def connect(
        cls,
        host: str,
        port: int,
        *,
        ssl: Any = None,
        algorithms: Iterable[str] | str | None = None,
        handshake_timeout: float = 30.0,
        ping_interval_ms: int = 60_000,
        ping_timeout_ms: int = 10_000,
        closing_timeout: float = 5.0,
        security_scanning: bool = False,
        scan: ScanPolicy | None = None,
        encrypt: bool | Iterable[str] = False,
        psk: bytes | KeyMaterial | None = None,
        pinned_key: bytes | None = None,
        max_payload_size: int = 0,
        agent_id: str | None = None,
        encodings: Iterable[str] | None = None,
        preferred_encoding: str | None = None,
        extensions: dict[str, Any] | None = None,
        max_frame_size: int = DEFAULT_MAX_FRAME_SIZE,
        max_queue: int = DEFAULT_MAX_QUEUE,
        server_hostname: str | None = None,
    ) -> Session:
        """Open a TCP (or TLS) connection, negotiate, and return an ESTABLISHED session.

        ``algorithms`` lists names (strings or :class:`~m2m_session.Algorithm`) in preference
        order. ``security_scanning`` asks the server to scan; ``scan`` is this end's own
        scanning policy (see :class:`~m2m_session.security.ScanPolicy`). ``encrypt`` protects
        DATA: ``True`` requires ``AEAD``, or give modes (``"AEAD"``, ``"HMAC"``) in preference
        order; ``psk`` mixes a pre-shared key (32+ bytes) into the session keys;
        ``pinned_key`` is the server's static X25519 public key (32 bytes): the session is
        refused unless the server proves it holds that key (implies ``encrypt=True``). Raises
        ``NegotiationFailed`` on REJECT (``.code`` says why), ``NetworkError`` when the
        connection fails or no answer comes within ``handshake_timeout`` seconds, and
        ``ConfigError`` for invalid arguments.
        """
        if pinned_key is not None:
            if len(pinned_key) != 32:
                raise ConfigError("pinned_key must be a 32-byte X25519 public key")
            encrypt = encrypt or True
        security_modes = _security_modes(encrypt)
        key_pair = X25519KeyPair.generate() if security_modes else None
        if psk is not None and not isinstance(psk, KeyMaterial):
            psk = KeyMaterial(psk)  # refuses empty and short keys now, not mid-handshake
        hello = Hello(
            version=PROTOCOL_VERSION,
            algorithms=normalize_algorithms(algorithms),
            encodings=available_encodings() if encodings is None else tuple(encodings),
            preferred_encoding=preferred_encoding,
            security_scanning=security_scanning,
            max_payload_size=_non_negative("max_payload_size", max_payload_size),
            agent_id=_checked_agent_id(agent_id),
            extensions=dict(extensions or {}),
            security_modes=security_modes,
            key_share=key_pair.public_bytes() if key_pair is not None else None,
        )
        timeouts = make_timeouts(
            handshake=handshake_timeout,
            ping_interval_ms=ping_interval_ms,
            ping_timeout_ms=ping_timeout_ms,
            closing=closing_timeout,
        )
        loop = asyncio.get_running_loop()
        # One budget covers connecting (and TLS) and the HELLO exchange.
        deadline = loop.time() + handshake_timeout

        def factory() -> Session:
            remaining = max(deadline - loop.time(), 0.001)
            core = Protocol.client(
                hello,
                loop.time(),
                timeouts=replace(timeouts, handshake=remaining),
                scan_policy=scan,
                key_pair=key_pair,
                psk=psk,
                pinned_key=pinned_key,
                max_frame_size=max_frame_size,
                wall_clock_offset=time.time() - loop.time(),
            )
            return cls(core, max_queue=max_queue, hello=hello)

        try:
            async with asyncio.timeout(handshake_timeout):
                _, session = await loop.create_connection(
                    factory, host, port, ssl=ssl, server_hostname=server_hostname
                )
        except TimeoutError:
            raise NetworkError(
                f"could not connect to {host}:{port} within {handshake_timeout:g} s"
            ) from None
        except OSError as exc:
            raise NetworkError(f"could not connect to {host}:{port}: {exc}") from exc
        try:
            await session._wait_established()
        except NetworkError as exc:
            if session.close_reason is CloseReason.TIMEOUT:
                raise NetworkError(
                    f"no answer from {host}:{port} within {handshake_timeout:g} s"
                ) from None
            raise exc from exc.__cause__
        return session

    async def _wait_established(self) -> None:
        if self._core.state == State.ESTABLISHED:
            return
        if self._ended is None:
            self._established_waiter = self._loop.create_future()
            try:
                await self._established_waiter
            except asyncio.CancelledError:
                self._abort(CloseReason.CLIENT_SHUTDOWN)
                raise
            finally:
                self._established_waiter = None
        # Established and already ended (ACCEPT, DATA and CLOSE in one read) still succeeds:
        # the DATA waits in the inbox.
        if self._ended is not None and self._core.negotiated is None:
            raise self._ended.error

    # --- properties ---------------------------------------------------------------------------

    @property
    def id(self) -> str | None:
        """The server-assigned session id (None before ACCEPT)."""
        return self._core.session_id

    @property
    def state(self) -> State:
        """INITIAL, HELLO_SENT, ESTABLISHED, CLOSING or CLOSED."""
        return State(self._core.state)

    @property
    def negotiated(self) -> Negotiated | None:
        """Version, algorithms, timeouts and payload limit agreed in the handshake."""
        return self._core.negotiated

    @property
    def close_reason(self) -> CloseReason | None:
        """Why the session ended (None while open, or when it ended without a CLOSE)."""
        return self._ended.reason if self._ended else None

    @property
    def closed_by_peer(self) -> bool | None:
        """Whether the peer ended the session (None while open)."""
        return self._ended.by_peer if self._ended else None

    @property
    def stats(self) -> SessionStats:
        """Messages and bytes in and out, and bytes saved by compression."""
        return self._core.stats

    @property
    def remote_address(self) -> str | None:
        """The peer's ``host:port``."""
        return self._peer

    # --- the API ------------------------------------------------------------------------------

    async def send(
        self, data: bytes | bytearray | memoryview | str, *, algorithm: str | None = None
    ) -> None:
        """Send one message. ``str`` arrives as ``str``, ``bytes`` as ``bytes``.

        Waits while the transport's buffer is above its high-water mark. Raises
        ``SessionNotEstablished`` (or ``SessionExpired`` after a timeout) when the session is
        not open, ``CapabilityMismatchError`` for an algorithm that was not negotiated.
        """
        if self._core.scans_in_threads:
            await self._send_in_order(data, algorithm)
            return
        self._write_data(data, algorithm)
        if self._paused_writing:
            await self._drain()

    def _write_data(
        self,
        data: bytes | bytearray | memoryview | str,
        algorithm: str | None,
        scanned: ScanResult | None = None,
    ) -> None:
        """Queue one DATA in the core and write it out."""
        core = self._core
        try:
            core.send_data(data, self._loop.time(), algorithm, scanned=scanned)
        except M2MError:
            self._flush_and_settle()  # the core may have ended the session (TIMEOUT, ERROR)
            raise
        transport = self._transport
        assert transport is not None
        transport.write(core.data_to_send())

    async def _send_in_order(
        self, data: bytes | bytearray | memoryview | str, algorithm: str | None
    ) -> None:
        """:meth:`send` for a session that scans large payloads in a worker thread: one send
        at a time, so a small message does not overtake a large one being scanned."""
        core = self._core
        async with self._send_lock:
            scanned = None
            if core.scans_in_thread(_utf8_size(data)):
                payload = data if isinstance(data, str) else bytes(data)
                scanned = await asyncio.to_thread(core.scan_payload, payload)
            self._write_data(data, algorithm, scanned)
            if self._paused_writing:
                await self._drain()

    async def recv(self) -> bytes | str:
        """The next message. ``ContentBlockedError`` for a message the scanner withheld
        (blocking mode; the session stays open). After the session ended:
        ``SessionNotEstablished`` when it closed in order, ``SessionExpired`` on TIMEOUT, the
        protocol error when it broke."""
        return await self._next(stop=False)

    def __aiter__(self) -> AsyncIterator[bytes | str]:
        return self

    async def __anext__(self) -> bytes | str:
        """Messages until the session closes in order; a broken session raises its error.
        Messages the scanner withheld are skipped (``recv()`` reports them instead)."""
        return await self._next(stop=True)

    async def _next(self, *, stop: bool) -> bytes | str:
        while True:
            item = await self._next_item(stop)
            if not isinstance(item, ContentBlockedError):
                return item
            if not stop:
                raise item  # recv(): for this message only, the session stays open
            # async for: a withheld message is skipped (it is logged and counted in stats).

    async def _next_item(self, stop: bool) -> bytes | str | ContentBlockedError:
        inbox = self._inbox
        while not inbox:
            if self._ended is not None or self._core.state != _ESTABLISHED:
                raise self._end_of_stream(stop)
            # A future per waiting receiver, all woken together (as asyncio.Event does): a
            # receiver's cancellation touches only its own.
            waiter = self._loop.create_future()
            self._recv_waiters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter in self._recv_waiters:
                    self._recv_waiters.remove(waiter)
                raise
        item = inbox.popleft()
        if self._paused_reading and len(inbox) <= self._max_queue // 4:
            self._paused_reading = False
            if self._transport is not None and self._backlog is None:
                self._transport.resume_reading()
        return item

    def _end_of_stream(self, stop: bool) -> BaseException:
        ended = self._ended
        if ended is None:  # CLOSING: we closed, nothing more will be delivered
            return StopAsyncIteration() if stop else SessionNotEstablished("the session is closing")
        if ended.clean:
            return StopAsyncIteration() if stop else self._core.not_established()
        return ended.error

    async def ping(self) -> float:
        """Send a PING and return the round-trip time in seconds when its PONG arrives."""
        try:
            self._core.send_ping(self._loop.time())
        finally:
            # On an idle deadline already passed the core has just closed with TIMEOUT.
            self._flush_and_settle()
        waiter: asyncio.Future[float] = self._loop.create_future()
        if self._ping_waiters is None:
            self._ping_waiters = deque()
        self._ping_waiters.append(waiter)
        return await waiter

    async def close(
        self, reason: CloseReason | str = CloseReason.NORMAL, message: str | None = None
    ) -> None:
        """Send CLOSE with ``reason`` and wait until the session is CLOSED (at most the
        closing wait, 5 s by default). Closing a closed session does nothing."""
        self._handle(self._core.close(self._loop.time(), CloseReason(reason), message))
        self._flush()
        self._arm_timer()
        self._wake_receiver()
        await self.wait_closed()

    async def wait_closed(self) -> None:
        """Wait until the session is CLOSED and its connection released."""
        if self._ended is not None:
            return
        if self._closed_waiter is None:
            self._closed_waiter = self._loop.create_future()
        await asyncio.shield(self._closed_waiter)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close(CloseReason.NORMAL)

    def __repr__(self) -> str:
        return f"<Session {self.id or '-'} {self._core.state} peer={self._peer}>"

    # --- asyncio.Protocol plumbing ------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        peer = transport.get_extra_info("peername")
        if isinstance(peer, tuple) and len(peer) >= 2:
            self._peer = f"{peer[0]}:{peer[1]}"
        if self._core.hello_to_send:
            self._core.send_hello(self._loop.time())
            self._flush()
        self._arm_timer()
        if self._owner is not None:
            self._owner._session_connected(self)

    def data_received(self, data: bytes) -> None:
        core = self._core
        state = core.state
        events = core.receive_data(data, self._loop.time())
        out = core.data_to_send()
        if out and self._transport is not None:
            self._transport.write(out)
        if events:
            self._handle(events)
        if core.state != state:
            self._arm_timer()
        if len(self._inbox) >= self._max_queue and not self._paused_reading:
            transport = self._transport
            if transport is not None and not transport.is_closing():
                self._paused_reading = True
                transport.pause_reading()

    def eof_received(self) -> bool | None:
        return None  # let the transport close; connection_lost reports it

    def connection_lost(self, exc: Exception | None) -> None:
        self._handle(self._core.connection_lost(self._loop.time(), exc))
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._transport = None
        self._release_closed_waiter()

    def pause_writing(self) -> None:
        self._paused_writing = True

    def resume_writing(self) -> None:
        self._paused_writing = False
        waiter = self._drain_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # --- internals ----------------------------------------------------------------------------

    async def _drain(self) -> None:
        waiter = self._drain_waiter
        if waiter is None or waiter.done():
            waiter = self._drain_waiter = self._loop.create_future()
        # Shielded: one sender's cancellation must not wake the others.
        await asyncio.shield(waiter)

    def _flush(self) -> None:
        out = self._core.data_to_send()
        if out and self._transport is not None:
            self._transport.write(out)

    def _flush_and_settle(self) -> None:
        """After an API call: send what the core queued and catch up on its ending."""
        self._flush()
        ended = self._core.ended
        if ended is not None and self._ended is None:
            self._handle([ended])

    def _handle(self, events: list[Event]) -> None:
        if self._backlog is not None:
            self._backlog.extend(events)  # behind the DATA being scanned
            return
        for event in events:
            if type(event) is DataReceived:  # the per-message case, without a call
                self._inbox.append(event.data)
                if self._recv_waiters:
                    self._wake_receiver()
                continue
            if type(event) is not ScanRequest:
                self._dispatch(event)
                continue
            index = next(i for i, pending in enumerate(events) if pending is event)
            self._backlog = deque(events[index:])
            if self._transport is not None and not self._paused_reading:
                self._transport.pause_reading()
            self._scan_task = self._loop.create_task(self._run_backlog())
            return

    async def _run_backlog(self) -> None:
        """Scan each :class:`ScanRequest` of the backlog in a worker thread and dispatch the
        events in their order; then read again."""
        backlog = self._backlog
        assert backlog is not None
        core = self._core
        while backlog:
            event = backlog.popleft()
            if type(event) is not ScanRequest:
                self._dispatch(event)
                continue
            result: ScanResult | Exception
            try:
                result = await asyncio.to_thread(core.scan_payload, event.raw)
            except Exception as exc:  # the core turns it into CLOSE ERROR, as inline
                result = exc
            events = core.complete_scan(event, result, self._loop.time())
            self._flush()
            self._arm_timer()  # a failed scan ends the session: its timers go with it
            for done in events:
                if type(done) is SessionEnded:
                    # The scanner failed: nothing after the message it failed on is delivered.
                    kept = [e for e in backlog if type(e) not in _DELIVERIES]
                    backlog.clear()
                    backlog.extend(kept)
                self._dispatch(done)
        self._backlog = None
        self._scan_task = None
        if self._transport is not None and not self._paused_reading:
            self._transport.resume_reading()

    def _dispatch(self, event: Event) -> None:
        if isinstance(event, DataReceived):
            self._inbox.append(event.data)
            if self._recv_waiters:
                self._wake_receiver()
        elif isinstance(event, DataBlocked):
            self._inbox.append(event.error)
            if self._recv_waiters:
                self._wake_receiver()
        elif isinstance(event, PongReceived):
            self._on_pong(event)
        elif isinstance(event, SessionEstablished):
            self._on_session_established(event)
        elif isinstance(event, SessionEnded):
            self._on_session_ended(event)

    def _wake_receiver(self) -> None:
        waiters = self._recv_waiters
        if waiters:
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)
            waiters.clear()

    def _on_pong(self, event: PongReceived) -> None:
        if event.requested and self._ping_waiters:
            waiter = self._ping_waiters.popleft()
            if not waiter.done():
                waiter.set_result(event.rtt)

    def _on_session_established(self, event: SessionEstablished) -> None:
        log.info(
            "session_established",
            session_id=event.session_id,
            peer=self._peer,
            role=self._core.role.value,
            version=event.negotiated.version,
            algorithms=",".join(event.negotiated.algorithms),
        )
        waiter = self._established_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        if self._owner is not None:
            self._owner._session_established(self)

    def _on_session_ended(self, event: SessionEnded) -> None:
        self._ended = event
        stats = self._core.stats
        log.info(
            "session_closed",
            session_id=self._core.session_id,
            peer=self._peer,
            role=self._core.role.value,
            reason=event.reason.value if event.reason else None,
            by_peer=event.by_peer,
            error=None if event.clean else type(event.error).__name__,
            messages_in=stats.messages_received,
            messages_out=stats.messages_sent,
        )
        self._flush()
        if self._transport is not None:
            self._transport.close()
        self._wake_receiver()
        error = self._core.not_established()
        for waiter in (self._established_waiter, self._drain_waiter):
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
        if self._ping_waiters:
            for ping in self._ping_waiters:
                if not ping.done():
                    ping.set_exception(error)
            self._ping_waiters.clear()
        if self._owner is not None:
            self._owner._session_closed(self)
        if self._transport is None:
            self._release_closed_waiter()

    def _release_closed_waiter(self) -> None:
        waiter = self._closed_waiter
        if waiter is not None and not waiter.done() and self._ended is not None:
            waiter.set_result(None)

    def _abort(self, reason: CloseReason) -> None:
        """Close without waiting (used on cancellation and server shutdown)."""
        self._handle(self._core.close(self._loop.time(), reason))
        self._flush()
        self._arm_timer()
        self._wake_receiver()

    def _arm_timer(self) -> None:
        deadline = self._core.next_deadline()
        timer = self._timer
        if deadline is None:
            if timer is not None:
                timer.cancel()
                self._timer = None
            return
        # Deadlines mostly move later (every received message pushes the idle deadline);
        # a timer that fires early just re-arms, so only an earlier deadline reschedules.
        if timer is None or deadline < self._timer_at:
            if timer is not None:
                timer.cancel()
            self._timer_at = deadline
            self._timer = self._loop.call_at(deadline, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        # The loop may run a timer up to its clock resolution early.
        now = max(self._loop.time(), self._timer_at)
        events = self._core.handle_timeout(now)
        self._flush()
        if events:
            self._handle(events)
        self._arm_timer()


def make_timeouts(
    *,
    handshake: float = 30.0,
    session_timeout_ms: int = 300_000,
    ping_interval_ms: int = 60_000,
    ping_timeout_ms: int = 10_000,
    closing: float = 5.0,
) -> Timeouts:
    """:class:`Timeouts` from the API's units, or ``ConfigError`` naming the bad value."""
    try:
        return Timeouts(
            handshake=float(handshake),
            session=session_timeout_ms / 1000,
            ping_interval=ping_interval_ms / 1000,
            ping_timeout=ping_timeout_ms / 1000,
            closing=float(closing),
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(str(exc)) from None


def _security_modes(encrypt: bool | Iterable[str]) -> tuple[str, ...]:
    """The HELLO ``security_modes`` for ``connect(encrypt=...)``; empty when not encrypting."""
    if encrypt is False:
        return ()
    if encrypt is True:
        return (SecurityMode.AEAD.value,)
    modes = parse_modes(encrypt)
    if SecurityMode.NONE in modes:
        # NONE has no keys, so nothing would detect a man in the middle rewriting the offer
        # down to it: encrypt= means protection is required.
        raise ConfigError("encrypt= lists protected modes (AEAD, HMAC); NONE cannot be one")
    return modes


def _non_negative(name: str, value: int) -> int:
    if type(value) is not int or value < 0:
        raise ConfigError(f"{name} must be a non-negative int")
    return value


def _checked_agent_id(agent_id: str | None) -> str | None:
    if agent_id is not None and not is_valid_agent_id(agent_id):
        raise ConfigError("agent_id must be 1-128 characters of [A-Za-z0-9_-]")
    return agent_id


#: Events that deliver (or stand in for) a received message.
_DELIVERIES = (DataReceived, DataBlocked, ScanRequest)


def _utf8_size(data: bytes | bytearray | memoryview | str) -> int:
    """The payload size the core sees: UTF-8 bytes for ``str``."""
    if isinstance(data, str):
        return len(data) if data.isascii() else len(data.encode("utf-8", "surrogatepass"))
    return memoryview(data).nbytes


connect = Session.connect
