"""``serve --require-encryption [--psk-file F]`` and ``send --encrypt [--psk-file F]``, run for
real: the server as a subprocess, each ``send`` as one too."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from m2m_session.cli import main

from conftest import REPO, ServeFactory, cli_command, cli_env

pytestmark = pytest.mark.usefixtures("restore_structlog")

HOST = "127.0.0.1"


def _send(port: int, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cli_command("send", HOST, str(port), *args, "--timeout", "5"),
        check=False,
        capture_output=True,
        text=True,
        cwd=REPO,
        env=cli_env(),
        timeout=20,
    )


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


def test_require_encryption(start_serve: ServeFactory) -> None:
    served = start_serve("--require-encryption")
    port = served.port

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

    assert served.stop() == 0


def test_psk_file(start_serve: ServeFactory, keys: dict[str, Path]) -> None:
    served = start_serve("--require-encryption", "--psk-file", str(keys["a"]))
    port = served.port

    same = _send(port, "--encrypt", "--psk-file", str(keys["a"]), "secret")
    assert same.returncode == 0, same.stderr
    assert same.stdout.splitlines() == ["secret"]

    other = _send(port, "--encrypt", "--psk-file", str(keys["b"]), "secret")
    assert other.returncode != 0
    assert other.stdout == ""
    assert "ACCEPT key confirmation does not match" in other.stderr

    assert served.stop() == 0


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
