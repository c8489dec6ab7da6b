"""Message encoding, decoding and strict validation (PROTOCOL.md sections 2 and 3)."""

from __future__ import annotations

import struct
from typing import Any

import msgpack
import pytest

from m2m_session.codes import CloseReason
from m2m_session.errors import InvalidMessageError, M2MError
from m2m_session.messages import (
    PROTOCOL_VERSION,
    Accept,
    Close,
    Data,
    Envelope,
    Hello,
    Message,
    MessageType,
    Ping,
    Pong,
    Reject,
    UnknownMessage,
    decode,
    encode,
    encode_data,
    is_valid_agent_id,
)

SID = "sess_abcdefghij0123456789"


def _body(frame: bytes) -> bytes:
    """The body of a complete frame, after checking its length prefix."""
    (length,) = struct.unpack(">I", frame[:4])
    assert length == len(frame) - 4
    return frame[4:]


def _pack(obj: Any) -> bytes:
    return bytes(msgpack.packb(obj, use_bin_type=True))


def _envelope(
    type_name: Any = "PING",
    payload: Any = None,
    session_id: Any = SID,
    timestamp: Any = 1_700_000_000_000,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "type": type_name,
        "session_id": session_id,
        "timestamp": timestamp,
        "payload": {} if payload is None else payload,
        **extra,
    }


def _decode_obj(obj: Any) -> Envelope:
    return decode(_pack(obj))


GOOD_DATA: dict[str, Any] = {"algorithm": "NONE", "content": b"abc", "original_size": 3}
GOOD_ACCEPT: dict[str, Any] = {
    "version": "1.0",
    "algorithms": ["BROTLI", "NONE"],
    "security_scanning": False,
    "session_timeout_ms": 300_000,
    "max_payload_size": 0,
}

# --- round trips ------------------------------------------------------------------------------

ROUND_TRIP: list[tuple[Message, str | None]] = [
    (Hello(algorithms=("BROTLI", "NONE")), None),
    (
        Hello(
            version="1.0",
            algorithms=("M2M", "TOKEN_NATIVE", "BROTLI", "NONE", "FUTURE"),
            encodings=("CL100K_BASE", "O200K_BASE"),
            preferred_encoding="O200K_BASE",
            security_scanning=True,
            max_payload_size=4096,
            agent_id="agent-007_x",
            extensions={"x-feature": [1, 2, 3]},
        ),
        None,
    ),
    (
        Accept(
            version="1.0",
            algorithms=("BROTLI", "NONE"),
            security_scanning=True,
            session_timeout_ms=120_000,
            max_payload_size=1024,
            encoding="CL100K_BASE",
            extensions={"k": "v"},
        ),
        SID,
    ),
    (Accept("1.0", ("NONE",), False, 1), SID),
    (Reject("VERSION_MISMATCH", "need 1.x"), None),
    (Reject("SOMETHING_NEW", ""), None),
    (Data("NONE", b"\x00\x01\xff", 3), SID),
    (Data("BROTLI", b"", 0, text=True), SID),
    (
        Data(
            "NONE",
            b"hi",
            2,
            security_status={"scanned": True, "safe": True, "confidence": 0.5},
        ),
        SID,
    ),
    (Ping(), SID),
    (Pong(), SID),
    (Close(), SID),
    (Close(CloseReason.TIMEOUT, "idle"), SID),
    (Close(CloseReason.SERVER_SHUTDOWN, "bye"), None),
    (Close(CloseReason.ERROR, "bad frame"), SID),
]


@pytest.mark.parametrize(("message", "session_id"), ROUND_TRIP)
def test_round_trip(message: Message, session_id: str | None) -> None:
    frame = encode(message, session_id, 1234)
    envelope = decode(_body(frame))
    assert envelope == Envelope(message, session_id, 1234)
    assert type(envelope.message) is type(message)


def test_every_message_type_is_covered() -> None:
    covered = {type(m).type for m, _ in ROUND_TRIP}  # type: ignore[union-attr]
    assert covered == set(MessageType)


def test_wire_form_of_envelope() -> None:
    frame = encode(Data("NONE", b"xy", 2, text=True), SID, 42)
    raw = msgpack.unpackb(_body(frame), raw=False)
    assert raw == {
        "type": "DATA",
        "session_id": SID,
        "timestamp": 42,
        "payload": {"algorithm": "NONE", "content": b"xy", "original_size": 2, "text": True},
    }
    # content travels as msgpack bin, not str: bin 8 marker 0xc4 followed by the length.
    assert b"\xc4\x02xy" in frame


