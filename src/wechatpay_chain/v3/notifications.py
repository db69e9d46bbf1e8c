"""Webhook notifications (APIv3), sans-I/O: verify, decrypt, acknowledge; and build them.

The merchant side::

    event = parse_notification(headers, raw_body, keys=trusted_keys, apiv3_key=key)
    event.event_type            # "TRANSACTION.SUCCESS"
    event.resource["out_trade_no"]
    event["resource"]           # the same dict: a Notification is also a read-only mapping
    status, headers, body = ack()                       # 204, no body: "received"
    status, headers, body = ack(False, "busy", status=503)  # the platform retries

``parse_notification`` runs these checks in order and stops at the first failure:

1. signature probe: a ``Wechatpay-Signature`` starting with ``WECHATPAY/SIGNTEST/``
   is the platform testing that the merchant verifies; ``SignatureError`` (check
   ``signature``), never accepted;
2. ``protocol.verify_signed_message``: the four ``Wechatpay-*`` headers, the 300 s
   window, a trusted serial, the RSA-SHA256 signature over the raw body bytes;
3. the body is a JSON object (``SignatureError``, check ``body``: it is what the
   signature covers, so a signed body that is no event is refused like a bad one);
4. ``resource`` is an ``AEAD_AES_256_GCM`` envelope and opens with the APIv3 key
   (``DecryptionError``: a tampered ciphertext or a wrong key never yields data);
5. the plaintext is a JSON object (``DecryptionError``).

Answer every failure with ``ack(False, ...)`` (4xx/5xx): the platform then retries,
and a probe is satisfied only by a refusal.

The platform side (``build_notification``) encrypts and signs an event exactly the way
the platform does; the mock platform and the tests use it.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from types import MappingProxyType
from typing import Any, NamedTuple

from cryptography.hazmat.primitives.asymmetric import rsa

from ..errors import ConfigError, DecryptionError, SignatureError
from ..trust.crypto import AES_GCM_ALGORITHM, KeyText, aes_gcm_decrypt, aes_gcm_encrypt, seal
from .protocol import dump_json, find_header, new_nonce, sign_answer_headers, verify_signed_message

__all__ = [
    "SIGNATURE_PROBE_PREFIX",
    "Acknowledgement",
    "Notification",
    "ack",
    "build_notification",
    "decrypt_resource",
    "is_signature_probe",
    "parse_notification",
]

SIGNATURE_PROBE_PREFIX = "WECHATPAY/SIGNTEST/"
_CHINA_STANDARD_TIME = timezone(timedelta(hours=8))  # the platform writes create_time in +08:00
_RESOURCE_NONCE_LENGTH = 12  # AES-GCM's natural 96-bit nonce, as the platform sends it
_DEFAULT_SUMMARIES = {
    "TRANSACTION.SUCCESS": "支付成功",
    "REFUND.SUCCESS": "退款成功",
    "REFUND.ABNORMAL": "退款异常",
    "REFUND.CLOSED": "退款关闭",
}


@dataclass(frozen=True)
class Notification(Mapping[str, Any]):
    """A verified, decrypted notification event.

    Attribute access for the envelope fields (``id``, ``create_time``, ``event_type``,
    ``resource_type``, ``summary``) and the decrypted ``resource`` dict; mapping access
    (``event["resource"]``, ``dict(event)``, ``json.dumps(dict(event))``) over the event as
    received with ``resource`` replaced by its plaintext. ``raw`` is the event exactly as
    received (encrypted resource included) and ``serial`` the platform key that signed it;
    ``mchid`` the merchant whose keys verified it (set by ``client.notifications`` and
    ``fleet.notifications``; empty from :func:`parse_notification` alone).
    """

    id: str
    create_time: str
    event_type: str
    resource_type: str
    summary: str
    resource: dict[str, Any]
    raw: Mapping[str, Any] = field(repr=False)
    serial: str = ""
    mchid: str = ""

    @property
    def original_type(self) -> str:
        """The kind of object inside ``resource`` (``transaction``, ``refund``, ...)."""
        encrypted = self.raw.get("resource")
        value = encrypted.get("original_type") if isinstance(encrypted, Mapping) else None
        return value if isinstance(value, str) else ""

    def __getitem__(self, key: str) -> Any:
        if key == "resource":
            return self.resource
        return self.raw[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.raw)

    def __len__(self) -> int:
        return len(self.raw)

    def to_dict(self) -> dict[str, Any]:
        """A plain dict of the event with the decrypted resource (for logging, queues)."""
        return dict(self)


class Acknowledgement(NamedTuple):
    """The HTTP answer to a notification: unpack as ``status, headers, body``."""

    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def success(self) -> bool:
        """True for the 2xx answer that stops the platform's retries."""
        return self.status < 300


