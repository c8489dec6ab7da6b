"""Sessions over TLS with a self-signed certificate made for the test (PROTOCOL.md section 1)."""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from m2m_session import CloseReason, M2MError, NetworkError, State

from conftest import LOCALHOST, Net, eventually


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost: (cert.pem, key.pem)."""
    directory = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(LOCALHOST))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path = directory / "cert.pem"
    key_path = directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    cert_path, key_path = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    return context


@pytest.fixture
def client_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(certificate[0]))
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    return context


async def test_full_session_over_tls(
    net: Net, server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    server = await net.server(ssl=server_context)
    client = await net.client(server, ssl=client_context)
    assert client.state is State.ESTABLISHED

    assert client._transport is not None
    ssl_object = client._transport.get_extra_info("ssl_object")
    assert ssl_object is not None
    assert ssl_object.version() in ("TLSv1.2", "TLSv1.3")
    assert client._transport.get_extra_info("peercert") is not None
    (server_side,) = server.sessions
    assert server_side.id == client.id
    assert server_side._transport is not None
    assert server_side._transport.get_extra_info("ssl_object") is not None

    await client.send("over tls")
    assert await client.recv() == "over tls"
    big = b"compressible " * 100_000  # about 1.3 MB, BROTLI inside TLS
    await client.send(big)
    assert await client.recv() == big
    noise = os.urandom(1 << 20)
    await client.send(noise)
    assert await client.recv() == noise
    assert await client.ping() > 0

    await client.close()
    assert client.close_reason is CloseReason.NORMAL
    await eventually(lambda: server_side.state is State.CLOSED)
    assert server_side.close_reason is CloseReason.NORMAL


async def test_server_hostname_is_checked(
    net: Net, server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    server = await net.server(ssl=server_context)
    ok = await net.client(server, ssl=client_context, server_hostname="localhost")
    await ok.send(b"named")
    assert await ok.recv() == b"named"
    with pytest.raises(NetworkError):
        await net.client(server, ssl=client_context, server_hostname="not-this-host.example")


async def test_untrusted_certificate_is_a_network_error(
    net: Net, server_context: ssl.SSLContext
) -> None:
    server = await net.server(ssl=server_context)
    stranger = ssl.create_default_context()  # the system's CAs only
    with pytest.raises(NetworkError):
        await net.client(server, ssl=stranger)
    assert server.is_serving()


async def test_plain_client_to_a_tls_server_fails_cleanly(
    net: Net, server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    server = await net.server(ssl=server_context)
    began = time.monotonic()
    with pytest.raises(M2MError):
        await net.client(server)
    assert time.monotonic() - began < 1.5
    # The server is unharmed.
    client = await net.client(server, ssl=client_context)
    await client.send("fine")
    assert await client.recv() == "fine"


async def test_tls_client_to_a_plain_server_fails_cleanly(
    net: Net, client_context: ssl.SSLContext
) -> None:
    server = await net.server()
    with pytest.raises(NetworkError):
        await net.client(server, ssl=client_context)
    client = await net.client(server)
    await client.send("plain")
    assert await client.recv() == "plain"


async def test_failed_tls_handshakes_leave_nothing_behind(
    net: Net, server_context: ssl.SSLContext
) -> None:
    server = await net.server(ssl=server_context)
    for _ in range(3):
        with pytest.raises(M2MError):
            await net.client(server)
    await eventually(lambda: not server._connections, within=1.0)


async def test_hello_wait_also_bounds_a_tls_handshake_that_never_starts(
    net: Net, server_context: ssl.SSLContext
) -> None:
    server = await net.server(ssl=server_context, hello_timeout=0.2)
    peer = await net.raw(server)  # TCP only: no ClientHello, no HELLO
    began = time.monotonic()
    assert await peer.read_frame(within=2.0) is None
    assert time.monotonic() - began < 1.5
