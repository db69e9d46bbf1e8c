"""The debug log of each attempt: formatting and masking (transport/wire_log.py), then end to end."""

from __future__ import annotations

import asyncio
import json
import logging
import re

import pytest

from wechatpay_chain.errors import ApiError
from wechatpay_chain.mock import MockPlatform
from wechatpay_chain.transport.wire_log import (
    MASK,
    Masks,
    WireRequest,
    format_attempt,
    mask_body,
    mask_headers,
    mask_text,
    mask_url,
)
from wechatpay_chain.trust.crypto import Secret

AUTHORIZATION = (
    'WECHATPAY2-SHA256-RSA2048 mchid="1900000109",nonce_str="N1",'
    'signature="c2lnbmF0dXJlLWJ5dGVz",timestamp="1700000000",serial_no="S1"'
)


def test_authorization_keeps_its_parameters_but_not_its_signature() -> None:
    [line] = mask_headers({"Authorization": AUTHORIZATION})
    assert 'signature="***"' in line and "c2lnbmF0dXJlLWJ5dGVz" not in line
    assert 'mchid="1900000109"' in line and 'timestamp="1700000000"' in line and 'serial_no="S1"' in line


def test_signature_and_credential_headers_are_masked() -> None:
    lines = mask_headers(
        [
            ("Wechatpay-Signature", "abc=="),
            ("proxy-authorization", "Basic dXNlcjpwYXNz"),
            ("Authorization", "Basic dXNlcjpwYXNz"),
            ("Request-ID", "R1"),
        ]
    )
    assert lines == [
        "Wechatpay-Signature: ***",
        "proxy-authorization: ***",
        "Authorization: Basic ***",
        "Request-ID: R1",
    ]


def test_url_credentials_and_masked_query_parameters() -> None:
    masks = Masks(query_names=("mobile", "sign"))
    url = "https://user:s3cret@proxy.example:3128/v3/guides?store_id=1&mobile=CIPHER%2B&sign=ABC"
    shown = mask_url(url, masks)
    assert "s3cret" not in shown and "CIPHER" not in shown and "ABC" not in shown
    assert shown.startswith("https://user:***@proxy.example:3128/v3/guides?store_id=1&")
    assert mask_text("proxy http://u:pw@10.0.0.1:8080 refused") == "proxy http://u:***@10.0.0.1:8080 refused"


def test_json_pointers_are_masked_in_bodies() -> None:
    masks = Masks.for_spec({"encrypt": ["/name"], "decrypt": ["/data/*/mobile"]})
    request = mask_body(json.dumps({"name": "张三", "store_id": 1}).encode(), masks)
    answer = mask_body(json.dumps({"data": [{"mobile": "138", "id": 1}, {"mobile": "139"}]}).encode(), masks)
    assert json.loads(request) == {"name": MASK, "store_id": 1}
    assert json.loads(answer) == {"data": [{"mobile": MASK, "id": 1}, {"mobile": MASK}]}


def test_v2_sign_and_encrypted_fields_are_masked() -> None:
    masks = Masks.for_spec({"encrypt": ["/enc_bank_no"]}, v2=True)
    body = b"<xml><enc_bank_no>CIPHER</enc_bank_no><sign><![CDATA[ABCDEF]]></sign><amount>1</amount></xml>"
    shown = mask_body(body, masks)
    assert shown == "<xml><enc_bank_no>***</enc_bank_no><sign>***</sign><amount>1</amount></xml>"
    assert json.loads(mask_body(b'{"retcode":0,"sign":"ABC"}', masks)) == {"retcode": 0, "sign": MASK}
    assert "sign=***" in mask_url("https://h/pay/x?a=1&sign=ABC", masks)


def test_secrets_are_masked_anywhere() -> None:
    masks = Masks.for_spec(None, secrets=("k" * 32, None, b"v2-secret-value"))
    assert mask_body(b'{"echo":"' + b"k" * 32 + b'"}', masks) == '{"echo":"***"}'
    assert mask_text("v2-secret-value in text", masks) == "*** in text"
    # the client holds its keys wrapped (crypto.Secret): they are masked all the same, and the
    # masks themselves never show them (a record in a traceback's locals)
    wrapped = Masks.for_spec(None, secrets=(Secret("k" * 32),))
    assert mask_text("key " + "k" * 32, wrapped) == "key ***"
    assert "k" * 32 not in repr(wrapped)
    request = WireRequest("POST", "https://h/v3/x", {"Authorization": AUTHORIZATION}, b"{}")
    assert "signature" not in repr(request)


def test_bodies_are_cut_and_binary_is_not_shown() -> None:
    shown = mask_body(b'{"a":"' + b"x" * 100 + b'"}', limit=20)
    assert shown.startswith('{"a":"xxxxxxxxxxxxxx...') and shown.endswith("[108 bytes in all]")
    assert mask_body(b"\xff\xd8\xff\xe0binary") == "[10 bytes, not text]"
    assert mask_body(b"--boundary\r\nContent-Disposition: form-data\r\n\r\n\xff\xd8") == "[multipart body, 48 bytes]"
    assert mask_body(b"") == "" and mask_body(None) == ""


