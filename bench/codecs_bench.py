"""Codec benchmark: bytes on the wire and time per message of every DATA codec, then the bytes
of a 10-turn conversation over real sessions, counted at the socket.

    .venv/bin/python bench/codecs_bench.py           # the full run, under 2 minutes
    .venv/bin/python bench/codecs_bench.py --quick   # fewer repetitions, under 20 s
    .venv/bin/python bench/codecs_bench.py --json bench/results/codecs.json
    .venv/bin/python bench/codecs_bench.py --strict  # exit 1 when a target is missed

The corpus is bench/corpus.py (deterministic, generated). See bench/CODECS.md for what is
measured and how.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import gzip
import json
import logging
import os
import platform
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import brotli
import corpus
import msgpack
import structlog

import m2m_session
from m2m_session.codecs import (
    MAX_DECODED_SIZE,
    Algorithm,
    CodecOptions,
    available_algorithms,
    get_codec,
    token_native,
)
from m2m_session.codecs import m2m as m2m_codec
from m2m_session.codecs.select import is_utf8
from m2m_session.errors import InvalidCodecError
from m2m_session.framing import FrameDecoder

HOST = "127.0.0.1"
OPTIONS = CodecOptions()

#: The session target: the 10 requests over one session, BROTLI_SESSION negotiated, at least
#: this share fewer bytes at the socket (client to server, handshake and close included) than
#: the raw JSON of the 10 requests.
SESSION_TARGET_SAVED = 0.85
#: The speed target: M2M encode + decode of the 1 KB chat request, median, at most this.
SPEED_TARGET_MS = 0.4

Encode = Callable[[bytes], bytes]
Decode = Callable[[bytes], bytes]


class BenchError(Exception):
    """A round trip that did not give the input back, or a session that misbehaved."""


@dataclass(frozen=True)
class Config:
    #: Timing of one (entry, codec) cell: at least ``min_reps`` passes over the entry, more
    #: while the cell has used less than ``budget_s`` seconds, at most ``max_reps``.
    min_reps: int
    max_reps: int
    budget_s: float
    #: Iterations of the 1 KB encode + decode target measurement (fewer when one codec's
    #: iterations would take more than ``speed_budget_s``, as brotli-11's do).
    speed_iterations: int
    speed_budget_s: float


FULL = Config(min_reps=5, max_reps=400, budget_s=0.4, speed_iterations=3000, speed_budget_s=1.5)
QUICK = Config(min_reps=1, max_reps=40, budget_s=0.03, speed_iterations=400, speed_budget_s=0.2)


# --- the methods compared -----------------------------------------------------------------------


@dataclass(frozen=True)
class Method:
    """One way to put a message on the wire.

    ``make`` returns a fresh (encode, decode) pair: for a ``stream`` method one compression
    context that the entry's messages go through in order, for the others coders that keep
    nothing between messages.
    """

    name: str
    make: Callable[[], tuple[Encode, Decode]]
    stream: bool = False
    reference: bool = False
    applies: Callable[[bytes], bool] = lambda _data: True


def _stateless(encode: Encode, decode: Decode) -> Callable[[], tuple[Encode, Decode]]:
    return lambda: (encode, decode)


def _codec_pair(name: str) -> Callable[[], tuple[Encode, Decode]] | None:
    """Coders of the registered codec ``name``, or None when it is not registered or usable."""
    try:
        codec = get_codec(name)
    except InvalidCodecError:
        return None
    if not codec.is_available():
        return None

    def make() -> tuple[Encode, Decode]:
        encoder = codec.new_encoder(OPTIONS)
        decoder = codec.new_decoder(OPTIONS)
        return encoder.encode, lambda content: decoder.decode(content, MAX_DECODED_SIZE)

    return make


def _is_llm_payload(data: bytes) -> bool:
    return m2m_codec.detect_schema(data) is not None


def methods() -> tuple[list[Method], list[str]]:
    """The methods of this build, and a note for each codec left out."""
    notes: list[str] = []
    found: list[Method] = [
        Method("raw (NONE)", _stateless(lambda d: d, lambda c: c), reference=True),
        Method(
            "gzip-6",
            _stateless(lambda d: gzip.compress(d, 6, mtime=0), gzip.decompress),
            reference=True,
        ),
        Method(
            "brotli-11",
            _stateless(lambda d: bytes(brotli.compress(d, quality=11)), brotli.decompress),
            reference=True,
        ),
    ]
    wanted: list[tuple[str, bool, Callable[[bytes], bool]]] = [
        (Algorithm.BROTLI.value, False, lambda _d: True),
        (Algorithm.M2M.value, False, _is_llm_payload),
        (Algorithm.TOKEN_NATIVE.value, False, is_utf8),
        (Algorithm.BROTLI_SESSION.value, True, lambda _d: True),
    ]
    for name, stream, applies in wanted:
        make = _codec_pair(name)
        if make is None and name == Algorithm.M2M.value:
            make = _stateless(
                m2m_codec.encode, lambda c: m2m_codec.decode(c, MAX_DECODED_SIZE)
            )  # not registered (yet): the module itself
            notes.append("M2M: not in the codec registry; the module's functions were used")
        if make is None and name == Algorithm.TOKEN_NATIVE.value and token_native.is_available():
            make = _stateless(
                token_native.encode, lambda c: token_native.decode(c, MAX_DECODED_SIZE)
            )
            notes.append(
                "TOKEN_NATIVE: not in the codec registry; the module's functions were used"
            )
        if make is None:
            notes.append(f"{name}: not available in this build, left out")
            continue
        found.append(Method(name, make, stream=stream, applies=applies))
    return found, notes


# --- per-codec measurements ---------------------------------------------------------------------


@dataclass
class Cell:
    """One entry through one method."""

    entry: str
    method: str
    messages: int
    raw_bytes: int
    wire_bytes: int | None = None  # None: the method does not apply to the entry
    encode_us: float | None = None  # per message, median of the repetitions
    decode_us: float | None = None
    reps: int = 0
    failed: bool = False
    note: str = ""


def _pass(coder: Callable[[bytes], bytes], items: Sequence[bytes]) -> tuple[int, list[bytes]]:
    """``coder`` over ``items`` in order: (nanoseconds, outputs)."""
    out: list[bytes] = []
    append = out.append
    clock = time.perf_counter_ns
    start = clock()
    for item in items:
        append(coder(item))
    return clock() - start, out


def measure_cell(entry: str, messages: list[bytes], method: Method, cfg: Config) -> Cell:
    raw = sum(len(m) for m in messages)
    cell = Cell(entry, method.name, len(messages), raw)
    applicable = sum(1 for m in messages if method.applies(m))
    if applicable < len(messages):
        cell.note = f"applies to {applicable} of {len(messages)}"
        return cell
    # One checked pass: every message must come back as it was, in order.
    encode, _ = method.make()
    _, decode = method.make()
    try:
        _, contents = _pass(encode, messages)
        _, decoded = _pass(decode, contents)
    except Exception as exc:  # a codec refusing this content is a result, not a crash
        cell.note = f"{type(exc).__name__}: {exc}"[:80]
        return cell
    cell.wire_bytes = sum(len(c) for c in contents)
    if decoded != messages:
        # Reported, not raised: the sizes are the encoder's and stand; the decoder is broken.
        bad = [i for i, (d, m) in enumerate(zip(decoded, messages, strict=True)) if d != m]
        first = bad[0]
        cell.failed = True
        cell.note = (
            f"ROUND TRIP FAILED on {len(bad)} of {len(messages)} messages (message {first + 1}:"
            f" {len(decoded[first]):,} of {len(messages[first]):,} bytes came back)"
        )
        return cell
    encode_ns: list[int] = []
    decode_ns: list[int] = []
    spent = 0
    budget = cfg.budget_s * 1e9
    gc.collect()
    gc.disable()
    try:
        while len(encode_ns) < cfg.min_reps or (spent < budget and len(encode_ns) < cfg.max_reps):
            encode, _ = method.make()
            _, decode = method.make()
            ns_encode, contents = _pass(encode, messages)
            ns_decode, _ = _pass(decode, contents)
            encode_ns.append(ns_encode)
            decode_ns.append(ns_decode)
            spent += ns_encode + ns_decode
    finally:
        gc.enable()
    count = len(messages)
    cell.encode_us = statistics.median(encode_ns) / count / 1000
    cell.decode_us = statistics.median(decode_ns) / count / 1000
    cell.reps = len(encode_ns)
    return cell


def measure_codecs(entries: dict[str, list[bytes]], found: list[Method], cfg: Config) -> list[Cell]:
    cells: list[Cell] = []
    for entry, messages in entries.items():
        started = time.perf_counter()
        for method in found:
            cells.append(measure_cell(entry, messages, method, cfg))
        print(f"  {entry:<16} {time.perf_counter() - started:6.2f} s", flush=True)
    return cells


@dataclass
class Speed:
    """Encode + decode of one message, timed together, per iteration."""

    method: str
    size: int
    wire: int
    iterations: int
    median_us: float
    p10_us: float
    p90_us: float
    encode_us: float
    decode_us: float


def measure_speed(message: bytes, method: Method, iterations: int, budget_s: float) -> Speed:
    """Median over ``iterations`` (or as many as ``budget_s`` seconds allow, at least 20)."""
    clock = time.perf_counter_ns
    deadline = clock() + int(budget_s * 1e9)
    totals: list[int] = []
    encodes: list[int] = []
    decodes: list[int] = []
    content = b""
    # Fresh coders per iteration for a stream method (its first message); outside the timing.
    encode, decode = method.make()
    warm_until = clock() + int(budget_s * 1e8)
    for _ in range(max(iterations // 10, 5)):  # warm-up: at most a tenth of the budget
        if clock() > warm_until:
            break
        content = encode(message)
        decode(content)
        if method.stream:
            encode, decode = method.make()
    gc.collect()
    gc.disable()
    try:
        for _ in range(iterations):
            if len(totals) >= 20 and clock() > deadline:
                break
            if method.stream:
                encode, decode = method.make()
            start = clock()
            content = encode(message)
            middle = clock()
            decoded = decode(content)
            end = clock()
            totals.append(end - start)
            encodes.append(middle - start)
            decodes.append(end - middle)
    finally:
        gc.enable()
    if decoded != message:
        raise BenchError(f"{method.name} did not round-trip the chat request")
    deciles = statistics.quantiles(totals, n=10)
    return Speed(
        method=method.name,
        size=len(message),
        wire=len(content),
        iterations=len(totals),
        median_us=statistics.median(totals) / 1000,
        p10_us=deciles[0] / 1000,
        p90_us=deciles[-1] / 1000,
        encode_us=statistics.median(encodes) / 1000,
        decode_us=statistics.median(decodes) / 1000,
    )


# --- real sessions through a counting relay -----------------------------------------------------


@dataclass
class Tally:
    """Bytes one direction of the relay forwarded, and the frames they made."""

    total: int = 0
    frames: Counter[str] = field(default_factory=Counter)
    frame_bytes: Counter[str] = field(default_factory=Counter)
    #: The algorithm of every DATA frame, in order.
    algorithms: list[str] = field(default_factory=list)
    decoder: FrameDecoder = field(default_factory=FrameDecoder, repr=False)

    def feed(self, data: bytes) -> None:
        self.total += len(data)
        for body in self.decoder.feed(data):
            message = msgpack.unpackb(body, raw=False)
            kind = str(message.get("type", "?")) if isinstance(message, dict) else "?"
            self.frames[kind] += 1
            self.frame_bytes[kind] += len(body) + 4
            if kind == "DATA":
                self.algorithms.append(str(message["payload"]["algorithm"]))


class Relay:
    """A TCP relay on loopback in front of ``upstream_port``: forwards every byte of one
    connection in both directions and counts them (and their frames) as they pass."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.up = Tally()  # client -> server
        self.down = Tally()  # server -> client
        self.finished = asyncio.Event()
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._connection, HOST, 0)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(HOST, self.upstream_port)
        try:
            await asyncio.gather(
                self._pump(reader, up_writer, self.up), self._pump(up_reader, writer, self.down)
            )
        finally:
            for stream in (writer, up_writer):
                stream.close()
                with contextlib.suppress(OSError):
                    await stream.wait_closed()
            self.finished.set()

    @staticmethod
    async def _pump(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, tally: Tally
    ) -> None:
        try:
            while data := await reader.read(1 << 16):
                tally.feed(data)
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        with contextlib.suppress(OSError):
            if writer.can_write_eof() and not writer.is_closing():
                writer.write_eof()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


