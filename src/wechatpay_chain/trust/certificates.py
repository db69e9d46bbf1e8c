"""Platform keys, sans-I/O: the ``GET v3/certificates`` answer, PEM files, and the key ring.

The platform signs answers and notifications, and receives sensitive fields encrypted,
with one of two kinds of key, named in ``Wechatpay-Serial``:

* public-key mode: a PEM public key downloaded from the merchant platform, named by an id
  starting with ``PUB_KEY_ID_``; it does not expire;
* certificate mode: platform certificates (X.509, five years) named by their serial
  number in upper-case hex, fetched with ``GET v3/certificates`` and rotated: a new one is
  delivered before the old one expires and both sign for a while.

A merchant migrating from certificates to the public key holds both for about a week:
the platform moves notifications over gradually, so either kind may sign. A
:class:`KeyRing` holds both kinds side by side, and is what a client trusts.

``GET v3/certificates`` answers ``{"data": [{"serial_no", "effective_time",
"expire_time", "encrypt_certificate": {"algorithm", "nonce", "associated_data",
"ciphertext"}}]}``: each PEM is AES-256-GCM encrypted with the APIv3 key. The answer is
verified with the certificates it delivers (or keys already trusted); the trust rests
on the APIv3 key, which only the platform and the merchant know. Decisions here:

* a certificate whose serial differs from its ``serial_no``, that is no RSA certificate,
  or that a trusted key of the same serial contradicts: ``SignatureError`` (check
  ``certificate``), the whole answer is refused;
* a certificate outside its validity dates is skipped (logged on the
  ``wechatpay_chain.trust.certificates`` logger with the reason): the platform never signs with an
  expired one and merchants must drop them, but one stale entry must not block a
  rotation. An answer with no valid certificate at all is a ``SignatureError``.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from ..errors import ConfigError, DecryptionError, SignatureError
from ..v3.protocol import verify_signed_message
from .crypto import AES_GCM_ALGORITHM, KeyText, aes_gcm_decrypt
from .files import write_atomically
from .keyring import HEX_SERIAL, PUBLIC_KEY_ID_PREFIX, KeyRing

__all__ = [
    "PUBLIC_KEY_ID_PREFIX",
    "REFRESH_MARGIN",
    "KeyRing",
    "PlatformCertificate",
    "decrypt_certificates",
    "needs_refresh",
    "parse_certificates_answer",
    "verify_with_delivered",
    "write_pem_files",
]

# The platform issues the next certificate at least ten days before the current one
# expires and recommends fetching daily; refreshing inside this margin catches it.
REFRESH_MARGIN = timedelta(days=10)
_logger = logging.getLogger("wechatpay_chain.trust.certificates")


@dataclass(frozen=True)
class PlatformCertificate:
    """One platform certificate: its serial, PEM text, public key and validity window."""

    serial: str  # as the platform writes it in Wechatpay-Serial: upper-case hex
    pem: str = field(repr=False)
    not_before: datetime  # aware, UTC
    not_after: datetime  # aware, UTC
    certificate: x509.Certificate = field(repr=False, compare=False)
    public_key: rsa.RSAPublicKey = field(repr=False, compare=False)

    @classmethod
    def from_pem(cls, pem: str | bytes, serial: str | None = None) -> PlatformCertificate:
        """Load a PEM certificate; ``serial`` (e.g. ``serial_no``) must then match it.

        Raises ``SignatureError`` (check ``certificate``) for anything that is not an RSA
        X.509 certificate or whose serial differs.
        """
        data = pem.encode("ascii", errors="replace") if isinstance(pem, str) else pem
        try:
            certificate = x509.load_pem_x509_certificate(data)
        except ValueError:
            raise SignatureError("certificate", "not a PEM X.509 certificate") from None
        public_key = certificate.public_key()
        if not isinstance(public_key, rsa.RSAPublicKey):
            raise SignatureError("certificate", f"expected an RSA key, got {type(public_key).__name__}")
        actual = format(certificate.serial_number, "X")
        if serial is None:
            serial = actual
        elif not _same_serial(serial, certificate.serial_number):
            raise SignatureError(
                "certificate",
                f"serial_no {serial} does not match the certificate's serial {actual}",
            )
        return cls(
            serial=serial.upper(),
            pem=data.decode("ascii", errors="replace"),
            not_before=certificate.not_valid_before_utc,
            not_after=certificate.not_valid_after_utc,
            certificate=certificate,
            public_key=public_key,
        )

    def is_valid_at(self, when: float) -> bool:
        """True when ``when`` (epoch seconds) lies inside the validity window."""
        moment = datetime.fromtimestamp(when, UTC)
        return self.not_before <= moment <= self.not_after


def decrypt_certificates(
    answer: Mapping[str, Any],
    apiv3_key: KeyText,
    *,
    now: Callable[[], float] = time.time,
) -> list[PlatformCertificate]:
    """Decrypt and check each certificate of a ``GET v3/certificates`` answer (parsed JSON).

    Returns the certificates valid at ``now()``, in answer order, one per serial; see the
    module docstring for what is refused and what is skipped.
    """
    entries = answer.get("data")
    if not isinstance(entries, list):
        raise SignatureError("certificate", "the answer has no data list")
    moment = now()
    valid: dict[str, PlatformCertificate] = {}
    skipped: list[str] = []
    for entry in entries:
        certificate = _decrypt_entry(entry, apiv3_key)
        if certificate.is_valid_at(moment):
            valid.setdefault(certificate.serial, certificate)
            continue
        reason = _invalid_reason(certificate, moment)
        _logger.warning("platform certificate %s skipped: %s", certificate.serial, reason)
        skipped.append(f"{certificate.serial} {reason}")
    if not valid:
        detail = "; ".join(skipped) if skipped else "the answer lists none"
        raise SignatureError("certificate", f"no platform certificate is valid now ({detail})")
    return list(valid.values())


def verify_with_delivered(
    headers: Mapping[str, str],
    body: bytes,
    certificates: Iterable[PlatformCertificate],
    *,
    trusted: Mapping[str, rsa.RSAPublicKey] | None = None,
    now: Callable[[], float] = time.time,
) -> str:
    """Verify the ``v3/certificates`` answer with the certificates it delivered or ``trusted``.

    Returns the serial that signed. A delivered certificate whose serial a trusted key
    already names with a different key is refused (``SignatureError``, check
    ``certificate``): a rotation brings new serials, never new keys under old ones.
    """
    delivered = list(certificates)  # iterated twice below
    ring = KeyRing(trusted or {})
    for certificate in delivered:
        known = ring.get(certificate.serial)
        if known is not None and known.public_numbers() != certificate.public_key.public_numbers():
            raise SignatureError(
                "certificate",
                f"certificate {certificate.serial} differs from the trusted key of that serial",
            )
    ring = ring.with_certificates(delivered)
    return verify_signed_message(headers, body, ring, now=now)


def parse_certificates_answer(
    headers: Mapping[str, str],
    body: bytes,
    apiv3_key: KeyText,
    *,
    trusted: Mapping[str, rsa.RSAPublicKey] | None = None,
    now: Callable[[], float] = time.time,
) -> list[PlatformCertificate]:
    """The whole check of a ``GET v3/certificates`` answer: decrypt, verify, return."""
    try:
        answer = json.loads(body)
    except (ValueError, RecursionError):
        answer = None
    if not isinstance(answer, dict):
        raise SignatureError("body", "the certificates answer is not a JSON object")
    certificates = decrypt_certificates(answer, apiv3_key, now=now)
    verify_with_delivered(headers, body, certificates, trusted=trusted, now=now)
    return certificates


def write_pem_files(certificates: Iterable[PlatformCertificate], out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write each certificate to ``out_dir/<serial>.pem``; return the paths.

    Each file is written to a temporary file in the same folder and moved into place with
    ``os.replace``, so a reader never sees a half-written certificate under its final name.
    """
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for certificate in certificates:
        if not HEX_SERIAL.fullmatch(certificate.serial):  # the serial becomes a file name
            raise ConfigError("certificates", f"serial {certificate.serial!r} is not upper-case hex")
        target = folder / f"{certificate.serial}.pem"
        write_atomically(target, certificate.pem)
        written.append(target)
    return written


