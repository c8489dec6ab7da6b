"""The detector interface, the registry of named detectors, and a tiny model-backed detector.

A :class:`Detector` turns folded text into findings. The :class:`~.rules.RuleDetector` needs no
model; a detector backed by a model file (:class:`KeywordModelDetector`, the smallest real one)
must be :meth:`loaded <KeywordModelDetector.load>` first. The error behaviour every model-backed
detector follows:

* loading a missing or corrupt file raises :class:`~m2m_session.errors.ModelLoadError`;
* asking :meth:`DetectorRegistry.get` for an unregistered name raises
  :class:`~m2m_session.errors.ModelNotFoundError`;
* detecting before loading raises :class:`~m2m_session.errors.ModelNotLoadedError`;
* input it cannot handle (not a ``str``) raises :class:`~m2m_session.errors.InferenceError`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import chain, compress, islice, pairwise
from operator import add
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from m2m_session.codes import ThreatType
from m2m_session.errors import (
    InferenceError,
    ModelLoadError,
    ModelNotFoundError,
    ModelNotLoadedError,
)
from m2m_session.security.concepts import word_tags
from m2m_session.security.normalize import printable_ascii
from m2m_session.security.result import Finding
from m2m_session.security.rules import RuleDetector
from m2m_session.security.training import (
    FEATURE_SETS,
    FEATURES,
    MODEL_FORMAT,
    MODEL_VERSION,
    pair_names,
    sigmoid,
    tag_names,
    words,
)

__all__ = [
    "COMBINED_LEARNED_MIN_CONFIDENCE",
    "COMBINED_VETO_BELOW",
    "DEFAULT_LEARNED_MODEL",
    "KEYWORD_MODEL_FORMAT",
    "CombinedDetector",
    "Detector",
    "DetectorRegistry",
    "KeywordModelDetector",
    "LearnedDetector",
    "RulesAndModelDetector",
    "combined_detector",
    "default_registry",
    "register_learned",
]


@runtime_checkable
class Detector(Protocol):
    """What the scanner needs of a detector."""

    @property
    def name(self) -> str:
        """A short stable name (``"rules"``), used in registries and logs."""
        ...

    @property
    def loaded(self) -> bool:
        """Whether :meth:`detect` can run (always true for a detector without a model)."""
        ...

    def detect(self, text: str) -> list[Finding]:
        """Findings for ``text``, already folded by :func:`~.normalize.fold`."""
        ...


#: The ``format`` field a keyword model file must carry.
KEYWORD_MODEL_FORMAT = "m2m-keyword-model/1"


def read_model_file(path: Path) -> object:
    """The JSON document in a model file; :class:`ModelLoadError` if unreadable or not JSON."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ModelLoadError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ModelLoadError(f"{path} is not valid JSON") from exc


