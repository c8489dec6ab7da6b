"""The error vocabulary of m2m-session, one class per variant of the seed's ``M2MError``.

Every failure the library reports is an :class:`M2MError`. Each class carries ``variant`` (the
seed's name), a stable machine ``code`` and an ``http_status`` for proxies; ``to_dict()`` gives
the seed's JSON error response. Wrapped causes are kept as ``__cause__`` so :func:`error_chain`
prints the seed's "Caused by:" lines.
"""

from __future__ import annotations

import enum
import json
from typing import Any, ClassVar

from m2m_session.codes import RejectCode

__all__ = [
    "AeadError",
    "CapabilityMismatchError",
    "CompressionError",
    "ConfigError",
    "ContentBlockedError",
    "CryptoError",
    "DecompressionError",
    "HmacError",
    "IdError",
    "InferenceError",
    "InvalidCodecError",
    "InvalidMessageError",
    "IoError",
    "JsonError",
    "KeyExchangeError",
    "KeyMaterialError",
    "KeyringError",
    "M2MError",
    "ModelLoadError",
    "ModelNotFoundError",
    "ModelNotLoadedError",
    "NegotiationFailed",
    "NetworkError",
    "NonceError",
    "ProtocolError",
    "SecurityThreatError",
    "ServerError",
    "SessionExpired",
    "SessionNotEstablished",
    "TokenizerError",
    "UpstreamError",
    "error_chain",
]


class M2MError(Exception):
    """Base of every error m2m-session raises."""

    variant: ClassVar[str] = "M2MError"
    code: ClassVar[str] = "M2M_ERROR"
    http_status: ClassVar[int] = 500
    #: Display prefix; the message follows after ": " when there is one.
    label: ClassVar[str] = "M2M error"

    def __init__(self, message: str = "", *, details: dict[str, Any] | None = None) -> None:
        self.message = message
        self.details: dict[str, Any] = dict(details) if details else {}
        super().__init__(message)

    def __str__(self) -> str:
        return f"{self.label}: {self.message}" if self.message else self.label

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"

    def to_dict(self) -> dict[str, Any]:
        """The seed's JSON error response: ``{"error": {"code", "message", ...}}``."""
        body: dict[str, Any] = {"code": self.code, "message": str(self)}
        if self.details:
            body["details"] = dict(self.details)
        return {"error": body}

    def __reduce__(self) -> tuple[Any, ...]:
        # Subclasses take other constructor arguments: rebuild without __init__, restore state.
        return (_rebuild, (type(self), self.args), self.__dict__)

    def to_json(self) -> str:
        """:meth:`to_dict` serialised as compact JSON."""
        return json.dumps(self.to_dict(), separators=(",", ":"), ensure_ascii=False)


def _rebuild(cls: type[M2MError], args: tuple[Any, ...]) -> M2MError:
    return cls.__new__(cls, *args)


def error_chain(error: BaseException) -> str:
    """Render ``error`` and its ``__cause__`` chain the way the seed prints it."""
    lines = [f"Error: {error}"]
    cause = error.__cause__
    while cause is not None:
        lines.append(f"  Caused by: {cause}")
        cause = cause.__cause__
    return "\n".join(lines)


# --- compression ------------------------------------------------------------------------------


class CompressionError(M2MError):
    """Encoding content with a codec failed."""

    variant = "Compression"
    code = "COMPRESSION_ERROR"
    label = "Compression error"


class DecompressionError(M2MError):
    """Decoding content failed: corrupt data, wrong algorithm, or a decoded-size cap hit."""

    variant = "Decompression"
    code = "DECOMPRESSION_ERROR"
    http_status = 400
    label = "Decompression error"


class InvalidCodecError(M2MError):
    """An unknown or unsupported codec name or wire prefix."""

    variant = "InvalidCodec"
    code = "INVALID_CODEC"
    http_status = 400
    label = "Invalid codec"


# --- session ----------------------------------------------------------------------------------


class ProtocolError(M2MError):
    """The peer broke the wire contract, or the session ended on a protocol error."""

    variant = "Protocol"
    code = "PROTOCOL_ERROR"
    http_status = 400
    label = "Protocol error"


