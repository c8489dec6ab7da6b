"""Timers over real sockets, all configured short (PROTOCOL.md section 6): the server's HELLO
wait, the client's handshake wait, the idle timeout, keep-alive with three missed PONGs, and the
CLOSING wait. Also what local operations raise after a TIMEOUT."""

from __future__ import annotations

import asyncio
import time

import pytest

from m2m_session import (
    CloseReason,
    NetworkError,
    Session,
    SessionExpired,
    SessionNotEstablished,
    State,
)

from conftest import (
    Frame,
    Net,
    RawPeer,
    accept_payload,
    collect,
    frame,
)

SID = "sess_timerstimerstimers1"


async def assert_expired(session: Session) -> None:
    """After a TIMEOUT every operation raises SessionExpired, iteration included."""
    assert session.state is State.CLOSED
    assert session.close_reason is CloseReason.TIMEOUT
    with pytest.raises(SessionExpired):
        await session.recv()
    with pytest.raises(SessionExpired):
        await session.send("late")
    with pytest.raises(SessionExpired):
        await session.ping()
    with pytest.raises(SessionExpired):
        await collect(session)


# --- the server's HELLO wait ------------------------------------------------------------------


@pytest.mark.parametrize("sent", [b"", b"\x00\x00"], ids=["nothing", "half-a-header"])
async def test_hello_wait_closes_a_silent_connection_with_timeout(net: Net, sent: bytes) -> None:
    server = await net.server(hello_timeout=0.2)
    began = time.monotonic()
    peer = await net.raw(server)
    if sent:
        await peer.write(sent)
    close = await peer.expect_close("TIMEOUT")
    elapsed = time.monotonic() - began
    assert close.session_id is None
    await peer.expect_eof()
    assert 0.15 <= elapsed < 1.5
    # The server is still there for everyone else.
    client = await net.client(server)
    await client.send("hi")
    assert await client.recv() == "hi"


# --- the idle timeout -----------------------------------------------------------------------------


async def test_server_idle_timeout_with_a_silent_raw_client(net: Net) -> None:
    ended: asyncio.Future[Session] = asyncio.get_running_loop().create_future()

    async def watch(session: Session) -> None:
        try:
            await collect(session)
        except SessionExpired:
            ended.set_result(session)

    server = await net.server(watch, session_timeout_ms=300, ping_interval_ms=5_000)
    peer = await net.raw(server)
    accept = await peer.handshake()
    assert accept.payload["session_timeout_ms"] == 300
    began = time.monotonic()
    close = await peer.expect_close("TIMEOUT")
    assert close.session_id == accept.session_id
    assert close.payload.get("message")
    await peer.expect_eof()
    assert 0.2 <= time.monotonic() - began < 1.5
    server_side = await ended
    await assert_expired(server_side)


async def test_idle_timeout_between_real_ends(net: Net) -> None:
    server = await net.server(session_timeout_ms=300, ping_interval_ms=5_000)
    client = await net.client(server, ping_interval_ms=5_000)
    assert client.negotiated is not None
    assert client.negotiated.session_timeout_ms == 300
    with pytest.raises(SessionExpired):
        await client.recv()
    await assert_expired(client)


async def test_client_idle_timeout_with_a_silent_raw_server(net: Net) -> None:
    seen: asyncio.Future[Frame] = asyncio.get_running_loop().create_future()

    async def script(peer: RawPeer) -> None:
        await peer.expect("HELLO")
        await peer.write(frame("ACCEPT", accept_payload(session_timeout_ms=300), SID))
        seen.set_result(await peer.expect_close("TIMEOUT"))
        await peer.expect_eof()

    raw = await net.raw_server(script)
    client = await net.client(raw, ping_interval_ms=5_000)
    with pytest.raises(SessionExpired):
        async for _ in client:
            pass
    close = await seen
    assert close.session_id == SID
    assert client.closed_by_peer is False
    await assert_expired(client)


async def test_traffic_keeps_the_idle_timer_from_firing(net: Net) -> None:
    server = await net.server(session_timeout_ms=300, ping_interval_ms=5_000)
    client = await net.client(server, ping_interval_ms=5_000)
    for i in range(10):  # 1 s of traffic, a message every 100 ms
        await client.send(f"tick {i}")
        assert await client.recv() == f"tick {i}"
        await asyncio.sleep(0.1)
    assert client.state is State.ESTABLISHED


