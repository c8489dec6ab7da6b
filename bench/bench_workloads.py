"""The workloads, each written twice: once on m2m_session, once on raw asyncio streams.

The baseline speaks the same wire format as the engine's DATA path: a 4-byte big-endian length,
then a MessagePack map ``{type, session_id, timestamp, payload: {algorithm, content,
original_size}}``. Both sides of the baseline pack and unpack that map for every message, as the
engine does, so the MessagePack cost is the same on both sides of each ratio and what differs is
the engine: framing, validation, the state machine, the asyncio.Protocol shell and the handshake.

Every client workload returns the seconds its timed part took; untimed warm-up comes first.
"""

from __future__ import annotations

import asyncio
import struct
import time
from collections.abc import Awaitable, Callable
from typing import Any

import msgpack

import m2m_session

__all__ = [
    "GAUGE",
    "HOST",
    "SESSION_ID",
    "BenchError",
    "Gauge",
    "m2m_echo",
    "m2m_pipelined",
    "m2m_round_trips",
    "m2m_sessions",
    "make_payload",
    "stream_echo",
    "stream_frame",
    "stream_pipelined",
    "stream_round_trips",
    "stream_sessions",
]

HOST = "127.0.0.1"
#: Same shape and length as the ids the engine's server hands out (``sess_`` + 20 chars).
SESSION_ID = "sess_" + "b" * 20

_LENGTH = struct.Struct(">I")
_pack_length = _LENGTH.pack
_unpack_length = _LENGTH.unpack
_packb = msgpack.packb
_unpackb = msgpack.unpackb


class BenchError(RuntimeError):
    """An echo came back wrong or short: the measurement is void."""


class Gauge:
    """Handlers currently running in this process (the memory benchmark waits on it)."""

    __slots__ = ("open",)

    def __init__(self) -> None:
        self.open = 0


GAUGE = Gauge()


def make_payload(size: int) -> bytes:
    """``size`` bytes of agent-message-like JSON text (deterministic)."""
    seed = (
        b'{"role":"assistant","tool":"search","args":{"query":"asyncio session protocol '
        b'benchmark","top_k":5},"trace":"'
    )
    body = (seed + b"x" * size)[: max(size - 2, 0)]
    return (body + b'"}')[:size]


def stream_frame(session_id: str, content: bytes) -> bytes:
    """One baseline frame: length prefix + the same MessagePack map a DATA frame carries."""
    body: bytes = _packb(
        {
            "type": "DATA",
            "session_id": session_id,
            "timestamp": int(time.time() * 1000),
            "payload": {"algorithm": "NONE", "content": content, "original_size": len(content)},
        },
        use_bin_type=True,
    )
    return _pack_length(len(body)) + body


def _stream_content(body: bytes) -> bytes:
    message: Any = _unpackb(body, raw=False)
    if message["type"] != "DATA":
        raise BenchError(f"unexpected baseline message type {message['type']!r}")
    content: bytes = message["payload"]["content"]
    return content


# --- echo handlers (server side) ----------------------------------------------------------------


async def m2m_echo(session: m2m_session.Session) -> None:
    """The engine's echo handler: every received message is sent back."""
    GAUGE.open += 1
    try:
        async for message in session:
            await session.send(message)
    finally:
        GAUGE.open -= 1


async def stream_echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """The baseline's echo handler: decode each frame, re-encode it with a fresh timestamp.

    Idle, it sits in ``reader.readexactly(4)``: a pending StreamReader read.
    """
    GAUGE.open += 1
    try:
        while True:
            header = await reader.readexactly(4)
            body = await reader.readexactly(_unpack_length(header)[0])
            message: Any = _unpackb(body, raw=False)
            if message["type"] != "DATA":
                raise BenchError(f"unexpected baseline message type {message['type']!r}")
            writer.write(stream_frame(message["session_id"], message["payload"]["content"]))
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        GAUGE.open -= 1
        writer.close()


# --- DATA round trips on one session --------------------------------------------------------------


async def session_round_trips(
    session: m2m_session.Session, count: int, payload: bytes, warmup: int
) -> float:
    """Seconds for ``count`` send-then-await-the-echo round trips on ``session`` (closed after)."""
    try:
        for _ in range(warmup):
            await session.send(payload)
            await session.recv()
        started = time.perf_counter()
        for _ in range(count):
            await session.send(payload)
            if await session.recv() != payload:
                raise BenchError("m2m echo differs from what was sent")
        return time.perf_counter() - started
    finally:
        await session.close()


