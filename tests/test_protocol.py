"""The v3 protocol core: signing strings, Authorization, answer verification (pure functions)."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from wechatpay_chain.errors import SignatureError
from wechatpay_chain.merchant_key import LocalSigner, MerchantKey
from wechatpay_chain.v3.protocol import (
    answer_signing_string,
    authorization_header,
    dump_json,
    new_nonce,
    parse_authorization,
    request_signing_string,
    sign_answer_headers,
    verify_signed_message,
)

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PLATFORM = rsa.generate_private_key(public_exponent=65537, key_size=2048)
NOW = 1_700_000_000.0


def test_request_signing_string_layout() -> None:
    body = dump_json({"amount": 10, "description": "用户退款"})
    assert body == '{"amount":10,"description":"用户退款"}'.encode()
    message = request_signing_string(
        "post", "/v3/profitsharing/return-orders", "1554208460", "593BEC0C930BF1AFEB40B4A08C8FB242", body
    )
    assert message == (
        b"POST\n/v3/profitsharing/return-orders\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n" + body + b"\n"
    )


def test_get_without_body_signs_an_empty_line() -> None:
    message = request_signing_string("GET", "/v3/certificates", "1554208460", "N", b"")
    assert message == b"GET\n/v3/certificates\n1554208460\nN\n\n"


def test_authorization_header_signature_verifies_and_parses_back() -> None:
    body = b'{"a":1}'
    header = authorization_header(
        MerchantKey("5157F09EFDC096DE15EBE81A47057A7232F1B8E1", LocalSigner(KEY)),
        mchid="1900000109",
        method="POST",
        target="/v3/x?y=1",
        body=body,
        timestamp="1554208460",
        nonce="593BEC0C930BF1AFEB40B4A08C8FB242",
    )
    assert header.startswith(
        'WECHATPAY2-SHA256-RSA2048 mchid="1900000109",nonce_str="593BEC0C930BF1AFEB40B4A08C8FB242",signature="'
    )
    fields = parse_authorization(header)
    assert fields["mchid"] == "1900000109"
    assert fields["serial_no"] == "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
    assert fields["timestamp"] == "1554208460"
    signed = b"POST\n/v3/x?y=1\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n" + body + b"\n"
    KEY.public_key().verify(base64.b64decode(fields["signature"]), signed, padding.PKCS1v15(), hashes.SHA256())


@pytest.mark.parametrize(
    "header, reason",
    [
        ("Bearer abc", "schema"),
        ('WECHATPAY2-SHA256-RSA2048 mchid="1"', "missing"),
        ('WECHATPAY2-SHA256-RSA2048 mchid="1",,', "malformed"),
        ('WECHATPAY2-SHA256-RSA2048 mchid=1,nonce_str="x"', "malformed"),
    ],
)
def test_parse_authorization_rejects_broken_headers(header: str, reason: str) -> None:
    with pytest.raises(SignatureError, match=reason):
        parse_authorization(header)


def test_nonce_is_32_random_alphanumerics() -> None:
    nonces = {new_nonce() for _ in range(100)}
    assert len(nonces) == 100
    assert all(len(n) == 32 and n.isalnum() for n in nonces)


def _signed(body: bytes, timestamp: float = NOW, serial: str = "PUB_KEY_ID_1") -> dict[str, str]:
    return sign_answer_headers(PLATFORM, serial, body, timestamp=str(int(timestamp)), nonce="n" * 32)


KEYS = {"PUB_KEY_ID_1": PLATFORM.public_key()}


def test_valid_answer_passes_and_names_its_key() -> None:
    body = b'{"result":"SUCCESS"}'
    assert verify_signed_message(_signed(body), body, KEYS, now=lambda: NOW) == "PUB_KEY_ID_1"
    assert answer_signing_string("1", "n", body) == b"1\nn\n" + body + b"\n"


def test_header_names_are_case_insensitive() -> None:
    body = b"{}"
    lowered = {k.lower(): v for k, v in _signed(body).items()}
    assert verify_signed_message(lowered, body, KEYS, now=lambda: NOW)


@pytest.mark.parametrize(
    "missing", ["Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Signature", "Wechatpay-Serial"]
)
def test_each_missing_header_is_named(missing: str) -> None:
    headers = _signed(b"{}")
    del headers[missing]
    with pytest.raises(SignatureError) as caught:
        verify_signed_message(headers, b"{}", KEYS, now=lambda: NOW)
    assert caught.value.check == "headers" and missing in str(caught.value)


@pytest.mark.parametrize("offset", [-301, 301])
def test_timestamp_outside_300_seconds_is_rejected(offset: int) -> None:
    headers = _signed(b"{}", timestamp=NOW + offset)
    with pytest.raises(SignatureError) as caught:
        verify_signed_message(headers, b"{}", KEYS, now=lambda: NOW)
    assert caught.value.check == "timestamp"


@pytest.mark.parametrize("offset", [-300, 300])
def test_timestamp_at_the_limit_passes(offset: int) -> None:
    headers = _signed(b"{}", timestamp=NOW + offset)
    assert verify_signed_message(headers, b"{}", KEYS, now=lambda: NOW)


def test_non_integer_timestamp_is_rejected() -> None:
    headers = _signed(b"{}")
    headers["Wechatpay-Timestamp"] = "soon"
    with pytest.raises(SignatureError, match="integer"):
        verify_signed_message(headers, b"{}", KEYS, now=lambda: NOW)


def test_unknown_serial_is_rejected() -> None:
    headers = _signed(b"{}", serial="PUB_KEY_ID_2")
    with pytest.raises(SignatureError) as caught:
        verify_signed_message(headers, b"{}", KEYS, now=lambda: NOW)
    assert caught.value.check == "serial"


def test_tampered_body_and_bad_signature_are_rejected() -> None:
    headers = _signed(b'{"result":"SUCCESS"}')
    with pytest.raises(SignatureError) as caught:
        verify_signed_message(headers, b'{"result":"FAILED"}', KEYS, now=lambda: NOW)
    assert caught.value.check == "signature"
    headers["Wechatpay-Signature"] = "not base64!"
    with pytest.raises(SignatureError):
        verify_signed_message(headers, b'{"result":"SUCCESS"}', KEYS, now=lambda: NOW)


def test_signature_from_another_key_is_rejected() -> None:
    body = b"{}"
    headers = sign_answer_headers(KEY, "PUB_KEY_ID_1", body, timestamp=str(int(NOW)), nonce="x")
    with pytest.raises(SignatureError, match="signature"):
        verify_signed_message(headers, body, KEYS, now=lambda: NOW)
