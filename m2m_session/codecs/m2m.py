"""``M2M`` v1: JSON LLM-API payloads, Brotli-compressed bit-exact, behind a readable routing header.

An M2M frame carries one JSON document of an LLM API (a chat request or response, a stream
chunk, an embedding request or response, an error body). The payload is the Brotli stream of the
**original bytes** (key order, whitespace and escapes come back exactly); the JSON is parsed only
to recognise the schema and to fill the routing header, which a router or proxy reads without
decompressing anything (:func:`inspect`).

Byte layout
===========

All integers are little-endian (LE). Offsets are from the start of the frame.

======  =====  ===============================================================================
offset  size   field
======  =====  ===============================================================================
0       7      magic: ASCII ``#M2M|1|`` (``23 4D 32 4D 7C 31 7C``); ``1`` is the format version
7       2      ``header_length`` u16: the size in bytes of the fixed header (these 20 bytes,
               this field included) plus the routing header; the routing header therefore
               spans offsets 27 to ``7 + header_length`` and ``payload_length`` is at
               ``7 + header_length``. Minimum 27 (20 + 7), maximum 16,674.
9       1      ``schema`` u8: 0x01 chat/completion request, 0x02 response, 0x03 stream chunk,
               0x04 embedding request, 0x05 embedding response, 0x10 error body
10      1      ``security_mode`` u8: 0x00 none, 0x01 HMAC-SHA256 (a 32-byte tag follows the
               payload), 0x02 ChaCha20-Poly1305 (the ``payload_length`` bytes are the AEAD
               output); see "Security modes" below.
11      4      ``flags`` u32, bits (0 = least significant):
                 0 ``HAS_MAX_TOKENS``   the routing header holds ``max_tokens``
                 1 ``HAS_COST``         the routing header holds ``cost_estimate``
                 2 ``STREAMING``        a request with ``"stream": true``, or a stream chunk
                 3 ``HAS_TOOLS``        a request defining tools (non-empty ``tools`` or
                                        ``functions``) or a response/chunk calling one
                                        (``tool_calls``, ``function_call``, ``tool_use`` block)
                 4 ``HAS_SYSTEM_FIELD`` a request with a top-level ``system`` (Anthropic
                                        style): a system prompt outside the message list
                 5 ``ROLES_MAPPED``     at least one role was not one of the four role names
                                        and was mapped (see roles below)
                 6 ``MODEL_TRUNCATED``  the model name was longer than 255 bytes and
                                        ``model`` holds its first bytes
               bits 7-31 are reserved and MUST be 0.
15      12     reserved, MUST be all zero
27      ...    routing header, in this order:
                 ``model_length`` u8, then ``model``: that many bytes of UTF-8 (0 = no model)
                 ``message_count`` u16
                 ``roles``: ceil(message_count / 4) bytes, 2 bits per message; message ``i``
                   is in byte ``i // 4`` at bits ``2 * (i % 4)`` and up (the first message in
                   the low bits); unused high bits of the last byte MUST be 0.
                   0 system, 1 user, 2 assistant, 3 tool
                 ``content_size`` u32: the content-size hint (below), saturating at 2**32-1
                 ``max_tokens`` u32, present only if ``HAS_MAX_TOKENS``
                 ``cost_estimate`` f32 (IEEE 754 binary32), USD, finite and >= 0, present only
                   if ``HAS_COST``
7+H     4      ``payload_length`` u32 (H = ``header_length``): the size of the Brotli payload
11+H    4      ``crc32`` u32: CRC-32 (ISO-HDLC, as ``zlib.crc32``) of the original JSON bytes
15+H    P      payload: one complete Brotli stream (RFC 7932) of the original JSON bytes;
               with ``security_mode`` 0x02, ``nonce(12) || ciphertext || tag(16)`` instead
15+H+P  32     HMAC-SHA256 tag, only when ``security_mode`` is 0x01
======  =====  ===============================================================================

With ``security_mode`` 0x00 and 0x02 the frame ends exactly after the payload; with 0x01 exactly
after the tag. In mode 0x00 the routing header is a hint: it is not covered by the CRC (modes
0x01/0x02 authenticate it with the key). A layout change takes a new version digit in the
magic; a v1 reader refuses unknown flag bits, nonzero reserved bytes and a ``header_length``
that does not match the routing header it describes. Encoders pick the Brotli quality; we use
5 (:mod:`m2m_session.codecs.brotli`): on LLM-API JSON it compresses within a few percent of 11
at a small fraction of the time, and encode+decode of a 1 KB request stays far under 0.4 ms.

Security modes
==============

Let ``F`` be the frame bytes from offset 0 up to the start of the payload (magic, fixed header,
routing header, ``payload_length``, ``crc32``: ``15 + H`` bytes) and ``B`` the Brotli stream of
the original JSON bytes. The key is 32 bytes (``bytes`` or
:class:`~m2m_session.crypto.KeyMaterial`); see :class:`HmacSecurity` / :class:`AeadSecurity`.

* 0x01 HMAC-SHA256: ``frame = F || B || HMAC-SHA256(key, F || B)``; ``payload_length`` = ``len(B)``.
  The tag covers every byte before it, routing header included. Nothing is confidential.
* 0x02 ChaCha20-Poly1305 (RFC 8439, :mod:`m2m_session.crypto.aead`):
  ``frame = F || nonce(12) || ChaCha20-Poly1305(key, nonce, plaintext = B, AD = F)``, i.e. the
  payload is ``nonce || ciphertext || tag(16)`` and ``payload_length`` = ``len(B) + 28``; the
  nonce is random (``os.urandom``). ``F`` is the associated data: authenticated but **not
  confidential** -- the model, roles, message count, content size, max tokens, cost estimate,
  the payload length and the ``crc32`` of the plaintext stay readable (:func:`inspect` needs no
  key); the CRC lets anyone holding a guess of the whole plaintext confirm it.

:func:`decode` with a key verifies first (HMAC in constant time, or the AEAD tag) and only then
decompresses and checks the CRC. **Downgrade rule**: rewriting byte 10 to 0x00 and dropping the
tag gives a well-formed unprotected frame that no reader accepting 0x00 can tell from a genuine
one; so :func:`decode` given a key *refuses* a mode-0x00 frame (``DecompressionError``). A
receiver that expects protection must always pass its key (or check
``inspect(frame).security_mode``). The same key may be given for both 0x01 and 0x02 frames;
use one key per mode where possible (cross-primitive key reuse is best avoided).

Routing header values
=====================

``model``: the top-level ``"model"`` string (for an Anthropic ``message_start`` event, the
``message.model``); absent, not a string, or not encodable as UTF-8 (a lone surrogate escape) →
empty. Longer than 255 bytes → cut at the last whole UTF-8 character that fits in 255 bytes, and
``MODEL_TRUNCATED`` is set (the payload is authoritative; refusing a valid document because of
a hint would make the codec fail on input it can carry).

Messages and roles, by schema:

* request: the ``messages`` list of objects, one role per message (``prompt`` completions, or
  a ``messages`` value that is not a list of objects: no messages);
* response: OpenAI ``choices``, one per choice (``choice.message.role``, default assistant);
  Anthropic message (``content`` list): one, its ``role``;
* stream chunk: OpenAI ``choices``, one per choice (``choice.delta.role``, default assistant);
  Anthropic ``message_start``: one, ``message.role``; other events: none;
* embedding request/response, error: none.

Role names map to codes: ``system`` 0, ``user`` 1, ``assistant`` 2, ``tool`` 3 as they are;
``developer`` → system, ``human`` → user, ``model`` (Gemini) → assistant, ``function`` and
``ipython`` → tool; any other value, or a missing role, → user (the least privileged reading),
except that a missing role in a response or stream chunk is assistant. Every mapping other
than the four names themselves sets ``ROLES_MAPPED``, the missing-role default of a response or
chunk excepted.

``content_size``: the UTF-8 byte length of the text the document carries, where the text of a
value is: a string → itself; a list → the text of its items; an object → the text of its
``"text"`` and ``"content"`` members; anything else → nothing. Summed over: request → each
message's ``content``, the top-level ``system`` and ``prompt``; response → each choice's
``message.content`` and ``text``, or the Anthropic ``content``; stream chunk → each choice's
``delta.content`` and ``text``, or the event's ``delta``, ``content_block`` and ``message.content``;
embedding request → ``input``; embedding response → 0; error → ``error.message``.

``max_tokens`` (requests only): the first of ``max_completion_tokens``, ``max_tokens``,
``max_output_tokens`` that is an integer in 0..2**32-1.

``cost_estimate``: only when the model is in the model registry
(:func:`m2m_session.models.default_registry`), USD at list price
(:func:`m2m_session.models.estimate_cost`):

* request, embedding request: input tokens ≈ ceil(content_size / 4), output tokens =
  ``max_tokens`` (0 if absent);
* response, embedding response: the ``usage`` counts (``prompt_tokens``/``input_tokens`` and
  ``completion_tokens``/``output_tokens``, a missing one 0); no ``usage`` → no cost;
* stream chunk, error: no cost.

Schema detection
================

:func:`detect_schema` (and :func:`encode`) need a JSON object (first non-whitespace byte ``{``;
strict UTF-8 JSON within the limits of :mod:`m2m_session.jsonlimits`) and test, in this order:

1. error: ``error`` is an object with a ``message`` and stands alone (OpenAI
   ``{"error": {…}}``) or beside ``"type": "error"`` (Anthropic); a record that merely has an
   ``error`` field among others is not an error body;
2. stream chunk: ``object`` is ``"chat.completion.chunk"``, or ``type`` is an Anthropic stream
   event (``message_start``, ``message_delta``, ``message_stop``, ``content_block_start``,
   ``content_block_delta``, ``content_block_stop``, ``ping``);
3. embedding response: ``data`` is a non-empty list of objects that all have ``embedding``;
4. response: ``choices`` is a list; or ``content`` is a list and ``type`` is ``"message"`` or
   ``role`` is ``"assistant"`` (Anthropic);
5. request: ``messages`` is a list of objects; or ``prompt`` (a string or list) and ``model``;
6. embedding request: ``input`` with ``encoding_format``, or with a string ``model`` containing
   ``embedding`` (any case);
7. anything else is not an LLM-API payload: :func:`detect_schema` returns ``None`` and
   :func:`encode` raises ``CompressionError``.

Errors
======

:func:`encode`: non-JSON or JSON that is not an LLM-API payload → ``CompressionError``; a JSON
limit broken → ``JsonError`` (with the limit in ``details``). :func:`decode` and
:func:`inspect`: a frame that does not start with ``#M2M|`` or is truncated, malformed,
inconsistent or corrupt, a CRC mismatch, or output over ``max_size`` → ``DecompressionError``;
``#M2M|<other version>|`` → ``InvalidCodecError``. :func:`decode` without a key of a frame whose
security mode is not 0x00 → ``DecompressionError`` ("security mode 0x01 ... needs a key"); with a
key, of a mode-0x00 frame → ``DecompressionError`` (downgrade rule). A tag mismatch (wrong key,
any altered byte) → ``HmacError(VERIFICATION_FAILED)`` (0x01) or ``AeadError(DECRYPTION_FAILED)``
(0x02); a key of the wrong size → ``HmacError``/``AeadError(INVALID_KEY)``. Decoding never
returns partial output.
"""