class KeywordModelDetector:
    """Keyword weights per threat type, loaded from a JSON model file.

    The file is ``{"format": "m2m-keyword-model/1", "weights": {"JAILBREAK": {"phrase": w,
    ...}, ...}}`` with weights in 0..1 and lower-case phrases; a text's confidence for a type is
    ``1 - exp(-Σ w)`` over the phrases it contains, capped at 0.99.
    """

    def __init__(self, path: str | Path, *, name: str = "keywords") -> None:
        self.path = Path(path)
        self._name = name
        self._weights: dict[ThreatType, dict[str, float]] | None = None

    @property
    def name(self) -> str:
        return self._name

    @property
    def loaded(self) -> bool:
        return self._weights is not None

    def load(self) -> None:
        """Read and validate the model file; :class:`ModelLoadError` if missing or corrupt."""
        document = read_model_file(self.path)
        if not isinstance(document, dict) or document.get("format") != KEYWORD_MODEL_FORMAT:
            raise ModelLoadError(f"{self.path} is not a {KEYWORD_MODEL_FORMAT} file")
        table = document.get("weights")
        if not isinstance(table, dict):
            raise ModelLoadError(f"{self.path} has no weights table")
        weights: dict[ThreatType, dict[str, float]] = {}
        for type_name, phrases in table.items():
            try:
                threat = ThreatType(type_name)
            except ValueError:
                raise ModelLoadError(f"{self.path}: unknown threat type {type_name!r}") from None
            if not isinstance(phrases, dict):
                raise ModelLoadError(f"{self.path}: weights of {type_name} are not an object")
            checked: dict[str, float] = {}
            for phrase, weight in phrases.items():
                if (
                    not phrase
                    or isinstance(weight, bool)
                    or not isinstance(weight, int | float)
                    or not 0.0 <= weight <= 1.0
                ):
                    raise ModelLoadError(f"{self.path}: bad weight for a {type_name} phrase")
                checked[phrase.casefold()] = float(weight)
            weights[threat] = checked
        self._weights = weights

    def detect(self, text: str) -> list[Finding]:
        """Findings for ``text``; see the class doc."""
        if self._weights is None:
            raise ModelNotLoadedError(f"detector {self._name!r} was used before load()")
        if not isinstance(text, str):
            raise InferenceError(f"detector {self._name!r} takes text, not {type(text).__name__}")
        findings = []
        for threat, phrases in self._weights.items():
            total = sum(weight for phrase, weight in phrases.items() if phrase in text)
            if total > 0.0:
                confidence = min(0.99, 1.0 - math.exp(-total))
                findings.append(
                    Finding(threat, confidence, f"{self._name}/keywords", "weighted keywords")
                )
        return findings


#: The learned model the package ships (``python bench/train_detector.py`` writes it).
DEFAULT_LEARNED_MODEL = Path(__file__).parent / "data" / "learned-v1.json"


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