def test_encode_data_matches_encode() -> None:
    for text in (False, True):
        fast = encode_data(SID, 99, "BROTLI", b"\x01\x02", 7, text)
        slow = encode(Data("BROTLI", b"\x01\x02", 7, text=text), SID, 99)
        assert decode(_body(fast)) == decode(_body(slow))
        assert fast == slow


def test_hello_encodes_nil_session_id() -> None:
    raw = msgpack.unpackb(_body(encode(Hello(algorithms=("NONE",)), None, 1)), raw=False)
    assert raw["session_id"] is None
    assert raw["payload"] == {"version": PROTOCOL_VERSION, "algorithms": ["NONE"]}


def test_unknown_message_cannot_be_encoded() -> None:
    with pytest.raises(TypeError):
        encode(UnknownMessage("FUTURE"), SID, 1)


def test_decode_accepts_memoryview_and_bytearray() -> None:
    body = _body(encode(Ping(), SID, 5))
    assert decode(memoryview(body)).message == Ping()
    assert decode(bytearray(body)).timestamp == 5


# --- envelope validation -----------------------------------------------------------------------


def test_invalid_message_error_is_m2m_error() -> None:
    assert issubclass(InvalidMessageError, M2MError)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\xc1",  # the one byte msgpack never uses
        b"\x92\x01",  # an array of 2 with only 1 element
        b"\xa5ab",  # a truncated str
    ],
)
def test_not_msgpack(body: bytes) -> None:
    with pytest.raises(InvalidMessageError):
        decode(body)


def test_trailing_garbage() -> None:
    body = _body(encode(Ping(), SID, 1))
    with pytest.raises(InvalidMessageError):
        decode(body + b"\x00")
    with pytest.raises(InvalidMessageError):
        decode(body + _pack({"x": 1}))


@pytest.mark.parametrize("obj", [[1, 2], 7, "PING", None, True, 1.5, b"bin"])
def test_body_not_a_map(obj: Any) -> None:
    with pytest.raises(InvalidMessageError, match="not a map"):
        _decode_obj(obj)


def test_map_with_non_str_keys() -> None:
    with pytest.raises(InvalidMessageError):
        _decode_obj({1: "PING"})


@pytest.mark.parametrize("key", ["type", "session_id", "timestamp", "payload"])
def test_each_envelope_key_missing(key: str) -> None:
    obj = _envelope()
    del obj[key]
    with pytest.raises(InvalidMessageError, match=key):
        _decode_obj(obj)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("type", 1),
        ("type", None),
        ("type", b"PING"),
        ("session_id", 12),
        ("session_id", b"sess"),
        ("session_id", ["sess"]),
        ("timestamp", "1700000000000"),
        ("timestamp", True),
        ("timestamp", 1.5),
        ("timestamp", None),
        ("payload", []),
        ("payload", None),
        ("payload", "x"),
        ("payload", 0),
    ],
)
def test_each_envelope_key_of_wrong_type(key: str, value: Any) -> None:
    obj = _envelope()
    obj[key] = value
    with pytest.raises(InvalidMessageError):
        _decode_obj(obj)


def test_nil_session_id_is_allowed() -> None:
    assert _decode_obj(_envelope(session_id=None)).session_id is None


def test_unknown_type_decodes_to_unknown_message() -> None:
    envelope = _decode_obj(_envelope("SUBSCRIBE", {"topic": 1}))
    assert envelope.message == UnknownMessage("SUBSCRIBE")
    assert envelope.session_id == SID


def test_type_is_case_sensitive() -> None:
    assert _decode_obj(_envelope("ping")).message == UnknownMessage("ping")


def test_unknown_keys_ignored_everywhere() -> None:
    envelope = _decode_obj(
        _envelope("DATA", {**GOOD_DATA, "future": {"a": 1}, "x": [1]}, extra_field=True, v=2)
    )
    assert envelope.message == Data("NONE", b"abc", 3)
    envelope = _decode_obj(_envelope("ACCEPT", {**GOOD_ACCEPT, "later": "yes"}))
    assert isinstance(envelope.message, Accept)
    envelope = _decode_obj(_envelope("PING", {"nonce": 5}))
    assert envelope.message == Ping()
    envelope = _decode_obj(_envelope("HELLO", {"version": "1.0", "algorithms": [], "z": 1}))
    assert isinstance(envelope.message, Hello)
    assert envelope.message.problems == ()


