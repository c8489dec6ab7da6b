"""HKDF-SHA256 key hierarchy (PROTOCOL.md section 9) and a rotating keyring.

Construction, exactly: every key is derived *directly from the master key* (flat, not chained
org -> agent) with RFC 5869 HKDF-SHA256, no salt (HKDF then uses 32 zero bytes), ``info`` = the
UTF-8 (ASCII) bytes of the path, 32 bytes of output::

    key(path) = HKDF-SHA256(IKM = master, salt = none, info = path, L = 32)

Paths::

    m2m/v1/{org}                                org key
    m2m/v1/{org}/{agent}                        agent key
    m2m/v1/{org}/{agent}/{purpose}              agent purpose key
    m2m/v1/{org}/session/{a}:{b}/{session_id}   session key, a <= b (sorted): symmetric
    m2m/v1/{org}/shared                         organisation shared key

Test vector: master 00..1f, path ``m2m/v1/test-org/agent-001`` ->
``c87f687fae1cf5991cd0cc64e113ec09750b0d1c41338a41cd8ad90bdd60dba1``.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from m2m_session.crypto.ids import validate_id
from m2m_session.crypto.keys import (
    MIN_SYMMETRIC_KEY_SIZE,
    KeyLike,
    KeyMaterial,
    fail,
    key_bytes,
    zero,
)
from m2m_session.errors import CryptoError, IdError, KeyringError

__all__ = [
    "DERIVED_KEY_SIZE",
    "PATH_PREFIX",
    "KeyHierarchy",
    "Keyring",
    "agent_path",
    "hkdf_sha256",
    "org_path",
    "purpose_path",
    "session_path",
    "shared_path",
]

PATH_PREFIX = "m2m/v1"
DERIVED_KEY_SIZE = 32
_RESERVED_AGENT = "shared"


def hkdf_sha256(
    ikm: KeyLike, info: bytes, *, salt: bytes | None = None, length: int = DERIVED_KEY_SIZE
) -> bytes:
    """RFC 5869 HKDF-SHA256 (extract then expand) via ``cryptography``.

    ``salt=None`` means no salt (RFC 5869: a string of 32 zero bytes). Any failure (for
    example ``length`` over 255 * 32) raises ``KeyringError(DERIVATION_FAILED)`` with the
    library error chained underneath.
    """
    try:
        hkdf = HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info)
        return hkdf.derive(key_bytes(ikm))
    except CryptoError:
        raise
    except Exception as exc:
        fail(KeyringError(KeyringError.Case.DERIVATION_FAILED), exc)


# --- paths ------------------------------------------------------------------------------------


def org_path(org: str) -> str:
    """``m2m/v1/{org}``."""
    return f"{PATH_PREFIX}/{validate_id(org, 'org id')}"


def agent_path(org: str, agent: str) -> str:
    """``m2m/v1/{org}/{agent}``; the agent id ``shared`` is refused (it is the shared path)."""
    if agent == _RESERVED_AGENT:
        raise IdError(
            IdError.Case.INVALID_CHARS,
            "agent id 'shared' is reserved: its key path is the organisation's shared path",
        )
    return f"{org_path(org)}/{validate_id(agent, 'agent id')}"


def purpose_path(org: str, agent: str, purpose: str) -> str:
    """``m2m/v1/{org}/{agent}/{purpose}``; the purpose follows the id rules."""
    return f"{agent_path(org, agent)}/{validate_id(purpose, 'purpose')}"


def session_path(org: str, agent_a: str, agent_b: str, session_id: str) -> str:
    """``m2m/v1/{org}/session/{a}:{b}/{session_id}`` with the two agent ids sorted."""
    first, second = sorted((validate_id(agent_a, "agent id"), validate_id(agent_b, "agent id")))
    return f"{org_path(org)}/session/{first}:{second}/{validate_id(session_id, 'session id')}"


def shared_path(org: str) -> str:
    """``m2m/v1/{org}/shared``."""
    return f"{org_path(org)}/shared"


# --- hierarchy --------------------------------------------------------------------------------


class KeyHierarchy:
    """Derives the section-9 keys from one master key (copied into a :class:`KeyMaterial`)."""

    __slots__ = ("_master",)

    def __init__(self, master: KeyLike) -> None:
        if isinstance(master, KeyMaterial):
            self._master = KeyMaterial(master.buffer(), key_id=master.key_id)
        else:
            self._master = KeyMaterial(master, key_id="master")

    def derive(self, path: str) -> KeyMaterial:
        """``HKDF-SHA256(master, salt=None, info=path, 32)`` as a key whose id is the path."""
        info = path.encode("utf-8")
        okm = bytearray(hkdf_sha256(self._master, info))
        try:
            return KeyMaterial(okm, key_id=path)
        finally:
            zero(okm)

    def org_key(self, org: str) -> KeyMaterial:
        return self.derive(org_path(org))

    def agent_key(self, org: str, agent: str) -> KeyMaterial:
        return self.derive(agent_path(org, agent))

    def purpose_key(self, org: str, agent: str, purpose: str) -> KeyMaterial:
        return self.derive(purpose_path(org, agent, purpose))

    def session_key(self, org: str, agent_a: str, agent_b: str, session_id: str) -> KeyMaterial:
        """The same key whichever of the two agents asks (the ids are sorted in the path)."""
        return self.derive(session_path(org, agent_a, agent_b, session_id))

    def shared_key(self, org: str) -> KeyMaterial:
        return self.derive(shared_path(org))

    def wipe(self) -> None:
        """Wipe the hierarchy's copy of the master key."""
        self._master.wipe()

    def __repr__(self) -> str:
        return f"KeyHierarchy(master={self._master!r})"

    def __reduce_ex__(self, protocol: object) -> tuple[object, ...]:
        raise TypeError("KeyHierarchy cannot be pickled")


