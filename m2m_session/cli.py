"""The ``m2m-session`` command line: ``serve`` an echo peer, ``send`` messages to a peer.

The codec commands live in :mod:`m2m_session.cli_codec`, ``scan`` in :mod:`m2m_session.cli_scan`.

Each subcommand is one :class:`Command` in :data:`COMMANDS`: a name, a help line, a function
that adds its arguments and a function that runs it and returns the exit status. A new
subcommand is one more :func:`register` call.

Exit statuses: 0 success; 1 a runtime failure (network, protocol, a closed session); 2 a usage
error, an invalid configuration value, or a REJECT from the server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Callable

import structlog

from m2m_session import __version__, cli_codec, cli_scan
from m2m_session.cli_scan import add_detector_arguments, detector
from m2m_session.cli_scan import threshold as _threshold
from m2m_session.clicommands import COMMANDS, Command, register
from m2m_session.codes import CloseReason
from m2m_session.crypto.keys import KeyMaterial, zero
from m2m_session.errors import (
    ConfigError,
    IoError,
    KeyMaterialError,
    M2MError,
    NegotiationFailed,
    NetworkError,
    SecurityThreatError,
)
from m2m_session.logconfig import LEVELS, configure_logging
from m2m_session.security import DEFAULT_THRESHOLD, ScanMode, ScanPolicy
from m2m_session.server import Server, serve
from m2m_session.session import Session, connect

__all__ = ["COMMANDS", "Command", "build_parser", "main", "register"]

log = structlog.get_logger("m2m_session.cli")

PROG = "m2m-session"
EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with one subparser per registered command."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Run and talk to M2M session protocol peers.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS.values():
        sub = subparsers.add_parser(command.name, help=command.help, description=command.help)
        command.add_arguments(sub)
        sub.set_defaults(run=command.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI on ``argv`` (default: ``sys.argv[1:]``) and return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors: argparse's status
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`... | head`): not an error of ours, and no traceback. Point
        # stdout at /dev/null so the interpreter's final flush does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141  # what a shell reports for a process killed by SIGPIPE


# --- shared helpers ---------------------------------------------------------------------------


def _port(text: str) -> int:
    value = _int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 0..65535, not {value}")
    return value


def _positive_int(text: str) -> int:
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, not {value}")
    return value


def _non_negative_int(text: str) -> int:
    value = _int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, not {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, not {text}")
    return value


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None


def _add_logging_arguments(parser: argparse.ArgumentParser, default: str) -> None:
    group = parser.add_argument_group("logging (structured events on stderr)")
    group.add_argument(
        "--log-level",
        choices=LEVELS,
        default=None,
        help=f"the lowest level logged (default: {default})",
    )
    group.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="log one level more (repeatable); --log-level wins",
    )
    group.add_argument("--log-json", action="store_true", help="log JSON lines")
    parser.set_defaults(default_log_level=default)


def _setup_logging(args: argparse.Namespace) -> None:
    level: str | None = args.log_level
    if level is None:
        default = LEVELS.index(args.default_log_level)
        level = LEVELS[max(0, default - args.verbose)]
    configure_logging(level, json=args.log_json)


def _report(error: M2MError, *, as_json: bool = False) -> None:
    """One line on stderr: the error's JSON shape, or its message."""
    if as_json:
        print(error.to_json(), file=sys.stderr)
    elif isinstance(error, NegotiationFailed):
        print(f"REJECT {error.code.value}: {error.server_message}", file=sys.stderr)
    else:
        print(f"{PROG}: {error}", file=sys.stderr)


def _exit_status(error: M2MError) -> int:
    return EXIT_USAGE if isinstance(error, (ConfigError, NegotiationFailed)) else EXIT_FAILURE


def _add_psk_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--psk-file",
        default=None,
        metavar="F",
        help=(
            "mix the pre-shared key in file F (its raw bytes, at least 32) into the session "
            "keys; both peers need the same one"
        ),
    )


