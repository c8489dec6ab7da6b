"""AEAD, HMAC and X25519: round trips, tampering, every error case and its ``to_dict`` source."""

from __future__ import annotations

import os
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature, InvalidTag

from m2m_session.crypto import (
    SESSION_INFO,
    AeadCipher,
    KeyMaterial,
    X25519KeyPair,
    aead,
    counter_nonce,
    exchange,
    hkdf_sha256,
    load_public_key,
    mac,
    random_nonce,
)
from m2m_session.errors import (
    AeadError,
    CryptoError,
    HmacError,
    KeyExchangeError,
    M2MError,
    NonceError,
    error_chain,
)

KEY = bytes.fromhex("c3" * 32)
OTHER_KEY = bytes.fromhex("3c" * 32)
P = 2**255 - 19


def source(error: CryptoError) -> str:
    value = error.to_dict()["error"]["source"]
    assert isinstance(value, str)
    return value


def assert_hidden(error: BaseException, *secrets: bytes) -> None:
    texts = [str(error), repr(error), error_chain(error)]
    if isinstance(error, M2MError):
        texts.append(error.to_json())
    for secret in (s for s in secrets if len(s) >= 4):  # shorter ones match by accident
        for text in texts:
            assert secret.hex() not in text
            assert repr(secret) not in text


# --- AEAD -----------------------------------------------------------------------------------


def test_aead_round_trip_and_wire_form() -> None:
    plaintext = b"the quick brown fox"
    wire = aead.encrypt(KEY, plaintext, b"ad")
    assert len(wire) == aead.NONCE_SIZE + len(plaintext) + aead.TAG_SIZE
    assert aead.decrypt(KEY, wire, b"ad") == plaintext
    cipher = AeadCipher(KeyMaterial(KEY))
    assert cipher.decrypt(wire, b"ad") == plaintext
    # nonce || seal(nonce, ...) is the wire form
    nonce = wire[: aead.NONCE_SIZE]
    assert cipher.seal(nonce, plaintext, b"ad") == wire[aead.NONCE_SIZE :]
    assert cipher.open(nonce, wire[aead.NONCE_SIZE :], b"ad") == plaintext


def test_aead_empty_plaintext_and_no_ad() -> None:
    wire = aead.encrypt(KEY, b"")
    assert len(wire) == aead.OVERHEAD
    assert aead.decrypt(KEY, wire) == b""


def test_aead_random_nonces_differ() -> None:
    assert len({aead.encrypt(KEY, b"same")[:12] for _ in range(50)}) == 50
    assert len(random_nonce()) == 12


def test_aead_counter_nonces() -> None:
    assert counter_nonce(0) == bytes(12)
    assert counter_nonce(1) == bytes(11) + b"\x01"
    assert counter_nonce(2**64 - 1, b"\x00\x00\x00\x01") == b"\x00\x00\x00\x01" + b"\xff" * 8
    cipher = AeadCipher(KEY)
    first = cipher.encrypt_with_nonce(counter_nonce(1), b"m", b"seq=1")
    assert first[:12] == counter_nonce(1)
    assert cipher.decrypt(first, b"seq=1") == b"m"
    with pytest.raises(AeadError) as caught:
        cipher.decrypt(first, b"seq=2")  # the sequence number is bound in
    assert caught.value.case is AeadError.Case.DECRYPTION_FAILED


@pytest.mark.parametrize(("counter", "prefix"), [(-1, bytes(4)), (2**64, bytes(4)), (0, b"x")])
def test_aead_counter_nonce_out_of_range(counter: int, prefix: bytes) -> None:
    with pytest.raises(AeadError) as caught:
        counter_nonce(counter, prefix)
    assert caught.value.case is AeadError.Case.ENCRYPTION_FAILED


@pytest.mark.parametrize("size", [0, 16, 31, 33, 64])
def test_aead_invalid_key(size: int) -> None:
    key = bytes(range(size))
    with pytest.raises(AeadError) as caught:
        aead.encrypt(key, b"x")
    assert caught.value.case is AeadError.Case.INVALID_KEY
    assert source(caught.value) == "AeadError::InvalidKey"
    assert_hidden(caught.value, key)


