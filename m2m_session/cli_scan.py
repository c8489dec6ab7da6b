"""The ``scan`` subcommand of ``m2m-session``: run the security scanner on one text.

``m2m-session scan [TEXT|-] [--threshold T] [--detector NAME] [--model FILE] [--json]`` scans
TEXT, or stdin (read as bytes, so invalid UTF-8 is reported rather than crashing) when TEXT is
``-`` or missing, with the rules or the learned model or both, and prints the result: a short
summary, or with ``--json`` the seed's scan-result shape
(:meth:`~m2m_session.security.ScanResult.to_dict`). Like :mod:`m2m_session.cli_codec`, this
module does not import :mod:`m2m_session.cli`; ``cli`` hands it its ``register`` and
``Command``.

Exit statuses, grep-style: 0 safe; 1 a finding reaches the threshold; 2 an error (a usage
error, a threshold outside 0..1, unreadable input, a detector that fails).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from m2m_session.clicommands import Command
from m2m_session.errors import ConfigError, IoError, M2MError
from m2m_session.security import DEFAULT_THRESHOLD, Detector, Scanner, ScanResult, default_registry

__all__ = ["COMMANDS", "add_detector_arguments", "detector", "threshold"]

DETECTORS = ("rules", "learned", "combined")

PROG = "m2m-session"
EXIT_SAFE = 0
EXIT_THREAT = 1
EXIT_ERROR = 2


def threshold(text: str) -> float:
    """An argparse ``type`` for ``--threshold``: any number; the range (0..1) is checked by
    :class:`~m2m_session.security.Scanner`, whose ``ConfigError`` says why."""
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def add_detector_arguments(parser: argparse.ArgumentParser, *, when: str = "") -> None:
    """``--detector`` and ``--model`` (``when``: a prefix for the help, e.g. "with --scan: ")."""
    parser.add_argument(
        "--detector",
        choices=DETECTORS,
        default=None,
        help=(
            f"{when}rules (no model, the default), learned (the trained word model) or "
            "combined (both, strongest finding per type)"
        ),
    )
    parser.add_argument(
        "--model",
        default=None,
        metavar="FILE",
        help=f"{when}the learned model file (default: the one shipped with the package)",
    )


def detector(args: argparse.Namespace) -> Detector:
    """The loaded detector ``--detector`` and ``--model`` name (``ModelLoadError`` for a missing
    or corrupt model file, ``ConfigError`` for ``--model`` with the rules)."""
    name: str = args.detector or "rules"
    if name == "rules":
        if args.model is not None:
            raise ConfigError("--model needs --detector learned|combined")
        return default_registry().get(name)
    return default_registry(learned=True, model=args.model).get(name)


def _scan_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "text",
        metavar="TEXT",
        nargs="?",
        default="-",
        help="the text to scan; - (the default) reads stdin as bytes",
    )
    parser.add_argument(
        "--threshold",
        type=threshold,
        default=DEFAULT_THRESHOLD,
        metavar="T",
        help="confidence 0..1 at which a finding is a threat (default: %(default)g)",
    )
    add_detector_arguments(parser)
    parser.add_argument(
        "--json",
        action="store_true",
        help=(
            'print the result as JSON {"scanned", "safe", "threat_type", "confidence", '
            '"details"} and errors as the JSON error shape'
        ),
    )


def _run_scan(args: argparse.Namespace) -> int:
    try:
        scanner = Scanner(detector(args), threshold=args.threshold)
        result = scanner.scan(_content(args.text))
    except M2MError as error:
        if args.json:
            print(error.to_json(), file=sys.stderr)
        else:
            print(f"{PROG}: {error}", file=sys.stderr)
        return EXIT_ERROR
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False), flush=True)
    else:
        print(_summary(result, scanner.threshold), flush=True)
    return EXIT_SAFE if result.safe else EXIT_THREAT


def _content(text: str) -> bytes:
    """TEXT as the bytes the user typed (``os.fsencode`` undoes the surrogate escapes of
    non-UTF-8 arguments), or all of stdin for ``-``."""
    if text != "-":
        return os.fsencode(text)
    try:
        return sys.stdin.buffer.read()
    except OSError as exc:
        raise IoError.wrap(exc) from exc


def _summary(result: ScanResult, threshold: float) -> str:
    """A few lines: the verdict, then one line per finding, strongest first."""
    if not result.details:
        head = f"safe: no findings (threshold {threshold:g})"
    elif result.safe:
        head = f"safe: strongest finding {result.confidence:.2f} < threshold {threshold:g}"
    else:
        assert result.threat_type is not None
        head = (
            f"THREAT {result.threat_type} ({result.threat_type.severity}): "
            f"confidence {result.confidence:.2f} >= threshold {threshold:g}"
        )
    lines = [head]
    for finding in result.details:
        lines.append(
            f"  {finding.confidence:.2f} {finding.threat_type} {finding.detector}: {finding.reason}"
        )
    return "\n".join(lines)


#: The ``scan`` subcommand, for :mod:`m2m_session.cli` to register.
COMMANDS = (
    Command(
        "scan",
        "scan TEXT (or stdin) for threats; exit 0 safe, 1 threat, 2 error",
        _scan_arguments,
        _run_scan,
    ),
)
