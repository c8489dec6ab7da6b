"""Session key schedule (handshake.py) and sealed channels (channel.py), sans I/O."""

from __future__ import annotations

import hashlib
import hmac as std_hmac
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from m2m_session.crypto import (
    KeyHierarchy,
    KeyMaterial,
    OpeningChannel,
    SealingChannel,
    SecurityMode,
    SessionKeys,
    X25519KeyPair,
    derive_session_keys,
    select_mode,
    transcript_hash,
)
from m2m_session.crypto.channel import MAX_SEQUENCE, sealed_overhead
from m2m_session.crypto.handshake import (
    CONFIRMATION_SIZE,
    accept_confirmation,
    check_accept_confirmation,
)
from m2m_session.errors import AeadError, CryptoError, HmacError, KeyMaterialError

HELLO = b'{"type":"HELLO","security":["AEAD","HMAC"],"pub":"aaaa"}'
ACCEPT = b'{"type":"ACCEPT","security":"AEAD","pub":"bbbb"}'
SID = "sess-0001"
MARKER = b"MARKER-7f3a-secret-payload"

ErrorType = type[AeadError] | type[HmacError]


def _handshake(
    *,
    hello: bytes = HELLO,
    accept: bytes = ACCEPT,
    client_hello: bytes | None = None,
    client_psk: bytes | None = None,
    server_psk: bytes | None = None,
) -> tuple[SessionKeys, SessionKeys]:
    client_eph = X25519KeyPair.generate()
    server_eph = X25519KeyPair.generate()
    with client_eph.agree(server_eph.public_bytes()) as c_shared:
        client = derive_session_keys(
            shared_secret=c_shared,
            hello_bytes=client_hello if client_hello is not None else hello,
            accept_bytes=accept,
            role="client",
            psk=client_psk,
        )
    with server_eph.agree(client_eph.public_bytes()) as s_shared:
        server = derive_session_keys(
            shared_secret=s_shared.reveal(),
            hello_bytes=hello,
            accept_bytes=accept,
            role="server",
            psk=server_psk,
        )
    return client, server


def _pair(
    mode: SecurityMode, key: KeyMaterial | bytes = b"k" * 32, sid: str = SID
) -> tuple[SealingChannel, OpeningChannel]:
    return SealingChannel(key, mode, sid), OpeningChannel(key, mode, sid)


def _family(mode: SecurityMode) -> ErrorType:
    return AeadError if mode is SecurityMode.AEAD else HmacError


def _fail_case(mode: SecurityMode) -> AeadError.Case | HmacError.Case:
    if mode is SecurityMode.AEAD:
        return AeadError.Case.DECRYPTION_FAILED
    return HmacError.Case.VERIFICATION_FAILED


def _assert_poisoned(opener: OpeningChannel, family: ErrorType, good: bytes) -> None:
    assert opener.poisoned
    with pytest.raises(family):
        opener.open(good)
    with pytest.raises(family):
        opener.open(good)


# --- key schedule -----------------------------------------------------------------------------


def test_client_and_server_derive_matching_oriented_keys() -> None:
    client, server = _handshake()
    assert client.send == server.receive
    assert client.receive == server.send
    assert client.send != client.receive
    assert len(client.send) == len(client.receive) == 32
    assert client.transcript == server.transcript == transcript_hash(HELLO, ACCEPT)
    assert "k" * 8 not in repr(client)


def test_construction_matches_the_documented_schedule() -> None:
    shared = bytes(range(32))
    psk = b"\x42" * 32
    salt = hashlib.sha256(
        len(HELLO).to_bytes(4, "big") + HELLO + len(ACCEPT).to_bytes(4, "big") + ACCEPT
    ).digest()

    def hkdf(info: bytes) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(shared + psk)

    keys = derive_session_keys(
        shared_secret=shared, hello_bytes=HELLO, accept_bytes=ACCEPT, role="client", psk=psk
    )
    assert keys.transcript == salt
    assert keys.send.reveal() == hkdf(b"m2m-session-v1 c2s")
    assert keys.receive.reveal() == hkdf(b"m2m-session-v1 s2c")
    server = derive_session_keys(
        shared_secret=shared, hello_bytes=HELLO, accept_bytes=ACCEPT, role="server", psk=psk
    )
    assert server.send.reveal() == hkdf(b"m2m-session-v1 s2c")


