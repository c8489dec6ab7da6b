"""The error vocabulary (m2m_session.errors, m2m_session.codes) against seed/error-codes.md."""

from __future__ import annotations

import builtins
import copy
import inspect
import itertools
import json
import pickle
import re
from pathlib import Path

import pytest

from m2m_session import errors
from m2m_session.codes import CloseReason, RejectCode, ThreatType
from m2m_session.errors import (
    AeadError,
    ContentBlockedError,
    CryptoError,
    HmacError,
    IdError,
    IoError,
    JsonError,
    KeyExchangeError,
    KeyMaterialError,
    KeyringError,
    M2MError,
    NegotiationFailed,
    NonceError,
    ProtocolError,
    SecurityThreatError,
    SessionNotEstablished,
    error_chain,
)

DOCS = Path(__file__).resolve().parent.parent / "docs" / "errors.md"

# Seed variant -> (our class name, stable code, http_status).
SEED_VARIANTS: dict[str, tuple[str, str, int]] = {
    "Compression": ("CompressionError", "COMPRESSION_ERROR", 500),
    "Decompression": ("DecompressionError", "DECOMPRESSION_ERROR", 400),
    "InvalidCodec": ("InvalidCodecError", "INVALID_CODEC", 400),
    "Protocol": ("ProtocolError", "PROTOCOL_ERROR", 400),
    "NegotiationFailed": ("NegotiationFailed", "NEGOTIATION_FAILED", 400),
    "SessionNotEstablished": ("SessionNotEstablished", "SESSION_NOT_ESTABLISHED", 400),
    "SessionExpired": ("SessionExpired", "SESSION_EXPIRED", 400),
    "InvalidMessage": ("InvalidMessageError", "INVALID_MESSAGE", 400),
    "CapabilityMismatch": ("CapabilityMismatchError", "CAPABILITY_MISMATCH", 400),
    "SecurityThreat": ("SecurityThreatError", "SECURITY_VIOLATION", 422),
    "ContentBlocked": ("ContentBlockedError", "SECURITY_VIOLATION", 422),
    "Crypto": ("CryptoError", "CRYPTO_ERROR", 500),
    "Network": ("NetworkError", "NETWORK_ERROR", 502),
    "Upstream": ("UpstreamError", "UPSTREAM_ERROR", 502),
    "Server": ("ServerError", "SERVER_ERROR", 500),
    "Config": ("ConfigError", "CONFIG_ERROR", 500),
    "ModelNotLoaded": ("ModelNotLoadedError", "MODEL_NOT_LOADED", 500),
    "Inference": ("InferenceError", "INFERENCE_ERROR", 500),
    "ModelLoad": ("ModelLoadError", "MODEL_LOAD_ERROR", 500),
    "ModelNotFound": ("ModelNotFoundError", "MODEL_NOT_FOUND", 404),
    "Tokenizer": ("TokenizerError", "TOKENIZER_ERROR", 500),
    "Json": ("JsonError", "JSON_ERROR", 400),
    "Io": ("IoError", "IO_ERROR", 500),
}

# Our family class -> (seed type name, display family, seed case names).
CRYPTO_FAMILIES: dict[type[CryptoError], tuple[str, str, set[str]]] = {
    AeadError: (
        "AeadError",
        "AEAD",
        {"InvalidKey", "EncryptionFailed", "DecryptionFailed", "DataTooShort"},
    ),
    HmacError: ("HmacError", "HMAC", {"InvalidKey", "VerificationFailed", "DataTooShort"}),
    KeyMaterialError: ("KeyError", "Key", {"Empty", "TooShort"}),
    KeyringError: ("KeyringError", "Keyring", {"KeyNotFound", "DerivationFailed"}),
    NonceError: ("NonceError", "Nonce", {"RngFailure"}),
    KeyExchangeError: (
        "KeyExchangeError",
        "Key exchange",
        {"InvalidPublicKey", "GenerationFailed"},
    ),
    IdError: ("IdError", "ID", {"Empty", "TooLong", "InvalidChars"}),
}

