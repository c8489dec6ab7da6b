"""m2m_session crypto benchmark: encrypted sessions (AEAD, HMAC) against plaintext, in one run.

    .venv/bin/python bench/crypto_bench.py           # the full run, about a minute
    .venv/bin/python bench/crypto_bench.py --quick   # smaller counts, one repetition

The echo server runs in a separate spawned process (it accepts AEAD, HMAC and NONE); the
clients run here. Every measurement alternates the modes back to back, ``reps`` times, and the
ratio reported is the median of the paired per-repetition ratios (mode / plaintext), as in
bench/run.py. See bench/CRYPTO.md for the method and the last results.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import multiprocessing
import os
import platform
import statistics
import struct
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from multiprocessing.connection import Connection
from typing import Any

import bench_procs
from bench_workloads import (
    HOST,
    BenchError,
    m2m_echo,
    session_pipelined,
    session_round_trips,
    timed_sequence,
)
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

import m2m_session

CTX = multiprocessing.get_context("spawn")

#: The modes compared; "NONE" is the plaintext baseline (``encrypt=False``).
MODES = ("NONE", "AEAD", "HMAC")
#: AEAD must reach this share of the plaintext rate at 1 KB.
TARGET = 0.8
#: No compressor on either side: the payloads are random, and the sessions negotiate NONE.
ALGORITHMS = "NONE"


@dataclass(frozen=True)
class Config:
    reps: int = 5
    rt_1k: int = 3_000
    pipe_1k: int = 10_000
    rt_64k: int = 400
    pipe_64k: int = 1_000
    handshakes: int = 300
    warmup: int = 50


FULL = Config()
QUICK = Config(reps=1, rt_1k=500, pipe_1k=2_000, rt_64k=100, pipe_64k=200, handshakes=100)


@dataclass
class Row:
    metric: str
    mode: str
    rate: float  # best of the repetitions, per second
    ratio: float  # median of the paired mode/plaintext ratios
    target: str
    result: str


# --- the server (a spawned child) -----------------------------------------------------------------


def server_main(conn: Connection) -> None:
    def body() -> None:
        bench_procs.quiet_logging()
        bench_procs.run(_server(conn), False)

    bench_procs.child(conn, body)


async def _server(conn: Connection) -> None:
    server = await m2m_session.serve(
        m2m_echo, HOST, 0, rate_limit=None, algorithms=ALGORITHMS, backlog=bench_procs.BACKLOG
    )
    bare = await asyncio.start_server(_bare_echo, HOST, 0)
    commands = bench_procs.Commands(conn)
    ports = (server.sockets[0].getsockname()[1], bare.sockets[0].getsockname()[1])
    conn.send(("ready", *ports))
    try:
        while (await commands.get())[0] != "stop":
            pass
    finally:
        commands.close()
        for listener in (server, bare):
            listener.close()
            await listener.wait_closed()
    conn.send(("stopped",))


# --- the bare reference: length-prefixed frames over asyncio streams, no engine -------------------
#
# What the library alone costs: the same ChaCha20-Poly1305 calls per message (counter nonce,
# 8-byte associated data) on a minimal echo, so "added by AEAD" can be compared between the
# engine and code that does nothing else. The first byte of a connection picks the mode.

_BARE_KEY = bytes(range(32))
_LENGTH = struct.Struct(">I")


class _BareCipher:
    """Counter-nonce ChaCha20-Poly1305 in one direction, or the identity for ``NONE``."""

    def __init__(self, mode: str) -> None:
        self._aead = ChaCha20Poly1305(_BARE_KEY) if mode == "AEAD" else None
        self._counter = 0

    def _nonce(self) -> tuple[bytes, bytes]:
        counter = self._counter.to_bytes(8, "big")
        self._counter += 1
        return bytes(4) + counter, counter

    def seal(self, data: bytes) -> bytes:
        if self._aead is None:
            return data
        nonce, ad = self._nonce()
        return self._aead.encrypt(nonce, data, ad)

    def open(self, data: bytes) -> bytes:
        if self._aead is None:
            return data
        nonce, ad = self._nonce()
        return self._aead.decrypt(nonce, data, ad)


async def _read_frame(reader: asyncio.StreamReader) -> bytes:
    return await reader.readexactly(_LENGTH.unpack(await reader.readexactly(4))[0])


async def _bare_echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        mode = "AEAD" if await reader.readexactly(1) == b"A" else "NONE"
        inbound, outbound = _BareCipher(mode), _BareCipher(mode)
        while True:
            message = inbound.open(await _read_frame(reader))
            sealed = outbound.seal(message)
            writer.write(_LENGTH.pack(len(sealed)) + sealed)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def bare_round_trips(port: int, mode: str, count: int, payload: bytes, warmup: int) -> float:
    """Round trips against :func:`_bare_echo`: the library's cost with no engine around it."""
    reader, writer = await asyncio.open_connection(HOST, port)
    outbound, inbound = _BareCipher(mode), _BareCipher(mode)

    async def one() -> bytes:
        sealed = outbound.seal(payload)
        writer.write(_LENGTH.pack(len(sealed)) + sealed)
        await writer.drain()
        return inbound.open(await _read_frame(reader))

    try:
        writer.write(b"A" if mode == "AEAD" else b"N")
        for _ in range(warmup):
            await one()
        started = time.perf_counter()
        for _ in range(count):
            if await one() != payload:
                raise BenchError("bare echo differs from what was sent")
        return time.perf_counter() - started
    finally:
        writer.close()
        await writer.wait_closed()


