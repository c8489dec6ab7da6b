"""Key material held in a mutable buffer that is zeroed when released.

:class:`KeyMaterial` keeps secret bytes in a ``bytearray`` and overwrites it with zeros on
:meth:`KeyMaterial.wipe`, on leaving a ``with`` block and in ``__del__``. That is as far as
pure Python goes, and it is not all the way:

* the ``bytes`` the key was built from (a literal, a file read, an HKDF output) are immutable
  and stay in memory until the garbage collector frees them, and freed memory is not zeroed;
* every :meth:`KeyMaterial.reveal` (or any ``bytes(...)`` conversion) makes another immutable
  copy that cannot be wiped;
* the ``cryptography`` library copies the key into its own (Rust/OpenSSL) structures when a
  cipher, MAC or KDF object is built; OpenSSL usually cleanses those on free, but that happens
  when the Python object is collected, not when we wipe;
* ``__del__`` runs when CPython's reference count drops to zero (or later, for reference
  cycles, or never at interpreter shutdown), and the OS may have swapped the page out already.

So wiping shortens the lifetime of one copy of the secret; it is not a guarantee that no copy
remains. ``repr``/``str`` never show the bytes, the object refuses pickling and copying, and
equality is constant-time.
"""

from __future__ import annotations

import hmac
import os
from types import TracebackType
from typing import Any, NoReturn, Self, TypeAlias, TypeVar

from m2m_session.errors import CryptoError, KeyMaterialError, NonceError

__all__ = [
    "MIN_SYMMETRIC_KEY_SIZE",
    "KeyLike",
    "KeyMaterial",
    "random_bytes",
]

#: Symmetric keys (AEAD, HMAC, hierarchy masters) are at least this long.
MIN_SYMMETRIC_KEY_SIZE = 32

_E = TypeVar("_E", bound=CryptoError)


def chain(error: _E, cause: BaseException | None) -> _E:
    """Hang ``cause`` under the error's case link so the whole chain stays visible.

    A :class:`CryptoError` already has ``__cause__`` = the bare case; the library exception
    that triggered it goes one level deeper: error -> case -> e.g. ``InvalidTag``.
    """
    if cause is not None:
        link: BaseException = error.__cause__ if error.__cause__ is not None else error
        link.__cause__ = cause
    return error


def fail(error: CryptoError, cause: BaseException) -> NoReturn:
    """Raise ``error`` with ``cause`` chained under its case (see :func:`chain`)."""
    raise chain(error, cause)


def random_bytes(size: int) -> bytes:
    """``size`` bytes from ``os.urandom``; ``NonceError(RNG_FAILURE)`` if the OS RNG fails."""
    try:
        return os.urandom(size)
    except Exception as exc:  # NotImplementedError or OSError when no entropy source exists
        fail(NonceError(NonceError.Case.RNG_FAILURE), exc)


