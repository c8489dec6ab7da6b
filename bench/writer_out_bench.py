"""Leave one writer out: how the detectors fare on a writer whose rows they were not fitted to.

    .venv/bin/python bench/writer_out_bench.py                 # all tune files, 2 processes
    .venv/bin/python bench/writer_out_bench.py --jobs 1 --dump /tmp/oof.json

Each tune file of ``bench/security_corpus`` is one writer. For every file the learned model is
trained on the other tune files only and scores that file's rows (out of fold); the rules score
every row as they are. Pooled over all files, the tables give per-type recall and the benign
false-positive rate of: the rules, the learned model alone, and the combined detector
(:class:`~m2m_session.security.detectors.RulesAndModelDetector`, run for real with each fold's
model) at every setting of a sweep: the learned model admitted at or above each
``min_confidence``, with and without its veto on the rules (a row the model scores below the
veto for every type keeps no rule finding of those types). The last lines name the setting the
rule of docs/security.md picks (the largest smallest slack over the four targets) and the
shipped one. Until the seventh round this is how
:data:`~m2m_session.security.detectors.COMBINED_LEARNED_MIN_CONFIDENCE` and
:data:`~m2m_session.security.detectors.COMBINED_VETO_BELOW` were chosen; now
``bench/forward_bench.py`` chooses them, where the rules too meet writers they have not read
(docs/security.md).

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
from typing import Any

from security_bench import CORPUS_FILES, FP_TARGET, RECALL_TARGET, content, load

from m2m_session.security import (
    Finding,
    LearnedDetector,
    RuleDetector,
    RulesAndModelDetector,
    Scanner,
    ThreatType,
)
from m2m_session.security.detectors import COMBINED_LEARNED_MIN_CONFIDENCE, COMBINED_VETO_BELOW
from m2m_session.security.training import LEARNED_TYPES, train

THRESHOLD = 0.8
SWEEP = (0.8, 0.85, 0.9, 0.92, 0.95, 0.97)
VETOES = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
#: (admission floor, veto) pairs; a veto of 0.0 never fires (no score is below it).
SETTINGS = tuple((floor, veto) for floor in SWEEP for veto in (0.0, *VETOES))
SHIPPED = (COMBINED_LEARNED_MIN_CONFIDENCE, COMBINED_VETO_BELOW)
#: Per type, the strongest confidence a detector gave a row (types it did not report: absent).
Scores = dict[str, float]
#: (admission floor, veto).
Setting = tuple[float, float]


def strongest(scanner: Scanner, data: bytes) -> Scores:
    """The highest confidence per threat type over every finding of one scan."""
    best: Scores = {}
    for finding in scanner.scan(data).details:
        name = str(finding.threat_type)
        best[name] = max(best.get(name, 0.0), finding.confidence)
    return best


def out_of_fold(held: str) -> tuple[str, list[Scores], dict[Setting, list[str]]]:
    """For ``held``'s rows, from a model trained on the other tune files: the learned scores,
    and the verdicts of the combined detector at every setting of :data:`SETTINGS`."""
    rows = load(splits=("tune",))
    model = train([row for row in rows if row["file"] != held], split="tune")
    return held, *sweep(model, [content(row) for row in rows if row["file"] == held])


def sweep(
    model: dict[str, Any], texts: list[bytes]
) -> tuple[list[Scores], dict[Setting, list[str]]]:
    """For ``texts``: the scores of the learned ``model`` alone, and the verdicts of the
    combined detector (the rules and ``model``) at every setting of :data:`SETTINGS`."""
    scanner = Scanner(LearnedDetector.from_model(model, min_confidence=0.0), threshold=1.0)
    verdicts: dict[Setting, list[str]] = {}
    # Every setting scans the same texts: the rules and the model run once per text.
    rules, learned = _RememberedRules(), _RememberedScores.from_model(model)
    for floor, veto in (*SETTINGS, SHIPPED):
        detector = RulesAndModelDetector(
            learned, min_confidence=floor, veto_below=veto, rules=rules
        )
        combined = Scanner(detector, threshold=THRESHOLD)
        verdicts[floor, veto] = [str(combined.scan(data).threat_type or "BENIGN") for data in texts]
    return [strongest(scanner, data) for data in texts], verdicts


class _RememberedRules(RuleDetector):
    """The rules, each text's findings computed once."""

    def __init__(self) -> None:
        super().__init__()
        self._seen: dict[str, list[Finding]] = {}

    def detect(self, text: str, words: frozenset[str] | None = None) -> list[Finding]:
        found = self._seen.get(text)
        if found is None:
            found = self._seen[text] = super().detect(text, words)
        return found