from __future__ import annotations

import enum
import math
import re
import struct
import zlib
from dataclasses import dataclass, field
from typing import Any, ClassVar

from m2m_session.codecs import brotli as _brotli
from m2m_session.crypto import aead as _aead
from m2m_session.crypto import mac as _mac
from m2m_session.crypto.keys import KeyLike, key_bytes, key_size
from m2m_session.errors import (
    AeadError,
    CompressionError,
    DecompressionError,
    HmacError,
    InvalidCodecError,
    JsonError,
)
from m2m_session.jsonlimits import parse_json
from m2m_session.models import ModelRegistry, default_registry, estimate_cost

__all__ = [
    "FIXED_HEADER_SIZE",
    "HMAC_TAG_SIZE",
    "MAX_MODEL_BYTES",
    "PREFIX",
    "ROLE_NAMES",
    "AeadSecurity",
    "Flags",
    "HmacSecurity",
    "RoutingHeader",
    "Schema",
    "Security",
    "SecurityMode",
    "decode",
    "classify_schema",
    "detect_schema",
    "encode",
    "inspect",
]

PREFIX = b"#M2M|1|"
#: header_length u16, schema u8, security mode u8, flags u32, 12 reserved bytes.
FIXED_HEADER_SIZE = 20
MAX_MODEL_BYTES = 255
HMAC_TAG_SIZE = 32

