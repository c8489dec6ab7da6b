"""Message types, their MessagePack form and strict validation (PROTOCOL.md sections 2 and 3).

:func:`decode` turns a frame body into an :class:`Envelope` holding one typed message, or raises
:class:`~m2m_session.errors.InvalidMessageError`. An unknown ``type`` decodes to
:class:`UnknownMessage` so the caller can log and ignore it. Unknown keys are ignored everywhere.

HELLO is the one message parsed leniently: a malformed field does not fail decoding but is listed
in :attr:`Hello.problems`, because the server answers it with a REJECT code chosen by the check
order of section 4, not with CLOSE ERROR.
"""

from __future__ import annotations

import enum
import threading
from dataclasses import dataclass, field
from typing import Any

import msgpack

from m2m_session.codes import CloseReason
from m2m_session.errors import InvalidMessageError
from m2m_session.framing import encode_frame

__all__ = [
    "PROTOCOL_VERSION",
    "Accept",
    "Close",
    "Data",
    "Envelope",
    "Hello",
    "Message",
    "MessageType",
    "Ping",
    "Pong",
    "Reject",
    "UnknownMessage",
    "data_fields",
    "decode",
    "decode_unpacked",
    "encode",
    "encode_data",
    "is_valid_agent_id",
    "unpack",
]

PROTOCOL_VERSION = "1.0"
_unpackb = msgpack.unpackb
# A Packer reused per thread: building one per message costs more than packing a small DATA.
_packers = threading.local()
_AGENT_ID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


class MessageType(enum.StrEnum):
    HELLO = "HELLO"
    ACCEPT = "ACCEPT"
    REJECT = "REJECT"
    DATA = "DATA"
    PING = "PING"
    PONG = "PONG"
    CLOSE = "CLOSE"


@dataclass(frozen=True, slots=True)
class Hello:
    """The client's offer. ``algorithms`` keeps the client's order and unknown names."""

    version: str | None = PROTOCOL_VERSION
    algorithms: tuple[str, ...] = ()
    encodings: tuple[str, ...] = ()
    preferred_encoding: str | None = None
    security_scanning: bool = False
    max_payload_size: int = 0
    agent_id: str | None = None
    extensions: dict[str, Any] = field(default_factory=dict)
    #: Security modes offered for DATA (``AEAD``, ``HMAC``, ``NONE``), in preference order;
    #: empty means only ``NONE``. ``key_share``: the client's ephemeral X25519 public key.
    security_modes: tuple[str, ...] = ()
    key_share: bytes | None = None
    #: Malformed fields found while decoding (empty for a well-formed HELLO).
    problems: tuple[str, ...] = ()

    type = MessageType.HELLO

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {"version": self.version, "algorithms": list(self.algorithms)}
        if self.encodings:
            body["encodings"] = list(self.encodings)
        if self.preferred_encoding is not None:
            body["preferred_encoding"] = self.preferred_encoding
        if self.security_scanning:
            body["security_scanning"] = True
        if self.max_payload_size:
            body["max_payload_size"] = self.max_payload_size
        if self.agent_id is not None:
            body["agent_id"] = self.agent_id
        if self.extensions:
            body["extensions"] = self.extensions
        if self.security_modes:
            body["security_modes"] = list(self.security_modes)
        if self.key_share is not None:
            body["key_share"] = self.key_share
        return body


@dataclass(frozen=True, slots=True)
class Accept:
    """The server's agreement: what both ends now apply."""

    version: str
    algorithms: tuple[str, ...]
    security_scanning: bool
    session_timeout_ms: int
    max_payload_size: int = 0
    encoding: str | None = None
    extensions: dict[str, Any] = field(default_factory=dict)
    #: The chosen DATA security mode and the server's ephemeral X25519 public key; its
    #: long-term (static) public key when it has one, for clients that pin it; and the proof
    #: that it derived from the client's exact HELLO (crypto.handshake.accept_confirmation).
    security_mode: str = "NONE"
    key_share: bytes | None = None
    static_key: bytes | None = None
    key_confirmation: bytes | None = None

    type = MessageType.ACCEPT

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "version": self.version,
            "algorithms": list(self.algorithms),
            "security_scanning": self.security_scanning,
            "session_timeout_ms": self.session_timeout_ms,
            "max_payload_size": self.max_payload_size,
        }
        if self.encoding is not None:
            body["encoding"] = self.encoding
        if self.extensions:
            body["extensions"] = self.extensions
        if self.security_mode != "NONE":
            body["security_mode"] = self.security_mode
        if self.key_share is not None:
            body["key_share"] = self.key_share
        if self.static_key is not None:
            body["static_key"] = self.static_key
        if self.key_confirmation is not None:
            body["key_confirmation"] = self.key_confirmation
        return body


