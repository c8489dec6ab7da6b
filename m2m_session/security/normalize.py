"""Text normalisation against cheap evasion, and the variants of a text the scanner looks at.

:func:`fold` turns a text into the canonical form the rules are written for:

1. zero-width characters (U+200B..U+200D, U+2060, U+FEFF) and tag characters
   (U+E0000..U+E007F) are removed, so ``ig<U+200B>nore`` reads ``ignore``;
2. Unicode NFKC (fullwidth ``U+FF49 U+FF47 ...`` → ``ig...``, ligatures, compatibility forms);
3. case folding (``str.casefold``);
4. a small confusables table: common Cyrillic and Greek look-alikes → Latin letters
   (``ignore`` written with Cyrillic U+0456, U+043E, U+0435 → ``ignore``);
5. whitespace runs (any Unicode space, tabs, newlines) collapsed to one space, ends stripped.

ASCII input skips steps 1, 2 and 4 (they cannot change it).

:func:`decode_layers` finds what a text hides under one layer of encoding: embedded Base64 runs
(≥ 16 characters, standard or URL-safe alphabet, that decode to mostly printable UTF-8), URL
percent-encoding (``%xx``) and HTML entities (``&#105;``, ``&lt;``). Each is decoded **once**:
text encoded twice is only unwrapped one level. :func:`variants` is the list the scanner scans:
the folded text first, then the folded form of every decoded layer, each with a label naming
where it came from.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
import unicodedata
from collections.abc import Callable, Mapping
from typing import NamedTuple
from urllib.parse import unquote

__all__ = [
    "CONFUSABLES",
    "INVISIBLE",
    "Variant",
    "decode_layers",
    "fold",
    "printable_ascii",
    "variants",
]

#: Zero-width and tag characters, removed before anything else.
INVISIBLE = re.compile("[\u200b-\u200d\u2060\ufeff\U000e0000-\U000e007f]")

#: Look-alike lower-case letters (after case folding) → Latin.
CONFUSABLES: dict[str, str] = {
    # Cyrillic
    "\u0430": "a",
    "\u0432": "b",
    "\u0441": "c",
    "\u0501": "d",
    "\u0435": "e",
    "\u0451": "e",
    "\u04bb": "h",
    "\u0456": "i",
    "\u0457": "i",
    "\u0458": "j",
    "\u043a": "k",
    "\u043c": "m",
    "\u043d": "h",
    "\u043e": "o",
    "\u0440": "p",
    "\u051b": "q",
    "\u0455": "s",
    "\u0442": "t",
    "\u0443": "y",
    "\u0445": "x",
    "\u051d": "w",
    "\u0461": "w",
    # Greek
    "\u03b1": "a",
    "\u03b2": "b",
    "\u03b5": "e",
    "\u03b7": "n",
    "\u03b9": "i",
    "\u03ba": "k",
    "\u03bd": "v",
    "\u03bf": "o",
    "\u03c1": "p",
    "\u03c4": "t",
    "\u03c5": "u",
    "\u03c7": "x",
    "\u03c9": "w",
    "\u03c2": "s",
    "\u03c3": "s",
    # Latin look-alikes that NFKC keeps
    "\u0131": "i",
    "\u0261": "g",
    "\u0251": "a",
    "\u2113": "l",
}
_CONFUSABLE_TABLE = str.maketrans(CONFUSABLES)

_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{16,}={0,2}")
_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
#: At most this many Base64 runs are decoded per text (bounds the work on adversarial input).
MAX_BASE64_RUNS = 32
# A cheap first look for _BASE64_RUN: its characters become "a", all others a space, so a
# text holds a run exactly when it holds sixteen "a" in a row (most texts hold none).
_BASE64_CLASS = {
    code: "a" if chr(code).isascii() and (chr(code).isalnum() or chr(code) in "+/_-") else " "
    for code in range(0x80)
}
_BASE64_STRETCH = "a" * 16
_BASE64_STRETCH_BYTES = _BASE64_STRETCH.encode("ascii")
_MIN_PRINTABLE = 0.9


def ascii_table(mapping: Mapping[int, str]) -> bytes:
    """``mapping`` (ASCII code → one ASCII character) as a :meth:`bytes.translate` table.

    On ASCII text, ``text.encode("ascii").translate(table)`` gives the bytes of
    ``text.translate(mapping)`` several times faster: ``str.translate`` looks each character
    up through the mapping, ``bytes.translate`` indexes a 256-byte table.
    """
    return bytes(ord(mapping.get(code, chr(code))) for code in range(256))


_BASE64_BYTES = ascii_table(_BASE64_CLASS)


def _has_base64_stretch(text: str) -> bool:
    if text.isascii():
        return _BASE64_STRETCH_BYTES in text.encode("ascii").translate(_BASE64_BYTES)
    return _BASE64_STRETCH in text.translate(_BASE64_CLASS)


class Variant(NamedTuple):
    """One text to scan: ``source`` is ``"text"``, ``"base64"``, ``"url"``, ``"html"`` or
    ``"spaced"`` (letters spelt out with separators, joined)."""

    source: str
    text: str


_PRINTABLE_ASCII = bytes(range(0x20, 0x7F))


def printable_ascii(text: str) -> bool:
    """``text.isascii() and text.isprintable()``, without ``isprintable``'s per-character
    look-up in the Unicode database (about twice as fast on ASCII text)."""
    return text.isascii() and not text.encode("ascii").translate(None, _PRINTABLE_ASCII)


#: The ASCII characters ``str.split`` treats as whitespace, besides the space (most common
#: first: the look stops at the first one found).
_ASCII_BREAKS = "\n\r\t\v\f\x1c\x1d\x1e\x1f"


def fold(text: str) -> str:
    """The canonical form of ``text`` (see the module doc)."""
    if not text.isascii():
        text = INVISIBLE.sub("", text)
        text = unicodedata.normalize("NFKC", text).casefold().translate(_CONFUSABLE_TABLE)
        return " ".join(text.split())
    # ASCII: the split and join build a string per word; prose with single spaces only and
    # no line break is already in canonical form.
    text = text.lower()
    if (
        any(space in text for space in _ASCII_BREAKS)
        or "  " in text
        or text[:1] == " "
        or text[-1:] == " "
    ):
        return " ".join(text.split())
    return text


def _printable_ratio(text: str) -> float:
    if not text:
        return 0.0
    good = sum(1 for ch in text if ch.isprintable() or ch in "\n\r\t")
    return good / len(text)


def _decode_base64(run: str) -> str | None:
    body = run.rstrip("=")
    # Only letters and digits and no mix of case looks like an identifier or a hex hash.
    if body.isalnum() and (body.islower() or body.isupper() or body.isdigit()):
        return None
    alt = "-_" if ("-" in body or "_" in body) else None
    padded = body + "=" * (-len(body) % 4)
    try:
        raw = base64.urlsafe_b64decode(padded) if alt else base64.b64decode(padded, validate=True)
        decoded = raw.decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    if len(decoded) < 4 or _printable_ratio(decoded) < _MIN_PRINTABLE:
        return None
    return decoded


#: Characters of context kept on each side of an encoded sequence when a long text is decoded.
DECODE_CONTEXT = 1024


def _decoded_around(
    text: str, encoded: re.Pattern[str], decode: Callable[[str], str]
) -> str | None:
    """``text`` decoded where ``encoded`` matches, with :data:`DECODE_CONTEXT` characters
    around each match (windows merged, then joined by newlines); ``None`` when nothing decodes.

    A short text, or one encoded throughout, comes back whole. A long text with a few escapes
    gives only their surroundings, so a 1 MB document holding one ``&amp;`` is not scanned a
    second time in full.
    """
    spans: list[list[int]] = []
    for match in encoded.finditer(text):
        start, end = match.start() - DECODE_CONTEXT, match.end() + DECODE_CONTEXT
        if spans and start <= spans[-1][1]:
            spans[-1][1] = end
        else:
            spans.append([max(0, start), end])
    if not spans:
        return None
    windows = [text[start:end] for start, end in spans]
    decoded = [decode(window) for window in windows]
    return "\n".join(decoded) if decoded != windows else None


def decode_layers(text: str) -> list[Variant]:
    """What ``text`` hides under one layer of Base64, URL or HTML encoding, or behind letters
    spelt out with separators (raw, not folded)."""
    found: list[Variant] = []
    runs = (
        [run for token in text.split() if len(token) >= 16 for run in _BASE64_RUN.findall(token)]
        if _has_base64_stretch(text)
        else []
    )
    if runs:
        decoded_runs = []
        for run in runs[:MAX_BASE64_RUNS]:
            decoded = _decode_base64(run)
            if decoded is not None:
                decoded_runs.append(decoded)
        if decoded_runs:
            found.append(Variant("base64", "\n".join(decoded_runs)))
    if "%" in text:
        unquoted = _decoded_around(text, _PERCENT, unquote)
        if unquoted is not None:
            found.append(Variant("url", unquoted))
    if "&" in text:
        unescaped = _decoded_around(text, _ENTITY, html.unescape)
        if unescaped is not None:
            found.append(Variant("html", unescaped))
    if _may_be_spaced(text) and _SPACED.search(text):
        found.append(Variant("spaced", _SPACED.sub(_join_spaced, text)))
    return found


#: Four or more single letters or digits with one separator between them, the same one
#: throughout: "i g n o r e", "r.e.v.e.a.l", "s-y-s-t-e-m" — words spelt out to dodge a scanner.
#: A cheap first look: a text holding neither two single letters between spaces nor two between
#: other separators cannot hold a spelt-out word. Two patterns, because one that may start on
#: a space tries every space of ordinary prose and costs about twice as much.
_SPACED_HINTS = (
    re.compile(r" [^\W_] [^\W_] "),
    re.compile(r"[.\-_*·|/][^\W_][.\-_*·|/][^\W_][.\-_*·|/]"),
)
# The same first look for ASCII text, on its shape: letters and digits become "a", the
# separators "s", a space stays, anything else is "x" (one translate, two substring finds).
_SPACED_SHAPE = {
    code: "a" if chr(code).isalnum() else "s" if chr(code) in ".-_*|/" else "x"
    for code in range(0x80)
    if code != 0x20
}


_SPACED_SHAPE_BYTES = ascii_table(_SPACED_SHAPE)


def _may_be_spaced(text: str) -> bool:
    """Whether ``text`` passes the cheap first look of :data:`_SPACED_HINTS`."""
    if text.isascii():
        shape = text.encode("ascii").translate(_SPACED_SHAPE_BYTES)
        return b" a a " in shape or b"sasas" in shape
    return any(hint.search(text) for hint in _SPACED_HINTS)


_SPACED = re.compile(r"(?<![^\W_])[^\W_]([ .\-_*·|/])(?:[^\W_]\1){2,}[^\W_](?![^\W_])")


def _join_spaced(match: re.Match[str]) -> str:
    return match.group().replace(match.group(1), "")


def variants(text: str) -> list[Variant]:
    """The folded text, then the folded form of every layer :func:`decode_layers` finds."""
    result = [Variant("text", fold(text))]
    seen = {result[0].text}
    for layer in decode_layers(text):
        folded = fold(layer.text)
        if folded and folded not in seen:
            seen.add(folded)
            result.append(Variant(layer.source, folded))
    return result