# --- workloads (clients, here) --------------------------------------------------------------------


def _encrypt(mode: str) -> bool | list[str]:
    return False if mode == "NONE" else [mode]


async def _connect(port: int, mode: str) -> m2m_session.Session:
    session = await m2m_session.Session.connect(
        HOST, port, algorithms=ALGORITHMS, encrypt=_encrypt(mode)
    )
    negotiated = session.negotiated
    if negotiated is None or negotiated.security_mode != mode:
        raise BenchError(f"asked for {mode}, negotiated {negotiated}")
    return session


async def round_trips(port: int, mode: str, count: int, payload: bytes, warmup: int) -> float:
    return await session_round_trips(await _connect(port, mode), count, payload, warmup)


async def pipelined(port: int, mode: str, count: int, payload: bytes, warmup: int) -> float:
    return await session_pipelined(await _connect(port, mode), count, payload, warmup)


async def handshakes(port: int, mode: str, count: int, payload: bytes, warmup: int) -> float:
    """connect (HELLO -> ACCEPT, with an X25519 exchange when encrypting) then close, in
    sequence; no DATA."""
    del payload

    async def one() -> None:
        await (await _connect(port, mode)).close()

    return await timed_sequence(one, count, warmup)


Workload = Callable[[int, str, int, bytes, int], Awaitable[float]]


async def _paired(
    label: str,
    workload: Workload,
    port: int,
    modes: tuple[str, ...],
    count: int,
    payload: bytes,
    cfg: Config,
) -> dict[str, list[float]]:
    """Each repetition runs every mode back to back (the order rotating); rates per mode."""
    rates: dict[str, list[float]] = {mode: [] for mode in modes}
    for rep in range(cfg.reps):
        order = list(modes[rep % len(modes) :] + modes[: rep % len(modes)])
        for mode in order:
            gc.collect()
            seconds = await workload(port, mode, count, payload, cfg.warmup)
            rates[mode].append(count / seconds)
        base = rates["NONE"][-1]
        print(
            f"  {label:<28} rep {rep + 1}: "
            + "   ".join(
                f"{mode} {rates[mode][-1]:>9,.0f}/s ({rates[mode][-1] / base:.2f})"
                for mode in modes
            ),
            flush=True,
        )
    return rates


def _rows(metric: str, rates: dict[str, list[float]], target: float | None) -> list[Row]:
    rows = []
    for mode, samples in rates.items():
        ratio = statistics.median(m / b for m, b in zip(samples, rates["NONE"], strict=True))
        targeted = target is not None and mode == "AEAD"
        rows.append(
            Row(
                metric=metric,
                mode="plaintext" if mode == "NONE" else mode,
                rate=max(samples),
                ratio=ratio,
                target=f">= {target:.1f}x" if targeted else "",
                result=("PASS" if ratio >= target else "MISS") if targeted and target else "",
            )
        )
    return rows