ALL_CASES: list[CryptoError.Case] = [
    case for family in CRYPTO_FAMILIES for case in family.Case.__members__.values()
]

NAMES_WITHOUT_ERROR_SUFFIX = {"SessionNotEstablished", "SessionExpired", "NegotiationFailed"}


def _error_classes() -> list[type[M2MError]]:
    """Every public M2MError class defined in m2m_session.errors."""
    return [
        cls
        for name, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, M2MError)
        and cls.__module__ == errors.__name__
        and not name.startswith("_")
    ]


def _variant_classes() -> dict[str, type[M2MError]]:
    """Classes that declare a seed variant themselves (crypto families inherit ``Crypto``)."""
    return {
        cls.__name__: cls
        for cls in _error_classes()
        if cls is not M2MError and "variant" in vars(cls)
    }


def _sample(cls: type[M2MError]) -> M2MError:
    """An instance of ``cls`` built the way the library builds it."""
    if issubclass(cls, CryptoError):
        family = AeadError if cls is CryptoError else cls
        return family(next(iter(family.Case)))
    if cls is NegotiationFailed:
        return NegotiationFailed("SERVER_BUSY", "full")
    if cls is SecurityThreatError:
        return SecurityThreatError(ThreatType.JAILBREAK, 0.5)
    return cls("boom")


# --- the variants -----------------------------------------------------------------------------


def test_every_seed_variant_has_exactly_one_class() -> None:
    declared = [cls.variant for cls in _variant_classes().values()]
    assert sorted(declared) == sorted(SEED_VARIANTS)


@pytest.mark.parametrize(
    ("variant", "class_name", "code", "http_status"),
    [(variant, *row) for variant, row in SEED_VARIANTS.items()],
)
def test_variant_class(variant: str, class_name: str, code: str, http_status: int) -> None:
    cls = getattr(errors, class_name)
    assert issubclass(cls, M2MError)
    assert cls.variant == variant
    assert cls.http_status == http_status
    instance = _sample(cls)
    assert isinstance(instance, M2MError)
    if cls is not NegotiationFailed:  # its code is the REJECT code, tested below
        assert cls.code == code
        assert instance.code == code
        assert instance.to_dict()["error"]["code"] == code


@pytest.mark.parametrize("family", list(CRYPTO_FAMILIES))
def test_crypto_families_are_the_crypto_variant(family: type[CryptoError]) -> None:
    assert issubclass(family, CryptoError)
    assert family.variant == "Crypto"
    assert family.code == "CRYPTO_ERROR"


def test_codes_unique_except_security_violation() -> None:
    by_code: dict[str, list[str]] = {}
    for cls in _variant_classes().values():
        code = str(_sample(cls).to_dict()["error"]["code"])
        assert re.fullmatch(r"[A-Z][A-Z0-9_]*", code), code
        by_code.setdefault(code, []).append(cls.__name__)
    shared = {code: names for code, names in by_code.items() if len(names) > 1}
    assert shared == {"SECURITY_VIOLATION": ["ContentBlockedError", "SecurityThreatError"]}


# --- naming -----------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", _error_classes(), ids=lambda cls: cls.__name__)
def test_class_name_rules(cls: type[M2MError]) -> None:
    name = cls.__name__
    assert name not in dir(builtins)
    if name in NAMES_WITHOUT_ERROR_SUFFIX:
        assert not name.endswith("Error")
    else:
        assert name.endswith("Error")


def test_no_exported_name_shadows_a_builtin() -> None:
    assert not set(errors.__all__) & set(dir(builtins))


def test_seed_key_error_is_renamed() -> None:
    assert not hasattr(errors, "KeyError") or errors.KeyError is builtins.KeyError
    assert KeyMaterialError.source_type == "KeyError"


def test_all_exports_every_error_class() -> None:
    exported = set(errors.__all__)
    missing = {cls.__name__ for cls in _error_classes()} - exported
    assert not missing
    assert all(hasattr(errors, name) for name in exported)