class LearnedDetector:
    """One-vs-rest logistic regression over word n-grams, loaded from a model file.

    The file is what :func:`~.training.train` produces (``format`` ``m2m-learned-ngram-lr``,
    ``version`` 1). For each threat type in the model the confidence is ``sigmoid(bias + Σ w)``
    over the weights of the unigrams and bigrams present in the (folded) text; a finding is
    reported when it reaches ``min_confidence``. ``path`` defaults to the shipped model,
    :data:`DEFAULT_LEARNED_MODEL`.
    """

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        name: str = "learned",
        min_confidence: float = 0.5,
    ) -> None:
        self.path = Path(path) if path is not None else DEFAULT_LEARNED_MODEL
        self._name = name
        self.min_confidence = min_confidence
        self._tables: _ScoreTables | None = None
        self.trained_on: dict[str, Any] = {}

    @classmethod
    def from_model(
        cls, model: Mapping[str, Any], *, name: str = "learned", min_confidence: float = 0.5
    ) -> LearnedDetector:
        """A loaded detector for an in-memory model document (validated like a file)."""
        detector = cls(Path("<memory>"), name=name, min_confidence=min_confidence)
        detector._install(model)
        return detector

    @property
    def name(self) -> str:
        return self._name

    @property
    def loaded(self) -> bool:
        return self._tables is not None

    def load(self) -> None:
        """Read and validate the model file; :class:`ModelLoadError` if missing or corrupt."""
        self._install(read_model_file(self.path))

    def _install(self, document: object) -> None:
        where = str(self.path)
        if not isinstance(document, Mapping) or document.get("format") != MODEL_FORMAT:
            raise ModelLoadError(f"{where} is not a {MODEL_FORMAT} model")
        if document.get("version") != MODEL_VERSION:
            raise ModelLoadError(f"{where}: unsupported model version {document.get('version')!r}")
        feature_set = document.get("features")
        if feature_set not in FEATURE_SETS:
            raise ModelLoadError(f"{where}: unknown features {feature_set!r}")
        table = document.get("classes")
        if not isinstance(table, Mapping) or not table:
            raise ModelLoadError(f"{where} has no classes")
        classes: dict[ThreatType, tuple[float, dict[str, float]]] = {}
        for type_name, entry in table.items():
            try:
                threat = ThreatType(type_name)
            except ValueError:
                raise ModelLoadError(f"{where}: unknown threat type {type_name!r}") from None
            if not isinstance(entry, Mapping):
                raise ModelLoadError(f"{where}: class {type_name} is not an object")
            bias = entry.get("bias")
            weights = entry.get("weights")
            if not isinstance(bias, int | float) or not _number(bias):
                raise ModelLoadError(f"{where}: class {type_name} needs a numeric bias")
            if not isinstance(weights, Mapping):
                raise ModelLoadError(f"{where}: class {type_name} needs a weights object")
            checked: dict[str, float] = {}
            for feature, weight in weights.items():
                if not isinstance(feature, str) or not feature or not _number(weight):
                    raise ModelLoadError(f"{where}: bad weight in class {type_name}")
                if abs(weight) > MAX_WEIGHT:
                    raise ModelLoadError(
                        f"{where}: weight {weight} of {feature!r} is beyond ±{MAX_WEIGHT}"
                    )
                checked[feature] = float(weight)
            classes[threat] = (float(bias), checked)
        trained_on = document.get("trained_on")
        self.trained_on = dict(trained_on) if isinstance(trained_on, Mapping) else {}
        self._tables = _ScoreTables(classes, tagged=feature_set == FEATURES)

    def scores(
        self,
        text: str,
        found_words: list[str] | None = None,
        distinct: frozenset[str] | None = None,
    ) -> dict[ThreatType, float]:
        """The calibrated confidence (0..1) of every class for ``text`` (already folded);
        ``found_words``: its :func:`~.training.words`, and ``distinct``: the set of them, when
        the caller already has them."""
        tables = self._tables
        if tables is None:
            raise ModelNotLoadedError(f"detector {self._name!r} was used before load()")
        if not isinstance(text, str):
            raise InferenceError(f"detector {self._name!r} takes text, not {type(text).__name__}")
        if found_words is None:
            found_words = words(text)
        return tables.score(found_words, found_words if distinct is None else distinct)

    def detect(self, text: str) -> list[Finding]:
        """One finding per class whose confidence reaches ``min_confidence``."""
        return [
            Finding(
                threat,
                confidence,
                f"{self._name}/{threat.value.lower()}",
                "learned word n-gram model",
            )
            for threat, confidence in self.scores(text).items()
            if confidence >= self.min_confidence
        ]


class _FeatureNames(dict[Any, tuple[str, ...]]):
    """A bounded cache: a word's tag set (or a pair of adjacent words' tag sets) → the names of
    the tag features it gives that the model knows. A text's words carry few distinct tag
    sets, so the names are built once, not per scan."""

    __slots__ = ("build",)
    LIMIT = 50_000

    def __init__(self, build: Callable[[Any], tuple[str, ...]]) -> None:
        super().__init__()
        self.build = build

    def __missing__(self, key: Any) -> tuple[str, ...]:
        if len(self) >= self.LIMIT:
            self.clear()
        names = self[key] = self.build(key)
        return names


#: The largest weight magnitude a model may hold (far beyond what training gives).
MAX_WEIGHT = 1000.0
#: Bits a sum of packed weights may take and still be summed by ``sum()`` in a C long, with no
#: integer objects made along the way.
_NATIVE_BITS = 63


def _weight_scale(weights: Iterable[float]) -> int:
    """The unit weights are summed in: 10⁻³ when every weight is a whole number of them (the
    trainer writes three decimals), 10⁻⁶ otherwise. Either way the integer sum divided by the
    scale is the float the division of the exact sum gives."""
    if all(round(weight * 10**6) % 1000 == 0 for weight in weights):
        return 10**3
    return 10**6


