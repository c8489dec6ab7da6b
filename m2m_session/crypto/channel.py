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

Per-message cost matters here (every DATA of an encrypted session passes through), so the AEAD
paths call the primitive directly with no checks that construction already guarantees, and the
HMAC paths copy a context keyed once per channel instead of keying one per message (keying is
two SHA-256 blocks, about half the cost of a 1 KB tag). ``bench/crypto_bench.py`` measures it.
"""

from __future__ import annotations

from typing import NoReturn

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hmac as _hmac
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from m2m_session.crypto import mac
from m2m_session.crypto.aead import TAG_SIZE as AEAD_TAG_SIZE
from m2m_session.crypto.aead import AeadCipher
from m2m_session.crypto.handshake import SecurityMode
from m2m_session.crypto.keys import KeyLike, chain, fail
from m2m_session.errors import AeadError, CryptoError, HmacError

_NONCE_PREFIX = bytes(4)  # nonce = 4 zero bytes || u64be sequence
_MAC_TAG_SIZE = mac.TAG_SIZE

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
        return _MAC_TAG_SIZE
    return 0


class _Channel:
    """State shared by both directions: mode, session id, key objects, counter."""

    __slots__ = ("_cipher", "_hmac", "_mode", "_sequence", "_sid")

    def __init__(self, key: KeyLike | None, mode: SecurityMode | str, session_id: str) -> None:
        self._mode = SecurityMode(mode)
        if not isinstance(session_id, str):
            raise TypeError("session_id must be a str")
        self._sid = session_id.encode("utf-8")
        self._sequence = 0
        # Exactly one of these is set for AEAD / HMAC; NONE has neither.
        self._cipher: ChaCha20Poly1305 | None = None
        self._hmac: _hmac.HMAC | None = None
        if self._mode is SecurityMode.AEAD:
            if key is None:
                raise AeadError(AeadError.Case.INVALID_KEY, "no key given")
            self._cipher = AeadCipher(key).primitive  # AeadCipher checks the key
        elif self._mode is SecurityMode.HMAC:
            if key is None:
                raise HmacError(HmacError.Case.INVALID_KEY, "no key given")
            self._hmac = mac.keyed(key)

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

    def wipe(self) -> None:
        """Drop the key objects; the channel is then unusable.

        The keys live inside OpenSSL contexts, which OpenSSL cleanses when it frees them; Python
        cannot reach them before that (docs/crypto.md says how far wiping goes).
        """
        self._cipher = None
        self._hmac = None

    def _exhausted(self) -> CryptoError:
        message = "sequence numbers exhausted; the session must be rekeyed"
        if self._mode is SecurityMode.AEAD:
            return AeadError(AeadError.Case.ENCRYPTION_FAILED, message)
        return HmacError(HmacError.Case.INVALID_KEY, message)

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
        if sequence > MAX_SEQUENCE:
            raise self._exhausted()
        counter = sequence.to_bytes(8, "big")
        cipher = self._cipher
        if cipher is not None:
            try:
                sealed = cipher.encrypt(_NONCE_PREFIX + counter, plaintext, self._sid + counter)
            except Exception as exc:  # OverflowError for > 2**31 bytes, and the like
                fail(AeadError(AeadError.Case.ENCRYPTION_FAILED), exc)
        elif self._hmac is not None:
            ctx = self._hmac.copy()
            ctx.update(self._sid + counter)
            ctx.update(plaintext)
            sealed = bytes(plaintext) + ctx.finalize()
        elif self._mode is SecurityMode.NONE:
            sealed = bytes(plaintext)
        elif self._mode is SecurityMode.AEAD:
            raise AeadError(AeadError.Case.INVALID_KEY, "channel wiped")
        else:
            raise HmacError(HmacError.Case.INVALID_KEY, "channel wiped")
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

    def open(self, sealed: _Buffer) -> bytes:
        """Check ``sealed`` as message number :attr:`sequence` and return its plaintext.

        AEAD: ``AeadError(DATA_TOO_SHORT)`` under 16 bytes, ``AeadError(DECRYPTION_FAILED)``
        for any tampering, replay, reordering, drop, wrong key or wrong session id. HMAC: the
        same with ``HmacError(DATA_TOO_SHORT)`` under 32 bytes and
        ``HmacError(VERIFICATION_FAILED)``. Any failure poisons the channel.
        """
        sequence = self._sequence
        cipher = self._cipher
        if cipher is not None and self._poison is None and sequence <= MAX_SEQUENCE:
            counter = sequence.to_bytes(8, "big")
            try:
                plaintext = cipher.decrypt(_NONCE_PREFIX + counter, sealed, self._sid + counter)
            except Exception as exc:  # InvalidTag: tampered, replayed, reordered, dropped
                self._refuse(self._aead_failure(sealed), exc)
            self._sequence = sequence + 1
            return plaintext
        return self._open_other(sealed)

    def _open_other(self, sealed: _Buffer) -> bytes:
        """HMAC and NONE, and every refusal that does not need the cipher to decide."""
        if self._poison is not None:
            raise self._poisoned_error()
        mode = self._mode
        if mode is SecurityMode.NONE:
            self._sequence += 1
            return bytes(sealed)
        if self._sequence > MAX_SEQUENCE or (self._cipher is None and self._hmac is None):
            error: CryptoError = (
                AeadError(AeadError.Case.DECRYPTION_FAILED, "sequence exhausted or channel wiped")
                if mode is SecurityMode.AEAD
                else HmacError(
                    HmacError.Case.VERIFICATION_FAILED, "sequence exhausted or channel wiped"
                )
            )
            self._refuse(error, None)
        view = memoryview(sealed)
        size = view.nbytes
        if size < _MAC_TAG_SIZE:
            self._refuse(
                HmacError(
                    HmacError.Case.DATA_TOO_SHORT, f"{size} bytes, at least {_MAC_TAG_SIZE} needed"
                ),
                None,
            )
        assert self._hmac is not None  # AEAD with a cipher never reaches here
        body = view[: size - _MAC_TAG_SIZE]
        ctx = self._hmac.copy()
        ctx.update(self._sid + self._sequence.to_bytes(8, "big"))
        ctx.update(body)
        try:
            ctx.verify(bytes(view[size - _MAC_TAG_SIZE :]))  # constant-time comparison
        except InvalidSignature as exc:
            self._refuse(HmacError(HmacError.Case.VERIFICATION_FAILED), exc)
        self._sequence += 1
        return bytes(body)

    @staticmethod
    def _aead_failure(sealed: _Buffer) -> AeadError:
        size = memoryview(sealed).nbytes
        if size < AEAD_TAG_SIZE:
            return AeadError(
                AeadError.Case.DATA_TOO_SHORT, f"{size} bytes, at least {AEAD_TAG_SIZE} needed"
            )
        return AeadError(AeadError.Case.DECRYPTION_FAILED)

    def _refuse(self, error: CryptoError, cause: BaseException | None) -> NoReturn:
        """Poison the channel with ``error`` (``cause`` chained under it) and raise it."""
        self._poison = chain(error, cause)
        raise error

    def _poisoned_error(self) -> CryptoError:
        if self._mode is SecurityMode.AEAD:
            return AeadError(
                AeadError.Case.DECRYPTION_FAILED, "channel closed after an earlier failure"
            )
        return HmacError(
            HmacError.Case.VERIFICATION_FAILED, "channel closed after an earlier failure"
        )

    def __repr__(self) -> str:
        state = ", poisoned" if self._poison is not None else ""
        return f"OpeningChannel(mode={self._mode.value}, sequence={self._sequence}{state})"
