"""Bad input and illegal messages sent to a real server (PROTOCOL.md sections 1, 2, 6 and 7).

Every case runs beside a good session that was opened first: the bad input, thrown at the server
on a second connection, must end that connection with CLOSE ERROR (with a message) while the
good session keeps echoing.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import brotli
import pytest

from m2m_session import M2MError, Server, Session

from conftest import (
    FAST_SERVER,
    Net,
    RawPeer,
    data_payload,
    envelope,
    frame,
    frame_bytes,
    hello_payload,
    pack,
)

MiB = 1024 * 1024


@dataclass
class Stage:
    """A server with one good session already open."""

    net: Net
    server: Server
    good: Session

    async def raw(self) -> RawPeer:
        return await self.net.raw(self.server)

    async def check_good_session(self) -> None:
        await self.good.send("still serving?")
        assert await self.good.recv() == "still serving?"
        await self.good.send(b"\x00" * 1000)
        assert await self.good.recv() == b"\x00" * 1000


async def make_stage(net: Net, **options: Any) -> Stage:
    server = await net.server(**{**FAST_SERVER, **options})
    good = await net.client(server)
    await good.send("warm-up")
    assert await good.recv() == "warm-up"
    return Stage(net, server, good)


@pytest.fixture
async def stage(net: Net) -> Stage:
    return await make_stage(net)


async def expect_close_error(peer: RawPeer, session_id: str | None) -> str:
    """CLOSE ERROR for ``session_id`` with a message, then the server closes the connection."""
    close = await peer.expect_close("ERROR")
    assert close.session_id == session_id
    message = close.payload.get("message")
    assert isinstance(message, str)
    assert message
    await peer.expect_eof()
    return message


# --- framing ------------------------------------------------------------------------------------


@pytest.mark.parametrize("established", [False, True], ids=["before-hello", "established"])
async def test_oversized_header_closes_at_once_without_the_body(
    stage: Stage, established: bool
) -> None:
    peer = await stage.raw()
    if established:
        await peer.handshake()
    began = time.monotonic()
    await peer.write(struct.pack(">I", 2**31))  # a 2 GiB frame whose body never comes
    message = await expect_close_error(peer, peer.session_id)
    assert time.monotonic() - began < 1.0
    assert "frame" in message
    await stage.check_good_session()


async def test_frame_just_over_a_configured_max_frame_size(net: Net) -> None:
    stage = await make_stage(net, max_frame_size=4096)
    peer = await stage.raw()
    await peer.handshake()
    await peer.write(frame("DATA", data_payload(b"x" * 3000), peer.session_id))
    assert (await peer.expect("DATA")).payload["original_size"] == 3000
    await peer.write(frame("DATA", data_payload(b"x" * 5000), peer.session_id))
    await expect_close_error(peer, peer.session_id)
    await stage.check_good_session()


@pytest.mark.parametrize("established", [False, True], ids=["before-hello", "established"])
async def test_zero_length_frame(stage: Stage, established: bool) -> None:
    peer = await stage.raw()
    if established:
        await peer.handshake()
    await peer.write(b"\x00\x00\x00\x00")
    await expect_close_error(peer, peer.session_id)
    await stage.check_good_session()


async def test_frames_split_byte_by_byte_are_reassembled(stage: Stage) -> None:
    peer = await stage.raw()
    stream = frame("HELLO", hello_payload()) + frame("PING", {}, None)
    for i in range(len(stream) - len(frame("PING", {}, None))):
        await peer.write(stream[i : i + 1])
        await asyncio.sleep(0)
    accept = await peer.expect("ACCEPT")
    peer.session_id = accept.session_id
    ping = frame("PING", {}, peer.session_id)
    for byte in ping:
        await peer.write(bytes([byte]))
    await peer.expect("PONG")
    await stage.check_good_session()


# --- bodies that are not valid messages ---------------------------------------------------------

BodyBuilder = Callable[[str | None], bytes]


def body(obj: Any) -> BodyBuilder:
    return lambda sid: pack(obj)


def env(type_name: Any = "PING", payload: Any = None, **extra: Any) -> BodyBuilder:
    def build(sid: str | None) -> bytes:
        fields = {"session_id": sid, **extra}
        return pack(envelope(type_name, payload, **fields))

    return build


def without(key: str) -> BodyBuilder:
    def build(sid: str | None) -> bytes:
        obj = envelope("PING", {}, sid)
        del obj[key]
        return pack(obj)

    return build


def data(**payload: Any) -> BodyBuilder:
    return env("DATA", {"algorithm": "NONE", "content": b"abc", "original_size": 3, **payload})


INVALID_BODIES: dict[str, BodyBuilder] = {
    "not-msgpack": lambda sid: b"\xc1\xc1\xc1",
    "truncated-msgpack": lambda sid: pack(envelope("PING", {}, sid))[:-3],
    "trailing-bytes": lambda sid: pack(envelope("PING", {}, sid)) + b"\x00",
    "list-body": body(["PING", None, 0, {}]),
    "int-body": body(42),
    "str-body": body("PING"),
    "nil-body": body(None),
    "int-map-key": body({1: "PING"}),
    "missing-type": without("type"),
    "missing-session_id": without("session_id"),
    "missing-timestamp": without("timestamp"),
    "missing-payload": without("payload"),
    "type-int": env(7),
    "type-nil": env(None),
    "session_id-int": lambda sid: pack(envelope("PING", {}, 12345)),
    "timestamp-str": env(timestamp="yesterday"),
    "timestamp-float": env(timestamp=1.5),
    "timestamp-bool": env(timestamp=True),
    "payload-list": env("PING", ["x"]),
    "payload-str": env("PING", "x"),
    "data-content-str": data(content="abc"),
    "data-content-missing": env("DATA", {"algorithm": "NONE", "original_size": 3}),
    "data-original_size-str": data(original_size="3"),
    "data-original_size-negative": data(original_size=-3),
    "data-original_size-wrong": data(original_size=5),
    "data-algorithm-int": data(algorithm=1),
    "data-text-str": data(text="yes"),
    "data-text-invalid-utf8": data(content=b"\xff\xfe\xfd", text=True),
    "data-security_status-list": data(security_status=["safe"]),
    "close-reason-int": env("CLOSE", {"reason": 3}),
}


@pytest.mark.parametrize("case", list(INVALID_BODIES))
async def test_invalid_message_after_handshake(stage: Stage, case: str) -> None:
    peer = await stage.raw()
    await peer.handshake()
    await peer.write(frame_bytes(INVALID_BODIES[case](peer.session_id)))
    await expect_close_error(peer, peer.session_id)
    await stage.check_good_session()


@pytest.mark.parametrize("case", ["not-msgpack", "list-body", "missing-payload", "type-int"])
async def test_invalid_message_instead_of_hello(stage: Stage, case: str) -> None:
    peer = await stage.raw()
    await peer.write(frame_bytes(INVALID_BODIES[case](None)))
    await expect_close_error(peer, None)
    await stage.check_good_session()


async def test_frames_before_a_bad_one_are_still_handled(net: Net) -> None:
    """DATA and PING that precede a bad header in the same segment still count, in order."""
    received: list[bytes | str] = []

    async def record(session: Session) -> None:
        with contextlib.suppress(M2MError):  # the session ends with ERROR
            async for message in session:
                received.append(message)

    stage = await make_stage(net)
    recorder = await net.server(record)
    peer = await net.raw(recorder)
    await peer.handshake()
    sid = peer.session_id
    await peer.write(
        frame("DATA", data_payload(b"kept"), sid) + frame("PING", {}, sid) + b"\x00\x00\x00\x00"
    )
    assert (await peer.expect("PONG")).session_id == sid
    await expect_close_error(peer, sid)
    await asyncio.sleep(0.05)
    assert received == [b"kept"]
    await stage.check_good_session()


# --- session ids --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["DATA", "PING", "PONG", "CLOSE"])
async def test_foreign_session_id(stage: Stage, kind: str) -> None:
    peer = await stage.raw()
    await peer.handshake()
    payload = data_payload(b"abc") if kind == "DATA" else {}
    await peer.write(frame(kind, payload, stage.good.id))  # another live session's id
    message = await expect_close_error(peer, peer.session_id)
    assert "session" in message
    await stage.check_good_session()


async def test_nil_session_id_after_accept(stage: Stage) -> None:
    peer = await stage.raw()
    await peer.handshake()
    await peer.write(frame("DATA", data_payload(b"abc"), None))
    await expect_close_error(peer, peer.session_id)
    await stage.check_good_session()


# --- messages the server may not receive in its state -------------------------------------------


@pytest.mark.parametrize("kind", ["DATA", "PING", "PONG"])
async def test_established_only_messages_before_hello(stage: Stage, kind: str) -> None:
    peer = await stage.raw()
    payload = data_payload(b"abc") if kind == "DATA" else {}
    await peer.write(frame(kind, payload, None))
    message = await expect_close_error(peer, None)
    assert kind in message
    await stage.check_good_session()


@pytest.mark.parametrize("with_id", [True, False], ids=["own-id", "nil-id"])
async def test_second_hello(stage: Stage, with_id: bool) -> None:
    peer = await stage.raw()
    await peer.handshake()
    await peer.write(frame("HELLO", hello_payload(), peer.session_id if with_id else None))
    await expect_close_error(peer, peer.session_id)
    await stage.check_good_session()


ACCEPT_BODY = {
    "version": "1.0",
    "algorithms": ["NONE"],
    "security_scanning": False,
    "session_timeout_ms": 1000,
    "max_payload_size": 0,
}
REJECT_BODY = {"code": "UNKNOWN", "message": "no"}


@pytest.mark.parametrize("established", [False, True], ids=["before-hello", "established"])
@pytest.mark.parametrize("kind", ["ACCEPT", "REJECT"])
async def test_accept_or_reject_sent_to_the_server(
    stage: Stage, kind: str, established: bool
) -> None:
    peer = await stage.raw()
    if established:
        await peer.handshake()
    body = ACCEPT_BODY if kind == "ACCEPT" else REJECT_BODY
    await peer.write(frame(kind, body, peer.session_id or "sess_made_up_by_client"))
    message = await expect_close_error(peer, peer.session_id)
    assert kind in message
    await stage.check_good_session()


async def test_close_before_hello_just_ends_the_connection(stage: Stage) -> None:
    peer = await stage.raw()
    await peer.write(frame("CLOSE", {"reason": "CLIENT_SHUTDOWN"}, None))
    await peer.expect_eof()  # no answer: the receiver of CLOSE closes the connection
    await stage.check_good_session()


async def test_unknown_type_before_hello_is_ignored(stage: Stage) -> None:
    peer = await stage.raw()
    await peer.write(frame("SUBSCRIBE", {"topic": "x"}, None))
    accept = await peer.handshake()
    assert accept.session_id is not None
    await stage.check_good_session()


# --- DATA that does not decode -----------------------------------------------------------------


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """64 MiB of zeros as one Brotli stream (about 12 KiB)."""
    return bytes(brotli.compress(bytes(64 * MiB), quality=1))


@pytest.mark.parametrize(
    ("content", "size"),
    [(b"garbage", 7), (b"garbage", 100), (b"", 1)],
    ids=["garbage", "garbage-other-size", "empty"],
)
async def test_corrupt_brotli(stage: Stage, content: bytes, size: int) -> None:
    peer = await stage.raw()
    await peer.handshake()
    await peer.send("DATA", data_payload(content, algorithm="BROTLI", original_size=size))
    await expect_close_error(peer, peer.session_id)
    await stage.check_good_session()


async def test_truncated_brotli(stage: Stage) -> None:
    original = b"a fairly compressible sentence, repeated. " * 200
    stream = bytes(brotli.compress(original))
    peer = await stage.raw()
    await peer.handshake()
    await peer.send(
        "DATA",
        data_payload(stream[: len(stream) // 2], algorithm="BROTLI", original_size=len(original)),
    )
    await expect_close_error(peer, peer.session_id)
    await stage.check_good_session()


async def test_valid_brotli_from_a_raw_client_is_accepted(stage: Stage) -> None:
    original = b"a fairly compressible sentence, repeated. " * 200
    peer = await stage.raw()
    await peer.handshake()
    await peer.send(
        "DATA",
        data_payload(
            bytes(brotli.compress(original)), algorithm="BROTLI", original_size=len(original)
        ),
    )
    echoed = await peer.expect("DATA")
    assert echoed.payload["original_size"] == len(original)
    content = echoed.payload["content"]
    if echoed.payload["algorithm"] == "BROTLI":
        content = brotli.decompress(content)
    assert content == original


@pytest.mark.parametrize(
    "declared",
    [64 * MiB, 100, 16 * MiB],
    ids=["honest-64MiB", "lying-100B", "at-the-16MiB-cap"],
)
async def test_brotli_bomb_is_refused_quickly_in_bounded_memory(
    stage: Stage, bomb: bytes, declared: int
) -> None:
    peer = await stage.raw()
    await peer.handshake()
    tracemalloc.start()
    try:
        began = time.monotonic()
        await peer.send("DATA", data_payload(bomb, algorithm="BROTLI", original_size=declared))
        await expect_close_error(peer, peer.session_id)
        elapsed = time.monotonic() - began
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed < 2.0
    # Never the 64 MiB of the bomb: at most the declared size (capped at 16 MiB), plus slack.
    assert peak < min(declared, 16 * MiB) + 8 * MiB, f"peak {peak / MiB:.1f} MiB"
    await stage.check_good_session()


@pytest.mark.parametrize("algorithm", ["BROTLI", "M2M", "TOKEN_NATIVE", "ZSTD"])
async def test_data_with_an_algorithm_not_negotiated(stage: Stage, algorithm: str) -> None:
    peer = await stage.raw()
    accept = await peer.handshake(algorithms=["NONE"])
    assert accept.payload["algorithms"] == ["NONE"]
    await peer.send("DATA", data_payload(b"abc", algorithm=algorithm))
    message = await expect_close_error(peer, peer.session_id)
    assert algorithm in message
    await stage.check_good_session()


async def test_data_over_the_negotiated_max_payload_size(stage: Stage) -> None:
    peer = await stage.raw()
    accept = await peer.handshake(max_payload_size=100)
    assert accept.payload["max_payload_size"] == 100
    await peer.send("DATA", data_payload(b"x" * 100))
    assert (await peer.expect("DATA")).payload["original_size"] == 100
    await peer.send("DATA", data_payload(b"x" * 101))
    await expect_close_error(peer, peer.session_id)
    await stage.check_good_session()


async def test_many_bad_connections_at_once(stage: Stage) -> None:
    async def one_bad(i: int) -> None:
        peer = await stage.raw()
        if i % 2:
            await peer.handshake()
        await peer.write(
            [b"\x00\x00\x00\x00", struct.pack(">I", 2**31), b"\x00\x00\x00\x01\xc1"][i % 3]
        )
        await expect_close_error(peer, peer.session_id)

    await asyncio.gather(*(one_bad(i) for i in range(30)))
    await stage.check_good_session()
