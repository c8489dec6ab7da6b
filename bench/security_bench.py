"""Measure the security scanner on the labelled corpus in ``bench/security_corpus/``.

    .venv/bin/python bench/security_bench.py            # tables for tune and held-out, timings
    .venv/bin/python bench/security_bench.py --split tune --by-file   # what rule work may read
    .venv/bin/python bench/security_bench.py --misses   # also list misclassified examples
    .venv/bin/python bench/security_bench.py --strict   # exit 1 when a target is missed
    .venv/bin/python bench/security_bench.py --detector learned    # the learned model instead
    .venv/bin/python bench/security_bench.py --detector combined   # rules + learned, max per type

The corpus is forty-one files by forty-one writers (bench/security_corpus/README.md):
``corpus.jsonl`` and ``tune2.jsonl`` to ``tune38.jsonl`` hold the ``tune`` rows,
``heldout26.jsonl`` to ``heldout28.jsonl`` the ``heldout`` rows, written blind (their writers saw
neither the rules nor the other files). A row is
``{"text", "label", "split"}`` (``label`` a threat type or ``BENIGN``); rows with ``raw_b64``
are scanned as those bytes (invalid UTF-8).
The predicted type of a row is the scan result's ``threat_type`` (the strongest finding at or
over the threshold; none when safe). Per type: recall = predicted T / labelled T, precision =
labelled T / predicted T. False-positive rate = benign rows predicted unsafe / benign rows.
Rules are tuned on the ``tune`` split only; ``heldout`` is reported, not tuned on: work on the
rules runs ``--split tune`` (``--by-file`` shows how rules fitted to one writer fare on the
other, the nearest thing to a held-out test that may be looked at row by row).

``--detector learned|combined`` loads the learned model (``--model``, default the shipped
``m2m_session/security/data/learned-v1.json``, written by ``bench/train_detector.py`` from the
``tune`` split only) or, with ``--retrain``, trains one in memory from this corpus's ``tune``
rows. Either way it is evaluated on both splits; a model whose recorded training rows are not
exactly this corpus's ``tune`` rows is refused (stale, or trained on held-out rows).
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

from m2m_session.codes import ThreatType
from m2m_session.security import Detector, Scanner
from m2m_session.security.detectors import (
    DEFAULT_LEARNED_MODEL,
    LearnedDetector,
    combined_detector,
)
from m2m_session.security.training import LEARNED_TYPES, fingerprint, train, training_rows

CORPUS_DIR = Path(__file__).parent / "security_corpus"
#: The corpus files, in reading order: the tune files (one writer each), then the held-out.
CORPUS_FILES = (
    "corpus.jsonl",
    *(f"tune{n}.jsonl" for n in range(2, 39)),
    *(f"heldout{n}.jsonl" for n in range(26, 29)),
)
RECALL_TARGET = 0.9
FP_TARGET = 0.02
MS_PER_KB_TARGET = 0.2


def load(
    directory: Path = CORPUS_DIR, splits: tuple[str, ...] = ("tune", "heldout")
) -> list[dict[str, str]]:
    """The corpus rows of ``splits``, each with ``file`` set to the file it came from."""
    rows: list[dict[str, str]] = []
    for name in CORPUS_FILES:
        with (directory / name).open(encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    row = json.loads(line)
                    if row["split"] in splits:
                        rows.append({**row, "file": name})
    return rows


def content(row: dict[str, str]) -> bytes:
    """The bytes a row stands for."""
    raw = row.get("raw_b64")
    return base64.b64decode(raw) if raw else row["text"].encode("utf-8")


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def evaluate(
    scanner: Scanner, rows: list[dict[str, str]], split: str, misses: bool, file: str | None = None
) -> bool:
    """Print the quality table of one split (of one file); True when every target is met."""
    subset = [row for row in rows if row["split"] == split and file in (None, row["file"])]
    if not subset:
        return True
    predicted: list[str] = []
    for row in subset:
        result = scanner.scan(content(row))
        predicted.append("BENIGN" if result.threat_type is None else str(result.threat_type))
    where = f", {file}" if file else ""
    print(f"\n== split: {split}{where} ({len(subset)} rows) ==")
    print(f"{'type':<20}{'n':>5}{'recall':>9}{'precision':>11}  target recall ≥ {RECALL_TARGET}")
    all_ok = True
    for threat in ThreatType:
        label = str(threat)
        n = sum(1 for row in subset if row["label"] == label)
        hits = sum(
            1 for row, p in zip(subset, predicted, strict=True) if row["label"] == label == p
        )
        claimed = sum(1 for p in predicted if p == label)
        if not n:
            print(f"{label:<20}{n:>5}{'-':>9}{'-':>11}  (no rows of this type)")
            continue
        recall = hits / n
        precision = hits / claimed if claimed else 1.0
        ok = recall >= RECALL_TARGET
        all_ok &= ok
        print(f"{label:<20}{n:>5}{recall:>9.3f}{precision:>11.3f}  {verdict(ok)}")
    benign = [p for row, p in zip(subset, predicted, strict=True) if row["label"] == "BENIGN"]
    fp = sum(1 for p in benign if p != "BENIGN")
    rate = fp / len(benign) if benign else 0.0
    ok = rate <= FP_TARGET
    all_ok &= ok
    label = "BENIGN false pos."
    print(f"{label:<20}{len(benign):>5}{rate:>9.3f} ({fp} rows)   ≤ {FP_TARGET}  {verdict(ok)}")
    if misses:
        for row, p in zip(subset, predicted, strict=True):
            if row["label"] != p:
                print(f"  miss: label={row['label']} predicted={p}: {row['text'][:110]!r}")
    return all_ok


_PROSE = (
    "The quarterly shipment review covered warehouse throughput, carrier delays and the new "
    "label printer rollout. Dock 4 processed 1,240 pallets last week, up 8 percent, while the "
    "average unload time fell to 22 minutes. Two carriers missed their pickup windows on "
    "Tuesday because of the storm; both rebooked for Wednesday morning. The printer firmware "
    "update fixed the barcode alignment issue reported in March. Next steps: confirm the "
    "holiday staffing plan, order spare toner, and schedule the forklift inspection. "
)


def _kilobyte_messages(rows: list[dict[str, str]]) -> dict[str, bytes]:
    """Typical prose, a chat request carrying it, and two worst cases: hard negatives back to
    back, and attacks back to back (every detector runs its full course on them)."""
    prose = (_PROSE * 3).encode()[:1024]
    hard = _back_to_back(rows, {"BENIGN"})
    attacks = _back_to_back(rows, {str(threat) for threat in LEARNED_TYPES})
    messages = [{"role": "system", "content": "You are a helpful assistant for a logistics firm."}]
    filler = _PROSE * 3
    while len(json.dumps({"model": "gpt-4o", "messages": messages}).encode()) < 1000:
        messages.append({"role": "user", "content": filler[:120]})
        filler = filler[120:]
    payload = json.dumps({"model": "gpt-4o", "messages": messages}).encode()
    return {
        "1 KB prose": prose,
        "1 KB chat JSON": payload,
        "1 KB hard negatives": hard,
        "1 KB attacks": attacks,
    }


def _back_to_back(rows: list[dict[str, str]], labels: set[str]) -> bytes:
    """The first KB of the ASCII rows with one of ``labels``, joined by spaces."""
    chosen = (row["text"] for row in rows if row["label"] in labels and row["text"].isascii())
    return " ".join(chosen).encode()[:1024]


#: Reported, not held to the target: the worst cases by design.
_WORST_CASES = frozenset({"1 KB hard negatives", "1 KB attacks"})


def _time(call: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(repeat):
            call()
        best = min(best, (time.perf_counter() - start) / repeat)
    return best


def timings(scanner: Scanner, rows: list[dict[str, str]]) -> bool:
    """Print per-message times and throughput; True when the 1 KB target is met."""
    print("\n== speed (best of 5) ==")
    all_ok = True
    for name, message in _kilobyte_messages(rows).items():
        # The worst cases take milliseconds: fewer repeats keep the run short.
        repeat = 100 if name in _WORST_CASES else 2000
        seconds = _time(lambda m=message: scanner.scan(m), repeat)  # type: ignore[misc]
        per_kb = seconds * 1000 * 1024 / len(message)
        ok = per_kb <= MS_PER_KB_TARGET
        if name not in _WORST_CASES:
            all_ok &= ok
        print(
            f"{name:<20} {len(message):>5} B  {seconds * 1e3:.4f} ms/msg"
            f"  {per_kb:.4f} ms/KB  target ≤ {MS_PER_KB_TARGET} ms  {verdict(ok)}"
        )
    everything = [content(row) for row in rows]
    total = sum(len(data) for data in everything)

    def scan_all() -> None:
        for data in everything:
            scanner.scan(data)

    seconds = _time(scan_all, 3)
    print(f"{'whole corpus':<20} {total:>5} B  {total / seconds / 1e6:.2f} MB/s ({len(rows)} msgs)")
    return all_ok


def build_detector(kind: str, model: Path, retrain: bool) -> Detector | None:
    """The detector ``--detector`` names (``None`` for the scanner's default rules)."""
    if kind == "rules":
        return None
    rows = load(splits=("tune",))
    if retrain:
        learned = LearnedDetector.from_model(train(rows, split="tune"))
        print("learned model: trained in memory from the tune split")
    else:
        learned = LearnedDetector(model)
        learned.load()
        print(f"learned model: {model}")
    trained = learned.trained_on
    expected = fingerprint(training_rows(rows, "tune"))
    print(f"  trained on {trained.get('rows')} rows of split {trained.get('split')!r}")
    if trained.get("split") != "tune" or trained.get("sha256") != expected:
        raise SystemExit(
            "the model was not trained on exactly this corpus's tune split "
            "(stale? run bench/train_detector.py, or pass --retrain)"
        )
    if kind == "learned":
        return learned
    return combined_detector(learned)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="list misclassified rows")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--threshold", type=float, default=0.8)
    parser.add_argument(
        "--detector", choices=("rules", "learned", "combined"), default="rules", help="detector"
    )
    parser.add_argument(
        "--model", type=Path, default=DEFAULT_LEARNED_MODEL, help="learned model file"
    )
    parser.add_argument(
        "--retrain", action="store_true", help="train the learned model from the tune split now"
    )
    parser.add_argument(
        "--split",
        choices=("tune", "heldout", "both"),
        default="both",
        help="which split to read and report (rule work: tune only)",
    )
    parser.add_argument(
        "--by-file", action="store_true", help="also a table per corpus file (writer)"
    )
    args = parser.parse_args(argv)
    splits = ("tune", "heldout") if args.split == "both" else (args.split,)
    rows = load(splits=splits)
    detector = build_detector(args.detector, args.model, args.retrain)
    scanner = Scanner(detector, threshold=args.threshold)
    print(f"corpus: {', '.join(CORPUS_FILES)}; splits read: {', '.join(splits)}")
    print(f"detector: {scanner.detector.name}  threshold: {args.threshold}")
    ok = True
    for split in splits:
        ok &= evaluate(scanner, rows, split, args.misses)
        if args.by_file:
            for name in CORPUS_FILES:
                evaluate(scanner, rows, split, args.misses, name)
    ok &= timings(scanner, rows)
    return 0 if ok or not args.strict else 1


if __name__ == "__main__":
    sys.exit(main())
