"""Bounded JSON parsing: strict UTF-8 JSON and the depth, array and string limits."""

from __future__ import annotations

import contextlib
import json
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from m2m_session.errors import JsonError
from m2m_session.jsonlimits import (
    DEFAULT_MAX_ARRAY,
    DEFAULT_MAX_DEPTH,
    DEFAULT_MAX_STRING,
    check_json_limits,
    parse_json,
)

MiB = 1024 * 1024


def nested(depth: int, kind: str = "array") -> bytes:
    """``depth`` nested containers around ``0``."""
    if kind == "array":
        return b"[" * depth + b"0" + b"]" * depth
    return b'{"a":' * depth + b"0" + b"}" * depth


def limit_of(excinfo: pytest.ExceptionInfo[JsonError]) -> tuple[str, int, int]:
    details = excinfo.value.details
    return details["limit"], details["value"], details["max"]


# --- defaults and valid input -------------------------------------------------------------------


def test_defaults_match_the_protocol_limits() -> None:
    assert DEFAULT_MAX_DEPTH == 32
    assert DEFAULT_MAX_ARRAY == 10_000
    assert DEFAULT_MAX_STRING == 10_485_760


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (b"0", 0),
        (b'"x"', "x"),
        (b"null", None),
        (b' {"a": [1, 2.5, true, null, "\xc3\xa9"]} ', {"a": [1, 2.5, True, None, "é"]}),
        (b"[]", []),
        ('{"emoji": "\U0001f600"}'.encode(), {"emoji": "\U0001f600"}),
    ],
)
def test_parse_valid(raw: bytes, value: object) -> None:
    assert parse_json(raw) == value


def test_exactly_at_every_limit_passes() -> None:
    assert parse_json(nested(32)) is not None
    assert parse_json(nested(32, "object")) is not None
    assert parse_json(json.dumps(list(range(10_000))).encode()) == list(range(10_000))
    check_json_limits(["x" * 100, {"y" * 100: "z"}], max_string=100)
    check_json_limits([[0] * 5], max_depth=2, max_array=5)


def test_scalars_and_tuples() -> None:
    check_json_limits(5)
    check_json_limits(None)
    check_json_limits("abc", max_string=3)
    with pytest.raises(JsonError):
        check_json_limits("abcd", max_string=3)
    with pytest.raises(JsonError) as excinfo:
        check_json_limits((1, 2, 3), max_array=2)
    assert limit_of(excinfo) == ("array_length", 3, 2)
    with pytest.raises(JsonError):
        check_json_limits([], max_depth=0)


# --- each limit has its own error ---------------------------------------------------------------


@pytest.mark.parametrize("kind", ["array", "object"])
def test_depth_33_is_refused(kind: str) -> None:
    with pytest.raises(JsonError) as excinfo:
        parse_json(nested(33, kind))
    assert limit_of(excinfo) == ("depth", 33, 32)
    assert "depth" in str(excinfo.value)
    assert "33" in str(excinfo.value)
    assert "32" in str(excinfo.value)


def test_array_10001_is_refused() -> None:
    with pytest.raises(JsonError) as excinfo:
        parse_json(json.dumps({"a": [0] * 10_001}).encode())
    assert limit_of(excinfo) == ("array_length", 10_001, 10_000)
    assert "array" in str(excinfo.value)
    assert "10001" in str(excinfo.value)


def test_objects_are_not_counted_as_arrays() -> None:
    check_json_limits({str(i): i for i in range(20)}, max_array=5)


def test_string_over_a_small_limit() -> None:
    with pytest.raises(JsonError) as excinfo:
        check_json_limits({"messages": [{"content": "x" * 65}]}, max_string=64)
    assert limit_of(excinfo) == ("string_length", 65, 64)
    assert "string" in str(excinfo.value)


def test_key_over_the_string_limit() -> None:
    with pytest.raises(JsonError) as excinfo:
        check_json_limits([{"k" * 9: 1}], max_string=8)
    assert limit_of(excinfo) == ("string_length", 9, 8)


def test_string_limit_counts_characters() -> None:
    check_json_limits("é" * 8, max_string=8)  # 16 UTF-8 bytes, 8 characters


def test_real_string_over_10_mib() -> None:
    started = time.perf_counter()
    raw = b'{"content": "' + b"a" * (DEFAULT_MAX_STRING + 1) + b'"}'
    with pytest.raises(JsonError) as excinfo:
        parse_json(raw)
    assert limit_of(excinfo) == ("string_length", DEFAULT_MAX_STRING + 1, DEFAULT_MAX_STRING)
    exact = b'"' + b"a" * DEFAULT_MAX_STRING + b'"'
    value = parse_json(exact)
    assert isinstance(value, str)
    assert len(value) == DEFAULT_MAX_STRING
    assert time.perf_counter() - started < 2.0


