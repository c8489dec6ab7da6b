"""Encrypted sessions (issue 5 section 2) over real sockets, attacked by a relay in the middle.

A :class:`Relay` sits between a real client and a real server on 127.0.0.1. It forwards frames
(4-byte big-endian length + MessagePack body), records every byte that passes in each direction
and lets a test hook rewrite the stream: flip a bit of a DATA's content, replay, swap or drop a
DATA, or rewrite the HELLO's offered security modes. Every attack must end the session with
ERROR and deliver nothing of the attacked DATA; a marker sent through an AEAD session must
never appear on the wire.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import struct
from collections.abc import Callable
from typing import Any

import msgpack
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from m2m_session import (
    CloseReason,
    ConfigError,
    M2MError,
    NegotiationFailed,
    RejectCode,
    Server,
    Session,
)
from m2m_session.crypto.channel import OpeningChannel, SealingChannel
from m2m_session.crypto.exchange import X25519KeyPair
from m2m_session.crypto.handshake import derive_session_keys
from m2m_session.crypto.keys import KeyMaterial
from m2m_session.errors import AeadError, CryptoError, HmacError

from conftest import (
    FAST_CLIENT,
    LOCALHOST,
    READ_TIMEOUT,
    Net,
    RawPeer,
    data_payload,
    envelope,
    eventually,
    frame_bytes,
    hello_payload,
    pack,
    port_of,
)

pytestmark = pytest.mark.guard(8)

MARKER = "TOP-SECRET-MARKER-42"
PSK = bytes(range(32))
OTHER_PSK = bytes(range(1, 33))
AEAD_TAG = 16
HMAC_TAG = 32

C2S = "c2s"
S2C = "s2c"

#: ``hook(direction, data_index, body, decoded)`` returns the bodies to forward instead of
#: ``body`` (``data_index`` counts DATA frames per direction from 0; None for other frames).
Hook = Callable[[str, int | None, bytes, dict[str, Any]], list[bytes]]


def _passthrough(
    direction: str, index: int | None, body: bytes, decoded: dict[str, Any]
) -> list[bytes]:
    return [body]


class Relay:
    """A frame-aware TCP relay from a local port to ``upstream_port``."""

    def __init__(self, upstream_port: int, hook: Hook = _passthrough) -> None:
        self.upstream_port = upstream_port
        self.hook = hook
        self.wire: dict[str, bytearray] = {C2S: bytearray(), S2C: bytearray()}
        #: Every frame forwarded, decoded, in order: (direction, envelope).
        self.frames: list[tuple[str, dict[str, Any]]] = []
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: list[asyncio.StreamWriter] = []
        self.errors: list[BaseException] = []

    @property
    def port(self) -> int:
        assert self._server is not None
        return port_of(self._server)

    async def start(self) -> Relay:
        self._server = await asyncio.start_server(self._on_connect, LOCALHOST, 0)
        return self

    def forwarded(self, direction: str, type_name: str) -> list[dict[str, Any]]:
        return [env for d, env in self.frames if d == direction and env.get("type") == type_name]

    async def _on_connect(
        self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        self._writers.append(client_writer)
        try:
            up_reader, up_writer = await asyncio.open_connection(LOCALHOST, self.upstream_port)
        except OSError:
            client_writer.close()
            return
        self._writers.append(up_writer)
        for args in ((C2S, client_reader, up_writer), (S2C, up_reader, client_writer)):
            task = asyncio.get_running_loop().create_task(self._pump(*args))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pump(
        self, direction: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        data_index = 0
        try:
            while True:
                try:
                    header = await reader.readexactly(4)
                    (length,) = struct.unpack(">I", header)
                    body = await reader.readexactly(length)
                except (asyncio.IncompleteReadError, ConnectionError):
                    break
                decoded = msgpack.unpackb(body, raw=False)
                assert isinstance(decoded, dict), decoded
                index: int | None = None
                if decoded.get("type") == "DATA":
                    index = data_index
                    data_index += 1
                for out in self.hook(direction, index, body, decoded):
                    chunk = frame_bytes(out)
                    self.wire[direction] += chunk
                    self.frames.append((direction, msgpack.unpackb(out, raw=False)))
                    writer.write(chunk)
                with contextlib.suppress(ConnectionError):
                    await writer.drain()
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # a broken hook must fail the test, not hang it
            self.errors.append(exc)
        finally:
            writer.close()

    async def aclose(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in self._writers:
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
        if self.errors:
            raise self.errors[0]


@pytest.fixture
async def relays() -> Any:
    started: list[Relay] = []

    async def start(server: Server, hook: Hook = _passthrough) -> Relay:
        relay = await Relay(port_of(server), hook).start()
        started.append(relay)
        return relay

    try:
        yield start
    finally:
        for relay in started:
            await relay.aclose()


StartRelay = Callable[..., Any]


class Recorder:
    """A server handler that records what it received (and echoes it) and how it ended."""

    def __init__(self, echo: bool = True) -> None:
        self.echo = echo
        self.received: list[bytes | str] = []
        #: Errors the handler's receiving raised (what the application sees from recv).
        self.errors: list[BaseException] = []
        #: Errors its echo sends raised (the session may already have ended).
        self.send_errors: list[BaseException] = []
        self.sessions: list[Session] = []
        self.finished = asyncio.Event()

    async def __call__(self, session: Session) -> None:
        self.sessions.append(session)
        try:
            async for message in session:
                self.received.append(message)
                if self.echo:
                    try:
                        await session.send(message)
                    except M2MError as exc:
                        self.send_errors.append(exc)
        except M2MError as exc:
            self.errors.append(exc)
        finally:
            self.finished.set()


def repack(decoded: dict[str, Any]) -> bytes:
    return pack(decoded)


def flip_content_bit(decoded: dict[str, Any], position: int = 0) -> bytes:
    content = bytearray(decoded["payload"]["content"])
    content[position] ^= 0x01
    decoded["payload"]["content"] = bytes(content)
    return repack(decoded)


# --- attacks on client -> server DATA -------------------------------------------------------


def attack_hook(kind: str, target: int = 1) -> Hook:
    """A hook attacking the client's DATA number ``target`` (0-based)."""
    seen: dict[int, bytes] = {}

    def hook(
        direction: str, index: int | None, body: bytes, decoded: dict[str, Any]
    ) -> list[bytes]:
        if direction != C2S or index is None:
            return [body]
        seen[index] = body
        if kind == "flip" and index == target:
            return [flip_content_bit(decoded)]
        if kind == "flip_tag" and index == target:
            return [flip_content_bit(decoded, position=-1)]
        if kind == "replay" and index == target:
            return [body, seen[target - 1]]
        if kind == "swap" and index == target:
            return []  # held back until the next one passed
        if kind == "swap" and index == target + 1:
            return [body, seen[target]]
        if kind == "drop" and index == target:
            return []
        return [body]

    return hook


