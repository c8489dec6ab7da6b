"""Bounded JSON parsing for the JSON-aware codecs (PROTOCOL.md section 7).

:func:`parse_json` parses strict UTF-8 JSON (RFC 8259: no BOM, no ``NaN``/``Infinity``) with
:func:`json.loads`, then :func:`check_json_limits` walks the parsed value iteratively (an
explicit stack, so the walk itself never recurses) and refuses:

* nesting deeper than ``max_depth`` containers (default 32): ``[]`` and ``{}`` are depth 1,
  ``[[]]`` is depth 2, scalars add nothing;
* an array longer than ``max_array`` elements (default 10,000; objects are not counted);
* a string, value or object key, longer than ``max_string`` characters (default 10 MiB =
  10,485,760 code points; every code point is at least one UTF-8 byte, so this also bounds the
  encoded size from below).

Each refusal is a :class:`~m2m_session.errors.JsonError` whose message names the limit and the
value, with ``details = {"limit": "depth" | "array_length" | "string_length", "value": n,
"max": m}``. For a depth refusal found by the walk, ``value`` is the depth of the first
container found over the limit (``max + 1``). Input nested so deeply that the C parser itself
runs out of recursion (``[[[[…`` 100,000 times) is reported as the same depth refusal, with
``value`` the document's bracket nesting depth, never as ``RecursionError``.

Invalid UTF-8 and invalid JSON raise ``JsonError.wrap(exc)``: the message of the underlying
error, kept as ``__cause__``; their ``details`` are empty, which is how a caller tells a
malformed document from a limit refusal.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from itertools import accumulate

from m2m_session.errors import JsonError

__all__ = [
    "DEFAULT_MAX_ARRAY",
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_STRING",
    "check_json_limits",
    "nesting_depth",
    "parse_json",
]

#: Maximum nesting depth in containers (PROTOCOL.md section 7).
DEFAULT_MAX_DEPTH = 32
#: Maximum number of elements of one array.
DEFAULT_MAX_ARRAY = 10_000
#: Maximum length of one string (value or key), in characters.
DEFAULT_MAX_STRING = 10 * 1024 * 1024


_CONTAINERS = (list, dict, tuple)


def _depth_error(value: int, max_depth: int) -> JsonError:
    return JsonError(
        f"JSON nesting depth {value} exceeds the limit of {max_depth}",
        details={"limit": "depth", "value": value, "max": max_depth},
    )


def _array_error(value: int, max_array: int) -> JsonError:
    return JsonError(
        f"JSON array of {value} elements exceeds the limit of {max_array}",
        details={"limit": "array_length", "value": value, "max": max_array},
    )


def _string_error(value: int, max_string: int) -> JsonError:
    return JsonError(
        f"JSON string of {value} characters exceeds the limit of {max_string}",
        details={"limit": "string_length", "value": value, "max": max_string},
    )


def check_json_limits(
    value: object,
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_array: int = DEFAULT_MAX_ARRAY,
    max_string: int = DEFAULT_MAX_STRING,
) -> None:
    """Raise :class:`JsonError` if the parsed JSON ``value`` breaks a limit; see the module doc.

    ``value`` is what :func:`json.loads` returns (dicts, lists, strings, numbers, booleans,
    ``None``); tuples count as arrays and anything else as a scalar.
    """
    if isinstance(value, str):
        if len(value) > max_string:
            raise _string_error(len(value), max_string)
        return
    if not isinstance(value, _CONTAINERS):
        return
    if max_depth < 1:
        raise _depth_error(1, max_depth)
    stack: list[tuple[list[object] | tuple[object, ...] | dict[object, object], int]] = [(value, 1)]
    pop = stack.pop
    push = stack.append
    while stack:
        node, depth = pop()
        items: Iterable[object]
        if isinstance(node, dict):
            for key in node:
                if isinstance(key, str) and len(key) > max_string:
                    raise _string_error(len(key), max_string)
            items = node.values()
        else:
            if len(node) > max_array:
                raise _array_error(len(node), max_array)
            items = node
        child_depth = depth + 1
        for item in items:
            if isinstance(item, str):
                if len(item) > max_string:
                    raise _string_error(len(item), max_string)
            elif isinstance(item, _CONTAINERS):
                if child_depth > max_depth:
                    raise _depth_error(child_depth, max_depth)
                push((item, child_depth))


# Strings removed (so brackets inside them do not count), then every byte but brackets deleted.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_BRACKET_DELTA = [0] * 256
for _open, _close in (b"[]", b"{}"):
    _BRACKET_DELTA[_open] = 1
    _BRACKET_DELTA[_close] = -1
del _open, _close


def nesting_depth(data: bytes, *, skip_strings: bool = True) -> int:
    """The maximum bracket nesting of ``data``, computed without recursion (C-speed loops);
    brackets inside JSON strings do not count unless ``skip_strings`` is false."""
    if skip_strings:
        data = _STRING.sub(b"", data)
    brackets = data.translate(None, _NOT_BRACKETS)
    return max(accumulate(map(_BRACKET_DELTA.__getitem__, brackets)), default=0)


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not valid JSON")


# One decoder for every parse: json.loads with an option builds a new JSONDecoder per call.
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def parse_json(
    data: bytes,
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_array: int = DEFAULT_MAX_ARRAY,
    max_string: int = DEFAULT_MAX_STRING,
) -> object:
    """Parse UTF-8 JSON ``data`` and check it against the limits; see the module doc.

    Raises :class:`JsonError`: wrapping the cause for invalid UTF-8 or JSON, with ``details``
    naming the limit for a limit refusal.
    """
    try:
        text = data.decode("utf-8")
        if text.startswith("\ufeff"):  # as json.loads says it
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
        value = _DECODER.decode(text)
    except RecursionError as exc:
        depth = nesting_depth(data)
        if depth > max_depth:
            raise _depth_error(depth, max_depth) from None
        # Shallow document, deep caller: the stack was already nearly exhausted.
        raise JsonError.wrap(exc) from exc
    except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError is a ValueError
        raise JsonError.wrap(exc) from exc
    # A short document with few brackets cannot break a limit: a string is at least as long in
    # bytes as in code points, an array of n elements takes 2n - 1 bytes or more, and nesting
    # needs a bracket per level (brackets inside strings only make the count safer).
    if not (
        len(data) <= max_string
        and len(data) < 2 * max_array + 1
        and data.count(b"[") + data.count(b"{") <= max_depth
    ):
        check_json_limits(value, max_depth=max_depth, max_array=max_array, max_string=max_string)
    return value