def test_custom_limits_pass_through_parse_json() -> None:
    with pytest.raises(JsonError) as excinfo:
        parse_json(b"[[1]]", max_depth=1)
    assert limit_of(excinfo) == ("depth", 2, 1)
    with pytest.raises(JsonError):
        parse_json(b"[1, 2, 3]", max_array=2)
    with pytest.raises(JsonError):
        parse_json(b'"abc"', max_string=2)


# --- the parser's own recursion -----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["array", "object"])
def test_100k_nested_brackets_are_a_depth_error(kind: str) -> None:
    started = time.perf_counter()
    with pytest.raises(JsonError) as excinfo:
        parse_json(nested(100_000, kind))
    assert not isinstance(excinfo.value, RecursionError)
    assert limit_of(excinfo) == ("depth", 100_000, 32)
    assert time.perf_counter() - started < 1.0


def test_unclosed_deep_nesting_is_a_depth_error() -> None:
    with pytest.raises(JsonError) as excinfo:
        parse_json(b"[" * 200_000)
    assert limit_of(excinfo)[0] == "depth"


def test_brackets_inside_strings_do_not_count_towards_depth() -> None:
    raw = b"[" * 5000 + b'"[[[[\\"]]{{"' + b"]" * 5000
    with pytest.raises(JsonError) as excinfo:
        parse_json(raw)
    assert limit_of(excinfo) == ("depth", 5000, 32)


# --- malformed input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "cause"),
    [
        (b"\xff\xfe{}", UnicodeDecodeError),
        (b'{"a": "\xc3"}', UnicodeDecodeError),
        (b"", json.JSONDecodeError),
        (b"{", json.JSONDecodeError),
        (b'{"a": 1,}', json.JSONDecodeError),
        (b"\xef\xbb\xbf{}", json.JSONDecodeError),  # UTF-8 BOM
        (b"[NaN]", ValueError),
        (b"Infinity", ValueError),
        (b"[-Infinity]", ValueError),
        ('{"a": 1}'.encode("utf-16"), UnicodeDecodeError),
    ],
)
def test_malformed_is_a_wrapped_json_error(raw: bytes, cause: type[Exception]) -> None:
    with pytest.raises(JsonError) as excinfo:
        parse_json(raw)
    assert isinstance(excinfo.value.__cause__, cause)
    assert excinfo.value.details == {}
    assert excinfo.value.message


# --- properties ---------------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=6) | st.dictionaries(st.text(max_size=12), children, max_size=6)
    ),
    max_leaves=40,
)


def measure(value: Any, depth: int = 0) -> tuple[int, int, int]:
    """(depth, longest array, longest string) by plain recursion: the reference."""
    if isinstance(value, str):
        return depth, 0, len(value)
    if isinstance(value, list):
        results = [measure(item, depth + 1) for item in value]
        return (
            max([depth + 1] + [r[0] for r in results]),
            max([len(value)] + [r[1] for r in results]),
            max([0] + [r[2] for r in results]),
        )
    if isinstance(value, dict):
        results = [measure(item, depth + 1) for item in value.values()]
        return (
            max([depth + 1] + [r[0] for r in results]),
            max([0] + [r[1] for r in results]),
            max([0] + [len(k) for k in value] + [r[2] for r in results]),
        )
    return depth, 0, 0


@settings(max_examples=150, deadline=None)
@given(
    value=json_values,
    max_depth=st.integers(1, 5),
    max_array=st.integers(0, 6),
    max_string=st.integers(0, 12),
)
def test_limits_agree_with_a_recursive_reference(
    value: Any, max_depth: int, max_array: int, max_string: int
) -> None:
    depth, array, string = measure(value)
    over = depth > max_depth or array > max_array or string > max_string
    raw = json.dumps(value).encode()
    error: JsonError | None = None
    parsed: object = None
    try:
        parsed = parse_json(raw, max_depth=max_depth, max_array=max_array, max_string=max_string)
    except JsonError as exc:
        error = exc
    if error is None:
        assert not over
        assert parsed == value
    else:
        assert over
        assert (error.details["limit"], error.details["max"]) in {
            ("depth", max_depth),
            ("array_length", max_array),
            ("string_length", max_string),
        }
        assert error.details["value"] > error.details["max"]


@settings(max_examples=150, deadline=None)
@given(raw=st.binary(max_size=200))
def test_arbitrary_bytes_never_escape_as_other_errors(raw: bytes) -> None:
    """Only JsonError comes out (anything else fails the test)."""
    with contextlib.suppress(JsonError):
        parse_json(raw)