def test_aead_tamper_every_bit_fails() -> None:
    plaintext, ad = b"attack at dawn", b"session-1|seq-7"
    wire = aead.encrypt(KEY, plaintext, ad)
    cipher = AeadCipher(KEY)
    for index in range(len(wire)):
        for bit in range(8):
            tampered = bytearray(wire)
            tampered[index] ^= 1 << bit
            with pytest.raises(AeadError) as caught:
                cipher.decrypt(bytes(tampered), ad)
            assert caught.value.case is AeadError.Case.DECRYPTION_FAILED


def test_aead_decryption_failed_error_shape() -> None:
    wire = aead.encrypt(KEY, b"secret payload", b"right")
    for key, ad in ((KEY, b"wrong"), (KEY, None), (OTHER_KEY, b"right")):
        with pytest.raises(AeadError) as caught:
            aead.decrypt(key, wire, ad)
        error = caught.value
        assert error.case is AeadError.Case.DECRYPTION_FAILED
        assert source(error) == "AeadError::DecryptionFailed"
        assert error.to_dict()["error"]["code"] == "CRYPTO_ERROR"
        assert str(error) == "Crypto error: AEAD: Decryption failed: authentication tag mismatch"
        assert isinstance(error, CryptoError)
        assert isinstance(error, M2MError)
        # chain: AeadError -> the case -> cryptography's InvalidTag
        assert error.__cause__ is not None
        assert str(error.__cause__) == "Decryption failed: authentication tag mismatch"
        assert isinstance(error.__cause__.__cause__, InvalidTag)
        assert error_chain(error).splitlines()[:2] == [
            "Error: Crypto error: AEAD: Decryption failed: authentication tag mismatch",
            "  Caused by: Decryption failed: authentication tag mismatch",
        ]
        assert_hidden(error, KEY, OTHER_KEY, b"secret payload")


def test_aead_truncations() -> None:
    wire = aead.encrypt(KEY, b"0123456789")
    for size in range(aead.OVERHEAD):
        with pytest.raises(AeadError) as caught:
            aead.decrypt(KEY, wire[:size])
        assert caught.value.case is AeadError.Case.DATA_TOO_SHORT
        assert source(caught.value) == "AeadError::DataTooShort"
    for size in range(aead.OVERHEAD, len(wire)):
        with pytest.raises(AeadError) as caught:
            aead.decrypt(KEY, wire[:size])
        assert caught.value.case is AeadError.Case.DECRYPTION_FAILED
    with pytest.raises(AeadError) as caught:
        AeadCipher(KEY).open(bytes(12), bytes(15))
    assert caught.value.case is AeadError.Case.DATA_TOO_SHORT


def test_aead_bad_nonce_sizes() -> None:
    cipher = AeadCipher(KEY)
    with pytest.raises(AeadError) as caught:
        cipher.encrypt_with_nonce(bytes(8), b"x")
    assert caught.value.case is AeadError.Case.ENCRYPTION_FAILED
    assert source(caught.value) == "AeadError::EncryptionFailed"
    with pytest.raises(AeadError) as caught:
        cipher.open(bytes(8), bytes(32))
    assert caught.value.case is AeadError.Case.DECRYPTION_FAILED


def test_aead_encryption_failure_is_mapped(monkeypatch: pytest.MonkeyPatch) -> None:
    cipher = AeadCipher(KEY)

    class Broken:
        def encrypt(self, *args: Any) -> bytes:
            raise OverflowError("too large")

    monkeypatch.setattr(cipher, "_aead", Broken())
    with pytest.raises(AeadError) as caught:
        cipher.encrypt(b"x")
    assert caught.value.case is AeadError.Case.ENCRYPTION_FAILED
    assert caught.value.__cause__ is not None
    assert isinstance(caught.value.__cause__.__cause__, OverflowError)