class _RememberedScores(LearnedDetector):
    """A learned model, each text's scores computed once."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._seen: dict[str, dict[ThreatType, float]] = {}

    def scores(
        self,
        text: str,
        found_words: list[str] | None = None,
        distinct: frozenset[str] | None = None,
    ) -> dict[ThreatType, float]:
        found = self._seen.get(text)
        if found is None:
            found = self._seen[text] = super().scores(text, found_words, distinct)
        return found


def predicted(scores: Iterable[Scores]) -> str:
    """The scanner's verdict from per-type confidences: the strongest at the threshold."""
    merged: Scores = {}
    for part in scores:
        for name, confidence in part.items():
            merged[name] = max(merged.get(name, 0.0), confidence)
    top = max(merged.items(), key=lambda item: item[1], default=("BENIGN", 0.0))
    return top[0] if top[1] >= THRESHOLD else "BENIGN"


def measure(labels: list[str], guesses: list[str]) -> tuple[list[float], int, int]:
    """Recall per learned type, benign false positives and benign rows."""
    recalls = []
    for threat in LEARNED_TYPES:
        name = str(threat)
        n = labels.count(name)
        hits = sum(
            1 for label, guess in zip(labels, guesses, strict=True) if label == guess == name
        )
        recalls.append(hits / n if n else 0.0)
    benign = [guess for label, guess in zip(labels, guesses, strict=True) if label == "BENIGN"]
    return recalls, sum(1 for guess in benign if guess != "BENIGN"), len(benign)


def slack(recalls: list[float], fp: int, benign: int) -> float:
    """The smallest unused fraction of a target's allowance (negative: a target missed)."""
    fp_slack = (FP_TARGET - fp / benign) / FP_TARGET
    return min(fp_slack, *((recall - RECALL_TARGET) / (1.0 - RECALL_TARGET) for recall in recalls))


def table(title: str, labels: list[str], guesses: list[str]) -> None:
    """One line: recall per learned type, the benign false-positive rate and the slack."""
    recalls, fp, benign = measure(labels, guesses)
    cells = "".join(f"{recall:7.3f}" for recall in recalls)
    least = slack(recalls, fp, benign)
    verdict = "meets the targets" if least >= 0 else ""
    print(f"{title:<36}{cells}   {fp / benign:6.3f} ({fp:>3}/{benign})  {least:+6.2f}  {verdict}")


def sweep_tables(
    title: str,
    labels: list[str],
    rules: list[Scores],
    learned: list[Scores],
    combined: dict[Setting, list[str]],
) -> None:
    """A heading, then a :func:`table` line for the rules, the model alone and every setting."""
    header = "".join(f"{str(t)[:6]:>7}" for t in LEARNED_TYPES)
    print(f"{title:<36}{header}   FP rate (≤ {FP_TARGET})  slack")
    table("rules", labels, [predicted([r]) for r in rules])
    table("learned alone", labels, [predicted([s]) for s in learned])
    for setting in SETTINGS:
        table(_setting_name(setting), labels, combined[setting])


def choose(labels: list[str], verdicts: dict[Setting, list[str]]) -> Setting:
    """The setting with the largest smallest slack; then fewer false positives, higher floor."""

    def key(setting: Setting) -> tuple[float, int, float]:
        recalls, fp, benign = measure(labels, verdicts[setting])
        return (slack(recalls, fp, benign), -fp, setting[0])

    return max(SETTINGS, key=key)


def _setting_name(setting: Setting) -> str:
    floor, veto = setting
    return f"learned >= {floor}, " + (f"veto < {veto}" if veto else "no veto")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2, help="training processes")
    parser.add_argument("--dump", type=Path, help="write per-row scores as JSON here")
    args = parser.parse_args(argv)
    rows = [row for row in load(splits=("tune",)) if row["label"] in _LEARNED_OR_BENIGN]
    files = [name for name in CORPUS_FILES if any(row["file"] == name for row in rows)]
    print(f"leave one writer out over {len(files)} tune files, {len(rows)} rows", flush=True)
    learned: dict[str, list[Scores]] = {}
    by_file: dict[str, dict[Setting, list[str]]] = {}
    with ProcessPoolExecutor(args.jobs) as pool:
        for held, scores, verdicts in pool.map(out_of_fold, files):
            kept = [row["label"] in _LEARNED_OR_BENIGN for row in _file_rows(held)]
            learned[held] = [s for s, keep in zip(scores, kept, strict=True) if keep]
            by_file[held] = {
                setting: [v for v, keep in zip(guesses, kept, strict=True) if keep]
                for setting, guesses in verdicts.items()
            }
            print(f"  {held}: trained on the other files", flush=True)
    rules = Scanner()
    rule_scores = [strongest(rules, content(row)) for row in rows]
    positions = {name: 0 for name in files}
    oof: list[Scores] = []
    combined: dict[Setting, list[str]] = {setting: [] for setting in (*SETTINGS, SHIPPED)}
    for row in rows:
        name = row["file"]
        oof.append(learned[name][positions[name]])
        for setting, guesses in combined.items():
            guesses.append(by_file[name][setting][positions[name]])
        positions[name] += 1
    labels = [row["label"] for row in rows]
    print()
    sweep_tables("pooled recall / benign FP", labels, rule_scores, oof, combined)
    chosen = choose(labels, combined)
    print()
    table(f"chosen: {_setting_name(chosen)}", labels, combined[chosen])
    table(f"shipped: {_setting_name(SHIPPED)}", labels, combined[SHIPPED])
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
