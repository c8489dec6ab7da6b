"""Key material, ids, the HKDF key hierarchy and the keyring."""

from __future__ import annotations

import copy
import gc
import pickle
import weakref

import pytest

from m2m_session.crypto import (
    AgentId,
    KeyHierarchy,
    KeyMaterial,
    Keyring,
    OrgId,
    aead,
    hkdf_sha256,
    org_path,
    purpose_path,
    session_path,
    shared_path,
)
from m2m_session.errors import (
    CryptoError,
    IdError,
    KeyMaterialError,
    KeyringError,
    M2MError,
    error_chain,
)

MASTER = bytes(range(32))
SECRET = bytes.fromhex("a5" * 16 + "5a" * 16)


def assert_no_secret(error: BaseException, secret: bytes) -> None:
    """The secret appears in no rendering of the error or its chain."""
    texts = [str(error), repr(error), error_chain(error)]
    if isinstance(error, M2MError):
        texts.append(error.to_json())
    for text in texts:
        assert secret.hex() not in text
        assert repr(secret) not in text


# --- KeyMaterial ----------------------------------------------------------------------------


def test_key_material_holds_a_copy() -> None:
    key = KeyMaterial(SECRET, key_id="k1")
    assert len(key) == 32
    assert key.key_id == "k1"
    assert key.reveal() == SECRET
    assert isinstance(key.buffer(), bytearray)


def test_key_material_refuses_empty() -> None:
    with pytest.raises(KeyMaterialError) as caught:
        KeyMaterial(b"")
    assert caught.value.case is KeyMaterialError.Case.EMPTY
    assert caught.value.to_dict()["error"]["source"] == "KeyError::Empty"
    assert caught.value.to_dict()["error"]["code"] == "CRYPTO_ERROR"
    assert str(caught.value) == "Crypto error: Key: Empty key material"


@pytest.mark.parametrize("size", [1, 16, 31])
def test_key_material_refuses_short(size: int) -> None:
    with pytest.raises(KeyMaterialError) as caught:
        KeyMaterial(SECRET[:size])
    assert caught.value.case is KeyMaterialError.Case.TOO_SHORT
    assert caught.value.to_dict()["error"]["source"] == "KeyError::TooShort"
    assert_no_secret(caught.value, SECRET[:size])


def test_key_material_min_size_is_adjustable() -> None:
    assert len(KeyMaterial(b"\x01" * 16, min_size=16)) == 16


def test_key_material_never_shows_its_bytes() -> None:
    key = KeyMaterial(SECRET, key_id="k1")
    for text in (repr(key), str(key), f"{key}", f"{key!r}", repr([key]), repr({"k": key})):
        assert SECRET.hex() not in text
        assert repr(SECRET) not in text
        assert "a5" not in text
    assert repr(key) == "KeyMaterial(32 bytes, id='k1')"


def test_key_material_wipe_zeroes_the_buffer() -> None:
    key = KeyMaterial(SECRET)
    buffer = key.buffer()
    key.wipe()
    assert buffer == bytearray(32)  # the very bytearray that held the key is now zeros
    assert key.wiped
    assert len(key) == 0
    assert repr(key) == "KeyMaterial(wiped, id=None)"
    with pytest.raises(KeyMaterialError) as caught:
        key.reveal()
    assert caught.value.case is KeyMaterialError.Case.EMPTY
    key.wipe()  # idempotent


def test_key_material_context_manager_wipes() -> None:
    with KeyMaterial(SECRET) as key:
        buffer = key.buffer()
        assert buffer == SECRET
    assert buffer == bytearray(32)
    assert key.wiped


def test_key_material_wiped_on_garbage_collection() -> None:
    key = KeyMaterial(SECRET)
    buffer = key.buffer()
    ref = weakref.ref(key)
    del key
    gc.collect()
    assert ref() is None
    assert buffer == bytearray(32)


def test_key_material_is_not_picklable_or_copyable() -> None:
    key = KeyMaterial(SECRET)
    with pytest.raises(TypeError):
        pickle.dumps(key)
    with pytest.raises(TypeError):
        copy.copy(key)
    with pytest.raises(TypeError):
        copy.deepcopy(key)


def test_key_material_equality() -> None:
    assert KeyMaterial(SECRET) == KeyMaterial(SECRET, key_id="other")
    assert KeyMaterial(SECRET) != KeyMaterial(bytes(32))
    assert KeyMaterial(SECRET) != KeyMaterial(SECRET + b"x")
    assert KeyMaterial(SECRET).__eq__(SECRET) is NotImplemented
    with pytest.raises(TypeError):
        hash(KeyMaterial(SECRET))


def test_key_material_generate() -> None:
    first, second = KeyMaterial.generate(), KeyMaterial.generate(key_id="g")
    assert len(first) == 32
    assert first != second
    assert second.key_id == "g"


def test_key_material_type_check() -> None:
    with pytest.raises(TypeError):
        KeyMaterial("not bytes")  # type: ignore[arg-type]