def rewrite_hello_modes(modes: list[str]) -> Hook:
    def hook(
        direction: str, index: int | None, body: bytes, decoded: dict[str, Any]
    ) -> list[bytes]:
        if direction == C2S and decoded.get("type") == "HELLO":
            decoded["payload"]["security_modes"] = list(modes)
            return [repack(decoded)]
        return [body]

    return hook


async def drain_until_error(
    session: Session, within: float = READ_TIMEOUT
) -> tuple[list[bytes | str], M2MError]:
    """Messages ``recv()`` returns until it raises; the M2MError it raised."""
    got: list[bytes | str] = []
    try:
        async with asyncio.timeout(within):
            while True:
                try:
                    got.append(await session.recv())
                except M2MError as exc:
                    return got, exc
    except TimeoutError:
        raise AssertionError(
            f"the session is still open after {within} s (state {session.state}); got {got!r}"
        ) from None


async def settle(recorder: Recorder, within: float = READ_TIMEOUT) -> None:
    """Wait for the handler to finish (it may not, if something was wrongly delivered)."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(within):
            await recorder.finished.wait()


async def send_ignoring_end(session: Session, message: bytes | str) -> None:
    """Send; a session that has already ended (the attack landed) may refuse."""
    with contextlib.suppress(M2MError):
        await session.send(message)


def closes_with(relay: Relay, direction: str) -> list[str]:
    return [env["payload"].get("reason", "NORMAL") for env in relay.forwarded(direction, "CLOSE")]


# --- 1. round trips and confidentiality ------------------------------------------------------


@pytest.mark.parametrize(
    ("encrypt", "mode"), [(True, "AEAD"), (["AEAD", "HMAC"], "AEAD"), (["HMAC"], "HMAC")]
)
async def test_round_trip_through_relay(
    net: Net, relays: StartRelay, encrypt: Any, mode: str
) -> None:
    recorder = Recorder()
    server = await net.server(recorder)
    relay: Relay = await relays(server)
    client = await net.client(relay.port, encrypt=encrypt)
    assert client.negotiated is not None
    assert client.negotiated.security_mode == mode
    messages: list[bytes | str] = []
    for i in range(50):
        if i % 2:
            messages.append(f"message {i} " + "é" * i)
        else:
            messages.append(bytes([i % 256]) * (i * 7) + b"\x00\xff")
    messages.append("compressible " * 2_000)  # exercises seal-after-compress
    for message in messages:
        await client.send(message)
    echoed = [await client.recv() for _ in messages]
    assert echoed == messages
    assert recorder.received == messages
    server_session = recorder.sessions[0]
    assert server_session.negotiated is not None
    assert server_session.negotiated.security_mode == mode
    await client.close()
    assert client.close_reason is CloseReason.NORMAL
    for direction in (C2S, S2C):
        assert len(relay.forwarded(direction, "DATA")) == len(messages)


async def test_pipelined_both_directions(net: Net, relays: StartRelay) -> None:
    async def talker(session: Session) -> None:
        for i in range(50):
            await session.send(f"server {i}")
        async for message in session:
            await session.send(message)

    server = await net.server(talker)
    relay: Relay = await relays(server)
    client = await net.client(relay.port, encrypt=True)
    for i in range(50):
        await client.send(f"client {i}")
    got = [await client.recv() for _ in range(100)]
    assert [m for m in got if isinstance(m, str) and m.startswith("server")] == [
        f"server {i}" for i in range(50)
    ]
    assert [m for m in got if isinstance(m, str) and m.startswith("client")] == [
        f"client {i}" for i in range(50)
    ]


@pytest.mark.parametrize("mode", ["AEAD", "HMAC"])
async def test_marker_visibility(net: Net, relays: StartRelay, mode: str) -> None:
    server = await net.server()
    relay: Relay = await relays(server)
    # No compression, so the only thing between the marker and the wire is the sealing.
    client = await net.client(relay.port, encrypt=[mode], algorithms=["NONE"])
    assert client.negotiated is not None
    assert client.negotiated.security_mode == mode
    text = f"before {MARKER} after"
    raw = f"bytes {MARKER} bytes".encode()
    for message in (text, raw):
        await client.send(message)
        assert await client.recv() == message
    await client.close()
    marker = MARKER.encode()
    tag = AEAD_TAG if mode == "AEAD" else HMAC_TAG
    for direction in (C2S, S2C):
        wire = bytes(relay.wire[direction])
        datas = relay.forwarded(direction, "DATA")
        assert len(datas) == 2
        contents = [env["payload"]["content"] for env in datas]
        assert [len(c) for c in contents] == [len(text.encode()) + tag, len(raw) + tag]
        if mode == "AEAD":
            assert marker not in wire, f"{direction}: the marker travelled in clear"
            assert all(marker not in c for c in contents)
        else:
            assert marker in wire, f"{direction}: HMAC mode gives no confidentiality"
            assert [c[:-HMAC_TAG] for c in contents] == [text.encode(), raw]


# --- 2. attacks on sealed DATA ---------------------------------------------------------------

#: attack -> what the server's handler receives of the client's m0..m3 (target = m1).
ATTACK_OUTCOMES: dict[str, list[int]] = {
    "flip": [0],
    "flip_tag": [0],
    "replay": [0, 1],
    "swap": [0],
    "drop": [0],
}

ATTACK_CASES = [("AEAD", kind) for kind in ATTACK_OUTCOMES] + [
    ("HMAC", "flip"),
    ("HMAC", "flip_tag"),
    ("HMAC", "replay"),
    ("HMAC", "swap"),
    ("HMAC", "drop"),
]


@pytest.mark.parametrize(("mode", "kind"), ATTACK_CASES)
async def test_attack_on_client_data_ends_in_error(
    net: Net, relays: StartRelay, mode: str, kind: str
) -> None:
    recorder = Recorder()
    server = await net.server(recorder)
    relay: Relay = await relays(server, attack_hook(kind))
    client = await net.client(relay.port, encrypt=[mode], algorithms=["NONE"])
    messages: list[bytes | str] = [f"m{i} {MARKER}" for i in range(4)]
    await client.send(messages[0])
    assert await client.recv() == messages[0]
    for message in messages[1:]:
        await send_ignoring_end(client, message)

    await settle(recorder)
    expected = [messages[i] for i in ATTACK_OUTCOMES[kind]]
    assert recorder.received == expected, "an attacked DATA (or one after it) was delivered"
    assert len(recorder.errors) == 1, recorder.errors
    family = AeadError if mode == "AEAD" else HmacError
    assert isinstance(recorder.errors[0], family), repr(recorder.errors[0])
    assert isinstance(recorder.errors[0], CryptoError)
    server_session = recorder.sessions[0]
    await eventually(lambda: server_session.close_reason is not None)
    assert server_session.close_reason is CloseReason.ERROR
    assert server_session.closed_by_peer is False

    echoed, error = await drain_until_error(client)
    # The echo of a message delivered just before the attack may not make it out.
    assert echoed == expected[1 : 1 + len(echoed)]
    assert isinstance(error, M2MError)
    assert client.close_reason is CloseReason.ERROR
    assert client.closed_by_peer is True
    assert closes_with(relay, S2C) == ["ERROR"]


@pytest.mark.parametrize("mode", ["AEAD", "HMAC"])
async def test_attack_on_server_data_ends_in_error(net: Net, relays: StartRelay, mode: str) -> None:
    """The other direction: the server's second DATA has a flipped bit; the client refuses."""

    async def talk(session: Session) -> None:
        for i in range(3):
            await session.send(f"s{i}")
        with contextlib.suppress(M2MError):
            await session.recv()

    def hook(
        direction: str, index: int | None, body: bytes, decoded: dict[str, Any]
    ) -> list[bytes]:
        if direction == S2C and index == 1:
            return [flip_content_bit(decoded)]
        return [body]

    server = await net.server(talk)
    relay: Relay = await relays(server, hook)
    client = await net.client(relay.port, encrypt=[mode], algorithms=["NONE"])
    got, error = await drain_until_error(client)
    assert got == ["s0"]
    assert isinstance(error, AeadError if mode == "AEAD" else HmacError), repr(error)
    assert client.close_reason is CloseReason.ERROR
    assert client.closed_by_peer is False
    await eventually(lambda: "ERROR" in closes_with(relay, C2S))