# --- DATA ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("content", "abc"),
        ("content", None),
        ("content", [97, 98, 99]),
        ("original_size", -1),
        ("original_size", True),
        ("original_size", "3"),
        ("original_size", 3.0),
        ("algorithm", 1),
        ("algorithm", None),
        ("algorithm", b"NONE"),
        ("text", 1),
        ("text", "true"),
        ("security_status", "safe"),
        ("security_status", [1]),
    ],
)
def test_data_field_of_wrong_type(key: str, value: Any) -> None:
    payload = {**GOOD_DATA, key: value}
    with pytest.raises(InvalidMessageError, match=key):
        _decode_obj(_envelope("DATA", payload))


@pytest.mark.parametrize("key", ["algorithm", "content", "original_size"])
def test_data_field_missing(key: str) -> None:
    payload = dict(GOOD_DATA)
    del payload[key]
    with pytest.raises(InvalidMessageError, match=key):
        _decode_obj(_envelope("DATA", payload))


def test_data_text_nil_means_false() -> None:
    message = _decode_obj(_envelope("DATA", {**GOOD_DATA, "text": None})).message
    assert message == Data("NONE", b"abc", 3, text=False)


def test_data_zero_size_is_valid() -> None:
    message = _decode_obj(_envelope("DATA", {**GOOD_DATA, "original_size": 0})).message
    assert isinstance(message, Data)
    assert message.original_size == 0


# --- ACCEPT / REJECT ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"algorithms": []},
        {"algorithms": None},
        {"algorithms": "NONE"},
        {"algorithms": ["NONE", 1]},
        {"session_timeout_ms": 0},
        {"session_timeout_ms": -5},
        {"session_timeout_ms": "300000"},
        {"session_timeout_ms": True},
        {"session_timeout_ms": None},
        {"version": 1},
        {"version": None},
        {"max_payload_size": -1},
        {"max_payload_size": "0"},
        {"security_scanning": 1},
        {"encoding": 5},
        {"extensions": []},
    ],
)
def test_accept_invalid(change: dict[str, Any]) -> None:
    with pytest.raises(InvalidMessageError):
        _decode_obj(_envelope("ACCEPT", {**GOOD_ACCEPT, **change}))


def test_accept_optional_fields_default() -> None:
    message = _decode_obj(
        _envelope("ACCEPT", {"version": "1.0", "algorithms": ["NONE"], "session_timeout_ms": 10})
    ).message
    assert message == Accept("1.0", ("NONE",), False, 10, 0, None, {})


def test_reject_without_code() -> None:
    with pytest.raises(InvalidMessageError, match="code"):
        _decode_obj(_envelope("REJECT", {"message": "no"}, session_id=None))


@pytest.mark.parametrize("code", [None, 1, ["RATE_LIMITED"]])
def test_reject_code_of_wrong_type(code: Any) -> None:
    with pytest.raises(InvalidMessageError):
        _decode_obj(_envelope("REJECT", {"code": code}, session_id=None))


def test_reject_message_optional() -> None:
    message = _decode_obj(_envelope("REJECT", {"code": "SERVER_BUSY"}, session_id=None)).message
    assert message == Reject("SERVER_BUSY", "")


def test_reject_message_of_wrong_type() -> None:
    with pytest.raises(InvalidMessageError):
        _decode_obj(_envelope("REJECT", {"code": "UNKNOWN", "message": 3}, session_id=None))


# --- CLOSE --------------------------------------------------------------------------------------


def test_close_without_reason_is_normal() -> None:
    message = _decode_obj(_envelope("CLOSE", {})).message
    assert message == Close(CloseReason.NORMAL, None)


def test_close_nil_reason_is_normal() -> None:
    message = _decode_obj(_envelope("CLOSE", {"reason": None, "message": "done"})).message
    assert message == Close(CloseReason.NORMAL, "done")


@pytest.mark.parametrize("reason", list(CloseReason))
def test_close_known_reasons(reason: CloseReason) -> None:
    message = _decode_obj(_envelope("CLOSE", {"reason": reason.value})).message
    assert isinstance(message, Close)
    assert message.reason is reason


def test_unknown_close_reason_reads_as_error() -> None:
    message = _decode_obj(_envelope("CLOSE", {"reason": "QUANTUM_DECOHERENCE"})).message
    assert isinstance(message, Close)
    assert message.reason is CloseReason.ERROR
    assert message.message is not None
    assert "QUANTUM_DECOHERENCE" in message.message