# --- ids ------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["a", "agent-001", "A_b-9", "x" * 128])
def test_ids_accept_valid(value: str) -> None:
    assert AgentId(value) == value
    assert OrgId(value) == value
    assert repr(AgentId(value)) == f"AgentId({value!r})"


@pytest.mark.parametrize(
    ("value", "case", "source"),
    [
        ("", IdError.Case.EMPTY, "IdError::Empty"),
        ("x" * 129, IdError.Case.TOO_LONG, "IdError::TooLong"),
        ("a/b", IdError.Case.INVALID_CHARS, "IdError::InvalidChars"),
        ("a:b", IdError.Case.INVALID_CHARS, "IdError::InvalidChars"),
        ("a b", IdError.Case.INVALID_CHARS, "IdError::InvalidChars"),
        ("agent\n", IdError.Case.INVALID_CHARS, "IdError::InvalidChars"),
        ("agentü", IdError.Case.INVALID_CHARS, "IdError::InvalidChars"),
        ("١٢٣", IdError.Case.INVALID_CHARS, "IdError::InvalidChars"),
    ],
)
def test_ids_reject(value: str, case: IdError.Case, source: str) -> None:
    for cls in (AgentId, OrgId):
        with pytest.raises(IdError) as caught:
            cls(value)
        assert caught.value.case is case
        assert caught.value.to_dict()["error"]["source"] == source
        assert isinstance(caught.value, CryptoError)


def test_id_of_wrong_type() -> None:
    with pytest.raises(IdError) as caught:
        AgentId(42)  # type: ignore[arg-type]
    assert caught.value.case is IdError.Case.INVALID_CHARS


# --- hierarchy ------------------------------------------------------------------------------


def test_paths() -> None:
    assert org_path("o") == "m2m/v1/o"
    assert purpose_path("o", "a", "files") == "m2m/v1/o/a/files"
    assert session_path("o", "b", "a", "sess_1") == "m2m/v1/o/session/a:b/sess_1"
    assert shared_path("o") == "m2m/v1/o/shared"


def test_paths_validate_every_segment() -> None:
    with pytest.raises(IdError):
        org_path("o/x")
    with pytest.raises(IdError):
        purpose_path("o", "a", "p/q")
    with pytest.raises(IdError):
        session_path("o", "a", "b:c", "s")
    with pytest.raises(IdError):
        session_path("o", "a", "b", "")


def test_agent_named_shared_is_reserved() -> None:
    hierarchy = KeyHierarchy(MASTER)
    with pytest.raises(IdError):
        hierarchy.agent_key("o", "shared")


def test_hierarchy_derives_the_documented_construction() -> None:
    hierarchy = KeyHierarchy(MASTER)
    for key, path in [
        (hierarchy.org_key("o"), "m2m/v1/o"),
        (hierarchy.agent_key("o", "a"), "m2m/v1/o/a"),
        (hierarchy.purpose_key("o", "a", "p"), "m2m/v1/o/a/p"),
        (hierarchy.session_key("o", "b", "a", "s1"), "m2m/v1/o/session/a:b/s1"),
        (hierarchy.shared_key("o"), "m2m/v1/o/shared"),
    ]:
        assert key.key_id == path
        assert key.reveal() == hkdf_sha256(MASTER, path.encode(), salt=None, length=32)


def test_session_keys_are_symmetric() -> None:
    hierarchy = KeyHierarchy(MASTER)
    ab = hierarchy.session_key("org", "alice", "bob", "sess_1")
    ba = hierarchy.session_key("org", "bob", "alice", "sess_1")
    assert ab == ba
    assert ab != hierarchy.session_key("org", "alice", "bob", "sess_2")
    assert ab != hierarchy.session_key("org", "alice", "carol", "sess_1")
    # A message sealed by one side opens on the other.
    assert aead.decrypt(ba, aead.encrypt(ab, b"hello", b"ad"), b"ad") == b"hello"


def test_orgs_are_isolated() -> None:
    hierarchy = KeyHierarchy(MASTER)
    assert hierarchy.org_key("org-a") != hierarchy.org_key("org-b")
    assert hierarchy.shared_key("org-a") != hierarchy.shared_key("org-b")
    assert hierarchy.agent_key("org-a", "agent") != hierarchy.agent_key("org-b", "agent")
    assert hierarchy.session_key("org-a", "x", "y", "s") != hierarchy.session_key(
        "org-b", "x", "y", "s"
    )
    # A ciphertext under one org's agent key does not open under the other's.
    sealed = aead.encrypt(hierarchy.agent_key("org-a", "agent"), b"secret")
    with pytest.raises(CryptoError):
        aead.decrypt(hierarchy.agent_key("org-b", "agent"), sealed)


def test_different_masters_give_different_keys() -> None:
    assert KeyHierarchy(MASTER).org_key("o") != KeyHierarchy(bytes(32)).org_key("o")


