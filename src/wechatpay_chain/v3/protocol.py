"""The APIv3 protocol, sans-I/O: signing strings, Authorization, answer verification.

Everything here is a pure function of its arguments (keys, clock, nonce passed
in), imports no network library, and is shared by the client, the mock platform
and the notification parser.

Request:  ``METHOD\\nREQUEST_TARGET\\nTIMESTAMP\\nNONCE\\nBODY\\n`` signed with the
merchant key -> ``Authorization: WECHATPAY2-SHA256-RSA2048 mchid="..",nonce_str="..",
signature="..",timestamp="..",serial_no=".."``.

Answer (and notification): ``TIMESTAMP\\nNONCE\\nBODY\\n`` signed by the platform,
carried in the ``Wechatpay-Timestamp/-Nonce/-Signature/-Serial`` headers.
"""

from __future__ import annotations

import base64
import hmac
import json
import re
import secrets
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric import rsa

from ..errors import SignatureError
from ..trust.crypto import rsa_sign, rsa_verify

if TYPE_CHECKING:
    from ..merchant_key import MerchantKey

__all__ = [
    "AUTH_SCHEMA",
    "MAX_CLOCK_SKEW",
    "STATEMENT_DIGEST_HEADER",
    "answer_signing_string",
    "authorization_header",
    "digest_matches",
    "dump_json",
    "find_header",
    "format_authorization",
    "new_nonce",
    "parse_authorization",
    "read_signed_headers",
    "request_signing_string",
    "sign_answer_headers",
    "trusted_key",
    "verify_digest_signed",
    "verify_signed_message",
]

AUTH_SCHEMA = "WECHATPAY2-SHA256-RSA2048"
MAX_CLOCK_SKEW = 300  # seconds, either way, as the platform documents
# Statements (overseas) carry the SHA1 of the body here and are signed over {"sha1": <it>};
# a spec names it as signature_digest_header, the spec importer writes this value there.
STATEMENT_DIGEST_HEADER = "Wechatpay-Statement-Sha1"
_NONCE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_AUTH_PARAM = re.compile(r'\s*([A-Za-z_]+)="([^"]*)"\s*(?:,|$)')
_AUTH_FIELDS = ("mchid", "nonce_str", "signature", "timestamp", "serial_no")


def new_nonce(length: int = 32) -> str:
    """A random string from the OS CSPRNG (the platform wants at most 32 characters).

    Hex from one read of the CSPRNG: 32 characters carry 128 bits, and cost one system
    call instead of one per character.
    """
    if length == 32:
        return secrets.token_hex(16)
    return "".join(secrets.choice(_NONCE_ALPHABET) for _ in range(length))


