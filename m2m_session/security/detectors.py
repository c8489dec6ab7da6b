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
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, runtime_checkable

from m2m_session.codes import ThreatType
from m2m_session.errors import (
    InferenceError,
    ModelLoadError,
    ModelNotFoundError,
    ModelNotLoadedError,
)
from m2m_session.security.result import Finding
from m2m_session.security.rules import RuleDetector

__all__ = [
    "KEYWORD_MODEL_FORMAT",
    "Detector",
    "DetectorRegistry",
    "KeywordModelDetector",
    "default_registry",
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
        try:
            raw = self.path.read_bytes()
        except OSError as exc:
            raise ModelLoadError(f"cannot read {self.path}: {exc.strerror or exc}") from exc
        try:
            document = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise ModelLoadError(f"{self.path} is not valid JSON") from exc
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


def default_registry() -> DetectorRegistry:
    """A registry holding ``"rules"`` (:class:`RuleDetector`)."""
    registry = DetectorRegistry()
    registry.register("rules", RuleDetector)
    return registry
