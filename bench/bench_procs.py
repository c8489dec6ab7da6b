"""Process plumbing for the benchmark: the spawned servers and clients, and their helpers.

Every process here is started with the ``spawn`` method, so each is a fresh interpreter whose RSS
holds nothing of the parent's. The parent drives each child over a ``multiprocessing`` pipe with
small tuples: it sends ``(command, *args)`` and the child answers ``(tag, *values)``; a child
that fails answers ``("error", traceback)``.
"""

from __future__ import annotations

import asyncio
import cProfile
import gc
import importlib
import logging
import os
import resource
import socket
import struct
import time
import traceback
from collections.abc import Awaitable, Callable, Coroutine
from functools import partial
from multiprocessing.connection import Connection
from typing import Any, TypeVar

import structlog
from bench_workloads import GAUGE, HOST, m2m_echo, stream_echo

import m2m_session

__all__ = [
    "Commands",
    "echo_server_main",
    "memory_client_main",
    "memory_server_main",
    "quiet_logging",
    "raise_fd_limit",
    "run",
    "vm_rss_kib",
]

T = TypeVar("T")

#: Listen backlog of every benchmark server (the memory clients connect many at once).
BACKLOG = 4096


def quiet_logging(level: int = logging.WARNING) -> None:
    """Drop the engine's per-session info logs: only warnings and errors get through."""
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(level),
        cache_logger_on_first_use=True,
    )


def raise_fd_limit(needed: int) -> int:
    """Raise RLIMIT_NOFILE to at least ``needed`` (the hard limit too, when allowed)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= needed:
        return soft
    if hard != resource.RLIM_INFINITY and hard < needed:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (needed, needed))
            return needed
        except (ValueError, OSError):
            needed = hard
    resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
    return needed


def vm_rss_kib() -> int:
    """This process's resident set size in KiB, from /proc/self/status (VmRSS)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS line in /proc/self/status")


def loop_factory(use_uvloop: bool) -> Callable[[], asyncio.AbstractEventLoop] | None:
    if not use_uvloop:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = importlib.import_module(
        "uvloop"
    ).new_event_loop
    return factory


def run(main: Coroutine[Any, Any, T], use_uvloop: bool) -> T:
    """``asyncio.run`` on the default loop, or on uvloop's."""
    with asyncio.Runner(loop_factory=loop_factory(use_uvloop)) as runner:
        return runner.run(main)