def test_hundred_agents_have_distinct_keys() -> None:
    hierarchy = KeyHierarchy(MASTER)
    keys = {hierarchy.agent_key("org", f"agent-{n:03d}").reveal() for n in range(100)}
    keys |= {hierarchy.org_key("org").reveal(), hierarchy.shared_key("org").reveal()}
    assert len(keys) == 102


def test_hierarchy_refuses_short_master_and_hides_it() -> None:
    with pytest.raises(KeyMaterialError) as caught:
        KeyHierarchy(SECRET[:16])
    assert caught.value.case is KeyMaterialError.Case.TOO_SHORT
    hierarchy = KeyHierarchy(KeyMaterial(SECRET, key_id="m"))
    assert SECRET.hex() not in repr(hierarchy)
    hierarchy.wipe()
    with pytest.raises(KeyMaterialError):
        hierarchy.org_key("o")


def test_derivation_failure() -> None:
    with pytest.raises(KeyringError) as caught:
        hkdf_sha256(MASTER, b"info", length=255 * 32 + 1)
    error = caught.value
    assert error.case is KeyringError.Case.DERIVATION_FAILED
    assert error.to_dict()["error"]["source"] == "KeyringError::DerivationFailed"
    assert error.__cause__ is not None
    assert isinstance(error.__cause__.__cause__, ValueError)  # cryptography's error, chained
    assert_no_secret(error, MASTER)


# --- keyring --------------------------------------------------------------------------------


def test_keyring_default_and_get() -> None:
    ring = Keyring()
    first = ring.add(KeyMaterial(SECRET), key_id="k1")
    assert first == "k1"
    assert ring.default_id == "k1"
    assert ring.get("k1").reveal() == SECRET
    assert "k1" in ring
    assert len(ring) == 1
    assert list(ring) == ["k1"]
    assert repr(ring) == "Keyring(1 keys, default='k1')"


def test_keyring_add_uses_the_material_id_or_a_random_one() -> None:
    ring = Keyring()
    assert ring.add(KeyMaterial(SECRET, key_id="named")) == "named"
    generated = ring.add(bytes(32))
    assert generated.startswith("k-")
    assert ring.default_id == "named"
    with pytest.raises(ValueError, match="already"):
        ring.add(bytes(32), key_id="named")


def test_keyring_rotation_keeps_old_keys_for_decryption() -> None:
    ring = Keyring()
    old_id = ring.rotate()
    sealed = aead.encrypt(ring.default, b"old message")
    new_id = ring.rotate()
    assert new_id != old_id
    assert ring.default_id == new_id
    assert ring.default != ring.get(old_id)
    assert aead.decrypt(ring.get(old_id), sealed) == b"old message"
    assert ring.ids() == [old_id, new_id]
    explicit = ring.rotate(KeyMaterial(SECRET), key_id="k3")
    assert explicit == "k3"
    assert ring.default_id == "k3"


def test_keyring_key_not_found() -> None:
    ring = Keyring()
    for action in (lambda: ring.get("missing"), lambda: ring.default_id, lambda: ring.default):
        with pytest.raises(KeyringError) as caught:
            action()
        assert caught.value.case is KeyringError.Case.KEY_NOT_FOUND
        assert caught.value.to_dict()["error"]["source"] == "KeyringError::KeyNotFound"
        assert str(caught.value).startswith("Crypto error: Keyring: Key not found in keyring")


def test_keyring_remove_and_wipe() -> None:
    ring = Keyring()
    ring.add(KeyMaterial(SECRET), key_id="k1")
    stored = ring.get("k1")
    ring.remove("k1")
    assert stored.wiped
    assert "k1" not in ring
    with pytest.raises(KeyringError):
        ring.default_id  # noqa: B018
    ring.add(bytes(32), key_id="k2")
    held = ring.get("k2")
    ring.wipe()
    assert held.wiped
    assert len(ring) == 0


def test_keyring_derive() -> None:
    ring = Keyring()
    ring.add(MASTER, key_id="m")
    derived = ring.derive("m2m/v1/test-org/agent-001")
    assert derived.reveal().hex().startswith("c87f687f")
    assert derived.key_id == "m2m/v1/test-org/agent-001"
    assert ring.derive(b"x", key_id="m") == ring.derive("x")
    with pytest.raises(KeyringError) as caught:
        ring.derive("x", length=255 * 32 + 1)
    assert caught.value.case is KeyringError.Case.DERIVATION_FAILED
    with pytest.raises(KeyringError) as caught:
        ring.derive("x", key_id="nope")
    assert caught.value.case is KeyringError.Case.KEY_NOT_FOUND


def test_keyring_copies_keys_and_refuses_short_ones() -> None:
    ring = Keyring()
    source = KeyMaterial(SECRET)
    ring.add(source, key_id="k")
    source.wipe()
    assert ring.get("k").reveal() == SECRET
    with pytest.raises(KeyMaterialError):
        ring.add(b"short")
    with pytest.raises(TypeError):
        pickle.dumps(ring)
