"""The v2 sign: MD5 or HMAC-SHA256 over sorted ``k=v`` pairs and the v2 secret.

``sign = UPPER(HEX(H("k1=v1&k2=v2&...&key=SECRET")))`` where the pairs are the
fields sorted by the bytes of their names, without the ``sign`` field and without
fields whose text is empty; ``H`` is MD5, or HMAC-SHA256 keyed with the secret.
Values are the exact text :func:`~wechatpay_chain.v2.codec.field_text` writes on
the wire (JSON for dict/list ``x-json`` fields), so the sign covers what is sent.

The same sign serves requests, answers, payment notifications, signed GET query
strings and the JSAPI/APP pay-sign parameter sets.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

from ..errors import ConfigError, FieldProblem, ValidationError
from ..trust.crypto import KeyText, key_bytes
from ..v3.protocol import new_nonce
from .codec import field_text

__all__ = [
    "HMAC_SHA256",
    "MD5",
    "SIGN_TYPES",
    "app_paysign_v2",
    "detect_sign_type",
    "jsapi_paysign_v2",
    "resolve_sign_type",
    "sign_v2",
    "signed_query",
    "v2_signing_string",
    "verify_v2_sign",
]

MD5 = "MD5"
HMAC_SHA256 = "HMAC-SHA256"
SIGN_TYPES = (MD5, HMAC_SHA256)
_HEX_LENGTHS = {32: MD5, 64: HMAC_SHA256}


def _normalise_sign_type(sign_type: str) -> str | None:
    upper = sign_type.strip().upper()
    return upper if upper in SIGN_TYPES else None


def _signed_fields(params: Mapping[str, Any]) -> dict[str, str]:
    """The fields a sign covers, as wire text: no ``sign``, no empty values."""
    fields: dict[str, str] = {}
    for name, value in params.items():
        if name == "sign":
            continue
        text = field_text(name, value)
        if text:  # None and "" are not signed (nor sent, for None)
            fields[name] = text
    return fields


def v2_signing_string(params: Mapping[str, Any]) -> str:
    """``k1=v1&k2=v2...`` in byte order of the names, before ``&key=SECRET`` is added."""
    fields = _signed_fields(params)
    ordered = sorted(fields, key=lambda name: name.encode("utf-8"))
    return "&".join(f"{name}={fields[name]}" for name in ordered)


def sign_v2(params: Mapping[str, Any], secret: KeyText, sign_type: str = MD5) -> str:
    """The upper-case hex sign of ``params`` with the v2 secret (MD5 or HMAC-SHA256)."""
    algorithm = _normalise_sign_type(sign_type)
    if algorithm is None:
        raise ConfigError("sign_type", f"must be one of {', '.join(SIGN_TYPES)}")
    if not secret:
        raise ConfigError("secret", "the v2 secret is empty")
    signed = v2_signing_string(params).encode() + b"&key="
    # The secret is unwrapped only inside these expressions: no local ever holds it.
    if algorithm == MD5:
        return hashlib.md5(signed + key_bytes(secret)).hexdigest().upper()
    return hmac.new(key_bytes(secret), signed + key_bytes(secret), hashlib.sha256).hexdigest().upper()


def detect_sign_type(params: Mapping[str, Any]) -> str | None:
    """The algorithm of a received sign: its ``sign_type`` field, else the sign's length.

    32 hex characters is MD5, 64 is HMAC-SHA256. ``None`` when neither tells
    (no sign, an unknown ``sign_type``, another length).
    """
    declared = params.get("sign_type")
    if isinstance(declared, str) and declared:
        return _normalise_sign_type(declared)
    sign = params.get("sign")
    return _HEX_LENGTHS.get(len(sign)) if isinstance(sign, str) else None


def verify_v2_sign(params: Mapping[str, Any], secret: KeyText) -> bool:
    """True when ``params["sign"]`` is the sign of the other fields (constant-time compare)."""
    received = params.get("sign")
    algorithm = detect_sign_type(params)
    if not isinstance(received, str) or not received or algorithm is None:
        return False
    expected = sign_v2(params, secret, algorithm)
    return hmac.compare_digest(expected.encode("ascii"), received.upper().encode("utf-8"))


def resolve_sign_type(params: Mapping[str, Any], default: str, *, operation: str, part: str) -> str:
    """The algorithm to sign ``params`` with: their own ``sign_type`` wins over ``default``.

    A payload that names its algorithm must be signed with it, or the platform
    would check the sign with another one. Raises ``ValidationError`` (pointer
    ``/{part}/sign_type``) for an unknown value and ``ConfigError`` for a bad default.
    """
    declared = params.get("sign_type")
    if declared is None or declared == "":
        algorithm = _normalise_sign_type(default)
        if algorithm is None:
            raise ConfigError("sign_type", f"must be one of {', '.join(SIGN_TYPES)}")
        return algorithm
    algorithm = _normalise_sign_type(declared) if isinstance(declared, str) else None
    if algorithm is None:
        message = f"must be one of {', '.join(SIGN_TYPES)}"
        raise ValidationError(operation, [FieldProblem(f"/{part}/sign_type", "enum", message)])
    return algorithm


def signed_query(params: Mapping[str, Any], secret: KeyText, sign_type: str = MD5) -> str:
    """A signed, percent-encoded query string for v2 GET endpoints and redirect pages.

    Fields sorted by name, empty ones left out (as the sign leaves them out),
    ``sign_type`` added for HMAC-SHA256 when absent, ``sign`` last; spaces are
    ``%20``. Append it to the URL after ``?``.
    """
    algorithm = resolve_sign_type(params, sign_type, operation="v2 query", part="query")
    fields = _signed_fields(params)
    if algorithm == HMAC_SHA256:
        fields.setdefault("sign_type", HMAC_SHA256)
    ordered = [(name, fields[name]) for name in sorted(fields, key=lambda n: n.encode("utf-8"))]
    ordered.append(("sign", sign_v2(fields, secret, algorithm)))
    return urlencode(ordered, quote_via=quote, safe="")


def _timestamp_text(timestamp: int | str | None) -> str:
    return str(int(time.time())) if timestamp is None else str(timestamp)


def jsapi_paysign_v2(
    appid: str,
    prepay_id: str,
    secret: KeyText,
    sign_type: str = MD5,
    timestamp: int | str | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The parameters of ``WeixinJSBridge getBrandWCPayRequest`` / ``wx.requestPayment``.

    Keys ``appId, timeStamp, nonceStr, package, signType, paySign``; the sign
    uses the same algorithm as the unified order that gave ``prepay_id``.
    ``timestamp`` defaults to now (seconds) and ``nonce`` to 32 random characters.
    """
    algorithm = _normalise_sign_type(sign_type)
    if algorithm is None:
        raise ConfigError("sign_type", f"must be one of {', '.join(SIGN_TYPES)}")
    fields = {
        "appId": appid,
        "timeStamp": _timestamp_text(timestamp),
        "nonceStr": nonce or new_nonce(),
        "package": f"prepay_id={prepay_id}",
        "signType": algorithm,
    }
    fields["paySign"] = sign_v2(fields, secret, algorithm)
    return fields


def app_paysign_v2(
    appid: str,
    partnerid: str,
    prepayid: str,
    secret: KeyText,
    sign_type: str = MD5,
    timestamp: int | str | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The ``PayReq`` parameters of the APP SDK.

    Keys ``appid, partnerid, prepayid, package (Sign=WXPay), noncestr, timestamp,
    sign``; ``partnerid`` is the merchant id. The APP call carries no sign type,
    so ``sign_type`` must match the unified order's.
    """
    fields = {
        "appid": appid,
        "partnerid": partnerid,
        "prepayid": prepayid,
        "package": "Sign=WXPay",
        "noncestr": nonce or new_nonce(),
        "timestamp": _timestamp_text(timestamp),
    }
    fields["sign"] = sign_v2(fields, secret, sign_type)
    return fields
