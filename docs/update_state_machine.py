"""Rewrite the mermaid block of docs/state-machine.md from the live machine (``make docs``)."""

from __future__ import annotations

import re
from pathlib import Path

from m2m_session.protocol import state_diagram

DOC = Path(__file__).resolve().parent / "state-machine.md"
FENCE = "`" * 3


def main() -> None:
    text = DOC.read_text(encoding="utf-8")
    block = f"{FENCE}mermaid\n{state_diagram()}\n{FENCE}"
    updated, count = re.subn(rf"(?s){FENCE}mermaid\n.*?\n{FENCE}", lambda _: block, text)
    if count != 1:
        raise SystemExit(f"{DOC} must hold exactly one mermaid block, found {count}")
    DOC.write_text(updated, encoding="utf-8")
    print(f"{DOC.name}: {'updated' if updated != text else 'already current'}")


if __name__ == "__main__":
    main()
