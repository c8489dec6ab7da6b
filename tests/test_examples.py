"""The examples run: the demo end to end, and the two-terminal server/client pair."""

from __future__ import annotations

import json
import re
import select
import signal
import subprocess
import sys

from conftest import REPO, cli_env

EXAMPLES = REPO / "examples"
SESSION_ID = re.compile(r"\bsess_[a-z0-9]{20}\b")

sys.path.insert(0, str(EXAMPLES))

import server as agent  # noqa: E402  (examples/server.py)


def test_demo_prints_a_transcript() -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "demo.py")],
        capture_output=True,
        check=False,
        text=True,
        timeout=30,
        cwd=REPO,
        env=cli_env(),
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert SESSION_ID.search(out)
    assert "NORMAL" in out
    assert "version            1.0" in out
    assert "BROTLI" in out  # the long turn travels compressed
    assert "ping       rtt" in out
    assert "bytes saved" in out
    assert result.stderr == ""  # logs at warning level: nothing to say


def test_server_and_client_examples_talk() -> None:
    server = subprocess.Popen(
        [sys.executable, str(EXAMPLES / "server.py"), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env=cli_env(),
    )
    try:
        assert server.stdout is not None
        ready, _, _ = select.select([server.stdout], [], [], 10)
        line = server.stdout.readline() if ready else ""
        match = re.fullmatch(r"listening on 127\.0\.0\.1:(\d+)", line.strip())
        assert match, line
        client = subprocess.run(
            [sys.executable, str(EXAMPLES / "client.py"), "127.0.0.1", match[1]],
            capture_output=True,
            check=False,
            text=True,
            timeout=30,
            cwd=REPO,
            env=cli_env(),
        )
        assert client.returncode == 0, client.stderr
        assert SESSION_ID.search(client.stdout)
        assert "close      NORMAL" in client.stdout
        server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=10)
        assert server.returncode == 0, err
        assert "closed NORMAL by the client" in out
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()


def test_agent_answers() -> None:
    assert agent.answer("(17 + 25) * 3 / 2") == "(17 + 25) * 3 / 2 = 63"
    assert str(agent.answer("7 / 0")).startswith("cannot compute")
    reply = agent.answer('{"op": "sum", "values": [1, 2, 3.5]}')
    assert isinstance(reply, str)
    assert json.loads(reply) == {"op": "sum", "result": 6.5}
    reply = agent.answer('{"b": 1, "a": 2}')
    assert isinstance(reply, str)
    assert json.loads(reply) == {"type": "object", "keys": ["a", "b"]}
    assert str(agent.answer("One sentence here. And another one!")).startswith(
        "summary: 2 sentences, 6 words"
    )
    assert str(agent.answer(b"\x00\x01")).startswith("received 2 bytes")