class WipeOnExit:
    """``with`` support for holders of secrets: leaving the block calls ``wipe()``."""

    __slots__ = ()

    def wipe(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.wipe()


class KeyMaterial(WipeOnExit):
    """Secret key bytes in a ``bytearray`` that is zeroed on release (see the module docstring).

    ``KeyMaterial(data)`` copies ``data``; it refuses empty input (``KeyMaterialError(EMPTY)``)
    and input shorter than ``min_size`` (default 32 bytes, ``KeyMaterialError(TOO_SHORT)``).
    ``key_id`` is a non-secret label shown in ``repr``.
    """

    __slots__ = ("__weakref__", "_buf", "_key_id")

    def __init__(
        self,
        data: bytes | bytearray | memoryview,
        *,
        key_id: str | None = None,
        min_size: int = MIN_SYMMETRIC_KEY_SIZE,
    ) -> None:
        self._buf = bytearray()  # set first so __del__ works even if validation fails
        self._key_id = key_id
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError("key material must be bytes-like")
        check_key_size(memoryview(data).nbytes, min_size)
        self._buf = bytearray(data)

    @classmethod
    def generate(
        cls, size: int = MIN_SYMMETRIC_KEY_SIZE, *, key_id: str | None = None
    ) -> KeyMaterial:
        """A fresh random key from the OS CSPRNG (``NonceError(RNG_FAILURE)`` if that fails)."""
        raw = bytearray(random_bytes(size))
        try:
            return cls(raw, key_id=key_id)
        finally:
            zero(raw)

    # --- access -----------------------------------------------------------------------------

    @property
    def key_id(self) -> str | None:
        """The non-secret label of this key (``None`` when unnamed)."""
        return self._key_id

    @property
    def wiped(self) -> bool:
        """True once :meth:`wipe` has run."""
        return not self._buf

    def __len__(self) -> int:
        return len(self._buf)

    def buffer(self) -> bytearray:
        """The live buffer (no copy) for handing to a primitive; do not keep a reference.

        Raises ``KeyMaterialError(EMPTY)`` once the key has been wiped.
        """
        if not self._buf:
            raise KeyMaterialError(KeyMaterialError.Case.EMPTY, "the key has been wiped")
        return self._buf

    def reveal(self) -> bytes:
        """An immutable ``bytes`` copy of the key. That copy can NOT be wiped: avoid it."""
        return bytes(self.buffer())

    # --- release ----------------------------------------------------------------------------

    def wipe(self) -> None:
        """Overwrite the buffer with zeros and empty it; idempotent."""
        zero(self._buf)
        self._buf = bytearray()

    def __del__(self) -> None:
        buf = getattr(self, "_buf", None)
        if buf:
            zero(buf)

    # --- safety -----------------------------------------------------------------------------

    def __repr__(self) -> str:
        if not self._buf:
            return f"KeyMaterial(wiped, id={self._key_id!r})"
        return f"KeyMaterial({len(self._buf)} bytes, id={self._key_id!r})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, KeyMaterial):
            return NotImplemented
        # hmac.compare_digest runs in time independent of where the buffers differ.
        return hmac.compare_digest(self._buf, other._buf)

    __hash__ = None  # type: ignore[assignment]

    def __reduce_ex__(self, protocol: Any) -> NoReturn:
        raise TypeError("KeyMaterial cannot be pickled or copied")

    def __copy__(self) -> NoReturn:
        raise TypeError("KeyMaterial cannot be pickled or copied")

    def __deepcopy__(self, memo: Any) -> NoReturn:
        raise TypeError("KeyMaterial cannot be pickled or copied")


#: What the primitives accept as a key: a :class:`KeyMaterial` or raw bytes-like data.
KeyLike: TypeAlias = KeyMaterial | bytes | bytearray | memoryview


def key_bytes(key: KeyLike) -> bytes | bytearray | memoryview:
    """The key's bytes without an extra Python-level copy where possible."""
    if isinstance(key, KeyMaterial):
        return key.buffer()
    if isinstance(key, (bytes, bytearray, memoryview)):
        return key
    raise TypeError("a key must be KeyMaterial or bytes-like")


def key_size(key: bytes | bytearray | memoryview) -> int:
    """Length in bytes of a bytes-like key."""
    return memoryview(key).nbytes


def check_key_size(size: int, min_size: int = MIN_SYMMETRIC_KEY_SIZE, what: str = "") -> None:
    """``KeyMaterialError(EMPTY)`` for 0 bytes, ``TOO_SHORT`` under ``min_size``; ``what``
    names the key in the message."""
    if size == 0:
        raise KeyMaterialError(KeyMaterialError.Case.EMPTY, what)
    if size < min_size:
        prefix = f"{what}: " if what else ""
        raise KeyMaterialError(
            KeyMaterialError.Case.TOO_SHORT, f"{prefix}{size} bytes, at least {min_size} required"
        )


def zero(*buffers: bytearray) -> None:
    """Overwrite each buffer with zeros in place (secrets that must not outlive their use)."""
    for buf in buffers:
        buf[:] = bytes(len(buf))
