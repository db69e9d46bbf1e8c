"""v2 mTLS against a loopback TLS server that requires a client certificate.

The test mints everything with cryptography (no committed keys): a CA, the server's
certificate for 127.0.0.1, the merchant's client certificate, and a stranger's client
certificate from another CA. The server is the mock platform's own app served over TLS
with ``CERT_REQUIRED``, so a successful call is a full v2 round trip (sign checked,
signed answer verified) over a connection that presented the merchant certificate.
"""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from wechatpay_chain import Client, TransportError
from wechatpay_chain.mock import MockPlatform

REFUND = {
    "appid": "wx8888888888888888",
    "transaction_id": "4200000001201407033233368018",
    "out_trade_no": "1217752501",
    "out_refund_no": "R1217752501",
    "total_fee": 888,
    "refund_fee": 100,
}
ORDERQUERY = {"appid": "wx8888888888888888", "transaction_id": "4200000001201407033233368018", "out_trade_no": "1"}


# -- minting ------------------------------------------------------------------------------------------------
def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())  # fast, and every TLS stack takes it


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None,
    *,
    usage: x509.ObjectIdentifier | None = None,
) -> x509.Certificate:
    now = datetime.now(UTC)
    issuer_name = issuer[0].subject if issuer is not None else _name(subject)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
    )
    if issuer is None:  # a CA
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
    else:
        builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage or ExtendedKeyUsageOID.CLIENT_AUTH]), False)
        if usage == ExtendedKeyUsageOID.SERVER_AUTH:
            san = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
            builder = builder.add_extension(san, critical=False)
    return builder.sign(issuer[1] if issuer is not None else key, hashes.SHA256())


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@dataclass(frozen=True)
class Pki:
    ca_file: Path
    server_cert: Path
    server_key: Path
    merchant: tuple[bytes, bytes]  # client certificate, key (PEM), issued by the CA
    stranger: tuple[bytes, bytes]  # the same from another CA


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pki]:
    folder = tmp_path_factory.mktemp("v2-mtls")
    ca_key, rogue_key = _key(), _key()
    ca = _certificate("wechatpay-chain test CA", ca_key, None)
    rogue = _certificate("someone else's CA", rogue_key, None)
    server_key, merchant_key, stranger_key = _key(), _key(), _key()
    server = _certificate("127.0.0.1", server_key, (ca, ca_key), usage=ExtendedKeyUsageOID.SERVER_AUTH)
    merchant = _certificate("1900000109", merchant_key, (ca, ca_key))
    stranger = _certificate("1900000109", stranger_key, (rogue, rogue_key))
    files = {"ca.pem": _pem(ca), "server.pem": _pem(server), "server.key": _key_pem(server_key)}
    for name, data in files.items():
        (folder / name).write_bytes(data)
    yield Pki(
        folder / "ca.pem",
        folder / "server.pem",
        folder / "server.key",
        (_pem(merchant), _key_pem(merchant_key)),
        (_pem(stranger), _key_pem(stranger_key)),
    )


# -- the server and the client -------------------------------------------------------------------------------
@asynccontextmanager
async def tls_platform(pki: Pki, *, client_auth: bool = True) -> AsyncIterator[tuple[MockPlatform, str]]:
    """The mock platform on 127.0.0.1 over TLS, refusing connections without a CA-issued client
    cert (unless ``client_auth`` is False: then it serves v3 calls over plain server TLS)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(pki.ca_file))
    context.load_cert_chain(str(pki.server_cert), str(pki.server_key))
    context.verify_mode = ssl.CERT_REQUIRED if client_auth else ssl.CERT_NONE
    mock = MockPlatform(sandbox=False)
    runner = web.AppRunner(mock.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    try:
        yield mock, f"https://127.0.0.1:{runner.addresses[0][1]}/"
    finally:
        await runner.cleanup()


def _client(mock: MockPlatform, base_url: str, pki: Pki, pair: tuple[bytes, bytes] | None) -> Client:
    """A client that trusts the test CA (``cafile=``), with or without the merchant certificate."""
    certificate: dict[str, Any] = {"client_cert": pair[0], "client_key": pair[1]} if pair else {}
    return Client(mchid=mock.mchid, secret=mock.secret, base_url=base_url, cafile=pki.ca_file, **certificate)


# -- the checks ----------------------------------------------------------------------------------------------
def test_cert_required_call_presents_the_merchant_certificate(pki: Pki) -> None:
    async def main() -> None:
        async with tls_platform(pki) as (mock, base_url):
            async with _client(mock, base_url, pki, pki.merchant) as client:
                refund = await client.v2.secapi.pay.refund.post_async(xml=REFUND)
                again = await client.chain("v2/secapi/pay/refund").post_async(xml=REFUND)  # the context is reused
            assert refund.verified == "MD5" and refund.json()["out_refund_no"] == REFUND["out_refund_no"]
            assert again.status_code == 200
            assert mock.counts[("POST", "v2/secapi/pay/refund")] == 2

    asyncio.run(main())


def test_the_server_refuses_a_connection_without_a_client_certificate(pki: Pki) -> None:
    async def main() -> None:
        async with tls_platform(pki) as (mock, base_url):
            async with _client(mock, base_url, pki, None) as client:
                # orderquery needs no certificate, so the client presents none: the server says no.
                with pytest.raises(TransportError):
                    await client.v2.pay.orderquery.post_async(xml=ORDERQUERY)
            assert not mock.calls

    asyncio.run(main())


def test_the_server_refuses_a_certificate_from_another_ca(pki: Pki) -> None:
    async def main() -> None:
        async with tls_platform(pki) as (mock, base_url):
            async with _client(mock, base_url, pki, pki.stranger) as client:
                with pytest.raises(TransportError):
                    await client.v2.secapi.pay.refund.post_async(xml=REFUND)
            assert not mock.calls

    asyncio.run(main())


def test_sync_mtls_call(pki: Pki) -> None:
    async def serve(ready: asyncio.Future[tuple[MockPlatform, str]], stop: asyncio.Event) -> None:
        async with tls_platform(pki) as started:
            ready.set_result(started)
            await stop.wait()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[tuple[MockPlatform, str]] = loop.create_future()
        stop = asyncio.Event()
        server = asyncio.create_task(serve(ready, stop))
        mock, base_url = await ready
        with _client(mock, base_url, pki, pki.merchant) as client:
            # the sync verb blocks a worker thread; this loop keeps serving the TLS server meanwhile
            refund = await loop.run_in_executor(None, lambda: client.v2.secapi.pay.refund.post(xml=REFUND))
        assert refund.json()["refund_fee"] == "100"
        stop.set()
        await server

    asyncio.run(main())