async def measure(port: int, bare_port: int, cfg: Config) -> list[Row]:
    small, large = os.urandom(1024), os.urandom(64 * 1024)
    rows: list[Row] = []
    plan: list[tuple[str, str, Workload, int, bytes, float | None]] = [
        ("rt 1KB", f"round trips/s, 1 KB ({cfg.rt_1k:,})", round_trips, cfg.rt_1k, small, TARGET),
        (
            "pipe 1KB",
            f"pipelined msgs/s, 1 KB ({cfg.pipe_1k:,})",
            pipelined,
            cfg.pipe_1k,
            small,
            TARGET,
        ),
        ("rt 64KB", f"round trips/s, 64 KB ({cfg.rt_64k:,})", round_trips, cfg.rt_64k, large, None),
        (
            "pipe 64KB",
            f"pipelined msgs/s, 64 KB ({cfg.pipe_64k:,})",
            pipelined,
            cfg.pipe_64k,
            large,
            None,
        ),
    ]
    for label, metric, workload, count, payload, target in plan:
        rates = await _paired(label, workload, port, MODES, count, payload, cfg)
        rows += _rows(metric, rates, target)
    rates = await _paired(
        "bare streams rt 1KB", bare_round_trips, bare_port, ("NONE", "AEAD"), cfg.rt_1k, small, cfg
    )
    rows += _rows(f"bare streams (no engine) round trips/s, 1 KB ({cfg.rt_1k:,})", rates, None)
    rates = await _paired(
        "handshakes (connect+close)", handshakes, port, ("NONE", "AEAD"), cfg.handshakes, b"", cfg
    )
    rows += _rows(f"handshakes/s, sequential ({cfg.handshakes:,})", rates, None)
    for row in rows[-2:]:
        row.mode = "no key exchange" if row.mode == "plaintext" else "X25519 + HKDF (AEAD)"
    return rows


# --- output ---------------------------------------------------------------------------------------


def _added_cost(rows: list[Row]) -> str:
    """What AEAD adds to one 1 KB round trip, in the engine and in the bare reference."""

    def added(prefix: str) -> float:
        rates = {row.mode: row.rate for row in rows if row.metric.startswith(prefix)}
        return 1e6 / rates["AEAD"] - 1e6 / rates["plaintext"]

    engine = added("round trips/s, 1 KB")
    bare = added("bare streams")
    return (
        f"AEAD adds per 1 KB round trip (best rates): engine {engine:.1f} us, bare streams "
        f"{bare:.1f} us (4 ChaCha20-Poly1305 calls each: seal and open on both sides)"
    )


def format_table(rows: list[Row]) -> str:
    header = ("metric", "mode", "rate", "vs plaintext", "target", "result")
    lines = [
        (r.metric, r.mode, f"{r.rate:,.0f}/s", f"{r.ratio:.2f}x", r.target, r.result) for r in rows
    ]
    widths = [max(len(line[i]) for line in [header, *lines]) for i in range(len(header))]

    def line(cells: tuple[str, ...]) -> str:
        out = [
            cell.rjust(w) if i in (2, 3) else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "| " + " | ".join(out) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), rule, *(line(cells) for cells in lines)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="smaller counts, one repetition")
    parser.add_argument("--reps", type=int, help="repetitions of each measurement")
    parser.add_argument("--strict", action="store_true", help="exit 1 when the target is missed")
    args = parser.parse_args(argv)
    cfg = QUICK if args.quick else FULL
    if args.reps:
        cfg = Config(**{**asdict(cfg), "reps": args.reps})

    bench_procs.quiet_logging()
    print("m2m_session crypto benchmark: AEAD and HMAC sessions vs plaintext, loopback")
    print(
        f"  python {platform.python_version()}; {platform.machine()}, {os.cpu_count()} CPUs;"
        f" m2m_session {m2m_session.__version__}; payloads os.urandom, algorithm {ALGORITHMS}"
    )
    print(f"  config: {asdict(cfg)}\n", flush=True)

    conn, child_end = CTX.Pipe()
    process = CTX.Process(target=server_main, args=(child_end,), daemon=True)
    process.start()
    child_end.close()
    started = time.perf_counter()
    try:
        if not conn.poll(60):
            raise BenchError("the server did not start")
        ready: tuple[Any, ...] = conn.recv()
        if ready[0] != "ready":
            raise BenchError(f"server failed: {ready}")
        rows = bench_procs.run(measure(ready[1], ready[2], cfg), False)
    finally:
        if process.is_alive():
            conn.send(("stop",))
            if conn.poll(10):
                conn.recv()
        process.join(10)
        if process.is_alive():
            process.terminate()
            process.join(5)
        conn.close()
    elapsed = time.perf_counter() - started

    print()
    print(format_table(rows))
    print(
        f"\nrate: the best of {cfg.reps}; vs plaintext: the median of the {cfg.reps} paired"
        f" (back-to-back) ratios; total {elapsed:.0f} s"
    )
    print(_added_cost(rows))
    missed = [row for row in rows if row.result == "MISS"]
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
