"""The forward bench's rounds: each replays a retired blind set with the package of a commit
that had not read it, training only on the tune files that existed then."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent / "bench"))

from forward_bench import REPOSITORY, ROUNDS, check_added, extract
from security_bench import CORPUS_FILES


def test_rounds_test_files_newer_than_all_they_trained_on() -> None:
    order = {name: position for position, name in enumerate(CORPUS_FILES)}
    earlier: set[str] = set()
    for chosen in ROUNDS:
        assert set(chosen.tested) | set(chosen.trained_on) <= set(order)
        assert all(name.startswith("tune") for name in chosen.tested)
        assert max(order[name] for name in chosen.trained_on) < min(
            order[name] for name in chosen.tested
        )
        # Each round learns from the rounds before it, as the project did.
        assert earlier <= set(chosen.trained_on)
        earlier |= set(chosen.tested)


def _has_history(commit: str) -> bool:
    probe = subprocess.run(
        ["git", "-C", str(REPOSITORY), "cat-file", "-e", f"{commit}^{{commit}}"],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


def test_extract_unpacks_the_package_of_a_commit(tmp_path: Path) -> None:
    if not _has_history("HEAD"):
        pytest.skip("not a git checkout")
    package = extract("HEAD", tmp_path)
    assert (package / "m2m_session" / "__init__.py").is_file()
    assert (package / "m2m_session" / "security" / "rules.py").is_file()


def test_extract_says_what_is_missing(tmp_path: Path) -> None:
    if not _has_history("HEAD"):
        pytest.skip("not a git checkout")
    with pytest.raises(SystemExit, match="history"):
        extract("0" * 40, tmp_path)


def test_added_training_must_be_tune_files_no_round_tests() -> None:
    check_added(("tune31.jsonl", "tune32.jsonl"))
    with pytest.raises(SystemExit, match="a round tests it"):
        check_added((ROUNDS[-1].tested[0],))
    with pytest.raises(SystemExit, match="not a tune file"):
        check_added(("heldout26.jsonl",))