def is_signature_probe(headers: Mapping[str, str]) -> bool:
    """True when the request is one of the platform's signature probes.

    The platform now and then sends a notification whose ``Wechatpay-Signature`` starts
    with ``WECHATPAY/SIGNTEST/`` to check that the merchant verifies signatures. Such a
    request is refused by :func:`parse_notification` like any bad signature; this helper
    only lets a webhook log it as expected traffic instead of an attack.
    """
    signature = find_header(headers, "Wechatpay-Signature")
    return signature is not None and signature.startswith(SIGNATURE_PROBE_PREFIX)


def parse_notification(
    headers: Mapping[str, str],
    body: bytes | str,
    *,
    keys: Mapping[str, rsa.RSAPublicKey],
    apiv3_key: KeyText,
    now: Callable[[], float] = time.time,
) -> Notification:
    """Verify and decrypt one notification; raise ``SignatureError`` or ``DecryptionError``.

    ``headers`` is any mapping (names in any case); ``body`` the raw request body exactly as
    received (a ``str`` is UTF-8 encoded: pass bytes when the framework gives them, since
    a re-encoded body no longer matches the signature). ``keys`` maps serials and
    ``PUB_KEY_ID_...`` ids to the platform keys we trust (a ``certs.KeyRing`` fits).
    """
    apiv3_key = seal(apiv3_key)  # this frame raises: hold the key wrapped (see crypto.Secret)
    raw_body = _body_bytes(body)
    if is_signature_probe(headers):
        raise SignatureError(
            "signature",
            f"signature probe ({SIGNATURE_PROBE_PREFIX}...): the platform checks that "
            "unverified notifications are refused; answer with a failure",
        )
    serial = _verify_signature(headers, raw_body, keys, now)
    event = _load_json_object(raw_body)
    if event is None:
        raise SignatureError("body", "the signed body is not a JSON object")
    resource = decrypt_resource(event.get("resource"), apiv3_key)
    return Notification(
        id=_text(event.get("id")),
        create_time=_text(event.get("create_time")),
        event_type=_text(event.get("event_type")),
        resource_type=_text(event.get("resource_type")),
        summary=_text(event.get("summary")),
        resource=resource,
        raw=MappingProxyType(event),
        serial=serial,
    )


def decrypt_resource(resource: Any, apiv3_key: KeyText) -> dict[str, Any]:
    """Open an encrypted ``resource`` object (notifications and the like) into a dict."""
    apiv3_key = seal(apiv3_key)
    if not isinstance(resource, Mapping):
        raise DecryptionError("the event has no resource object")
    algorithm = resource.get("algorithm")
    if algorithm != AES_GCM_ALGORITHM:
        raise DecryptionError(f"resource algorithm is not {AES_GCM_ALGORITHM}")
    nonce = resource.get("nonce")
    ciphertext = resource.get("ciphertext")
    associated_data = resource.get("associated_data", "")
    if associated_data is None:  # some envelopes carry an explicit null
        associated_data = ""
    if not isinstance(nonce, str) or not isinstance(ciphertext, str):
        raise DecryptionError("resource nonce and ciphertext must be strings")
    if not isinstance(associated_data, str):
        raise DecryptionError("resource associated_data must be a string")
    plaintext = aes_gcm_decrypt(apiv3_key, nonce, ciphertext, associated_data)
    decrypted = _load_json_object(plaintext)
    if decrypted is None:
        raise DecryptionError("the decrypted resource is not a JSON object")
    return decrypted


