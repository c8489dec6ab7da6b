"""The stateless codec subcommands of ``m2m-session``: ``compress``, ``decompress``, ``inspect``.

They work on the wire forms of :mod:`m2m_session.compression`, byte for byte, from a file or
stdin to a file or stdout. This module does not import :mod:`m2m_session.cli` (which may be
running as ``__main__``); ``cli`` registers :data:`COMMANDS`.

Exit statuses: 0 success; 1 a data error (corrupt or unknown wire, content a codec cannot
carry, an unreadable file); 2 a usage error or an unusable configuration (``token-native``
without its tokenizer, an unknown tokenizer encoding).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import BinaryIO

from m2m_session import compression
from m2m_session.clicommands import Command
from m2m_session.codecs import DEFAULT_ENCODING, MAX_DECODED_SIZE, Algorithm
from m2m_session.codecs import m2m as _m2m
from m2m_session.codecs import token_native as _token_native
from m2m_session.errors import ConfigError, InvalidCodecError, IoError, M2MError

__all__ = ["ALGORITHM_CHOICES", "COMMANDS"]

PROG = "m2m-session"
EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2

#: ``-a`` values, lower case, as the command line spells them.
ALGORITHM_CHOICES = ("auto", "m2m", "brotli", "token-native", "none")

# --- shared -----------------------------------------------------------------------------------


def _input_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "input", metavar="FILE", nargs="?", default="-", help="input file; - is stdin (default)"
    )


def _output_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-o", "--output", metavar="OUT", default="-", help="output file; - is stdout (default)"
    )


def _common_arguments(parser: argparse.ArgumentParser, *, verbose: bool = True) -> None:
    if verbose:
        parser.add_argument(
            "-v", "--verbose", action="store_true", help="print a one-line summary on stderr"
        )
    parser.add_argument(
        "--json",
        action="store_true",
        help='print errors as the JSON error shape {"error": {"code", "message", ...}}',
    )


def _read(path: str, limit: int = -1) -> bytes:
    """The bytes of ``path`` (``-``: stdin), at most ``limit`` of them when ``limit >= 0``."""
    try:
        if path == "-":
            return sys.stdin.buffer.read(limit)
        with open(path, "rb") as file:
            return file.read(limit)
    except OSError as exc:
        raise IoError.wrap(exc) from exc


def _write(path: str, data: bytes) -> None:
    """``data`` to ``path`` (``-``: stdout), written only once the command has succeeded."""
    try:
        if path == "-":
            out: BinaryIO = sys.stdout.buffer
            out.write(data)
            out.flush()
        else:
            with open(path, "wb") as file:
                file.write(data)
    except OSError as exc:
        raise IoError.wrap(exc) from exc


def _fail(error: M2MError, args: argparse.Namespace) -> int:
    """Report ``error`` on stderr (JSON with ``--json``) and return its exit status."""
    if args.json:
        print(error.to_json(), file=sys.stderr)
    else:
        print(f"{PROG}: {error}", file=sys.stderr)
    return EXIT_USAGE if isinstance(error, ConfigError) else EXIT_FAILURE


def _guarded(
    run: Callable[[argparse.Namespace], None],
) -> Callable[[argparse.Namespace], int]:
    def guarded(args: argparse.Namespace) -> int:
        try:
            run(args)
        except M2MError as error:
            return _fail(error, args)
        return EXIT_OK

    return guarded


def _ratio(before: int, after: int) -> str:
    return f"{100 * after / before:.1f}%" if before else "-"


# --- compress ---------------------------------------------------------------------------------


def _compress_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-a",
        "--algorithm",
        type=str.lower,
        choices=ALGORITHM_CHOICES,
        default="auto",
        help="the codec; auto picks one by content like a session does (default: %(default)s)",
    )
    parser.add_argument(
        "--encoding",
        default=DEFAULT_ENCODING,
        help="tokenizer encoding for token-native (default: %(default)s)",
    )
    _input_argument(parser)
    _output_argument(parser)
    _common_arguments(parser)


def _compress(args: argparse.Namespace) -> None:
    algorithm: str = args.algorithm
    encoding: str = args.encoding
    if algorithm == "token-native":
        _check_tokenizer(encoding)
    # One byte over the cap is enough for compress() to refuse it; no need to read it all.
    data = _read(args.input, MAX_DECODED_SIZE + 1)
    if algorithm == "auto":
        name, wire = compression.compress_auto(data)
    else:
        name = algorithm.upper().replace("-", "_")
        wire = compression.compress(data, name, encoding=encoding)
    _write(args.output, wire)
    if args.verbose:
        print(
            f"compress: {name}, {len(data)} -> {len(wire)} bytes ({_ratio(len(data), len(wire))})",
            file=sys.stderr,
        )


def _check_tokenizer(encoding: str) -> None:
    if not _token_native.is_available():
        raise ConfigError("token-native needs the optional tokenizer, which is not installed")
    encodings = _token_native.available_encodings()
    if encoding.strip().upper().replace("-", "_") not in encodings:
        raise ConfigError(
            f"unknown tokenizer encoding {encoding!r}; available: {', '.join(encodings)}"
        )


_run_compress = _guarded(_compress)


# --- decompress -------------------------------------------------------------------------------


def _decompress_arguments(parser: argparse.ArgumentParser) -> None:
    _input_argument(parser)
    _output_argument(parser)
    _common_arguments(parser)


def _decompress(args: argparse.Namespace) -> None:
    wire = _read(args.input)
    data = compression.decompress(wire)
    _write(args.output, data)
    if args.verbose:
        print(
            f"decompress: {compression.detect(wire)}, {len(wire)} -> {len(data)} bytes",
            file=sys.stderr,
        )


_run_decompress = _guarded(_decompress)


# --- inspect ----------------------------------------------------------------------------------


def _inspect_arguments(parser: argparse.ArgumentParser) -> None:
    _input_argument(parser)
    _common_arguments(parser, verbose=False)


def _inspect(args: argparse.Namespace) -> None:
    wire = _read(args.input)
    name = compression.detect(wire)
    if name != Algorithm.M2M:
        raise InvalidCodecError(f"not an M2M frame (the input is {name}); inspect reads M2M only")
    header = _m2m.inspect(wire)
    text = json.dumps(header.to_dict(), indent=2, ensure_ascii=False) + "\n"
    _write("-", text.encode("utf-8"))


_run_inspect = _guarded(_inspect)


#: The codec subcommands, for :mod:`m2m_session.cli` to register.
COMMANDS = (
    Command(
        "compress",
        "compress FILE (or stdin) to its wire form on OUT (or stdout)",
        _compress_arguments,
        _run_compress,
    ),
    Command(
        "decompress",
        "decode the wire form in FILE (or stdin), its codec found by prefix",
        _decompress_arguments,
        _run_decompress,
    ),
    Command(
        "inspect",
        "print an M2M frame's routing header as JSON, without decompressing",
        _inspect_arguments,
        _run_inspect,
    ),
)