@pytest.mark.parametrize("which", ["hello", "accept"])
def test_any_changed_transcript_byte_changes_the_keys(which: str) -> None:
    shared = bytes(range(1, 33))
    base = derive_session_keys(
        shared_secret=shared, hello_bytes=HELLO, accept_bytes=ACCEPT, role="client"
    )
    body = HELLO if which == "hello" else ACCEPT
    for index in range(len(body)):
        changed = bytearray(body)
        changed[index] ^= 0x01
        hello, accept = (bytes(changed), ACCEPT) if which == "hello" else (HELLO, bytes(changed))
        keys = derive_session_keys(
            shared_secret=shared, hello_bytes=hello, accept_bytes=accept, role="client"
        )
        assert keys.send != base.send
        assert keys.receive != base.receive


def test_transcript_split_is_unambiguous() -> None:
    assert transcript_hash(b"ab", b"c") != transcript_hash(b"a", b"bc")


def test_downgraded_hello_breaks_the_first_message() -> None:
    # A man in the middle strips AEAD from the offer the server sees; the client keeps its own.
    downgraded = HELLO.replace(b'"AEAD",', b"")
    client, server = _handshake(hello=downgraded, client_hello=HELLO)
    sealer = SealingChannel(client.send, SecurityMode.AEAD, SID)
    opener = OpeningChannel(server.receive, SecurityMode.AEAD, SID)
    with pytest.raises(AeadError) as info:
        opener.open(sealer.seal(b"hello"))
    assert info.value.case is AeadError.Case.DECRYPTION_FAILED


def test_psk_mismatch_gives_different_keys_and_open_fails() -> None:
    hierarchy = KeyHierarchy(b"m" * 32)
    with hierarchy.shared_key("org-a") as psk_a, hierarchy.shared_key("org-b") as psk_b:
        client, server = _handshake(client_psk=psk_a.reveal(), server_psk=psk_b.reveal())
        assert client.send != server.receive
        opener = OpeningChannel(server.receive, SecurityMode.AEAD, SID)
        with pytest.raises(AeadError):
            opener.open(SealingChannel(client.send, SecurityMode.AEAD, SID).seal(b"x"))
        # Only one side holding a PSK fails too.
        client, server = _handshake(client_psk=psk_a.reveal())
        assert client.send != server.receive
        # The same PSK on both sides works.
        client, server = _handshake(client_psk=psk_a.reveal(), server_psk=psk_a.reveal())
        assert client.send == server.receive
        sealed = SealingChannel(client.send, SecurityMode.AEAD, SID).seal(b"ok")
        assert OpeningChannel(server.receive, SecurityMode.AEAD, SID).open(sealed) == b"ok"


def test_psk_as_key_material_equals_psk_as_bytes() -> None:
    shared = bytes(range(32))
    psk = b"p" * 32
    as_bytes = derive_session_keys(
        shared_secret=shared, hello_bytes=HELLO, accept_bytes=ACCEPT, role="client", psk=psk
    )
    as_km = derive_session_keys(
        shared_secret=shared,
        hello_bytes=HELLO,
        accept_bytes=ACCEPT,
        role="client",
        psk=KeyMaterial(psk),
    )
    assert as_bytes.send == as_km.send


def test_key_schedule_input_errors() -> None:
    with pytest.raises(KeyMaterialError) as info:
        derive_session_keys(
            shared_secret=b"s" * 32,
            hello_bytes=HELLO,
            accept_bytes=ACCEPT,
            role="client",
            psk=b"short",
        )
    assert info.value.case is KeyMaterialError.Case.TOO_SHORT
    with pytest.raises(KeyMaterialError) as info:
        derive_session_keys(
            shared_secret=b"s" * 32, hello_bytes=HELLO, accept_bytes=ACCEPT, role="client", psk=b""
        )
    assert info.value.case is KeyMaterialError.Case.EMPTY
    with pytest.raises(KeyMaterialError):
        derive_session_keys(
            shared_secret=b"s" * 16, hello_bytes=HELLO, accept_bytes=ACCEPT, role="client"
        )
    with pytest.raises(ValueError, match="role"):
        derive_session_keys(
            shared_secret=b"s" * 32,
            hello_bytes=HELLO,
            accept_bytes=ACCEPT,
            role="peer",  # type: ignore[arg-type]
        )


def test_session_keys_wipe() -> None:
    client, _ = _handshake()
    with client:
        pass
    assert client.send.wiped
    assert client.receive.wiped


# --- mode selection ---------------------------------------------------------------------------


