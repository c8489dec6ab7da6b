"""A small "calculator and summary" agent that embeds an M2M server in its own event loop.

It answers in its own way rather than echoing:

* arithmetic text (``(17 + 25) * 3``) gets the computed result,
* a JSON object ``{"op": "sum"|"mean"|"min"|"max"|"count", "values": [...]}`` gets a JSON reply
  with the result, any other JSON gets a JSON description of what arrived,
* other text gets a short summary (sentences, words, most frequent words, first sentence),
* bytes get their size and SHA-256.

For every session it prints the negotiated details when the session opens and the traffic
statistics when it ends.

Run it:  python examples/server.py --port 7000      (then: python examples/client.py 127.0.0.1 7000)
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import contextlib
import hashlib
import json
import operator
import re
import signal
import sys
from collections import Counter
from collections.abc import Callable
from typing import Any

from m2m_session import M2MError, Server, Session, serve
from m2m_session.logconfig import configure_logging
from m2m_session.server import Handler

Output = Callable[[str], None]

# --- the agent's answers ----------------------------------------------------------------------

_ARITHMETIC = re.compile(r"[\d\s.+\-*/%()]+")
_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
}
_AGGREGATES: dict[str, Callable[[list[float]], float]] = {
    "sum": sum,
    "mean": lambda values: sum(values) / len(values),
    "min": min,
    "max": max,
    "count": len,
}
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]+")
_STOPWORDS = frozenset(
    re.findall(
        r"\w+",
        "the a an and or of to in on for with is are was were be by as at it its this that "
        "from each every one two into than then so not no can will",
    )
)


def answer(message: bytes | str) -> bytes | str:
    """The agent's reply to one message: ``str`` in, ``str`` out."""
    if isinstance(message, bytes):
        digest = hashlib.sha256(message).hexdigest()
        return f"received {len(message)} bytes, sha256 {digest[:16]}..."
    text = message.strip()
    if text[:1] in "{[":
        try:
            document = json.loads(text)
        except ValueError:
            pass
        else:
            return json.dumps(_answer_json(document), separators=(", ", ": "))
    if text and _ARITHMETIC.fullmatch(text) and any(c.isdigit() for c in text):
        try:
            return f"{text} = {_format_number(_evaluate(ast.parse(text, mode='eval').body))}"
        except (SyntaxError, ValueError, ArithmeticError) as exc:
            return f"cannot compute {text!r}: {exc}"
    return _summarize(text)


def _evaluate(node: ast.expr) -> float:
    """Arithmetic only: numbers, + - * / // % and parentheses. Nothing is ``eval``-ed."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return float(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        result = _BINARY[type(node.op)](_evaluate(node.left), _evaluate(node.right))
        return float(result)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return float(_UNARY[type(node.op)](_evaluate(node.operand)))
    raise ValueError("only numbers and + - * / // % are supported")


def _format_number(value: float) -> str:
    return str(int(value)) if value.is_integer() else f"{value:.6g}"


def _answer_json(document: Any) -> dict[str, Any]:
    if isinstance(document, dict) and document.get("op") in _AGGREGATES:
        op = str(document["op"])
        values = document.get("values")
        if isinstance(values, list) and values and all(type(v) in (int, float) for v in values):
            return {"op": op, "result": _AGGREGATES[op]([float(v) for v in values])}
        return {"op": op, "error": "values must be a non-empty list of numbers"}
    if isinstance(document, dict):
        return {"type": "object", "keys": sorted(str(k) for k in document)}
    if isinstance(document, list):
        return {"type": "array", "length": len(document)}
    return {"type": type(document).__name__}


def _summarize(text: str) -> str:
    if not text:
        return "(nothing to summarize)"
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", text) if s]
    words = _WORD.findall(text)
    common = Counter(w.lower() for w in words if w.lower() not in _STOPWORDS).most_common(3)
    first = sentences[0] if len(sentences[0]) <= 80 else sentences[0][:77] + "..."
    top = ", ".join(word for word, _ in common) or "-"
    return (
        f"summary: {_plural(len(sentences), 'sentence')}, {_plural(len(words), 'word')}, "
        f"{_plural(len(text), 'char')}; "
        f"top words: {top}; first sentence: {first!r}"
    )


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


# --- the server -------------------------------------------------------------------------------


def make_handler(out: Output = print) -> Handler:
    """A session handler that answers every message and reports each session to ``out``."""

    async def handle(session: Session) -> None:
        negotiated = session.negotiated
        assert negotiated is not None
        agent = session.hello.agent_id if session.hello is not None else None
        out(
            f"session {session.id} opened by {agent or 'an anonymous agent'} at "
            f"{session.remote_address}: version {negotiated.version}, algorithms "
            f"{','.join(negotiated.algorithms)}, idle timeout {negotiated.session_timeout_ms} ms"
        )
        try:
            async for message in session:
                await session.send(answer(message))
        except M2MError as exc:
            out(f"session {session.id} broke: {exc}")
            return
        stats = session.stats
        who = "the client" if session.closed_by_peer else "this server"
        reason = session.close_reason.value if session.close_reason else "-"
        out(
            f"session {session.id} closed {reason} by {who}: "
            f"{_plural(stats.data_received, 'message')} in, {stats.data_sent} out, "
            f"{stats.bytes_received + stats.bytes_sent} bytes on the wire, "
            f"{stats.bytes_saved} bytes saved by compression"
        )

    return handle


async def start(host: str = "127.0.0.1", port: int = 0, *, out: Output = print) -> Server:
    """Start the agent's server; ``port`` 0 picks a free one (read it from ``server.sockets``)."""
    return await serve(make_handler(out), host, port)


def bound_port(server: Server) -> int:
    """The port ``server`` listens on."""
    port = server.sockets[0].getsockname()[1]
    assert isinstance(port, int)
    return port


async def run(host: str, port: int) -> None:
    """Serve until SIGINT or SIGTERM, then close every session SERVER_SHUTDOWN."""
    server = await start(host, port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # add_signal_handler: not on Windows
            loop.add_signal_handler(signum, stop.set)
    print(f"listening on {host}:{bound_port(server)}", flush=True)
    async with server:  # leaving it closes the server gracefully
        await stop.wait()
    print("server closed")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A calculator and summary agent (M2M server).")
    parser.add_argument("--host", default="127.0.0.1", help="default: %(default)s")
    parser.add_argument("--port", type=int, default=7000, help="0 picks a free port")
    parser.add_argument("--log-level", default="warning", help="default: %(default)s")
    args = parser.parse_args(argv)
    configure_logging(args.log_level)
    try:
        asyncio.run(run(args.host, args.port))
    except KeyboardInterrupt:  # Ctrl-C before the signal handlers were installed
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
