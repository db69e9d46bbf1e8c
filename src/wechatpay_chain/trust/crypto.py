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
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..errors import ConfigError, DecryptionError

__all__ = [
    "AES_GCM_ALGORITHM",
    "APIv3Keys",
    "KeySource",
    "KeyText",
    "Secret",
    "aes_gcm_decrypt",
    "aes_gcm_encrypt",
    "certificate_serial",
    "load_dated_public_key",
    "load_private_key",
    "load_public_key",
    "oaep_decrypt",
    "oaep_encrypt",
    "read_key_source",
    "reveal",
    "rsa_sign",
    "rsa_verify",
    "rsa_verify_prehashed",
    "seal",
]

if TYPE_CHECKING:
    from datetime import datetime

    from cryptography import x509

    KeySource = str | bytes | os.PathLike[str] | rsa.RSAPrivateKey | rsa.RSAPublicKey | x509.Certificate

AES_GCM_ALGORITHM = "AEAD_AES_256_GCM"
"""The ``algorithm`` of every envelope the platform seals with the APIv3 key."""


class Secret:
    """Key material (APIv3 key, v2 secret, private key text) whose ``repr``/``str`` never show it.

    Error trackers record the ``repr`` of every local of every frame of a traceback (Sentry
    does by default): functions that may raise hold secrets in this wrapper and unwrap them
    (:meth:`reveal`) only in the expression that uses them.
    """

    __slots__ = ("_value",)

    def __init__(self, value: Any) -> None:
        self._value = value

    def reveal(self) -> Any:
        """The wrapped value itself."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('******')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return bool(self._value == other._value)

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> Any:
        raise TypeError("a Secret is not pickled")


class APIv3Keys(Secret):
    """The APIv3 keys, tried in order to open what the platform sealed (``apiv3_keys=[new, old]``).

    While the APIv3 key is being reset on the merchant platform, notifications and
    certificates sealed with the old key may still arrive after the new one is set:
    AES-GCM's tag tells a wrong key from the right one, so each key is tried in turn and
    the first that authenticates opens the envelope (no guessing). Sealing uses the first.
    A :class:`Secret`: iterating gives each key wrapped, the ``repr`` only their number.
    """

    __slots__ = ()

    def __init__(self, keys: Iterable[Any]) -> None:
        super().__init__(tuple(seal(key) for key in keys))

    def __iter__(self) -> Iterator[Secret]:
        return iter(self._value)

    def __len__(self) -> int:
        return len(self._value)

    def __getitem__(self, index: int) -> Secret:
        return self._value[index]  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return f"APIv3Keys({len(self._value)} keys: ******)"

    __str__ = __repr__


KeyText = str | bytes | Secret  # an APIv3 key (or APIv3Keys) or a v2 secret, wrapped or not


def seal(value: Any) -> Any:
    """``value`` in a :class:`Secret` (``None`` and Secrets as they are)."""
    return value if value is None or isinstance(value, Secret) else Secret(value)


def reveal(value: Any) -> Any:
    """The value inside a :class:`Secret`; anything else as it is."""
    return value.reveal() if isinstance(value, Secret) else value


_SHA256 = hashes.SHA256()
_PKCS1 = padding.PKCS1v15()
_OAEP_SHA1 = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)


def read_key_source(source: str | bytes | os.PathLike[str] | Secret, argument: str) -> bytes:
    """Return the PEM/DER bytes behind PEM text, a path or a file:// URL.

    Raises ``ConfigError`` from a frame that holds the source only as a :class:`Secret`.
    """
    sealed = seal(source)
    del source  # from here on, no local holds the key text
    data, problem = _read_source(sealed)
    if data is None:
        raise ConfigError(argument, problem)
    return data


def _read_source(sealed: Secret) -> tuple[bytes | None, str]:
    """(bytes, "") or (None, why): never raises, so its locals never reach a traceback."""
    source = sealed.reveal()
    if isinstance(source, bytes):
        return source, ""
    if isinstance(source, os.PathLike):
        path = Path(source)
    elif "-----BEGIN" in source:
        return source.encode("ascii", errors="replace"), ""
    elif source.startswith("file://"):
        path = Path(unquote(urlparse(source).path))
    else:
        path = Path(source)
    try:
        return path.read_bytes(), ""
    except OSError as exc:
        return None, _unreadable(source, path, exc)
    except ValueError:  # a NUL byte in what is no path
        return None, "not PEM text and not a readable file"


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


def load_private_key(source: KeySource | Secret, argument: str = "private_key") -> rsa.RSAPrivateKey:
    """Load the merchant's RSA private key (PKCS#1 or PKCS#8 PEM, or DER).

    The key text never sits in a local of a frame that raises (see :class:`Secret`).
    """
    sealed = seal(source)
    del source
    key, problem = _private_key_from(sealed, argument)
    if key is None:
        raise ConfigError(argument, problem)
    return key


def _private_key_from(sealed: Secret, argument: str) -> tuple[rsa.RSAPrivateKey | None, str]:
    """(key, "") or (None, why): never raises."""
    source = sealed.reveal()
    if isinstance(source, rsa.RSAPrivateKey):
        return source, ""
    if isinstance(source, rsa.RSAPublicKey) or not isinstance(source, (str, bytes, os.PathLike)):
        return None, "expected a private key, got a public key or certificate"
    data, problem = _read_source(Secret(source))
    if data is None:
        return None, problem
    try:
        key = (
            serialization.load_pem_private_key(data, password=None)
            if b"-----BEGIN" in data
            else serialization.load_der_private_key(data, password=None)
        )
    except (ValueError, TypeError) as exc:
        encrypted = "encrypted" in str(exc)
        return None, "encrypted keys are not supported" if encrypted else "not a readable PEM or DER private key"
    except Exception:  # whatever a broken key makes the parser raise: never with the key in a traceback
        return None, "not a readable PEM or DER private key"
    if not isinstance(key, rsa.RSAPrivateKey):
        return None, f"expected an RSA key, got {type(key).__name__}"
    return key, ""


def load_public_key(source: KeySource, argument: str = "certs") -> rsa.RSAPublicKey:
    """Load an RSA public key from a PEM public key or an X.509 certificate."""
    return load_dated_public_key(source, argument)[0]


def load_dated_public_key(source: KeySource, argument: str = "certs") -> tuple[rsa.RSAPublicKey, datetime | None]:
    """(key, not_after): a certificate's expiry comes with its key (``None`` for a bare key)."""
    if isinstance(source, rsa.RSAPublicKey):
        return source, None
    from cryptography import x509  # imported when certificates are in play, not at package import

    key: object
    certificate: x509.Certificate | None = None
    if isinstance(source, x509.Certificate):
        certificate = source
    elif isinstance(source, rsa.RSAPrivateKey):
        raise ConfigError(argument, "expected a public key or certificate, got a private key")
    else:
        data = read_key_source(source, argument)
        if b"PRIVATE KEY-----" in data:
            raise ConfigError(argument, "expected a public key or certificate, got a private key")
        try:
            if b"-----BEGIN CERTIFICATE-----" in data:
                certificate = x509.load_pem_x509_certificate(data)
            elif b"-----BEGIN" in data:
                key = serialization.load_pem_public_key(data)
            else:
                certificate = x509.load_der_x509_certificate(data)
        except (ValueError, TypeError):
            raise ConfigError(argument, "not a readable PEM public key or X.509 certificate") from None
    if certificate is not None:
        key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise ConfigError(argument, f"expected an RSA key, got {type(key).__name__}")
    return key, certificate.not_valid_after_utc if certificate is not None else None


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