def test_unknown_close_reason_keeps_message() -> None:
    message = _decode_obj(_envelope("CLOSE", {"reason": "LATER", "message": "why"})).message
    assert isinstance(message, Close)
    assert message.reason is CloseReason.ERROR
    assert message.message is not None
    assert "LATER" in message.message
    assert "why" in message.message


@pytest.mark.parametrize("payload", [{"reason": 1}, {"reason": ["NORMAL"]}, {"message": 2}])
def test_close_fields_of_wrong_type(payload: dict[str, Any]) -> None:
    with pytest.raises(InvalidMessageError):
        _decode_obj(_envelope("CLOSE", payload))


# --- HELLO: lenient -----------------------------------------------------------------------------


def _hello(**payload: Any) -> Hello:
    base: dict[str, Any] = {"version": "1.0", "algorithms": ["NONE"]}
    base.update(payload)
    message = _decode_obj(_envelope("HELLO", base, session_id=None)).message
    assert isinstance(message, Hello)
    return message


def test_hello_well_formed_has_no_problems() -> None:
    hello = _hello(
        encodings=["CL100K_BASE"],
        preferred_encoding="CL100K_BASE",
        security_scanning=True,
        max_payload_size=10,
        agent_id="a" * 128,
        extensions={},
    )
    assert hello.problems == ()
    assert hello.agent_id == "a" * 128
    assert hello.security_scanning is True
    assert hello.max_payload_size == 10


def test_hello_defaults() -> None:
    hello = _hello()
    assert hello == Hello(version="1.0", algorithms=("NONE",))
    assert hello.security_scanning is False
    assert hello.max_payload_size == 0
    assert hello.agent_id is None


@pytest.mark.parametrize(
    ("payload", "field", "default"),
    [
        ({"agent_id": "bad id!"}, "agent_id", None),
        ({"agent_id": "a" * 129}, "agent_id", None),
        ({"agent_id": ""}, "agent_id", None),
        ({"agent_id": 5}, "agent_id", None),
        ({"agent_id": "agént"}, "agent_id", None),
        ({"max_payload_size": -1}, "max_payload_size", 0),
        ({"max_payload_size": "10"}, "max_payload_size", 0),
        ({"max_payload_size": True}, "max_payload_size", 0),
        ({"security_scanning": 1}, "security_scanning", False),
        ({"security_scanning": "yes"}, "security_scanning", False),
        ({"encodings": "CL100K_BASE"}, "encodings", ()),
        ({"encodings": ["CL100K_BASE", 3]}, "encodings", ()),
        ({"preferred_encoding": 7}, "preferred_encoding", None),
        ({"extensions": [1]}, "extensions", {}),
        ({"algorithms": "NONE"}, "algorithms", ()),
    ],
)
def test_hello_malformed_optional_field_lands_in_problems(
    payload: dict[str, Any], field: str, default: Any
) -> None:
    hello = _hello(**payload)
    assert len(hello.problems) == 1
    assert field in hello.problems[0]
    assert getattr(hello, field) == default


def test_hello_non_string_algorithms_dropped_and_reported() -> None:
    hello = _hello(algorithms=["BROTLI", 3, None, "NONE"])
    assert hello.algorithms == ("BROTLI", "NONE")
    assert len(hello.problems) == 1


def test_hello_several_problems_all_listed() -> None:
    hello = _hello(agent_id="!", max_payload_size=-3, security_scanning=2)
    assert len(hello.problems) == 3


@pytest.mark.parametrize("version", [None, 1, 1.0, ["1.0"]])
def test_hello_bad_version_becomes_none(version: Any) -> None:
    hello = _hello(version=version)
    assert hello.version is None


def test_hello_missing_version_and_algorithms() -> None:
    message = _decode_obj(_envelope("HELLO", {}, session_id=None)).message
    assert isinstance(message, Hello)
    assert message.version is None
    assert message.algorithms == ()


def test_hello_unknown_algorithm_names_kept_in_order() -> None:
    hello = _hello(algorithms=["ZSTD", "BROTLI", "NONE"])
    assert hello.algorithms == ("ZSTD", "BROTLI", "NONE")
    assert hello.problems == ()


# --- agent ids ----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["a", "A-z_0-9", "x" * 128, "agent-001", "_", "-"])
def test_valid_agent_ids(value: str) -> None:
    assert is_valid_agent_id(value)


@pytest.mark.parametrize(
    "value",
    ["", "x" * 129, "a b", "a.b", "a/b", "é", "a\n", "\u0661", None, 5, b"abc", ["a"]],
)
def test_invalid_agent_ids(value: object) -> None:
    assert not is_valid_agent_id(value)