def _load_psk(path: str | None) -> KeyMaterial | None:
    """The key in ``path`` (raw bytes, none stripped), or ``None`` without ``--psk-file``.

    Raises :class:`IoError` when the file cannot be read and :class:`KeyMaterialError` when
    the key is empty or shorter than 32 bytes; the message never shows the key."""
    if path is None:
        return None
    try:
        with open(path, "rb") as file:
            data = bytearray(file.read())
    except OSError as exc:
        raise IoError.wrap(exc) from exc
    try:
        return KeyMaterial(data)
    finally:
        zero(data)  # KeyMaterial holds its own copy


def _psk_or_report(args: argparse.Namespace, *, as_json: bool = False) -> KeyMaterial | None:
    """``--psk-file`` loaded; a failure is reported and re-raised as ``_UsageFailure``."""
    try:
        return _load_psk(args.psk_file)
    except (IoError, KeyMaterialError) as error:
        _report(error, as_json=as_json)
        raise _UsageFailure from None


class _UsageFailure(Exception):
    """A configuration failure already reported on stderr: exit 2."""


def _format_address(sockname: object) -> str:
    if isinstance(sockname, tuple) and len(sockname) >= 2:
        host, port = str(sockname[0]), sockname[1]
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return str(sockname)


# --- serve ------------------------------------------------------------------------------------


def _serve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: %(default)s)"
    )
    parser.add_argument(
        "--port",
        type=_port,
        default=7000,
        help="port to bind; 0 picks a free one (default: %(default)s)",
    )
    parser.add_argument(
        "--max-sessions",
        type=_positive_int,
        default=None,
        metavar="N",
        help="most sessions at once; more are REJECTed SERVER_BUSY (default: no cap)",
    )
    parser.add_argument(
        "--rate-limit",
        type=_non_negative_int,
        default=100,
        metavar="N",
        help="new sessions per minute per peer address, 0 = off (default: %(default)s)",
    )
    parser.add_argument(
        "--algorithms",
        default=None,
        metavar="A,B",
        help=(
            "compression algorithms in preference order "
            "(default: every available one but the opt-in BROTLI_SESSION)"
        ),
    )
    parser.add_argument(
        "--require-scanning",
        action="store_true",
        help="REJECT clients that do not ask for security scanning (SECURITY_POLICY)",
    )
    parser.add_argument(
        "--require-encryption",
        action="store_true",
        help="REJECT clients that offer no AEAD or HMAC protection (SECURITY_POLICY)",
    )
    _add_psk_argument(parser)
    parser.add_argument(
        "--scan",
        choices=(ScanMode.MONITOR.value, ScanMode.BLOCKING.value),
        default=None,
        metavar="MODE",
        help=(
            "scan every DATA both ways: monitor logs threats, blocking also withholds them "
            "(default: scan, in monitor mode, only sessions that negotiated scanning)"
        ),
    )
    parser.add_argument(
        "--threshold",
        type=_threshold,
        default=None,
        metavar="T",
        help=f"with --scan: confidence 0..1 that makes a threat (default: {DEFAULT_THRESHOLD:g})",
    )
    add_detector_arguments(parser, when="with --scan: ")
    parser.add_argument(
        "--hello-timeout",
        type=_positive_float,
        default=30.0,
        metavar="S",
        help="seconds to wait for a HELLO (default: %(default)g)",
    )
    parser.add_argument(
        "--session-timeout-ms",
        type=_positive_int,
        default=300_000,
        metavar="MS",
        help="idle timeout announced in ACCEPT (default: %(default)d)",
    )
    parser.add_argument(
        "--ping-interval-ms",
        type=_positive_int,
        default=60_000,
        metavar="MS",
        help="silence before a keep-alive PING (default: %(default)d)",
    )
    parser.add_argument(
        "--ping-timeout-ms",
        type=_positive_int,
        default=10_000,
        metavar="MS",
        help="wait for each PONG; three misses close TIMEOUT (default: %(default)d)",
    )
    _add_logging_arguments(parser, default="info")