@pytest.mark.parametrize("cls", _error_classes(), ids=lambda cls: cls.__name__)
def test_copy_and_pickle_round_trip(cls: type[M2MError]) -> None:
    error = M2MError("base") if cls is M2MError else _sample(cls)
    for clone in (copy.copy(error), pickle.loads(pickle.dumps(error))):
        assert type(clone) is type(error)
        assert clone.to_dict() == error.to_dict()


# --- str() ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "text"),
    [
        (ProtocolError("zero-length frame"), "Protocol error: zero-length frame"),
        (ProtocolError(), "Protocol error"),
        (SessionNotEstablished(), "Session not established"),
        (errors.SessionExpired(), "Session expired"),
        (errors.ConfigError("negative timeout"), "Configuration error: negative timeout"),
        (
            NegotiationFailed("RATE_LIMITED", "slow down"),
            "Negotiation failed: RATE_LIMITED: slow down",
        ),
        (NegotiationFailed("SERVER_BUSY"), "Negotiation failed: SERVER_BUSY"),
        (
            SecurityThreatError("PROMPT_INJECTION", 0.95),
            "Security threat detected: PROMPT_INJECTION (confidence 0.95)",
        ),
        (
            AeadError(AeadError.Case.DECRYPTION_FAILED),
            "Crypto error: AEAD: Decryption failed: authentication tag mismatch",
        ),
        (
            AeadError(AeadError.Case.DATA_TOO_SHORT, "12 bytes"),
            "Crypto error: AEAD: Ciphertext too short: missing nonce or tag: 12 bytes",
        ),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, M2MError) else "",
)
def test_str(error: M2MError, text: str) -> None:
    assert str(error) == text
    assert error.to_dict()["error"]["message"] == text


def test_error_chain_matches_seed_example() -> None:
    error = AeadError(AeadError.Case.DECRYPTION_FAILED)
    expected = (
        "Error: Crypto error: AEAD: Decryption failed: authentication tag mismatch\n"
        "  Caused by: Decryption failed: authentication tag mismatch"
    )
    assert error_chain(error) == expected
    with pytest.raises(AeadError) as raised:
        raise error
    assert error_chain(raised.value) == expected


def test_error_chain_without_cause_is_one_line() -> None:
    assert error_chain(ProtocolError("bad frame")) == "Error: Protocol error: bad frame"


def _raise_with_context_only() -> None:
    try:
        raise ValueError("inner")
    except ValueError:
        raise ProtocolError("outer")  # noqa: B904 - deliberately no "from"


def test_error_chain_follows_cause_not_context() -> None:
    with pytest.raises(ProtocolError) as raised:
        _raise_with_context_only()
    assert isinstance(raised.value.__context__, ValueError)
    assert error_chain(raised.value) == "Error: Protocol error: outer"


def test_raise_from_replaces_crypto_cause() -> None:
    inner = ValueError("tag mismatch")
    with pytest.raises(AeadError) as raised:
        raise AeadError(AeadError.Case.DECRYPTION_FAILED) from inner
    assert raised.value.__cause__ is inner
    assert error_chain(raised.value).splitlines()[1] == "  Caused by: tag mismatch"


# --- crypto families --------------------------------------------------------------------------


@pytest.mark.parametrize("family", list(CRYPTO_FAMILIES), ids=lambda cls: cls.__name__)
def test_family_cases_match_seed(family: type[CryptoError]) -> None:
    source_type, display, case_names = CRYPTO_FAMILIES[family]
    assert family.source_type == source_type
    assert family.family == display
    assert {case.value[0] for case in family.Case} == case_names


