"""Every codec on the session path, over real sockets; BROTLI_SESSION under load, both ways."""

from __future__ import annotations

import asyncio
import json
import random

import pytest

from m2m_session import Algorithm, CapabilityMismatchError, Session
from m2m_session.codecs import available_algorithms
from m2m_session.codecs.select import TINY

from conftest import Net

STATELESS = [name for name in available_algorithms() if name != Algorithm.BROTLI_SESSION]


def chat_request(turns: int, seed: int = 0) -> bytes:
    """An OpenAI-style chat request carrying ``turns`` user/assistant exchanges."""
    rng = random.Random(seed)
    words = [
        "plan",
        "agent",
        "route",
        "step",
        "verify",
        "cache",
        "token",
        "budget",
        "result",
        "retry",
        "shard",
    ]
    messages = [{"role": "system", "content": "You are the planning agent of a fleet."}]
    for turn in range(turns):
        text = " ".join(rng.choice(words) for _ in range(40))
        messages.append({"role": "user", "content": f"turn {turn}: {text}"})
        messages.append({"role": "assistant", "content": f"done {turn}: {text[::-1]}"})
    return json.dumps({"model": "gpt-4o", "messages": messages, "max_tokens": 256}).encode()


def payload_for(algorithm: str) -> bytes:
    if algorithm == Algorithm.M2M:
        return chat_request(3)
    return ("The quick brown agent relays the plan. " * 40).encode()


@pytest.mark.parametrize("algorithm", [*STATELESS, Algorithm.BROTLI_SESSION.value])
async def test_each_codec_round_trips_over_a_session(net: Net, algorithm: str) -> None:
    server = await net.server(algorithms=[algorithm, "NONE"])
    session = await net.client(server, algorithms=[algorithm, "NONE"])
    data = payload_for(algorithm)
    for _ in range(3):
        await session.send(data, algorithm=algorithm)
        assert await session.recv() == data
    assert session.stats.algorithms_sent == {algorithm: 3}
    assert session.stats.bytes_saved > 0 or algorithm == Algorithm.NONE


async def test_text_travels_as_text_with_every_codec(net: Net) -> None:
    server = await net.server(algorithms=[*STATELESS, "BROTLI_SESSION"])
    session = await net.client(server, algorithms=[*STATELESS, "BROTLI_SESSION"])
    text = "résumé of the plan, step ✓ " * 30
    for algorithm in ("NONE", "BROTLI", "BROTLI_SESSION"):
        await session.send(text, algorithm=algorithm)
        assert await session.recv() == text


async def test_algorithm_outside_the_negotiated_set_is_refused_locally(net: Net) -> None:
    server = await net.server(algorithms=["BROTLI", "NONE"])
    session = await net.client(server)
    with pytest.raises(CapabilityMismatchError):
        await session.send(b"x" * 1000, algorithm="BROTLI_SESSION")
    await session.send(b"still open")
    assert await session.recv() == b"still open"


async def test_auto_selection_prefers_the_session_stream_for_a_conversation(net: Net) -> None:
    algorithms = ["BROTLI_SESSION", *STATELESS]
    server = await net.server(algorithms=algorithms)
    session = await net.client(server, algorithms=algorithms)
    await session.send(b"hi")
    assert await session.recv() == b"hi"
    requests = [chat_request(turn) for turn in range(1, 11)]
    for request in requests:
        await session.send(request)
        assert await session.recv() == request
    # The tiny message goes plain; every turn rides the shared context.
    assert session.stats.algorithms_sent == {"NONE": 1, "BROTLI_SESSION": len(requests)}
    # Bytes on the wire for the whole conversation (frames, HELLO included) against raw JSON.
    raw = sum(len(request) for request in requests)
    assert session.stats.bytes_sent < 0.15 * raw


async def test_brotli_session_carries_messages_larger_than_one_decoder_chunk(net: Net) -> None:
    # The decoder hands out a flushed chunk's output in pieces of about 32 KiB.
    algorithms = ["BROTLI_SESSION", "NONE"]
    server = await net.server(algorithms=algorithms)
    session = await net.client(server, algorithms=algorithms)
    rng = random.Random(7)
    for size in (40_000, 300_000, 2_000_000):
        data = bytes(rng.choice(b"abcdefgh ") for _ in range(size))
        await session.send(data)
        assert await session.recv() == data
    assert session.stats.algorithms_sent == {"BROTLI_SESSION": 3}


async def test_brotli_session_thousands_of_messages_both_directions_at_once(net: Net) -> None:
    count = 2_000
    received_by_server: list[bytes | str] = []

    def message(side: str, index: int) -> bytes:
        return f"{side} message {index}: ".encode() + b"shared context " * (TINY // 15 + 1)

    async def handler(session: Session) -> None:
        async def read() -> None:
            for _ in range(count):
                received_by_server.append(await session.recv())

        async def write() -> None:
            for index in range(count):
                await session.send(message("server", index), algorithm="BROTLI_SESSION")

        await asyncio.gather(read(), write())
        await session.close()

    server = await net.server(handler, algorithms=["BROTLI_SESSION", "NONE"])
    session = await net.client(server, algorithms=["BROTLI_SESSION", "NONE"])

    async def client_write() -> None:
        for index in range(count):
            await session.send(message("client", index), algorithm="BROTLI_SESSION")

    async def client_read() -> list[bytes | str]:
        return [item async for item in session]

    _, got = await asyncio.gather(client_write(), client_read())
    assert got == [message("server", index) for index in range(count)]
    assert received_by_server == [message("client", index) for index in range(count)]
    assert session.stats.algorithms_received == {"BROTLI_SESSION": count}
    # Later messages compress against earlier ones: far below the payload size.
    assert session.stats.bytes_saved > 0.8 * session.stats.payload_bytes_sent
