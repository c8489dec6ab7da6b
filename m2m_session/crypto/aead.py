"""ChaCha20-Poly1305 AEAD (RFC 8439) from ``cryptography``.

Wire form of :func:`encrypt` / :meth:`AeadCipher.encrypt`::

    nonce (12 bytes) || ciphertext (len(plaintext) bytes) || Poly1305 tag (16 bytes)

The associated data (optional) is authenticated but not sent. Nonces are either random (96 bits
from ``os.urandom``; fine for up to about 2**32 messages per key) or supplied by the caller
(:meth:`AeadCipher.encrypt_with_nonce`, :func:`counter_nonce`) for per-direction counters. A
nonce must never repeat under one key: that is the caller's contract with the explicit-nonce API.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from m2m_session.crypto.keys import KeyLike, fail, key_bytes, key_size, random_bytes
from m2m_session.errors import AeadError, CryptoError

__all__ = [
    "KEY_SIZE",
    "NONCE_SIZE",
    "OVERHEAD",
    "TAG_SIZE",
    "AeadCipher",
    "counter_nonce",
    "decrypt",
    "encrypt",
    "encrypt_with_nonce",
    "random_nonce",
]

KEY_SIZE = 32
NONCE_SIZE = 12
TAG_SIZE = 16
#: Bytes the wire form adds to the plaintext.
OVERHEAD = NONCE_SIZE + TAG_SIZE
_MAX_COUNTER = 2**64 - 1

_Buffer = bytes | bytearray | memoryview


def random_nonce() -> bytes:
    """12 bytes from the OS CSPRNG; ``NonceError(RNG_FAILURE)`` when it is unavailable."""
    return random_bytes(NONCE_SIZE)


def counter_nonce(counter: int, prefix: bytes = b"\x00\x00\x00\x00") -> bytes:
    """``prefix (4 bytes) || counter (8 bytes, big-endian)``, for per-direction counters.

    ``counter`` must be in ``0 .. 2**64 - 1`` (an exhausted counter is
    ``AeadError(ENCRYPTION_FAILED)``: the key must be replaced, never the counter wrapped).
    """
    if len(prefix) != 4:
        raise AeadError(AeadError.Case.ENCRYPTION_FAILED, "nonce prefix must be 4 bytes")
    if not 0 <= counter <= _MAX_COUNTER:
        raise AeadError(AeadError.Case.ENCRYPTION_FAILED, "nonce counter out of range")
    return bytes(prefix) + counter.to_bytes(8, "big")


class AeadCipher:
    """A ChaCha20-Poly1305 key ready for use; build once, encrypt and decrypt many times.

    The key must be exactly 32 bytes (``AeadError(INVALID_KEY)`` otherwise). ``cryptography``
    keeps its own copy of the key inside the cipher object; it is released with the object.
    """

    __slots__ = ("_aead",)

    def __init__(self, key: KeyLike) -> None:
        raw = key_bytes(key)
        size = key_size(raw)
        if size != KEY_SIZE:
            raise AeadError(AeadError.Case.INVALID_KEY, f"got {size} bytes")
        try:
            self._aead = ChaCha20Poly1305(raw)
        except Exception as exc:
            fail(AeadError(AeadError.Case.INVALID_KEY), exc)

    # --- wire form: nonce || ciphertext || tag --------------------------------------------

    def encrypt(self, plaintext: _Buffer, associated_data: _Buffer | None = None) -> bytes:
        """Encrypt under a fresh random nonce; returns ``nonce || ciphertext || tag``."""
        return self.encrypt_with_nonce(random_nonce(), plaintext, associated_data)

    def encrypt_with_nonce(
        self, nonce: _Buffer, plaintext: _Buffer, associated_data: _Buffer | None = None
    ) -> bytes:
        """Encrypt under the caller's ``nonce`` (never reuse one); returns the wire form."""
        return bytes(nonce) + self.seal(nonce, plaintext, associated_data)

    def decrypt(self, data: _Buffer, associated_data: _Buffer | None = None) -> bytes:
        """Check and decrypt ``nonce || ciphertext || tag``.

        ``AeadError(DATA_TOO_SHORT)`` under 28 bytes; ``AeadError(DECRYPTION_FAILED)`` when the
        tag does not match (wrong key, wrong associated data, any flipped bit).
        """
        view = memoryview(data)
        if view.nbytes < OVERHEAD:
            raise AeadError(
                AeadError.Case.DATA_TOO_SHORT, f"{view.nbytes} bytes, at least {OVERHEAD} needed"
            )
        return self.open(view[:NONCE_SIZE], view[NONCE_SIZE:], associated_data)

    # --- detached nonce: ciphertext || tag ------------------------------------------------

    def seal(
        self, nonce: _Buffer, plaintext: _Buffer, associated_data: _Buffer | None = None
    ) -> bytes:
        """``ciphertext || tag`` under ``nonce`` (12 bytes); the nonce is not included."""
        if memoryview(nonce).nbytes != NONCE_SIZE:
            raise AeadError(AeadError.Case.ENCRYPTION_FAILED, "the nonce must be 12 bytes")
        try:
            return self._aead.encrypt(nonce, plaintext, associated_data)
        except CryptoError:
            raise
        except Exception as exc:  # OverflowError for > 2**31 bytes, and the like
            fail(AeadError(AeadError.Case.ENCRYPTION_FAILED), exc)

    def open(
        self, nonce: _Buffer, ciphertext: _Buffer, associated_data: _Buffer | None = None
    ) -> bytes:
        """Check and decrypt ``ciphertext || tag`` under ``nonce``."""
        if memoryview(ciphertext).nbytes < TAG_SIZE:
            raise AeadError(AeadError.Case.DATA_TOO_SHORT, "missing the 16-byte tag")
        if memoryview(nonce).nbytes != NONCE_SIZE:
            raise AeadError(AeadError.Case.DECRYPTION_FAILED, "the nonce must be 12 bytes")
        try:
            return self._aead.decrypt(nonce, ciphertext, associated_data)
        except InvalidTag as exc:
            fail(AeadError(AeadError.Case.DECRYPTION_FAILED), exc)
        except Exception as exc:
            fail(AeadError(AeadError.Case.DECRYPTION_FAILED), exc)

    @property
    def primitive(self) -> ChaCha20Poly1305:
        """The ``cryptography`` object, for callers that check nonces themselves."""
        return self._aead

    def __repr__(self) -> str:
        return "AeadCipher(ChaCha20-Poly1305)"

    def __reduce_ex__(self, protocol: object) -> tuple[object, ...]:
        raise TypeError("AeadCipher cannot be pickled")


def encrypt(key: KeyLike, plaintext: _Buffer, associated_data: _Buffer | None = None) -> bytes:
    """One-shot :meth:`AeadCipher.encrypt` with a random nonce."""
    return AeadCipher(key).encrypt(plaintext, associated_data)


def encrypt_with_nonce(
    key: KeyLike, nonce: _Buffer, plaintext: _Buffer, associated_data: _Buffer | None = None
) -> bytes:
    """One-shot :meth:`AeadCipher.encrypt_with_nonce` (the caller guarantees uniqueness)."""
    return AeadCipher(key).encrypt_with_nonce(nonce, plaintext, associated_data)


def decrypt(key: KeyLike, data: _Buffer, associated_data: _Buffer | None = None) -> bytes:
    """One-shot :meth:`AeadCipher.decrypt` of ``nonce || ciphertext || tag``."""
    return AeadCipher(key).decrypt(data, associated_data)
