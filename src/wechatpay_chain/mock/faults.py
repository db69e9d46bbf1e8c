"""Faults the mock platform can inject into its next answers (``mock.fail(name)``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..protocol import sign_answer_headers

if TYPE_CHECKING:
    from .platform import MockPlatform

__all__ = ["FAULTS", "apply_fault"]

FAULTS = {
    "bad_signature": "Wechatpay-Signature does not match the body",
    "stale_timestamp": "signed 10 minutes ago (outside the 300 s window)",
    "future_timestamp": "signed 10 minutes in the future",
    "unknown_serial": "Wechatpay-Serial names a key the client does not trust",
    "missing_headers": "no Wechatpay-Signature header",
    "tampered_body": "the body changed after it was signed",
    "server_error": "HTTP 500 with a platform-style SYSTEM_ERROR body",
    "v2_bad_sign": "the next APIv2 answer is signed with a wrong key (SignatureError)",
}


def apply_fault(
    fault: str, headers: dict[str, str], body: bytes, platform: MockPlatform
) -> tuple[dict[str, str], bytes]:
    """The answer's headers and body with ``fault`` applied (server_error is handled earlier)."""
    headers = dict(headers)
    if fault == "bad_signature":
        wrong = sign_answer_headers(
            platform.platform_key, headers["Wechatpay-Serial"], body + b" ",
            timestamp=headers["Wechatpay-Timestamp"], nonce=headers["Wechatpay-Nonce"],
        )
        headers["Wechatpay-Signature"] = wrong["Wechatpay-Signature"]
    elif fault in ("stale_timestamp", "future_timestamp"):
        shift = -600 if fault == "stale_timestamp" else 600
        headers.update(
            sign_answer_headers(
                platform.platform_key, headers["Wechatpay-Serial"], body,
                timestamp=str(int(platform.clock()) + shift), nonce=headers["Wechatpay-Nonce"],
            )
        )
    elif fault == "unknown_serial":
        headers["Wechatpay-Serial"] = "PUB_KEY_ID_0000000000000000000000000000"
    elif fault == "missing_headers":
        headers.pop("Wechatpay-Signature", None)
    elif fault == "tampered_body":
        body = body.replace(b"SUCCESS", b"FAILED") if b"SUCCESS" in body else body + b" "
    return headers, body
