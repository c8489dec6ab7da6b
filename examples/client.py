"""An agent that opens an M2M session, holds a short conversation, pings, and closes NORMAL.

It prints a transcript: the handshake (version, algorithms, session id, timeouts), every
message out and in with its algorithm and sizes, the ping round trip, the close reason and the
session's traffic statistics. One turn is a long report, which travels compressed.

Run it against the example server:

    python examples/server.py --port 7000
    python examples/client.py 127.0.0.1 7000
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass

from m2m_session import (
    M2MError,
    NegotiationFailed,
    Session,
    SessionStats,
    connect,
)
from m2m_session.logconfig import configure_logging

Output = Callable[[str], None]

AGENT_ID = "example-client"


def long_report() -> str:
    """A nightly-run report of a few KB: repetitive enough to compress well."""
    jobs = ["ingest", "dedupe", "embed", "index", "evaluate", "publish"]
    regions = ["eu-west", "us-east", "ap-south"]
    lines = ["Nightly pipeline report for the retrieval agents."]
    for number, (job, region) in enumerate(
        ((job, region) for region in regions for job in jobs), start=1
    ):
        seconds = 30 + (number * 17) % 90
        lines.append(
            f"Job {number:02d} ({job} in {region}) finished in {seconds} s with 0 errors; "
            f"the agent session for {job} stayed open and its cache was warm."
        )
    lines.append("All jobs finished. No agent session had to be reopened.")
    return " ".join(lines)


def turns() -> list[str]:
    """What the client says, in order."""
    return [
        "(17 + 25) * 3 / 2",
        json.dumps({"op": "mean", "values": [3, 5, 8, 13, 21, 34]}),
        long_report(),
        "Thanks, that is all for today.",
    ]


@dataclass(frozen=True, slots=True)
class Leg:
    """One DATA as it travelled: payload size, DATA content size, frame size, algorithm."""

    size: int
    content: int
    frame: int
    algorithm: str


def _algorithm(before: dict[str, int], after: dict[str, int]) -> str:
    # The per-algorithm DATA counters say which algorithm the one DATA in between used.
    return next((name for name, count in after.items() if count != before.get(name, 0)), "?")


def _sent(before: SessionStats, after: SessionStats) -> Leg:
    size = after.payload_bytes_sent - before.payload_bytes_sent
    content = size - (after.bytes_saved - before.bytes_saved)
    frame = after.bytes_sent - before.bytes_sent
    return Leg(size, content, frame, _algorithm(before.algorithms_sent, after.algorithms_sent))


def _received(before: SessionStats, after: SessionStats) -> Leg:
    size = after.payload_bytes_received - before.payload_bytes_received
    content = size - (after.bytes_saved - before.bytes_saved)
    frame = after.bytes_received - before.bytes_received
    algorithm = _algorithm(before.algorithms_received, after.algorithms_received)
    return Leg(size, content, frame, algorithm)


def _show(message: bytes | str, width: int = 64) -> str:
    text = message if isinstance(message, str) else repr(message)
    return repr(text) if len(text) <= width else repr(text[: width - 3] + "...")


def _leg(arrow: str, leg: Leg, message: bytes | str) -> str:
    sizes = f"{leg.size:>5} B -> {leg.content:>5} B content, {leg.frame:>5} B frame"
    return f"    {arrow} {leg.algorithm:<7} {sizes}  {_show(message)}"


def describe_handshake(session: Session) -> list[str]:
    """The handshake, as transcript lines."""
    negotiated = session.negotiated
    assert negotiated is not None
    limit = negotiated.max_payload_size or "none"
    return [
        f"handshake  session {session.id} with {session.remote_address}",
        f"    version            {negotiated.version}",
        f"    algorithms         {', '.join(negotiated.algorithms)} (server's preference order)",
        f"    idle timeout       {negotiated.session_timeout_ms} ms",
        f"    keep-alive         PING after {negotiated.ping_interval_ms} ms of silence, "
        f"PONG wait {negotiated.ping_timeout_ms} ms",
        f"    security scanning  {'on' if negotiated.security_scanning else 'off'}, "
        f"max payload {limit}",
    ]


async def converse(host: str, port: int, *, out: Output = print) -> SessionStats:
    """Connect, talk, ping, close NORMAL; print the transcript to ``out``; return the stats."""
    async with await connect(host, port, agent_id=AGENT_ID) as session:
        negotiated = session.negotiated
        assert negotiated is not None
        for line in describe_handshake(session):
            out(line)
        for number, message in enumerate(turns(), start=1):
            before = copy.deepcopy(session.stats)
            await session.send(message)
            sent = copy.deepcopy(session.stats)
            reply = await session.recv()
            received = copy.deepcopy(session.stats)
            out(f"turn {number}")
            out(_leg("->", _sent(before, sent), message))
            out(_leg("<-", _received(sent, received), reply))
        rtt = await session.ping()
        out(f"ping       rtt {rtt * 1000:.2f} ms")
    stats = session.stats
    by = "the peer" if session.closed_by_peer else "us"
    reason = session.close_reason.value if session.close_reason else "-"
    out(f"close      {reason} (by {by}), state {session.state.value}")
    out(
        f"stats      DATA {stats.data_sent} out / {stats.data_received} in; "
        f"frames {stats.messages_sent} out / {stats.messages_received} in"
    )
    out(
        f"    bytes on the wire  {stats.bytes_sent} out + {stats.bytes_received} in = "
        f"{stats.bytes_sent + stats.bytes_received}"
    )
    payload = stats.payload_bytes_sent + stats.payload_bytes_received
    share = f" ({stats.bytes_saved / payload:.0%} of {payload} payload bytes)" if payload else ""
    out(f"    bytes saved        {stats.bytes_saved}{share}")
    return stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Talk to an M2M agent for a few turns.")
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("--log-level", default="warning", help="default: %(default)s")
    args = parser.parse_args(argv)
    configure_logging(args.log_level)
    try:
        asyncio.run(converse(args.host, args.port))
    except NegotiationFailed as exc:
        print(f"REJECT {exc.code.value}: {exc.server_message}", file=sys.stderr)
        return 2
    except M2MError as exc:
        print(exc, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