class Commands:
    """The parent's commands, read off the pipe by the event loop (no thread)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue()
        self._loop.add_reader(conn.fileno(), self._readable)

    def _readable(self) -> None:
        try:
            while self._conn.poll():
                self._queue.put_nowait(self._conn.recv())
        except (EOFError, OSError):  # the parent is gone: stop
            self._loop.remove_reader(self._conn.fileno())
            self._queue.put_nowait(("stop",))

    async def get(self) -> tuple[Any, ...]:
        return await self._queue.get()

    def close(self) -> None:
        self._loop.remove_reader(self._conn.fileno())


def child(conn: Connection, body: Callable[[], None]) -> None:
    """Run ``body`` in a spawned child; a failure goes back over ``conn`` as a traceback."""
    try:
        body()
    except BaseException:
        conn.send(("error", traceback.format_exc()))
        raise
    finally:
        conn.close()


def _port(sockets: Any) -> int:
    port: int = sockets[0].getsockname()[1]
    return port


# --- the throughput server: both echo servers in one process -----------------------------------


def echo_server_main(conn: Connection, use_uvloop: bool) -> None:
    """Serve the engine's echo and the baseline's echo until told to stop.

    Commands: ``("cpu",)`` (answers ``("cpu", process_time)``), ``("profile_start",)``,
    ``("profile_stop", path)`` (dumps pstats to ``path``), ``("stop",)``.
    """

    def body() -> None:
        quiet_logging()
        raise_fd_limit(4096)
        run(_echo_server(conn), use_uvloop)

    child(conn, body)


async def _echo_server(conn: Connection) -> None:
    ours = await m2m_session.serve(m2m_echo, HOST, 0, rate_limit=None, backlog=BACKLOG)
    base = await asyncio.start_server(stream_echo, HOST, 0, backlog=BACKLOG)
    commands = Commands(conn)
    profiler: cProfile.Profile | None = None
    conn.send(("ready", {"m2m": _port(ours.sockets), "asyncio": _port(base.sockets)}))
    try:
        while True:
            command = await commands.get()
            if command[0] == "stop":
                break
            if command[0] == "cpu":
                conn.send(("cpu", time.process_time()))
            elif command[0] == "profile_start":
                profiler = cProfile.Profile()
                profiler.enable()
                conn.send(("profiling",))
            elif command[0] == "profile_stop":
                if profiler is not None:
                    profiler.disable()
                    profiler.dump_stats(command[1])
                    profiler = None
                conn.send(("profiled", command[1]))
    finally:
        commands.close()
        base.close()
        ours.close()
        await _bounded(ours.wait_closed(), 10.0)
        await _bounded(base.wait_closed(), 10.0)
    conn.send(("stopped",))


async def _bounded(awaitable: Awaitable[None], limit: float) -> None:
    try:
        async with asyncio.timeout(limit):
            await awaitable
    except TimeoutError:
        pass


def _gauge_is(count: int) -> bool:
    return GAUGE.open == count


async def _until(condition: Callable[[], bool], limit: float) -> bool:
    """Poll ``condition`` every 10 ms for at most ``limit`` seconds; return its last value."""
    for _ in range(max(int(limit / 0.01), 1)):
        if condition():
            return True
        await asyncio.sleep(0.01)
    return condition()


# --- the memory benchmark: one server process, one client process -----------------------------


def memory_server_main(conn: Connection, kind: str, use_uvloop: bool, sessions: int) -> None:
    """Hold idle connections of ``kind`` ("m2m" or "asyncio") and report RSS on request.

    Commands: ``("rss", expected)`` waits until ``expected`` handlers run, collects garbage and
    answers ``("rss", vm_rss_kib, handlers_running)``; ``("stop",)``.
    """

    def body() -> None:
        quiet_logging()
        raise_fd_limit(sessions + 256)
        run(_memory_server(conn, kind), use_uvloop)

    child(conn, body)


async def _memory_server(conn: Connection, kind: str) -> None:
    commands = Commands(conn)
    server: m2m_session.Server | asyncio.Server
    if kind == "m2m":
        server = await m2m_session.serve(m2m_echo, HOST, 0, rate_limit=None, backlog=BACKLOG)
    else:
        server = await asyncio.start_server(stream_echo, HOST, 0, backlog=BACKLOG)
    gc.collect()
    conn.send(("ready", _port(server.sockets), vm_rss_kib()))
    try:
        while True:
            command = await commands.get()
            if command[0] == "stop":
                break
            if command[0] == "rss":
                expected: int = command[1]
                await _until(partial(_gauge_is, expected), 60.0)
                await asyncio.sleep(0.05)  # let the last handshakes' callbacks settle
                gc.collect()
                conn.send(("rss", vm_rss_kib(), GAUGE.open))
    finally:
        commands.close()
        server.close()
        await _bounded(server.wait_closed(), 15.0)
        await _until(partial(_gauge_is, 0), 15.0)
    conn.send(("stopped",))


def memory_client_main(
    conn: Connection,
    kind: str,
    port: int,
    sessions: int,
    warmup: int,
    concurrency: int,
    use_uvloop: bool,
) -> None:
    """Open ``warmup`` connections and close them (answers ``("warm",)``); on ``("go",)`` open
    ``sessions`` connections and hold them (answers ``("connected", count, seconds)``); on
    ``("linger",)`` make them reset on close (answers ``("lingering", count)``); on ``("stop",)``
    exit, which drops them all."""

    def body() -> None:
        quiet_logging()
        raise_fd_limit(sessions + warmup + 256)
        run(_memory_client(conn, kind, port, sessions, warmup, concurrency), use_uvloop)

    child(conn, body)


async def _memory_client(
    conn: Connection, kind: str, port: int, sessions: int, warmup: int, concurrency: int
) -> None:
    commands = Commands(conn)
    try:
        if kind == "m2m":
            opened = await _open_m2m(port, warmup, concurrency)
            await asyncio.gather(*(session.close() for session in opened))
        else:
            pairs = await _open_streams(port, warmup, concurrency)
            await _close_streams(pairs)
        conn.send(("warm",))
        await _expect(commands, "go")
        started = time.perf_counter()
        held: list[Any]
        if kind == "m2m":
            held = await _open_m2m(port, sessions, concurrency)
        else:
            held = await _open_streams(port, sessions, concurrency)
        conn.send(("connected", len(held), time.perf_counter() - started))
        await _expect(commands, "linger")
        conn.send(("lingering", _reset_on_close(port)))
        await _expect(commands, "stop")
    finally:
        commands.close()
    conn.send(("stopped",))


def _reset_on_close(port: int) -> int:
    """Set SO_LINGER 0 on every TCP socket of this process connected to ``port``.

    Closing them then sends RST instead of FIN, so tearing down thousands of benchmark
    connections leaves no TIME_WAIT sockets behind to slow the next run's connects (or anyone
    else's on this machine). Returns how many sockets were changed.
    """
    changed = 0
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        try:
            sock = socket.socket(fileno=fd)
        except OSError:
            continue  # not a socket (or already gone)
        try:
            if (
                sock.family in (socket.AF_INET, socket.AF_INET6)
                and sock.type == socket.SOCK_STREAM
                and sock.getpeername()[1] == port
            ):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
                changed += 1
        except OSError:
            pass
        finally:
            sock.detach()
    return changed


_LINGER_RESET = struct.pack("ii", 1, 0)


async def _expect(commands: Commands, tag: str) -> None:
    command = await commands.get()
    if command[0] != tag:
        raise RuntimeError(f"expected command {tag!r}, got {command!r}")


async def _open_m2m(port: int, count: int, concurrency: int) -> list[m2m_session.Session]:
    gate = asyncio.Semaphore(concurrency)

    async def one() -> m2m_session.Session:
        async with gate:
            return await m2m_session.Session.connect(HOST, port)

    return list(await asyncio.gather(*(one() for _ in range(count))))


async def _open_streams(
    port: int, count: int, concurrency: int
) -> list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    gate = asyncio.Semaphore(concurrency)

    async def one() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        async with gate:
            return await asyncio.open_connection(HOST, port)

    return list(await asyncio.gather(*(one() for _ in range(count))))


async def _close_streams(pairs: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]) -> None:
    for _, writer in pairs:
        writer.close()
    await asyncio.gather(*(writer.wait_closed() for _, writer in pairs))
