"""Platform-key stores: where a fleet keeps each merchant's platform public material.

A store holds, per merchant number (mchid), a :class:`PlatformKeys` record: platform
certificates (PEM, by serial) and platform public keys (PEM, by ``PUB_KEY_ID_...``). It
never holds a private key or the APIv3 key: every record is checked to be public material
when it is made, whether by a caller or by a store reading it back.

The :class:`KeyStore` protocol is what every store offers:

* ``load(mchid)``: the record with its ``version`` (``None`` when there is none);
* ``save(mchid, keys, expected_version)``: compare-and-set; ``False`` when another writer
  saved first (reload, merge, retry) — ``expected_version=0`` creates;
* ``acquire_lease(mchid, owner, ttl)`` / ``release_lease(mchid, owner)``: one node of a
  fleet refreshes a merchant's keys at a time; a lease expires by itself after ``ttl``
  seconds (a node that dies holding it does not block the others), its owner may renew it,
  and only its owner releases it;
* ``merchants_for(key_id)``: which merchants hold a serial or ``PUB_KEY_ID_...`` (a platform
  certificate may be every merchant's; a public-key id is one merchant's)
  (notification routing by ``Wechatpay-Serial``);
* ``read_only``: ``True`` for a store that refuses ``save`` and leases
  (:class:`ReadOnlyKeyStore`): webhook workers and serverless functions that must never
  call ``v3/certificates`` read what a refreshing node saved.

Operations are synchronous and short (a lock, a few file stats, one Redis round trip):
they belong on refresh paths and cache misses, not on every call.

Implementations: :class:`MemoryKeyStore` (one process), :class:`~.directory_store.DirectoryKeyStore`
(a folder per merchant, shared by the processes of a host) and
:class:`~.redis_store.RedisKeyStore` (a fleet; ``pip install 'wechatpay-chain[redis]'``).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ..errors import ConfigError, SignatureError
from .certificates import PlatformCertificate
from .crypto import load_public_key
from .keyring import HEX_SERIAL, PUBLIC_KEY_ID_PREFIX, KeyRing, lookup_name

if TYPE_CHECKING:
    from .crypto import KeySource

__all__ = [
    "KeyStore",
    "MemoryKeyStore",
    "PlatformKeys",
    "ReadOnlyKeyStore",
    "index_name",
    "read_only",
]

_PUBLIC_KEY_ID = re.compile(re.escape(PUBLIC_KEY_ID_PREFIX) + r"[A-Za-z0-9_]+")
_STORE = "key_store"  # the argument ConfigError names for anything a store refuses


def index_name(key_id: str) -> str:
    """How a store indexes a key id: as :class:`KeyRing` compares them (case, leading zeros)."""
    return lookup_name(key_id)


@dataclass(frozen=True)
class PlatformKeys:
    """One merchant's platform public material, checked when made.

    ``certificates`` maps upper-case hex serials to PEM certificates, ``public_keys`` maps
    ``PUB_KEY_ID_...`` ids to PEM public keys. ``version`` is the store's count of saves
    (0: never saved); a store sets it on :meth:`KeyStore.load` and ignores it on save.

    Raises ``ConfigError`` (argument ``key_store``) for a private key, a certificate whose
    serial differs from its name, a public key named like a serial, or text that is no key.
    """

    certificates: Mapping[str, str] = field(default_factory=dict)
    public_keys: Mapping[str, str] = field(default_factory=dict)
    version: int = 0
    _ring: KeyRing = field(init=False, repr=False, compare=False)
    _parsed: tuple[PlatformCertificate, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        parsed = tuple(_certificate(serial, pem) for serial, pem in self.certificates.items())
        public = {key_id: _public_key(key_id, pem) for key_id, pem in self.public_keys.items()}
        # frozen: the mappings are copied read-only, so a caller's dict changing later changes nothing
        object.__setattr__(self, "certificates", MappingProxyType({item.serial: item.pem for item in parsed}))
        object.__setattr__(self, "public_keys", MappingProxyType(dict(self.public_keys)))
        object.__setattr__(self, "_parsed", parsed)
        object.__setattr__(self, "_ring", KeyRing(public, certificates=parsed))

    @classmethod
    def of(
        cls,
        certificates: Iterable[PlatformCertificate] = (),
        public_keys: Mapping[str, KeySource] | None = None,
    ) -> PlatformKeys:
        """A record from certificates (e.g. ``client.certificates.download()``) and public keys.

        A public key may be anything ``certs=`` accepts (PEM text, a path, a key object).
        """
        pems = {key_id: _public_pem(key_id, source) for key_id, source in (public_keys or {}).items()}
        return cls({item.serial: item.pem for item in certificates}, pems)

    @property
    def key_ids(self) -> tuple[str, ...]:
        """Every serial and ``PUB_KEY_ID_...`` of the record."""
        return (*self.certificates, *self.public_keys)

    def key_ring(self) -> KeyRing:
        """The record as a :class:`KeyRing` (what a client trusts); parsed once, when made."""
        return self._ring

    def platform_certificates(self) -> list[PlatformCertificate]:
        """The certificates, parsed (for :func:`~.certificates.needs_refresh`)."""
        return list(self._parsed)

    def with_certificates(self, certificates: Iterable[PlatformCertificate], *, now: float) -> PlatformKeys:
        """This record plus ``certificates`` (same serial: replaced), without those expired at ``now``.

        What ``client.certificates.refresh()`` does to a trust ring, for a stored record; the
        public keys stay. The result has version 0: save it with the version you loaded.
        """
        merged = {item.serial: item for item in (*self._parsed, *certificates)}
        kept = [item for item in merged.values() if item.not_after.timestamp() >= now]
        return PlatformKeys({item.serial: item.pem for item in kept}, self.public_keys)

    def __len__(self) -> int:
        return len(self.certificates) + len(self.public_keys)


@runtime_checkable
class KeyStore(Protocol):
    """What every platform-key store offers (see the module docstring for the contract)."""

    @property
    def read_only(self) -> bool: ...

    def load(self, mchid: str) -> PlatformKeys | None: ...

    def save(self, mchid: str, keys: PlatformKeys, expected_version: int) -> bool: ...

    def acquire_lease(self, mchid: str, owner: str, ttl: float) -> bool: ...

    def release_lease(self, mchid: str, owner: str) -> bool: ...

    def merchants_for(self, key_id: str) -> frozenset[str]: ...


class MemoryKeyStore:
    """A store in this process's memory (thread-safe): the default, one trust ring per process."""

    read_only = False

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: dict[str, PlatformKeys] = {}
        self._index: dict[str, set[str]] = {}  # index name -> the merchants holding that key
        self._leases: dict[str, tuple[str, float]] = {}  # mchid -> (owner, monotonic expiry)

    def load(self, mchid: str) -> PlatformKeys | None:
        check_merchant(mchid)
        with self._lock:
            return self._records.get(mchid)

    def save(self, mchid: str, keys: PlatformKeys, expected_version: int) -> bool:
        check_merchant(mchid)
        with self._lock:
            current = self._records.get(mchid)
            if (current.version if current else 0) != expected_version:
                return False
            if current is not None:  # only this merchant leaves its old keys' entries
                for key_id in current.key_ids:
                    self._index.get(index_name(key_id), set()).discard(mchid)
            self._records[mchid] = replace(keys, version=expected_version + 1)
            for key_id in keys.key_ids:
                self._index.setdefault(index_name(key_id), set()).add(mchid)
            return True

    def acquire_lease(self, mchid: str, owner: str, ttl: float) -> bool:
        check_lease(mchid, owner, ttl)
        with self._lock:
            now = time.monotonic()
            holder = self._leases.get(mchid)
            if holder is not None and holder[0] != owner and holder[1] > now:
                return False
            self._leases[mchid] = (owner, now + ttl)
            return True

    def release_lease(self, mchid: str, owner: str) -> bool:
        check_merchant(mchid)
        with self._lock:
            holder = self._leases.get(mchid)
            if holder is None or holder[0] != owner or holder[1] <= time.monotonic():
                return False
            del self._leases[mchid]
            return True

    def merchants_for(self, key_id: str) -> frozenset[str]:
        with self._lock:
            return frozenset(self._index.get(index_name(key_id), ()))


