"""Session key schedule: security-mode selection and per-direction keys (sans I/O).

This is the building block the HELLO/ACCEPT wiring calls; it knows nothing of frames or
sockets. Given the X25519 shared secret of the two ephemeral keys, the *exact* HELLO and ACCEPT
frame bodies, and optionally a pre-shared key, :func:`derive_session_keys` computes::

    salt   = SHA-256( u32be(len(hello)) || hello || u32be(len(accept)) || accept )
    ikm    = shared_secret || psk                  # psk omitted when there is none
    prk    = HKDF-Extract(salt, ikm)               # HKDF-SHA256, RFC 5869
    k_c2s  = HKDF-Expand(prk, b"m2m-session-v1 c2s", 32)
    k_s2c  = HKDF-Expand(prk, b"m2m-session-v1 s2c", 32)

and returns them oriented by role: the client sends with ``k_c2s`` and receives with ``k_s2c``,
the server the other way round.

The server also proves, inside the ACCEPT itself, that it derived from the HELLO the client
sent, so a rewritten handshake fails before any DATA moves (:func:`accept_confirmation`)::

    k_conf = HKDF-SHA256(ikm, salt = SHA-256(u32be(len(hello)) || hello),
                         info = b"m2m-session-v1 confirm", 32)
    key_confirmation = HMAC-SHA256(k_conf, lp(security_mode) || lp(key_share)
                                           || lp(static_key or b"") || lp(session_id))

where ``lp(x) = u32be(len(x)) || x``. Without it, a man in the middle who cut ``AEAD`` from an
offer of ``AEAD, HMAC`` would have the client's first DATA cross in HMAC mode, readable, before
the key mismatch showed.

What this protects against (see docs/crypto.md for the full discussion):

* any change to a byte of HELLO or ACCEPT (offered modes, chosen mode, public keys, ids) gives
  the two sides different keys; a change to the HELLO or to the ACCEPT's mode and key shares
  already fails the key confirmation, before any DATA: downgrade and tampering of the
  handshake are detected;
* **without a PSK** the exchange is unauthenticated ephemeral Diffie-Hellman: a passive
  eavesdropper learns nothing, but an *active* man in the middle can run one exchange with the
  client and another with the server and relay (and read) everything in between;
* **with a PSK** (same-organisation agents, e.g. ``KeyHierarchy.shared_key(org)``) that attacker
  cannot derive either side's keys without the PSK, so his sessions fail at the key
  confirmation;
* a pinned static server key (the client's ephemeral key agreed with it is mixed into ``ikm``)
  is the cross-organisation alternative: only the holder of that key can derive the keys.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from collections.abc import Iterable, Sequence
from typing import Literal

from m2m_session.crypto import mac
from m2m_session.crypto.hierarchy import hkdf_sha256
from m2m_session.crypto.keys import (
    KeyMaterial,
    WipeOnExit,
    check_key_size,
    key_bytes,
    key_size,
    zero,
)
from m2m_session.errors import ConfigError, HmacError

__all__ = [
    "C2S_INFO",
    "CONFIRMATION_SIZE",
    "CONFIRM_INFO",
    "S2C_INFO",
    "SESSION_KEY_SIZE",
    "Role",
    "SecurityMode",
    "SessionKeys",
    "accept_confirmation",
    "check_accept_confirmation",
    "derive_session_keys",
    "parse_modes",
    "select_mode",
    "transcript_hash",
]

C2S_INFO = b"m2m-session-v1 c2s"
S2C_INFO = b"m2m-session-v1 s2c"
CONFIRM_INFO = b"m2m-session-v1 confirm"
CONFIRMATION_SIZE = 32
SESSION_KEY_SIZE = 32
_U32_MAX = 2**32 - 1

Role = Literal["client", "server"]

_Buffer = bytes | bytearray | memoryview


class SecurityMode(enum.StrEnum):
    """Per-session protection of DATA content."""

    #: ChaCha20-Poly1305 with counter nonces: confidentiality, integrity, replay protection.
    AEAD = "AEAD"
    #: HMAC-SHA256 over session id, sequence number and plaintext: integrity and replay
    #: protection, no confidentiality.
    HMAC = "HMAC"
    #: Nothing: plaintext as before.
    NONE = "NONE"


def parse_modes(modes: Iterable[str]) -> tuple[str, ...]:
    """Configured mode names, upper-cased; ``ConfigError`` for an empty list or an unknown name."""
    parsed = tuple(str(mode).upper() for mode in modes)
    unknown = [mode for mode in parsed if mode not in SecurityMode.__members__]
    if unknown or not parsed:
        raise ConfigError(f"security modes must be among {', '.join(SecurityMode)}: {unknown}")
    return parsed


def select_mode(offered: Sequence[str], acceptable: Sequence[str]) -> SecurityMode | None:
    """The first mode of ``acceptable`` (the server's preference order) the client offered.

    Unknown names on either side are ignored (a newer peer may offer modes we do not know);
    matching is exact (``"AEAD"``, ``"HMAC"``, ``"NONE"``). ``None`` when nothing matches.
    """
    known = {mode.value for mode in SecurityMode}
    offered_set = {name for name in offered if name in known}
    for name in acceptable:
        if name in known and name in offered_set:
            return SecurityMode(name)
    return None


def transcript_hash(hello_bytes: _Buffer, accept_bytes: _Buffer) -> bytes:
    """``SHA-256(u32be(len(hello)) || hello || u32be(len(accept)) || accept)`` (the HKDF salt).

    The length prefixes make the split between the two bodies unambiguous. Bodies over
    ``2**32 - 1`` bytes are refused with ``ValueError``.
    """
    return hashlib.sha256(_length_prefixed(hello_bytes, accept_bytes)).digest()


def _length_prefixed(*parts: _Buffer) -> bytes:
    """``u32be(len(p)) || p`` for each part: unambiguous concatenation."""
    out = bytearray()
    for part in parts:
        size = memoryview(part).nbytes
        if size > _U32_MAX:
            raise ValueError("handshake field too long for the transcript")
        out += size.to_bytes(4, "big")
        out += part
    return bytes(out)


def _input_key(
    shared_secret: bytes | bytearray | KeyMaterial, psk: bytes | KeyMaterial | None
) -> bytearray:
    """``shared_secret || psk`` in a buffer the caller zeroes."""
    secret = key_bytes(shared_secret)
    check_key_size(key_size(secret), what="shared secret")
    ikm = bytearray(secret)
    if psk is not None:
        try:
            ikm += _psk_bytes(psk)
        except BaseException:
            zero(ikm)
            raise
    return ikm


class SessionKeys(WipeOnExit):
    """The two 32-byte keys of one session, oriented for one side.

    ``send`` seals what this side sends, ``receive`` opens what it receives. ``transcript``
    is the (non-secret) transcript hash used as salt. ``repr`` never shows key bytes;
    :meth:`wipe` (or leaving a ``with`` block) zeroes both keys.
    """

    __slots__ = ("receive", "role", "send", "transcript")

    def __init__(
        self, send: KeyMaterial, receive: KeyMaterial, *, role: Role, transcript: bytes
    ) -> None:
        self.send = send
        self.receive = receive
        self.role: Role = role
        self.transcript = transcript

    def wipe(self) -> None:
        """Zero both keys (see :mod:`m2m_session.crypto.keys` for how far that goes)."""
        self.send.wipe()
        self.receive.wipe()

    def __repr__(self) -> str:
        return f"SessionKeys(role={self.role!r}, transcript={self.transcript[:4].hex()}...)"

    def __reduce_ex__(self, protocol: object) -> tuple[object, ...]:
        raise TypeError("SessionKeys cannot be pickled")


def _psk_bytes(psk: bytes | KeyMaterial) -> bytes | bytearray | memoryview:
    raw = key_bytes(psk)
    check_key_size(key_size(raw), what="pre-shared key")
    return raw


def derive_session_keys(
    *,
    shared_secret: bytes | KeyMaterial,
    hello_bytes: bytes,
    accept_bytes: bytes,
    role: Role,
    psk: bytes | KeyMaterial | None = None,
) -> SessionKeys:
    """Derive this side's :class:`SessionKeys` (construction in the module docstring).

    ``shared_secret`` is the raw X25519 output (``X25519KeyPair.agree``), at least 32 bytes;
    ``hello_bytes`` / ``accept_bytes`` are the exact frame bodies as sent and received;
    ``psk`` (at least 32 bytes) must be the same on both sides or the keys differ.

    Errors: ``ValueError`` for an unknown role; ``KeyMaterialError(EMPTY / TOO_SHORT)`` for a
    short secret or PSK; ``KeyringError(DERIVATION_FAILED)`` if HKDF fails.
    """
    if role not in ("client", "server"):
        raise ValueError("role must be 'client' or 'server'")
    salt = transcript_hash(hello_bytes, accept_bytes)
    ikm = _input_key(shared_secret, psk)
    c2s = s2c = bytearray()
    try:
        c2s = bytearray(hkdf_sha256(ikm, C2S_INFO, salt=salt, length=SESSION_KEY_SIZE))
        s2c = bytearray(hkdf_sha256(ikm, S2C_INFO, salt=salt, length=SESSION_KEY_SIZE))
        k_c2s = KeyMaterial(c2s, key_id="session-c2s")
        k_s2c = KeyMaterial(s2c, key_id="session-s2c")
    finally:
        zero(ikm, c2s, s2c)
    if role == "client":
        return SessionKeys(k_c2s, k_s2c, role=role, transcript=salt)
    return SessionKeys(k_s2c, k_c2s, role=role, transcript=salt)


def accept_confirmation(
    *,
    shared_secret: bytes | bytearray | KeyMaterial,
    hello_bytes: bytes,
    security_mode: str,
    key_share: bytes,
    static_key: bytes | None,
    session_id: str,
    psk: bytes | KeyMaterial | None = None,
) -> bytes:
    """The ACCEPT's ``key_confirmation`` (construction in the module docstring).

    The server computes it before encoding the ACCEPT; the client recomputes it with
    :func:`check_accept_confirmation`. It binds the exact HELLO, the chosen mode, the server's
    key shares and the session id to the shared secret (and the PSK, when there is one).
    """
    ikm = _input_key(shared_secret, psk)
    key = bytearray()
    try:
        salt = hashlib.sha256(_length_prefixed(hello_bytes)).digest()
        key = bytearray(hkdf_sha256(ikm, CONFIRM_INFO, salt=salt, length=CONFIRMATION_SIZE))
        fields = _length_prefixed(
            security_mode.encode("utf-8"), key_share, static_key or b"", session_id.encode("utf-8")
        )
        return mac.sign(key, fields)
    finally:
        zero(ikm, key)


def check_accept_confirmation(received: bytes | None, expected: bytes) -> None:
    """Compare in constant time; ``HmacError(VERIFICATION_FAILED)`` when absent or different."""
    if received is None:
        raise HmacError(
            HmacError.Case.VERIFICATION_FAILED,
            "the ACCEPT of a protected session carries no 'key_confirmation'",
        )
    if not hmac.compare_digest(received, expected):
        raise HmacError(
            HmacError.Case.VERIFICATION_FAILED,
            "ACCEPT key confirmation does not match: the handshake was altered in transit, or "
            "the two sides hold different pre-shared or static keys",
        )
