"""The mock's platform certificate and its ``GET v3/certificates`` answer."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from ..trust.crypto import AES_GCM_ALGORITHM, aes_gcm_encrypt, certificate_serial

if TYPE_CHECKING:
    from .platform import MockPlatform

__all__ = ["certificates_answer", "mint_platform_certificate"]


def mint_platform_certificate(
    key: rsa.RSAPrivateKey, now: float, days: int = 365 * 5, *, common_name: str = "Tenpay.com sign (mock)"
) -> x509.Certificate:
    """A self-signed certificate for the mock's platform key (a test stand-in for Tenpay's CA)."""
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "wechatpay-chain mock platform"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    start = datetime.fromtimestamp(now, UTC) - timedelta(days=1)
    # A 40-hex-digit serial like the platform's: 159 bits (the X.509 maximum), top bit set.
    serial = secrets.randbits(158) | (1 << 158)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .sign(key, hashes.SHA256())
    )


def certificates_answer(platform: MockPlatform) -> dict[str, Any]:
    """``{"data": [...]}`` with the certificate encrypted under the merchant's APIv3 key."""
    certificate = platform.platform_certificate
    pem = certificate.public_bytes(serialization.Encoding.PEM)
    nonce = secrets.token_hex(6)  # 12 characters, as the platform uses
    return {
        "data": [
            {
                "serial_no": certificate_serial(certificate),
                "effective_time": certificate.not_valid_before_utc.isoformat(),
                "expire_time": certificate.not_valid_after_utc.isoformat(),
                "encrypt_certificate": {
                    "algorithm": AES_GCM_ALGORITHM,
                    "nonce": nonce,
                    "associated_data": "certificate",
                    "ciphertext": aes_gcm_encrypt(platform.apiv3_key, nonce, pem, "certificate"),
                },
            }
        ]
    }