@pytest.mark.parametrize(
    "case", ALL_CASES, ids=lambda case: f"{type(case).__qualname__}.{case.name}"
)
def test_every_case_renders(case: CryptoError.Case) -> None:
    family = next(cls for cls in CRYPTO_FAMILIES if isinstance(case, cls.Case))
    source_type, display, _ = CRYPTO_FAMILIES[family]
    case_name, case_text = case.value
    error = family(case)
    assert error.case is case
    assert error.case_name == case_name
    assert str(error) == f"Crypto error: {display}: {case_text}"
    assert error_chain(error) == f"Error: {error}\n  Caused by: {case_text}"
    assert error.to_dict() == {
        "error": {
            "code": "CRYPTO_ERROR",
            "message": str(error),
            "source": f"{source_type}::{case_name}",
        }
    }


def test_crypto_to_dict_matches_seed_example() -> None:
    error = AeadError(AeadError.Case.DECRYPTION_FAILED)
    assert error.to_dict() == {
        "error": {
            "code": "CRYPTO_ERROR",
            "message": "Crypto error: AEAD: Decryption failed: authentication tag mismatch",
            "source": "AeadError::DecryptionFailed",
        }
    }


@pytest.mark.parametrize(
    ("family", "other"),
    list(itertools.permutations(CRYPTO_FAMILIES, 2)),
    ids=lambda cls: cls.__name__,
)
def test_foreign_case_is_a_type_error(family: type[CryptoError], other: type[CryptoError]) -> None:
    with pytest.raises(TypeError, match=family.__name__):
        family(next(iter(other.Case)))


@pytest.mark.parametrize("family", list(CRYPTO_FAMILIES), ids=lambda cls: cls.__name__)
def test_non_case_is_a_type_error(family: type[CryptoError]) -> None:
    with pytest.raises(TypeError, match=family.__name__):
        family("DecryptionFailed")  # type: ignore[arg-type]


# --- to_dict / to_json ------------------------------------------------------------------------


def test_security_threat_to_dict() -> None:
    assert SecurityThreatError(ThreatType.PROMPT_INJECTION, 0.95).to_dict() == {
        "error": {
            "code": "SECURITY_VIOLATION",
            "message": "Security threat detected: PROMPT_INJECTION (confidence 0.95)",
            "details": {"threat_type": "PROMPT_INJECTION", "confidence": 0.95},
        }
    }


def test_security_threat_custom_message_keeps_details() -> None:
    error = SecurityThreatError("JAILBREAK", 1, "Content blocked by security scanner")
    assert error.threat_type == "JAILBREAK"
    assert isinstance(error.confidence, float)
    body = error.to_dict()["error"]
    assert body["message"] == "Security threat detected: Content blocked by security scanner"
    assert body["details"] == {"threat_type": "JAILBREAK", "confidence": 1.0}


def test_content_blocked_to_dict_has_no_details() -> None:
    assert ContentBlockedError("policy").to_dict() == {
        "error": {"code": "SECURITY_VIOLATION", "message": "Content blocked: policy"}
    }


@pytest.mark.parametrize("code", list(RejectCode))
def test_negotiation_failed_carries_reject_code(code: RejectCode) -> None:
    error = NegotiationFailed(code.value, "because")
    assert error.code is code
    assert error.reject_code is code
    assert error.server_message == "because"
    assert error.to_dict() == {
        "error": {
            "code": code.value,
            "message": f"Negotiation failed: {code.value}: because",
            "details": {"reject_code": code.value},
        }
    }
    assert json.loads(error.to_json())["error"]["code"] == code.value


@pytest.mark.parametrize("raw", ["NOT_A_CODE", "", "rate_limited"])
def test_negotiation_failed_unknown_code(raw: str) -> None:
    error = NegotiationFailed(raw, "odd server")
    assert error.code is RejectCode.UNKNOWN
    assert error.server_message == "odd server"
    assert error.to_dict()["error"]["code"] == "UNKNOWN"


@pytest.mark.parametrize("cls", _error_classes(), ids=lambda cls: cls.__name__)
def test_to_json_is_valid_json(cls: type[M2MError]) -> None:
    if cls is M2MError:
        error: M2MError = M2MError("base")
    else:
        error = _sample(cls)
    text = error.to_json()
    assert json.loads(text) == error.to_dict()
    assert set(json.loads(text)["error"]) <= {"code", "message", "details", "source"}


