"""Shared helpers for the integration tests: real sockets on 127.0.0.1, the real engine.

* :class:`RawPeer` is a tiny, independent client (or scripted server side) written from
  PROTOCOL.md alone: it builds frames by hand (4-byte big-endian length + a MessagePack map)
  and never imports the engine's message or framing code.
* The ``net`` fixture starts real servers (:func:`m2m_session.serve`), real clients
  (:meth:`m2m_session.Session.connect`), raw peers and scripted raw servers, and tears all of
  them down after the test.
* Every coroutine test in the integration files is wrapped in ``asyncio.timeout`` (default
  :data:`DEFAULT_GUARD` seconds; ``@pytest.mark.guard(seconds)`` overrides it, and opts in a
  test of any other file), so a hang fails fast instead of stalling the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import os
import re
import select
import signal
import struct
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgpack
import pytest
import structlog

from m2m_session import CloseReason, Server, Session, serve
from m2m_session.codes import ThreatType
from m2m_session.security import Scanner
from m2m_session.security.training import dumps, train

# --- the per-test timeout guard ---------------------------------------------------------------

DEFAULT_GUARD = 10.0
GUARDED_FILES = frozenset(
    {
        "test_session.py",
        "test_server.py",
        "test_bad_input.py",
        "test_timers.py",
        "test_tls.py",
        "test_session_codecs.py",
        "test_session_security.py",
        "test_session_encryption.py",
    }
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "guard(seconds): fail a coroutine test that runs longer than `seconds`"
    )


def _guarded(
    test: Callable[..., Coroutine[Any, Any, Any]], seconds: float
) -> Callable[..., Coroutine[Any, Any, Any]]:
    @functools.wraps(test)
    async def run(*args: Any, **kwargs: Any) -> Any:
        async with asyncio.timeout(seconds):
            return await test(*args, **kwargs)

    return run


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if not isinstance(item, pytest.Function):
            continue
        marker = item.get_closest_marker("guard")
        if marker is None and item.path.name not in GUARDED_FILES:
            continue
        if not inspect.iscoroutinefunction(item.obj):
            continue
        seconds = float(marker.args[0]) if marker is not None else DEFAULT_GUARD
        item.obj = _guarded(item.obj, seconds)


# --- short timers -----------------------------------------------------------------------------

LOCALHOST = "127.0.0.1"

#: Server options for tests: every timer short, none so short that it fires by accident.
FAST_SERVER: dict[str, Any] = {
    "hello_timeout": 2.0,
    "session_timeout_ms": 5_000,
    "ping_interval_ms": 2_000,
    "ping_timeout_ms": 1_000,
    "closing_timeout": 0.5,
    "shutdown_timeout": 1.0,
}

#: Client options for tests.
FAST_CLIENT: dict[str, Any] = {
    "handshake_timeout": 2.0,
    "ping_interval_ms": 2_000,
    "ping_timeout_ms": 1_000,
    "closing_timeout": 0.5,
}

#: How long a raw peer waits for one frame before the test fails.
READ_TIMEOUT = 3.0

SESSION_ID_PATTERN = r"sess_[a-z0-9]{20}"


# --- hand-built frames (PROTOCOL.md sections 1-3) ---------------------------------------------


def now_ms() -> int:
    return int(time.time() * 1000)


def pack(obj: Any) -> bytes:
    """MessagePack with ``bin`` for bytes and ``str`` for text."""
    return bytes(msgpack.packb(obj, use_bin_type=True))


def frame_bytes(body: bytes) -> bytes:
    """A frame: 4-byte big-endian length, then the body."""
    return struct.pack(">I", len(body)) + body


def envelope(
    type_name: Any,
    payload: Any = None,
    session_id: Any = None,
    timestamp: Any = None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "type": type_name,
        "session_id": session_id,
        "timestamp": now_ms() if timestamp is None else timestamp,
        "payload": {} if payload is None else payload,
        **extra,
    }


def frame(type_name: Any, payload: Any = None, session_id: Any = None, **extra: Any) -> bytes:
    """One complete frame carrying an envelope."""
    return frame_bytes(pack(envelope(type_name, payload, session_id, **extra)))


def hello_payload(
    version: Any = "1.0", algorithms: Any = ("BROTLI", "NONE"), **fields: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "version": version,
        "algorithms": list(algorithms) if isinstance(algorithms, tuple) else algorithms,
    }
    body.update(fields)
    return body


def accept_payload(
    algorithms: Any = ("BROTLI", "NONE"),
    version: str = "1.0",
    session_timeout_ms: int = 5_000,
    **fields: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "version": version,
        "algorithms": list(algorithms),
        "security_scanning": False,
        "session_timeout_ms": session_timeout_ms,
        "max_payload_size": 0,
    }
    body.update(fields)
    return body


def data_payload(
    content: bytes, algorithm: str = "NONE", original_size: int | None = None, **fields: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "algorithm": algorithm,
        "content": content,
        "original_size": len(content) if original_size is None else original_size,
    }
    body.update(fields)
    return body


@dataclass
class Frame:
    """One frame as a raw peer read it."""

    type: str
    session_id: str | None
    timestamp: int
    payload: dict[str, Any]
    raw: dict[str, Any] = field(repr=False)


class RawPeer:
    """Either end of a connection, driven by hand: write frames, read frames back."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.session_id: str | None = None

    @classmethod
    async def connect(cls, port: int, host: str = LOCALHOST) -> RawPeer:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    # writing

    async def write(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def send(self, type_name: Any, payload: Any = None, **extra: Any) -> None:
        """Send one message; ``session_id`` defaults to the one learnt from ACCEPT."""
        extra.setdefault("session_id", self.session_id)
        await self.write(frame(type_name, payload, **extra))

    async def hello(self, **fields: Any) -> Frame:
        """Send HELLO (fields override :func:`hello_payload`) and return the answer."""
        await self.send("HELLO", hello_payload(**fields), session_id=None)
        answer = await self.expect()
        if answer.type == "ACCEPT":
            self.session_id = answer.session_id
        return answer

    async def handshake(self, **fields: Any) -> Frame:
        """HELLO and a checked ACCEPT."""
        answer = await self.hello(**fields)
        assert answer.type == "ACCEPT", answer
        return answer

    # reading

    async def read_frame(self, within: float = READ_TIMEOUT) -> Frame | None:
        """The next frame, or None at end of stream."""
        async with asyncio.timeout(within):
            try:
                header = await self.reader.readexactly(4)
                (length,) = struct.unpack(">I", header)
                body = await self.reader.readexactly(length)
            except (asyncio.IncompleteReadError, ConnectionError):
                return None
        raw = msgpack.unpackb(body, raw=False)
        assert isinstance(raw, dict), raw
        assert set(raw) >= {"type", "session_id", "timestamp", "payload"}, raw
        assert isinstance(raw["timestamp"], int), raw
        assert isinstance(raw["payload"], dict), raw
        return Frame(raw["type"], raw["session_id"], raw["timestamp"], raw["payload"], raw)

    async def expect(self, type_name: str | None = None, within: float = READ_TIMEOUT) -> Frame:
        """The next frame, which must exist (and be of ``type_name`` when given)."""
        got = await self.read_frame(within)
        assert got is not None, f"connection ended while waiting for {type_name or 'a frame'}"
        if type_name is not None:
            assert got.type == type_name, got
        return got

    async def expect_close(self, reason: str, within: float = READ_TIMEOUT) -> Frame:
        """A CLOSE with ``reason`` (skipping PINGs, which a live peer may interleave)."""
        while True:
            got = await self.expect(within=within)
            if got.type != "PING":
                break
        assert got.type == "CLOSE", got
        assert got.payload.get("reason", "NORMAL") == reason, got
        return got

    async def expect_eof(self, within: float = READ_TIMEOUT) -> None:
        """No further frame: the peer closes the connection."""
        got = await self.read_frame(within)
        assert got is None, f"expected end of stream, got {got}"

    async def frames_until_eof(self, within: float = READ_TIMEOUT) -> list[Frame]:
        frames: list[Frame] = []
        while (got := await self.read_frame(within)) is not None:
            frames.append(got)
        return frames

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self.writer.wait_closed()


async def echo(session: Session) -> None:
    """The echo handler: every message goes back as it came (same type)."""
    async for message in session:
        await session.send(message)


def port_of(server: Server | asyncio.Server) -> int:
    return int(server.sockets[0].getsockname()[1])


RawScript = Callable[[RawPeer], Awaitable[None]]


class Net:
    """Starts real servers, clients and raw peers; :meth:`aclose` tears everything down."""

    def __init__(self) -> None:
        self.servers: list[Server] = []
        self.clients: list[Session] = []
        self.raw_peers: list[RawPeer] = []
        self.raw_servers: list[asyncio.Server] = []
        self.script_tasks: set[asyncio.Task[None]] = set()
        self.script_errors: list[BaseException] = []

    async def server(
        self, handler: Callable[[Session], Awaitable[None]] = echo, **options: Any
    ) -> Server:
        """A real server on 127.0.0.1, port 0, with :data:`FAST_SERVER` timers."""
        server = await serve(handler, LOCALHOST, 0, **{**FAST_SERVER, **options})
        self.servers.append(server)
        return server

    async def client(self, target: Server | asyncio.Server | int, **options: Any) -> Session:
        """A real client session, connected with :data:`FAST_CLIENT` timers."""
        port = target if isinstance(target, int) else port_of(target)
        session = await Session.connect(LOCALHOST, port, **{**FAST_CLIENT, **options})
        self.clients.append(session)
        return session

    async def raw(self, target: Server | asyncio.Server | int) -> RawPeer:
        """A raw client connection."""
        port = target if isinstance(target, int) else port_of(target)
        peer = await RawPeer.connect(port)
        self.raw_peers.append(peer)
        return peer

    async def raw_server(self, script: RawScript) -> asyncio.Server:
        """A scripted server: ``script(peer)`` runs for each connection (errors are kept in
        :attr:`script_errors` and re-raised at teardown)."""

        async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            peer = RawPeer(reader, writer)
            self.raw_peers.append(peer)
            task = asyncio.current_task()
            assert task is not None
            self.script_tasks.add(task)
            try:
                await script(peer)
            except asyncio.CancelledError:
                raise
            except BaseException as exc:
                self.script_errors.append(exc)
            finally:
                self.script_tasks.discard(task)
                await peer.close()  # the script is over: so is the connection

        server = await asyncio.start_server(on_connect, LOCALHOST, 0)
        self.raw_servers.append(server)
        return server

    async def aclose(self) -> None:
        async with asyncio.timeout(5):
            for session in self.clients:
                session._abort(CloseReason.NORMAL)
            for task in list(self.script_tasks):
                task.cancel()
            for peer in self.raw_peers:
                await peer.close()
            for server in self.servers:
                server.close()
            for server in self.servers:
                await server.wait_closed()
            for raw_server in self.raw_servers:
                raw_server.close()
                await raw_server.wait_closed()
        if self.script_errors:
            raise self.script_errors[0]


@pytest.fixture
async def net() -> AsyncIterator[Net]:
    harness = Net()
    try:
        yield harness
    finally:
        await harness.aclose()


async def eventually(
    predicate: Callable[[], bool], within: float = 2.0, interval: float = 0.01
) -> None:
    """Wait until ``predicate()`` holds (fails after ``within`` seconds)."""
    async with asyncio.timeout(within):
        while not predicate():  # noqa: ASYNC110 (polls engine state; no event to wait on)
            await asyncio.sleep(interval)


async def collect(session: Session) -> list[bytes | str]:
    """Everything ``async for`` yields until the session ends."""
    return [message async for message in session]


# --- the command line, run as a subprocess --------------------------------------------------------

REPO = Path(__file__).resolve().parents[1]
LISTENING = re.compile(r"listening on 127\.0\.0\.1:(\d+)")


def cli_env() -> dict[str, str]:
    """The environment for a subprocess that imports this checkout's ``m2m_session``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def cli_command(*args: str) -> list[str]:
    """``python -m m2m_session.cli ARGS...`` with this interpreter."""
    return [sys.executable, "-m", "m2m_session.cli", *args]


@dataclass
class Served:
    """A running ``m2m-session serve`` subprocess."""

    process: subprocess.Popen[str]
    port: int
    stderr: Path

    def logs(self) -> str:
        return self.stderr.read_text()

    def stop(self) -> int:
        """SIGTERM, and the exit status."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=10)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=5)
        if self.process.stdout is not None:
            self.process.stdout.close()


def start_served(stderr: Path, *args: str) -> Served:
    """Start ``serve --port 0 ARGS...`` (stderr to the file) and return once it printed its
    ``listening on`` line."""
    with stderr.open("w") as err:
        process = subprocess.Popen(
            cli_command("serve", "--host", LOCALHOST, "--port", "0", *args),
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            cwd=REPO,
            env=cli_env(),
        )
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], 10)
    line = process.stdout.readline() if ready else ""
    match = LISTENING.fullmatch(line.strip())
    if not match:
        Served(process, 0, stderr).kill()
        raise AssertionError(f"no 'listening on' line: {line!r}; stderr: {stderr.read_text()}")
    return Served(process, int(match[1]), stderr)


