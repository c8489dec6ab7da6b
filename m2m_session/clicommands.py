"""What a ``m2m-session`` subcommand is, and the registry ``cli`` builds its parser from.

A module of its own so that command modules (``cli_codec``, ``cli_scan``) can build
:class:`Command` objects without importing :mod:`m2m_session.cli`, which may be running as
``__main__`` (importing it again would make a second, separate registry).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["COMMANDS", "Command", "register"]


@dataclass(frozen=True, slots=True)
class Command:
    """One subcommand: ``add_arguments(parser)`` declares it, ``run(args)`` returns the exit
    status."""

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


#: The subcommands, in the order ``--help`` lists them.
COMMANDS: dict[str, Command] = {}


def register(command: Command) -> Command:
    """Add ``command`` to the CLI."""
    if command.name in COMMANDS:
        raise ValueError(f"subcommand {command.name!r} is already registered")
    COMMANDS[command.name] = command
    return command
