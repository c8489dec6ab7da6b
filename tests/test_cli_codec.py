"""``m2m-session compress | decompress | inspect``: in process through ``main()``, and for real as
subprocesses over files and pipes."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from m2m_session import cli
from m2m_session.codecs import token_native as token_native_codec
from m2m_session.compression import BROTLI_PREFIX, M2M_PREFIX, compress, decompress

from conftest import REPO, cli_env

CODEC_COMMANDS = ("compress", "decompress", "inspect")

needs_tokenizer = pytest.mark.skipif(
    not token_native_codec.is_available(), reason="the optional tokenizer is not installed"
)

CHAT = json.dumps(
    {
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "You are the routing agent."},
            {"role": "user", "content": "Route shard 7 to the east cluster, then verify it."},
            {"role": "assistant", "content": "Routed shard 7 east; verification passed."},
            {"role": "user", "content": "Now report the latency budget for every shard."},
            # Long enough (over select.M2M_MIN) for automatic selection to pick M2M.
            *[{"role": "tool", "content": f"shard {n}: p99 {40 + n} ms"} for n in range(40)],
        ],
        "max_tokens": 512,
    }
).encode()
TEXT = ("The quick brown agent relays the plan to the fleet. " * 60).encode()
BINARY = bytes(range(256)) * 8 + b"\r\n\x00\x1a\r" * 50


def test_cli_registers_the_codec_commands() -> None:
    assert all(name in cli.COMMANDS for name in CODEC_COMMANDS)


def _argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "m2m_session.cli", *args]


def run(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        _argv(*args),
        input=stdin,
        capture_output=True,
        check=False,
        timeout=30,
        cwd=REPO,
        env=cli_env(),
    )


def run_in_process(
    capsysbinary: pytest.CaptureFixture[bytes],
    monkeypatch: pytest.MonkeyPatch,
    *args: str,
    stdin: bytes = b"",
) -> tuple[int, bytes, bytes]:
    """``main(args)`` with ``stdin`` as standard input: (status, stdout, stderr)."""
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    status = cli.main(list(args))
    out, err = capsysbinary.readouterr()
    return status, out, err


# --- subprocess round trips -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("algorithm", "data", "prefix"),
    [
        ("auto", CHAT, M2M_PREFIX),
        ("brotli", BINARY, BROTLI_PREFIX),
        ("none", TEXT, TEXT[:16]),
    ],
)
def test_file_round_trip_subprocess(
    tmp_path: Path, algorithm: str, data: bytes, prefix: bytes
) -> None:
    source, wire, back = tmp_path / "in.bin", tmp_path / "wire", tmp_path / "back.bin"
    source.write_bytes(data)
    result = run("compress", "-a", algorithm, str(source), "-o", str(wire))
    assert result.returncode == 0, result.stderr
    assert result.stdout == b""
    assert result.stderr == b""
    assert wire.read_bytes().startswith(prefix)
    assert decompress(wire.read_bytes()) == data

    result = run("decompress", str(wire), "-o", str(back))
    assert result.returncode == 0, result.stderr
    assert (result.stdout, result.stderr) == (b"", b"")
    assert back.read_bytes() == data


def test_pipe_round_trip_subprocess() -> None:
    compressed = run("compress", "-a", "brotli", stdin=BINARY)
    assert compressed.returncode == 0, compressed.stderr
    assert compressed.stdout.startswith(BROTLI_PREFIX)
    assert compressed.stdout.isascii()
    restored = run("decompress", "-", stdin=compressed.stdout)
    assert restored.returncode == 0, restored.stderr
    assert restored.stdout == BINARY  # binary-safe both ways: no newline or encoding changes


def test_inspect_subprocess(tmp_path: Path) -> None:
    frame = tmp_path / "chat.m2m"
    frame.write_bytes(compress(CHAT, "M2M"))
    result = run("inspect", str(frame))
    assert result.returncode == 0, result.stderr
    header = json.loads(result.stdout)
    assert result.stdout.decode().startswith("{\n  ")  # indent 2
    assert header["model"] == "gpt-4o"
    assert header["message_count"] == 44
    assert header["roles"][:4] == ["system", "user", "assistant", "user"]
    assert header["max_tokens"] == 512

    piped = run("inspect", stdin=frame.read_bytes())
    assert piped.returncode == 0, piped.stderr
    assert json.loads(piped.stdout) == header


def test_errors_subprocess(tmp_path: Path) -> None:
    missing = run("decompress", str(tmp_path / "missing"))
    assert missing.returncode == 1
    assert missing.stdout == b""
    assert missing.stderr.decode().startswith("m2m-session: IO error: ")
    assert len(missing.stderr.splitlines()) == 1

    as_json = run("inspect", "--json", stdin=b"#T1|abc")
    assert as_json.returncode == 1
    assert as_json.stdout == b""
    error = json.loads(as_json.stderr)["error"]
    assert error["code"] == "INVALID_CODEC"
    assert "#T1|" in error["message"]

    usage = run("compress", "-a", "lzma", stdin=b"x")
    assert usage.returncode == 2
    assert b"usage: m2m-session compress" in usage.stderr


# --- in process: output and summaries ---------------------------------------------------------


def test_compress_stdout_and_verbose_summary(
    capsysbinary: pytest.CaptureFixture[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    status, out, err = run_in_process(capsysbinary, monkeypatch, "compress", stdin=TEXT)
    assert status == 0
    assert out.startswith(BROTLI_PREFIX)
    assert err == b""
    assert decompress(out) == TEXT

    status, out2, err = run_in_process(
        capsysbinary, monkeypatch, "compress", "-v", "-a", "BROTLI", "-", stdin=TEXT
    )
    assert status == 0
    assert out2 == out
    summary = err.decode()
    assert summary.count("\n") == 1
    assert summary.startswith(f"compress: BROTLI, {len(TEXT)} -> {len(out)} bytes")

    status, out, err = run_in_process(capsysbinary, monkeypatch, "compress", "-v", stdin=b"hi")
    assert (status, out) == (0, b"hi")
    assert err.decode().startswith("compress: NONE, 2 -> 2 bytes")


def test_decompress_verbose_summary(
    capsysbinary: pytest.CaptureFixture[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    wire = compress(CHAT, "M2M")
    status, out, err = run_in_process(
        capsysbinary, monkeypatch, "decompress", "-v", "-o", "-", stdin=wire
    )
    assert status == 0
    assert out == CHAT
    assert err.decode() == f"decompress: M2M, {len(wire)} -> {len(CHAT)} bytes\n"


def test_decompress_passthrough_and_empty_input(
    capsysbinary: pytest.CaptureFixture[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    status, out, _ = run_in_process(
        capsysbinary, monkeypatch, "decompress", stdin=b"# heading\nplain"
    )
    assert (status, out) == (0, b"# heading\nplain")
    status, out, _ = run_in_process(capsysbinary, monkeypatch, "decompress", stdin=b"")
    assert (status, out) == (0, b"")
    status, out, _ = run_in_process(capsysbinary, monkeypatch, "compress", stdin=b"")
    assert (status, out) == (0, b"")


@needs_tokenizer
def test_token_native(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    text = "Tokens, not bytes: the agents speak BPE. ✓ " * 20
    status, out, err = run_in_process(
        capsysbinary,
        monkeypatch,
        "compress",
        "-a",
        "token-native",
        "--encoding",
        "cl100k_base",
        stdin=text.encode(),
    )
    assert status == 0, err
    assert out.startswith(b"#TK|C|")
    wire = tmp_path / "wire.tk"
    wire.write_bytes(out)
    status, back, err = run_in_process(capsysbinary, monkeypatch, "decompress", str(wire))
    assert (status, back) == (0, text.encode()), err


# --- in process: errors -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "stdin", "code", "status"),
    [
        (["decompress"], b"#T1|abc", "INVALID_CODEC", 1),
        (["decompress"], b"#XYZ|abc", "INVALID_CODEC", 1),
        (["decompress"], BROTLI_PREFIX + b"not base64!", "DECOMPRESSION_ERROR", 1),
        (["decompress"], compress(TEXT, "BROTLI")[:-8], "DECOMPRESSION_ERROR", 1),
        (["decompress"], compress(CHAT, "M2M")[:-3], "DECOMPRESSION_ERROR", 1),
        (["compress", "-a", "m2m"], TEXT, "COMPRESSION_ERROR", 1),
        (["compress", "-a", "none"], b"#TK|C|looks like a wire", "COMPRESSION_ERROR", 1),
        (["inspect"], compress(TEXT, "BROTLI"), "INVALID_CODEC", 1),
        (["inspect"], b"plain text", "INVALID_CODEC", 1),
        (["inspect"], b"#M2M|1|\x00", "DECOMPRESSION_ERROR", 1),
        (["compress", "-a", "token-native", "--encoding", "NOPE"], b"x", "CONFIG_ERROR", 2),
    ],
)
def test_errors(
    argv: list[str],
    stdin: bytes,
    code: str,
    status: int,
    capsysbinary: pytest.CaptureFixture[bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    got, out, err = run_in_process(capsysbinary, monkeypatch, *argv, stdin=stdin)
    assert (got, out) == (status, b"")
    line = err.decode()
    assert line.startswith("m2m-session: ")
    assert line.count("\n") == 1

    got, out, err = run_in_process(capsysbinary, monkeypatch, *argv, "--json", stdin=stdin)
    assert (got, out) == (status, b"")
    assert err.count(b"\n") == 1
    body = json.loads(err)
    assert body["error"]["code"] == code
    assert set(body["error"]) <= {"code", "message", "details"}


def test_token_native_unavailable_is_a_config_error(
    capsysbinary: pytest.CaptureFixture[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(token_native_codec, "is_available", lambda: False)
    status, out, err = run_in_process(
        capsysbinary, monkeypatch, "compress", "-a", "token-native", "--json", stdin=b"text"
    )
    assert (status, out) == (2, b"")
    error = json.loads(err)["error"]
    assert error["code"] == "CONFIG_ERROR"
    assert "tokenizer" in error["message"]


def test_io_errors(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    status, out, err = run_in_process(
        capsysbinary, monkeypatch, "compress", str(tmp_path / "nope"), "--json"
    )
    assert (status, out) == (1, b"")
    error = json.loads(err)["error"]
    assert error["code"] == "IO_ERROR"
    assert "nope" in error["message"]

    status, out, err = run_in_process(
        capsysbinary, monkeypatch, "compress", "-o", str(tmp_path), stdin=TEXT
    )
    assert (status, out) == (1, b"")
    assert err.startswith(b"m2m-session: IO error: ")


def test_no_output_file_on_failure(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "out.bin"
    status, _, _ = run_in_process(
        capsysbinary, monkeypatch, "decompress", "-o", str(target), stdin=b"#T1|x"
    )
    assert status == 1
    assert not target.exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["compress", "-a", "brotli_session"],
        ["compress", "-a", "zlib"],
        ["compress", "a", "b"],
        ["decompress", "--encoding", "CL100K_BASE"],
        ["inspect", "-o", "out"],
        ["inspect", "-v"],
    ],
)
def test_usage_errors_exit_2(
    argv: list[str], capsysbinary: pytest.CaptureFixture[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    status, out, err = run_in_process(capsysbinary, monkeypatch, *argv)
    assert (status, out) == (2, b"")
    assert b"usage: m2m-session" in err


def test_help_lists_the_codec_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in CODEC_COMMANDS:
        assert name in out
