"""Train the learned detector from the corpus's ``tune`` rows and write the model file.

    .venv/bin/python bench/train_detector.py   # → m2m_session/security/data/learned-v1.json
    .venv/bin/python bench/train_detector.py --out m.json

Only ``tune`` rows are read (every tune file of bench/security_corpus; see
:func:`m2m_session.security.training.train`); the ``heldout`` rows stay for measuring
(``bench/security_bench.py --detector learned``). The output is
deterministic: the same corpus gives the same bytes (sorted keys, rounded weights).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from security_bench import CORPUS_DIR, load

from m2m_session.security.detectors import DEFAULT_LEARNED_MODEL
from m2m_session.security.training import dumps, train


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_LEARNED_MODEL, help="model file")
    parser.add_argument("--corpus", type=Path, default=CORPUS_DIR, help="corpus directory")
    args = parser.parse_args(argv)
    model = train(load(args.corpus, splits=("tune",)), split="tune")
    text = dumps(model)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    trained = model["trained_on"]
    sizes = ", ".join(f"{name} {len(c['weights'])}" for name, c in model["classes"].items())
    print(
        f"wrote {args.out} ({len(text.encode())} B): {trained['rows']} tune rows; features {sizes}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
