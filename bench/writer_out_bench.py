"""Leave one writer out: how the detectors fare on a writer whose rows they were not fitted to.

    .venv/bin/python bench/writer_out_bench.py                 # all tune files, 2 processes
    .venv/bin/python bench/writer_out_bench.py --jobs 1 --dump /tmp/oof.json

Each tune file of ``bench/security_corpus`` is one writer. For every file the learned model is
trained on the other tune files only and scores that file's rows (out of fold); the rules score
every row as they are. Pooled over all files, the tables give per-type recall and the benign
false-positive rate of: the rules, the learned model alone, and the combined detector with the
learned model admitted at or above each ``min_confidence`` of a sweep, with and without the
model's veto on the rules (a row the model scores below the veto for every type keeps no
rule finding of those types), and finally the shipped ``combined_detector`` itself, run for
real with each fold's model. This is how
:data:`~m2m_session.security.detectors.COMBINED_LEARNED_MIN_CONFIDENCE` and
:data:`~m2m_session.security.detectors.COMBINED_VETO_BELOW` are chosen without looking at the
held-out files. (The sweep's rows are computed from per-type maxima over a scan's variants, an
approximation of the detector; the last line is exact.)

Caveat, so the numbers are read right: the rules were written while reading these tune rows
(the files listed in bench/security_corpus/README.md as tuned on), so their figures here are
in-sample for those files; only the learned model's are truly out of fold.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from security_bench import CORPUS_FILES, FP_TARGET, RECALL_TARGET, content, load

from m2m_session.security import LearnedDetector, Scanner
from m2m_session.security.detectors import (
    COMBINED_LEARNED_MIN_CONFIDENCE,
    COMBINED_VETO_BELOW,
    combined_detector,
)
from m2m_session.security.training import LEARNED_TYPES, train

THRESHOLD = 0.8
SWEEP = (0.8, 0.85, 0.9, 0.92, 0.95, 0.97)
VETOES = (0.1, 0.2, 0.3, 0.4, 0.5)
#: Per type, the strongest confidence a detector gave a row (types it did not report: absent).
Scores = dict[str, float]


def strongest(scanner: Scanner, data: bytes) -> Scores:
    """The highest confidence per threat type over every finding of one scan."""
    best: Scores = {}
    for finding in scanner.scan(data).details:
        name = str(finding.threat_type)
        best[name] = max(best.get(name, 0.0), finding.confidence)
    return best


def out_of_fold(held: str) -> tuple[str, list[Scores], list[str]]:
    """For ``held``'s rows, from a model trained on the other tune files: the learned scores,
    and the verdicts of the shipped combined detector (:func:`combined_detector`)."""
    rows = load(splits=("tune",))
    model = train([row for row in rows if row["file"] != held], split="tune")
    scanner = Scanner(LearnedDetector.from_model(model, min_confidence=0.0), threshold=1.0)
    combined = Scanner(combined_detector(LearnedDetector.from_model(model)), threshold=THRESHOLD)
    mine = [row for row in rows if row["file"] == held]
    verdicts = [str(combined.scan(content(row)).threat_type or "BENIGN") for row in mine]
    return held, [strongest(scanner, content(row)) for row in mine], verdicts


def predicted(scores: Iterable[Scores]) -> str:
    """The scanner's verdict from per-type confidences: the strongest at the threshold."""
    merged: Scores = {}
    for part in scores:
        for name, confidence in part.items():
            merged[name] = max(merged.get(name, 0.0), confidence)
    top = max(merged.items(), key=lambda item: item[1], default=("BENIGN", 0.0))
    return top[0] if top[1] >= THRESHOLD else "BENIGN"


def vetoed(rules: Scores, learned: Scores, below: float) -> Scores:
    """The rules' scores, without the learned types when the model scores them all < ``below``."""
    if max(learned.values(), default=0.0) >= below:
        return rules
    return {name: value for name, value in rules.items() if name not in learned}


def admitted(scores: Scores, floor: float) -> Scores:
    return {name: value for name, value in scores.items() if value >= floor}