def ack(success: bool = True, message: str | None = None, *, status: int | None = None) -> Acknowledgement:
    """The answer the platform expects to a notification.

    Success: HTTP 204 (or the ``status`` given, 200 or 204) with no body, as documented
    ("接收成功：HTTP应答状态码需返回200或204，无需返回应答报文"). Failure: HTTP 500 (or a
    4xx/5xx ``status``; 401 suits a ``SignatureError``) with
    ``{"code": "FAIL", "message": ...}``; the platform then retries the notification.
    """
    if success:
        code = 204 if status is None else status
        if code not in (200, 204):
            raise ConfigError("status", "a success acknowledgement is 200 or 204")
        return Acknowledgement(code, {}, b"")
    code = 500 if status is None else status
    if not 400 <= code <= 599:
        raise ConfigError("status", "a failure acknowledgement is 4xx or 5xx")
    body = dump_json({"code": "FAIL", "message": message or "failed"})
    return Acknowledgement(code, {"Content-Type": "application/json"}, body)


def build_notification(
    event_type: str,
    resource: Mapping[str, Any],
    *,
    apiv3_key: KeyText,
    platform_key: rsa.RSAPrivateKey,
    serial: str,
    now: Callable[[], float] = time.time,
    summary: str | None = None,
    original_type: str = "transaction",
    associated_data: str | None = None,
    resource_nonce: str | None = None,
    signature_nonce: str | None = None,
    event_id: str | None = None,
    signature_probe: bool = False,
) -> tuple[dict[str, str], bytes]:
    """Encrypt, wrap and sign an event as the platform does; return ``(headers, body)``.

    ``associated_data`` defaults to ``original_type`` (the platform sends e.g.
    ``transaction``), ``resource_nonce`` to a random 12-character string,
    ``signature_nonce`` to a random 32-character one. ``signature_probe=True`` replaces the
    signature with a ``WECHATPAY/SIGNTEST/`` probe, to test that a webhook refuses it.
    """
    timestamp = int(now())
    aad = original_type if associated_data is None else associated_data
    nonce = resource_nonce or new_nonce(_RESOURCE_NONCE_LENGTH)
    if summary is None:
        summary = _DEFAULT_SUMMARIES.get(event_type, event_type)
    event = {
        "id": event_id or str(uuid.uuid4()),
        "create_time": datetime.fromtimestamp(timestamp, _CHINA_STANDARD_TIME).isoformat(),
        "resource_type": "encrypt-resource",
        "event_type": event_type,
        "summary": summary,
        "resource": {
            "original_type": original_type,
            "algorithm": AES_GCM_ALGORITHM,
            "ciphertext": aes_gcm_encrypt(apiv3_key, nonce, dump_json(dict(resource)), aad),
            "associated_data": aad,
            "nonce": nonce,
        },
    }
    body = dump_json(event)
    headers = sign_answer_headers(
        platform_key, serial, body, timestamp=str(timestamp), nonce=signature_nonce or new_nonce()
    )
    if signature_probe:
        headers["Wechatpay-Signature"] = SIGNATURE_PROBE_PREFIX + new_nonce(64)
    headers["Content-Type"] = "application/json"
    return headers, body


def _body_bytes(body: bytes | str) -> bytes:
    if isinstance(body, bytes):
        return body
    try:
        return body.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: nothing the platform can have sent
        raise SignatureError("body", "the body is not encodable as UTF-8") from None


def _verify_signature(
    headers: Mapping[str, str],
    body: bytes,
    keys: Mapping[str, rsa.RSAPublicKey],
    now: Callable[[], float],
) -> str:
    try:
        return verify_signed_message(headers, body, keys, now=now)
    except OverflowError:
        # A timestamp of hundreds of digits parses as an int but cannot be compared with
        # the float clock; it is no timestamp the platform sends.
        raise SignatureError("timestamp", "Wechatpay-Timestamp is out of range") from None


def _load_json_object(data: bytes) -> dict[str, Any] | None:
    """Parse a JSON object; None for anything else (bad UTF-8, bad JSON, not an object)."""
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None
    return value if isinstance(value, dict) else None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