def test_select_mode_follows_the_server_preference() -> None:
    assert select_mode(["NONE", "HMAC", "AEAD"], ["AEAD", "HMAC", "NONE"]) is SecurityMode.AEAD
    assert select_mode(["AEAD", "HMAC"], ["HMAC", "AEAD"]) is SecurityMode.HMAC
    assert select_mode(["NONE"], ["AEAD", "HMAC", "NONE"]) is SecurityMode.NONE
    assert select_mode(["NONE"], ["AEAD", "HMAC"]) is None
    assert select_mode([], ["AEAD"]) is None
    assert select_mode(["QUANTUM", "HMAC"], ["QUANTUM", "HMAC"]) is SecurityMode.HMAC
    assert select_mode(["aead"], ["AEAD"]) is None
    assert SecurityMode.AEAD == "AEAD"


# --- channels: round trips --------------------------------------------------------------------


@pytest.mark.parametrize("mode", [SecurityMode.AEAD, SecurityMode.HMAC])
def test_round_trip_1000_messages_both_directions(mode: SecurityMode) -> None:
    client, server = _handshake()
    c_send = SealingChannel(client.send, mode, SID)
    s_recv = OpeningChannel(server.receive, mode, SID)
    s_send = SealingChannel(server.send, mode, SID)
    c_recv = OpeningChannel(client.receive, mode, SID)
    seen: set[bytes] = set()
    for i in range(1000):
        message = f"message {i}".encode() * (i % 7)
        sealed = c_send.seal(message)
        assert len(sealed) == len(message) + sealed_overhead(mode)
        seen.add(sealed)
        assert s_recv.open(sealed) == message
        assert c_recv.open(s_send.seal(message + b"!")) == message + b"!"
    assert c_send.sequence == s_recv.sequence == s_send.sequence == c_recv.sequence == 1000
    assert len(seen) == 1000 or mode is SecurityMode.HMAC


def test_none_mode_is_identity() -> None:
    sealer, opener = _pair(SecurityMode.NONE)
    assert sealer.seal(MARKER) == MARKER
    assert opener.open(MARKER) == MARKER
    assert sealer.sequence == opener.sequence == 1
    assert SealingChannel(None, "NONE", SID).seal(b"") == b""
    assert sealed_overhead("NONE") == 0


def test_aead_hides_the_marker_and_uses_the_documented_construction() -> None:
    key = b"\x07" * 32
    sealer, opener = _pair(SecurityMode.AEAD, key)
    stream = b"".join(sealer.seal(b"prefix " + MARKER + b" suffix") for _ in range(50))
    assert MARKER not in stream
    assert MARKER[:8] not in stream
    # Message 0 is ChaCha20-Poly1305(key, 0000 || u64 0, pt, sid || u64 0).
    fresh = SealingChannel(key, SecurityMode.AEAD, SID)
    fresh.seal(b"zero")
    sealed = fresh.seal(MARKER)
    seq = (1).to_bytes(8, "big")
    expected = ChaCha20Poly1305(key).encrypt(b"\x00" * 4 + seq, MARKER, SID.encode() + seq)
    assert sealed == expected
    assert opener.open(stream[: len(b"prefix " + MARKER + b" suffix") + 16]) == (
        b"prefix " + MARKER + b" suffix"
    )


def test_hmac_construction_and_no_confidentiality() -> None:
    key = b"\x09" * 32
    sealer = SealingChannel(key, SecurityMode.HMAC, SID)
    sealed = sealer.seal(MARKER)
    assert sealed.startswith(MARKER)  # integrity only: the plaintext is in the clear
    seq = (0).to_bytes(8, "big")
    tag = std_hmac.new(key, SID.encode() + seq + MARKER, hashlib.sha256).digest()
    assert sealed == MARKER + tag


# --- channels: attacks ------------------------------------------------------------------------

Attack = Callable[[list[bytes]], list[bytes]]


def _replay(msgs: list[bytes]) -> list[bytes]:
    return [msgs[0], msgs[1], msgs[1]]


def _reorder(msgs: list[bytes]) -> list[bytes]:
    return [msgs[0], msgs[2], msgs[1]]


def _drop(msgs: list[bytes]) -> list[bytes]:
    return [msgs[0], msgs[2]]


