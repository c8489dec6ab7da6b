"""Forward: each retired blind set scored as it would have been while it was still blind.

    .venv/bin/python bench/forward_bench.py            # the rounds of ROUNDS, 2 processes
    .venv/bin/python bench/forward_bench.py --jobs 1
    .venv/bin/python bench/forward_bench.py --add-training tune31.jsonl tune32.jsonl

A blind held-out set is looked at once and then retired into the tune split, where the next
rule round reads it. Before that, the rules and the model had never seen it: the figures they
gave it are what a writer in a new setting meets. This bench replays that for each round of
:data:`ROUNDS`: the package as it stood at the round's commit (extracted from git, so this needs
the repository's history) trains a model on the tune files that existed then and runs the
rules, the model alone and the combined detector at every setting of the writer-out sweep
(``writer_out_bench.SETTINGS``, run exactly) over the retired files. Rounds are printed one by
one, then pooled, and the last lines name the setting the rule of docs/security.md picks on the
pooled line, and the shipped one.

``--add-training FILE ...`` adds those tune files to every round's training: what data written
later would have done for the rounds before it. Their writers may have been told what the
earlier rounds got wrong (read from the retired files), so such a line flatters them; only the
next blind set can tell.

Why next to ``writer_out_bench.py``: leaving one writer out gives the model an unseen writer but
not the rules, which were written while reading every tune file; this line gives both an unseen
writer, with fewer rows.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

from security_bench import content, load
from writer_out_bench import (
    _LEARNED_OR_BENIGN,
    SHIPPED,
    Setting,
    _setting_name,
    choose,
    strongest,
    sweep,
    sweep_tables,
    table,
)

import m2m_session
from m2m_session.security import Scanner
from m2m_session.security.training import train

BENCH = Path(__file__).resolve().parent
REPOSITORY = BENCH.parent


@dataclass(frozen=True)
class Round:
    """A retired blind set, with what had been built while it was blind."""

    name: str
    #: The commit whose rules had not yet read ``tested`` (its last before they were retired).
    commit: str
    #: The files the blind set became in the tune split.
    tested: tuple[str, ...]
    #: The tune files that existed at ``commit``: what that round's model was trained on.
    trained_on: tuple[str, ...]


def _tune(first: int, last: int) -> tuple[str, ...]:
    return ("corpus.jsonl", *(f"tune{n}.jsonl" for n in range(first, last + 1)))


def _round(ordinal: str, heldout: int, commit: str, tune: int) -> Round:
    """The blind set ``heldout``-``heldout + 2``, retired as ``tune``-``tune + 2``, replayed at
    ``commit`` with a model trained on ``corpus.jsonl`` and every tune file before it."""
    return Round(
        f"{ordinal} blind set (heldout{heldout}-{heldout + 2})",
        commit,
        tuple(f"tune{n}.jsonl" for n in range(tune, tune + 3)),
        _tune(2, tune - 1),
    )


ROUNDS = (
    _round("fifth", 8, "2cb2dce", 19),
    _round("sixth", 11, "546be69", 22),
    _round("seventh", 14, "8bef3fa", 25),
    _round("eighth", 17, "bd5d43c", 28),
    _round("ninth", 20, "0cc86e7", 33),
    _round("tenth", 23, "5b79d74", 36),
)


def replay(index: int, added: tuple[str, ...] = ()) -> dict[str, Any]:
    """Run in a child whose ``m2m_session`` is round ``index``'s: labels, the rules' and the
    model's strongest scores and the combined verdicts per setting, for the tested rows. The
    model also trains on the tune files ``added``."""
    package = os.environ.get("M2M_FORWARD_PACKAGE")
    if package is None or not Path(m2m_session.__file__).is_relative_to(Path(package)):
        raise SystemExit(f"replay imported {m2m_session.__file__}, not the round's package")
    chosen = ROUNDS[index]
    rows = [row for row in load(splits=("tune",)) if row["label"] in _LEARNED_OR_BENIGN]
    training = set(chosen.trained_on) | set(added)
    model = train([row for row in rows if row["file"] in training], split="tune")
    tested = [row for row in rows if row["file"] in chosen.tested]
    texts = [content(row) for row in tested]
    learned, verdicts = sweep(model, texts)
    rules = Scanner()
    return {
        "labels": [row["label"] for row in tested],
        "rules": [strongest(rules, data) for data in texts],
        "learned": learned,
        "verdicts": [[floor, veto, guesses] for (floor, veto), guesses in verdicts.items()],
    }


def extract(commit: str, into: Path) -> Path:
    """The ``m2m_session`` package of ``commit``, unpacked under ``into``."""
    try:
        archive = subprocess.run(
            ["git", "-C", str(REPOSITORY), "archive", "--format=tar", commit, "m2m_session"],
            check=True,
            capture_output=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError) as error:
        detail = getattr(error, "stderr", b"") or b""
        raise SystemExit(
            f"cannot read commit {commit} from git ({detail.decode(errors='replace').strip()}):"
            " this bench needs a clone with the project's history"
        ) from error
    target = into / commit
    target.mkdir(parents=True)
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        if hasattr(tarfile, "data_filter"):  # Python 3.11.4 and later
            tar.extractall(target, filter="data")
        else:  # our own archive, from git
            tar.extractall(target)
    return target


def check_added(added: tuple[str, ...]) -> None:
    """Refuse added training files that are not tune files, or that a round tests."""
    tested = {name for chosen in ROUNDS for name in chosen.tested}
    tune_files = {row["file"] for row in load(splits=("tune",))}
    for name in added:
        if name not in tune_files:
            raise SystemExit(f"--add-training {name}: not a tune file of the corpus")
        if name in tested:
            raise SystemExit(f"--add-training {name}: a round tests it")


def run_round(index: int, package: Path, added: tuple[str, ...] = ()) -> dict[str, Any]:
    """Round ``index`` in a child process that imports the package from ``package``."""
    environment = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join((str(package), str(BENCH))),
        M2M_FORWARD_PACKAGE=str(package),
    )
    done = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "--replay",
            str(index),
            *(["--add-training", *added] if added else []),
        ],
        check=True,
        stdout=subprocess.PIPE,
        env=environment,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2, help="rounds run at once")
    parser.add_argument(
        "--add-training",
        nargs="+",
        default=[],
        metavar="FILE",
        help="tune files added to every round's training (e.g. tune31.jsonl)",
    )
    parser.add_argument("--replay", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    added = tuple(args.add_training)
    if args.replay is not None:
        json.dump(replay(args.replay, added), sys.stdout)
        return 0
    check_added(added)
    with tempfile.TemporaryDirectory() as scratch:
        packages = [extract(chosen.commit, Path(scratch)) for chosen in ROUNDS]
        also = f" + {', '.join(added)}" if added else ""
        for chosen in ROUNDS:
            print(
                f"{chosen.name}: training on {len(chosen.trained_on)} files{also}"
                f" at {chosen.commit}",
                flush=True,
            )
        with ThreadPoolExecutor(args.jobs) as pool:
            results = list(pool.map(run_round, range(len(ROUNDS)), packages, [added] * len(ROUNDS)))
    pooled: dict[str, list[Any]] = {"labels": [], "rules": [], "learned": []}
    combined: dict[Setting, list[str]] = {}
    for chosen, result in zip(ROUNDS, results, strict=True):
        for key, values in pooled.items():
            values.extend(result[key])
        verdicts = {(floor, veto): guesses for floor, veto, guesses in result["verdicts"]}
        for setting, guesses in verdicts.items():
            combined.setdefault(setting, []).extend(guesses)
        print(f"\n{chosen.name}: {', '.join(chosen.tested)}")
        sweep_tables(
            "recall / benign FP", result["labels"], result["rules"], result["learned"], verdicts
        )
    labels = pooled["labels"]
    print()
    sweep_tables("pooled recall / benign FP", labels, pooled["rules"], pooled["learned"], combined)
    chosen_setting = choose(labels, combined)
    print()
    table(f"chosen: {_setting_name(chosen_setting)}", labels, combined[chosen_setting])
    table(f"shipped: {_setting_name(SHIPPED)}", labels, combined[SHIPPED])
    return 0


if __name__ == "__main__":
    sys.exit(main())
