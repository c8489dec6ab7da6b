"""Train the learned detector's model from a labelled corpus (issue 4: "a model file the repo can
train from its own labelled corpus").

The model is one logistic regression per learned threat type (one-vs-rest: ``PROMPT_INJECTION``,
``JAILBREAK``, ``DATA_EXFILTRATION``), fitted by hand in pure Python over binary features: the
word unigrams and bigrams of the :func:`~.normalize.fold`-ed text and, in the
``fold-words-tags-1-2`` feature set (the default), the concept tags of each word
(:func:`~.concepts.tags`: "override verb", "instructions noun", "secret", ... in six languages,
with stems and typos) as ``t:TAG`` and those of adjacent words as ``tt:TAG_TAG``. Tags let the
model generalise from one phrasing to its synonyms; left out, writers it had not seen were
caught 7-11 points less often at the same false-positive rate (bench/writer_out_bench.py).
``MALFORMED_INPUT`` and ``EXCESSIVE_NESTING`` are structural and stay with the rule checks the
scanner always runs, so rows with those labels are not used.

For type *T* the positives are the rows labelled *T*; the negatives are the ``BENIGN`` rows and the
rows of the other two learned types. Training is full-batch gradient descent with L2
regularisation (the bias is not regularised), positives and negatives weighted to equal total
mass, a fixed number of steps and no randomness: the same rows give the same model, byte for byte
once written with :func:`dumps`. The output ``sigmoid(bias + Σ weights)`` is the confidence,
0..1. Features seen in fewer than ``min_count`` training rows are dropped, and weights are rounded
and pruned below ``prune`` so the file stays small.

Only the rows of ``split`` (``"tune"`` by default) are ever read: the held-out rows of the corpus
are for measuring, never for training.

The model document::

    {"format": "m2m-learned-ngram-lr", "version": 1, "features": "fold-words-tags-1-2",
     "classes": {"JAILBREAK": {"bias": -2.1, "weights": {"dan": 1.3, "do anything": 0.9, ...}},
                 ...},
     "trained_on": {"rows": 126, "split": "tune", "sha256": "...", "per_class": {...}},
     "hyperparameters": {...}}
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from m2m_session.codes import ThreatType
from m2m_session.security.concepts import word_tags
from m2m_session.security.normalize import ascii_table, fold

__all__ = [
    "FEATURES",
    "FEATURE_SETS",
    "WORD_FEATURES",
    "LEARNED_TYPES",
    "MODEL_FORMAT",
    "MODEL_VERSION",
    "dumps",
    "features",
    "fingerprint",
    "sigmoid",
    "pair_names",
    "tag_features",
    "tag_names",
    "train",
    "training_rows",
]

#: The ``format`` and ``version`` a learned model document carries.
MODEL_FORMAT = "m2m-learned-ngram-lr"
MODEL_VERSION = 1
#: Names the feature extraction (:func:`features`); a model for another one is refused.
FEATURES = "fold-words-tags-1-2"
#: The earlier feature set, words only; models that name it still load and score.
WORD_FEATURES = "fold-words-1-2"
FEATURE_SETS = (FEATURES, WORD_FEATURES)
#: The threat types the learned model scores (the others are structural checks).
LEARNED_TYPES: tuple[ThreatType, ...] = (
    ThreatType.PROMPT_INJECTION,
    ThreatType.JAILBREAK,
    ThreatType.DATA_EXFILTRATION,
)

_WORD = re.compile(r"\w+")
_BENIGN = "BENIGN"
# ASCII characters outside \w, to blank before a split: the same words as _WORD.findall, at a
# fraction of the cost, for the (usual) all-ASCII folded text.
_ASCII_NON_WORD = ascii_table(
    {c: " " for c in range(128) if not (chr(c).isalnum() or chr(c) == "_")}
)


def words(folded: str) -> list[str]:
    """The ``\\w+`` runs of ``folded``, in order."""
    if folded.isascii():
        return folded.encode("ascii").translate(_ASCII_NON_WORD).decode("ascii").split()
    return _WORD.findall(folded)


#: Feature names per tag set and per pair of tag sets: a text's words carry few distinct tag
#: sets, so the names are built once, not per scan.
_TAG_NAMES: dict[frozenset[str], tuple[str, ...]] = {}
_PAIR_NAMES: dict[tuple[frozenset[str], frozenset[str]], tuple[str, ...]] = {}
_NAME_CACHE_LIMIT = 50_000


def tag_names(tags: frozenset[str]) -> tuple[str, ...]:
    """The ``t:TAG`` features of a word with concept tags ``tags`` (cached)."""
    names = _TAG_NAMES.get(tags)
    if names is None:
        if len(_TAG_NAMES) >= _NAME_CACHE_LIMIT:
            _TAG_NAMES.clear()
        names = _TAG_NAMES[tags] = tuple(sorted(f"t:{tag}" for tag in tags))
    return names


def pair_names(pair: tuple[frozenset[str], frozenset[str]]) -> tuple[str, ...]:
    """The ``tt:A_B`` features of two adjacent words with concept tags ``pair`` (cached)."""
    names = _PAIR_NAMES.get(pair)
    if names is None:
        if len(_PAIR_NAMES) >= _NAME_CACHE_LIMIT:
            _PAIR_NAMES.clear()
        first, second = pair
        names = _PAIR_NAMES[pair] = tuple(sorted(f"tt:{a}_{b}" for a in first for b in second))
    return names


def tag_features(found_words: list[str]) -> set[str]:
    """``t:TAG`` for every concept tag of a word, ``tt:A_B`` for tags of adjacent words."""
    found: set[str] = set()
    previous: frozenset[str] = frozenset()
    for current in word_tags(found_words):
        if current:
            found.update(tag_names(current))
            if previous:
                found.update(pair_names((previous, current)))
        previous = current
    return found


def features(folded: str, feature_set: str = FEATURES) -> set[str]:
    """The features of already-folded text: word unigrams and bigrams (``"a b"``), and with
    :data:`FEATURES` the :func:`tag_features` of the words."""
    if feature_set not in FEATURE_SETS:
        raise ValueError(f"unknown feature set {feature_set!r}")
    found_words = words(folded)
    found = set(found_words)
    found.update(f"{a} {b}" for a, b in itertools.pairwise(found_words))
    if feature_set == FEATURES:
        found |= tag_features(found_words)
    return found


def sigmoid(z: float) -> float:
    """The logistic function, safe for any finite ``z``."""
    if z >= 0.0:
        return 1.0 / (1.0 + math.exp(-min(z, 700.0)))
    e = math.exp(max(z, -700.0))
    return e / (1.0 + e)


def training_rows(rows: Iterable[Mapping[str, Any]], split: str = "tune") -> list[tuple[str, str]]:
    """``(label, text)`` of the rows of ``split`` that training uses, in corpus order."""
    usable = {_BENIGN, *(str(threat) for threat in LEARNED_TYPES)}
    return [
        (str(row["label"]), str(row["text"]))
        for row in rows
        if row.get("split") == split and row.get("label") in usable and "raw_b64" not in row
    ]


def fingerprint(pairs: Iterable[tuple[str, str]]) -> str:
    """SHA-256 of the training ``(label, text)`` pairs, order-independent."""
    blob = json.dumps(sorted(pairs), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _fit(
    docs: list[list[int]],
    labels: list[bool],
    n_features: int,
    *,
    l2: float,
    steps: int,
    rate: float,
) -> tuple[float, list[float]]:
    """Full-batch gradient descent on the class-balanced, L2-regularised logistic loss."""
    n_pos = sum(labels)
    n_neg = len(labels) - n_pos
    # Each class carries half of the total mass, normalised so the mean sample weight is 1.
    w_pos = len(labels) / (2.0 * n_pos) if n_pos else 0.0
    w_neg = len(labels) / (2.0 * n_neg) if n_neg else 0.0
    sample = [w_pos if label else w_neg for label in labels]
    scale = 1.0 / len(docs)
    weights = [0.0] * n_features
    bias = 0.0
    for _ in range(steps):
        grad = [0.0] * n_features
        grad_bias = 0.0
        for doc, label, weight in zip(docs, labels, sample, strict=True):
            z = bias
            for index in doc:
                z += weights[index]
            error = (sigmoid(z) - (1.0 if label else 0.0)) * weight * scale
            grad_bias += error
            for index in doc:
                grad[index] += error
        bias -= rate * grad_bias
        for index in range(n_features):
            weights[index] -= rate * (grad[index] + l2 * weights[index])
    return bias, weights


def train(
    rows: Iterable[Mapping[str, Any]],
    *,
    split: str = "tune",
    l2: float = 0.0005,
    steps: int = 1000,
    rate: float = 2.0,
    min_count: int = 3,
    prune: float = 0.01,
    digits: int = 3,
    feature_set: str = FEATURES,
) -> dict[str, Any]:
    """A learned model trained on the rows of ``split`` only; see the module doc.

    ``rows`` are corpus rows (``{"text", "label", "split"}``); rows of other splits, rows with
    ``raw_b64`` and rows labelled ``MALFORMED_INPUT`` / ``EXCESSIVE_NESTING`` are ignored.
    ``ValueError`` when the split has no row of a learned type or no ``BENIGN`` row.
    """
    pairs = training_rows(rows, split)
    labels_present = {label for label, _ in pairs}
    missing = [
        label
        for label in (_BENIGN, *(str(threat) for threat in LEARNED_TYPES))
        if label not in labels_present
    ]
    if missing:
        raise ValueError(f"split {split!r} has no rows labelled {', '.join(missing)}")
    doc_features = [features(fold(text), feature_set) for _, text in pairs]
    counts: dict[str, int] = {}
    for found in doc_features:
        for feature in found:
            counts[feature] = counts.get(feature, 0) + 1
    vocabulary = sorted(feature for feature, count in counts.items() if count >= min_count)
    index = {feature: position for position, feature in enumerate(vocabulary)}
    docs = [sorted(index[f] for f in found if f in index) for found in doc_features]
    classes: dict[str, Any] = {}
    for threat in LEARNED_TYPES:
        labels = [label == str(threat) for label, _ in pairs]
        bias, weights = _fit(docs, labels, len(vocabulary), l2=l2, steps=steps, rate=rate)
        kept = {
            feature: round(weight, digits)
            for feature, weight in zip(vocabulary, weights, strict=True)
            if abs(weight) >= prune
        }
        classes[str(threat)] = {"bias": round(bias, digits), "weights": kept}
    per_class = {label: sum(1 for lab, _ in pairs if lab == label) for label in labels_present}
    return {
        "format": MODEL_FORMAT,
        "version": MODEL_VERSION,
        "features": feature_set,
        "classes": classes,
        "trained_on": {
            "rows": len(pairs),
            "split": split,
            "per_class": dict(sorted(per_class.items())),
            "sha256": fingerprint(pairs),
        },
        "hyperparameters": {
            "algorithm": "logistic-regression/one-vs-rest/balanced",
            "l2": l2,
            "steps": steps,
            "rate": rate,
            "min_count": min_count,
            "prune": prune,
            "digits": digits,
        },
    }


def dumps(model: Mapping[str, Any]) -> str:
    """The model as deterministic JSON text: sorted keys, compact, one trailing newline."""
    return json.dumps(model, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n"