def _bit_flip(msgs: list[bytes]) -> list[bytes]:
    flipped = bytearray(msgs[1])
    flipped[len(flipped) // 2] ^= 0x10
    return [msgs[0], bytes(flipped)]


def _replay_first(msgs: list[bytes]) -> list[bytes]:
    return [msgs[0], msgs[0]]


@pytest.mark.parametrize("mode", [SecurityMode.AEAD, SecurityMode.HMAC])
@pytest.mark.parametrize(
    "attack", [_replay, _reorder, _drop, _bit_flip, _replay_first], ids=lambda f: f.__name__
)
def test_attacks_fail_and_poison(mode: SecurityMode, attack: Attack) -> None:
    client, server = _handshake()
    sealer = SealingChannel(client.send, mode, SID)
    opener = OpeningChannel(server.receive, mode, SID)
    msgs = [sealer.seal(f"payload {i}".encode()) for i in range(4)]
    delivered = attack(msgs)
    family = _family(mode)
    assert opener.open(delivered[0]) == b"payload 0"
    # Genuine messages in their place open; the first one out of place fails.
    position = 1
    while delivered[position] == msgs[position]:
        assert opener.open(delivered[position]) == f"payload {position}".encode()
        position += 1
    with pytest.raises(family) as info:
        opener.open(delivered[position])
    assert info.value.case is _fail_case(mode)
    assert isinstance(info.value, CryptoError)
    # Poisoned: even the genuine next message is refused now.
    _assert_poisoned(opener, family, msgs[opener.sequence])


@pytest.mark.parametrize("mode", [SecurityMode.AEAD, SecurityMode.HMAC])
def test_every_bit_flip_of_a_message_fails(mode: SecurityMode) -> None:
    sealer = SealingChannel(b"b" * 32, mode, SID)
    sealed = sealer.seal(b"abc")
    for bit in range(len(sealed) * 8):
        flipped = bytearray(sealed)
        flipped[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(_family(mode)):
            OpeningChannel(b"b" * 32, mode, SID).open(bytes(flipped))


@pytest.mark.parametrize("mode", [SecurityMode.AEAD, SecurityMode.HMAC])
def test_wrong_session_id_fails_and_poisons(mode: SecurityMode) -> None:
    sealer = SealingChannel(b"s" * 32, mode, SID)
    opener = OpeningChannel(b"s" * 32, mode, "sess-0002")
    sealed = sealer.seal(b"data")
    with pytest.raises(_family(mode)) as info:
        opener.open(sealed)
    assert info.value.case is _fail_case(mode)
    _assert_poisoned(opener, _family(mode), sealed)


@pytest.mark.parametrize("mode", [SecurityMode.AEAD, SecurityMode.HMAC])
def test_wrong_direction_key_fails(mode: SecurityMode) -> None:
    client, server = _handshake()
    sealed = SealingChannel(client.send, mode, SID).seal(b"data")
    with pytest.raises(_family(mode)):
        OpeningChannel(server.send, mode, SID).open(sealed)


@pytest.mark.parametrize(
    ("mode", "short", "family"),
    [
        (SecurityMode.AEAD, 15, AeadError),
        (SecurityMode.HMAC, 31, HmacError),
    ],
)
def test_too_short_is_data_too_short_and_poisons(
    mode: SecurityMode, short: int, family: ErrorType
) -> None:
    sealer, opener = _pair(mode)
    good = sealer.seal(b"")
    assert len(good) == short + 1
    with pytest.raises(family) as info:
        opener.open(good[:short])
    assert info.value.case is family.Case.DATA_TOO_SHORT
    assert info.value.to_dict()["error"]["source"].endswith("::DataTooShort")
    _assert_poisoned(opener, family, good)
    assert "poisoned" in repr(opener)


# --- counters ---------------------------------------------------------------------------------


def test_counters_advance_only_on_success() -> None:
    sealer, opener = _pair(SecurityMode.AEAD)
    assert sealer.sequence == opener.sequence == 0
    first = sealer.seal(b"a")
    assert sealer.sequence == 1
    assert opener.open(first) == b"a"
    assert opener.sequence == 1
    with pytest.raises(AeadError):
        opener.open(first)
    assert opener.sequence == 1


def test_aead_counter_exhaustion() -> None:
    sealer, opener = _pair(SecurityMode.AEAD)
    sealer._sequence = MAX_SEQUENCE
    opener._sequence = MAX_SEQUENCE
    last = sealer.seal(b"last")
    assert opener.open(last) == b"last"
    with pytest.raises(AeadError) as info:
        sealer.seal(b"one too many")
    assert info.value.case is AeadError.Case.ENCRYPTION_FAILED
    assert sealer.sequence == MAX_SEQUENCE + 1
    with pytest.raises(AeadError) as opened:
        opener.open(last)
    assert opened.value.case is AeadError.Case.DECRYPTION_FAILED


def test_hmac_counter_exhaustion() -> None:
    sealer, opener = _pair(SecurityMode.HMAC)
    sealer._sequence = MAX_SEQUENCE
    opener._sequence = MAX_SEQUENCE
    last = sealer.seal(b"last")
    assert opener.open(last) == b"last"
    with pytest.raises(HmacError) as info:
        sealer.seal(b"one too many")
    assert info.value.case is HmacError.Case.INVALID_KEY
    assert "rekeyed" in str(info.value)
    with pytest.raises(HmacError) as opened:
        opener.open(last)
    assert opened.value.case is HmacError.Case.VERIFICATION_FAILED


@pytest.mark.parametrize(
    ("mode", "library_error"),
    [(SecurityMode.AEAD, "InvalidTag"), (SecurityMode.HMAC, "InvalidSignature")],
)
def test_open_failure_keeps_the_library_error_in_the_chain(
    mode: SecurityMode, library_error: str
) -> None:
    sealer, opener = _pair(mode)
    tampered = bytearray(sealer.seal(b"payload"))
    tampered[0] ^= 1
    with pytest.raises(CryptoError) as info:
        opener.open(bytes(tampered))
    # error -> its case -> the exception cryptography raised
    case = info.value.__cause__
    assert case is not None
    assert type(case.__cause__).__name__ == library_error


@pytest.mark.parametrize("mode", [SecurityMode.AEAD, SecurityMode.HMAC])
def test_wiped_opener_refuses(mode: SecurityMode) -> None:
    sealer, opener = _pair(mode)
    sealed = sealer.seal(b"x")
    opener.wipe()
    with pytest.raises(_family(mode)) as info:
        opener.open(sealed)
    assert info.value.case is _fail_case(mode)
    assert opener.poisoned


# --- construction errors ----------------------------------------------------------------------


def test_channel_key_errors() -> None:
    with pytest.raises(AeadError) as aead_info:
        SealingChannel(b"k" * 16, SecurityMode.AEAD, SID)
    assert aead_info.value.case is AeadError.Case.INVALID_KEY
    with pytest.raises(HmacError) as hmac_info:
        OpeningChannel(b"k" * 16, SecurityMode.HMAC, SID)
    assert hmac_info.value.case is HmacError.Case.INVALID_KEY
    with pytest.raises(AeadError):
        SealingChannel(None, SecurityMode.AEAD, SID)
    with pytest.raises(ValueError, match="BOGUS"):
        SealingChannel(b"k" * 32, "BOGUS", SID)


def test_channel_accepts_mode_names_and_key_material() -> None:
    key = KeyMaterial(b"q" * 32)
    sealer = SealingChannel(key, "HMAC", SID)
    opener = OpeningChannel(key, "HMAC", SID)
    assert opener.open(sealer.seal(b"x")) == b"x"
    assert sealer.mode is SecurityMode.HMAC
    assert sealer.session_id == SID
    sealer.wipe()
    with pytest.raises(HmacError):
        sealer.seal(b"after wipe")
    assert "q" * 4 not in repr(sealer)


# --- ACCEPT key confirmation ----------------------------------------------------------------------


def _confirmation(**changes: object) -> bytes:
    fields: dict[str, object] = {
        "shared_secret": b"s" * 32,
        "hello_bytes": b"hello body",
        "security_mode": "AEAD",
        "key_share": b"k" * 32,
        "static_key": None,
        "session_id": SID,
        "psk": None,
    }
    fields.update(changes)
    return accept_confirmation(**fields)  # type: ignore[arg-type]


def test_accept_confirmation_binds_every_input() -> None:
    base = _confirmation()
    assert len(base) == CONFIRMATION_SIZE
    assert _confirmation() == base  # deterministic
    for change in (
        {"shared_secret": b"t" * 32},
        {"hello_bytes": b"hello bodY"},
        {"security_mode": "HMAC"},
        {"key_share": b"j" * 32},
        {"static_key": b"p" * 32},
        {"session_id": SID + "x"},
        {"psk": b"q" * 32},
    ):
        assert _confirmation(**change) != base, change


def test_check_accept_confirmation() -> None:
    good = _confirmation()
    check_accept_confirmation(good, good)
    for received in (None, good[:-1] + bytes([good[-1] ^ 1]), b""):
        with pytest.raises(HmacError) as info:
            check_accept_confirmation(received, good)
        assert info.value.case is HmacError.Case.VERIFICATION_FAILED