def test_format_attempt_shows_request_and_answer() -> None:
    request = WireRequest("POST", "https://api.example/v3/x", {"Authorization": AUTHORIZATION}, b'{"a":1}')
    text = format_attempt(
        request,
        attempt=2,
        elapsed=0.0123,
        status=400,
        headers={"Request-ID": "RID", "Wechatpay-Signature": "sig"},
        body=b'{"code":"PARAM_ERROR","message":"bad"}',
        error=ApiError(400, "PARAM_ERROR", "bad"),
        will_retry=True,
    )
    first, *rest = text.splitlines()
    assert first == (
        "POST https://api.example/v3/x -> 400 attempt=2 12.3ms request_id=RID "
        "error=ApiError: HTTP 400 PARAM_ERROR: bad (retrying)"
    )
    assert '> {"a":1}' in rest and "< HTTP 400" in rest and '< {"code":"PARAM_ERROR","message":"bad"}' in rest
    assert "< Wechatpay-Signature: ***" in rest and "c2lnbmF0dXJlLWJ5dGVz" not in text


def test_format_attempt_without_an_answer() -> None:
    text = format_attempt(
        WireRequest("GET", "http://h/v3/y"), attempt=1, elapsed=1.0, status=None, headers=None, body=None
    )
    assert text == "GET http://h/v3/y -> - attempt=1 1000.0ms request_id=None"


# -- end to end against the mock ------------------------------------------------------------------
def _assert_nothing_secret(text: str, mock: MockPlatform) -> None:
    assert re.search(r'signature="(?!\*\*\*")', text) is None
    assert re.search(r"<sign>(?!\*\*\*<)", text) is None
    assert "Wechatpay-Signature: ***" in text or "/pay/" in text
    for secret in (mock.apiv3_key, mock.secret, "BEGIN"):
        assert secret not in text


def test_v3_param_error_body_is_in_the_debug_log(mock: MockPlatform, caplog: pytest.LogCaptureFixture) -> None:
    with mock.client(retry=1) as client, caplog.at_level(logging.DEBUG, "wechatpay_chain"), pytest.raises(ApiError):
        client.v3.profitsharing.return_orders.post(json={"amount": "x"}, validate=False)
    text = caplog.text
    assert "POST http://127.0.0.1" in text and "/v3/profitsharing/return-orders -> 400 attempt=1" in text
    assert '> {"amount":"x"}' in text and '"code":"PARAM_ERROR"' in text
    assert "request_id=" in text and "request_id=None" not in text
    _assert_nothing_secret(text, mock)


def test_v3_encrypted_fields_are_masked_end_to_end(mock: MockPlatform, caplog: pytest.LogCaptureFixture) -> None:
    payload = {"corpid": "c", "store_id": 1, "userid": "u", "name": "张三丰", "mobile": "13800001111"}
    payload |= {"qr_code": "q", "avatar": "a"}
    with mock.client() as client, caplog.at_level(logging.DEBUG, "wechatpay_chain"):
        client.v3.smartguide.guides.post(json=payload)
    assert '"name":"***","mobile":"***"' in caplog.text
    assert "张三丰" not in caplog.text and "13800001111" not in caplog.text
    _assert_nothing_secret(caplog.text, mock)


def test_v2_fail_body_is_in_the_debug_log(mock: MockPlatform, caplog: pytest.LogCaptureFixture) -> None:
    async def call() -> None:
        async with mock.client() as client:
            with pytest.raises(ApiError):
                await client.v2.pay.orderquery.post_async(xml={"appid": "wx1"}, validate=False)
            await client.v2.pay.orderquery.post_async(xml={"appid": "wxd678efh567hg6787", "out_trade_no": "T1"})

    with caplog.at_level(logging.DEBUG, "wechatpay_chain"):
        asyncio.run(call())
    text = caplog.text
    assert "/pay/orderquery -> 200 attempt=1" in text and "error=ApiError: HTTP 200 FAIL" in text
    assert "<return_code><![CDATA[FAIL]]></return_code>" in text and "<appid>wx1</appid>" in text
    assert text.count("<sign>***</sign>") == 3  # two requests and the signed answer
    _assert_nothing_secret(text, mock)


def test_nothing_is_formatted_when_debug_is_off(
    mock: MockPlatform, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from wechatpay_chain import attempts as sending

    def refuse(*args: object, **kwargs: object) -> str:
        raise AssertionError("formatted while DEBUG is off")

    monkeypatch.setattr(sending, "format_attempt", refuse)
    with mock.client() as client, caplog.at_level(logging.INFO, "wechatpay_chain"):
        client.v2.pay.orderquery.post(xml={"appid": "wxd678efh567hg6787", "out_trade_no": "T1"})
        client.v3.smartguide.guides.get(query={"store_id": 1})
    assert not [r for r in caplog.records if r.levelno < logging.INFO]