async def m2m_round_trips(port: int, count: int, payload: bytes, warmup: int) -> float:
    return await session_round_trips(
        await m2m_session.Session.connect(HOST, port), count, payload, warmup
    )


async def stream_round_trips(port: int, count: int, payload: bytes, warmup: int) -> float:
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        for _ in range(warmup):
            writer.write(stream_frame(SESSION_ID, payload))
            await writer.drain()
            header = await reader.readexactly(4)
            _stream_content(await reader.readexactly(_unpack_length(header)[0]))
        started = time.perf_counter()
        for _ in range(count):
            writer.write(stream_frame(SESSION_ID, payload))
            await writer.drain()
            header = await reader.readexactly(4)
            if _stream_content(await reader.readexactly(_unpack_length(header)[0])) != payload:
                raise BenchError("baseline echo differs from what was sent")
        return time.perf_counter() - started
    finally:
        writer.close()
        await writer.wait_closed()


# --- pipelined DATA ------------------------------------------------------------------------------


async def session_pipelined(
    session: m2m_session.Session, count: int, payload: bytes, warmup: int
) -> float:
    """Seconds for one task to send ``count`` messages back to back on ``session`` while another
    receives the echoes (the session is closed after)."""

    async def send_all(n: int) -> None:
        for _ in range(n):
            await session.send(payload)

    async def receive_all(n: int) -> None:
        for _ in range(n):
            if await session.recv() != payload:
                raise BenchError("m2m echo differs from what was sent")

    try:
        await asyncio.gather(send_all(warmup), receive_all(warmup))
        started = time.perf_counter()
        await asyncio.gather(send_all(count), receive_all(count))
        return time.perf_counter() - started
    finally:
        await session.close()


async def m2m_pipelined(port: int, count: int, payload: bytes, warmup: int) -> float:
    return await session_pipelined(
        await m2m_session.Session.connect(HOST, port), count, payload, warmup
    )


async def stream_pipelined(port: int, count: int, payload: bytes, warmup: int) -> float:
    reader, writer = await asyncio.open_connection(HOST, port)

    async def send_all(n: int) -> None:
        for _ in range(n):
            writer.write(stream_frame(SESSION_ID, payload))
            await writer.drain()

    async def receive_all(n: int) -> None:
        for _ in range(n):
            header = await reader.readexactly(4)
            if _stream_content(await reader.readexactly(_unpack_length(header)[0])) != payload:
                raise BenchError("baseline echo differs from what was sent")

    try:
        await asyncio.gather(send_all(warmup), receive_all(warmup))
        started = time.perf_counter()
        await asyncio.gather(send_all(count), receive_all(count))
        return time.perf_counter() - started
    finally:
        writer.close()
        await writer.wait_closed()


# --- sessions per second, one after the other ---------------------------------------------------


async def _m2m_one_session(port: int, payload: bytes) -> None:
    session = await m2m_session.Session.connect(HOST, port)
    try:
        await session.send(payload)
        if await session.recv() != payload:
            raise BenchError("m2m echo differs from what was sent")
    finally:
        await session.close()


async def timed_sequence(one: Callable[[], Awaitable[None]], count: int, warmup: int) -> float:
    """Seconds for ``count`` awaits of ``one()`` in sequence, after ``warmup`` untimed ones."""
    for _ in range(warmup):
        await one()
    started = time.perf_counter()
    for _ in range(count):
        await one()
    return time.perf_counter() - started


async def m2m_sessions(port: int, count: int, payload: bytes, warmup: int) -> float:
    """connect (HELLO -> ACCEPT), one echo, CLOSE; ``count`` times in sequence."""
    return await timed_sequence(lambda: _m2m_one_session(port, payload), count, warmup)


async def _stream_one_session(port: int, payload: bytes) -> None:
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        writer.write(stream_frame(SESSION_ID, payload))
        await writer.drain()
        header = await reader.readexactly(4)
        if _stream_content(await reader.readexactly(_unpack_length(header)[0])) != payload:
            raise BenchError("baseline echo differs from what was sent")
    finally:
        writer.close()
        await writer.wait_closed()


async def stream_sessions(port: int, count: int, payload: bytes, warmup: int) -> float:
    """open_connection, one echo, close; ``count`` times in sequence."""
    return await timed_sequence(lambda: _stream_one_session(port, payload), count, warmup)
