"""The client Session over real sockets: the API, data integrity, closing, and how it copes
with servers that break the protocol (scripted raw servers written from PROTOCOL.md)."""

from __future__ import annotations

import asyncio
import os
import re
import socket
from typing import Any

import pytest

from m2m_session import (
    CapabilityMismatchError,
    CloseReason,
    ConfigError,
    InvalidMessageError,
    M2MError,
    NegotiationFailed,
    NetworkError,
    ProtocolError,
    RejectCode,
    Session,
    SessionNotEstablished,
    State,
)
from m2m_session.codecs import default_algorithms

from conftest import (
    LOCALHOST,
    SESSION_ID_PATTERN,
    Frame,
    Net,
    RawPeer,
    accept_payload,
    collect,
    data_payload,
    echo,
    frame,
    port_of,
)

SID = "sess_0123456789abcdefghij"

# --- the basics -------------------------------------------------------------------------------


async def test_connect_echo_and_session_properties(net: Net) -> None:
    server = await net.server(echo, session_timeout_ms=4_000)
    client = await net.client(server, ping_interval_ms=1_500, ping_timeout_ms=700)
    assert client.state is State.ESTABLISHED
    assert client.id is not None
    assert re.fullmatch(SESSION_ID_PATTERN, client.id)
    (server_side,) = server.sessions
    assert server_side.id == client.id
    assert client.remote_address == f"{LOCALHOST}:{port_of(server)}"
    assert client.close_reason is None
    assert client.closed_by_peer is None

    negotiated = client.negotiated
    assert negotiated is not None
    assert negotiated.version == "1.0"
    assert negotiated.algorithms == default_algorithms()
    assert negotiated.session_timeout_ms == 4_000  # the server's value applies on both ends
    assert negotiated.max_payload_size == 0
    assert negotiated.security_scanning is False
    assert negotiated.ping_interval_ms == 1_500
    assert negotiated.ping_timeout_ms == 700
    assert server_side.negotiated is not None
    assert server_side.negotiated.algorithms == negotiated.algorithms

    await client.send("hello")
    assert await client.recv() == "hello"


async def test_client_preference_does_not_override_the_server_order(net: Net) -> None:
    server = await net.server(algorithms=["NONE", "BROTLI"])
    client = await net.client(server, algorithms=["BROTLI", "NONE"])
    assert client.negotiated is not None
    assert client.negotiated.algorithms == ("NONE", "BROTLI")


async def test_max_payload_size_is_the_smaller_limit_and_is_enforced_locally(net: Net) -> None:
    server = await net.server(max_payload_size=2_000)
    client = await net.client(server, max_payload_size=1_000)
    assert client.negotiated is not None
    assert client.negotiated.max_payload_size == 1_000
    with pytest.raises(ProtocolError):
        await client.send(b"x" * 1_001)
    assert client.state is State.ESTABLISHED  # refused locally: nothing was sent
    await client.send(b"x" * 1_000)
    assert await client.recv() == b"x" * 1_000


@pytest.mark.guard(20)
@pytest.mark.parametrize("compressible", [True, False], ids=["compressible", "incompressible"])
async def test_content_over_the_16_mib_cap_is_refused_locally(net: Net, compressible: bool) -> None:
    server = await net.server()
    client = await net.client(server)
    size = 16 * 1024 * 1024 + 1
    payload = b"x" * size if compressible else os.urandom(size)
    with pytest.raises(M2MError):
        await client.send(payload)
    assert client.state is State.ESTABLISHED
    await client.send("still open")
    assert await client.recv() == "still open"


async def test_types_are_preserved(net: Net) -> None:
    server = await net.server()
    client = await net.client(server)
    cases: list[Any] = [
        "text",
        b"bytes",
        "",
        b"",
        "unicod\u00e9 \u2603 \U0001f916",
        b"\x00\xff" * 10,
        "long text " * 100,  # over the compression threshold: BROTLI, still a str
        bytes(range(256)) * 8,
    ]
    for value in cases:
        await client.send(value)
        back = await client.recv()
        assert type(back) is type(value)
        assert back == value
    # Any bytes-like object goes out as bytes (the engine accepts them; see its isinstance).
    await client.send(bytearray(b"array"))
    assert await client.recv() == b"array"
    await client.send(memoryview(b"view"))
    assert await client.recv() == b"view"


