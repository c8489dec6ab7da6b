"""How long one large scanned message stalls everything else on a server's event loop.

    .venv/bin/python bench/scan_offload_bench.py            # 256 KiB, 3 runs per mode
    .venv/bin/python bench/scan_offload_bench.py --kib 1024 --runs 1

A server scans every DATA (monitor mode: threats are logged, everything is delivered). A
client sends it a large message made of the corpus's benign hard negatives (attack vocabulary
used innocently: the scanner's slowest input per byte) and waits for the echo; server and
client share one event loop, as an agent's server and its other sessions would. Meanwhile a
ticker asks the loop to wake it every millisecond and records the longest it waited beyond
that: the loop's worst stall, which every other session of the loop would feel as latency.
Reported per mode: that worst stall, and the time until the large message was echoed back.
Modes: ``inline`` (``ScanPolicy(thread_above=None)``: the scan runs on the event loop) and
``thread`` (the default ``thread_above``: the scan runs in a worker thread, and the loop gets
the interpreter back at every GIL switch interval). The ratio printed is the worst stall
inline / in a thread, measured in the same run; an idle run gives the floor.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import time
from pathlib import Path

from bench_procs import quiet_logging

from m2m_session import Session, serve
from m2m_session.security import ScanMode, ScanPolicy

HOST = "127.0.0.1"
TICK = 0.001
CORPUS = Path(__file__).parent / "security_corpus"


def hard_negatives(size: int) -> str:
    """``size`` bytes of benign corpus rows that use attack vocabulary, one after another."""
    texts = []
    for path in sorted(CORPUS.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if row["label"] == "BENIGN" and row["text"].isascii() and row["split"] == "tune":
                texts.append(row["text"])
    block = "\n".join(texts)
    return (block * (size // len(block) + 1))[:size]


async def echo(session: Session) -> None:
    async for message in session:
        await session.send(message)


async def one_run(thread_above: int | None, message: str | None) -> tuple[float, float]:
    """(worst loop stall in ms, large message echo time in ms; 0 when idle)."""
    policy = ScanPolicy(ScanMode.MONITOR, thread_above=thread_above)
    server = await serve(echo, HOST, 0, scan=policy)
    port = server.sockets[0].getsockname()[1]
    try:
        sender = await Session.connect(HOST, port, max_payload_size=16 << 20)
        worst = 0.0
        done = asyncio.Event()

        async def tick() -> None:
            nonlocal worst
            while not done.is_set():
                start = time.perf_counter()
                await asyncio.sleep(TICK)
                worst = max(worst, time.perf_counter() - start - TICK)

        ticking = asyncio.create_task(tick())
        await asyncio.sleep(0.05)
        start = time.perf_counter()
        if message is None:
            await asyncio.sleep(0.3)
        else:
            await sender.send(message)
            assert await sender.recv() == message
        elapsed = time.perf_counter() - start if message is not None else 0.0
        done.set()
        await ticking
        await sender.close()
        return worst * 1000, elapsed * 1000
    finally:
        server.close()
        await server.wait_closed()


async def main_async(kib: int, runs: int) -> None:
    message = hard_negatives(kib * 1024)
    print(f"message: {len(message.encode()) // 1024} KiB of benign hard negatives, {runs} runs")
    rows: dict[str, tuple[float, float]] = {}
    for mode, thread_above, payload in (
        ("idle", None, None),
        ("inline", None, message),
        ("thread", ScanPolicy().thread_above, message),
    ):
        results = [await one_run(thread_above, payload) for _ in range(runs)]
        worst = statistics.median(r[0] for r in results)
        echo_ms = statistics.median(r[1] for r in results)
        rows[mode] = (worst, echo_ms)
        extra = f"  large message echoed in {echo_ms:8.1f} ms" if payload else ""
        print(f"{mode:<7} worst event-loop stall {worst:8.1f} ms{extra}")
    ratio = rows["inline"][0] / rows["thread"][0]
    print(f"worst stall, inline / thread: {ratio:.1f}x (higher: the thread helps)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kib", type=int, default=256, help="size of the large message")
    parser.add_argument("--runs", type=int, default=3, help="runs per mode (median reported)")
    args = parser.parse_args()
    quiet_logging(logging.ERROR)  # the hard negatives back to back do trip the scanner
    asyncio.run(main_async(args.kib, args.runs))


if __name__ == "__main__":
    main()