# --- keyring ----------------------------------------------------------------------------------


class Keyring:
    """Named symmetric keys with a default; rotation keeps old keys for decryption by id.

    * :meth:`add` stores a key under its id (the key's own ``key_id``, the ``key_id`` argument
      or a random ``k-<16 hex>``); the first key added becomes the default.
    * :meth:`rotate` adds a key (a fresh random one if none is given) and makes it the default;
      older keys stay available through :meth:`get`.
    * :meth:`get` of an unknown id raises ``KeyringError(KEY_NOT_FOUND)``.
    * :meth:`derive` runs HKDF-SHA256 from a stored key; failures are ``DERIVATION_FAILED``.
    """

    __slots__ = ("_default", "_keys")

    def __init__(self) -> None:
        self._keys: dict[str, KeyMaterial] = {}
        self._default: str | None = None

    def add(self, key: KeyLike, *, key_id: str | None = None, make_default: bool = False) -> str:
        """Store ``key`` (copied) and return its id; a duplicate id raises ``ValueError``."""
        if key_id is None and isinstance(key, KeyMaterial):
            key_id = key.key_id
        if key_id is None:
            key_id = f"k-{secrets.token_hex(8)}"
        if not key_id:
            raise ValueError("a key id must be a non-empty string")
        if key_id in self._keys:
            raise ValueError(f"key id {key_id!r} is already in the keyring")
        material = KeyMaterial(key_bytes(key), key_id=key_id, min_size=MIN_SYMMETRIC_KEY_SIZE)
        self._keys[key_id] = material
        if make_default or self._default is None:
            self._default = key_id
        return key_id

    def rotate(self, key: KeyLike | None = None, *, key_id: str | None = None) -> str:
        """Add ``key`` (or a fresh 32-byte random key) as the new default; return its id."""
        if key is None:
            with KeyMaterial.generate() as fresh:
                return self.add(fresh, key_id=key_id, make_default=True)
        return self.add(key, key_id=key_id, make_default=True)

    def get(self, key_id: str) -> KeyMaterial:
        """The key stored under ``key_id``; ``KeyringError(KEY_NOT_FOUND)`` when absent."""
        try:
            return self._keys[key_id]
        except KeyError as exc:
            fail(KeyringError(KeyringError.Case.KEY_NOT_FOUND), exc)

    @property
    def default_id(self) -> str:
        """Id of the default key; ``KeyringError(KEY_NOT_FOUND)`` when the keyring is empty."""
        if self._default is None:
            raise KeyringError(KeyringError.Case.KEY_NOT_FOUND, "the keyring is empty")
        return self._default

    @property
    def default(self) -> KeyMaterial:
        """The default key (see :attr:`default_id`)."""
        return self.get(self.default_id)

    def remove(self, key_id: str) -> None:
        """Wipe and forget a key; removing the default leaves the keyring without one."""
        self.get(key_id).wipe()
        del self._keys[key_id]
        if self._default == key_id:
            self._default = None

    def derive(
        self, info: str | bytes, *, key_id: str | None = None, length: int = 32
    ) -> KeyMaterial:
        """HKDF-SHA256(stored key, no salt, ``info``, ``length``) from the default or ``key_id``."""
        source = self.get(key_id) if key_id is not None else self.default
        info_bytes = info.encode("utf-8") if isinstance(info, str) else info
        okm = bytearray(hkdf_sha256(source, info_bytes, length=length))
        try:
            label = info if isinstance(info, str) else None
            return KeyMaterial(okm, key_id=label, min_size=min(length, MIN_SYMMETRIC_KEY_SIZE))
        finally:
            zero(okm)

    def ids(self) -> list[str]:
        """Ids in insertion order (oldest first)."""
        return list(self._keys)

    def wipe(self) -> None:
        """Wipe and forget every key."""
        for key in self._keys.values():
            key.wipe()
        self._keys.clear()
        self._default = None

    def __contains__(self, key_id: object) -> bool:
        return key_id in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._keys))

    def __repr__(self) -> str:
        return f"Keyring({len(self._keys)} keys, default={self._default!r})"

    def __reduce_ex__(self, protocol: object) -> tuple[object, ...]:
        raise TypeError("Keyring cannot be pickled")