async def test_explicit_algorithms(net: Net) -> None:
    server = await net.server(algorithms=["NONE"])
    client = await net.client(server)
    with pytest.raises(CapabilityMismatchError):
        await client.send("x", algorithm="BROTLI")
    assert client.state is State.ESTABLISHED
    await client.send("y", algorithm="NONE")
    assert await client.recv() == "y"

    brotli_only = await net.server(algorithms=["BROTLI"])
    compressed = await net.client(brotli_only)
    for value in ("s", b"", b"tiny"):
        await compressed.send(value)
        assert await compressed.recv() == value


@pytest.mark.guard(20)
async def test_ten_thousand_pipelined_messages_both_ways(net: Net) -> None:
    server = await net.server()
    client = await net.client(server)
    count = 10_000
    messages: list[bytes | str] = [
        f"message {i}" if i % 2 else f"bytes {i}".encode() for i in range(count)
    ]
    for message in messages:
        await client.send(message)
    received = [await client.recv() for _ in range(count)]
    assert received == messages
    assert [type(m) for m in received] == [type(m) for m in messages]
    stats = client.stats
    assert stats.data_sent == count
    assert stats.data_received == count
    (server_side,) = server.sessions
    assert server_side.stats.data_received == count
    assert server_side.stats.data_sent == count


