"""The merchant's signing key: a local RSA key or a remote signer (a KMS, an HSM), and its serial.

APIv3 requests, pay-sign parameter sets and downloads are signed with the merchant's key
(SHA256-with-RSA, PKCS#1 v1.5). Where the key lives does not matter to the protocol: a
:class:`Signer` is anything with ``sign(message: bytes) -> bytes`` (the raw signature), and
optionally ``async sign_async(message) -> bytes`` for async calls. A key given as
``private_key=`` is wrapped in a :class:`LocalSigner`, so there is one signing path.

A :class:`MerchantKey` pairs the signer with the serial of the certificate it belongs to.
It is immutable and the client holds exactly one: a rotation (``client.rotate_merchant_key``)
assigns a new pair, so every signature goes out with the serial of the key that made it.

What a signer returns is checked before anything is sent: bytes of the key's size (the
signer's ``key_size`` in bits when it says so, else RSA-2048, the platform's scheme). A
signer that raises or returns anything else is a :class:`~wechatpay_chain.ConfigError`
naming ``signer``; the request is not sent.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from .errors import ConfigError
from .trust.crypto import Secret, load_private_key, seal

if TYPE_CHECKING:
    from .trust.crypto import KeySource

__all__ = ["AsyncSigner", "LocalSigner", "MerchantKey", "Signer", "merchant_key_from", "sign_with", "signer_from"]

# The platform's request scheme is WECHATPAY2-SHA256-RSA2048: a signature of 256 bytes.
DEFAULT_KEY_SIZE = 2048
_PKCS1 = padding.PKCS1v15()
_SHA256 = hashes.SHA256()


@runtime_checkable
class Signer(Protocol):
    """Signs with the merchant's private key wherever it is kept.

    ``sign(message)`` returns the raw RSA-SHA256 PKCS#1 v1.5 signature of ``message`` (the
    bytes, not base64). It may be called from several threads at once. A signer may also
    have ``key_size`` (bits; 2048 when absent) and ``async sign_async(message)``
    (:class:`AsyncSigner`), which async calls then use instead of ``sign``.
    """

    def sign(self, message: bytes) -> bytes: ...


@runtime_checkable
class AsyncSigner(Signer, Protocol):
    """A :class:`Signer` that also signs without blocking: async calls await ``sign_async``."""

    async def sign_async(self, message: bytes) -> bytes: ...


class LocalSigner:
    """The merchant's private key held in this process: the default signer."""

    __slots__ = ("private_key",)

    def __init__(self, private_key: rsa.RSAPrivateKey) -> None:
        self.private_key = private_key

    @property
    def key_size(self) -> int:
        return self.private_key.key_size

    def sign(self, message: bytes) -> bytes:
        return self.private_key.sign(message, _PKCS1, _SHA256)

    def __repr__(self) -> str:
        return f"<LocalSigner RSA-{self.key_size}>"  # never the key


@dataclass(frozen=True, slots=True)
class MerchantKey:
    """The merchant certificate serial and the signer of its key: replaced whole, never in parts."""

    serial: str
    signer: Signer

    @property
    def private_key(self) -> rsa.RSAPrivateKey | None:
        """The key itself when it is held here (decryption needs it); ``None`` for a remote signer."""
        return self.signer.private_key if isinstance(self.signer, LocalSigner) else None

    @property
    def local(self) -> bool:
        """Whether signing is local CPU work (else it may wait on a KMS: never on the event loop)."""
        return isinstance(self.signer, LocalSigner)

    @property
    def signs_async(self) -> bool:
        return callable(getattr(self.signer, "sign_async", None))

    def sign(self, message: bytes) -> str:
        """The base64 signature of ``message`` from ``signer.sign``, checked."""
        return sign_with(self.signer, message)

    async def sign_async(self, message: bytes) -> str:
        """The base64 signature of ``message`` from ``signer.sign_async``, checked."""
        try:
            signature = await self.signer.sign_async(message)  # type: ignore[attr-defined]
        except Exception as error:
            raise _failed(error) from error
        return _checked(self.signer, signature)


def sign_with(signer: Signer, message: bytes) -> str:
    """The base64 signature of ``message`` from ``signer.sign``, checked (``ConfigError`` if bad)."""
    try:
        signature = signer.sign(message)
    except Exception as error:
        raise _failed(error) from error
    return _checked(signer, signature)


def _failed(error: Exception) -> ConfigError:
    return ConfigError("signer", f"the signer raised {type(error).__name__}: {error} (nothing was sent)")


def _checked(signer: Signer, signature: Any) -> str:
    size = getattr(signer, "key_size", DEFAULT_KEY_SIZE) // 8
    if not isinstance(signature, (bytes, bytearray, memoryview)):
        raise ConfigError(
            "signer", f"sign() returned {type(signature).__name__}, expected the raw signature bytes (nothing was sent)"
        )
    if len(signature) != size:
        raise ConfigError(
            "signer",
            f"sign() returned {len(signature)} bytes, expected a {size}-byte RSA signature "
            "(raw RSA-SHA256 PKCS#1 v1.5, not base64; nothing was sent)",
        )
    return base64.b64encode(signature).decode("ascii")


def signer_from(source: KeySource | Signer | Secret, argument: str) -> Signer:
    """A signer from a key (object, PEM text, path, ``file://`` URL) or a signer as it is.

    A key object's own ``sign`` takes padding and hash arguments: keys become
    :class:`LocalSigner`, anything else must have ``sign(message)``.
    """
    sealed = seal(source)
    del source  # key text is held wrapped from here on (error trackers record locals)
    if _is_key(sealed):
        return LocalSigner(load_private_key(sealed, argument))
    signer = sealed.reveal()  # not key material: an object that signs
    if isinstance(signer, rsa.RSAPublicKey) or not callable(getattr(signer, "sign", None)):
        raise ConfigError(argument, "expected a private key, or a signer with sign(message) -> bytes")
    key_size = getattr(signer, "key_size", DEFAULT_KEY_SIZE)
    if not isinstance(key_size, int) or isinstance(key_size, bool) or key_size < 1024 or key_size % 8:
        raise ConfigError(argument, "a signer's key_size is the RSA key size in bits (2048)")
    return signer  # type: ignore[no-any-return]


def _is_key(sealed: Secret) -> bool:
    return isinstance(sealed.reveal(), (str, bytes, os.PathLike, rsa.RSAPrivateKey))


def merchant_key_from(serial: object, source: KeySource | Signer | Secret, argument: str) -> MerchantKey:
    """A checked (serial, signer) pair."""
    if not isinstance(serial, str) or not serial:
        raise ConfigError("serial", "must be the merchant certificate serial number")
    return MerchantKey(serial, signer_from(source, argument))