class NegotiationFailed(M2MError):
    """The server answered HELLO with REJECT; ``code`` says why."""

    variant = "NegotiationFailed"
    http_status = 400
    label = "Negotiation failed"

    def __init__(self, reject_code: str, message: str = "") -> None:
        try:
            self.reject_code: RejectCode = RejectCode(reject_code)
        except ValueError:
            self.reject_code = RejectCode.UNKNOWN
        self.server_message = message
        text = f"{self.reject_code.value}: {message}" if message else self.reject_code.value
        super().__init__(text, details={"reject_code": self.reject_code.value})

    @property
    def code(self) -> RejectCode:  # type: ignore[override]
        """The REJECT code; instances report it instead of the class's generic code."""
        return self.reject_code


class SessionNotEstablished(M2MError):
    """The operation needs an ESTABLISHED session: not yet, or no longer."""

    variant = "SessionNotEstablished"
    code = "SESSION_NOT_ESTABLISHED"
    http_status = 400
    label = "Session not established"


class SessionExpired(M2MError):
    """The session ended by TIMEOUT (idle timeout, keep-alive, or the peer's timeout)."""

    variant = "SessionExpired"
    code = "SESSION_EXPIRED"
    http_status = 400
    label = "Session expired"


class InvalidMessageError(M2MError):
    """A frame body that is not a valid message: not a map, missing key, wrong type."""

    variant = "InvalidMessage"
    code = "INVALID_MESSAGE"
    http_status = 400
    label = "Invalid message"


class CapabilityMismatchError(M2MError):
    """The peer used something outside what was negotiated."""

    variant = "CapabilityMismatch"
    code = "CAPABILITY_MISMATCH"
    http_status = 400
    label = "Capability mismatch"


# --- security ---------------------------------------------------------------------------------


class SecurityThreatError(M2MError):
    """The scanner found a threat in content."""

    variant = "SecurityThreat"
    code = "SECURITY_VIOLATION"
    http_status = 422
    label = "Security threat detected"

    def __init__(self, threat_type: str, confidence: float, message: str = "") -> None:
        self.threat_type = str(threat_type)
        self.confidence = float(confidence)
        text = message or f"{self.threat_type} (confidence {self.confidence:.2f})"
        super().__init__(
            text, details={"threat_type": self.threat_type, "confidence": self.confidence}
        )


class ContentBlockedError(M2MError):
    """Content was blocked by the security policy."""

    variant = "ContentBlocked"
    code = "SECURITY_VIOLATION"
    http_status = 422
    label = "Content blocked"


# --- cryptography -----------------------------------------------------------------------------


class CryptoError(M2MError):
    """A cryptographic operation failed; subclasses name the family, ``case`` the failure.

    ``str()`` reads "Crypto error: <family>: <case>" and ``__cause__`` holds the bare case, so
    :func:`error_chain` prints the seed's example exactly.
    """

    variant = "Crypto"
    code = "CRYPTO_ERROR"
    label = "Crypto error"
    family: ClassVar[str] = ""
    source_type: ClassVar[str] = "CryptoError"

    class Case(enum.Enum):
        """Failures of the family; values are (seed case name, display text)."""

    def __init__(self, case: CryptoError.Case, message: str = "") -> None:
        if not isinstance(case, type(self).Case):
            raise TypeError(f"{type(self).__name__} takes a {type(self).__name__}.Case")
        self.case = case
        case_name, case_text = case.value
        self.case_name: str = case_name
        text = f"{case_text}: {message}" if message else case_text
        super().__init__(f"{self.family}: {text}")
        self.__cause__ = _CryptoCause(text)

    def to_dict(self) -> dict[str, Any]:
        body = super().to_dict()
        body["error"]["source"] = f"{self.source_type}::{self.case_name}"
        return body


class _CryptoCause(Exception):
    """The innermost link of a crypto error chain: the case on its own."""


class AeadError(CryptoError):
    """ChaCha20-Poly1305 failures."""

    family = "AEAD"
    source_type = "AeadError"

    class Case(CryptoError.Case):
        INVALID_KEY = ("InvalidKey", "Invalid key: AEAD keys must be 32 bytes")
        ENCRYPTION_FAILED = ("EncryptionFailed", "Encryption failed")
        DECRYPTION_FAILED = ("DecryptionFailed", "Decryption failed: authentication tag mismatch")
        DATA_TOO_SHORT = ("DataTooShort", "Ciphertext too short: missing nonce or tag")


class HmacError(CryptoError):
    """HMAC-SHA256 failures."""

    family = "HMAC"
    source_type = "HmacError"

    class Case(CryptoError.Case):
        INVALID_KEY = ("InvalidKey", "Invalid key: HMAC key too short")
        VERIFICATION_FAILED = ("VerificationFailed", "Verification failed: tag mismatch")
        DATA_TOO_SHORT = ("DataTooShort", "Data too short: missing HMAC tag")