@dataclass(frozen=True, slots=True)
class Reject:
    """The server's refusal. ``code`` is kept as sent, known or not."""

    code: str
    message: str = ""

    type = MessageType.REJECT

    def payload(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True, slots=True)
class Data:
    """Application content, encoded by ``algorithm``."""

    algorithm: str
    content: bytes
    original_size: int
    text: bool = False
    security_status: dict[str, Any] | None = None

    type = MessageType.DATA

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "algorithm": self.algorithm,
            "content": self.content,
            "original_size": self.original_size,
        }
        if self.text:
            body["text"] = True
        if self.security_status is not None:
            body["security_status"] = self.security_status
        return body


@dataclass(frozen=True, slots=True)
class Ping:
    type = MessageType.PING

    def payload(self) -> dict[str, Any]:
        return {}


@dataclass(frozen=True, slots=True)
class Pong:
    type = MessageType.PONG

    def payload(self) -> dict[str, Any]:
        return {}


@dataclass(frozen=True, slots=True)
class Close:
    """End of the session. An unknown reason from a newer peer reads as ERROR."""

    reason: CloseReason = CloseReason.NORMAL
    message: str | None = None

    type = MessageType.CLOSE

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {"reason": self.reason.value}
        if self.message:
            body["message"] = self.message
        return body


@dataclass(frozen=True, slots=True)
class UnknownMessage:
    """A message of a type this profile does not know; to be logged and ignored."""

    type_name: str


Message = Hello | Accept | Reject | Data | Ping | Pong | Close | UnknownMessage


@dataclass(frozen=True, slots=True)
class Envelope:
    """One decoded frame."""

    message: Message
    session_id: str | None
    timestamp: int


def is_valid_agent_id(value: object) -> bool:
    """True for 1-128 chars of ``[A-Za-z0-9_-]`` (PROTOCOL.md section 3 and 9)."""
    return isinstance(value, str) and 0 < len(value) <= 128 and _AGENT_ID_CHARS.issuperset(value)


# --- encoding ---------------------------------------------------------------------------------


def encode(message: Message, session_id: str | None, timestamp: int) -> bytes:
    """One complete frame (length prefix included) carrying ``message``."""
    if isinstance(message, UnknownMessage):
        raise TypeError("an UnknownMessage cannot be sent")
    return encode_frame(
        _pack(
            {
                "type": message.type.value,
                "session_id": session_id,
                "timestamp": timestamp,
                "payload": message.payload(),
            }
        )
    )


def encode_data(
    session_id: str,
    timestamp: int,
    algorithm: str,
    content: bytes,
    original_size: int,
    text: bool,
    security_status: dict[str, Any] | None = None,
) -> bytes:
    """The DATA frame, built without an intermediate :class:`Data` (the per-message path)."""
    payload: dict[str, Any] = {
        "algorithm": algorithm,
        "content": content,
        "original_size": original_size,
    }
    if text:
        payload["text"] = True
    if security_status is not None:
        payload["security_status"] = security_status
    return encode_frame(
        _pack(
            {"type": "DATA", "session_id": session_id, "timestamp": timestamp, "payload": payload}
        )
    )


def _pack(value: dict[str, Any]) -> bytes:
    try:
        packer = _packers.packer
    except AttributeError:
        packer = _packers.packer = msgpack.Packer(use_bin_type=True)
    data: bytes = packer.pack(value)
    return data


# --- decoding ---------------------------------------------------------------------------------


def unpack(body: bytes | bytearray | memoryview) -> Any:
    """The MessagePack value of a frame body, or ``InvalidMessageError``."""
    try:
        return _unpackb(body, raw=False, strict_map_key=True)
    except Exception as exc:  # msgpack raises several unrelated types for bad input
        raise InvalidMessageError(f"frame body is not valid MessagePack ({exc})") from exc


def decode(body: bytes | bytearray | memoryview) -> Envelope:
    """Validate a frame body and return its envelope, or raise ``InvalidMessageError``."""
    return decode_unpacked(unpack(body))