async def test_attack_with_compression_is_an_authentication_failure(
    net: Net, relays: StartRelay
) -> None:
    """Content is sealed after compression: a flipped bit fails authentication (Crypto), not
    decompression."""
    recorder = Recorder(echo=False)
    server = await net.server(recorder)
    relay: Relay = await relays(server, attack_hook("flip", target=0))
    client = await net.client(relay.port, encrypt=True, algorithms=["BROTLI"])
    await send_ignoring_end(client, "compress me " * 500)
    await settle(recorder)
    assert recorder.received == []
    assert len(recorder.errors) == 1
    assert isinstance(recorder.errors[0], AeadError), repr(recorder.errors[0])
    _, error = await drain_until_error(client)
    assert isinstance(error, M2MError)
    assert client.close_reason is CloseReason.ERROR


# --- 3. downgrade ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offer", "rewritten"),
    [
        (["AEAD", "HMAC"], ["HMAC"]),
        (["AEAD", "HMAC"], ["NONE"]),
        (True, ["NONE"]),
        (True, []),
        (["AEAD", "HMAC", "NONE"], ["NONE"]),
    ],
    ids=[
        "AEAD+HMAC-to-HMAC",
        "AEAD+HMAC-to-NONE",
        "AEAD-to-NONE",
        "AEAD-to-empty",
        "AEAD+HMAC+NONE-to-NONE",
    ],
)
async def test_hello_downgrade_never_delivers(
    net: Net, relays: StartRelay, offer: Any, rewritten: list[str]
) -> None:
    """Every rewrite of the offer fails the handshake itself: the server's key confirmation
    was computed over the HELLO it received, not the one the client sent (or the server
    picks a mode the client never offered). No DATA is ever sent, so none can leak."""
    recorder = Recorder()
    server = await net.server(recorder)
    relay: Relay = await relays(server, rewrite_hello_modes(rewritten))
    with pytest.raises(M2MError) as info:
        await net.client(relay.port, encrypt=offer)
    if "HMAC" in rewritten:
        assert isinstance(info.value, HmacError), repr(info.value)
        assert info.value.case is HmacError.Case.VERIFICATION_FAILED
    await asyncio.sleep(0.05)
    assert recorder.received == [], "a DATA was delivered after a downgraded HELLO"
    assert MARKER.encode() not in bytes(relay.wire[C2S]), "plaintext after a downgrade"


