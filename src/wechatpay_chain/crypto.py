"""All cryptography of the SDK, on top of ``cryptography``.

RSA-SHA256 PKCS#1 v1.5 signatures (requests, answers, notifications, pay-sign),
RSA-OAEP with SHA-1 (sensitive fields, as the platform requires), AES-256-GCM
(notification resources, platform certificates), and key loading.

Key loading accepts what users actually have at hand: PEM text (PKCS#1 or
PKCS#8), a filesystem path, a ``file://`` URL, bytes, or a key object. Errors
name the argument and the reason and never include the key material.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .errors import ConfigError, DecryptionError

__all__ = [
    "KeySource",
    "aes_gcm_decrypt",
    "aes_gcm_encrypt",
    "certificate_serial",
    "load_private_key",
    "load_public_key",
    "oaep_decrypt",
    "oaep_encrypt",
    "read_key_source",
    "rsa_sign",
    "rsa_verify",
    "rsa_verify_prehashed",
]

if TYPE_CHECKING:
    from cryptography import x509

    KeySource = str | bytes | os.PathLike[str] | rsa.RSAPrivateKey | rsa.RSAPublicKey | x509.Certificate

_SHA256 = hashes.SHA256()
_PKCS1 = padding.PKCS1v15()
_OAEP_SHA1 = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)


def read_key_source(source: str | bytes | os.PathLike[str], argument: str) -> bytes:
    """Return the PEM/DER bytes behind PEM text, a path or a file:// URL."""
    if isinstance(source, bytes):
        return source
    if isinstance(source, os.PathLike):
        path = Path(source)
    elif "-----BEGIN" in source:
        return source.encode("ascii", errors="replace")
    elif source.startswith("file://"):
        path = Path(unquote(urlparse(source).path))
    else:
        path = Path(source)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(argument, _unreadable(source, path, exc)) from None


def _unreadable(source: object, path: Path, error: OSError) -> str:
    """Why a key source could not be read, naming the path only when it looks like one.

    A key pasted without its ``-----BEGIN`` line (an environment variable holding only the
    base64 body) also lands here: echoing it would put the key into the message.
    """
    reason = "no such file" if isinstance(error, FileNotFoundError) else (error.strerror or "cannot read")
    looks_like_path = isinstance(source, os.PathLike) or (
        len(str(path)) <= 255 and path.parent.is_dir() and "\n" not in str(path)
    )
    if looks_like_path:
        return f"{reason}: {path}"
    return f"not PEM text and not a readable file ({reason})"


def load_private_key(source: KeySource, argument: str = "private_key") -> rsa.RSAPrivateKey:
    """Load the merchant's RSA private key (PKCS#1 or PKCS#8 PEM, or DER)."""
    if isinstance(source, rsa.RSAPrivateKey):
        return source
    if isinstance(source, rsa.RSAPublicKey) or not isinstance(source, (str, bytes, os.PathLike)):
        raise ConfigError(argument, "expected a private key, got a public key or certificate")
    data = read_key_source(source, argument)
    try:
        key = (
            serialization.load_pem_private_key(data, password=None)
            if b"-----BEGIN" in data
            else serialization.load_der_private_key(data, password=None)
        )
    except (ValueError, TypeError) as exc:
        encrypted = "encrypted" in str(exc)
        reason = "encrypted keys are not supported" if encrypted else "not a readable PEM or DER private key"
        raise ConfigError(argument, reason) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigError(argument, f"expected an RSA key, got {type(key).__name__}")
    return key


def load_public_key(source: KeySource, argument: str = "certs") -> rsa.RSAPublicKey:
    """Load an RSA public key from a PEM public key or an X.509 certificate."""
    if isinstance(source, rsa.RSAPublicKey):
        return source
    from cryptography import x509  # imported when certificates are in play, not at package import

    key: object
    if isinstance(source, x509.Certificate):
        key = source.public_key()
    elif isinstance(source, rsa.RSAPrivateKey):
        raise ConfigError(argument, "expected a public key or certificate, got a private key")
    else:
        data = read_key_source(source, argument)
        if b"PRIVATE KEY-----" in data:
            raise ConfigError(argument, "expected a public key or certificate, got a private key")
        try:
            if b"-----BEGIN CERTIFICATE-----" in data:
                key = x509.load_pem_x509_certificate(data).public_key()
            elif b"-----BEGIN" in data:
                key = serialization.load_pem_public_key(data)
            else:
                key = x509.load_der_x509_certificate(data).public_key()
        except (ValueError, TypeError):
            raise ConfigError(argument, "not a readable PEM public key or X.509 certificate") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise ConfigError(argument, f"expected an RSA key, got {type(key).__name__}")
    return key