_FIXED = struct.Struct("<HBBI12s")
_TRAILER = struct.Struct("<II")
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_F32 = struct.Struct("<f")
_RESERVED = bytes(12)
_ROUTING_START = len(PREFIX) + FIXED_HEADER_SIZE  # 27
_MIN_HEADER_LENGTH = FIXED_HEADER_SIZE + 1 + 2 + 4  # empty model, no messages, no options
_U32_MAX = 0xFFFF_FFFF
_F32_MAX = 3.4028234663852886e38


class Schema(enum.IntEnum):
    """What the JSON payload is (fixed header byte 9)."""

    REQUEST = 0x01
    RESPONSE = 0x02
    STREAM_CHUNK = 0x03
    EMBEDDING_REQUEST = 0x04
    EMBEDDING_RESPONSE = 0x05
    ERROR = 0x10


class SecurityMode(enum.IntEnum):
    """How the frame is protected (fixed header byte 10)."""

    NONE = 0x00
    HMAC_SHA256 = 0x01
    CHACHA20_POLY1305 = 0x02


class Flags(enum.IntFlag):
    """Fixed header flags (u32 LE at offset 11); see the module doc."""

    HAS_MAX_TOKENS = 1 << 0
    HAS_COST = 1 << 1
    STREAMING = 1 << 2
    HAS_TOOLS = 1 << 3
    HAS_SYSTEM_FIELD = 1 << 4
    ROLES_MAPPED = 1 << 5
    MODEL_TRUNCATED = 1 << 6