def decode_unpacked(raw: Any) -> Envelope:
    """:func:`decode` for a body already unpacked with :func:`unpack`."""
    if type(raw) is not dict:
        raise InvalidMessageError(f"frame body is a {_kind(raw)}, not a map")
    try:
        type_name = raw["type"]
        session_id = raw["session_id"]
        timestamp = raw["timestamp"]
        payload = raw["payload"]
    except KeyError as exc:
        raise InvalidMessageError(f"envelope lacks the required key {exc.args[0]!r}") from None
    if type(type_name) is not str:
        raise InvalidMessageError(f"envelope 'type' is a {_kind(type_name)}, not a str")
    if session_id is not None and type(session_id) is not str:
        raise InvalidMessageError(f"envelope 'session_id' is a {_kind(session_id)}, not str/nil")
    if type(timestamp) is not int:
        raise InvalidMessageError(f"envelope 'timestamp' is a {_kind(timestamp)}, not an int")
    if type(payload) is not dict:
        raise InvalidMessageError(f"envelope 'payload' is a {_kind(payload)}, not a map")
    parser = _PARSERS.get(type_name)
    message = UnknownMessage(type_name) if parser is None else parser(payload)
    return Envelope(message, session_id, timestamp)


def _kind(value: object) -> str:
    return "nil" if value is None else type(value).__name__


def _require(payload: dict[str, Any], key: str, kind: type, what: str) -> Any:
    value = payload.get(key)
    if type(value) is not kind:
        shown = "missing" if key not in payload else f"a {_kind(value)}"
        raise InvalidMessageError(f"{what} '{key}' is {shown}, expected {kind.__name__}")
    return value


def _optional(payload: dict[str, Any], key: str, kind: type, what: str, default: Any) -> Any:
    value = payload.get(key)
    if value is None:
        return default
    if type(value) is not kind:
        raise InvalidMessageError(f"{what} '{key}' is a {_kind(value)}, expected {kind.__name__}")
    return value


def _optional_str_list(payload: dict[str, Any], key: str, problems: list[str]) -> tuple[str, ...]:
    """``payload[key]`` as a tuple of str; empty when absent or nil, and a problem noted when
    it is something else."""
    value = payload.get(key)
    if value is None:
        return ()
    parsed = _str_list(value)
    if parsed is None:
        problems.append(f"'{key}' must be a list of str")
        return ()
    return parsed


def _str_list(value: object) -> tuple[str, ...] | None:
    if type(value) is not list or not all(type(item) is str for item in value):
        return None
    return tuple(value)


def _parse_hello(payload: dict[str, Any]) -> Hello:
    problems: list[str] = []

    version = payload.get("version")
    if type(version) is not str:
        version = None  # judged by the version check, which comes before the others

    # Non-string entries are unknown names (ignored); a non-list counts as an empty offer.
    raw_algorithms = payload.get("algorithms")
    algorithms: tuple[str, ...] = ()
    if type(raw_algorithms) is list:
        algorithms = tuple(name for name in raw_algorithms if type(name) is str)
        if len(algorithms) != len(raw_algorithms):
            problems.append("'algorithms' holds entries that are not strings")
    elif raw_algorithms is not None:
        problems.append(f"'algorithms' is a {_kind(raw_algorithms)}, expected a list of str")

    encodings = _optional_str_list(payload, "encodings", problems)

    preferred = payload.get("preferred_encoding")
    if preferred is not None and type(preferred) is not str:
        problems.append(f"'preferred_encoding' is a {_kind(preferred)}, expected str")
        preferred = None

    scanning = payload.get("security_scanning", False)
    if scanning is None:
        scanning = False
    elif type(scanning) is not bool:
        problems.append(f"'security_scanning' is a {_kind(scanning)}, expected bool")
        scanning = False

    max_payload = payload.get("max_payload_size", 0)
    if max_payload is None:
        max_payload = 0
    elif type(max_payload) is not int or max_payload < 0:
        problems.append("'max_payload_size' must be a non-negative int")
        max_payload = 0

    agent_id = payload.get("agent_id")
    if agent_id is not None and not is_valid_agent_id(agent_id):
        problems.append("'agent_id' must be 1-128 characters of [A-Za-z0-9_-]")
        agent_id = None

    extensions = payload.get("extensions")
    if extensions is None:
        extensions = {}
    elif type(extensions) is not dict:
        problems.append(f"'extensions' is a {_kind(extensions)}, expected a map")
        extensions = {}

    modes = _optional_str_list(payload, "security_modes", problems)
    key_share = payload.get("key_share")
    if key_share is not None and (type(key_share) is not bytes or len(key_share) != 32):
        problems.append("'key_share' must be 32 bytes (bin)")
        key_share = None
    if any(mode != "NONE" for mode in modes) and key_share is None:
        problems.append("'security_modes' offers protection but there is no 'key_share'")

    return Hello(
        version=version,
        algorithms=algorithms,
        encodings=encodings,
        preferred_encoding=preferred,
        security_scanning=scanning,
        max_payload_size=max_payload,
        agent_id=agent_id,
        extensions=extensions,
        security_modes=modes,
        key_share=key_share,
        problems=tuple(problems),
    )