class _ScoreTables:
    """A model's weights arranged for scoring, so that a text is scored by set intersections,
    cached lookups and one sum, all running in C.

    Every feature the model knows maps to one ``int`` holding its weight for every class, one
    signed fixed-point field of ``field_bits`` bits per class: summing the ints sums every
    class at once, exactly. For the shipped three-class model the fields fit a C long, so
    ``sum()`` never builds a big integer; a field holds the sum of ``chunk`` features at most,
    and a text with more is summed ``chunk`` features at a time. Word pairs are keyed by
    ``(first, second)`` tuples. Same result as summing, per class, the weights of the distinct
    features of :func:`~.training.features` (the model's definition), several times faster,
    which is what lets the learned detector run next to the rules within the scan-time budget.
    """

    __slots__ = (
        "biases",
        "bigram_keys",
        "chunk",
        "field_bits",
        "order",
        "packed",
        "pair_names",
        "scale",
        "tag_names",
        "tagged",
        "unigram_keys",
    )

    def __init__(
        self,
        classes: Mapping[ThreatType, tuple[float, Mapping[str, float]]],
        *,
        tagged: bool,
    ) -> None:
        self.order = tuple(classes)
        self.biases = tuple(classes[threat][0] for threat in self.order)
        #: Whether the model has tag features (:func:`~.training.tag_features`).
        self.tagged = tagged
        self.scale = _weight_scale(w for _, weights in classes.values() for w in weights.values())
        units = {
            threat: {feature: round(weight * self.scale) for feature, weight in weights.items()}
            for threat, (_, weights) in classes.items()
        }
        largest = max((abs(unit) for table in units.values() for unit in table.values()), default=1)
        # A field holds sums in ±2^(bits-1): as many features as fit under that, at least one.
        self.field_bits = max(_NATIVE_BITS // len(self.order), largest.bit_length() + 2)
        self.chunk = ((1 << (self.field_bits - 1)) - 1) // max(largest, 1)
        packed: dict[str | tuple[str, str], int] = {}
        for index, threat in enumerate(self.order):
            shift = index * self.field_bits
            for feature, unit in units[threat].items():
                first, _, second = feature.partition(" ")
                key: str | tuple[str, str] = (first, second) if second else feature
                packed[key] = packed.get(key, 0) + (unit << shift)
        self.packed = packed
        self.unigram_keys = frozenset(key for key in packed if isinstance(key, str))
        self.bigram_keys = frozenset(key for key in packed if isinstance(key, tuple))
        known = self.unigram_keys
        self.tag_names = _FeatureNames(lambda tags: tuple(known.intersection(tag_names(tags))))
        self.pair_names = _FeatureNames(lambda pair: tuple(known.intersection(pair_names(pair))))

    def score(self, found_words: list[str], distinct: Iterable[str]) -> dict[ThreatType, float]:
        """``distinct``: ``found_words`` or a set of them (a set intersects faster)."""
        weight = self.packed.__getitem__
        # Words, word pairs and tag names never share a key, so each kind is deduplicated and
        # summed on its own (no merged set to build).
        unigrams = self.unigram_keys.intersection(distinct)
        # zip reuses its result tuple when the lookup drops it: cheaper than pairwise here.
        bigrams = self.bigram_keys.intersection(zip(found_words, found_words[1:], strict=False))  # noqa: RUF007
        named: set[str] = set()
        if self.tagged:
            tags = word_tags(found_words)
            named.update(*map(self.tag_names.__getitem__, set(tags)))
            # Adjacent tagged words, found from the positions of the tagged ones: most words
            # carry no tag, and pairing every word costs more than the rest of the scoring.
            tagged = list(compress(range(len(tags)), tags))
            adjacent = {(tags[i], tags[j]) for i, j in pairwise(tagged) if j == i + 1}
            named.update(*map(self.pair_names.__getitem__, adjacent))
        if len(unigrams) + len(bigrams) + len(named) <= self.chunk:
            fields = self._fields(
                sum(map(weight, unigrams)) + sum(map(weight, bigrams)) + sum(map(weight, named))
            )
        else:
            fields = [0] * len(self.order)
            features: Iterator[str | tuple[str, str]] = chain(unigrams, bigrams, named)
            while part := list(islice(features, self.chunk)):
                fields = list(map(add, fields, self._fields(sum(map(weight, part)))))
        scale = self.scale
        return {
            threat: sigmoid(bias + field / scale)
            for threat, bias, field in zip(self.order, self.biases, fields, strict=True)
        }

    def _fields(self, total: int) -> list[int]:
        """The per-class sums packed in ``total`` (each within its field's range)."""
        bits = self.field_bits
        half = 1 << (bits - 1)
        mask = (1 << bits) - 1
        fields = []
        for _ in range(len(self.order) - 1):
            low = ((total + half) & mask) - half
            fields.append(low)
            total = (total - low) >> bits
        fields.append(total)
        return fields


class CombinedDetector:
    """Several detectors as one: every detector runs, and per threat type the strongest finding
    (the highest confidence; the earlier detector on a tie) is kept."""

    def __init__(self, detectors: Sequence[Detector], *, name: str = "combined") -> None:
        if not detectors:
            raise ValueError("CombinedDetector needs at least one detector")
        self.detectors = tuple(detectors)
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    @property
    def loaded(self) -> bool:
        return all(detector.loaded for detector in self.detectors)

    def detect(self, text: str) -> list[Finding]:
        """The strongest finding per threat type over all detectors."""
        best: dict[ThreatType, Finding] = {}
        for detector in self.detectors:
            if not detector.loaded:
                raise ModelNotLoadedError(f"detector {detector.name!r} was used before load()")
            for finding in detector.detect(text):
                current = best.get(finding.threat_type)
                if current is None or finding.confidence > current.confidence:
                    best[finding.threat_type] = finding
        return list(best.values())


class DetectorRegistry:
    """Named detector factories; :meth:`get` builds one or raises ``ModelNotFoundError``."""

    def __init__(self) -> None:
        self._factories: dict[str, Callable[[], Detector]] = {}

    def register(self, name: str, factory: Callable[[], Detector]) -> None:
        """Register (or replace) the factory for ``name``."""
        self._factories[name] = factory

    def names(self) -> list[str]:
        """The registered names, sorted."""
        return sorted(self._factories)

    def __contains__(self, name: object) -> bool:
        return name in self._factories

    def get(self, name: str) -> Detector:
        """A new detector for ``name``; :class:`ModelNotFoundError` if it is not registered."""
        factory = self._factories.get(name)
        if factory is None:
            known = ", ".join(self.names()) or "none"
            raise ModelNotFoundError(f"no detector named {name!r} (registered: {known})")
        return factory()


#: In :func:`combined_detector`, the learned model speaks only at this confidence or above.
COMBINED_LEARNED_MIN_CONFIDENCE = 0.8
#: In :func:`combined_detector`, the rules' injection, jailbreak and exfiltration findings are
#: dropped when the learned model gives every one of those types less than this: the rules
#: fire on attack words, the model weighs the whole text.
COMBINED_VETO_BELOW = 0.5
# Both chosen by a rule written down before the sweep ran (docs/security.md): the setting whose
# smallest slack over the four targets is largest on the forward line (bench/forward_bench.py
# --add-training tune31.jsonl tune32.jsonl: the last six retired blind sets, each scored by the
# rules as they stood while it was blind and a model trained on what existed then plus the two
# files the shipped model also learns from). There: recall 0.950 / 0.957 / 0.908, false
# positives 1.8 % (33 of 1,800), every target met; the same setting as the rounds before.


class RulesAndModelDetector(CombinedDetector):
    """The rules and a learned model as one detector (name ``combined``).

    Per threat type the strongest finding wins; the model's findings count from
    ``min_confidence``, and when the model scores every one of its types below ``veto_below``
    the rules' findings of those types are dropped (structural types are never touched).
    The text is tokenised once and the model scored once, for both uses; the model runs
    first, and the rules are skipped when its veto would drop everything they can report.
    """

    def __init__(
        self,
        learned: LearnedDetector,
        *,
        min_confidence: float = COMBINED_LEARNED_MIN_CONFIDENCE,
        veto_below: float = COMBINED_VETO_BELOW,
        rules: RuleDetector | None = None,
        name: str = "combined",
    ) -> None:
        self.rules = rules if rules is not None else RuleDetector()
        self.learned = learned
        super().__init__([self.rules, learned], name=name)
        self.min_confidence = min_confidence
        self.veto_below = veto_below

    def load(self) -> None:
        """Load the learned model (``ModelLoadError`` if its file is missing or corrupt)."""
        self.learned.load()

    def detect(self, text: str) -> list[Finding]:
        """The strongest finding per threat type, after the model's veto."""
        if not isinstance(text, str):
            raise InferenceError(f"detector {self._name!r} takes text, not {type(text).__name__}")
        found_words = words(text)
        distinct = frozenset(found_words)
        scores = self.learned.scores(
            text, found_words, distinct
        )  # ModelNotLoadedError if not loaded
        vetoed = max(scores.values(), default=0.0) < self.veto_below
        best: dict[ThreatType, Finding] = {}
        # Under the veto every rule finding of a scored type is dropped: when the model scores
        # every type the rules can report, the rules need not run at all. Most text is benign
        # and vetoed, so this is most scans, at the same findings.
        if not (vetoed and self.rules.threat_types.issubset(scores)):
            # The rules split on punctuation, the model on \W: the same words in printable
            # ASCII (folded text has no line breaks or tabs left), so one tokenisation serves.
            rule_words = distinct if printable_ascii(text) else None
            for finding in self.rules.detect(text, rule_words):
                if not (vetoed and finding.threat_type in scores):
                    best[finding.threat_type] = finding
        learned_name = self.learned.name
        for threat, confidence in scores.items():
            current = best.get(threat)
            if confidence >= self.min_confidence and (
                current is None or confidence > current.confidence
            ):
                best[threat] = Finding(
                    threat,
                    confidence,
                    f"{learned_name}/{threat.value.lower()}",
                    "learned word n-gram model",
                )
        return list(best.values())


def combined_detector(learned: LearnedDetector) -> RulesAndModelDetector:
    """The rules with ``learned`` (loaded) next to them: :class:`RulesAndModelDetector` with
    :data:`COMBINED_LEARNED_MIN_CONFIDENCE` (or ``learned``'s own minimum, when stricter) and
    :data:`COMBINED_VETO_BELOW`."""
    return RulesAndModelDetector(
        learned, min_confidence=max(learned.min_confidence, COMBINED_LEARNED_MIN_CONFIDENCE)
    )


def register_learned(registry: DetectorRegistry, path: str | Path | None = None) -> None:
    """Register ``"learned"`` (:class:`LearnedDetector`) and ``"combined"`` (rules + learned).

    Their factories load the model (``path``, default :data:`DEFAULT_LEARNED_MODEL`) when
    :meth:`~DetectorRegistry.get` is called, so a missing or corrupt file raises
    ``ModelLoadError`` there and the detector returned is ready for a :class:`Scanner`.
    """

    def learned() -> LearnedDetector:
        detector = LearnedDetector(path)
        detector.load()
        return detector

    def combined() -> RulesAndModelDetector:
        return combined_detector(learned())

    registry.register("learned", learned)
    registry.register("combined", combined)


def default_registry(*, learned: bool = False, model: str | Path | None = None) -> DetectorRegistry:
    """A registry holding ``"rules"`` (:class:`RuleDetector`); with ``learned=True`` also
    ``"learned"`` and ``"combined"`` loading ``model`` (see :func:`register_learned`)."""
    registry = DetectorRegistry()
    registry.register("rules", RuleDetector)
    if learned:
        register_learned(registry, model)
    return registry