_KNOWN_FLAGS = 0x7F
_FLAG_NAMES = tuple((int(flag), str(flag.name).lower()) for flag in Flags)
_SCHEMAS = {int(schema): schema for schema in Schema}
_SECURITY_MODES = {int(mode): mode for mode in SecurityMode}

ROLE_NAMES = ("system", "user", "assistant", "tool")
_ROLE_CODES = {name: code for code, name in enumerate(ROLE_NAMES)}
_ROLE_ALIASES = {"developer": 0, "human": 1, "model": 2, "function": 3, "ipython": 3}
_USER = 1
_ASSISTANT = 2

_OBJECT_START = re.compile(rb"[ \t\r\n]*\{")
_STREAM_EVENTS = frozenset(
    {
        "message_start",
        "message_delta",
        "message_stop",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "ping",
    }
)
_SCHEMA_LIST = (
    "chat/completion request, response, stream chunk, embedding request, "
    "embedding response, error body"
)


@dataclass(frozen=True, slots=True, eq=False)
class HmacSecurity:
    """Security mode 0x01 for :func:`encode`: HMAC-SHA256 tag under ``key`` (at least 32 bytes).

    ``HmacError(INVALID_KEY)`` for a shorter key. The key never shows in ``repr``.
    """

    key: KeyLike = field(repr=False)
    mode: ClassVar[SecurityMode] = SecurityMode.HMAC_SHA256

    def __post_init__(self) -> None:
        size = key_size(key_bytes(self.key))
        if size < _mac.MIN_KEY_SIZE:
            raise HmacError(HmacError.Case.INVALID_KEY, f"got {size} bytes, at least 32 required")


@dataclass(frozen=True, slots=True, eq=False)
class AeadSecurity:
    """Security mode 0x02 for :func:`encode`: ChaCha20-Poly1305 under ``key`` (32 bytes).

    ``AeadError(INVALID_KEY)`` for a key of another size. The key never shows in ``repr``.
    """

    key: KeyLike = field(repr=False)
    mode: ClassVar[SecurityMode] = SecurityMode.CHACHA20_POLY1305

    def __post_init__(self) -> None:
        size = key_size(key_bytes(self.key))
        if size != _aead.KEY_SIZE:
            raise AeadError(AeadError.Case.INVALID_KEY, f"got {size} bytes")


#: What :func:`encode` takes as ``security`` (``None`` = mode 0x00).
Security = HmacSecurity | AeadSecurity