def key_bytes(value: KeyText) -> bytes:
    """The bytes of an APIv3 key or v2 secret (UTF-8 for text), unwrapped; of APIv3Keys, the first."""
    if isinstance(value, APIv3Keys):
        value = value[0]
    plain = reveal(value)
    return plain.encode("utf-8") if isinstance(plain, str) else bytes(plain)


def _aes_key(apiv3_key: KeyText) -> bytes:
    if len(key_bytes(apiv3_key)) != 32:
        raise DecryptionError("the APIv3 key must be 32 bytes long")
    return key_bytes(apiv3_key)


def aes_gcm_decrypt(apiv3_key: KeyText, nonce: str, ciphertext: str, associated_data: str = "") -> bytes:
    """Open an AEAD_AES_256_GCM resource (base64 ciphertext with its 16-byte tag appended).

    With :class:`APIv3Keys` each key is tried in order: the first whose tag checks opens it.
    """
    sealed: Secret = seal(apiv3_key)  # this frame raises: hold the key wrapped
    del apiv3_key
    try:
        data = base64.b64decode(ciphertext, validate=True)
    except (ValueError, TypeError):
        raise DecryptionError("ciphertext is not valid base64") from None
    plain, problem = _open_with_any(sealed, nonce.encode("utf-8"), data, associated_data.encode("utf-8") or None)
    if plain is None:
        raise DecryptionError(problem)
    return plain


def _open_with_any(
    sealed: Secret, nonce: bytes, data: bytes, associated_data: bytes | None
) -> tuple[bytes | None, str]:
    """(plaintext, "") or (None, why): never raises, so no frame of a traceback holds a key."""
    keys = tuple(sealed) if isinstance(sealed, APIv3Keys) else (sealed,)
    for key in keys:
        if len(key_bytes(key)) != 32:
            return None, "the APIv3 key must be 32 bytes long"
        try:
            return AESGCM(key_bytes(key)).decrypt(nonce, data, associated_data), ""
        except InvalidTag:
            continue  # not this key (or tampered): the next one, if any
        except ValueError as exc:
            return None, f"AES-GCM decryption failed: {exc}"
    tried = f" (tried {len(keys)} keys)" if len(keys) > 1 else ""
    return None, f"AES-GCM authentication failed: wrong APIv3 key or tampered data{tried}"


def aes_gcm_encrypt(apiv3_key: KeyText, nonce: str, plaintext: bytes, associated_data: str = "") -> str:
    """The inverse of :func:`aes_gcm_decrypt` (used by the mock platform and tests)."""
    sealed = AESGCM(_aes_key(apiv3_key)).encrypt(
        nonce.encode("utf-8"), plaintext, associated_data.encode("utf-8") or None
    )
    return base64.b64encode(sealed).decode("ascii")
