"""Client's keywords checked and converted: a clear ``ConfigError`` naming the keyword, and key
material held wrapped (``Secret``) in every frame that may raise."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric import rsa

from .errors import ConfigError
from .merchant_key import LocalSigner, MerchantKey, merchant_key_from
from .retry import NO_RETRY, Retry
from .transport.tls import is_loopback_url
from .trust.crypto import APIv3Keys, key_bytes, load_private_key
from .trust.keyring import KeyRing

if TYPE_CHECKING:
    from .trust.crypto import KeySource, Secret

__all__ = ["apiv3_keys_from", "check_base_url", "coerce_retry", "load_certs", "merchant_key_of"]


def coerce_retry(value: Retry | int | None) -> Retry:
    if isinstance(value, Retry):
        return value
    if value is None or value is False:
        return NO_RETRY
    if isinstance(value, int) and value >= 1:
        return Retry(attempts=value)
    raise ConfigError("retry", "expected a Retry, a number of attempts (>= 1) or None")


def _is_aes_256_key(sealed: Secret) -> bool:
    value = sealed.reveal()
    return isinstance(value, (str, bytes)) and len(key_bytes(value)) == 32


def apiv3_keys_from(single: Secret | None, several: Secret | None) -> APIv3Keys | None:
    """``apiv3_key=`` or ``apiv3_keys=[new, old]`` (an APIv3 key reset), each key checked."""
    if single is not None and several is not None:
        raise ConfigError("apiv3_keys", "give apiv3_key= or apiv3_keys=, not both")
    if single is not None:
        if not _is_aes_256_key(single):
            raise ConfigError("apiv3_key", "must be 32 bytes long")
        return APIv3Keys([single])
    if several is None:
        return None
    if not _is_key_list(several):  # no local here holds a key: this frame raises
        raise ConfigError("apiv3_keys", "must be a list of APIv3 keys, the current one first")
    sealed = APIv3Keys(several.reveal())
    for index, key in enumerate(sealed):
        if not _is_aes_256_key(key):
            raise ConfigError(f"apiv3_keys[{index}]", "must be 32 bytes long")
    return sealed


def _is_key_list(sealed: Secret) -> bool:
    value = sealed.reveal()
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes)) and len(value) > 0


def merchant_key_of(serial: str | None, key: Secret | None, signer: Secret | None) -> MerchantKey | None:
    """The (serial, signer) pair from ``private_key=`` or ``signer=``; ``None`` without APIv3 keys."""
    if key is not None and signer is not None:
        raise ConfigError("signer", "give private_key= or signer=, not both")
    if serial is None and key is None and signer is None:
        return None
    if key is None and signer is None:
        raise ConfigError("private_key", "serial and private_key (or signer) go together")
    if serial is None:
        raise ConfigError("serial", f"serial and {'signer' if signer is not None else 'private_key'} go together")
    if key is not None:  # private_key= is a key, never duck-typed as a signer
        return merchant_key_from(serial, LocalSigner(load_private_key(key)), "private_key")
    assert signer is not None
    if isinstance(signer.reveal(), (str, bytes, os.PathLike, rsa.RSAPrivateKey)):
        raise ConfigError("signer", "takes an object with sign(message) -> bytes; a key goes in private_key=")
    return merchant_key_from(serial, signer.reveal(), "signer")


def check_base_url(url: object, argument: str, allow_insecure_http: bool) -> None:
    """https://, or http:// to this machine (a mock); http:// elsewhere only when asked for."""
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise ConfigError(argument, "must start with https:// (or http:// for a local mock)")
    if url.startswith("http://") and not allow_insecure_http and not is_loopback_url(url):
        raise ConfigError(
            argument,
            "http:// is allowed to this machine only (a local mock): requests and answers would "
            "cross the network unencrypted; pass allow_insecure_http=True if you really mean it",
        )


def load_certs(certs: Mapping[str, KeySource] | None) -> KeyRing:
    loaded: dict[str, KeySource] = {}
    for serial, source in (certs or {}).items():
        if not isinstance(serial, str) or not serial:
            raise ConfigError("certs", "keys must be certificate serials or PUB_KEY_ID_... ids")
        loaded[serial] = source
    return KeyRing(loaded, argument="certs")  # a certificate keeps its expiry in the ring