@pytest.mark.guard(20)
async def test_eight_mib_round_trip_is_compressed(net: Net) -> None:
    server = await net.server()
    client = await net.client(server)
    line = b'{"role": "assistant", "content": "the same sentence again and again"}\n'
    big = (line * (8 * 1024 * 1024 // len(line) + 1))[: 8 * 1024 * 1024]
    await client.send(big)
    assert await client.recv() == big
    stats = client.stats
    assert stats.payload_bytes_sent == len(big)
    assert stats.payload_bytes_received == len(big)
    assert stats.bytes_saved > len(big)  # both directions shrank by more than half
    assert stats.bytes_sent < len(big) // 10  # so BROTLI was used on the wire
    assert stats.bytes_received < len(big) // 10


@pytest.mark.guard(20)
async def test_eight_mib_incompressible_round_trip(net: Net) -> None:
    server = await net.server()
    client = await net.client(server)
    noise = os.urandom(8 * 1024 * 1024)
    await client.send(noise)
    assert await client.recv() == noise
    assert client.stats.bytes_saved <= 0  # sent as NONE: nothing saved, nothing lost
    assert client.stats.bytes_sent > len(noise)


async def test_ping_rtt_and_stats(net: Net) -> None:
    server = await net.server()
    client = await net.client(server)
    before = client.stats.messages_sent, client.stats.messages_received
    rtt = await client.ping()
    assert 0 < rtt < 1
    rtts = await asyncio.gather(client.ping(), client.ping(), client.ping())
    assert all(0 < r < 1 for r in rtts)
    stats = client.stats
    assert stats.messages_sent == before[0] + 4
    assert stats.messages_received == before[1] + 4
    assert stats.data_sent == 0
    await client.send(b"abc")
    await client.recv()
    assert stats.data_sent == 1
    assert stats.data_received == 1
    assert stats.payload_bytes_sent == 3
    assert stats.bytes_sent > 0
    assert stats.bytes_received > 0


# --- closing from the client --------------------------------------------------------------------


async def test_close_normal_then_every_operation_refuses(net: Net) -> None:
    ended: asyncio.Future[Session] = asyncio.get_running_loop().create_future()

    async def watch(session: Session) -> None:
        await collect(session)
        ended.set_result(session)

    server = await net.server(watch)
    client = await net.client(server)
    await client.close()
    assert client.state is State.CLOSED
    assert client.close_reason is CloseReason.NORMAL
    assert client.closed_by_peer is False
    with pytest.raises(SessionNotEstablished):
        await client.send("late")
    with pytest.raises(SessionNotEstablished):
        await client.recv()
    with pytest.raises(SessionNotEstablished):
        await client.ping()
    assert await collect(client) == []
    await client.close()  # closing a closed session does nothing
    server_side = await ended
    assert server_side.close_reason is CloseReason.NORMAL
    assert server_side.closed_by_peer is True


async def test_async_with_exit_closes_normal(net: Net) -> None:
    server = await net.server()
    async with await net.client(server) as client:
        await client.send("in the block")
        assert await client.recv() == "in the block"
    assert client.close_reason is CloseReason.NORMAL
    assert client.state is State.CLOSED


async def test_close_client_shutdown(net: Net) -> None:
    reasons: asyncio.Queue[CloseReason | None] = asyncio.Queue()

    async def watch(session: Session) -> None:
        await collect(session)
        await reasons.put(session.close_reason)

    server = await net.server(watch)
    client = await net.client(server)
    await client.close(CloseReason.CLIENT_SHUTDOWN, "process stopping")
    assert client.close_reason is CloseReason.CLIENT_SHUTDOWN
    assert await reasons.get() is CloseReason.CLIENT_SHUTDOWN


async def test_close_wakes_a_blocked_receiver(net: Net) -> None:
    server = await net.server()
    client = await net.client(server)
    receiver = asyncio.create_task(client.recv())
    await asyncio.sleep(0.05)
    await client.close()
    with pytest.raises(SessionNotEstablished):
        await receiver
    client2 = await net.client(server)
    iterator = asyncio.create_task(collect(client2))
    await asyncio.sleep(0.05)
    await client2.close()
    assert await iterator == []


async def test_concurrent_receivers_are_all_served(net: Net) -> None:
    server = await net.server()
    client = await net.client(server)
    first = asyncio.create_task(client.recv())
    await asyncio.sleep(0.01)
    second = asyncio.create_task(client.recv())
    await asyncio.sleep(0.01)
    await client.send("one")
    await client.send("two")
    done, pending = await asyncio.wait([first, second], timeout=1.0)
    for task in pending:
        task.cancel()
    assert not pending, "a receiver was left waiting although a message sat in the inbox"
    assert sorted(str(task.result()) for task in done) == ["one", "two"]


async def test_close_is_seen_on_the_wire_by_a_raw_server(net: Net) -> None:
    seen: asyncio.Future[list[Frame]] = asyncio.get_running_loop().create_future()

    async def script(peer: RawPeer) -> None:
        hello = await peer.expect("HELLO")
        assert hello.session_id is None
        await peer.write(frame("ACCEPT", accept_payload(), SID))
        seen.set_result([await peer.expect()])
        # and the script ends: the connection closes, as the receiver of CLOSE does

    raw = await net.raw_server(script)
    client = await net.client(raw)
    await client.close(CloseReason.NORMAL, "done here")
    assert client.close_reason is CloseReason.NORMAL
    frames = await seen
    assert [(f.type, f.session_id) for f in frames] == [("CLOSE", SID)]
    assert frames[0].payload["reason"] == "NORMAL"
    assert frames[0].payload.get("message") == "done here"


async def test_the_hello_a_raw_server_receives(net: Net) -> None:
    seen: asyncio.Future[Frame] = asyncio.get_running_loop().create_future()

    async def script(peer: RawPeer) -> None:
        seen.set_result(await peer.expect("HELLO"))
        await peer.write(frame("REJECT", {"code": "UNKNOWN", "message": "just looking"}))

    raw = await net.raw_server(script)
    with pytest.raises(NegotiationFailed) as info:
        await net.client(
            raw,
            algorithms=["NONE", "BROTLI"],
            agent_id="agent_7",
            max_payload_size=4096,
            security_scanning=True,
            encodings=["O200K_BASE"],
            preferred_encoding="O200K_BASE",
        )
    assert info.value.code is RejectCode.UNKNOWN
    assert info.value.server_message == "just looking"
    hello = await seen
    assert hello.session_id is None
    assert hello.payload["version"] == "1.0"
    assert hello.payload["algorithms"] == ["NONE", "BROTLI"]
    assert hello.payload["agent_id"] == "agent_7"
    assert hello.payload["max_payload_size"] == 4096
    assert hello.payload["security_scanning"] is True
    assert hello.payload["encodings"] == ["O200K_BASE"]
    assert hello.payload["preferred_encoding"] == "O200K_BASE"


async def test_reject_with_an_unknown_code_reads_as_unknown(net: Net) -> None:
    async def script(peer: RawPeer) -> None:
        await peer.expect("HELLO")
        await peer.write(frame("REJECT", {"code": "TEAPOT", "message": "short and stout"}))
        await peer.expect_eof()

    raw = await net.raw_server(script)
    with pytest.raises(NegotiationFailed) as info:
        await net.client(raw)
    assert info.value.code is RejectCode.UNKNOWN
    assert info.value.server_message == "short and stout"


# --- order: DATA before CLOSE -------------------------------------------------------------------


async def test_data_written_with_close_is_delivered_before_the_end(net: Net) -> None:
    async def script(peer: RawPeer) -> None:
        await peer.expect("HELLO")
        await peer.write(frame("ACCEPT", accept_payload(), SID))
        await peer.expect("DATA")  # the client's "go"
        await peer.write(
            frame("DATA", data_payload(b"first"), SID)
            + frame("DATA", data_payload(b"second", text=True), SID)
            + frame("CLOSE", {"reason": "NORMAL"}, SID)
        )
        await peer.expect_eof()  # the receiver of CLOSE answers by closing, not with CLOSE

    raw = await net.raw_server(script)
    client = await net.client(raw)
    await client.send("go")
    assert await collect(client) == [b"first", "second"]
    assert client.close_reason is CloseReason.NORMAL
    assert client.closed_by_peer is True


async def test_raw_client_data_written_with_close_reaches_the_handler(net: Net) -> None:
    result: asyncio.Future[tuple[list[bytes | str], CloseReason | None]] = (
        asyncio.get_running_loop().create_future()
    )

    async def gather_all(session: Session) -> None:
        got = await collect(session)
        result.set_result((got, session.close_reason))

    server = await net.server(gather_all)
    peer = await net.raw(server)
    await peer.handshake()
    await peer.write(
        b"".join(frame("DATA", data_payload(f"{i}".encode()), peer.session_id) for i in range(5))
        + frame("CLOSE", {}, peer.session_id)  # no reason: NORMAL
    )
    got, reason = await result
    assert got == [b"0", b"1", b"2", b"3", b"4"]
    assert reason is CloseReason.NORMAL
    await peer.expect_eof()


async def test_accept_data_and_close_in_one_segment(net: Net) -> None:
    async def script(peer: RawPeer) -> None:
        await peer.expect("HELLO")
        await peer.write(
            frame("ACCEPT", accept_payload(), SID)
            + frame("DATA", data_payload(b"welcome"), SID)
            + frame("CLOSE", {"reason": "NORMAL"}, SID)
        )
        await peer.expect_eof()

    raw = await net.raw_server(script)
    client = await net.client(raw)
    assert await collect(client) == [b"welcome"]
    assert client.close_reason is CloseReason.NORMAL


# --- servers that break the protocol -------------------------------------------------------------


async def misbehaving_server(net: Net, answer: bytes) -> tuple[int, asyncio.Future[list[Frame]]]:
    """A raw server that answers HELLO with ``answer`` and records what the client sends."""
    seen: asyncio.Future[list[Frame]] = asyncio.get_running_loop().create_future()

    async def script(peer: RawPeer) -> None:
        await peer.expect("HELLO")
        await peer.write(answer)
        seen.set_result(await peer.frames_until_eof())

    raw = await net.raw_server(script)
    return port_of(raw), seen


async def connect_then_recv(net: Net, port: int, **options: Any) -> M2MError:
    """The error from ``connect`` or, if it returned, from the next ``recv``."""
    try:
        session = await net.client(port, **options)
    except M2MError as error:
        return error
    with pytest.raises(M2MError) as info:
        await session.recv()
    return info.value


ACCEPT = frame("ACCEPT", accept_payload(), SID)

BROKEN_SERVERS = {
    "accept-twice": (ACCEPT + ACCEPT, ProtocolError),
    "data-before-accept": (frame("DATA", data_payload(b"early"), SID) + ACCEPT, ProtocolError),
    "ping-before-accept": (frame("PING", {}, SID), ProtocolError),
    "accept-unoffered-algorithm": (
        frame("ACCEPT", accept_payload(algorithms=["BROTLI"]), SID),
        CapabilityMismatchError,
    ),
    "accept-other-major": (
        frame("ACCEPT", accept_payload(version="2.0"), SID),
        CapabilityMismatchError,
    ),
    "accept-without-session-id": (frame("ACCEPT", accept_payload(), None), InvalidMessageError),
    "accept-empty-algorithms": (frame("ACCEPT", accept_payload(algorithms=[]), SID), M2MError),
    "reject-after-accept": (
        ACCEPT + frame("REJECT", {"code": "UNKNOWN", "message": "changed my mind"}),
        ProtocolError,
    ),
    "hello-to-the-client": (ACCEPT + frame("HELLO", {"version": "1.0"}), ProtocolError),
    "data-not-negotiated": (
        frame("ACCEPT", accept_payload(algorithms=["NONE"]), SID)
        + frame("DATA", data_payload(b"x", algorithm="BROTLI"), SID),
        CapabilityMismatchError,
    ),
    "foreign-session-id": (ACCEPT + frame("DATA", data_payload(b"x"), "sess_other"), ProtocolError),
    "not-msgpack": (ACCEPT + b"\x00\x00\x00\x02\xc1\xc1", InvalidMessageError),
}


@pytest.mark.parametrize("case", list(BROKEN_SERVERS))
async def test_server_breaking_the_protocol(net: Net, case: str) -> None:
    answer, family = BROKEN_SERVERS[case]
    port, seen = await misbehaving_server(net, answer)
    error = await connect_then_recv(
        net, port, algorithms=["NONE"] if case == "accept-unoffered-algorithm" else None
    )
    assert isinstance(error, family), repr(error)
    frames = await seen
    # The client told the server why, once, and closed the connection.
    assert [f.type for f in frames] == ["CLOSE"], frames
    assert frames[0].payload["reason"] == "ERROR"
    assert frames[0].payload.get("message")


async def test_unknown_message_types_and_keys_are_ignored(net: Net) -> None:
    async def script(peer: RawPeer) -> None:
        await peer.expect("HELLO")
        await peer.write(
            frame("ACCEPT", accept_payload(future_field=[1, 2]), SID, trace_id="abc")
            + frame("FUTURE_THING", {"whatever": True}, SID)
            + frame("DATA", data_payload(b"still fine", hint="zzz"), SID)
        )
        await peer.send("PING", session_id=SID)
        pong = await peer.expect("PONG")
        assert pong.session_id == SID
        await peer.expect_close("NORMAL")

    raw = await net.raw_server(script)
    client = await net.client(raw)
    assert await client.recv() == b"still fine"
    await asyncio.sleep(0.1)  # let the PING/PONG exchange happen
    await client.close()


# --- failures to connect ----------------------------------------------------------------------


async def test_connection_refused_is_a_network_error(net: Net) -> None:
    with socket.socket() as probe:
        probe.bind((LOCALHOST, 0))
        port = probe.getsockname()[1]
    with pytest.raises(NetworkError):
        await net.client(port)


async def test_connection_lost_after_accept(net: Net) -> None:
    async def script(peer: RawPeer) -> None:
        await peer.expect("HELLO")
        await peer.write(ACCEPT + frame("DATA", data_payload(b"last words"), SID))
        await peer.close()

    raw = await net.raw_server(script)
    client = await net.client(raw)
    assert await client.recv() == b"last words"
    with pytest.raises(NetworkError):
        await client.recv()
    assert client.close_reason is None
    assert client.state is State.CLOSED
    with pytest.raises(SessionNotEstablished):
        await client.send("anyone?")


@pytest.mark.parametrize(
    "options",
    [
        {"agent_id": "bad id!"},
        {"max_payload_size": -1},
        {"algorithms": ["LZ77"]},
        {"algorithms": []},
        {"handshake_timeout": 0},
        {"ping_timeout_ms": -5},
    ],
)
async def test_bad_client_options_raise_config_error(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        await Session.connect(LOCALHOST, 9, **options)
