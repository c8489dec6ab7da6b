"""M2M v1 security modes 0x01 (HMAC-SHA256) and 0x02 (ChaCha20-Poly1305) with crypto keys."""

from __future__ import annotations

import hashlib
import hmac
import json
import struct
import zlib
from typing import Any

import brotli
import pytest
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from m2m_session import compression
from m2m_session.codecs import MAX_DECODED_SIZE, m2m
from m2m_session.codecs.m2m import (
    HMAC_TAG_SIZE,
    AeadSecurity,
    HmacSecurity,
    Security,
    SecurityMode,
)
from m2m_session.crypto import KeyMaterial
from m2m_session.errors import AeadError, CryptoError, DecompressionError, HmacError, M2MError

CAP = MAX_DECODED_SIZE
KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))

REQUEST: dict[str, Any] = {
    "model": "gpt-4o-2024-08-06",
    "messages": [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Name three prime numbers."},
        {"role": "assistant", "content": "2, 3, 5."},
        {"role": "user", "content": "And the next one?"},
    ],
    "max_tokens": 64,
    "temperature": 0.2,
}
DATA = json.dumps(REQUEST, indent=1).encode("utf-8")

MODES: list[tuple[SecurityMode, type[CryptoError]]] = [
    (SecurityMode.HMAC_SHA256, HmacError),
    (SecurityMode.CHACHA20_POLY1305, AeadError),
]


def security(mode: SecurityMode, key: bytes | KeyMaterial = KEY) -> Security:
    return HmacSecurity(key) if mode is SecurityMode.HMAC_SHA256 else AeadSecurity(key)


def payload_start(frame: bytes) -> int:
    header_length: int = struct.unpack_from("<H", frame, 7)[0]
    return 7 + header_length + 8


def patch(frame: bytes, offset: int, value: bytes) -> bytes:
    return frame[:offset] + value + frame[offset + len(value) :]


def assert_verification_failed(error: CryptoError) -> None:
    if isinstance(error, HmacError):
        assert error.case is HmacError.Case.VERIFICATION_FAILED
    else:
        assert isinstance(error, AeadError)
        assert error.case is AeadError.Case.DECRYPTION_FAILED


# --- round trips and exact layouts ------------------------------------------------------------


@pytest.mark.parametrize(("mode", "_error"), MODES)
@pytest.mark.parametrize("as_material", [False, True])
def test_round_trip(mode: SecurityMode, _error: type[CryptoError], as_material: bool) -> None:
    key: bytes | KeyMaterial = KeyMaterial(KEY) if as_material else KEY
    frame = m2m.encode(DATA, security=security(mode, key))
    assert frame[10] == mode
    assert m2m.decode(frame, CAP, key=key) == DATA
    assert m2m.decode(frame, CAP, key=KeyMaterial(KEY)) == DATA


@pytest.mark.parametrize(("mode", "_error"), MODES)
def test_inspect_needs_no_key(mode: SecurityMode, _error: type[CryptoError]) -> None:
    frame = m2m.encode(DATA, security=security(mode))
    header = m2m.inspect(frame)
    plain = m2m.inspect(m2m.encode(DATA))
    assert header.security_mode is mode
    assert header.model == "gpt-4o-2024-08-06"
    assert header.roles == ("system", "user", "assistant", "user")
    assert header.max_tokens == 64
    assert header.crc32 == plain.crc32 == zlib.crc32(DATA)
    # The routing header bytes are the same as in the unprotected frame.
    start = payload_start(frame)
    assert frame[11 : start - 8] == m2m.encode(DATA)[11 : start - 8]


def test_hmac_layout() -> None:
    frame = m2m.encode(DATA, security=HmacSecurity(KEY))
    start = payload_start(frame)
    (payload_length,) = struct.unpack_from("<I", frame, start - 8)
    end = start + payload_length
    assert len(frame) == end + HMAC_TAG_SIZE
    assert brotli.decompress(frame[start:end]) == DATA
    # Tag = HMAC-SHA256 over offset 0 .. end of payload (routing header included).
    assert frame[end:] == hmac.new(KEY, frame[:end], hashlib.sha256).digest()