def _parse_accept(payload: dict[str, Any]) -> Accept:
    what = "ACCEPT"
    version = _require(payload, "version", str, what)
    algorithms = _str_list(payload.get("algorithms"))
    if not algorithms:
        raise InvalidMessageError("ACCEPT 'algorithms' must be a non-empty list of str")
    timeout = _require(payload, "session_timeout_ms", int, what)
    max_payload = _optional(payload, "max_payload_size", int, what, 0)
    if timeout <= 0 or max_payload < 0:
        raise InvalidMessageError(
            "ACCEPT 'session_timeout_ms' must be positive and 'max_payload_size' not negative"
        )
    return Accept(
        version=version,
        algorithms=algorithms,
        security_scanning=_optional(payload, "security_scanning", bool, what, False),
        session_timeout_ms=timeout,
        max_payload_size=max_payload,
        encoding=_optional(payload, "encoding", str, what, None),
        extensions=_optional(payload, "extensions", dict, what, {}),
        security_mode=_optional(payload, "security_mode", str, what, "NONE"),
        key_share=_optional(payload, "key_share", bytes, what, None),
        static_key=_optional(payload, "static_key", bytes, what, None),
        key_confirmation=_optional(payload, "key_confirmation", bytes, what, None),
    )


def _parse_reject(payload: dict[str, Any]) -> Reject:
    return Reject(
        code=_require(payload, "code", str, "REJECT"),
        message=_optional(payload, "message", str, "REJECT", ""),
    )


def _parse_data(payload: dict[str, Any]) -> Data:
    return Data(*data_fields(payload))


def data_fields(
    payload: dict[str, Any],
) -> tuple[str, bytes, int, bool, dict[str, Any] | None]:
    """A DATA payload's validated fields: algorithm, content, original_size, text, status.

    The per-message path: plain look-ups, one type check each, no objects built.
    """
    algorithm = payload.get("algorithm")
    content = payload.get("content")
    original_size = payload.get("original_size")
    if type(algorithm) is not str:
        raise InvalidMessageError(f"DATA 'algorithm' is {_shown(payload, 'algorithm')}, not str")
    if type(content) is not bytes:
        raise InvalidMessageError(f"DATA 'content' is {_shown(payload, 'content')}, not bin")
    if type(original_size) is not int or original_size < 0:
        raise InvalidMessageError(
            f"DATA 'original_size' is {_shown(payload, 'original_size')}, not a non-negative int"
        )
    text = payload.get("text", False)
    if type(text) is not bool:
        if text is not None:
            raise InvalidMessageError(f"DATA 'text' is a {_kind(text)}, expected bool")
        text = False
    status = payload.get("security_status")
    if status is not None and type(status) is not dict:
        raise InvalidMessageError(f"DATA 'security_status' is a {_kind(status)}, expected a map")
    return algorithm, content, original_size, text, status


def _shown(payload: dict[str, Any], key: str) -> str:
    return "missing" if key not in payload else f"a {_kind(payload[key])}"


def _parse_ping(payload: dict[str, Any]) -> Ping:
    return _PING


def _parse_pong(payload: dict[str, Any]) -> Pong:
    return _PONG


def _parse_close(payload: dict[str, Any]) -> Close:
    reason_text = _optional(payload, "reason", str, "CLOSE", CloseReason.NORMAL.value)
    message = _optional(payload, "message", str, "CLOSE", None)
    try:
        reason = CloseReason(reason_text)
    except ValueError:
        reason = CloseReason.ERROR
        message = f"unknown close reason {reason_text!r}" + (f": {message}" if message else "")
    return Close(reason, message)


_PING = Ping()
_PONG = Pong()
_PARSERS: dict[str, Any] = {
    "HELLO": _parse_hello,
    "ACCEPT": _parse_accept,
    "REJECT": _parse_reject,
    "DATA": _parse_data,
    "PING": _parse_ping,
    "PONG": _parse_pong,
    "CLOSE": _parse_close,
}
