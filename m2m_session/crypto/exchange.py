"""X25519 key agreement (RFC 7748) followed by HKDF-SHA256 with info ``m2m-session-v1``.

``derive_key`` computes::

    shared = X25519(own private key, peer public key)          # 32 bytes
    key    = HKDF-SHA256(IKM = shared, salt = salt or none, info = b"m2m-session-v1", L = 32)

Public keys must be exactly 32 bytes. A peer key that makes the shared secret all zeros (the
low-order points u = 0, 1, p - 1 and their non-canonical aliases, among others) is refused as
``KeyExchangeError(INVALID_PUBLIC_KEY)``: ``cryptography`` raises on an all-zero result and the
error is mapped, so a contributory exchange is guaranteed.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from m2m_session.crypto.hierarchy import hkdf_sha256
from m2m_session.crypto.keys import KeyMaterial, fail, zero
from m2m_session.errors import KeyExchangeError

__all__ = ["PUBLIC_KEY_SIZE", "SESSION_INFO", "X25519KeyPair", "load_public_key"]

PUBLIC_KEY_SIZE = 32
SESSION_INFO = b"m2m-session-v1"

_Buffer = bytes | bytearray | memoryview


def load_public_key(data: _Buffer) -> X25519PublicKey:
    """Parse a raw 32-byte X25519 public key; other sizes are ``INVALID_PUBLIC_KEY``."""
    size = memoryview(data).nbytes
    if size != PUBLIC_KEY_SIZE:
        raise KeyExchangeError(
            KeyExchangeError.Case.INVALID_PUBLIC_KEY, f"{size} bytes, expected {PUBLIC_KEY_SIZE}"
        )
    try:
        return X25519PublicKey.from_public_bytes(bytes(data))
    except Exception as exc:
        fail(KeyExchangeError(KeyExchangeError.Case.INVALID_PUBLIC_KEY), exc)


class X25519KeyPair:
    """An X25519 private key (held by ``cryptography``, never shown) and its public key."""

    __slots__ = ("_private", "_public")

    def __init__(self, private_key: X25519PrivateKey) -> None:
        self._private = private_key
        self._public = private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    @classmethod
    def generate(cls) -> X25519KeyPair:
        """A fresh key pair from the OS CSPRNG; ``KeyExchangeError(GENERATION_FAILED)`` if not."""
        try:
            return cls(X25519PrivateKey.generate())
        except Exception as exc:
            fail(KeyExchangeError(KeyExchangeError.Case.GENERATION_FAILED), exc)

    @classmethod
    def from_private_bytes(cls, data: _Buffer) -> X25519KeyPair:
        """Load a raw 32-byte private scalar (for test vectors and static keys)."""
        try:
            return cls(X25519PrivateKey.from_private_bytes(bytes(data)))
        except Exception as exc:
            fail(
                KeyExchangeError(KeyExchangeError.Case.GENERATION_FAILED, "invalid private key"),
                exc,
            )

    def public_bytes(self) -> bytes:
        """The raw 32-byte public key (safe to send)."""
        return self._public

    def agree(self, peer_public: _Buffer) -> KeyMaterial:
        """The raw X25519 shared secret with ``peer_public`` (use :meth:`derive_key` instead).

        ``INVALID_PUBLIC_KEY`` for a wrong size or a low-order point (all-zero result).
        """
        peer = load_public_key(peer_public)
        try:
            shared = bytearray(self._private.exchange(peer))
        except Exception as exc:  # cryptography: ValueError on an all-zero shared secret
            fail(
                KeyExchangeError(
                    KeyExchangeError.Case.INVALID_PUBLIC_KEY,
                    "low-order point: the shared secret would be all zeros",
                ),
                exc,
            )
        try:
            if not any(shared):  # defence in depth; cryptography already refuses this
                raise KeyExchangeError(
                    KeyExchangeError.Case.INVALID_PUBLIC_KEY, "all-zero shared secret"
                )
            return KeyMaterial(shared, key_id="x25519-shared")
        finally:
            zero(shared)

    def derive_key(
        self,
        peer_public: _Buffer,
        *,
        salt: bytes | None = None,
        info: bytes = SESSION_INFO,
    ) -> KeyMaterial:
        """``HKDF-SHA256(X25519(own, peer), salt, info = b"m2m-session-v1", 32)``.

        Both sides get the same key. HKDF failures surface as ``KeyringError(DERIVATION_FAILED)``.
        """
        with self.agree(peer_public) as shared:
            okm = bytearray(hkdf_sha256(shared, info, salt=salt))
        try:
            return KeyMaterial(okm, key_id=info.decode("ascii", "replace"))
        finally:
            zero(okm)

    def __repr__(self) -> str:
        return f"X25519KeyPair(public={self._public[:4].hex()}...)"

    def __reduce_ex__(self, protocol: object) -> tuple[object, ...]:
        raise TypeError("X25519KeyPair cannot be pickled")