# --- 4. pre-shared keys --------------------------------------------------------------------------


@pytest.mark.parametrize("as_key_material", [False, True])
async def test_same_psk_works(net: Net, relays: StartRelay, as_key_material: bool) -> None:
    psk: Any = KeyMaterial(PSK, key_id="org") if as_key_material else PSK
    server_psk: Any = KeyMaterial(PSK, key_id="org") if as_key_material else PSK
    server = await net.server(psk=server_psk)
    relay: Relay = await relays(server)
    client = await net.client(relay.port, encrypt=True, psk=psk)
    assert client.negotiated is not None
    assert client.negotiated.security_mode == "AEAD"
    for i in range(5):
        await client.send(f"psk {i}")
        assert await client.recv() == f"psk {i}"


@pytest.mark.parametrize(
    ("client_psk", "server_psk"),
    [(PSK, OTHER_PSK), (PSK, None), (None, PSK)],
    ids=["different", "client-only", "server-only"],
)
async def test_psk_mismatch_fails_and_delivers_nothing(
    net: Net, relays: StartRelay, client_psk: bytes | None, server_psk: bytes | None
) -> None:
    """Different (or one-sided) PSKs are caught by the ACCEPT's key confirmation, before any
    DATA; the client closes with ERROR and the server's session ends with it."""
    recorder = Recorder()
    server = await net.server(recorder, psk=server_psk)
    relay: Relay = await relays(server)
    options: dict[str, Any] = {"encrypt": True}
    if client_psk is not None:
        options["psk"] = client_psk
    with pytest.raises(HmacError) as info:
        await net.client(relay.port, **options)
    assert info.value.case is HmacError.Case.VERIFICATION_FAILED
    assert "pre-shared" in str(info.value)
    await eventually(lambda: bool(recorder.sessions))
    server_session = recorder.sessions[0]
    await eventually(lambda: server_session.close_reason is not None)
    assert server_session.close_reason is CloseReason.ERROR
    assert recorder.received == []