def test_rng_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(size: int) -> bytes:
        raise NotImplementedError("no entropy source")

    monkeypatch.setattr(os, "urandom", broken)
    for action in (lambda: aead.encrypt(KEY, b"x"), random_nonce, KeyMaterial.generate):
        with pytest.raises(NonceError) as caught:
            action()
        assert caught.value.case is NonceError.Case.RNG_FAILURE
        assert source(caught.value) == "NonceError::RngFailure"
        assert caught.value.__cause__ is not None
        assert isinstance(caught.value.__cause__.__cause__, NotImplementedError)


def test_aead_cipher_repr_and_pickle() -> None:
    cipher = AeadCipher(KEY)
    assert KEY.hex() not in repr(cipher)
    with pytest.raises(TypeError):
        cipher.__reduce_ex__(2)


def test_aead_wiped_key_is_refused() -> None:
    key = KeyMaterial(KEY)
    key.wipe()
    with pytest.raises(CryptoError):
        AeadCipher(key)


# --- HMAC -----------------------------------------------------------------------------------


def test_hmac_sign_verify_append_split() -> None:
    tag = mac.sign(KEY, b"data")
    assert len(tag) == mac.TAG_SIZE
    mac.verify(KEY, b"data", tag)
    signed = mac.append(KeyMaterial(KEY), b"data")
    assert signed == b"data" + tag
    assert mac.split(signed) == (b"data", tag)
    assert mac.verify_appended(KEY, signed) == b"data"
    assert mac.verify_appended(KEY, mac.append(KEY, b"")) == b""


@pytest.mark.parametrize("size", [0, 1, 20, 31])
def test_hmac_invalid_key(size: int) -> None:
    key = bytes(range(size))
    for action in (lambda: mac.sign(key, b"x"), lambda: mac.verify(key, b"x", bytes(32))):
        with pytest.raises(HmacError) as caught:
            action()
        assert caught.value.case is HmacError.Case.INVALID_KEY
        assert source(caught.value) == "HmacError::InvalidKey"
        assert_hidden(caught.value, key)


def test_hmac_long_keys_are_fine() -> None:
    key = bytes(range(200))
    mac.verify(key, b"x", mac.sign(key, b"x"))


def test_hmac_verification_failures() -> None:
    signed = mac.append(KEY, b"payload")
    cases: list[tuple[bytes, bytes]] = [(OTHER_KEY, signed)]
    for index in range(len(signed)):
        tampered = bytearray(signed)
        tampered[index] ^= 0x01
        cases.append((KEY, bytes(tampered)))
    cases.append((KEY, signed + b"x"))  # data extended
    for key, blob in cases:
        with pytest.raises(HmacError) as caught:
            mac.verify_appended(key, blob)
        error = caught.value
        assert error.case is HmacError.Case.VERIFICATION_FAILED
        assert source(error) == "HmacError::VerificationFailed"
        assert str(error) == "Crypto error: HMAC: Verification failed: tag mismatch"
        assert error.__cause__ is not None
        assert isinstance(error.__cause__.__cause__, InvalidSignature)
        assert_hidden(error, KEY, OTHER_KEY)


def test_hmac_wrong_tag_length_fails_verification() -> None:
    tag = mac.sign(KEY, b"x")
    for bad in (tag[:16], tag + b"\x00", b""):
        with pytest.raises(HmacError) as caught:
            mac.verify(KEY, b"x", bad)
        assert caught.value.case is HmacError.Case.VERIFICATION_FAILED


def test_hmac_data_too_short() -> None:
    for size in range(mac.TAG_SIZE):
        with pytest.raises(HmacError) as caught:
            mac.verify_appended(KEY, bytes(size))
        assert caught.value.case is HmacError.Case.DATA_TOO_SHORT
        assert source(caught.value) == "HmacError::DataTooShort"


# --- X25519 ---------------------------------------------------------------------------------


