"""An embeddable M2M server: :func:`serve` accepts sessions and runs a handler for each.

The :class:`Server` behaves like ``asyncio.Server`` (``sockets``, ``close()``, ``wait_closed()``,
``serve_forever()``, ``async with``). It owns what spans sessions: the per-address rate limit,
the session cap, unique session ids, the policy hook, and graceful shutdown.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from types import TracebackType
from typing import Any, Self

import structlog

from m2m_session.codecs import normalize_algorithms
from m2m_session.codecs.token_native import available_encodings
from m2m_session.codes import CloseReason
from m2m_session.crypto.exchange import X25519KeyPair
from m2m_session.crypto.handshake import SecurityMode, parse_modes
from m2m_session.crypto.keys import KeyMaterial
from m2m_session.errors import ConfigError, M2MError
from m2m_session.framing import DEFAULT_MAX_FRAME_SIZE
from m2m_session.messages import Hello, Reject
from m2m_session.negotiation import Agreement, Capabilities, PolicyHook, negotiate, new_session_id
from m2m_session.protocol import Protocol, State
from m2m_session.ratelimit import SlidingWindowLimiter
from m2m_session.security.policy import ScanMode, ScanPolicy
from m2m_session.session import DEFAULT_MAX_QUEUE, Session, make_timeouts

__all__ = ["Handler", "Server", "serve"]

log = structlog.get_logger("m2m_session.server")

Handler = Callable[[Session], Awaitable[None]]


class Server:
    """Accepts connections and runs ``handler(session)`` for every ESTABLISHED session."""

    def __init__(
        self,
        handler: Handler,
        *,
        max_sessions: int | None = None,
        rate_limit: int | None = 100,
        algorithms: Iterable[str] | str | None = None,
        require_scanning: bool = False,
        scan: ScanPolicy | None = None,
        security_modes: Iterable[str] | None = None,
        require_encryption: bool = False,
        psk: bytes | KeyMaterial | None = None,
        static_key: X25519KeyPair | None = None,
        hello_timeout: float = 30.0,
        session_timeout_ms: int = 300_000,
        ping_interval_ms: int = 60_000,
        ping_timeout_ms: int = 10_000,
        closing_timeout: float = 5.0,
        shutdown_timeout: float = 10.0,
        on_hello: PolicyHook | None = None,
        max_payload_size: int = 0,
        encodings: Iterable[str] | None = None,
        extensions: dict[str, Any] | None = None,
        max_frame_size: int = DEFAULT_MAX_FRAME_SIZE,
        max_queue: int = DEFAULT_MAX_QUEUE,
    ) -> None:
        if max_sessions is not None and max_sessions < 1:
            raise ConfigError("max_sessions must be at least 1, or None for no cap")
        if rate_limit is not None and rate_limit < 1:
            raise ConfigError("rate_limit must be at least 1, or None to turn it off")
        if max_payload_size < 0:
            raise ConfigError("max_payload_size must not be negative")
        if shutdown_timeout < 0:
            raise ConfigError("shutdown_timeout must not be negative")
        self._handler = handler
        self._max_sessions = max_sessions
        self._limiter = None if rate_limit is None else SlidingWindowLimiter(rate_limit)
        self._on_hello = on_hello
        self._timeouts = make_timeouts(
            handshake=hello_timeout,
            session_timeout_ms=session_timeout_ms,
            ping_interval_ms=ping_interval_ms,
            ping_timeout_ms=ping_timeout_ms,
            closing=closing_timeout,
        )
        self._capabilities = Capabilities(
            algorithms=normalize_algorithms(algorithms),
            encodings=available_encodings() if encodings is None else tuple(encodings),
            require_scanning=require_scanning,
            scanning=scan is not None and scan.mode is not ScanMode.DISABLED,
            security_modes=_checked_modes(security_modes),
            require_encryption=require_encryption,
            session_timeout_ms=session_timeout_ms,
            max_payload_size=max_payload_size,
            extensions=dict(extensions or {}),
        )
        self._scan = scan
        if psk is not None and not isinstance(psk, KeyMaterial):
            psk = KeyMaterial(psk)  # refuses empty and short keys at start-up
        self._psk = psk
        # Long-term key: clients of other organisations pin its public half.
        self._static_key = static_key
        self._shutdown_timeout = shutdown_timeout
        self._max_frame_size = max_frame_size
        self._max_queue = max_queue
        self._server: asyncio.Server | None = None
        self._connections: set[Session] = set()
        self._live: dict[str, Session] = {}
        self._handlers: set[asyncio.Task[None]] = set()
        self._closing: asyncio.Task[None] | None = None

    # --- asyncio.Server-like surface ----------------------------------------------------------

    async def start(self, host: str | None, port: int, *, ssl: Any = None, **kw: Any) -> None:
        """Bind and start accepting (``serve`` calls this)."""
        loop = asyncio.get_running_loop()
        if ssl is not None:
            # The HELLO wait starts after TLS; bound the TLS handshake by the same budget.
            kw.setdefault("ssl_handshake_timeout", self._timeouts.handshake)
        self._server = await loop.create_server(self._new_session, host, port, ssl=ssl, **kw)
        log.info(
            "server_listening",
            addresses=[_address(sock.getsockname()) for sock in self._server.sockets],
            algorithms=",".join(self._capabilities.algorithms),
            tls=ssl is not None,
        )

    @property
    def sockets(self) -> tuple[Any, ...]:
        """The listening sockets."""
        return tuple(self._server.sockets) if self._server is not None else ()

    @property
    def sessions(self) -> tuple[Session, ...]:
        """The ESTABLISHED sessions."""
        return tuple(self._live.values())

    def is_serving(self) -> bool:
        return self._server is not None and self._server.is_serving()

    def close(self) -> None:
        """Stop accepting, send CLOSE SERVER_SHUTDOWN to every session, and let handlers finish
        within the shutdown deadline; ``wait_closed()`` waits for all of it."""
        if self._closing is None:
            self._closing = asyncio.get_running_loop().create_task(self._shutdown())

    async def wait_closed(self) -> None:
        """Wait until ``close()`` has finished."""
        if self._closing is not None:
            await asyncio.shield(self._closing)
        elif self._server is not None:
            await self._server.wait_closed()

    async def serve_forever(self) -> None:
        """Serve until cancelled; cancellation shuts the server down gracefully."""
        try:
            await asyncio.Event().wait()
        finally:
            self.close()
            await self.wait_closed()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
        await self.wait_closed()

    # --- sessions -----------------------------------------------------------------------------

    def _new_session(self) -> Session:
        loop = asyncio.get_running_loop()
        session: Session
        core = Protocol.server(
            lambda hello: self._decide(hello, session),
            loop.time(),
            timeouts=self._timeouts,
            max_frame_size=self._max_frame_size,
            wall_clock_offset=time.time() - loop.time(),
            scan_policy=self._scan,
            psk=self._psk,
            static_key=self._static_key,
        )
        session = Session(core, max_queue=self._max_queue, owner=self)
        return session

    def _session_connected(self, session: Session) -> None:
        # Tracked from connection_made, not from the factory: a failed TLS handshake never
        # gets there and so leaves nothing behind.
        if self._closing is not None:
            session._abort(CloseReason.SERVER_SHUTDOWN)  # accepted while the listener closed
        else:
            self._connections.add(session)

    def _decide(self, hello: Hello, session: Session) -> Agreement | Reject:
        session.hello = hello
        peer_host = (session.remote_address or "").rsplit(":", 1)[0]
        now = time.monotonic()
        rate_limited = self._limiter is not None and not self._limiter.hit(peer_host, now)
        busy = self._max_sessions is not None and len(self._live) >= self._max_sessions
        decision = negotiate(
            hello,
            self._capabilities,
            rate_limited=rate_limited,
            busy=busy or self._closing is not None,
            policy=self._on_hello,
            session_id_factory=self._unique_session_id,
        )
        if isinstance(decision, Reject):
            log.info(
                "session_rejected",
                peer=session.remote_address,
                code=decision.code,
                reason=decision.message,
                agent_id=hello.agent_id,
            )
        else:
            self._live[decision.session_id] = session
        return decision

    def _unique_session_id(self) -> str:
        # 103 random bits make a repeat vanishingly unlikely; the live check makes it impossible
        # among sessions that exist at the same time.
        while True:
            session_id = new_session_id()
            if session_id not in self._live:
                return session_id

    def _session_established(self, session: Session) -> None:
        task = asyncio.get_running_loop().create_task(self._run_handler(session))
        self._handlers.add(task)
        task.add_done_callback(self._handlers.discard)

    async def _run_handler(self, session: Session) -> None:
        try:
            await self._handler(session)
        except asyncio.CancelledError:
            session._abort(CloseReason.SERVER_SHUTDOWN)
            raise
        except Exception as exc:
            if isinstance(exc, M2MError) and session.state is State.CLOSED:
                # The session's own end surfacing through recv/send: not the handler's fault.
                log.info("handler_ended", session_id=session.id, error=type(exc).__name__)
                return
            log.exception("handler_failed", session_id=session.id, error=type(exc).__name__)
            await session.close(CloseReason.ERROR, "the server's handler failed")
        else:
            await session.close(CloseReason.NORMAL)

    def _session_closed(self, session: Session) -> None:
        self._connections.discard(session)
        if session.id is not None and self._live.get(session.id) is session:
            del self._live[session.id]

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        sessions = list(self._connections)
        log.info("server_shutting_down", sessions=len(self._live), connections=len(sessions))
        for session in sessions:
            session._abort(CloseReason.SERVER_SHUTDOWN)
        pending = [session.wait_closed() for session in sessions]
        handlers = list(self._handlers)
        if pending or handlers:
            _, late = await asyncio.wait(
                [asyncio.ensure_future(p) for p in pending] + handlers,
                timeout=self._shutdown_timeout,
            )
            for task in late:
                task.cancel()
            if late:
                log.warning("server_shutdown_deadline", unfinished=len(late))
                await asyncio.wait(late)
        if self._server is not None:
            await self._server.wait_closed()
        log.info("server_closed")


async def serve(
    handler: Handler,
    host: str | None = None,
    port: int = 0,
    *,
    ssl: Any = None,
    max_sessions: int | None = None,
    rate_limit: int | None = 100,
    algorithms: Iterable[str] | str | None = None,
    require_scanning: bool = False,
    scan: ScanPolicy | None = None,
    hello_timeout: float = 30.0,
    session_timeout_ms: int = 300_000,
    ping_interval_ms: int = 60_000,
    ping_timeout_ms: int = 10_000,
    on_hello: PolicyHook | None = None,
    **options: Any,
) -> Server:
    """Start a server on ``host:port`` (port 0 picks a free one; see ``server.sockets``).

    ``handler(session)`` runs for every accepted session; when it returns the session is closed
    NORMAL, when it raises the session alone is closed ERROR and the error logged. ``scan`` is
    the server's scanning policy. Further keyword options are passed on to :class:`Server`:
    DATA protection (``security_modes``, ``require_encryption``, ``psk``, ``static_key``),
    ``closing_timeout``, ``shutdown_timeout``, ``max_payload_size``, ``encodings``,
    ``extensions``, ``max_frame_size``, ``max_queue``, and ``backlog`` or ``reuse_port`` for
    the listener.
    """
    listen_options = {k: options.pop(k) for k in ("backlog", "reuse_port") if k in options}
    server = Server(
        handler,
        max_sessions=max_sessions,
        rate_limit=rate_limit,
        algorithms=algorithms,
        require_scanning=require_scanning,
        scan=scan,
        hello_timeout=hello_timeout,
        session_timeout_ms=session_timeout_ms,
        ping_interval_ms=ping_interval_ms,
        ping_timeout_ms=ping_timeout_ms,
        on_hello=on_hello,
        **options,
    )
    await server.start(host, port, ssl=ssl, **listen_options)
    return server


def _checked_modes(modes: Iterable[str] | None) -> tuple[str, ...]:
    if modes is None:
        return tuple(mode.value for mode in SecurityMode)
    return parse_modes(modes)


def _address(sockname: Any) -> str:
    if isinstance(sockname, tuple) and len(sockname) >= 2:
        return f"{sockname[0]}:{sockname[1]}"
    return str(sockname)
