"""Keys the mock makes for itself and its merchant (test keys, never written unless asked)."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

__all__ = ["MerchantKeys", "generate_key", "pem_private", "pem_public"]


def generate_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem_private(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def pem_public(key: rsa.RSAPublicKey) -> str:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


class MerchantKeys:
    """The merchant certificates the mock accepts request signatures from (``MockPlatform`` methods).

    Like the platform during a merchant key rotation: a new certificate is accepted next to
    the old one until the old one is retired, so calls signed with either pass.
    """

    mchid: str
    merchants: dict[str, dict[str, rsa.RSAPublicKey]]  # mchid -> {certificate serial -> public key}

    def add_merchant_key(self, serial: str, public_key: rsa.RSAPublicKey, mchid: str | None = None) -> None:
        """Accept signatures under ``serial`` made with ``public_key``'s private key."""
        self.merchants.setdefault(mchid or self.mchid, {})[serial] = public_key

    def remove_merchant_key(self, serial: str, mchid: str | None = None) -> None:
        """Retire a merchant certificate: requests under ``serial`` are refused from now on."""
        keys = self.merchants.get(mchid or self.mchid, {})
        if serial not in keys:
            raise LookupError(f"merchant certificate {serial!r} is not known")
        del keys[serial]
