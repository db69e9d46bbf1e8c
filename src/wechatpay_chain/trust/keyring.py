"""The key ring: the platform keys a client trusts, by public key id or certificate serial.

Kept apart from :mod:`certs` so that a client needs no X.509 code until it handles
certificates (importing ``cryptography.x509`` costs tens of milliseconds).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from cryptography.hazmat.primitives.asymmetric import rsa

from ..errors import ConfigError
from .crypto import load_dated_public_key, load_public_key

if TYPE_CHECKING:
    from .crypto import KeySource


class Certified(Protocol):
    """What the ring keeps of a platform certificate (``certificates.Certified``)."""

    @property
    def serial(self) -> str: ...

    @property
    def public_key(self) -> rsa.RSAPublicKey: ...

    @property
    def not_after(self) -> datetime: ...


__all__ = ["HEX_SERIAL", "PUBLIC_KEY_ID_PREFIX", "KeyRing", "lookup_name"]

PUBLIC_KEY_ID_PREFIX = "PUB_KEY_ID_"
HEX_SERIAL = re.compile(r"[0-9A-F]+")  # a certificate serial as the platform writes it


@dataclass(frozen=True)
class _TrustedKey:
    key_id: str
    public_key: rsa.RSAPublicKey
    not_after: datetime | None  # known for certificates, None for public keys and bare keys


class KeyRing(Mapping[str, rsa.RSAPublicKey]):
    """The platform keys a client trusts, by ``PUB_KEY_ID_...`` id or certificate serial.

    A read-only mapping (pass it as ``keys=`` to the verifiers); updates return a new
    ring, so a client swaps its ring in one assignment and readers never see a half
    update. Lookups ignore case, and leading zeros of serials.

    Encryption rule (:meth:`preferred_encryption_key`): the public key when one is
    configured (the first one added), since the platform's migration moves encryption
    and verification to it and answers with it when requests name it; otherwise the
    certificate valid at ``now`` that expires last. Verification accepts every key in
    the ring, so both modes verify during a migration.
    """

    __slots__ = ("_entries",)

    def __init__(
        self,
        keys: Mapping[str, KeySource] | None = None,
        *,
        certificates: Iterable[Certified] = (),
        argument: str = "keys",
    ) -> None:
        entries: dict[str, _TrustedKey] = {}
        for key_id, source in (keys or {}).items():
            # A certificate keeps its expiry (certs={"<serial>": certificate}): the refresh
            # trigger checks the dates of what is trusted; a bare key has none.
            public_key, not_after = load_dated_public_key(source, argument=f"{argument}[{key_id!r}]")
            if key_id.startswith(PUBLIC_KEY_ID_PREFIX):
                not_after = None  # public-key mode: nothing expires
            entries[lookup_name(key_id)] = _TrustedKey(key_id, public_key, not_after)
        for certificate in certificates:
            entries[lookup_name(certificate.serial)] = _TrustedKey(
                certificate.serial, certificate.public_key, certificate.not_after
            )
        self._entries = entries

    def __getitem__(self, key_id: str) -> rsa.RSAPublicKey:
        return self._entries[lookup_name(key_id)].public_key

    def __iter__(self) -> Iterator[str]:
        return (entry.key_id for entry in self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"KeyRing({list(self)!r})"

    @property
    def public_key_ids(self) -> tuple[str, ...]:
        """The ``PUB_KEY_ID_...`` ids (public-key mode)."""
        return tuple(key_id for key_id in self if key_id.startswith(PUBLIC_KEY_ID_PREFIX))

    @property
    def certificate_serials(self) -> tuple[str, ...]:
        """The certificate serials (certificate mode)."""
        return tuple(key_id for key_id in self if not key_id.startswith(PUBLIC_KEY_ID_PREFIX))

    def certificates_expire_within(self, margin: timedelta, now: float | None = None) -> bool:
        """Whether the certificate of the ring that lives longest (among those not expired at
        ``now``) expires within ``margin``; ``True`` when no certificate with known dates is
        left (a serial configured as a bare key: its expiry is unknown). Public keys never expire.
        """
        moment = datetime.fromtimestamp(time.time() if now is None else now, UTC)
        ends = [entry.not_after for entry in self._entries.values() if entry.not_after is not None]
        living = [end for end in ends if end >= moment]
        return not living or max(living) - moment <= margin

    def with_public_key(self, key_id: str, key: KeySource) -> KeyRing:
        """A ring with the public-key-mode key ``key_id`` (``PUB_KEY_ID_...``) added."""
        if not key_id.startswith(PUBLIC_KEY_ID_PREFIX):
            raise ConfigError("public_key_id", f"must start with {PUBLIC_KEY_ID_PREFIX}")
        public_key = load_public_key(key, argument="public_key")
        return self._with([_TrustedKey(key_id, public_key, None)])

    def with_certificates(self, certificates: Iterable[Certified]) -> KeyRing:
        """A ring with these certificates added (replacing entries of the same serial)."""
        return self._with([_TrustedKey(item.serial, item.public_key, item.not_after) for item in certificates])

    def without_expired(self, now: float | None = None) -> KeyRing:
        """A ring without the certificates expired at ``now`` (epoch seconds; default: now).

        The platform never signs with an expired certificate and asks merchants to drop
        them; public keys do not expire.
        """
        moment = datetime.fromtimestamp(time.time() if now is None else now, UTC)
        ring = KeyRing()
        ring._entries = {
            name: entry for name, entry in self._entries.items() if entry.not_after is None or entry.not_after >= moment
        }
        return ring

    def preferred_encryption_key(self, now: float | None = None) -> tuple[str, rsa.RSAPublicKey]:
        """``(key_id, key)`` to encrypt sensitive fields with and name in ``Wechatpay-Serial``.

        Raises ``ConfigError`` when the ring holds no usable key.
        """
        entries = list(self._entries.values())
        for entry in entries:
            if entry.key_id.startswith(PUBLIC_KEY_ID_PREFIX):
                return entry.key_id, entry.public_key
        moment = datetime.fromtimestamp(time.time() if now is None else now, UTC)
        usable = [entry for entry in entries if entry.not_after is None or entry.not_after >= moment]
        if not usable:
            raise ConfigError("certs", "no platform public key or valid platform certificate to encrypt with")
        # Certificates with known dates: the one living longest (the newest in a rotation);
        # bare keys without dates rank below them, the last added first.
        dated = [entry for entry in usable if entry.not_after is not None]
        best = max(dated, key=lambda entry: entry.not_after or moment) if dated else usable[-1]
        return best.key_id, best.public_key

    def _with(self, additions: Iterable[_TrustedKey]) -> KeyRing:
        ring = KeyRing()
        ring._entries = dict(self._entries)
        for entry in additions:
            ring._entries[lookup_name(entry.key_id)] = entry
        return ring


def lookup_name(key_id: str) -> str:
    """Ids compare without case; hex serials also without leading zeros (same number)."""
    name = key_id.upper()
    return (name.lstrip("0") or "0") if HEX_SERIAL.fullmatch(name) else name