def test_aead_layout() -> None:
    frame = m2m.encode(DATA, security=AeadSecurity(KEY))
    start = payload_start(frame)
    (payload_length,) = struct.unpack_from("<I", frame, start - 8)
    assert len(frame) == start + payload_length
    nonce, sealed = frame[start : start + 12], frame[start + 12 :]
    # plaintext = the Brotli stream; AD = every byte before the payload.
    plaintext = ChaCha20Poly1305(KEY).decrypt(nonce, sealed, frame[:start])
    assert brotli.decompress(plaintext) == DATA
    assert payload_length == len(plaintext) + 28
    assert DATA[:20] not in frame
    # Random nonce: two encodings differ.
    again = m2m.encode(DATA, security=AeadSecurity(KEY))
    assert again[:start] == frame[:start]
    assert again[start : start + 12] != nonce


# --- failures ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("mode", "error"), MODES)
def test_every_single_byte_tamper_is_refused(mode: SecurityMode, error: type[CryptoError]) -> None:
    frame = m2m.encode(DATA, security=security(mode))
    start = payload_start(frame)
    routing_end = start - 8
    header = m2m.inspect(frame)
    options = 4 * ((header.max_tokens is not None) + (header.cost_estimate is not None))
    content_size_at = routing_end - options - 4
    # Bytes whose change leaves the frame well formed: the failure must be the crypto one.
    # The routing header (content_size, max_tokens), the crc32, every payload and tag byte.
    authenticated_only = {
        *range(content_size_at, content_size_at + 8),
        *range(start - 4, len(frame)),
    }
    for offset in range(len(frame)):
        for flip in (0x01, 0x80):
            tampered = patch(frame, offset, bytes([frame[offset] ^ flip]))
            with pytest.raises(M2MError) as caught:
                m2m.decode(tampered, CAP, key=KEY)
            if offset in authenticated_only or (offset == 28 and flip == 0x01):  # model "g"->"f"
                assert isinstance(caught.value, error), (offset, caught.value)
                assert_verification_failed(caught.value)


@pytest.mark.parametrize(("mode", "error"), MODES)
def test_wrong_key(mode: SecurityMode, error: type[CryptoError]) -> None:
    frame = m2m.encode(DATA, security=security(mode))
    with pytest.raises(error) as caught:
        m2m.decode(frame, CAP, key=OTHER_KEY)
    assert_verification_failed(caught.value)


@pytest.mark.parametrize(("mode", "_error"), MODES)
def test_no_key(mode: SecurityMode, _error: type[CryptoError]) -> None:
    frame = m2m.encode(DATA, security=security(mode))
    with pytest.raises(DecompressionError, match=f"security mode 0x0{int(mode)}.*needs a key"):
        m2m.decode(frame, CAP)


@pytest.mark.parametrize(("mode", "_error"), MODES)
def test_truncation_and_trailing_bytes(mode: SecurityMode, _error: type[CryptoError]) -> None:
    frame = m2m.encode(DATA, security=security(mode))
    for size in range(len(frame)):
        with pytest.raises(M2MError):
            m2m.decode(frame[:size], CAP, key=KEY)
    with pytest.raises(DecompressionError, match="stray"):
        m2m.decode(frame + b"\x00", CAP, key=KEY)


@pytest.mark.parametrize(("mode", "_error"), MODES)
def test_cap_applies_after_authentication(mode: SecurityMode, _error: type[CryptoError]) -> None:
    frame = m2m.encode(DATA, security=security(mode))
    assert m2m.decode(frame, len(DATA), key=KEY) == DATA
    with pytest.raises(DecompressionError):
        m2m.decode(frame, len(DATA) - 1, key=KEY)


def test_crc_is_still_checked_after_a_valid_hmac() -> None:
    frame = m2m.encode(DATA, security=HmacSecurity(KEY))
    start = payload_start(frame)
    body = patch(frame[:-HMAC_TAG_SIZE], start - 4, struct.pack("<I", zlib.crc32(DATA) ^ 1))
    forged = body + hmac.new(KEY, body, hashlib.sha256).digest()
    with pytest.raises(DecompressionError, match="CRC32 mismatch"):
        m2m.decode(forged, CAP, key=KEY)


def test_crc_is_still_checked_after_a_valid_aead_tag() -> None:
    frame = m2m.encode(DATA, security=AeadSecurity(KEY))
    start = payload_start(frame)
    cipher = ChaCha20Poly1305(KEY)
    plaintext = cipher.decrypt(frame[start : start + 12], frame[start + 12 :], frame[:start])
    head = patch(frame[:start], start - 4, struct.pack("<I", zlib.crc32(DATA) ^ 1))
    nonce = bytes(12)
    forged = head + nonce + cipher.encrypt(nonce, plaintext, head)
    with pytest.raises(DecompressionError, match="CRC32 mismatch"):
        m2m.decode(forged, CAP, key=KEY)