ServeFactory = Callable[..., Served]


@pytest.fixture
def start_serve(tmp_path: Path) -> Iterator[ServeFactory]:
    """``start_serve(ARGS...)``: a :class:`Served` per call, all killed after the test."""
    started: list[Served] = []

    def start(*args: str) -> Served:
        served = start_served(tmp_path / f"serve-{len(started)}.err", *args)
        started.append(served)
        return served

    yield start
    for served in started:
        served.kill()


@pytest.fixture
def restore_structlog() -> Iterator[None]:
    """``main()`` configures structlog for the process; undo it after the test."""
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)


#: A word only :func:`toy_model` knows: a JAILBREAK to that model, harmless to the rules.
TOY_TRIGGER = "zorblax quux"


def toy_model(path: Path) -> Path:
    """Write a tiny learned model to ``path``: ``TOY_TRIGGER`` is its JAILBREAK, ordinary words
    are benign. Tests that the learned detector is really used stay independent of the shipped
    model, which is retrained as the corpus grows."""
    rows = []
    for i in range(8):
        rows += [
            {"text": f"{TOY_TRIGGER} mode number {i}", "label": "JAILBREAK", "split": "tune"},
            {"text": f"frobnicate the widget {i}", "label": "PROMPT_INJECTION", "split": "tune"},
            {"text": f"plugh xyzzy item {i}", "label": "DATA_EXFILTRATION", "split": "tune"},
            {"text": f"the weather is fine on day {i}", "label": "BENIGN", "split": "tune"},
            {"text": f"lunch at noon with team {i}", "label": "BENIGN", "split": "tune"},
        ]
    path.write_text(dumps(train(rows, steps=300)), encoding="utf-8")
    return path


@functools.cache
def _default_scanner() -> Scanner:
    return Scanner()


def assert_caught(text: str, threat: ThreatType) -> None:
    """The default scanner flags ``text`` as ``threat``."""
    result = _default_scanner().scan(text)
    assert not result.safe, (text, result.details)
    assert result.threat_type is threat, (text, result.details)


def assert_safe(text: str) -> None:
    """The default scanner lets ``text`` through."""
    result = _default_scanner().scan(text)
    assert result.safe, (text, result.details)