async def _echo(session: Session) -> None:
    """Send every DATA back as it came (``str`` stays ``str``); what a blocking scan policy
    withholds (``async for`` skips it) or refuses to send is not echoed."""
    try:
        async for message in session:
            try:
                await session.send(message)
            except SecurityThreatError as exc:  # refused on the way out; the session goes on
                log.info("echo_withheld", session_id=session.id, error=str(exc))
    except M2MError as exc:  # the session broke (timeout, protocol error, lost connection)
        log.info("echo_session_failed", session_id=session.id, error=str(exc))


def _run_serve(args: argparse.Namespace) -> int:
    _setup_logging(args)
    try:
        psk = _psk_or_report(args)
    except _UsageFailure:
        return EXIT_USAGE
    try:
        policy = _scan_policy(args)
        return asyncio.run(_serve(args, policy, psk))
    except M2MError as error:
        _report(error)
        return _exit_status(error)
    except OSError as error:  # bind failed: address in use, permission...
        print(f"{PROG}: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return EXIT_FAILURE


def _scan_policy(args: argparse.Namespace) -> ScanPolicy | None:
    """``--scan``, ``--threshold``, ``--detector`` and ``--model`` as a policy (``None``: no
    policy of the server's own)."""
    mode: str | None = args.scan
    threshold: float | None = args.threshold
    if mode is None:
        for given, option in ((threshold, "--threshold"), (args.detector, "--detector")):
            if given is not None:
                raise ConfigError(f"{option} needs --scan monitor|blocking")
        if args.model is not None:
            raise ConfigError("--model needs --scan monitor|blocking")
        return None
    threshold = DEFAULT_THRESHOLD if threshold is None else threshold
    policy = ScanPolicy.of(mode, threshold, detector=detector(args))
    log.info(
        "scan_policy",
        mode=str(policy.mode),
        threshold=policy.threshold,
        detector=policy.scanner.detector.name,
    )
    return policy


async def _serve(
    args: argparse.Namespace,
    policy: ScanPolicy | None = None,
    psk: KeyMaterial | None = None,
) -> int:
    server = await serve(
        _echo,
        args.host,
        args.port,
        max_sessions=args.max_sessions,
        rate_limit=args.rate_limit or None,
        algorithms=args.algorithms,
        require_scanning=args.require_scanning,
        scan=policy,
        require_encryption=args.require_encryption,
        psk=psk,
        hello_timeout=args.hello_timeout,
        session_timeout_ms=args.session_timeout_ms,
        ping_interval_ms=args.ping_interval_ms,
        ping_timeout_ms=args.ping_timeout_ms,
    )
    stop = asyncio.Event()
    main_task = asyncio.current_task()
    assert main_task is not None
    signals = 0

    def on_signal(signum: int) -> None:
        nonlocal signals
        signals += 1
        if signals == 1:
            log.info("shutdown_requested", signal=signal.Signals(signum).name)
            stop.set()
        else:  # a second signal: stop waiting for sessions to finish
            log.warning("shutdown_forced", signal=signal.Signals(signum).name)
            main_task.cancel()

    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not on this platform
            loop.add_signal_handler(signum, on_signal, signum)
            installed.append(signum)
    try:
        print(f"listening on {_format_address(server.sockets[0].getsockname())}", flush=True)
        await stop.wait()
        await _shut_down(server)
    except asyncio.CancelledError:
        return EXIT_FAILURE if signals > 1 else EXIT_OK
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)
    return EXIT_OK


async def _shut_down(server: Server) -> None:
    """CLOSE SERVER_SHUTDOWN to every session, and wait for them (``Server.close``)."""
    server.close()
    await server.wait_closed()