def test_to_json_keeps_non_ascii() -> None:
    assert "café" in ProtocolError("café").to_json()


def test_details_are_copied() -> None:
    details = {"k": 1}
    error = M2MError("x", details=details)
    details["k"] = 2
    error.to_dict()["error"]["details"]["k"] = 3
    assert error.to_dict()["error"]["details"] == {"k": 1}


# --- wrapping ---------------------------------------------------------------------------------


def test_io_error_wrap_keeps_cause() -> None:
    cause = FileNotFoundError(2, "No such file or directory", "in.json")
    error = IoError.wrap(cause)
    assert isinstance(error, IoError)
    assert error.__cause__ is cause
    assert str(error) == "IO error: [Errno 2] No such file or directory: 'in.json'"
    assert error_chain(error) == (
        "Error: IO error: [Errno 2] No such file or directory: 'in.json'\n"
        "  Caused by: [Errno 2] No such file or directory: 'in.json'"
    )


def test_io_error_wrap_without_strerror() -> None:
    cause = OSError("disk on fire")
    error = IoError.wrap(cause)
    assert error.__cause__ is cause
    assert str(error) == "IO error: disk on fire"


def test_json_error_wrap_keeps_cause() -> None:
    with pytest.raises(json.JSONDecodeError) as raised:
        json.loads("{")
    error = JsonError.wrap(raised.value)
    assert isinstance(error, JsonError)
    assert error.__cause__ is raised.value
    assert str(error) == f"JSON error: {raised.value}"
    assert error.to_dict()["error"]["code"] == "JSON_ERROR"


def test_json_error_wrap_of_empty_message_uses_type_name() -> None:
    error = JsonError.wrap(ValueError())
    assert str(error) == "JSON error: ValueError"


# --- codes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("threat", "severity"),
    [
        (ThreatType.PROMPT_INJECTION, "high"),
        (ThreatType.JAILBREAK, "critical"),
        (ThreatType.DATA_EXFILTRATION, "high"),
        (ThreatType.MALFORMED_INPUT, "medium"),
        (ThreatType.EXCESSIVE_NESTING, "medium"),
    ],
)
def test_threat_severity_matches_seed(threat: ThreatType, severity: str) -> None:
    assert threat.severity == severity


def test_code_sets_match_seed() -> None:
    assert {code.value for code in RejectCode} == {
        "VERSION_MISMATCH",
        "NO_COMMON_ALGORITHM",
        "SECURITY_POLICY",
        "RATE_LIMITED",
        "SERVER_BUSY",
        "UNKNOWN",
    }
    assert {reason.value for reason in CloseReason} == {
        "NORMAL",
        "TIMEOUT",
        "ERROR",
        "CLIENT_SHUTDOWN",
        "SERVER_SHUTDOWN",
    }
    assert len(ThreatType) == 5


# --- docs -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variant", "class_name", "code"),
    [(variant, name, code) for variant, (name, code, _) in SEED_VARIANTS.items()],
)
def test_docs_row_per_variant(variant: str, class_name: str, code: str) -> None:
    rows = [
        line for line in DOCS.read_text("utf-8").splitlines() if line.startswith(f"| `{variant}` |")
    ]
    assert len(rows) == 1
    assert f"`{class_name}`" in rows[0]
    if variant != "NegotiationFailed":
        assert f"`{code}`" in rows[0]


@pytest.mark.parametrize(
    "case", ALL_CASES, ids=lambda case: f"{type(case).__qualname__}.{case.name}"
)
def test_docs_row_per_crypto_case(case: CryptoError.Case) -> None:
    family = next(cls for cls in CRYPTO_FAMILIES if isinstance(case, cls.Case))
    error = family(case)
    source = error.to_dict()["error"]["source"]
    row = f"| `{family.__name__}` | `{case.name}` | {error} | `{source}` |"
    assert row in DOCS.read_text("utf-8").splitlines()