def test_short_aead_payload_is_malformed() -> None:
    frame = m2m.encode(DATA, security=AeadSecurity(KEY))
    start = payload_start(frame)
    short = patch(frame[:start], start - 8, struct.pack("<I", 27)) + frame[start : start + 27]
    with pytest.raises(DecompressionError, match="shorter than nonce"):
        m2m.inspect(short)


# --- downgrade and mode confusion ---------------------------------------------------------------


def test_hmac_downgrade_to_mode_zero_is_refused_when_a_key_is_given() -> None:
    frame = m2m.encode(DATA, security=HmacSecurity(KEY))
    downgraded = patch(frame, 10, b"\x00")[:-HMAC_TAG_SIZE]
    # A reader that accepts mode 0x00 cannot tell (this is the attack) ...
    assert m2m.decode(downgraded, CAP) == DATA
    # ... so a reader holding a key refuses every mode-0x00 frame.
    with pytest.raises(DecompressionError, match="unprotected"):
        m2m.decode(downgraded, CAP, key=KEY)


def test_key_given_for_an_unprotected_frame_is_refused() -> None:
    with pytest.raises(DecompressionError, match="unprotected"):
        m2m.decode(m2m.encode(DATA), CAP, key=KEY)


@pytest.mark.parametrize(("mode", "_error"), MODES)
def test_mode_byte_changes_are_refused(mode: SecurityMode, _error: type[CryptoError]) -> None:
    frame = m2m.encode(DATA, security=security(mode))
    for other in (0x00, 0x01, 0x02, 0x03):
        if other != mode:
            with pytest.raises(M2MError):
                m2m.decode(patch(frame, 10, bytes([other])), CAP, key=KEY)
    # HMAC frame relabelled AEAD with its tag dropped: the AEAD tag check fails.
    if mode is SecurityMode.HMAC_SHA256:
        relabelled = patch(frame, 10, b"\x02")[:-HMAC_TAG_SIZE]
        with pytest.raises(AeadError):
            m2m.decode(relabelled, CAP, key=KEY)


# --- keys ---------------------------------------------------------------------------------------


def test_key_sizes_are_checked() -> None:
    with pytest.raises(HmacError) as hmac_error:
        HmacSecurity(bytes(31))
    assert hmac_error.value.case is HmacError.Case.INVALID_KEY
    HmacSecurity(bytes(64))  # HMAC takes longer keys
    for size in (16, 31, 33, 64):
        with pytest.raises(AeadError) as aead_error:
            AeadSecurity(bytes(size))
        assert aead_error.value.case is AeadError.Case.INVALID_KEY
    frame = m2m.encode(DATA, security=HmacSecurity(KEY))
    with pytest.raises(HmacError):
        m2m.decode(frame, CAP, key=bytes(16))
    frame = m2m.encode(DATA, security=AeadSecurity(KEY))
    with pytest.raises(AeadError):
        m2m.decode(frame, CAP, key=bytes(16))


def test_security_repr_hides_the_key() -> None:
    secret = b"\xab" * 32
    for wrapper in (HmacSecurity(secret), AeadSecurity(secret)):
        assert "ab" not in repr(wrapper).lower().replace("aead", "")
        assert repr(secret) not in repr(wrapper)


# --- compression.decompress pass-through ------------------------------------------------------


@pytest.mark.parametrize(("mode", "error"), MODES)
def test_decompress_with_key(mode: SecurityMode, error: type[CryptoError]) -> None:
    frame = m2m.encode(DATA, security=security(mode))
    assert compression.decompress(frame, key=KEY) == DATA
    with pytest.raises(error):
        compression.decompress(frame, key=OTHER_KEY)
    with pytest.raises(DecompressionError, match="needs a key"):
        compression.decompress(frame)


def test_decompress_with_key_refuses_unprotected_wires() -> None:
    for algorithm in ("M2M", "BROTLI", "NONE"):
        wire = compression.compress(DATA, algorithm)
        assert compression.decompress(wire) == DATA
        with pytest.raises(DecompressionError):
            compression.decompress(wire, key=KEY)