async def test_short_psk_is_refused(net: Net) -> None:
    server = await net.server()
    with pytest.raises((CryptoError, ValueError)):
        await net.client(server, encrypt=True, psk=b"x" * 31)
    with pytest.raises((CryptoError, ValueError)):
        await net.server(psk=b"x" * 31)


# --- 5 and 6. server policy ----------------------------------------------------------------------


async def test_require_encryption_rejects_a_plain_client(net: Net) -> None:
    server = await net.server(require_encryption=True)
    with pytest.raises(NegotiationFailed) as info:
        await net.client(server)
    assert info.value.code == RejectCode.SECURITY_POLICY


@pytest.mark.parametrize(("encrypt", "mode"), [(True, "AEAD"), (["HMAC"], "HMAC")])
async def test_require_encryption_accepts_an_encrypting_client(
    net: Net, encrypt: Any, mode: str
) -> None:
    server = await net.server(require_encryption=True)
    client = await net.client(server, encrypt=encrypt)
    assert client.negotiated is not None
    assert client.negotiated.security_mode == mode
    await client.send("ok")
    assert await client.recv() == "ok"


async def test_encrypt_cannot_list_none(net: Net) -> None:
    # NONE has no keys: a man in the middle could rewrite the offer down to it unnoticed.
    server = await net.server(require_encryption=True)
    for modes in (["NONE"], ["AEAD", "NONE"]):
        with pytest.raises(ConfigError):
            await net.client(server, encrypt=modes)


