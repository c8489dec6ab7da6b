"""The scanner: where to look, what to decode, and how findings become a :class:`ScanResult`.

``Scanner().scan(content)`` for ``bytes`` or ``str``:

1. bytes that are not valid UTF-8 give a ``MALFORMED_INPUT`` finding and are decoded with
   replacement characters so the rest of the scan still runs;
2. content starting with ``{`` or ``[`` is checked for ``EXCESSIVE_NESTING``, and so is every
   text or JSON string value (tool-call arguments included) for brackets nested too deep
   inside it: JSON embedded in prose, a code fence or a string;
3. "look where the words are": a JSON LLM-API payload (as
   :func:`m2m_session.codecs.m2m.detect_schema` recognises it) is scanned string value by
   string value — message contents, tool-call arguments (themselves parsed when they are JSON),
   tool results, tool descriptions, prompts, embedding inputs — never the keys and never the
   metadata values (``model``, ``role``, ids, ...). Anything else is scanned as one text;
4. each text: structural checks on the raw text, then the detector on every variant from
   :func:`~.normalize.variants` (the folded text and what Base64 / URL / HTML encoding hides);
5. allow-list patterns (case-insensitive regexes) blank out the spans they match, in the raw
   text and in every variant, before anything looks at them.

A finding reaching ``threshold`` makes the result unsafe. Findings are deduplicated by
(threat type, detector), keeping the strongest.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from m2m_session.codecs.m2m import classify_schema
from m2m_session.codes import ThreatType
from m2m_session.errors import ConfigError, ModelNotLoadedError
from m2m_session.security.detectors import Detector
from m2m_session.security.normalize import printable_ascii, variants
from m2m_session.security.result import Finding, ScanResult
from m2m_session.security.rules import (
    RuleDetector,
    embedded_nesting_finding,
    malformed_findings,
    may_nest_deeper,
    nesting_finding,
)

__all__ = ["DEFAULT_THRESHOLD", "Scanner"]

#: Blocking threshold (issue 4: blocking mode defaults to 0.8).
DEFAULT_THRESHOLD = 0.8

#: Values under these keys are metadata, not words: a payload scan skips them.
_METADATA_KEYS = frozenset(
    {
        "model",
        "role",
        "id",
        "type",
        "object",
        "name",
        "finish_reason",
        "stop_reason",
        "stop_sequence",
        "tool_call_id",
        "tool_use_id",
        "encoding_format",
        "system_fingerprint",
        "created",
        "index",
        "logprobs",
        "usage",
        "embedding",
        "service_tier",
        "media_type",
        "detail",
    }
)
_MAX_ARGUMENT_BYTES = 1 << 20
_SEPARATOR = "\n|||\n"

_MI = ThreatType.MALFORMED_INPUT
_ATTACKS = frozenset(
    {ThreatType.PROMPT_INJECTION, ThreatType.JAILBREAK, ThreatType.DATA_EXFILTRATION}
)
_SOURCE_NOTE = {
    "base64": " in Base64",
    "url": " in URL-encoded text",
    "html": " in HTML entities",
    "spaced": " in spelt-out letters",
}


def _payload_strings(payload: object, found: dict[tuple[str, str], Finding]) -> list[str]:
    """Every string value of a parsed payload, in document order, except metadata values;
    keys are never taken. Tool-call ``arguments`` that hold a JSON container are parsed (once,
    under the nesting limit) and walked in place; arguments nested too deep give an
    ``EXCESSIVE_NESTING`` finding into ``found`` and are scanned as text."""
    strings: list[str] = []
    _collect(payload, strings, found, True)
    return strings


def _collect(
    node: object,
    strings: list[str],
    found: dict[tuple[str, str], Finding],
    parse_arguments: bool,
) -> None:
    # Recursion is bounded: a parsed payload is at most DEFAULT_MAX_DEPTH deep, and so are
    # the arguments it holds, which are parsed at one level only.
    if isinstance(node, dict):
        for key, item in node.items():
            if isinstance(item, str):
                if key in _METADATA_KEYS:
                    continue
                if key == "arguments" and parse_arguments:
                    arguments = _arguments(item, found)
                    if arguments is not None:
                        _collect(arguments, strings, found, False)
                        continue
                strings.append(item)
            elif isinstance(item, dict | list):
                _collect(item, strings, found, parse_arguments)
    elif isinstance(node, list):
        for item in node:
            if isinstance(item, str):
                strings.append(item)
            elif isinstance(item, dict | list):
                _collect(item, strings, found, parse_arguments)
    elif isinstance(node, str):
        strings.append(node)


def _arguments(text: str, found: dict[tuple[str, str], Finding]) -> object | None:
    """Tool-call arguments as a parsed JSON container, or ``None`` to scan them as text."""
    if text.lstrip()[:1] not in ("{", "[") or len(text) > _MAX_ARGUMENT_BYTES:
        return None
    nesting, parsed = nesting_finding(text.encode("utf-8", "surrogatepass"))
    if nesting is not None:
        _keep(
            found,
            Finding(
                nesting.threat_type,
                nesting.confidence,
                nesting.detector,
                nesting.reason + " in tool-call arguments",
            ),
        )
    return parsed if isinstance(parsed, dict | list) else None


class Scanner:
    """Scans content for the five threat types; see the module doc.

    ``detector`` must be loaded (``ModelNotLoadedError`` otherwise, at construction and at every
    scan); ``threshold`` is in 0..1; ``allow`` is a list of regexes for known-good spans.
    """

    def __init__(
        self,
        detector: Detector | None = None,
        threshold: float = DEFAULT_THRESHOLD,
        *,
        allow: Iterable[str | re.Pattern[str]] = (),
    ) -> None:
        if not 0.0 <= threshold <= 1.0:
            raise ConfigError(f"threshold {threshold} is outside 0..1")
        self.detector: Detector = detector if detector is not None else RuleDetector()
        self.threshold = threshold
        self.allow: tuple[re.Pattern[str], ...] = tuple(
            pattern if isinstance(pattern, re.Pattern) else re.compile(pattern, re.IGNORECASE)
            for pattern in allow
        )
        self._check_loaded()

    def _check_loaded(self) -> None:
        if not self.detector.loaded:
            raise ModelNotLoadedError(f"detector {self.detector.name!r} is not loaded")

    def _mask(self, text: str) -> str:
        for pattern in self.allow:
            text = pattern.sub(lambda match: " " * len(match.group()), text)
        return text

    def _scan_text(self, text: str, found: dict[tuple[str, str], Finding]) -> None:
        if self.allow:
            text = self._mask(text)
        for finding in malformed_findings(text):
            _keep(found, finding)
        self._detect(text, found)

    def _detect(self, text: str, found: dict[tuple[str, str], Finding]) -> None:
        detect = self.detector.detect
        for variant in variants(text):
            body = self._mask(variant.text) if self.allow else variant.text
            if not body:
                continue
            note = _SOURCE_NOTE.get(variant.source)
            for finding in detect(body):
                if note is None:
                    _keep(found, finding)
                else:
                    reason = finding.reason + note
                    noted = Finding(
                        finding.threat_type, finding.confidence, finding.detector, reason
                    )
                    _keep(found, noted)

    def scan(self, content: bytes | str) -> ScanResult:
        """Scan ``content`` and return the result; never raises for any ``bytes`` or ``str``.

        (``ModelNotLoadedError`` if the detector was unloaded since construction, and whatever
        the detector itself raises, e.g. ``InferenceError``.)
        """
        self._check_loaded()
        found: dict[tuple[str, str], Finding] = {}
        if isinstance(content, str):
            text = content
            data = content.encode("utf-8", "surrogatepass")
        else:
            data = bytes(content)
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                text = data.decode("utf-8", "replace")
                _keep(found, Finding(_MI, 0.9, "malformed/utf8", "invalid UTF-8"))
        nesting, parsed = nesting_finding(data)
        if nesting is not None:
            _keep(found, nesting)
        if isinstance(parsed, dict) and classify_schema(parsed) is not None:
            values = _payload_strings(parsed, found)
            if self.allow:
                values = [self._mask(value) for value in values]
            # Usually no value holds brackets enough to nest deep, and every value is printable
            # ASCII: one look at all of them, not one per value.
            everything = "".join(values)
            if nesting is None and may_nest_deeper(everything):
                _embedded_nesting(values, found)
            if not printable_ascii(everything):
                for value in values:
                    for finding in malformed_findings(value):
                        _keep(found, finding)
            # One detector pass over every value, separated so phrases rarely run across.
            self._detect(_SEPARATOR.join(values), found)
        else:
            # The whole text holds every string of a JSON document: no brackets enough there,
            # no walk of its strings.
            if nesting is None and may_nest_deeper(text):
                strings = [text] if parsed is None else _payload_strings(parsed, found)
                _embedded_nesting(strings, found)
            self._scan_text(text, found)
        return self._result(found.values())

    def _result(self, findings: Iterable[Finding]) -> ScanResult:
        ordered = sorted(findings, key=lambda finding: finding.rank, reverse=True)
        if not ordered:
            return ScanResult.clean()
        top = ordered[0]
        if top.threat_type is _MI:
            # Zero-width, tag or control characters are how an attack was hidden, not what it
            # is for (as with Base64): an attack found at the threshold names the result.
            attack = next(
                (
                    finding
                    for finding in ordered
                    if finding.threat_type in _ATTACKS and finding.confidence >= self.threshold
                ),
                None,
            )
            if attack is not None:
                ordered.remove(attack)
                ordered.insert(0, attack)
                top = attack
        safe = top.confidence < self.threshold
        return ScanResult(
            scanned=True,
            safe=safe,
            threat_type=None if safe else top.threat_type,
            confidence=top.confidence,
            details=ordered,
        )


def _embedded_nesting(strings: Iterable[str], found: dict[tuple[str, str], Finding]) -> None:
    for string in strings:
        finding = embedded_nesting_finding(string)
        if finding is not None:
            _keep(found, finding)
            return


def _keep(found: dict[tuple[str, str], Finding], finding: Finding) -> None:
    key = (finding.threat_type.value, finding.detector)
    current = found.get(key)
    if current is None or finding.confidence > current.confidence:
        found[key] = finding