class ReadOnlyKeyStore:
    """A view of a store that loads and looks up, and refuses ``save`` and leases.

    For processes that must never call ``v3/certificates`` (webhook workers, serverless
    functions): they read what a refreshing node saved. A refusal is a ``ConfigError``,
    since reaching one means the code that holds this store tried to refresh.
    """

    read_only = True

    def __init__(self, store: KeyStore) -> None:
        self.store = store

    def load(self, mchid: str) -> PlatformKeys | None:
        return self.store.load(mchid)

    def merchants_for(self, key_id: str) -> frozenset[str]:
        return self.store.merchants_for(key_id)

    def save(self, mchid: str, keys: PlatformKeys, expected_version: int) -> bool:
        raise ConfigError(_STORE, "read-only: this process does not save platform keys")

    def acquire_lease(self, mchid: str, owner: str, ttl: float) -> bool:
        raise ConfigError(_STORE, "read-only: this process does not refresh platform keys (no lease)")

    def release_lease(self, mchid: str, owner: str) -> bool:
        raise ConfigError(_STORE, "read-only: this process holds no lease")


def read_only(store: KeyStore) -> KeyStore:
    """``store`` seen read-only (a :class:`ReadOnlyKeyStore`; one already read-only as it is)."""
    return store if store.read_only else ReadOnlyKeyStore(store)