class KeyMaterialError(CryptoError):
    """Bad key material (the seed's ``KeyError``, renamed so no builtin is shadowed)."""

    family = "Key"
    source_type = "KeyError"

    class Case(CryptoError.Case):
        EMPTY = ("Empty", "Empty key material")
        TOO_SHORT = ("TooShort", "Key too short")


class KeyringError(CryptoError):
    """Keyring look-up and derivation failures."""

    family = "Keyring"
    source_type = "KeyringError"

    class Case(CryptoError.Case):
        KEY_NOT_FOUND = ("KeyNotFound", "Key not found in keyring")
        DERIVATION_FAILED = ("DerivationFailed", "Key derivation failed")


class NonceError(CryptoError):
    """Nonce generation failures."""

    family = "Nonce"
    source_type = "NonceError"

    class Case(CryptoError.Case):
        RNG_FAILURE = ("RngFailure", "CSPRNG failure: system RNG unavailable")


class KeyExchangeError(CryptoError):
    """X25519 key agreement failures."""

    family = "Key exchange"
    source_type = "KeyExchangeError"

    class Case(CryptoError.Case):
        INVALID_PUBLIC_KEY = ("InvalidPublicKey", "Invalid public key")
        GENERATION_FAILED = ("GenerationFailed", "Key generation failed")


class IdError(CryptoError):
    """Agent and organisation id validation failures."""

    family = "ID"
    source_type = "IdError"

    class Case(CryptoError.Case):
        EMPTY = ("Empty", "Empty ID")
        TOO_LONG = ("TooLong", "ID too long: exceeds 128 characters")
        INVALID_CHARS = (
            "InvalidChars",
            "Invalid characters: only ASCII letters, digits, '-' and '_' are allowed",
        )


# --- infrastructure ---------------------------------------------------------------------------


class NetworkError(M2MError):
    """Connecting, the handshake wait, or the connection itself failed."""

    variant = "Network"
    code = "NETWORK_ERROR"
    http_status = 502
    label = "Network error"


class UpstreamError(M2MError):
    """An upstream service (an LLM API behind a proxy) failed."""

    variant = "Upstream"
    code = "UPSTREAM_ERROR"
    http_status = 502
    label = "Upstream error"


class ServerError(M2MError):
    """The server failed internally."""

    variant = "Server"
    code = "SERVER_ERROR"
    label = "Server error"


class ConfigError(M2MError):
    """A configuration value is invalid."""

    variant = "Config"
    code = "CONFIG_ERROR"
    label = "Configuration error"


class IoError(M2MError):
    """An ``OSError`` from the operating system, kept as ``__cause__``."""

    variant = "Io"
    code = "IO_ERROR"
    label = "IO error"

    @classmethod
    def wrap(cls, error: OSError) -> IoError:
        """An ``IoError`` whose message and cause come from ``error``."""
        wrapped = cls(str(error))
        wrapped.__cause__ = error
        return wrapped


class JsonError(M2MError):
    """JSON or MessagePack that does not decode, kept as ``__cause__``."""

    variant = "Json"
    code = "JSON_ERROR"
    http_status = 400
    label = "JSON error"

    @classmethod
    def wrap(cls, error: Exception) -> JsonError:
        """A ``JsonError`` whose message and cause come from ``error``."""
        wrapped = cls(str(error) or type(error).__name__)
        wrapped.__cause__ = error
        return wrapped


# --- models and inference ---------------------------------------------------------------------


class ModelNotLoadedError(M2MError):
    """A detector or tokenizer was used before its model was loaded."""

    variant = "ModelNotLoaded"
    code = "MODEL_NOT_LOADED"
    label = "Model not loaded"


class ModelLoadError(M2MError):
    """A model file is missing or corrupt."""

    variant = "ModelLoad"
    code = "MODEL_LOAD_ERROR"
    label = "Model load error"


class ModelNotFoundError(M2MError):
    """A model name is not in the registry."""

    variant = "ModelNotFound"
    code = "MODEL_NOT_FOUND"
    http_status = 404
    label = "Model not found"


class InferenceError(M2MError):
    """A model could not handle its input."""

    variant = "Inference"
    code = "INFERENCE_ERROR"
    label = "Inference error"


class TokenizerError(M2MError):
    """A tokenizer is unavailable or cannot round-trip its input."""

    variant = "Tokenizer"
    code = "TOKENIZER_ERROR"
    label = "Tokenizer error"