async def test_no_common_mode_is_security_policy(net: Net) -> None:
    server = await net.server(security_modes=["AEAD"])
    with pytest.raises(NegotiationFailed) as info:
        await net.client(server, encrypt=["HMAC"])
    assert info.value.code == RejectCode.SECURITY_POLICY


async def test_encrypting_client_to_plain_only_server_is_rejected(net: Net) -> None:
    server = await net.server(security_modes=["NONE"])
    with pytest.raises(NegotiationFailed) as info:
        await net.client(server, encrypt=True)
    assert info.value.code == RejectCode.SECURITY_POLICY


async def test_server_preference_order_wins(net: Net) -> None:
    server = await net.server(security_modes=["HMAC", "AEAD"])
    client = await net.client(server, encrypt=["AEAD", "HMAC"])
    assert client.negotiated is not None
    assert client.negotiated.security_mode == "HMAC"


async def test_plain_client_to_default_server_is_plain(net: Net) -> None:
    server = await net.server()
    client = await net.client(server)
    assert client.negotiated is not None
    assert client.negotiated.security_mode == "NONE"
    await client.send(MARKER)
    assert await client.recv() == MARKER


# --- wire format, checked by a hand-written peer -------------------------------------------------


async def test_client_hello_carries_modes_and_key_share(net: Net) -> None:
    hellos: list[dict[str, Any]] = []

    async def capture(peer: RawPeer) -> None:
        got = await peer.expect("HELLO")
        hellos.append(got.payload)

    raw_server = await net.raw_server(capture)
    for encrypt in (True, ["HMAC", "AEAD"], None):
        options: dict[str, Any] = {} if encrypt is None else {"encrypt": encrypt}
        with pytest.raises(M2MError):
            await Session.connect(LOCALHOST, port_of(raw_server), **{**FAST_CLIENT, **options})
    aead, hmac_first, plain = hellos
    assert aead["security_modes"] == ["AEAD"]
    assert hmac_first["security_modes"] == ["HMAC", "AEAD"]
    for payload in (aead, hmac_first):
        assert type(payload["key_share"]) is bytes
        assert len(payload["key_share"]) == 32
    assert aead["key_share"] != hmac_first["key_share"], "ephemeral keys must be fresh"
    assert "key_share" not in plain
    assert plain.get("security_modes") in (None, ["NONE"])


async def _read_body(peer: RawPeer) -> bytes:
    async with asyncio.timeout(READ_TIMEOUT):
        header = await peer.reader.readexactly(4)
        (length,) = struct.unpack(">I", header)
        return await peer.reader.readexactly(length)


def _documented_confirmation(
    ikm: bytes, hello_body: bytes, mode: str, server_share: bytes, session_id: str
) -> bytes:
    """docs/protocol.md §9 key confirmation, written from the text (no static key here)."""

    def lp(part: bytes) -> bytes:
        return len(part).to_bytes(4, "big") + part

    salt = hashlib.sha256(lp(hello_body)).digest()
    key = HKDF(hashes.SHA256(), 32, salt, b"m2m-session-v1 confirm").derive(ikm)
    fields = lp(mode.encode()) + lp(server_share) + lp(b"") + lp(session_id.encode())
    return hmac.new(key, fields, hashlib.sha256).digest()


