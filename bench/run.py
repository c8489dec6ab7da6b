"""m2m_session benchmark: the engine against raw asyncio streams, in one run.

    .venv/bin/python bench/run.py            # the full run (make bench), under a minute
    .venv/bin/python bench/run.py --quick    # smaller counts, one repetition
    .venv/bin/python bench/run.py --uvloop   # every process on uvloop (when installed)
    .venv/bin/python bench/run.py --only rt,pipe
    .venv/bin/python bench/run.py --profile rt   # cProfile our side (rt-asyncio: the baseline's)

See bench/README.md for what is measured and how.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gc
import importlib.util
import io
import json
import multiprocessing
import os
import platform
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import bench_procs
import bench_workloads as wl
import msgpack

import m2m_session

CTX = multiprocessing.get_context("spawn")
BENCH_DIR = Path(__file__).resolve().parent

Workload = Callable[[int, int, bytes, int], Awaitable[float]]


@dataclass(frozen=True)
class Config:
    reps: int = 3
    payload_size: int = 200
    round_trips: int = 5_000
    pipelined: int = 20_000
    sessions: int = 1_000
    idle_sessions: int = 5_000
    memory_reps: int = 3
    warmup: int = 200
    memory_warmup: int = 10
    connect_concurrency: int = 100


FULL = Config(reps=7)
QUICK = Config(
    reps=1,
    round_trips=1_000,
    pipelined=5_000,
    sessions=200,
    idle_sessions=1_000,
    memory_reps=1,
    warmup=50,
)

PHASES = ("rt", "pipe", "sess", "mem")
PROFILED = ("rt", "pipe", "sess")


@dataclass
class Row:
    """One line of the results table."""

    key: str
    metric: str
    unit: str
    ours: float
    baseline: float
    higher_is_better: bool
    target: str
    passed: bool
    samples_ours: list[float] = field(default_factory=list)
    samples_baseline: list[float] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    #: ours / baseline; for throughput the median of the paired per-repetition ratios.
    ratio: float = float("nan")


# --- child process handle -------------------------------------------------------------------------


class Child:
    """A spawned process and our end of its command pipe."""

    def __init__(self, target: Callable[..., None], *args: Any) -> None:
        self.conn, child_end = CTX.Pipe()
        self.process = CTX.Process(target=target, args=(child_end, *args), daemon=True)
        self.process.start()
        child_end.close()
        #: The echo server's ports, by kind ("m2m", "asyncio").
        self.ports: dict[str, int] = {}

    def expect(self, tag: str, timeout: float = 60.0) -> tuple[Any, ...]:
        conn: Connection = self.conn
        if not conn.poll(timeout):
            raise wl.BenchError(f"no {tag!r} from {self.process.name} within {timeout:g} s")
        message: tuple[Any, ...] = conn.recv()
        if message[0] == "error":
            raise wl.BenchError(f"{self.process.name} failed:\n{message[1]}")
        if message[0] != tag:
            raise wl.BenchError(f"expected {tag!r} from {self.process.name}, got {message!r}")
        return message

    def request(self, command: tuple[Any, ...], tag: str, timeout: float = 60.0) -> tuple[Any, ...]:
        self.conn.send(command)
        return self.expect(tag, timeout)

    def stop(self, timeout: float = 20.0) -> None:
        if self.conn.closed:
            return
        if self.process.is_alive():
            with contextlib.suppress(wl.BenchError, OSError, EOFError):
                self.request(("stop",), "stopped", timeout)
        self.process.join(timeout)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(5)
        self.conn.close()


# --- throughput phases (clients in this process, servers in a child) ----------------------------


@dataclass
class Samples:
    """Per repetition: rate (/s, wall clock) and CPU per operation (µs, both processes)."""

    rates: list[float] = field(default_factory=list)
    cpu_us: list[float] = field(default_factory=list)


async def _pair(
    label: str,
    ours: Workload,
    baseline: Workload,
    server: Child,
    count: int,
    cfg: Config,
    payload: bytes,
) -> tuple[Samples, Samples]:
    """Alternate ours and the baseline ``cfg.reps`` times.

    The rate is ``count`` over the wall-clock time of the timed part. The CPU figure is the
    client's plus the server's process time over the whole call (connect and warm-up included)
    divided by the operations it made; on a busy machine it moves much less than the rate.
    """
    ports: dict[str, int] = server.ports
    results = {"ours": Samples(), "asyncio": Samples()}
    for rep in range(cfg.reps):
        order = [("ours", ours, "m2m"), ("asyncio", baseline, "asyncio")]
        if rep % 2:
            order.reverse()
        contention = Contention()
        started = time.perf_counter()
        server_cpu_total = 0.0
        for name, workload, port_key in order:
            gc.collect()
            server_cpu = server.request(("cpu",), "cpu")[1]
            client_cpu = time.process_time()
            seconds = await workload(ports[port_key], count, payload, cfg.warmup)
            client_cpu = time.process_time() - client_cpu
            server_cpu = server.request(("cpu",), "cpu")[1] - server_cpu
            server_cpu_total += server_cpu
            results[name].rates.append(count / seconds)
            results[name].cpu_us.append((client_cpu + server_cpu) / (count + cfg.warmup) * 1e6)
        others = contention.share(time.perf_counter() - started, server_cpu_total)
        o, b = results["ours"], results["asyncio"]
        print(
            f"  {label:<22} rep {rep + 1}: ours {o.rates[-1]:>9,.0f}/s {o.cpu_us[-1]:>7.1f} µs CPU"
            f"   asyncio {b.rates[-1]:>9,.0f}/s {b.cpu_us[-1]:>7.1f} µs CPU"
            f"   ratio {o.rates[-1] / b.rates[-1]:.2f}"
            + ("" if others is None else f"   (others {others:.0%} CPU)"),
            flush=True,
        )
    return results["ours"], results["asyncio"]


def _throughput_row(key: str, metric: str, target: float, samples: tuple[Samples, Samples]) -> Row:
    """Rates: the best of each side. Ratio: the median of the per-repetition ratios, each from
    a pair run back to back, so that the machine's speed drifting during the run (other load,
    a busy host) cancels instead of favouring whichever side caught the fast moment."""
    ours, base = samples
    ratio = statistics.median(o / b for o, b in zip(ours.rates, base.rates, strict=True))
    cpu_ratio = statistics.median(o / b for o, b in zip(ours.cpu_us, base.cpu_us, strict=True))
    return Row(
        key=key,
        metric=metric,
        unit="/s",
        ours=max(ours.rates),
        baseline=max(base.rates),
        higher_is_better=True,
        target=f">= {target:.1f}x",
        passed=ratio >= target,
        samples_ours=ours.rates,
        samples_baseline=base.rates,
        ratio=ratio,
        extra={
            "ratio_of_best_rates": max(ours.rates) / max(base.rates),
            "cpu_us_per_op_ours": min(ours.cpu_us),
            "cpu_us_per_op_baseline": min(base.cpu_us),
            "cpu_ratio": cpu_ratio,
            "cpu_us_samples_ours": ours.cpu_us,
            "cpu_us_samples_baseline": base.cpu_us,
        },
    )


async def throughput_phases(server: Child, cfg: Config, phases: set[str]) -> list[Row]:
    payload = wl.make_payload(cfg.payload_size)
    rows: list[Row] = []
    if "rt" in phases:
        samples = await _pair(
            "round trips",
            wl.m2m_round_trips,
            wl.stream_round_trips,
            server,
            cfg.round_trips,
            cfg,
            payload,
        )
        rows.append(
            _throughput_row(
                "round_trips",
                f"DATA round trips/s ({cfg.payload_size} B, {cfg.round_trips:,}, 1 session)",
                0.8,
                samples,
            )
        )
    if "pipe" in phases:
        samples = await _pair(
            "pipelined",
            wl.m2m_pipelined,
            wl.stream_pipelined,
            server,
            cfg.pipelined,
            cfg,
            payload,
        )
        rows.append(
            _throughput_row(
                "pipelined",
                f"pipelined DATA msgs/s ({cfg.payload_size} B, {cfg.pipelined:,} in flight)",
                0.6,
                samples,
            )
        )
    if "sess" in phases:
        quick_warmup = Config(**{**asdict(cfg), "warmup": max(cfg.warmup // 10, 5)})
        samples = await _pair(
            "sessions (sequential)",
            wl.m2m_sessions,
            wl.stream_sessions,
            server,
            cfg.sessions,
            quick_warmup,
            payload,
        )
        rows.append(
            _throughput_row(
                "sessions",
                f"sessions/s sequential (connect+echo+close, {cfg.sessions:,})",
                0.5,
                samples,
            )
        )
    return rows


def run_throughput(cfg: Config, phases: set[str], use_uvloop: bool) -> list[Row]:
    server = Child(bench_procs.echo_server_main, use_uvloop)
    try:
        server.ports = server.expect("ready")[1]
        return bench_procs.run(throughput_phases(server, cfg, phases), use_uvloop)
    finally:
        server.stop()


# --- memory phase (server and clients each in their own child) ----------------------------------


def measure_memory(kind: str, cfg: Config, use_uvloop: bool) -> dict[str, float]:
    """One server process holding ``cfg.idle_sessions`` idle connections of ``kind``."""
    n = cfg.idle_sessions
    server = Child(bench_procs.memory_server_main, kind, use_uvloop, n)
    client: Child | None = None
    try:
        _, port, started_kib = server.expect("ready")
        client = Child(
            bench_procs.memory_client_main,
            kind,
            port,
            n,
            cfg.memory_warmup,
            cfg.connect_concurrency,
            use_uvloop,
        )
        client.expect("warm", 120)
        _, before_kib, before_open = server.request(("rss", 0), "rss", 90)
        _, connected, connect_seconds = client.request(("go",), "connected", 300)
        _, after_kib, after_open = server.request(("rss", n), "rss", 90)
        if connected != n or after_open != n or before_open != 0:
            raise wl.BenchError(
                f"{kind}: {connected} connected, server held {before_open} then {after_open}"
            )
        return {
            "started_kib": started_kib,
            "before_kib": before_kib,
            "after_kib": after_kib,
            "per_session_kib": (after_kib - before_kib) / n,
            "connect_seconds": connect_seconds,
        }
    finally:
        # Tear-down, not measured. The clients' sockets reset on close (no TIME_WAIT left
        # behind). Our server shuts down first and sends CLOSE SERVER_SHUTDOWN to every session
        # while the clients are there to answer; the streams server sees its clients go away
        # and its handlers return.
        if client is not None:
            with contextlib.suppress(wl.BenchError):
                client.request(("linger",), "lingering", 30)
        if kind == "m2m":
            server.stop()
        if client is not None:
            client.stop()
        server.stop()


def run_memory(cfg: Config, use_uvloop: bool) -> Row:
    results: dict[str, list[dict[str, float]]] = {"m2m": [], "asyncio": []}
    for rep in range(cfg.memory_reps):
        kinds = ["m2m", "asyncio"] if rep % 2 == 0 else ["asyncio", "m2m"]
        for kind in kinds:
            results[kind].append(measure_memory(kind, cfg, use_uvloop))
        ours, base = results["m2m"][-1], results["asyncio"][-1]
        print(
            f"  {'idle sessions RSS':<26} rep {rep + 1}: ours {ours['per_session_kib']:>7.2f} KiB"
            f" ({ours['before_kib'] / 1024:.1f} -> {ours['after_kib'] / 1024:.1f} MiB,"
            f" connected in {ours['connect_seconds']:.1f} s)"
            f"   asyncio {base['per_session_kib']:>6.2f} KiB"
            f" ({base['before_kib'] / 1024:.1f} -> {base['after_kib'] / 1024:.1f} MiB)",
            flush=True,
        )
    ours_kib = statistics.median(r["per_session_kib"] for r in results["m2m"])
    base_kib = statistics.median(r["per_session_kib"] for r in results["asyncio"])
    return Row(
        key="idle_rss",
        metric=f"server RSS per idle session ({cfg.idle_sessions:,} held)",
        unit="KiB",
        ours=ours_kib,
        baseline=base_kib,
        higher_is_better=False,
        target="<= 20 KiB",
        passed=ours_kib <= 20.0,
        ratio=ours_kib / base_kib,
        samples_ours=[r["per_session_kib"] for r in results["m2m"]],
        samples_baseline=[r["per_session_kib"] for r in results["asyncio"]],
        extra={"m2m": results["m2m"], "asyncio": results["asyncio"]},
    )


# --- profiling ----------------------------------------------------------------------------------


def run_profile(phase: str, cfg: Config, use_uvloop: bool, top: int) -> None:
    """cProfile one workload (the engine's, or the baseline's with ``-asyncio``): the client
    here, the server in its child."""
    workloads: dict[str, tuple[Workload, int, str]] = {
        "rt": (wl.m2m_round_trips, cfg.round_trips, "m2m"),
        "pipe": (wl.m2m_pipelined, cfg.pipelined, "m2m"),
        "sess": (wl.m2m_sessions, cfg.sessions, "m2m"),
        "rt-asyncio": (wl.stream_round_trips, cfg.round_trips, "asyncio"),
        "pipe-asyncio": (wl.stream_pipelined, cfg.pipelined, "asyncio"),
        "sess-asyncio": (wl.stream_sessions, cfg.sessions, "asyncio"),
    }
    workload, count, port_key = workloads[phase]
    payload = wl.make_payload(cfg.payload_size)
    out_dir = Path(tempfile.mkdtemp(prefix="m2m-bench-prof-"))
    server = Child(bench_procs.echo_server_main, use_uvloop)
    try:
        ports: dict[str, int] = server.expect("ready")[1]

        async def profiled() -> float:
            await workload(ports[port_key], max(count // 10, 10), payload, cfg.warmup)  # warm
            server.request(("profile_start",), "profiling")
            profiler = cProfile.Profile()
            profiler.enable()
            seconds = await workload(ports[port_key], count, payload, 0)
            profiler.disable()
            server.request(("profile_stop", str(out_dir / "server.prof")), "profiled")
            profiler.dump_stats(str(out_dir / "client.prof"))
            return seconds

        seconds = bench_procs.run(profiled(), use_uvloop)
    finally:
        server.stop()
    print(f"profiled {phase}: {count:,} in {seconds:.2f} s under cProfile ({out_dir})\n")
    for side in ("client", "server"):
        for sort in ("tottime", "cumulative"):
            buffer = io.StringIO()
            stats = pstats.Stats(str(out_dir / f"{side}.prof"), stream=buffer)
            stats.strip_dirs().sort_stats(sort).print_stats(top)
            text = buffer.getvalue()
            body = text[text.find("   ncalls") :] if "   ncalls" in text else text
            print(f"=== {side}, by {sort} ===\n{body}")


# --- report -------------------------------------------------------------------------------------


def _fmt(value: float, unit: str) -> str:
    if unit == "KiB":
        return f"{value:,.2f} KiB"
    return f"{value:,.0f}{unit}"


def format_table(rows: list[Row]) -> str:
    header = ("metric", "ours", "asyncio baseline", "ratio", "target", "result")
    lines = [
        (
            row.metric,
            _fmt(row.ours, row.unit),
            _fmt(row.baseline, row.unit),
            f"{row.ratio:.2f}x",
            row.target,
            "PASS" if row.passed else "MISS",
        )
        for row in rows
    ]
    widths = [max(len(r[i]) for r in [header, *lines]) for i in range(len(header))]

    def line(cells: tuple[str, ...]) -> str:
        first, *rest = cells
        out = [first.ljust(widths[0])]
        out += [cell.rjust(width) for cell, width in zip(rest[:-2], widths[1:-2], strict=True)]
        out += [rest[-2].ljust(widths[-2]), rest[-1].ljust(widths[-1])]
        return "| " + " | ".join(out) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), rule, *(line(cells) for cells in lines)])


def format_cpu_table(rows: list[Row]) -> str:
    header = ("CPU per operation, client + server", "ours", "asyncio baseline", "ratio")
    lines = [
        (
            row.metric.split(" (")[0],
            f"{row.extra['cpu_us_per_op_ours']:.1f} µs",
            f"{row.extra['cpu_us_per_op_baseline']:.1f} µs",
            f"{row.extra['cpu_ratio']:.2f}x",
        )
        for row in rows
        if "cpu_us_per_op_ours" in row.extra
    ]
    if not lines:
        return ""
    widths = [max(len(r[i]) for r in [header, *lines]) for i in range(len(header))]

    def line(cells: tuple[str, ...]) -> str:
        first, *rest = cells
        out = [first.ljust(widths[0])] + [c.rjust(w) for c, w in zip(rest, widths[1:], strict=True)]
        return "| " + " | ".join(out) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), rule, *(line(cells) for cells in lines)])


def _git_revision() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=BENCH_DIR,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", "m2m_session"],
            cwd=BENCH_DIR.parent,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" (engine modified)" if dirty else "")


class Contention:
    """How much of the machine's CPU went to processes other than this run's, from /proc/stat
    (all CPU time) minus this process's and its reaped children's (getrusage)."""

    def __init__(self) -> None:
        self._busy = self._machine_busy()
        self._own = self._own_cpu()

    @staticmethod
    def _machine_busy() -> float | None:
        try:
            with open("/proc/stat", encoding="ascii") as stat:
                ticks = [int(value) for value in stat.readline().split()[1:9]]
        except (OSError, ValueError):
            return None
        return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")

    @staticmethod
    def _own_cpu() -> float:
        own = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime

    def share(self, elapsed: float, unreaped: float = 0.0) -> float | None:
        """Others' share of all CPUs over ``elapsed`` seconds (0..1), or None if unknown.

        ``unreaped``: CPU seconds of our own children still running (getrusage does not see
        them yet)."""
        busy = self._machine_busy()
        if busy is None or self._busy is None or elapsed <= 0:
            return None
        others = (busy - self._busy) - (self._own_cpu() - self._own) - unreaped
        return max(others, 0.0) / (elapsed * (os.cpu_count() or 1))


def _load() -> str:
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.2f} (1 min), {five:.2f} (5 min)"


def environment(use_uvloop: bool) -> dict[str, str]:
    return {
        "load average": _load(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "loop": "uvloop" if use_uvloop else "asyncio (default selector loop)",
        "m2m_session": m2m_session.__version__,
        "msgpack": ".".join(str(part) for part in msgpack.version),
        "revision": _git_revision(),
    }


# --- main ---------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="smaller counts, one repetition")
    parser.add_argument("--uvloop", action="store_true", help="run every process on uvloop")
    parser.add_argument("--reps", type=int, help="repetitions of each measurement")
    parser.add_argument(
        "--only",
        default=",".join(PHASES),
        help=f"comma-separated subset of {','.join(PHASES)} (default: all)",
    )
    parser.add_argument(
        "--profile",
        choices=[*PROFILED, *(f"{p}-asyncio" for p in PROFILED)],
        help="instead of benchmarking, cProfile one workload of the engine (or of the baseline)",
    )
    parser.add_argument("--top", type=int, default=25, help="rows per profile listing")
    parser.add_argument(
        "--json",
        default=str(BENCH_DIR / "results" / "latest.json"),
        help="where to write the results ('' for nowhere; default: bench/results/latest.json)",
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    cfg = QUICK if args.quick else FULL
    if args.reps:
        cfg = Config(**{**asdict(cfg), "reps": args.reps, "memory_reps": args.reps})
    if args.uvloop and importlib.util.find_spec("uvloop") is None:
        print("--uvloop: uvloop is not installed (pip install 'm2m-session[speed]')")
        return 2
    phases = {phase.strip() for phase in args.only.split(",") if phase.strip()}
    unknown = phases - set(PHASES)
    if unknown:
        print(f"--only: unknown phase(s) {', '.join(sorted(unknown))}; choose from {PHASES}")
        return 2

    bench_procs.quiet_logging()
    bench_procs.raise_fd_limit(4096)

    if args.profile:
        run_profile(args.profile, cfg, args.uvloop, args.top)
        return 0

    env = environment(args.uvloop)
    print("m2m_session benchmark: ours (m2m_session) vs raw asyncio streams, same msgpack frames")
    print("  " + "; ".join(f"{k} {v}" for k, v in env.items()))
    print(f"  config: {asdict(cfg)}\n", flush=True)

    contention = Contention()
    started = time.perf_counter()
    rows: list[Row] = []
    if phases & {"rt", "pipe", "sess"}:
        rows += run_throughput(cfg, phases, args.uvloop)
    if "mem" in phases:
        rows.append(run_memory(cfg, args.uvloop))
    elapsed = time.perf_counter() - started
    others = contention.share(elapsed)
    revision_after = _git_revision()

    print()
    print(format_table(rows))
    print(
        f"\nthroughput: rates are the best of {cfg.reps}, the ratio is the median of the"
        f" {cfg.reps} paired (back-to-back) ours/baseline ratios; RSS: median of"
        f" {cfg.memory_reps}; total {elapsed:.0f} s"
    )
    best = [
        f"{row.key} {row.extra['ratio_of_best_rates']:.2f}x"
        for row in rows
        if "ratio_of_best_rates" in row.extra
    ]
    if best:
        print(f"ratio of the best rates, for comparison: {', '.join(best)}")
    if revision_after != env["revision"]:
        print(f"warning: the engine changed during the run ({env['revision']} -> {revision_after})")
        env["revision after"] = revision_after
    if others is not None:
        print(f"other processes used {others:.0%} of this machine's CPU during the run", end="")
        print(
            ": the wall-clock rates are noisy (CPU per operation, below, much less so)"
            if others > 0.1
            else ""
        )
    cpu_table = format_cpu_table(rows)
    if cpu_table:
        print(
            f"\n{cpu_table}\n(lowest of {cfg.reps}; ratio: median of the paired ratios;"
            " lower is better; not a target)"
        )

    if args.json:
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        report = {
            "environment": env,
            "config": asdict(cfg),
            "seconds": elapsed,
            "rows": [asdict(row) for row in rows],
        }
        path.write_text(json.dumps(report, indent=2) + "\n")
        print(f"results written to {path}")
    missed = [row.key for row in rows if not row.passed]
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
