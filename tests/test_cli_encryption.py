"""``serve --require-encryption [--psk-file F]`` and ``send --encrypt [--psk-file F]``, run for
real: the server as a subprocess, each ``send`` as one too."""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import structlog

from m2m_session.cli import main

REPO = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
LISTENING = re.compile(r"listening on 127\.0\.0\.1:(\d+)")

Serve = Callable[..., tuple[subprocess.Popen[str], int]]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "m2m_session.cli", *args]


def _send(port: int, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _cli("send", HOST, str(port), *args, "--timeout", "5"),
        check=False,
        capture_output=True,
        text=True,
        cwd=REPO,
        env=_env(),
        timeout=20,
    )


@pytest.fixture
def start_serve(tmp_path: Path) -> Iterator[Serve]:
    """``serve --port 0 ARGS...``, returned once it printed its ``listening on`` line."""
    started: list[subprocess.Popen[str]] = []

    def start(*args: str) -> tuple[subprocess.Popen[str], int]:
        stderr = tmp_path / f"serve-{len(started)}.err"
        with stderr.open("w") as err:
            process = subprocess.Popen(
                _cli("serve", "--host", HOST, "--port", "0", *args),
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
                cwd=REPO,
                env=_env(),
            )
        started.append(process)
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 10)
        line = process.stdout.readline() if ready else ""
        match = LISTENING.fullmatch(line.strip())
        assert match, f"no 'listening on' line: {line!r}; stderr: {stderr.read_text()}"
        return process, int(match[1])

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=5)
        if process.stdout is not None:
            process.stdout.close()


@pytest.fixture(autouse=True)
def _restore_structlog() -> Iterator[None]:
    """``main()`` configures structlog for the process; undo it after each test."""
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, Path]:
    files = {
        "a": os.urandom(32),
        "b": os.urandom(48),
        "short": os.urandom(31),
        "empty": b"",
    }
    paths = {}
    for name, data in files.items():
        path = tmp_path / f"{name}.key"
        path.write_bytes(data)
        paths[name] = path
    return paths


def _terminate(process: subprocess.Popen[str]) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=10)


def test_require_encryption(start_serve: Serve) -> None:
    server, port = start_serve("--require-encryption")

    plain = _send(port, "hello")
    assert plain.returncode == 2, plain.stderr
    assert "SECURITY_POLICY" in plain.stderr
    assert plain.stdout == ""

    aead = _send(port, "--encrypt", "hello", "world")
    assert aead.returncode == 0, aead.stderr
    assert aead.stdout.splitlines() == ["hello", "world"]

    hmac = _send(port, "--encrypt", "--encrypt-modes", "HMAC", "signed")
    assert hmac.returncode == 0, hmac.stderr
    assert hmac.stdout.splitlines() == ["signed"]

    assert _terminate(server) == 0


def test_psk_file(start_serve: Serve, keys: dict[str, Path]) -> None:
    server, port = start_serve("--require-encryption", "--psk-file", str(keys["a"]))

    same = _send(port, "--encrypt", "--psk-file", str(keys["a"]), "secret")
    assert same.returncode == 0, same.stderr
    assert same.stdout.splitlines() == ["secret"]

    other = _send(port, "--encrypt", "--psk-file", str(keys["b"]), "secret")
    assert other.returncode != 0
    assert other.stdout == ""
    assert "ACCEPT key confirmation does not match" in other.stderr

    assert _terminate(server) == 0


@pytest.mark.parametrize("command", ["serve", "send"])
def test_bad_psk_file_exits_2(
    command: str, keys: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prefix = ["serve", "--port", "0"] if command == "serve" else ["send", HOST, "1", "x"]
    cases = {
        str(keys["short"]): "Key too short: 31 bytes, at least 32 required",
        str(keys["empty"]): "Crypto error: Key:",
        str(tmp_path / "missing.key"): "IO error:",
        str(tmp_path): "IO error:",  # a directory
    }
    for path, message in cases.items():
        assert main([*prefix, "--psk-file", path]) == 2
        err = capsys.readouterr().err
        assert message in err
        assert err.count("\n") == 1


def test_psk_file_error_as_json(keys: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["send", HOST, "1", "x", "--json", "--psk-file", str(keys["short"])]) == 2
    assert '"CRYPTO_ERROR"' in capsys.readouterr().err


def test_encrypt_modes_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["send", HOST, "1", "x", "--encrypt-modes", "AEAD"]) == 2
    assert "--encrypt-modes needs --encrypt" in capsys.readouterr().err
    assert main(["send", HOST, "1", "x", "--encrypt", "--encrypt-modes", "NONE"]) == 2
    assert "modes must be among AEAD, HMAC" in capsys.readouterr().err