def needs_refresh(
    certificates: Sequence[PlatformCertificate],
    *,
    now: Callable[[], float] = time.time,
    margin: timedelta = REFRESH_MARGIN,
) -> bool:
    """True when no certificate is valid now or the longest-lived one expires within ``margin``.

    A pure predicate: a client pairs it with a minimum interval between fetches (a new
    certificate may not be issued yet when the margin starts).
    """
    moment = now()
    current = [certificate for certificate in certificates if certificate.is_valid_at(moment)]
    if not current:
        return True
    latest = max(certificate.not_after for certificate in current)
    return latest - datetime.fromtimestamp(moment, UTC) <= margin


def _decrypt_entry(entry: Any, apiv3_key: KeyText) -> PlatformCertificate:
    if not isinstance(entry, Mapping):
        raise SignatureError("certificate", "a data entry is not an object")
    serial_no = entry.get("serial_no")
    sealed = entry.get("encrypt_certificate")
    if not isinstance(serial_no, str) or not isinstance(sealed, Mapping):
        raise SignatureError("certificate", "an entry lacks serial_no or encrypt_certificate")
    if sealed.get("algorithm") != AES_GCM_ALGORITHM:
        raise DecryptionError(f"certificate {serial_no}: algorithm is not {AES_GCM_ALGORITHM}")
    nonce = sealed.get("nonce")
    ciphertext = sealed.get("ciphertext")
    associated_data = sealed.get("associated_data") or ""
    if not (isinstance(nonce, str) and isinstance(ciphertext, str) and isinstance(associated_data, str)):
        raise DecryptionError(f"certificate {serial_no}: nonce, ciphertext and associated_data must be strings")
    pem = aes_gcm_decrypt(apiv3_key, nonce, ciphertext, associated_data)
    return PlatformCertificate.from_pem(pem, serial=serial_no)


def _invalid_reason(certificate: PlatformCertificate, moment: float) -> str:
    when = datetime.fromtimestamp(moment, UTC)
    if when < certificate.not_before:
        return f"not valid before {certificate.not_before.isoformat()}"
    return f"expired {certificate.not_after.isoformat()}"


def _same_serial(text: str, number: int) -> bool:
    """Compare a hex serial as a number, so case and leading zeros do not matter."""
    # plain hex digits only: int(..., 16) would also take "0x" prefixes and underscores
    return HEX_SERIAL.fullmatch(text.upper()) is not None and int(text, 16) == number