@dataclass(frozen=True, slots=True)
class RoutingHeader:
    """Everything an M2M frame says about its payload without decompressing it."""

    schema: Schema
    security_mode: SecurityMode
    flags: Flags
    model: str
    message_count: int
    roles: tuple[str, ...]
    content_size: int
    max_tokens: int | None
    cost_estimate: float | None
    payload_length: int
    crc32: int

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly view (``m2m-session inspect``); ``crc32`` as 8 hex digits."""
        return {
            "schema": self.schema.name.lower(),
            "security_mode": self.security_mode.name.lower(),
            "flags": [name for bit, name in _FLAG_NAMES if self.flags & bit],
            "model": self.model,
            "message_count": self.message_count,
            "roles": list(self.roles),
            "content_size": self.content_size,
            "max_tokens": self.max_tokens,
            "cost_estimate": (
                None if self.cost_estimate is None else float(f"{self.cost_estimate:.7g}")
            ),
            "payload_length": self.payload_length,
            "crc32": f"{self.crc32:08x}",
        }


# --- detection and routing values ------------------------------------------------------------


def _classify(obj: dict[str, Any]) -> Schema | None:
    # An LLM API error body is the error object alone (OpenAI) or beside "type": "error"
    # (Anthropic), and the error object carries a message; a log record with an "error" field
    # among others is not one.
    error = obj.get("error")
    if (
        isinstance(error, dict)
        and "message" in error
        and (len(obj) == 1 or obj.get("type") == "error")
    ):
        return Schema.ERROR
    kind = obj.get("type")
    if obj.get("object") == "chat.completion.chunk" or (
        isinstance(kind, str) and kind in _STREAM_EVENTS
    ):
        return Schema.STREAM_CHUNK
    data = obj.get("data")
    if (
        isinstance(data, list)
        and data
        and all(isinstance(item, dict) and "embedding" in item for item in data)
    ):
        return Schema.EMBEDDING_RESPONSE
    if isinstance(obj.get("choices"), list) or (
        isinstance(obj.get("content"), list)
        and (kind == "message" or obj.get("role") == "assistant")
    ):
        return Schema.RESPONSE
    messages = obj.get("messages")
    if isinstance(messages, list) and all(isinstance(message, dict) for message in messages):
        return Schema.REQUEST
    if isinstance(obj.get("prompt"), str | list) and "model" in obj:
        return Schema.REQUEST
    if "input" in obj:
        model = obj.get("model")
        if "encoding_format" in obj or (isinstance(model, str) and "embedding" in model.lower()):
            return Schema.EMBEDDING_REQUEST
    return None


def _text_size(value: object) -> int:
    """UTF-8 bytes of the text in ``value`` (module doc, ``content_size``)."""
    if isinstance(value, str):
        return len(value) if value.isascii() else len(value.encode("utf-8", "surrogatepass"))
    if isinstance(value, list):
        total = 0
        for item in value:
            total += _text_size(item)
        return total
    if isinstance(value, dict):
        return _text_size(value.get("text")) + _text_size(value.get("content"))
    return 0


def _role_code(role: object) -> tuple[int, bool]:
    """(code, mapped) for a role value (module doc, roles)."""
    if isinstance(role, str):
        code = _ROLE_CODES.get(role)
        if code is not None:
            return code, False
        return _ROLE_ALIASES.get(role, _USER), True
    return _USER, True


def _non_empty_list(value: object) -> bool:
    return isinstance(value, list) and len(value) > 0


def _calls_tool(message: object) -> bool:
    if not isinstance(message, dict):
        return False
    return _non_empty_list(message.get("tool_calls")) or isinstance(
        message.get("function_call"), dict
    )


def _has_tool_use(content: object) -> bool:
    return isinstance(content, list) and any(
        isinstance(block, dict) and block.get("type") == "tool_use" for block in content
    )


def _token_count(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _U32_MAX:
        return value
    return None


@dataclass(slots=True)
class _Route:
    model: object
    roles: list[int]
    content_size: int = 0
    flags: int = 0
    max_tokens: int | None = None
    usage: tuple[int, int] | None = None


def _add_role(route: _Route, role: object, missing: int = _ASSISTANT) -> None:
    """Append the code of ``role``; a missing role is ``missing`` (requests: user, mapped)."""
    if role is None and missing == _ASSISTANT:
        route.roles.append(_ASSISTANT)
        return
    code, mapped = _role_code(role)
    route.roles.append(code)
    if mapped:
        route.flags |= Flags.ROLES_MAPPED


def _route(obj: dict[str, Any], schema: Schema) -> _Route:
    """The routing values of a classified document (module doc, "Routing header values")."""
    route = _Route(obj.get("model"), [])
    if schema is Schema.REQUEST:
        messages = obj.get("messages")
        if isinstance(messages, list) and all(isinstance(item, dict) for item in messages):
            for message in messages:
                _add_role(route, message.get("role"), _USER)
                route.content_size += _text_size(message.get("content"))
        if "system" in obj:
            route.flags |= Flags.HAS_SYSTEM_FIELD
            route.content_size += _text_size(obj["system"])
        route.content_size += _text_size(obj.get("prompt"))
        for key in ("max_completion_tokens", "max_tokens", "max_output_tokens"):
            count = _token_count(obj.get(key))
            if count is not None:
                route.max_tokens = count
                route.flags |= Flags.HAS_MAX_TOKENS
                break
        if obj.get("stream") is True:
            route.flags |= Flags.STREAMING
        if _non_empty_list(obj.get("tools")) or _non_empty_list(obj.get("functions")):
            route.flags |= Flags.HAS_TOOLS
    elif schema is Schema.RESPONSE or schema is Schema.STREAM_CHUNK:
        key = "message" if schema is Schema.RESPONSE else "delta"
        if schema is Schema.STREAM_CHUNK:
            route.flags |= Flags.STREAMING
        choices = obj.get("choices")
        if isinstance(choices, list):
            for choice in choices:
                inner = choice.get(key) if isinstance(choice, dict) else None
                _add_role(route, inner.get("role") if isinstance(inner, dict) else None)
                if isinstance(inner, dict):
                    route.content_size += _text_size(inner.get("content"))
                    if _calls_tool(inner):
                        route.flags |= Flags.HAS_TOOLS
                if isinstance(choice, dict):
                    route.content_size += _text_size(choice.get("text"))
        elif schema is Schema.RESPONSE:  # Anthropic message
            _add_role(route, obj.get("role"))
            route.content_size += _text_size(obj.get("content"))
            if _has_tool_use(obj.get("content")):
                route.flags |= Flags.HAS_TOOLS
        else:  # Anthropic stream event
            message = obj.get("message")
            if obj.get("type") == "message_start" and isinstance(message, dict):
                route.model = message.get("model")
                _add_role(route, message.get("role"))
                route.content_size += _text_size(message.get("content"))
            block = obj.get("content_block")
            route.content_size += _text_size(obj.get("delta")) + _text_size(block)
            if isinstance(block, dict) and block.get("type") == "tool_use":
                route.flags |= Flags.HAS_TOOLS
    elif schema is Schema.EMBEDDING_REQUEST:
        route.content_size = _text_size(obj.get("input"))
    elif schema is Schema.ERROR:
        error = obj.get("error")
        if isinstance(error, dict):
            route.content_size = _text_size(error.get("message"))
    if schema is Schema.RESPONSE or schema is Schema.EMBEDDING_RESPONSE:
        usage = obj.get("usage")
        if isinstance(usage, dict):
            tokens_in = _token_count(usage.get("prompt_tokens"))
            if tokens_in is None:
                tokens_in = _token_count(usage.get("input_tokens"))
            tokens_out = _token_count(usage.get("completion_tokens"))
            if tokens_out is None:
                tokens_out = _token_count(usage.get("output_tokens"))
            if tokens_in is not None or tokens_out is not None:
                route.usage = (tokens_in or 0, tokens_out or 0)
    return route


def _cost(route: _Route, schema: Schema, registry: ModelRegistry) -> float | None:
    if not isinstance(route.model, str) or not route.model:
        return None
    if schema is Schema.REQUEST or schema is Schema.EMBEDDING_REQUEST:
        tokens = ((route.content_size + 3) // 4, route.max_tokens or 0)
    elif route.usage is not None:
        tokens = route.usage
    else:
        return None
    card = registry.find(route.model)
    if card is None:
        return None
    cost = estimate_cost(card, *tokens)
    return cost if math.isfinite(cost) and cost <= _F32_MAX else None


def _parse_object(data: bytes) -> dict[str, Any] | None:
    """The parsed JSON object, ``None`` for non-JSON or non-objects; limits raise JsonError."""
    if _OBJECT_START.match(data) is None:
        return None
    try:
        value = parse_json(data)
    except JsonError as exc:
        if "limit" in exc.details:
            raise
        return None
    return value if isinstance(value, dict) else None


def detect_schema(data: bytes) -> Schema | None:
    """The schema of ``data`` if it is a JSON LLM-API payload M2M can carry, else ``None``.

    Cheap on anything else: input whose first non-whitespace byte is not ``{`` is never parsed.
    Never raises for any ``bytes`` input (a document over the JSON limits is ``None``).
    """
    try:
        obj = _parse_object(data)
    except JsonError:
        return None
    return None if obj is None else _classify(obj)


def classify_schema(obj: dict[str, Any]) -> Schema | None:
    """:func:`detect_schema` for a JSON object already parsed (within the JSON limits)."""
    return _classify(obj)


# --- encoding ---------------------------------------------------------------------------------


def _model_field(model: object) -> tuple[bytes, int]:
    """(length-prefixed model bytes, extra flags)."""
    if not isinstance(model, str):
        return b"\x00", 0
    try:
        raw = model.encode("utf-8")
    except UnicodeEncodeError:
        return b"\x00", 0
    flags = 0
    if len(raw) > MAX_MODEL_BYTES:
        cut = MAX_MODEL_BYTES
        while cut > 0 and raw[cut] & 0xC0 == 0x80:  # raw[cut] continues a character
            cut -= 1
        raw = raw[:cut]
        flags = Flags.MODEL_TRUNCATED
    return bytes((len(raw),)) + raw, flags


def _pack_roles(roles: list[int]) -> bytes:
    packed = bytearray((len(roles) + 3) // 4)
    for index, code in enumerate(roles):
        packed[index >> 2] |= code << ((index & 3) << 1)
    return bytes(packed)


def encode(
    data: bytes,
    *,
    registry: ModelRegistry | None = None,
    security: Security | None = None,
) -> bytes:
    """The M2M frame of the JSON LLM-API payload ``data`` (layout in the module doc).

    ``registry`` (default :func:`default_registry`) prices the cost estimate. ``security``:
    ``None`` (mode 0x00), :class:`HmacSecurity` (0x01) or :class:`AeadSecurity` (0x02); see
    "Security modes" in the module doc. Raises ``CompressionError`` for content that is not a
    JSON LLM-API payload and ``JsonError`` for a document over the JSON limits.
    """
    obj = _parse_object(data)
    schema = None if obj is None else _classify(obj)
    if obj is None or schema is None:
        what = (
            "a JSON object that matches none of them"
            if obj is not None
            else "content that is not a JSON object"
        )
        raise CompressionError(f"M2M only takes JSON LLM-API payloads ({_SCHEMA_LIST}); got {what}")
    route = _route(obj, schema)
    count = len(route.roles)
    if count > 0xFFFF:
        raise CompressionError(f"M2M carries at most 65535 messages, not {count}")
    model, model_flags = _model_field(route.model)
    flags = route.flags | model_flags
    parts = [
        model,
        _U16.pack(count),
        _pack_roles(route.roles),
        _U32.pack(min(route.content_size, _U32_MAX)),
    ]
    if route.max_tokens is not None:
        parts.append(_U32.pack(route.max_tokens))
    cost = _cost(route, schema, registry or default_registry())
    if cost is not None:
        flags |= Flags.HAS_COST
        parts.append(_F32.pack(cost))
    routing = b"".join(parts)
    payload = _brotli.encode(data)
    mode = SecurityMode.NONE if security is None else security.mode
    wire_length = len(payload) + (_aead.OVERHEAD if mode is SecurityMode.CHACHA20_POLY1305 else 0)
    head = b"".join(
        (
            PREFIX,
            _FIXED.pack(FIXED_HEADER_SIZE + len(routing), schema, mode, flags, _RESERVED),
            routing,
            _TRAILER.pack(wire_length, zlib.crc32(data)),
        )
    )
    if isinstance(security, AeadSecurity):
        return head + _aead.encrypt(security.key, payload, head)
    body = head + payload
    if isinstance(security, HmacSecurity):
        return body + _mac.sign(security.key, body)
    return body


# --- decoding ---------------------------------------------------------------------------------

_VERSIONED = re.compile(rb"#M2M\|([0-9]{1,5})\|")


def _truncated(what: str) -> DecompressionError:
    return DecompressionError(f"truncated M2M frame: {what}")


def _read_header(content: bytes) -> tuple[RoutingHeader, int]:
    """The routing header and the payload's offset; raises on anything malformed."""
    size = len(content)
    if content[:7] != PREFIX:
        if size >= 7 or not PREFIX.startswith(bytes(content)):
            versioned = _VERSIONED.match(content)
            if versioned is not None:
                raise InvalidCodecError(
                    f"M2M format version {versioned.group(1).decode()} is not supported "
                    "(this build reads version 1)"
                )
            raise DecompressionError("not an M2M frame: missing the '#M2M|1|' prefix")
        raise _truncated("incomplete prefix")
    if size < _ROUTING_START:
        raise _truncated(f"{size} bytes, the fixed header ends at {_ROUTING_START}")
    header_length, schema_code, mode_code, flag_bits, reserved = _FIXED.unpack_from(content, 7)
    schema = _SCHEMAS.get(schema_code)
    if schema is None:
        raise DecompressionError(f"unknown M2M schema 0x{schema_code:02x}")
    mode = _SECURITY_MODES.get(mode_code)
    if mode is None:
        raise DecompressionError(f"unknown M2M security mode 0x{mode_code:02x}")
    if flag_bits & ~_KNOWN_FLAGS:
        raise DecompressionError(f"reserved M2M flag bits set: 0x{flag_bits & ~_KNOWN_FLAGS:08x}")
    if reserved != _RESERVED:
        raise DecompressionError("reserved M2M header bytes are not zero")
    if header_length < _MIN_HEADER_LENGTH:
        raise DecompressionError(f"M2M header length {header_length} is below 27")
    routing_end = 7 + header_length
    payload_start = routing_end + _TRAILER.size
    if size < payload_start:
        raise _truncated(f"{size} bytes, the header announces {payload_start}")
    flags = Flags(flag_bits)
    # Routing header: every read stays below routing_end, checked before it is made.
    pos = _ROUTING_START
    model_length = content[pos]
    pos += 1
    if pos + model_length + 2 > routing_end:
        raise DecompressionError("M2M routing header overruns its header length (model)")
    try:
        model = content[pos : pos + model_length].decode("utf-8")
    except UnicodeDecodeError:
        raise DecompressionError("M2M model name is not UTF-8") from None
    pos += model_length
    (count,) = _U16.unpack_from(content, pos)
    pos += 2
    role_bytes = (count + 3) >> 2
    options = 4 * (bool(flags & Flags.HAS_MAX_TOKENS) + bool(flags & Flags.HAS_COST))
    if pos + role_bytes + 4 + options != routing_end:
        raise DecompressionError(
            f"M2M header length {header_length} does not match its routing header"
        )
    packed = content[pos : pos + role_bytes]
    pos += role_bytes
    if count & 3 and packed[-1] >> ((count & 3) << 1):
        raise DecompressionError("M2M role padding bits are not zero")
    roles = tuple(ROLE_NAMES[(packed[i >> 2] >> ((i & 3) << 1)) & 3] for i in range(count))
    (content_size,) = _U32.unpack_from(content, pos)
    pos += 4
    max_tokens: int | None = None
    if flags & Flags.HAS_MAX_TOKENS:
        (max_tokens,) = _U32.unpack_from(content, pos)
        pos += 4
    cost: float | None = None
    if flags & Flags.HAS_COST:
        (cost,) = _F32.unpack_from(content, pos)
        if not (math.isfinite(cost) and cost >= 0):
            raise DecompressionError(f"M2M cost estimate {cost} is not a finite amount >= 0")
    payload_length, crc = _TRAILER.unpack_from(content, routing_end)
    end = payload_start + payload_length
    expected = end + HMAC_TAG_SIZE if mode is SecurityMode.HMAC_SHA256 else end
    if size < expected:
        raise _truncated(f"{size} bytes, the payload length announces {expected}")
    if size > expected:
        raise DecompressionError(f"{size - expected} stray bytes after the M2M payload")
    if mode is SecurityMode.CHACHA20_POLY1305 and payload_length < _aead.OVERHEAD:
        raise DecompressionError(
            f"M2M AEAD payload of {payload_length} bytes is shorter than nonce + tag (28)"
        )
    header = RoutingHeader(
        schema=schema,
        security_mode=mode,
        flags=flags,
        model=model,
        message_count=count,
        roles=roles,
        content_size=content_size,
        max_tokens=max_tokens,
        cost_estimate=cost,
        payload_length=payload_length,
        crc32=crc,
    )
    return header, payload_start


def inspect(content: bytes) -> RoutingHeader:
    """The routing header of the M2M frame ``content``, validated, without decompressing.

    Raises ``DecompressionError`` for a malformed or truncated frame (the payload itself is not
    checked: a corrupt payload is found by :func:`decode`), ``InvalidCodecError`` for another
    M2M format version.
    """
    return _read_header(content)[0]


def decode(content: bytes, max_size: int, *, key: KeyLike | None = None) -> bytes:
    """The original JSON bytes of the M2M frame ``content``, at most ``max_size`` bytes.

    Validates the whole frame; with ``key``, verifies the HMAC tag (mode 0x01) or decrypts
    (mode 0x02) before anything is decompressed; then decompresses with the cap and checks the
    CRC. Without ``key`` only mode 0x00 decodes; with ``key`` a mode-0x00 frame is refused (the
    downgrade rule of the module doc). Raises ``DecompressionError`` (``InvalidCodecError`` for
    another format version), ``HmacError`` / ``AeadError`` when authentication fails, and never
    returns partial output.
    """
    header, start = _read_header(content)
    mode = header.security_mode
    end = start + header.payload_length
    if mode is SecurityMode.NONE:
        if key is not None:
            raise DecompressionError(
                "M2M frame is unprotected (security mode 0x00) but a key was given: refused, "
                "a protected frame may have been downgraded"
            )
        payload = content[start:end]
    elif key is None:
        raise DecompressionError(f"security mode 0x{mode.value:02x} ({mode.name}) needs a key")
    elif mode is SecurityMode.HMAC_SHA256:
        _mac.verify(key, content[:end], content[end : end + HMAC_TAG_SIZE])
        payload = content[start:end]
    else:
        payload = _aead.decrypt(key, content[start:end], content[:start])
    data = _brotli.decode(payload, max_size)
    crc = zlib.crc32(data)
    if crc != header.crc32:
        raise DecompressionError(
            f"M2M CRC32 mismatch: the frame says {header.crc32:08x}, the payload is {crc:08x}"
        )
    return data