def test_x25519_agreement_and_derivation() -> None:
    alice, bob = X25519KeyPair.generate(), X25519KeyPair.generate()
    assert len(alice.public_bytes()) == 32
    assert alice.public_bytes() != bob.public_bytes()
    with alice.agree(bob.public_bytes()) as shared_a, bob.agree(alice.public_bytes()) as shared_b:
        assert shared_a == shared_b
        expected = hkdf_sha256(shared_a, SESSION_INFO, salt=None)
    key_a = alice.derive_key(bob.public_bytes())
    key_b = bob.derive_key(alice.public_bytes())
    assert key_a == key_b
    assert key_a.reveal() == expected
    assert SESSION_INFO == b"m2m-session-v1"
    # the salt and info are bound in
    salted = alice.derive_key(bob.public_bytes(), salt=b"transcript-hash")
    assert salted == bob.derive_key(alice.public_bytes(), salt=b"transcript-hash")
    assert salted != key_a
    assert alice.derive_key(bob.public_bytes(), info=b"other") != key_a
    # and the derived key works with the AEAD
    assert aead.decrypt(key_b, aead.encrypt(key_a, b"hi")) == b"hi"


def test_x25519_third_party_gets_a_different_key() -> None:
    alice, bob, eve = (X25519KeyPair.generate() for _ in range(3))
    assert alice.derive_key(bob.public_bytes()) != eve.derive_key(bob.public_bytes())


@pytest.mark.parametrize("size", [0, 31, 33, 64])
def test_x25519_wrong_size_public_key(size: int) -> None:
    pair = X25519KeyPair.generate()
    with pytest.raises(KeyExchangeError) as caught:
        pair.derive_key(bytes(range(size)))
    assert caught.value.case is KeyExchangeError.Case.INVALID_PUBLIC_KEY
    assert source(caught.value) == "KeyExchangeError::InvalidPublicKey"
    with pytest.raises(KeyExchangeError):
        load_public_key(bytes(size))


@pytest.mark.parametrize("u", [0, 1, P - 1, P, P + 1], ids=["zero", "one", "p-1", "p", "p+1"])
def test_x25519_low_order_points_are_refused(u: int) -> None:
    pair = X25519KeyPair.generate()
    with pytest.raises(KeyExchangeError) as caught:
        pair.derive_key(u.to_bytes(32, "little"))
    error = caught.value
    assert error.case is KeyExchangeError.Case.INVALID_PUBLIC_KEY
    assert source(error) == "KeyExchangeError::InvalidPublicKey"
    assert error.__cause__ is not None
    assert isinstance(error.__cause__.__cause__, ValueError)  # cryptography's all-zero refusal


def test_x25519_generation_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken:
        @staticmethod
        def generate() -> None:
            raise RuntimeError("no RNG")

    monkeypatch.setattr(exchange, "X25519PrivateKey", Broken)
    with pytest.raises(KeyExchangeError) as caught:
        X25519KeyPair.generate()
    assert caught.value.case is KeyExchangeError.Case.GENERATION_FAILED
    assert source(caught.value) == "KeyExchangeError::GenerationFailed"
    assert caught.value.__cause__ is not None
    assert isinstance(caught.value.__cause__.__cause__, RuntimeError)


def test_x25519_bad_private_key() -> None:
    with pytest.raises(KeyExchangeError) as caught:
        X25519KeyPair.from_private_bytes(bytes(31))
    assert caught.value.case is KeyExchangeError.Case.GENERATION_FAILED


def test_x25519_never_shows_the_private_key() -> None:
    scalar = bytes.fromhex("77" * 32)
    pair = X25519KeyPair.from_private_bytes(scalar)
    assert scalar.hex() not in repr(pair)
    assert repr(pair).startswith("X25519KeyPair(public=")
    with pytest.raises(TypeError):
        pair.__reduce_ex__(2)
    with pytest.raises(KeyExchangeError) as caught:
        pair.agree(bytes(32))
    assert_hidden(caught.value, scalar)