register(
    Command(
        name="serve",
        help="run an echo peer: every DATA comes back unchanged",
        add_arguments=_serve_arguments,
        run=_run_serve,
    )
)


# --- send -------------------------------------------------------------------------------------


def _send_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("host", metavar="HOST", help="the peer's address")
    parser.add_argument("port", metavar="PORT", type=_port, help="the peer's port")
    parser.add_argument(
        "messages", metavar="MESSAGE", nargs="+", help="text to send, one DATA each"
    )
    parser.add_argument(
        "--algorithms",
        default=None,
        metavar="A,B",
        help=(
            "compression algorithms to offer, in preference order "
            "(default: every available one but the opt-in BROTLI_SESSION)"
        ),
    )
    parser.add_argument(
        "--timeout",
        type=_positive_float,
        default=10.0,
        metavar="S",
        help="seconds to wait for the handshake and for each reply (default: %(default)g)",
    )
    parser.add_argument(
        "--encrypt",
        action="store_true",
        help="protect every DATA: offer AEAD (ChaCha20-Poly1305); fail if the peer will not",
    )
    parser.add_argument(
        "--encrypt-modes",
        type=_security_modes,
        default=None,
        metavar="A,B",
        help="with --encrypt: the modes to offer, in preference order (AEAD, HMAC)",
    )
    _add_psk_argument(parser)
    parser.add_argument(
        "--json",
        action="store_true",
        help='print errors as the JSON error shape {"error": {"code", "message", ...}}',
    )
    _add_logging_arguments(parser, default="warning")


def _security_modes(text: str) -> list[str]:
    modes = [mode.strip().upper() for mode in text.split(",") if mode.strip()]
    allowed = ("AEAD", "HMAC")
    wrong = [mode for mode in modes if mode not in allowed]
    if not modes or wrong:
        raise argparse.ArgumentTypeError(f"modes must be among {', '.join(allowed)}, not {text!r}")
    return modes


def _encrypt(args: argparse.Namespace) -> bool | list[str]:
    """``connect(encrypt=...)`` from ``--encrypt`` and ``--encrypt-modes``."""
    modes: list[str] | None = args.encrypt_modes
    if modes is not None and not args.encrypt:
        raise ConfigError("--encrypt-modes needs --encrypt")
    if not args.encrypt:
        return False
    return True if modes is None else modes


def _run_send(args: argparse.Namespace) -> int:
    _setup_logging(args)
    try:
        psk = _psk_or_report(args, as_json=args.json)
    except _UsageFailure:
        return EXIT_USAGE
    try:
        asyncio.run(_send(args, psk))
    except M2MError as error:
        _report(error, as_json=args.json)
        return _exit_status(error)
    return EXIT_OK


async def _send(args: argparse.Namespace, psk: KeyMaterial | None = None) -> None:
    timeout: float = args.timeout
    session = await connect(
        args.host,
        args.port,
        algorithms=args.algorithms,
        handshake_timeout=timeout,
        encrypt=_encrypt(args),
        psk=psk,
    )
    reason = CloseReason.NORMAL
    try:
        for message in args.messages:
            await session.send(message)
            try:
                async with asyncio.timeout(timeout):
                    reply = await session.recv()
            except TimeoutError:
                raise NetworkError(f"no reply within {timeout:g} s") from None
            text = reply if isinstance(reply, str) else reply.decode("utf-8", "backslashreplace")
            print(text, flush=True)
    except asyncio.CancelledError:  # Ctrl-C: the client side is shutting down
        reason = CloseReason.CLIENT_SHUTDOWN
        raise
    finally:
        await session.close(reason)  # does nothing when the session already ended


register(
    Command(
        name="send",
        help="open a session, send each MESSAGE, print each reply, close NORMAL",
        add_arguments=_send_arguments,
        run=_run_send,
    )
)
for command in (*cli_codec.COMMANDS, *cli_scan.COMMANDS):
    register(command)


if __name__ == "__main__":
    sys.exit(main())