async def test_keep_alive_keeps_an_idle_session_open(net: Net) -> None:
    server = await net.server(session_timeout_ms=300, ping_interval_ms=100, ping_timeout_ms=100)
    client = await net.client(server, ping_interval_ms=100, ping_timeout_ms=100)
    await asyncio.sleep(1.0)  # over three idle timeouts without a single DATA
    assert client.state is State.ESTABLISHED
    assert client.stats.messages_received > 3  # PINGs and PONGs kept both ends alive
    await client.send("awake")
    assert await client.recv() == "awake"


async def test_send_after_the_idle_time_ran_out_raises_expired(net: Net) -> None:
    """The idle time is checked at the call, even before the timer had its turn."""
    seen: asyncio.Future[Frame] = asyncio.get_running_loop().create_future()

    async def script(peer: RawPeer) -> None:
        await peer.expect("HELLO")
        await peer.write(frame("ACCEPT", accept_payload(session_timeout_ms=200), SID))
        seen.set_result(await peer.expect())

    raw = await net.raw_server(script)
    client = await net.client(raw, ping_interval_ms=5_000)
    time.sleep(0.3)  # noqa: ASYNC251 (block the loop so that no timer can run first)
    with pytest.raises(SessionExpired):
        await client.send("too late")
    close = await seen
    assert close.type == "CLOSE"
    assert close.payload["reason"] == "TIMEOUT"
    await assert_expired(client)


# --- keep-alive: three missed PONGs ---------------------------------------------------------------


async def test_server_keep_alive_gives_up_after_three_missed_pongs(net: Net) -> None:
    server = await net.server(session_timeout_ms=5_000, ping_interval_ms=100, ping_timeout_ms=100)
    peer = await net.raw(server)
    accept = await peer.handshake()
    began = time.monotonic()
    frames = await peer.frames_until_eof()
    elapsed = time.monotonic() - began
    assert [f.type for f in frames] == ["PING", "PING", "PING", "CLOSE"], frames
    assert all(f.session_id == accept.session_id for f in frames)
    assert frames[-1].payload["reason"] == "TIMEOUT"
    assert 0.3 <= elapsed < 1.5  # interval + three PONG waits


async def test_a_pong_resets_the_missed_count(net: Net) -> None:
    server = await net.server(session_timeout_ms=5_000, ping_interval_ms=100, ping_timeout_ms=100)
    peer = await net.raw(server)
    await peer.handshake()
    types = []
    pings = 0
    while (got := await peer.read_frame()) is not None:
        types.append(got.type)
        if got.type == "PING":
            pings += 1
            if pings == 2:  # answer one PING, late, then never again
                await peer.send("PONG")
    assert types == ["PING"] * 5 + ["CLOSE"], types


async def test_client_keep_alive_gives_up_after_three_missed_pongs(net: Net) -> None:
    seen: asyncio.Future[list[Frame]] = asyncio.get_running_loop().create_future()

    async def script(peer: RawPeer) -> None:
        await peer.expect("HELLO")
        await peer.write(frame("ACCEPT", accept_payload(session_timeout_ms=5_000), SID))
        seen.set_result(await peer.frames_until_eof())

    raw = await net.raw_server(script)
    client = await net.client(raw, ping_interval_ms=100, ping_timeout_ms=100)
    waiting_ping = asyncio.create_task(client.ping())
    with pytest.raises(SessionExpired):
        await client.recv()
    with pytest.raises(SessionExpired):
        await waiting_ping  # an explicit ping() pending at the end fails with the session
    frames = await seen
    assert [f.type for f in frames] == ["PING"] * 4 + ["CLOSE"], frames
    assert frames[-1].payload["reason"] == "TIMEOUT"
    assert client.closed_by_peer is False
    await assert_expired(client)


async def test_timeout_received_from_the_peer_expires_the_session(net: Net) -> None:
    async def script(peer: RawPeer) -> None:
        await peer.expect("HELLO")
        await peer.write(frame("ACCEPT", accept_payload(), SID))
        await peer.expect("DATA")
        await peer.write(frame("CLOSE", {"reason": "TIMEOUT", "message": "you were idle"}, SID))
        await peer.expect_eof()

    raw = await net.raw_server(script)
    client = await net.client(raw)
    await client.send("still there?")
    with pytest.raises(SessionExpired) as info:
        await client.recv()
    assert "you were idle" in str(info.value)
    assert client.closed_by_peer is True
    await assert_expired(client)