def table(title: str, labels: list[str], guesses: list[str]) -> None:
    """One line: recall per learned type and the benign false-positive rate."""
    cells = []
    ok = True
    for threat in LEARNED_TYPES:
        name = str(threat)
        n = labels.count(name)
        pairs = zip(labels, guesses, strict=True)
        hits = sum(1 for label, guess in pairs if label == guess == name)
        recall = hits / n if n else 0.0
        ok &= recall >= RECALL_TARGET
        cells.append(f"{recall:7.3f}")
    benign = [guess for label, guess in zip(labels, guesses, strict=True) if label == "BENIGN"]
    fp = sum(1 for guess in benign if guess != "BENIGN")
    rate = fp / len(benign)
    ok &= rate <= FP_TARGET
    verdict = "meets the targets" if ok else ""
    print(f"{title:<28}{''.join(cells)}   {rate:6.3f} ({fp:>3}/{len(benign)})  {verdict}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2, help="training processes")
    parser.add_argument("--dump", type=Path, help="write per-row scores as JSON here")
    args = parser.parse_args(argv)
    rows = [row for row in load(splits=("tune",)) if row["label"] in _LEARNED_OR_BENIGN]
    files = [name for name in CORPUS_FILES if any(row["file"] == name for row in rows)]
    print(f"leave one writer out over {len(files)} tune files, {len(rows)} rows", flush=True)
    learned: dict[str, list[Scores]] = {}
    shipped: dict[str, list[str]] = {}
    with ProcessPoolExecutor(args.jobs) as pool:
        for held, scores, verdicts in pool.map(out_of_fold, files):
            kept = [row["label"] in _LEARNED_OR_BENIGN for row in _file_rows(held)]
            learned[held] = [s for s, keep in zip(scores, kept, strict=True) if keep]
            shipped[held] = [v for v, keep in zip(verdicts, kept, strict=True) if keep]
            print(f"  {held}: trained on the other files", flush=True)
    rules = Scanner()
    rule_scores = [strongest(rules, content(row)) for row in rows]
    positions = {name: 0 for name in files}
    oof: list[Scores] = []
    shipped_guesses: list[str] = []
    for row in rows:
        oof.append(learned[row["file"]][positions[row["file"]]])
        shipped_guesses.append(shipped[row["file"]][positions[row["file"]]])
        positions[row["file"]] += 1
    labels = [row["label"] for row in rows]
    header = "".join(f"{str(t)[:6]:>7}" for t in LEARNED_TYPES)
    print(f"\n{'pooled recall / benign FP':<28}{header}   FP rate (target ≤ {FP_TARGET})")
    table("rules", labels, [predicted([r]) for r in rule_scores])
    table("learned alone", labels, [predicted([s]) for s in oof])
    for floor in SWEEP:
        pairs = zip(rule_scores, oof, strict=True)
        guesses = [
            predicted([rules_part, admitted(learned_part, floor)])
            for rules_part, learned_part in pairs
        ]
        table(f"max, learned >= {floor}", labels, guesses)
        for veto in VETOES:
            guesses = [
                predicted([vetoed(rules_part, learned_part, veto), admitted(learned_part, floor)])
                for rules_part, learned_part in zip(rule_scores, oof, strict=True)
            ]
            table(f"  and veto below {veto}", labels, guesses)
    shipped_name = (
        f"shipped combined ({COMBINED_LEARNED_MIN_CONFIDENCE}, veto {COMBINED_VETO_BELOW})"
    )
    table(shipped_name, labels, shipped_guesses)
    if args.dump:
        dump = [
            {"file": row["file"], "label": row["label"], "rules": r, "learned": s}
            for row, r, s in zip(rows, rule_scores, oof, strict=True)
        ]
        args.dump.write_text(json.dumps(dump), encoding="utf-8")
    return 0


_LEARNED_OR_BENIGN = {"BENIGN", *(str(t) for t in LEARNED_TYPES)}


def _file_rows(name: str) -> list[dict[str, str]]:
    return [row for row in load(splits=("tune",)) if row["file"] == name]


if __name__ == "__main__":
    sys.exit(main())
