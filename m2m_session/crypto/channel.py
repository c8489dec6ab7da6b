"""Per-direction sealing with implicit sequence numbers and replay protection (sans I/O).

One :class:`SealingChannel` on the sending side and one :class:`OpeningChannel` on the
receiving side share a key (one direction of :class:`~m2m_session.crypto.handshake.SessionKeys`)
and a message counter that starts at 0 and goes up by one per message. The counter is never
sent: the opener always expects exactly the next number, so a replayed, reordered or dropped
message does not authenticate.

Constructions (``seq`` = u64 big-endian counter, ``sid`` = session id as UTF-8)::

    AEAD: nonce  = 00 00 00 00 || seq                       (12 bytes)
          ad     = sid || seq
          sealed = ChaCha20-Poly1305(key, nonce, plaintext, ad)   # ciphertext || 16-byte tag
    HMAC: sealed = plaintext || HMAC-SHA256(key, sid || seq || plaintext)   # 32-byte tag
    NONE: sealed = plaintext

Counter nonces are safe only because every session has fresh keys (the key schedule salts with
the handshake transcript and the ephemeral shared secret); a key must never serve two sessions
or two directions. After ``2**64`` messages the sealer refuses to continue.

Any failure to open poisons the :class:`OpeningChannel`: every later :meth:`OpeningChannel.open`
raises the same family error, because the sequence is broken and the session must close.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from m2m_session.crypto import mac
from m2m_session.crypto.aead import TAG_SIZE as AEAD_TAG_SIZE
from m2m_session.crypto.aead import AeadCipher, counter_nonce
from m2m_session.crypto.handshake import SecurityMode
from m2m_session.crypto.keys import KeyLike, KeyMaterial, fail, key_bytes
from m2m_session.errors import AeadError, CryptoError, HmacError

_NONCE_PREFIX = bytes(4)  # nonce = 4 zero bytes || u64be sequence

__all__ = ["MAX_SEQUENCE", "OpeningChannel", "SealingChannel", "sealed_overhead"]

#: The last usable sequence number; the sealer refuses message number ``2**64``.
MAX_SEQUENCE = 2**64 - 1

_Buffer = bytes | bytearray | memoryview


def sealed_overhead(mode: SecurityMode | str) -> int:
    """Bytes a sealed message adds to the plaintext: 16 (AEAD), 32 (HMAC), 0 (NONE)."""
    mode = SecurityMode(mode)
    if mode is SecurityMode.AEAD:
        return AEAD_TAG_SIZE
    if mode is SecurityMode.HMAC:
        return mac.TAG_SIZE
    return 0


class _Channel:
    """State shared by both directions: mode, session id, key objects, counter."""

    __slots__ = ("_aead", "_cipher", "_hmac_key", "_mode", "_sequence", "_sid")

    def __init__(self, key: KeyLike | None, mode: SecurityMode | str, session_id: str) -> None:
        self._mode = SecurityMode(mode)
        if not isinstance(session_id, str):
            raise TypeError("session_id must be a str")
        self._sid = session_id.encode("utf-8")
        self._sequence = 0
        self._aead: AeadCipher | None = None
        # The primitive itself, called directly on the per-message path: the checks that
        # AeadCipher makes per call hold here by construction (12-byte nonce, counter range).
        self._cipher: ChaCha20Poly1305 | None = None
        self._hmac_key: KeyMaterial | None = None
        if self._mode is SecurityMode.AEAD:
            if key is None:
                raise AeadError(AeadError.Case.INVALID_KEY, "no key given")
            self._aead = AeadCipher(key)
            self._cipher = self._aead.primitive
        elif self._mode is SecurityMode.HMAC:
            if key is None:
                raise HmacError(HmacError.Case.INVALID_KEY, "no key given")
            raw = key_bytes(key)
            size = memoryview(raw).nbytes
            if size < mac.MIN_KEY_SIZE:
                raise HmacError(
                    HmacError.Case.INVALID_KEY, f"got {size} bytes, at least 32 required"
                )
            self._hmac_key = KeyMaterial(raw, key_id="channel-hmac")

    @property
    def mode(self) -> SecurityMode:
        """The channel's :class:`SecurityMode`."""
        return self._mode

    @property
    def session_id(self) -> str:
        """The session id bound into every message."""
        return self._sid.decode("utf-8")

    @property
    def sequence(self) -> int:
        """The sequence number of the next message (the count of messages so far)."""
        return self._sequence

    def _mac_input(self, sequence: int, plaintext: _Buffer) -> bytes:
        return self._sid + sequence.to_bytes(8, "big") + bytes(plaintext)

    def _ad(self, sequence: int) -> bytes:
        return self._sid + sequence.to_bytes(8, "big")

    def wipe(self) -> None:
        """Drop the key objects (the HMAC key buffer is zeroed); the channel is then unusable."""
        self._aead = None
        self._cipher = None
        if self._hmac_key is not None:
            self._hmac_key.wipe()

    def __reduce_ex__(self, protocol: object) -> tuple[object, ...]:
        raise TypeError(f"{type(self).__name__} cannot be pickled")


