"""RFC test vectors for the crypto primitives, read from the ``cryptography-vectors`` files.

Nothing here is retyped from an RFC: every input and expected output comes out of a vector file
shipped by the ``cryptography-vectors`` package (a test dependency, same version as
``cryptography``). The only literal is the section-9 hierarchy vector from PROTOCOL.md.
"""

from __future__ import annotations

import cryptography_vectors
import pytest

from m2m_session.crypto import KeyHierarchy, X25519KeyPair, aead, agent_path, hkdf_sha256, mac
from m2m_session.crypto.mac import _hmac_sha256
from m2m_session.errors import AeadError, HmacError

Vector = dict[str, str]


def load_vectors(path: str) -> tuple[list[str], list[Vector]]:
    """Parse a NIST-style ``KEY = VALUE`` file into (comment lines, blocks started by COUNT)."""
    comments: list[str] = []
    blocks: list[Vector] = []
    with cryptography_vectors.open_vector_file(path, "r") as handle:
        for raw in handle:
            line = raw.strip()
            if not line:
                continue
            if line.startswith("#"):
                comments.append(line)
                continue
            name, _, value = line.partition("=")
            name, value = name.strip().upper(), value.strip()
            if name in ("COUNT", "LEN") and (not blocks or name in blocks[-1]):
                blocks.append({})
            blocks[-1][name] = value
    return comments, blocks


def field(vector: Vector, *names: str) -> bytes:
    """A hex field, or a double-quoted text field, under the first of ``names`` present."""
    for name in names:
        if name in vector:
            value = vector[name]
            if value.startswith('"') and value.endswith('"'):
                return value[1:-1].encode("utf-8")
            return bytes.fromhex(value)
    raise KeyError(names)


# --- HKDF-SHA256: RFC 5869 A.1-A.3 ---------------------------------------------------------

HKDF_FILE = "KDF/rfc-5869-HKDF-SHA256.txt"


def test_hkdf_file_holds_rfc5869_a1_to_a3() -> None:
    comments, vectors = load_vectors(HKDF_FILE)
    assert [v["COUNT"] for v in vectors] == ["1", "2", "3"]
    assert any("A.1" in c for c in comments)
    assert any("A.3" in c for c in comments)


@pytest.mark.parametrize("index", [0, 1, 2], ids=["A.1", "A.2", "A.3"])
def test_hkdf_rfc5869(index: int) -> None:
    vector = load_vectors(HKDF_FILE)[1][index]
    salt = field(vector, "SALT")
    okm = hkdf_sha256(
        field(vector, "IKM"),
        field(vector, "INFO"),
        salt=salt or None,  # A.3: zero-length salt, which RFC 5869 treats as "no salt"
        length=int(vector["L"]),
    )
    assert okm == field(vector, "OKM")


# --- the PROTOCOL.md section 9 hierarchy vector -------------------------------------------


def test_hierarchy_vector_section_9() -> None:
    master = bytes(range(32))
    path = agent_path("test-org", "agent-001")
    assert path == "m2m/v1/test-org/agent-001"
    expected = "c87f687fae1cf5991cd0cc64e113ec09750b0d1c41338a41cd8ad90bdd60dba1"
    with KeyHierarchy(master).agent_key("test-org", "agent-001") as key:
        assert key.reveal().hex() == expected
    # The exact construction: HKDF-SHA256, no salt, info = the path, 32 bytes, from the master.
    assert hkdf_sha256(master, path.encode(), salt=None, length=32).hex() == expected


# --- ChaCha20-Poly1305: RFC 8439 section 2.8.2 and the other shipped vectors ---------------

CHACHA_FILE = "ciphers/ChaCha20Poly1305/boringssl.txt"
OPENSSL_CHACHA_FILE = "ciphers/ChaCha20Poly1305/openssl.txt"


def test_chacha20poly1305_rfc8439_2_8_2() -> None:
    comments, vectors = load_vectors(CHACHA_FILE)
    # The file opens with the RFC 7539 (= RFC 8439) AEAD example: the "sunscreen" vector.
    assert "RFC 7539" in comments[0]
    vector = vectors[0]
    plaintext = field(vector, "IN")
    assert plaintext.startswith(b"Ladies and Gentlemen of the class of '99")
    key, nonce, ad = field(vector, "KEY"), field(vector, "NONCE"), field(vector, "AD")
    wire = aead.encrypt_with_nonce(key, nonce, plaintext, ad)
    assert wire == nonce + field(vector, "CT") + field(vector, "TAG")
    assert aead.decrypt(key, wire, ad) == plaintext


