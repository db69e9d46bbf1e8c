"""The mock's platform certificate and its ``GET v3/certificates`` answer."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from ..trust.crypto import AES_GCM_ALGORITHM, aes_gcm_encrypt, certificate_serial
from .keys import generate_key

__all__ = ["CertificatePlatform", "certificates_answer", "mint_platform_certificate", "rotate_platform_certificate"]


class CertificatePlatform(Protocol):
    """What the certificate answer and a rotation read and change of the platform."""

    apiv3_key: str
    platform_key: rsa.RSAPrivateKey
    clock: Callable[[], float]
    sign_with: str
    retired_certificates: list[x509.Certificate]
    _certificate: x509.Certificate | None

    @property
    def platform_certificate(self) -> x509.Certificate: ...

    @property
    def certificate_serial(self) -> str: ...


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


def certificates_answer(platform: CertificatePlatform) -> dict[str, Any]:
    """``{"data": [...]}``: the current certificate and the retired ones (a rotation's overlap),
    each encrypted under the merchant's APIv3 key."""
    return {
        "data": [_entry(platform, item) for item in (*platform.retired_certificates, platform.platform_certificate)]
    }


def rotate_platform_certificate(platform: CertificatePlatform) -> str:
    """A new platform key and certificate, as the platform rotates them; returns the new serial.

    From now on answers and notifications are signed with the new key under the new serial
    (certificate mode), and ``v3/certificates`` delivers the old certificate beside the new
    one. The public key id names the new key too: rotation is a certificate-mode affair.
    """
    platform.retired_certificates.append(platform.platform_certificate)
    platform.platform_key = generate_key()
    # The newer certificate outlives the older ones, as the platform's do.
    days = 365 * 5 + len(platform.retired_certificates)
    platform._certificate = mint_platform_certificate(platform.platform_key, platform.clock(), days)
    platform.sign_with = "certificate"
    return platform.certificate_serial


def _entry(platform: CertificatePlatform, certificate: x509.Certificate) -> dict[str, Any]:
    pem = certificate.public_bytes(serialization.Encoding.PEM)
    nonce = secrets.token_hex(6)  # 12 characters, as the platform uses
    return {
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