def check_merchant(mchid: str) -> None:
    """A merchant number names a folder and a Redis key: digits only (as the platform issues them)."""
    if not (isinstance(mchid, str) and mchid.isascii() and mchid.isdigit() and len(mchid) <= 32):
        raise ConfigError("mchid", "a merchant number is digits only")


def check_lease(mchid: str, owner: str, ttl: float) -> None:
    check_merchant(mchid)
    if not (isinstance(owner, str) and owner):
        raise ConfigError("owner", "a lease owner is a non-empty string (unique per node and attempt)")
    if not ttl > 0:
        raise ConfigError("ttl", "a lease lasts a positive number of seconds")


def _certificate(serial: object, pem: object) -> PlatformCertificate:
    text = _public_text(serial, pem)
    if not HEX_SERIAL.fullmatch(text[0]):
        raise ConfigError(_STORE, f"{text[0]}: a certificate is named by its upper-case hex serial")
    try:
        return PlatformCertificate.from_pem(text[1], serial=text[0])
    except SignatureError as exc:
        raise ConfigError(_STORE, f"{text[0]}: {exc.args[0] if exc.args else exc}") from None


def _public_key(key_id: object, pem: object) -> rsa.RSAPublicKey:
    name, text = _public_text(key_id, pem)
    if not _PUBLIC_KEY_ID.fullmatch(name):  # it becomes a file name: letters, digits, underscores
        raise ConfigError(_STORE, f"{name!r}: a platform public key is named {PUBLIC_KEY_ID_PREFIX}<letters, digits>")
    if "-----BEGIN PUBLIC KEY-----" not in text:
        raise ConfigError(_STORE, f"{name}: not a PEM public key")
    try:
        return load_public_key(text, argument=name)
    except ConfigError as exc:
        raise ConfigError(_STORE, f"{name}: {exc.reason}") from None


def _public_text(key_id: object, pem: object) -> tuple[str, str]:
    """(key id, PEM text), refusing private keys before anything parses them."""
    if not (isinstance(key_id, str) and key_id and isinstance(pem, str)):
        raise ConfigError(_STORE, "key ids and PEM texts are strings")
    if "PRIVATE KEY" in pem:
        raise ConfigError(
            _STORE,
            f"{key_id}: a private key; a key store holds only platform certificates and public keys",
        )
    return key_id, pem


def _public_pem(key_id: str, source: KeySource) -> str:
    key = load_public_key(source, argument=f"public_keys[{key_id!r}]")
    pem = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return pem.decode("ascii")
