"""Cryptographic primitives of m2m-session, all built on the ``cryptography`` package.

* :mod:`.keys` - :class:`KeyMaterial`, secret bytes zeroed on release (as far as Python allows).
* :mod:`.ids` - :class:`AgentId` / :class:`OrgId` validation.
* :mod:`.hierarchy` - HKDF-SHA256 key hierarchy (PROTOCOL.md section 9) and :class:`Keyring`.
* :mod:`.aead` - ChaCha20-Poly1305, wire form ``nonce || ciphertext || tag``.
* :mod:`.mac` - HMAC-SHA256 with constant-time verification, tag appended.
* :mod:`.exchange` - X25519 key agreement + HKDF (info ``m2m-session-v1``).
* :mod:`.handshake` - security-mode selection and the session key schedule (transcript-salted
  HKDF, optional PSK, one key per direction).
* :mod:`.channel` - per-direction sealing (AEAD / HMAC / NONE) with implicit counters and
  replay, reorder and drop protection.

Every failure is a :class:`~m2m_session.errors.CryptoError` family error (``AeadError``,
``HmacError``, ``KeyMaterialError``, ``KeyringError``, ``NonceError``, ``KeyExchangeError``,
``IdError``) with the library exception, if any, chained under the case. See docs/crypto.md.
"""

from __future__ import annotations

from m2m_session.crypto import aead, mac
from m2m_session.crypto.aead import AeadCipher, counter_nonce, random_nonce
from m2m_session.crypto.channel import OpeningChannel, SealingChannel
from m2m_session.crypto.exchange import SESSION_INFO, X25519KeyPair, load_public_key
from m2m_session.crypto.handshake import (
    SecurityMode,
    SessionKeys,
    derive_session_keys,
    select_mode,
    transcript_hash,
)
from m2m_session.crypto.hierarchy import (
    KeyHierarchy,
    Keyring,
    agent_path,
    hkdf_sha256,
    org_path,
    purpose_path,
    session_path,
    shared_path,
)
from m2m_session.crypto.ids import AgentId, OrgId, validate_id
from m2m_session.crypto.keys import MIN_SYMMETRIC_KEY_SIZE, KeyLike, KeyMaterial, random_bytes
from m2m_session.errors import (
    AeadError,
    CryptoError,
    HmacError,
    IdError,
    KeyExchangeError,
    KeyMaterialError,
    KeyringError,
    NonceError,
)

__all__ = [
    "MIN_SYMMETRIC_KEY_SIZE",
    "SESSION_INFO",
    "AeadCipher",
    "AeadError",
    "AgentId",
    "CryptoError",
    "HmacError",
    "IdError",
    "KeyExchangeError",
    "KeyHierarchy",
    "KeyLike",
    "KeyMaterial",
    "KeyMaterialError",
    "Keyring",
    "KeyringError",
    "NonceError",
    "OpeningChannel",
    "OrgId",
    "SealingChannel",
    "SecurityMode",
    "SessionKeys",
    "X25519KeyPair",
    "aead",
    "agent_path",
    "counter_nonce",
    "derive_session_keys",
    "hkdf_sha256",
    "load_public_key",
    "mac",
    "org_path",
    "purpose_path",
    "random_bytes",
    "random_nonce",
    "select_mode",
    "session_path",
    "shared_path",
    "transcript_hash",
    "validate_id",
]