@dataclass
class SessionRun:
    label: str
    offered: list[str]
    forced: str | None
    negotiated: list[str]
    raw_up: int
    raw_down: int
    socket_up: int
    socket_down: int
    data_up: int  # DATA frame bytes, client -> server
    data_down: int
    algorithms_up: list[str]
    algorithms_down: list[str]
    stats_bytes_sent: int
    stats_bytes_saved: int
    seconds: float

    @property
    def saved_up(self) -> float:
        return 1 - self.socket_up / self.raw_up

    @property
    def saved_down(self) -> float:
        return 1 - self.socket_down / self.raw_down


async def run_session(
    label: str,
    algorithms: list[str],
    requests: list[bytes],
    responses: list[bytes],
    forced: str | None = None,
) -> SessionRun:
    """The conversation over one session: the client sends request k, the server checks it and
    answers response k; all bytes pass through a :class:`Relay`."""
    problems: list[str] = []

    async def handler(session: m2m_session.Session) -> None:
        for index, (request, response) in enumerate(zip(requests, responses, strict=True)):
            received = await session.recv()
            if received != request:
                problems.append(f"server: request {index + 1} arrived altered")
            await session.send(response, algorithm=forced)
        async for _ in session:
            problems.append("server: unexpected message after the last request")

    server = await m2m_session.serve(handler, HOST, 0, algorithms=algorithms, rate_limit=None)
    relay = Relay(server.sockets[0].getsockname()[1])
    try:
        port = await relay.start()
        started = time.perf_counter()
        session = await m2m_session.Session.connect(HOST, port, algorithms=algorithms)
        negotiated = list(session.negotiated.algorithms) if session.negotiated else []
        for index, (request, response) in enumerate(zip(requests, responses, strict=True)):
            await session.send(request, algorithm=forced)
            if await session.recv() != response:
                problems.append(f"client: response {index + 1} arrived altered")
        stats = session.stats
        sent, saved = stats.bytes_sent, stats.bytes_saved
        await session.close()
        seconds = time.perf_counter() - started
        await asyncio.wait_for(relay.finished.wait(), 10)
    finally:
        await relay.close()
        server.close()
        await server.wait_closed()
    if problems:
        raise BenchError(f"{label}: " + "; ".join(problems))
    return SessionRun(
        label=label,
        offered=algorithms,
        forced=forced,
        negotiated=negotiated,
        raw_up=sum(len(r) for r in requests),
        raw_down=sum(len(r) for r in responses),
        socket_up=relay.up.total,
        socket_down=relay.down.total,
        data_up=relay.up.frame_bytes["DATA"],
        data_down=relay.down.frame_bytes["DATA"],
        algorithms_up=relay.up.algorithms,
        algorithms_down=relay.down.algorithms,
        stats_bytes_sent=sent,
        stats_bytes_saved=saved,
        seconds=seconds,
    )