# --- the client's handshake wait ----------------------------------------------------------------


async def test_handshake_timeout_is_a_network_error(net: Net) -> None:
    seen: asyncio.Future[list[Frame]] = asyncio.get_running_loop().create_future()

    async def script(peer: RawPeer) -> None:
        seen.set_result(await peer.frames_until_eof())  # accepts, never answers

    raw = await net.raw_server(script)
    began = time.monotonic()
    with pytest.raises(NetworkError):
        await net.client(raw, handshake_timeout=0.2)
    assert 0.15 <= time.monotonic() - began < 1.5
    frames = await seen
    assert [f.type for f in frames] == ["HELLO", "CLOSE"], frames
    assert frames[1].session_id is None
    assert frames[1].payload["reason"] == "TIMEOUT"


async def test_connect_cancelled_mid_handshake_sends_client_shutdown(net: Net) -> None:
    seen: asyncio.Future[list[Frame]] = asyncio.get_running_loop().create_future()

    async def script(peer: RawPeer) -> None:
        seen.set_result(await peer.frames_until_eof())

    raw = await net.raw_server(script)
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.2):
            await net.client(raw, handshake_timeout=5.0)
    frames = await seen
    assert [f.type for f in frames] == ["HELLO", "CLOSE"], frames
    assert frames[1].payload["reason"] == "CLIENT_SHUTDOWN"


# --- the CLOSING wait ------------------------------------------------------------------------


async def test_client_close_waits_at_most_the_closing_timeout(net: Net) -> None:
    seen: asyncio.Future[list[Frame]] = asyncio.get_running_loop().create_future()

    async def script(peer: RawPeer) -> None:
        await peer.expect("HELLO")
        await peer.write(frame("ACCEPT", accept_payload(), SID))
        seen.set_result(await peer.frames_until_eof())  # reads the CLOSE, keeps the line open

    raw = await net.raw_server(script)
    client = await net.client(raw, closing_timeout=0.3)
    began = time.monotonic()
    await client.close()
    elapsed = time.monotonic() - began
    assert 0.25 <= elapsed < 1.5
    assert client.state is State.CLOSED
    assert client.close_reason is CloseReason.NORMAL
    frames = await seen
    assert [f.type for f in frames] == ["CLOSE"]
    with pytest.raises(SessionNotEstablished):
        await client.send("x")


async def test_server_shutdown_waits_at_most_the_closing_timeout(net: Net) -> None:
    server = await net.server(closing_timeout=0.3)
    peer = await net.raw(server)
    await peer.handshake()
    began = time.monotonic()
    server.close()
    await peer.expect_close("SERVER_SHUTDOWN")
    await peer.expect_eof()  # the server hangs up itself when the peer does not
    await server.wait_closed()
    assert 0.25 <= time.monotonic() - began < 1.5


async def test_after_close_nothing_more_is_sent(net: Net) -> None:
    server = await net.server(closing_timeout=0.3, ping_interval_ms=50, ping_timeout_ms=50)
    peer = await net.raw(server)
    await peer.handshake()
    server.close()
    await peer.expect_close("SERVER_SHUTDOWN")
    await peer.send("PING")  # no PONG, and no keep-alive PING either, while CLOSING
    await peer.send("DATA", {"algorithm": "NONE", "content": b"x", "original_size": 1})
    assert await peer.frames_until_eof() == []


@pytest.mark.parametrize("operation", ["ping", "send"])
async def test_an_idle_deadline_already_passed_expires_the_call(net: Net, operation: str) -> None:
    # The loop is blocked past the idle timeout, so no timer has fired yet when the call comes:
    # the call itself must notice, close with TIMEOUT and raise SessionExpired.
    server = await net.server(session_timeout_ms=300, ping_interval_ms=60_000)
    client = await net.client(server, ping_interval_ms=60_000)
    time.sleep(0.4)  # noqa: ASYNC251 - blocking the loop is the point
    call = client.ping() if operation == "ping" else client.send(b"late")
    with pytest.raises(SessionExpired):
        await call
    assert client.state is State.CLOSED
    assert client.close_reason is CloseReason.TIMEOUT