@pytest.mark.parametrize("mode", ["AEAD", "HMAC"])
async def test_key_schedule_interoperates_with_a_hand_built_client(net: Net, mode: str) -> None:
    """A raw peer computes the documented key schedule from the exact HELLO / ACCEPT bodies and
    exchanges sealed DATA with the real server's echo handler."""
    server = await net.server(psk=PSK)
    peer = await net.raw(server)
    ours = X25519KeyPair.generate()
    hello_body = pack(
        envelope(
            "HELLO",
            hello_payload(
                algorithms=["NONE"], security_modes=[mode], key_share=ours.public_bytes()
            ),
        )
    )
    await peer.write(frame_bytes(hello_body))
    accept_body = await _read_body(peer)
    accept = msgpack.unpackb(accept_body, raw=False)
    assert accept["type"] == "ACCEPT", accept
    assert accept["payload"]["security_mode"] == mode
    server_share = accept["payload"]["key_share"]
    assert type(server_share) is bytes
    assert len(server_share) == 32
    session_id = accept["session_id"]
    with ours.agree(server_share) as shared:  # wiped when the block ends
        secret = bytes(shared.buffer())
    assert accept["payload"]["key_confirmation"] == _documented_confirmation(
        secret + PSK, hello_body, mode, server_share, session_id
    ), "the ACCEPT's key confirmation is not the documented construction"
    keys = derive_session_keys(
        shared_secret=ours.agree(server_share),
        hello_bytes=hello_body,
        accept_bytes=accept_body,
        role="client",
        psk=PSK,
    )
    sealer = SealingChannel(keys.send, mode, session_id)
    opener = OpeningChannel(keys.receive, mode, session_id)
    for plaintext in (b"first", b"second " + MARKER.encode()):
        sealed = sealer.seal(plaintext)
        await peer.send(
            "DATA",
            data_payload(sealed, "NONE", original_size=len(plaintext)),
            session_id=session_id,
        )
        while True:
            answer = await peer.expect()
            if answer.type != "PING":
                break
        assert answer.type == "DATA", answer
        assert opener.open(answer.payload["content"]) == plaintext
    # A replay of the hand-built peer's first DATA: the server closes with ERROR.
    await peer.send(
        "DATA",
        data_payload(
            SealingChannel(keys.send, mode, session_id).seal(b"first"), "NONE", original_size=5
        ),
        session_id=session_id,
    )
    await peer.expect_close("ERROR")


async def test_plain_hello_gets_no_key_share(net: Net) -> None:
    server = await net.server()
    peer = await net.raw(server)
    accept = await peer.handshake()
    assert "key_share" not in accept.payload
    assert accept.payload.get("security_mode") in (None, "NONE")


# --- pinned static keys (cross-organisation) ---------------------------------------------------


async def test_pinned_static_key_works_and_a_wrong_one_is_refused(net: Net) -> None:
    static = X25519KeyPair.generate()
    server = await net.server(static_key=static)
    pinned = await net.client(server, pinned_key=static.public_bytes())
    assert pinned.negotiated is not None
    assert pinned.negotiated.security_mode == "AEAD"
    await pinned.send("across organisations")
    assert await pinned.recv() == "across organisations"
    # A client that pinned another key refuses this server before any DATA.
    with pytest.raises(CryptoError):
        await net.client(server, pinned_key=X25519KeyPair.generate().public_bytes())


async def test_a_server_without_the_pinned_key_cannot_complete(net: Net) -> None:
    # An impostor offering its own static key in place of the pinned one is refused, and one
    # that offers none is refused too.
    impostor = await net.server(static_key=X25519KeyPair.generate())
    plain = await net.server()
    expected = X25519KeyPair.generate().public_bytes()
    for server in (impostor, plain):
        with pytest.raises(CryptoError):
            await net.client(server, pinned_key=expected)


async def test_copying_the_pinned_public_key_is_not_enough(net: Net) -> None:
    # An impostor that shows the real server's public key without holding its private half
    # cannot compute the ACCEPT's key confirmation: the handshake fails, nothing is sent.
    real = X25519KeyPair.generate()

    class Impostor(X25519KeyPair):
        def public_bytes(self) -> bytes:
            return real.public_bytes()

    impostor = Impostor(X25519KeyPair.generate()._private)
    received: list[bytes | str] = []

    async def record(session: Session) -> None:
        with contextlib.suppress(M2MError):
            async for message in session:
                received.append(message)

    server = await net.server(record, static_key=impostor)
    with pytest.raises(HmacError) as info:
        await net.client(server, pinned_key=real.public_bytes())
    assert info.value.case is HmacError.Case.VERIFICATION_FAILED
    assert received == []