class SealingChannel(_Channel):
    """The sending half: :meth:`seal` protects one message and advances the counter."""

    __slots__ = ()

    def seal(self, plaintext: _Buffer) -> bytes:
        """The sealed form of ``plaintext`` under the next sequence number (module docstring).

        AEAD: ``AeadError(ENCRYPTION_FAILED)`` once the counter is exhausted or the cipher
        fails. HMAC: ``HmacError(INVALID_KEY)`` once the counter is exhausted (the key must be
        replaced). The counter advances only when sealing succeeds.
        """
        sequence = self._sequence
        cipher = self._cipher
        if cipher is not None and sequence <= MAX_SEQUENCE:
            counter = sequence.to_bytes(8, "big")
            try:
                sealed = cipher.encrypt(_NONCE_PREFIX + counter, plaintext, self._sid + counter)
            except Exception as exc:  # OverflowError for > 2**31 bytes, and the like
                fail(AeadError(AeadError.Case.ENCRYPTION_FAILED), exc)
            self._sequence = sequence + 1
            return sealed
        if self._mode is SecurityMode.NONE:
            self._sequence = sequence + 1
            return bytes(plaintext)
        if sequence > MAX_SEQUENCE:
            if self._mode is SecurityMode.AEAD:
                raise AeadError(
                    AeadError.Case.ENCRYPTION_FAILED, "sequence numbers exhausted; rekey"
                )
            raise HmacError(HmacError.Case.INVALID_KEY, "sequence numbers exhausted; rekey")
        if self._mode is SecurityMode.AEAD:
            if self._aead is None:
                raise AeadError(AeadError.Case.INVALID_KEY, "channel wiped")
            sealed = self._aead.seal(counter_nonce(sequence), plaintext, self._ad(sequence))
        else:
            if self._hmac_key is None or self._hmac_key.wiped:
                raise HmacError(HmacError.Case.INVALID_KEY, "channel wiped")
            tag = mac.sign(self._hmac_key, self._mac_input(sequence, plaintext))
            sealed = bytes(plaintext) + tag
        self._sequence = sequence + 1
        return sealed

    def __repr__(self) -> str:
        return f"SealingChannel(mode={self._mode.value}, sequence={self._sequence})"


class OpeningChannel(_Channel):
    """The receiving half: :meth:`open` checks one message against the expected sequence."""

    __slots__ = ("_poison",)

    def __init__(self, key: KeyLike | None, mode: SecurityMode | str, session_id: str) -> None:
        super().__init__(key, mode, session_id)
        self._poison: CryptoError | None = None

    @property
    def poisoned(self) -> bool:
        """True once an open has failed; every later open then fails too."""
        return self._poison is not None

    def _poisoned_error(self) -> CryptoError:
        if self._mode is SecurityMode.AEAD:
            return AeadError(
                AeadError.Case.DECRYPTION_FAILED, "channel closed after an earlier failure"
            )
        return HmacError(
            HmacError.Case.VERIFICATION_FAILED, "channel closed after an earlier failure"
        )

    def open(self, sealed: _Buffer) -> bytes:
        """Check ``sealed`` as message number :attr:`sequence` and return its plaintext.

        AEAD: ``AeadError(DATA_TOO_SHORT)`` under 16 bytes, ``AeadError(DECRYPTION_FAILED)``
        for any tampering, replay, reordering, drop, wrong key or wrong session id. HMAC: the
        same with ``HmacError(DATA_TOO_SHORT)`` under 32 bytes and
        ``HmacError(VERIFICATION_FAILED)``. Any failure poisons the channel.
        """
        if self._poison is not None:
            raise self._poisoned_error()
        if self._mode is SecurityMode.NONE:
            self._sequence += 1
            return bytes(sealed)
        try:
            plaintext = self._open(sealed)
        except CryptoError as exc:
            self._poison = exc
            raise
        except Exception:
            self._poison = self._poisoned_error()
            raise
        self._sequence += 1
        return plaintext

    def _open(self, sealed: _Buffer) -> bytes:
        sequence = self._sequence
        if self._mode is SecurityMode.AEAD:
            if memoryview(sealed).nbytes < AEAD_TAG_SIZE:
                raise AeadError(
                    AeadError.Case.DATA_TOO_SHORT, f"at least {AEAD_TAG_SIZE} bytes needed"
                )
            cipher = self._cipher
            if sequence > MAX_SEQUENCE or cipher is None:
                raise AeadError(
                    AeadError.Case.DECRYPTION_FAILED, "sequence exhausted or channel wiped"
                )
            counter = sequence.to_bytes(8, "big")
            try:
                return cipher.decrypt(_NONCE_PREFIX + counter, sealed, self._sid + counter)
            except Exception as exc:  # InvalidTag: tampered, replayed, reordered, dropped
                fail(AeadError(AeadError.Case.DECRYPTION_FAILED), exc)
        plaintext, tag = mac.split(sealed)
        if sequence > MAX_SEQUENCE or self._hmac_key is None or self._hmac_key.wiped:
            raise HmacError(
                HmacError.Case.VERIFICATION_FAILED, "sequence exhausted or channel wiped"
            )
        mac.verify(self._hmac_key, self._mac_input(sequence, plaintext), tag)
        return plaintext

    def __repr__(self) -> str:
        state = ", poisoned" if self._poison is not None else ""
        return f"OpeningChannel(mode={self._mode.value}, sequence={self._sequence}{state})"
