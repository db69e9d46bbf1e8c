"""Key and certificate minting for the notify / certs / pay-sign tests.

Every key is generated in the test session (2048-bit RSA, cached per name so the suite
stays fast); no key material is committed.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from wechatpay_chain.trust.crypto import aes_gcm_encrypt
from wechatpay_chain.v3.protocol import dump_json, sign_answer_headers

APIV3_KEY = "wechatpay-chain/test/apiv3-key!!"  # 32 characters, as the platform requires
NOW = 1_700_000_000.0  # 2023-11-14T22:13:20Z: a fixed clock for every test


def clock(at: float = NOW) -> Any:
    """A fixed clock for the ``now=`` parameters."""
    return lambda: at


@functools.cache
def rsa_key(name: str) -> rsa.RSAPrivateKey:
    """A 2048-bit RSA key, generated once per name in this test session."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def mint_certificate(
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
    serial: int,
    *,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> x509.Certificate:
    """A self-signed certificate shaped like a platform certificate."""
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Tenpay.com (test)"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Tenpay.com sign (test)"),
        ]
    )
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(not_before or at(NOW) - timedelta(days=30))
        .not_valid_after(not_after or at(NOW) + timedelta(days=5 * 365))
        .sign(key, hashes.SHA256())
    )


def certificate_pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


def encrypted_entry(
    pem: str,
    serial_no: str,
    *,
    apiv3_key: str = APIV3_KEY,
    nonce: str = "61f9c719728a",
    algorithm: str = "AEAD_AES_256_GCM",
) -> dict[str, Any]:
    """One ``data[]`` entry of a ``GET v3/certificates`` answer."""
    return {
        "serial_no": serial_no,
        "effective_time": "2023-10-15T22:13:20+08:00",
        "expire_time": "2028-11-12T22:13:20+08:00",
        "encrypt_certificate": {
            "algorithm": algorithm,
            "nonce": nonce,
            "associated_data": "certificate",
            "ciphertext": aes_gcm_encrypt(apiv3_key, nonce, pem.encode("ascii"), "certificate"),
        },
    }


def signed_answer(
    answer: dict[str, Any], key: rsa.RSAPrivateKey, serial: str, *, timestamp: float = NOW
) -> tuple[dict[str, str], bytes]:
    """The answer's body bytes and the platform's Wechatpay-* headers over them."""
    body = dump_json(answer)
    headers = sign_answer_headers(
        key, serial, body, timestamp=str(int(timestamp)), nonce="c5ac7061fccab6bf3e254dcf98995b8c"
    )
    return headers, body