def _chacha_cases() -> list[Vector]:
    vectors = load_vectors(CHACHA_FILE)[1]
    # The file also carries 8-byte-nonce (pre-RFC) cases; the RFC construction uses 12 bytes.
    return [v for v in vectors if len(field(v, "NONCE")) == aead.NONCE_SIZE]


@pytest.mark.parametrize("vector", _chacha_cases(), ids=lambda v: f"count-{v['COUNT']}")
def test_chacha20poly1305_boringssl_vectors(vector: Vector) -> None:
    key, nonce, ad = field(vector, "KEY"), field(vector, "NONCE"), field(vector, "AD")
    plaintext = field(vector, "IN")
    wire = nonce + field(vector, "CT") + field(vector, "TAG")
    assert aead.encrypt_with_nonce(key, nonce, plaintext, ad) == wire
    assert aead.decrypt(key, wire, ad) == plaintext


@pytest.mark.parametrize("index", range(5))
def test_chacha20poly1305_openssl_vectors(index: int) -> None:
    vector = load_vectors(OPENSSL_CHACHA_FILE)[1][index]
    key, nonce, ad = field(vector, "KEY"), field(vector, "IV"), field(vector, "AAD")
    wire = nonce + field(vector, "CIPHERTEXT") + field(vector, "TAG")
    if vector.get("RESULT") == "CIPHERFINAL_ERROR":
        with pytest.raises(AeadError) as caught:
            aead.decrypt(key, wire, ad)
        assert caught.value.case is AeadError.Case.DECRYPTION_FAILED
    else:
        assert aead.decrypt(key, wire, ad) == field(vector, "PLAINTEXT")


# --- X25519: RFC 7748 ----------------------------------------------------------------------

X25519_FILE = "asymmetric/X25519/rfc7748.txt"
BASE_POINT = (9).to_bytes(32, "little")


def test_x25519_file_is_rfc7748() -> None:
    comments, vectors = load_vectors(X25519_FILE)
    assert any("rfc7748" in c for c in comments)
    assert len(vectors) == 3


@pytest.mark.parametrize("index", range(3))
def test_x25519_rfc7748_scalar_multiplication(index: int) -> None:
    vector = load_vectors(X25519_FILE)[1][index]
    pair = X25519KeyPair.from_private_bytes(field(vector, "INPUT_SCALAR"))
    with pair.agree(field(vector, "INPUT_U")) as shared:
        assert shared.reveal() == field(vector, "OUTPUT_U")


@pytest.mark.parametrize("index", range(2))
def test_x25519_rfc7748_diffie_hellman_with_file_scalars(index: int) -> None:
    """The section 6.1 construction (public = X25519(k, 9), both sides agree) on file scalars.

    ``cryptography-vectors`` ships only the section 5.2 vectors for X25519, so the two scalars
    of that file play Alice and Bob here.
    """
    vectors = load_vectors(X25519_FILE)[1]
    alice = X25519KeyPair.from_private_bytes(field(vectors[index], "INPUT_SCALAR"))
    bob = X25519KeyPair.from_private_bytes(field(vectors[1 - index], "INPUT_SCALAR"))
    with alice.agree(BASE_POINT) as public:
        assert public.reveal() == alice.public_bytes()
    with alice.agree(bob.public_bytes()) as a, bob.agree(alice.public_bytes()) as b:
        assert a == b


# --- HMAC-SHA256: RFC 4231 -----------------------------------------------------------------

HMAC_FILE = "HMAC/rfc-4231-sha256.txt"


def _hmac_cases() -> list[Vector]:
    return load_vectors(HMAC_FILE)[1]


def test_hmac_file_holds_rfc4231_cases() -> None:
    assert len(_hmac_cases()) == 6  # test cases 1-4, 6, 7 (5 is truncation, not in the file)


@pytest.mark.parametrize("vector", _hmac_cases(), ids=lambda v: f"len-{v['LEN']}")
def test_hmac_sha256_rfc4231(vector: Vector) -> None:
    key, msg, expected = field(vector, "KEY"), field(vector, "MSG"), field(vector, "MD")
    ctx = _hmac_sha256(key)  # the primitive under sign/verify, for any key length
    ctx.update(msg)
    assert ctx.finalize() == expected
    if len(key) >= mac.MIN_KEY_SIZE:
        assert mac.sign(key, msg) == expected
        mac.verify(key, msg, expected)
        assert mac.verify_appended(key, msg + expected) == msg
    else:
        # Our policy refuses the RFC's short keys (20 and 4 bytes) for sign/verify.
        with pytest.raises(HmacError) as caught:
            mac.sign(key, msg)
        assert caught.value.case is HmacError.Case.INVALID_KEY
