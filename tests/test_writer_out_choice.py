"""The writer-out bench's pre-registered choosing rule (docs/security.md): the largest smallest
slack over the four targets, ties to fewer false positives, then to the higher floor."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent / "bench"))

from writer_out_bench import SETTINGS, Setting, choose, measure, slack

ATTACKS = ["PROMPT_INJECTION", "JAILBREAK", "DATA_EXFILTRATION"]
LABELS = [label for label in ATTACKS for _ in range(10)] + ["BENIGN"] * 100


def guesses(missed: int = 0, false_positives: int = 0) -> list[str]:
    """Every attack caught except ``missed`` exfiltration rows; that many benign rows flagged."""
    out = []
    missed_left, flagged_left = missed, false_positives
    for label in LABELS:
        if label == "DATA_EXFILTRATION" and missed_left:
            out.append("BENIGN")
            missed_left -= 1
        elif label == "BENIGN" and flagged_left:
            out.append("JAILBREAK")
            flagged_left -= 1
        else:
            out.append(label)
    return out


def test_measure_counts_recall_and_false_positives() -> None:
    recalls, fp, benign = measure(LABELS, guesses(missed=2, false_positives=3))
    assert recalls == [1.0, 1.0, 0.8]
    assert (fp, benign) == (3, 100)


def test_slack_is_the_tightest_target_as_a_fraction_of_its_allowance() -> None:
    assert slack([0.95, 0.95, 0.95], 10, 1000) == pytest.approx(0.5)
    assert slack([1.0, 1.0, 0.85], 0, 1000) == pytest.approx(-0.5)
    assert slack([1.0, 1.0, 1.0], 30, 1000) == pytest.approx(-0.5)


def test_choose_takes_the_largest_smallest_slack() -> None:
    verdicts: dict[Setting, list[str]] = {s: guesses(false_positives=5) for s in SETTINGS}
    verdicts[0.9, 0.2] = guesses(missed=0, false_positives=1)
    verdicts[0.97, 0.5] = guesses(missed=2, false_positives=0)  # recall 0.8: target missed
    assert choose(LABELS, verdicts) == (0.9, 0.2)


def test_choose_breaks_ties_by_fewer_false_positives_then_higher_floor() -> None:
    verdicts: dict[Setting, list[str]] = {s: guesses(missed=5) for s in SETTINGS}
    # Exfiltration recall 0.9 exactly: slack 0.0 for both, whatever their false positives.
    verdicts[0.85, 0.1] = guesses(missed=1, false_positives=1)
    verdicts[0.92, 0.1] = guesses(missed=1, false_positives=1)
    assert choose(LABELS, verdicts) == (0.92, 0.1)
    verdicts[0.85, 0.1] = guesses(missed=1, false_positives=0)
    assert choose(LABELS, verdicts) == (0.85, 0.1)