def certificate_serial(certificate: x509.Certificate) -> str:
    """The serial number as the platform writes it: upper-case hex."""
    return format(certificate.serial_number, "X")


def rsa_sign(key: rsa.RSAPrivateKey, message: bytes) -> str:
    """SHA256-with-RSA (PKCS#1 v1.5) signature, base64-encoded."""
    return base64.b64encode(key.sign(message, _PKCS1, _SHA256)).decode("ascii")


def rsa_verify(key: rsa.RSAPublicKey, message: bytes, signature: str) -> bool:
    """True when ``signature`` (base64) is a valid SHA256-with-RSA signature of ``message``."""
    try:
        raw = base64.b64decode(signature, validate=True)
    except (ValueError, TypeError):
        return False
    try:
        key.verify(raw, message, _PKCS1, _SHA256)
    except InvalidSignature:
        return False
    return True


def rsa_verify_prehashed(key: rsa.RSAPublicKey, digest: bytes, signature: str) -> bool:
    """Like :func:`rsa_verify` for a message hashed incrementally (streamed downloads)."""
    try:
        raw = base64.b64decode(signature, validate=True)
        key.verify(raw, digest, _PKCS1, Prehashed(_SHA256))
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def oaep_encrypt(key: rsa.RSAPublicKey, plaintext: str) -> str:
    """RSA-OAEP (SHA-1, MGF1-SHA-1) encryption of a sensitive field, base64-encoded."""
    return base64.b64encode(key.encrypt(plaintext.encode("utf-8"), _OAEP_SHA1)).decode("ascii")


def oaep_decrypt(key: rsa.RSAPrivateKey, ciphertext: str) -> str:
    """Decrypt a field encrypted for the merchant with RSA-OAEP (SHA-1)."""
    try:
        return key.decrypt(base64.b64decode(ciphertext, validate=True), _OAEP_SHA1).decode("utf-8")
    except (ValueError, TypeError) as exc:
        raise DecryptionError(f"RSA-OAEP decryption failed: {type(exc).__name__}") from None


def _aes_key(apiv3_key: str | bytes) -> bytes:
    key = apiv3_key.encode("utf-8") if isinstance(apiv3_key, str) else apiv3_key
    if len(key) != 32:
        raise DecryptionError("the APIv3 key must be 32 bytes long")
    return key


def aes_gcm_decrypt(apiv3_key: str | bytes, nonce: str, ciphertext: str, associated_data: str = "") -> bytes:
    """Open an AEAD_AES_256_GCM resource (base64 ciphertext with its 16-byte tag appended)."""
    try:
        data = base64.b64decode(ciphertext, validate=True)
    except (ValueError, TypeError):
        raise DecryptionError("ciphertext is not valid base64") from None
    try:
        return AESGCM(_aes_key(apiv3_key)).decrypt(nonce.encode("utf-8"), data, associated_data.encode("utf-8") or None)
    except InvalidTag:
        raise DecryptionError("AES-GCM authentication failed: wrong APIv3 key or tampered data") from None
    except ValueError as exc:
        raise DecryptionError(f"AES-GCM decryption failed: {exc}") from None


def aes_gcm_encrypt(apiv3_key: str | bytes, nonce: str, plaintext: bytes, associated_data: str = "") -> str:
    """The inverse of :func:`aes_gcm_decrypt` (used by the mock platform and tests)."""
    sealed = AESGCM(_aes_key(apiv3_key)).encrypt(
        nonce.encode("utf-8"), plaintext, associated_data.encode("utf-8") or None
    )
    return base64.b64encode(sealed).decode("ascii")
