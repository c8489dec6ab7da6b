"""What ``make demo`` runs: the example agent pair, in one process, with a readable transcript.

It starts the calculator and summary agent of ``examples/server.py`` on a free port, runs the
conversation of ``examples/client.py`` against it, and prints what happened: the handshake,
every message out and in with its algorithm and sizes, the ping round trip, the close reason
and the bytes saved. Lines from the server side are marked ``[server]``. Library logs go to
stderr at warning level only, so the transcript stays clean.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import client  # examples/client.py
import server  # examples/server.py

from m2m_session import M2MError, __version__
from m2m_session.logconfig import configure_logging

HOST = "127.0.0.1"


def _server_line(line: str) -> None:
    print(f"  [server] {line}")


async def run() -> None:
    started = time.perf_counter()
    agent = await server.start(HOST, 0, out=_server_line)
    port = server.bound_port(agent)
    print(f"m2m-session {__version__} demo: a client agent talks to a calculator/summary agent")
    print(f"server     listening on {HOST}:{port}")
    async with agent:  # leaving it shuts the server down gracefully
        await client.converse(HOST, port)
        # Let the server's handler report the session's end before shutting down.
        for _ in range(50):
            if not agent.sessions:
                break
            await asyncio.sleep(0.01)
    print(f"server     closed; demo finished in {(time.perf_counter() - started) * 1000:.0f} ms")


def main() -> int:
    configure_logging("warning")
    try:
        asyncio.run(run())
    except M2MError as exc:
        print(f"demo failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
