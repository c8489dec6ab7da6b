"""The ``m2m-session`` CLI, run for real: ``serve`` as a subprocess, ``send`` both ways."""

from __future__ import annotations

import asyncio
import io
import json
import signal
import socket
import subprocess
from typing import Any

import pytest
import structlog

from m2m_session import CloseReason, ConfigError, connect
from m2m_session.cli import COMMANDS, main
from m2m_session.logconfig import configure_logging

from conftest import REPO, ServeFactory, cli_command, cli_env

pytestmark = pytest.mark.usefixtures("restore_structlog")

HOST = "127.0.0.1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port = sock.getsockname()[1]
        assert isinstance(port, int)
        return port


# --- serve + send -----------------------------------------------------------------------------


def test_send_subprocess_prints_each_echo(start_serve: ServeFactory) -> None:
    served = start_serve()
    messages = ["hello", "grüße, 世界", "long " * 500]
    result = subprocess.run(
        cli_command("send", HOST, str(served.port), *messages),
        capture_output=True,
        check=False,
        text=True,
        timeout=15,
        cwd=REPO,
        env=cli_env(),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [m.rstrip("\n") for m in messages]
    assert result.stderr == ""  # send logs at warning level by default


def test_send_in_process(start_serve: ServeFactory, capsys: pytest.CaptureFixture[str]) -> None:
    served = start_serve()
    status = main(["send", HOST, str(served.port), "one", "two words", "--algorithms", "NONE"])
    out, err = capsys.readouterr()
    assert status == 0, err
    assert out == "one\ntwo words\n"
    assert err == ""


def test_serve_logs_json_events_on_stderr(start_serve: ServeFactory) -> None:
    served = start_serve("--log-json")
    assert main(["send", HOST, str(served.port), "ping?"]) == 0
    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(timeout=5) == 0
    assert served.process.stdout is not None
    assert served.process.stdout.read() == ""  # nothing after the listening line
    events = [json.loads(line) for line in served.logs().splitlines()]
    names = [event["event"] for event in events]
    for expected in ("server_listening", "session_established", "session_closed"):
        assert expected in names
    assert all("level" in event and "timestamp" in event for event in events)


def test_send_verbose_logs_on_stderr(
    start_serve: ServeFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    served = start_serve()
    assert main(["send", HOST, str(served.port), "x", "-v"]) == 0
    out, err = capsys.readouterr()
    assert out == "x\n"
    assert "session_established" in err
    assert "session_closed" in err


# --- REJECT and errors ------------------------------------------------------------------------


def test_reject_exits_2_with_the_code(
    start_serve: ServeFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    served = start_serve("--algorithms", "BROTLI")
    port = str(served.port)

    assert main(["send", HOST, port, "hi", "--algorithms", "NONE"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("REJECT NO_COMMON_ALGORITHM: ")
    assert len(err.splitlines()) == 1

    assert main(["send", HOST, port, "hi", "--algorithms", "NONE", "--json"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    error = json.loads(err)["error"]
    assert error["code"] == "NO_COMMON_ALGORITHM"
    assert error["details"] == {"reject_code": "NO_COMMON_ALGORITHM"}


def test_reject_subprocess(start_serve: ServeFactory) -> None:
    served = start_serve("--require-scanning")
    result = subprocess.run(
        cli_command("send", HOST, str(served.port), "hi"),
        capture_output=True,
        check=False,
        text=True,
        timeout=15,
        cwd=REPO,
        env=cli_env(),
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("REJECT SECURITY_POLICY: ")


def test_connection_refused_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    port = str(_free_port())
    assert main(["send", HOST, port, "hi", "--timeout", "5"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("m2m-session: Network error: could not connect")
    assert len(err.splitlines()) == 1

    assert main(["send", HOST, port, "hi", "--json"]) == 1
    assert json.loads(capsys.readouterr().err)["error"]["code"] == "NETWORK_ERROR"


def test_listen_failure_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind((HOST, 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        assert main(["serve", "--host", HOST, "--port", port]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert "cannot listen on" in err


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["bogus"],
        ["serve", "--port", "x"],
        ["serve", "--port", "70000"],
        ["serve", "--max-sessions", "0"],
        ["serve", "--rate-limit", "-1"],
        ["serve", "--hello-timeout", "0"],
        ["serve", "--log-level", "loud"],
        ["serve", "--unknown-flag"],
        ["send", HOST],
        ["send", HOST, "7000"],
        ["send", HOST, "port", "hi"],
        ["send", HOST, "7000", "hi", "--timeout", "-1"],
    ],
)
def test_bad_arguments_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "usage: m2m-session" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["serve", "--port", "0", "--algorithms", "FOO"], "unknown algorithm 'FOO'"),
        (["send", HOST, "1", "hi", "--algorithms", "FOO,NONE"], "unknown algorithm 'FOO'"),
    ],
)
def test_invalid_config_exits_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("m2m-session: Configuration error: ")
    assert message in err


def test_bad_arguments_subprocess() -> None:
    result = subprocess.run(
        cli_command("serve", "--port", "not-a-port"),
        capture_output=True,
        check=False,
        text=True,
        timeout=15,
        cwd=REPO,
        env=cli_env(),
    )
    assert result.returncode == 2
    assert "usage:" in result.stderr
    assert result.stdout == ""


def test_help_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in COMMANDS:
        assert name in out
    assert main(["--version"]) == 0
    assert "m2m-session" in capsys.readouterr().out


# --- graceful shutdown ------------------------------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_signal_closes_sessions_server_shutdown(
    signum: signal.Signals, start_serve: ServeFactory
) -> None:
    served = start_serve()
    session = await connect(HOST, served.port, handshake_timeout=5)
    await session.send("still there?")
    assert await asyncio.wait_for(session.recv(), 5) == "still there?"

    served.process.send_signal(signum)
    received: list[Any] = [message async for message in session]  # ends cleanly
    await asyncio.wait_for(session.wait_closed(), 5)

    assert received == []
    assert session.close_reason is CloseReason.SERVER_SHUTDOWN
    assert session.closed_by_peer is True
    loop = asyncio.get_running_loop()
    status = await loop.run_in_executor(None, lambda: served.process.wait(timeout=5))
    assert status == 0
    logs = served.logs()
    assert "shutdown_requested" in logs
    assert "server_closed" in logs
    assert "Traceback" not in logs


def test_signal_with_no_sessions_exits_0(start_serve: ServeFactory) -> None:
    served = start_serve()
    served.process.send_signal(signal.SIGINT)
    assert served.process.wait(timeout=5) == 0


# --- logconfig --------------------------------------------------------------------------------


def test_configure_logging_console_filters_by_level() -> None:
    stream = io.StringIO()
    configure_logging("warning", stream=stream)
    log = structlog.get_logger("test")
    log.info("hidden_event", key="value")
    log.warning("shown_event", key="value", number=3)
    text = stream.getvalue()
    assert "hidden_event" not in text
    assert "shown_event" in text
    assert "key=value" in text
    assert "number=3" in text
    assert "\x1b[" not in text  # no colors: not a TTY


def test_configure_logging_json() -> None:
    stream = io.StringIO()
    configure_logging("DEBUG", json=True, stream=stream)
    structlog.get_logger("test").debug("an_event", session_id="sess_x")
    event = json.loads(stream.getvalue())
    assert event["event"] == "an_event"
    assert event["level"] == "debug"
    assert event["session_id"] == "sess_x"
    assert "timestamp" in event


def test_configure_logging_unknown_level() -> None:
    with pytest.raises(ConfigError, match="unknown log level"):
        configure_logging("loud")