SESSION_CONFIGS: list[tuple[str, list[str], str | None]] = [
    ("(i)", ["NONE"], None),
    ("(ii)", ["BROTLI", "NONE"], None),
    ("(iii)", ["M2M", "BROTLI", "NONE"], None),
    ("(iv)", ["BROTLI_SESSION", "M2M", "BROTLI", "NONE"], None),
    ("(v)", ["BROTLI_SESSION", "M2M", "BROTLI", "NONE"], "BROTLI_SESSION"),
]


async def measure_sessions(requests: list[bytes], responses: list[bytes]) -> list[SessionRun]:
    available = set(available_algorithms())
    runs: list[SessionRun] = []
    for label, algorithms, forced in SESSION_CONFIGS:
        offered = [name for name in algorithms if name in available]
        if offered != algorithms:
            missing = sorted(set(algorithms) - available)
            print(f"  {label} skipped: {', '.join(missing)} not available in this build")
            continue
        runs.append(await run_session(label, offered, requests, responses, forced))
    return runs


# --- output -------------------------------------------------------------------------------------


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]], left: int = 1) -> str:
    """A Markdown table: the first ``left`` columns left-aligned, the others right-aligned."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return (
            "| "
            + " | ".join(
                str(c).ljust(w) if i < left else str(c).rjust(w)
                for i, (c, w) in enumerate(zip(cells, widths, strict=True))
            )
            + " |"
        )

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def _change(wire: int, raw: int) -> str:
    """``wire`` against ``raw`` in percent: ``-82.1%`` is 82.1% fewer bytes."""
    return f"{100 * (wire / raw - 1):+.1f}%"


def bytes_table(cells: list[Cell], found: list[Method], entries: dict[str, list[bytes]]) -> str:
    by_key = {(c.entry, c.method): c for c in cells}
    header = ["entry", "msgs", *(m.name for m in found)]
    rows: list[list[str]] = []
    for entry, messages in entries.items():
        row = [entry, str(len(messages))]
        for method in found:
            cell = by_key[(entry, method.name)]
            if cell.wire_bytes is None:
                row.append("n/a")
            elif cell.failed:
                row.append(f"{cell.wire_bytes:,} {_change(cell.wire_bytes, cell.raw_bytes)} !")
            elif method.name == "raw (NONE)":
                row.append(f"{cell.wire_bytes:,}")
            else:
                row.append(f"{cell.wire_bytes:,} {_change(cell.wire_bytes, cell.raw_bytes)}")
        rows.append(row)
    return format_table(header, rows)


def relative_table(cells: list[Cell], found: list[Method], entries: dict[str, list[bytes]]) -> str:
    by_key = {(c.entry, c.method): c for c in cells}
    shown = [m for m in found if m.name not in ("raw (NONE)", "brotli-11")]
    header = ["entry", *(m.name for m in shown)]
    rows: list[list[str]] = []
    for entry in entries:
        best = by_key[(entry, "brotli-11")].wire_bytes
        row = [entry]
        for method in shown:
            wire = by_key[(entry, method.name)].wire_bytes
            row.append("n/a" if wire is None or not best else f"{wire / best:.2f}x")
        rows.append(row)
    return format_table(header, rows)


def time_table(cells: list[Cell], found: list[Method], entries: dict[str, list[bytes]]) -> str:
    by_key = {(c.entry, c.method): c for c in cells}
    shown = [m for m in found if m.name != "raw (NONE)"]
    header = ["entry", "avg msg", *(m.name for m in shown)]
    rows: list[list[str]] = []
    for entry, messages in entries.items():
        row = [entry, f"{sum(len(m) for m in messages) // len(messages):,} B"]
        for method in shown:
            cell = by_key[(entry, method.name)]
            if cell.failed:
                row.append("FAILED")
            elif cell.encode_us is None or cell.decode_us is None:
                row.append("n/a")
            else:
                row.append(f"{_us(cell.encode_us)} / {_us(cell.decode_us)}")
        rows.append(row)
    return format_table(header, rows)


def _us(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def speed_table(speeds: list[Speed]) -> str:
    rows = [
        [
            s.method,
            f"{s.size:,} -> {s.wire:,}",
            f"{s.iterations:,}",
            f"{s.encode_us:.1f}",
            f"{s.decode_us:.1f}",
            f"{s.median_us:.1f}",
            f"{s.p10_us:.1f} - {s.p90_us:.1f}",
        ]
        for s in speeds
    ]
    header = [
        "codec",
        "bytes",
        "iterations",
        "encode µs",
        "decode µs",
        "enc+dec µs (median)",
        "p10 - p90 µs",
    ]
    return format_table(header, rows)


def _runs(algorithms: list[str]) -> str:
    """``[M2M, BROTLI_SESSION, BROTLI_SESSION]`` -> ``M2M, 2x BROTLI_SESSION``."""
    parts: list[str] = []
    previous, count = "", 0
    for name in [*algorithms, ""]:
        if name == previous:
            count += 1
            continue
        if count:
            parts.append(previous if count == 1 else f"{count}x {previous}")
        previous, count = name, 1
    return ", ".join(parts)


def session_table(runs: list[SessionRun]) -> str:
    header = [
        "session",
        "offered (client = server)",
        "DATA algorithms client→server",
        "raw JSON →",
        "socket →",
        "of which not DATA →",
        "saved →",
        "DATA algorithms server→client",
        "raw JSON ←",
        "socket ←",
        "saved ←",
    ]
    rows = [
        [
            run.label,
            ",".join(run.offered) + (f" (send forces {run.forced})" if run.forced else ""),
            _runs(run.algorithms_up),
            f"{run.raw_up:,}",
            f"{run.socket_up:,}",
            f"{run.socket_up - run.data_up:,}",
            f"{100 * run.saved_up:.1f}%",
            _runs(run.algorithms_down),
            f"{run.raw_down:,}",
            f"{run.socket_down:,}",
            f"{100 * run.saved_down:.1f}%",
        ]
        for run in runs
    ]
    return format_table(header, rows, left=3)


def _quiet_logging() -> None:
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        cache_logger_on_first_use=True,
    )


def environment() -> dict[str, str]:
    try:
        load = f"{os.getloadavg()[0]:.2f} (1 min)"
    except OSError:
        load = "unknown"
    return {
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "brotli": str(getattr(brotli, "__version__", "?")),
        "m2m_session": m2m_session.__version__,
        "load average": load,
    }


# --- main ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (under 20 s)")
    parser.add_argument("--json", default="", help="also write the results to this file")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    cfg = QUICK if args.quick else FULL
    _quiet_logging()
    started = time.perf_counter()

    entries = corpus.corpus()
    found, notes = methods()
    env = environment()
    print("m2m_session codec benchmark: bytes on the wire and time per message, per codec")
    print("  " + "; ".join(f"{k} {v}" for k, v in env.items()))
    print(f"  config: {asdict(cfg)}")
    for note in notes:
        print(f"  note: {note}")
    print(f"\ncorpus (bench/corpus.py, seed {corpus.DEFAULT_SEED}):\n{corpus.describe(entries)}")

    print("\nper-codec measurements:", flush=True)
    cells = measure_codecs(entries, found, cfg)
    skipped = [c for c in cells if c.note]
    chat = entries["chat_request"][0]
    speeds = [
        measure_speed(chat, m, cfg.speed_iterations, cfg.speed_budget_s)
        for m in found
        if m.name != "raw (NONE)" and m.applies(chat)
    ]

    print("\nsessions on 127.0.0.1 through a counting relay:", flush=True)
    runs = asyncio.run(measure_sessions(entries["conv_requests"], entries["conv_responses"]))
    elapsed = time.perf_counter() - started

    print(
        "\n### Bytes on the wire per entry (sum over its messages; % = change against raw;"
        " BROTLI_SESSION: one context over the entry's messages in order)\n"
    )
    print(bytes_table(cells, found, entries))
    print(
        "\n### Bytes relative to brotli-11 per message, the best stateless reference"
        " (lower is better)\n"
    )
    print(relative_table(cells, found, entries))
    print("\n### Encode / decode time per message, µs (median of repeated passes over the entry)\n")
    print(time_table(cells, found, entries))
    for cell in skipped:
        mark = "!" if cell.failed else "n/a"
        print(f"  {mark} {cell.method} on {cell.entry}: {cell.note}")
    print(
        f"\n### Encode + decode of the {len(chat):,}-byte chat request (one iteration: encode,"
        " then decode; BROTLI_SESSION: fresh contexts each time)\n"
    )
    print(speed_table(speeds))
    print(
        "\n### The 10-turn conversation over one session: bytes counted at the socket by a relay"
        " (→ the 10 requests, client to server; ← the 10 responses; handshake and close"
        " included)\n"
    )
    print(session_table(runs))

    print("\n### Targets\n")
    results: list[tuple[str, bool | None, str]] = []
    auto = next((r for r in runs if r.label == "(iv)"), None)
    if auto is None:
        results.append(("10-turn conversation >= 85% fewer bytes", None, "not run"))
    else:
        passed = auto.saved_up >= SESSION_TARGET_SAVED and "BROTLI_SESSION" in auto.negotiated
        results.append(
            (
                "10-turn conversation over a session (iv), client→server socket bytes "
                f">= {SESSION_TARGET_SAVED:.0%} fewer than raw JSON",
                passed,
                f"{auto.socket_up:,} of {auto.raw_up:,} B = {100 * auto.saved_up:.1f}% fewer"
                f" (BROTLI_SESSION negotiated: {'BROTLI_SESSION' in auto.negotiated})",
            )
        )
    m2m_speed = next((s for s in speeds if s.method == "M2M"), None)
    brotli_speed = next((s for s in speeds if s.method == "BROTLI"), None)
    if m2m_speed is None:
        results.append(("M2M encode + decode of the 1 KB chat request", None, "M2M n/a"))
    else:
        results.append(
            (
                f"M2M encode + decode of the 1 KB chat request <= {SPEED_TARGET_MS} ms",
                m2m_speed.median_us / 1000 <= SPEED_TARGET_MS,
                f"{m2m_speed.median_us / 1000:.3f} ms median"
                + (
                    f" (BROTLI: {brotli_speed.median_us / 1000:.3f} ms)"
                    if brotli_speed is not None
                    else ""
                ),
            )
        )
    for name, passed_or_none, detail in results:
        verdict = "n/a " if passed_or_none is None else ("PASS" if passed_or_none else "MISS")
        print(f"  {verdict}  {name}: {detail}")
    print(f"\ntotal {elapsed:.1f} s")

    if args.json:
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        report: dict[str, Any] = {
            "environment": env,
            "config": asdict(cfg),
            "seconds": elapsed,
            "cells": [asdict(c) for c in cells],
            "speed": [asdict(s) for s in speeds],
            "sessions": [asdict(r) for r in runs],
            "targets": [{"name": n, "passed": p, "detail": d} for n, p, d in results],
        }
        path.write_text(json.dumps(report, indent=2) + "\n")
        print(f"results written to {path}")
    missed = [name for name, passed_or_none, _ in results if passed_or_none is False]
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