def dump_json(payload: Any) -> bytes:
    """The exact request body bytes: compact JSON, UTF-8, non-ASCII kept as is."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def request_signing_string(method: str, target: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    """``METHOD\\nTARGET\\nTIMESTAMP\\nNONCE\\nBODY\\n`` over the bytes that go on the wire."""
    head = f"{method.upper()}\n{target}\n{timestamp}\n{nonce}\n".encode()
    return head + body + b"\n"


def answer_signing_string(timestamp: str, nonce: str, body: bytes) -> bytes:
    """``TIMESTAMP\\nNONCE\\nBODY\\n``: what the platform signs on answers and notifications."""
    return f"{timestamp}\n{nonce}\n".encode() + body + b"\n"


def authorization_header(
    merchant: MerchantKey,
    *,
    mchid: str,
    method: str,
    target: str,
    body: bytes,
    timestamp: str,
    nonce: str,
) -> str:
    """The ``Authorization`` header value for one request, signed by ``merchant.signer``
    under ``merchant.serial`` (one pair: the serial is always the signing key's)."""
    signature = merchant.sign(request_signing_string(method, target, timestamp, nonce, body))
    return format_authorization(mchid, merchant.serial, timestamp, nonce, signature)


def format_authorization(mchid: str, serial: str, timestamp: str, nonce: str, signature: str) -> str:
    """The ``Authorization`` value around a base64 ``signature`` of the request signing string."""
    return (
        f'{AUTH_SCHEMA} mchid="{mchid}",nonce_str="{nonce}",signature="{signature}",'
        f'timestamp="{timestamp}",serial_no="{serial}"'
    )


def parse_authorization(value: str) -> dict[str, str]:
    """Split an ``Authorization`` header back into its five fields.

    Raises ``SignatureError`` (check ``authorization``) when the schema or a field
    is missing or the syntax is broken.
    """
    schema, _, params = value.strip().partition(" ")
    if schema != AUTH_SCHEMA:
        raise SignatureError("authorization", f"schema is not {AUTH_SCHEMA}")
    fields: dict[str, str] = {}
    position = 0
    params = params.strip()
    while position < len(params):
        match = _AUTH_PARAM.match(params, position)
        if match is None or match.end() == position:
            raise SignatureError("authorization", f"malformed parameter at offset {position}")
        fields[match.group(1)] = match.group(2)
        position = match.end()
    missing = [name for name in _AUTH_FIELDS if not fields.get(name)]
    if missing:
        raise SignatureError("authorization", f"missing {', '.join(missing)}")
    return fields


def find_header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive header lookup over any mapping (plain dicts included)."""
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    for key, candidate in headers.items():
        if key.lower() == lowered:
            return candidate
    return None


def verify_signed_message(
    headers: Mapping[str, str],
    body: bytes,
    keys: Mapping[str, rsa.RSAPublicKey],
    *,
    now: Callable[[], float],
) -> str:
    """Verify a platform-signed answer or notification; return the serial that signed it.

    Checks, in order, each failing with its own ``SignatureError.check``:
    ``headers`` (the four Wechatpay-* present), ``timestamp`` (an integer within
    300 s of ``now()``), ``serial`` (a key we trust), ``signature`` (RSA-SHA256
    over ``TIMESTAMP\\nNONCE\\nBODY\\n`` on the raw body bytes).
    """
    timestamp, nonce, signature, serial = read_signed_headers(headers, now=now)
    key = trusted_key(keys, serial)
    if not rsa_verify(key, answer_signing_string(timestamp, nonce, body), signature):
        raise SignatureError("signature", "RSA-SHA256 signature does not match the body")
    return serial


def trusted_key(keys: Mapping[str, rsa.RSAPublicKey], serial: str) -> rsa.RSAPublicKey:
    """The trusted platform key of ``serial`` (``Wechatpay-Serial``); ``SignatureError("serial")`` if none."""
    key = keys.get(serial)
    if key is None:
        raise SignatureError("serial", f"Wechatpay-Serial {serial!r} is not a trusted platform key")
    return key


def read_signed_headers(headers: Mapping[str, str], *, now: Callable[[], float]) -> tuple[str, str, str, str]:
    """(timestamp, nonce, signature, serial) once the four headers are there and the
    timestamp is an integer within 300 s of ``now()``; ``SignatureError`` otherwise."""
    timestamp = find_header(headers, "Wechatpay-Timestamp")
    nonce = find_header(headers, "Wechatpay-Nonce")
    signature = find_header(headers, "Wechatpay-Signature")
    serial = find_header(headers, "Wechatpay-Serial")
    missing = [
        name
        for name, value in (
            ("Wechatpay-Timestamp", timestamp),
            ("Wechatpay-Nonce", nonce),
            ("Wechatpay-Signature", signature),
            ("Wechatpay-Serial", serial),
        )
        if not value
    ]
    if missing:
        raise SignatureError("headers", f"missing {', '.join(missing)}")
    assert timestamp and nonce and signature and serial  # narrowed by the check above
    # ASCII digits only, and no more than a clock can hold: int() alone would take
    # "1_700_000_000", " 17 " or non-ASCII digits, and overflow the float clock.
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        raise SignatureError("timestamp", "Wechatpay-Timestamp is not an integer")
    signed_at = int(timestamp)
    skew = now() - signed_at
    if abs(skew) > MAX_CLOCK_SKEW:
        direction = "old" if skew > 0 else "in the future"
        raise SignatureError("timestamp", f"answer is {abs(int(skew))} s {direction} (limit {MAX_CLOCK_SKEW} s)")
    return timestamp, nonce, signature, serial


def digest_matches(digest: bytes, announced: str) -> bool:
    """``announced`` names ``digest`` (hex in any case, or base64), compared in constant time."""
    text = announced.strip()
    return hmac.compare_digest(digest.hex(), text.lower()) or hmac.compare_digest(
        base64.b64encode(digest).decode("ascii"), text
    )


def verify_digest_signed(
    headers: Mapping[str, str], digest_header: str, keys: Mapping[str, rsa.RSAPublicKey], *, now: Callable[[], float]
) -> str:
    """Statements: the platform signs ``{"sha1":"<digest header>"}`` instead of the body.

    The caller checks that the digest covers the body (the plain CSV, inflated when gzip).
    """
    digest = find_header(headers, digest_header)
    if not digest:
        raise SignatureError("headers", f"missing {digest_header}")
    return verify_signed_message(headers, dump_json({"sha1": digest}), keys, now=now)


def sign_answer_headers(
    key: rsa.RSAPrivateKey, serial: str, body: bytes, *, timestamp: str, nonce: str
) -> dict[str, str]:
    """The four Wechatpay-* headers for an answer (the platform's side; used by the mock)."""
    return {
        "Wechatpay-Timestamp": timestamp,
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Signature": rsa_sign(key, answer_signing_string(timestamp, nonce, body)),
        "Wechatpay-Serial": serial,
    }
