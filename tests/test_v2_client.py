"""APIv2 (XML) through the chain, against the embedded mock platform on 127.0.0.1.

Round trips in the three call styles, sync and async; every v2 error shape; unsigned
and download answers; GET and browser-redirect pages; configuration refusals made
before anything is sent. The loopback mTLS checks live in test_v2_mtls.py.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from _certs_helpers import certificate_pem, mint_certificate, private_pem, rsa_key

from wechatpay_chain import ApiError, Client, ConfigError, SignatureError, ValidationError
from wechatpay_chain.mock import MockAnswer, MockCall, MockPlatform
from wechatpay_chain.mock.examples import example_for
from wechatpay_chain.v2 import (
    HMAC_SHA256,
    MD5,
    V2Response,
    decode_xml,
    encode_xml,
    encrypt_req_info,
    sign_v2,
    sign_v2_answer,
    v2_ack,
    v2_return_fail,
    verify_v2_sign,
)
from wechatpay_chain.v2.call import finish_v2_call
from wechatpay_chain.v2.flow import prepare_v2_call, v2_redirect_url
from wechatpay_chain.v2.rules import rules_for

APPID = "wx8888888888888888"
MICROPAY = {
    "appid": APPID,
    "body": "image形象店-深圳腾大- QQ公仔",
    "out_trade_no": "1217752501201407033233368018",
    "total_fee": 888,
    "spbill_create_ip": "8.8.8.8",
    "auth_code": "120061098828009406",
}
ORDERQUERY = {"appid": APPID, "transaction_id": "4200000001201407033233368018", "out_trade_no": "1217752501"}
REFUND = {
    **ORDERQUERY,
    "out_refund_no": "R1217752501",
    "total_fee": 888,
    "refund_fee": 100,
}
PAY_BANK = {
    "partner_trade_no": "1212121221227",
    "enc_bank_no": "8609cb22e1774a50a930e414cc71eca06121bcd266335cda230d24a7886a8d9f",
    "enc_true_name": "ca775af5f841bdf424b2e6eb86a6e21e",
    "bank_code": "1001",
    "amount": 100000,
}
BILL = {"appid": APPID, "bill_date": "20140603", "bill_type": "ALL"}
ENTRUST = {
    "appid": APPID,
    "plan_id": "12535",
    "contract_code": "100000",
    "request_serial": 1000,
    "contract_display_account": "微信代扣",
    "notify_url": "https://weixin.qq.com/notify",
    "version": "1.0",
    "timestamp": "1414488825",
}


PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


@pytest.fixture(scope="module")
def merchant_pem() -> tuple[str, str]:
    """A merchant certificate and key (self-signed: over http the mock never sees it)."""
    key = rsa_key("v2-merchant")
    return certificate_pem(mint_certificate(key, 0x2024)), private_pem(key)


@pytest.fixture
def cert_client(mock: MockPlatform, merchant_pem: tuple[str, str]) -> Iterator[Client]:
    with mock.client(client_cert=merchant_pem[0], client_key=merchant_pem[1]) as client:
        yield client


def _sent(mock: MockPlatform) -> dict[str, str]:
    """The fields of the last request, checked against the mock's own secret."""
    fields = mock.calls[-1].json
    assert isinstance(fields, dict) and verify_v2_sign(fields, mock.secret)
    return fields


# -- round trips -------------------------------------------------------------------------------------
def _check_micropay(response: Any) -> None:
    assert isinstance(response, V2Response) and response.status_code == 200
    assert response.verified == MD5
    assert response.data is not None and response.data["return_code"] == "SUCCESS"
    body = response.json()
    assert body["result_code"] == "SUCCESS" and body["out_trade_no"] == MICROPAY["out_trade_no"]


def test_three_sync_styles(cert_client: Client, mock: MockPlatform) -> None:
    _check_micropay(cert_client.v2.pay.micropay.post(xml=MICROPAY))
    sent = _sent(mock)
    assert sent["mch_id"] == mock.mchid  # filled from the client: the spec has the field
    assert len(sent["nonce_str"]) == 32 and sent["total_fee"] == "888" and "sign_type" not in sent
    refund = cert_client.chain("v2/secapi/pay/refund").post(xml=REFUND)
    assert refund.json()["out_refund_no"] == REFUND["out_refund_no"] and refund.verified == MD5
    query = cert_client["v2/pay/orderquery"].post(xml=ORDERQUERY)
    assert query.json()["transaction_id"] == ORDERQUERY["transaction_id"]
    assert mock.counts == {
        ("POST", "v2/pay/micropay"): 1,
        ("POST", "v2/secapi/pay/refund"): 1,
        ("POST", "v2/pay/orderquery"): 1,
    }
    assert mock.calls[-1].path == "/pay/orderquery"  # v2/ is not part of the URL


def test_three_async_styles(mock: MockPlatform, merchant_pem: tuple[str, str]) -> None:
    async def main() -> None:
        async with mock.client(client_cert=merchant_pem[0], client_key=merchant_pem[1]) as client:
            _check_micropay(await client.v2.pay.micropay.post_async(xml=MICROPAY))
            refund = await client.chain("v2/secapi/pay/refund").post_async(xml=REFUND)
            query = await client["v2/pay/orderquery"].post_async(xml=ORDERQUERY)
        assert refund.json()["refund_fee"] == "100" and query.verified == MD5

    asyncio.run(main())
    assert sum(mock.counts.values()) == 3


def test_payload_sign_type_and_hmac_only_operations(client: Client, mock: MockPlatform) -> None:
    answer = client.v2.pay.micropay.post(xml={**MICROPAY, "sign_type": "hmac-sha256"})
    sent = _sent(mock)
    assert sent["sign_type"] == HMAC_SHA256 and len(sent["sign"]) == 64
    assert answer.verified == HMAC_SHA256  # the platform answers with the request's algorithm
    # profitsharingquery knows only HMAC-SHA256: the client signs so without being told.
    query = {"transaction_id": "4208450740201411110007820472", "out_order_no": "P20150806125346"}
    assert client.v2.pay.profitsharingquery.post(xml=query).verified == HMAC_SHA256
    assert _sent(mock)["sign_type"] == HMAC_SHA256


def test_numbers_as_text_json_fields_and_cdata(client: Client, mock: MockPlatform) -> None:
    detail = {"cost_price": 888, "goods_detail": [{"goods_id": "g1", "price": 888}]}
    client.v2.pay.micropay.post(xml={**MICROPAY, "total_fee": "888", "detail": detail})
    call: MockCall = mock.calls[-1]
    assert b"<detail><![CDATA[{" in call.body and decode_xml(call.body)["detail"].startswith('{"cost_price":888')
    assert _sent(mock)["total_fee"] == "888"


def test_answer_json_decodes_the_fields_the_spec_marks_as_json(client: Client, mock: MockPlatform) -> None:
    promotion = '{"promotion_detail":[{"promotion_id":"109519","amount":5}]}'
    mock.on("POST", "v2/pay/orderquery", lambda call: {"result_code": "SUCCESS", "promotion_detail": promotion})
    answer = client.v2.pay.orderquery.post(xml=ORDERQUERY)
    assert answer.data is not None and answer.data["promotion_detail"] == promotion  # as signed
    assert answer.json()["promotion_detail"]["promotion_detail"][0]["amount"] == 5


def test_v2_only_client(mock: MockPlatform) -> None:
    with Client(mchid=mock.mchid, secret=mock.secret, base_url=mock.base_url) as client:
        _check_micropay(client.v2.pay.micropay.post(xml=MICROPAY))
        assert mock.secret not in repr(client) and mock.secret not in repr(client.v2_settings)


def test_v3_only_client_is_refused_naming_secret(mock: MockPlatform) -> None:
    with mock.client(secret=None) as client, pytest.raises(ConfigError) as caught:
        client.v2.pay.micropay.post(xml=MICROPAY)
    assert caught.value.argument == "secret"
    assert not mock.calls


# -- refused before anything is sent ----------------------------------------------------------------------
def test_merchant_mismatch_is_refused_with_every_other_problem(client: Client, mock: MockPlatform) -> None:
    payload = {key: value for key, value in MICROPAY.items() if key != "auth_code"}
    with pytest.raises(ValidationError) as caught:
        client.v2.pay.micropay.post(xml={**payload, "mch_id": "1230000109"})
    pointers = {error.pointer: error.rule for error in caught.value.errors}
    assert pointers == {"/xml/mch_id": "merchant", "/xml/auth_code": "required"}
    assert not mock.calls and sum(mock.counts.values()) == 0


def test_spec_validation_reports_everything(client: Client, mock: MockPlatform) -> None:
    with pytest.raises(ValidationError) as caught:
        client.v2.pay.micropay.post(xml={**MICROPAY, "total_fee": "a lot", "detail": "{not json", "deposit": "X"})
    rules = {error.pointer: error.rule for error in caught.value.errors}
    assert rules == {"/xml/total_fee": "type", "/xml/detail": "contentMediaType", "/xml/deposit": "enum"}
    assert "nothing was sent" in str(caught.value) and not mock.calls
    # validate=False sends it anyway; the mock validates against the same spec and says FAIL.
    with pytest.raises(ApiError) as refused:
        client.v2.pay.micropay.post(xml={**MICROPAY, "total_fee": "a lot"}, validate=False)
    assert refused.value.code == "FAIL" and "/xml/total_fee" in (refused.value.message or "")


def test_cert_required_without_a_certificate_is_refused_before_sending(client: Client, mock: MockPlatform) -> None:
    with pytest.raises(ConfigError) as caught:
        client.v2.secapi.pay.refund.post(xml=REFUND)
    assert caught.value.argument == "client_cert"
    assert not mock.calls


def test_wrong_keywords(client: Client) -> None:
    with pytest.raises(TypeError, match="xml="):
        client.v2.pay.micropay.post(json=MICROPAY)
    with pytest.raises(TypeError, match="query="):
        client.v2.papay.h5entrustweb.get(xml=ENTRUST)
    with pytest.raises(TypeError, match="unexpected"):
        client.v2.pay.micropay.post(xml=MICROPAY, out_trade_no="1")
    with pytest.raises(TypeError, match="files="):  # multipart, signed over its form fields
        client.v2.secapi.mch.uploadmedia.post(xml={"media_hash": "0" * 32})
    with pytest.raises(TypeError, match="xml="):
        client.v2.pay.micropay.post(xml=MICROPAY, files={"media": ("a.png", PNG)})


def test_prepare_is_pure_and_follows_the_base_url_rule(mock: MockPlatform, merchant_pem: tuple[str, str]) -> None:
    pair = {"client_cert": merchant_pem[0], "client_key": merchant_pem[1]}
    body = {"sign_type": "MD5"}
    with Client(mchid=mock.mchid, secret=mock.secret, **pair) as platform_host:
        call = prepare_v2_call(
            platform_host._engine.settings, "POST", platform_host.v2.risk.getpublickey._segments, {"xml": body}
        )
        assert call.url == "https://fraud.mch.weixin.qq.com/risk/getpublickey"
        assert call.ssl_context is not None and call.rules.unsigned_answer
    with mock.client(**pair) as elsewhere:
        call = prepare_v2_call(
            elsewhere._engine.settings, "POST", elsewhere.v2.risk.getpublickey._segments, {"xml": body}
        )
        assert call.url == mock.base_url + "risk/getpublickey"
    assert not mock.calls


# -- every v2 error shape -------------------------------------------------------------------------------------
def test_return_code_fail(client: Client, mock: MockPlatform) -> None:
    mock.on("POST", "v2/pay/micropay", lambda call: MockAnswer(raw=v2_return_fail("参数格式校验错误")))
    with pytest.raises(ApiError) as caught:
        client.v2.pay.micropay.post(xml=MICROPAY)
    error = caught.value
    assert (error.status_code, error.code, error.message) == (200, "FAIL", "参数格式校验错误")
    assert error.response is not None and b"FAIL" in error.response.content
    assert error.detail["return_msg"] == "参数格式校验错误"


def test_result_code_fail(client: Client, mock: MockPlatform) -> None:
    mock.on(
        "POST",
        "v2/pay/micropay",
        lambda call: {"result_code": "FAIL", "err_code": "AUTHCODEEXPIRE", "err_code_des": "二维码已过期"},
    )
    with pytest.raises(ApiError) as caught:
        client.v2.pay.micropay.post(xml=MICROPAY)
    assert (caught.value.code, caught.value.message) == ("AUTHCODEEXPIRE", "二维码已过期")
    assert caught.value.response is not None and caught.value.response.status_code == 200


def test_wrong_sign_on_the_answer(client: Client, mock: MockPlatform) -> None:
    mock.fail("v2_bad_sign")
    with pytest.raises(SignatureError) as caught:
        client.v2.pay.micropay.post(xml=MICROPAY)
    assert caught.value.check == "sign" and "does not match" in caught.value.reason
    _check_micropay(client.v2.pay.micropay.post(xml=MICROPAY))  # the next answer is fine


def test_missing_sign_on_the_answer(client: Client, mock: MockPlatform) -> None:
    unsigned = encode_xml({"return_code": "SUCCESS", "result_code": "SUCCESS", "out_trade_no": "1"})
    mock.on("POST", "v2/pay/micropay", lambda call: MockAnswer(raw=unsigned))
    with pytest.raises(SignatureError) as caught:
        client.v2.pay.micropay.post(xml=MICROPAY)
    assert (caught.value.check, caught.value.reason) == ("sign", "missing")


def test_the_platform_refuses_a_request_signed_with_another_secret(mock: MockPlatform) -> None:
    with mock.client(secret="not-the-merchant-secret") as client, pytest.raises(ApiError) as caught:
        client.v2.pay.micropay.post(xml=MICROPAY)
    assert caught.value.code == "FAIL" and "签名错误" in (caught.value.message or "")
    assert not mock.calls  # refused at the door, like an unsigned v3 request


def test_server_error_and_unknown_path(client: Client, mock: MockPlatform) -> None:
    mock.fail("server_error")
    with pytest.raises(ApiError) as caught:
        client.v2.pay.micropay.post(xml=MICROPAY)
    assert caught.value.status_code == 500 and caught.value.response is not None
    with pytest.raises(ApiError) as unknown:
        client.chain("v2/pay/nosuchthing").post(xml={"appid": APPID})
    assert unknown.value.status_code == 404 and unknown.value.code == "FAIL"


def test_a_handler_serves_a_path_the_catalogue_lacks(client: Client, mock: MockPlatform) -> None:
    mock.on("POST", "v2/pay/brandnew", lambda call: {"result_code": "SUCCESS", "echo": call.json["appid"]})
    answer = client.chain("v2/pay/brandnew").post(xml={"appid": APPID})
    assert answer.json()["echo"] == APPID and mock.counts[("POST", "v2/pay/brandnew")] == 1
    assert "nonce_str" in _sent(mock)


# -- unsigned answers -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["v2/mmpaysptrans/pay_bank", "v2/mmpaysptrans/query_bank"])
def test_bank_transfer_answers_are_unsigned_and_accepted(cert_client: Client, mock: MockPlatform, path: str) -> None:
    payload = PAY_BANK if path.endswith("pay_bank") else {"partner_trade_no": PAY_BANK["partner_trade_no"]}
    answer = cert_client.chain(path).post(xml=payload)
    assert b"<sign>" not in answer.content  # the mock answers them unsigned, as the platform does
    assert answer.verified is None and answer.json()["partner_trade_no"] == PAY_BANK["partner_trade_no"]


def test_the_same_unsigned_answer_is_refused_elsewhere(cert_client: Client, mock: MockPlatform) -> None:
    unsigned = encode_xml(
        {"return_code": "SUCCESS", "result_code": "SUCCESS", "mch_id": mock.mchid, "partner_trade_no": "1212121221227"}
    )
    for key in ("v2/mmpaysptrans/query_bank", "v2/pay/orderquery"):
        mock.on("POST", key, lambda call: MockAnswer(raw=unsigned))
    assert cert_client.v2.mmpaysptrans.query_bank.post(xml={"partner_trade_no": "1212121221227"}).verified is None
    with pytest.raises(SignatureError):
        cert_client.v2.pay.orderquery.post(xml=ORDERQUERY)


# -- bills --------------------------------------------------------------------------------------------------------
def test_downloadbill_returns_the_csv(client: Client, mock: MockPlatform) -> None:
    bill = client.v2.pay.downloadbill.post(xml=BILL)
    assert bill.status_code == 200 and bill.data is None and bill.verified is None
    assert bill.text.startswith("交易时间,") and "`2014-06-03" in bill.text
    packed = client.v2.pay.downloadbill.post(xml={**BILL, "tar_type": "GZIP"})
    assert gzip.decompress(packed.content).decode("utf-8") == bill.text


def test_downloadbill_xml_error_is_an_api_error(client: Client, mock: MockPlatform) -> None:
    mock.on("POST", "v2/pay/downloadbill", lambda call: MockAnswer(raw=v2_return_fail("No Bill Exist")))
    with pytest.raises(ApiError) as caught:
        client.v2.pay.downloadbill.post(xml=BILL)
    assert (caught.value.code, caught.value.message) == ("FAIL", "No Bill Exist")
    assert caught.value.response is not None


def test_downloadfundflow_needs_the_certificate(client: Client, cert_client: Client, mock: MockPlatform) -> None:
    flow = {"appid": APPID, "bill_date": "20140603", "account_type": "Basic"}
    with pytest.raises(ConfigError):
        client.v2.pay.downloadfundflow.post(xml=flow)
    assert not mock.calls
    assert cert_client.v2.pay.downloadfundflow.post(xml={**flow, "sign_type": HMAC_SHA256}).text.startswith("交易")
    assert len(_sent(mock)["sign"]) == 64


# -- GET, redirect pages ----------------------------------------------------------------------------------------
def test_get_operation_sends_a_signed_query(client: Client, mock: MockPlatform) -> None:
    answer = client.v2.papay.h5entrustweb.get(query={**ENTRUST, "clientip": "119.145.83.6"})
    assert answer.json()["redirect_url"] and answer.verified is None  # an unsigned answer, per its spec
    call = mock.calls[-1]
    assert call.method == "GET" and call.body == b""
    query = dict(parse_qsl(urlsplit(answer.url).query))
    assert query["sign_type"] == HMAC_SHA256  # the field's documented default
    assert query["contract_display_account"] == "微信代扣" and verify_v2_sign(query, mock.secret)
    assert list(query)[-1] == "sign"


def test_a_v2_operation_answering_json(client: Client, mock: MockPlatform) -> None:
    query = {
        "appid": APPID,
        "openid": "baf04e6bbbd06f7b1a197d18ed53b7f1",
        "code": "wxcbda96de0b165489",
        "grant_type": "authorization_code",
        "scope": "pay_identity",
    }
    token = client.v2.appauth.getaccesstoken.get(query=query)
    assert token.json()["retcode"] == 0 and token.json()["access_token"] and token.verified is None
    sent = dict(parse_qsl(urlsplit(token.url).query))
    assert sent["sign_type"] == HMAC_SHA256 and verify_v2_sign(sent, mock.secret)
    mock.on("GET", "v2/appauth/getaccesstoken", lambda call: MockAnswer(raw=b'{"retcode":-1,"retmsg":"code expired"}'))
    with pytest.raises(ApiError) as caught:
        client.v2.appauth.getaccesstoken.get(query=query)
    assert (caught.value.code, caught.value.message) == ("-1", "code expired")


def test_redirect_pages_build_a_url_instead_of_calling(client: Client, mock: MockPlatform) -> None:
    with pytest.raises(ValidationError) as caught:
        client.v2.papay.entrustweb.get(query=ENTRUST)
    assert caught.value.errors[0].rule == "redirect" and "v2_redirect_url" in str(caught.value)
    url = v2_redirect_url(client._engine.settings, "papay/entrustweb", ENTRUST)
    assert url.startswith(mock.base_url + "papay/entrustweb?")
    query = dict(parse_qsl(urlsplit(url).query))
    assert query["mch_id"] == mock.mchid and verify_v2_sign(query, mock.secret)
    assert (
        v2_redirect_url(client._engine.settings, client.v2.papay.entrustweb, ENTRUST).split("?")[0] == url.split("?")[0]
    )
    assert not mock.calls


def test_redirect_url_without_a_sign_and_on_its_own_host() -> None:
    with Client(mchid="1230000109") as client:  # no secret needed: the page is not signed
        auth = {
            "appid": "wxd678efh567hg6787",
            "redirect_uri": "https://example.com/back",
            "response_type": "code",
            "scope": "pay_identity",
            "state": "STATE",
        }
        url = v2_redirect_url(client._engine.settings, "v2/appauth/authindex", auth)
        assert url.startswith("https://payapp.mch.weixin.qq.com/appauth/authindex?")
        assert "sign=" not in url and "redirect_uri=https%3A%2F%2Fexample.com%2Fback" in url
        with pytest.raises(ValidationError):
            v2_redirect_url(client._engine.settings, "v2/appauth/authindex", {**auth, "scope": "everything"})


# -- answers read without a network ------------------------------------------------------------------------------
def test_finish_refuses_an_xml_bomb_and_reports_http_errors(client: Client) -> None:
    call = prepare_v2_call(client._engine.settings, "POST", client.v2.pay.micropay._segments, {"xml": MICROPAY})
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]><xml>&b;</xml>'
    with pytest.raises(ValueError, match="refused"):
        finish_v2_call(call, 200, {}, bomb, secret=client.v2_settings.secret)
    with pytest.raises(ApiError) as caught:
        finish_v2_call(call, 502, {}, b"<html>Bad Gateway</html>", secret=client.v2_settings.secret)
    assert caught.value.status_code == 502 and caught.value.response is not None


# -- notifications and pay-sign, through the client's bindings ------------------------------------------------------
def test_notifications_and_acknowledgement(client: Client, mock: MockPlatform) -> None:
    payment = sign_v2_answer(
        {"return_code": "SUCCESS", "result_code": "SUCCESS", "out_trade_no": "1217752501", "total_fee": 1},
        mock.secret,
    )
    assert client.notifications.parse_v2(payment)["out_trade_no"] == "1217752501"
    refund = encode_xml(
        {
            "return_code": "SUCCESS",
            "mch_id": mock.mchid,
            "req_info": encrypt_req_info({"out_refund_no": "R1", "refund_status": "SUCCESS"}, mock.secret),
        }
    )
    assert client.notifications.parse_v2(refund.decode())["refund_status"] == "SUCCESS"
    with pytest.raises(SignatureError):
        client.notifications.parse_v2(payment.replace(b"1217752501", b"1217752502"))
    assert decode_xml(v2_ack()) == {"return_code": "SUCCESS", "return_msg": "OK"}


def test_pay_sign_parameter_sets(client: Client, mock: MockPlatform) -> None:
    jsapi = client.paysign.jsapi_v2(APPID, "wx201410272009395522657a690389285100")
    assert jsapi["package"] == "prepay_id=wx201410272009395522657a690389285100"
    unsigned = {name: value for name, value in jsapi.items() if name != "paySign"}
    assert jsapi["paySign"] == sign_v2(unsigned, mock.secret, MD5)
    app = client.paysign.app_v2(APPID, "wx201410272009395522657a690389285100", sign_type=HMAC_SHA256)
    assert app["partnerid"] == mock.mchid and len(app["sign"]) == 64
    with Client(mchid="1230000109") as no_secret, pytest.raises(ConfigError):
        no_secret.paysign.jsapi_v2(APPID, "wx2014")


# -- the whole v2 catalogue -------------------------------------------------------------------------------------
def _example_payload(mock: MockPlatform, key: str, method: str) -> tuple[str, dict[str, Any]] | None:
    operation = mock.catalog.operation(key, method)
    assert operation is not None
    part = "query" if method == "GET" else "xml"
    schema = operation.schema(part)
    if operation.flag("redirect") or operation.schema("form") is not None or schema is None:
        return None
    payload = example_for(schema)
    computed = ("sign", "nonce_str", "mch_id", "mchid", "combine_mch_id")
    return part, {name: value for name, value in payload.items() if name not in computed and value is not None}


def test_every_v2_operation_round_trips_through_the_mock(cert_client: Client, mock: MockPlatform) -> None:
    """Each v2 operation, called with its spec's examples: signed, sent, answered, verified.

    The examples are the catalogue's own and sometimes break its schemas, so this checks
    the plumbing (signing, sign types, unsigned and download answers), not the payloads.
    """
    mock.validate = False
    cert_client.bank_public_key = mock.bank_key.public_key()  # no extra getpublickey call for pay_bank
    try:
        called = 0
        for entry in mock.catalog.under("v2"):
            example = _example_payload(mock, entry.key, entry.method)
            if example is None:
                continue
            part, payload = example
            answer = cert_client.request(entry.method, entry.key, validate=False, **{part: payload})
            operation = mock.catalog.operation(entry.key, entry.method)
            assert operation is not None
            rules = rules_for(operation, entry.method)
            assert (answer.verified is None) == (rules.unsigned_answer or rules.json_answer), entry.key
            assert (answer.data is None) == operation.flag("download"), entry.key
            called += 1
    finally:
        mock.validate = True
    assert called > 120 and sum(mock.counts.values()) == called


# -- the v2 upload (secapi/mch/uploadmedia): multipart, signed over its text fields ----------
def test_v2_upload_signs_its_form_and_sends_the_file(cert_client: Client, mock: MockPlatform) -> None:
    answer = cert_client.v2.secapi.mch.uploadmedia.post(files={"media": ("id-card.png", PNG)})
    assert answer.data["result_code"] == "SUCCESS" and answer.data["media_id"]
    call = mock.calls[-1]
    assert call.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert call.files == {"media": ("id-card.png", PNG)}
    fields = _sent(mock)  # the sign covers mch_id, media_hash and sign_type (the file is not a field)
    assert set(fields) == {"mch_id", "media_hash", "sign_type", "sign"}
    assert fields["media_hash"] == hashlib.md5(PNG).hexdigest() and fields["mch_id"] == mock.mchid
    assert fields["sign_type"] == "MD5"  # the catalogue's default; the field is required, so it is written

    async def upload_async() -> Any:
        return await cert_client.chain("v2/secapi/mch/uploadmedia").post_async(
            files={"media": ("id-card.jpg", PNG, "image/jpeg")}, form={"sign_type": "HMAC-SHA256"}
        )

    assert asyncio.run(upload_async()).data["result_code"] == "SUCCESS"
    assert _sent(mock)["sign_type"] == "HMAC-SHA256" and mock.calls[-1].files["media"][0] == "id-card.jpg"


@pytest.mark.parametrize(
    ("files", "form", "pointer"),
    [
        (None, None, "/files/media"),
        ({"media": ("id-card.gif", PNG)}, None, "/files/media"),
        ({"media": ("big.png", b"x" * (2 * 1024 * 1024 + 1))}, None, "/files/media"),
        ({"media": ("empty.png", b"")}, None, "/files/media"),
        ({"media": ("id-card.png", PNG)}, {"media_hash": "0" * 32}, "/form/media_hash"),
        ({"media": ("id-card.png", PNG)}, {"sign_type": "SHA1"}, "/form/sign_type"),
        ({"media": ("id-card.png", PNG, "image/png\r\nX-Evil: 1")}, None, "/files/media"),
        ({"media": ("id-card.png", PNG)}, {'x"\r\nX-Evil': "1"}, '/form/x"\r\nX-Evil'),
    ],
)
def test_bad_v2_uploads_are_refused_before_sending(
    cert_client: Client, mock: MockPlatform, files: Any, form: Any, pointer: str
) -> None:
    before = len(mock.calls)
    with pytest.raises(ValidationError) as refused:
        cert_client.v2.secapi.mch.uploadmedia.post(files=files, form=form)
    assert pointer in {error.pointer for error in refused.value.errors}
    assert len(mock.calls) == before


def test_the_mock_checks_the_media_hash_of_a_v2_upload(cert_client: Client, mock: MockPlatform) -> None:
    """What the platform checks: forge a request whose signed media_hash is not the file's."""
    from wechatpay_chain.v2 import sign_v2
    from wechatpay_chain.v3.media import build_form

    fields = {"mch_id": mock.mchid, "media_hash": hashlib.md5(b"another file").hexdigest(), "sign_type": "MD5"}
    fields["sign"] = sign_v2(fields, mock.secret, "MD5")
    body, content_type = build_form(fields, "media", "a.png", PNG, "image/png")
    import urllib.request

    request = urllib.request.Request(
        mock.base_url + "secapi/mch/uploadmedia", data=body, headers={"Content-Type": content_type}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert b"media_hash does not match" in answer.read()


# -- bank transfers: the RSA fields are encrypted with the getpublickey key ------------------
BANK_PLAIN = {**PAY_BANK, "enc_bank_no": "6222020202020202020", "enc_true_name": "张三"}


def test_bank_fields_are_encrypted_with_a_key_fetched_once(cert_client: Client, mock: MockPlatform) -> None:
    for _ in range(2):
        cert_client.v2.mmpaysptrans.pay_bank.post(xml=BANK_PLAIN)
        sent = _sent(mock)  # signed over the ciphertext, as sent
        assert sent["enc_bank_no"] != BANK_PLAIN["enc_bank_no"] and len(sent["enc_bank_no"]) == 344
        assert mock.calls[-1].decrypted == {"enc_bank_no": "6222020202020202020", "enc_true_name": "张三"}
    assert mock.counts[("POST", "v2/risk/getpublickey")] == 1
    assert cert_client.bank_public_key is not None


def test_a_configured_bank_key_or_the_callers_ciphertext_needs_no_fetch(
    mock: MockPlatform, merchant_pem: tuple[str, str]
) -> None:
    from wechatpay_chain.trust.crypto import oaep_encrypt

    public = mock.bank_key.public_key()
    pair = {"client_cert": merchant_pem[0], "client_key": merchant_pem[1]}
    with mock.client(bank_public_key=public, **pair) as configured:
        configured.v2.mmpaysptrans.pay_bank.post(xml=BANK_PLAIN)
    ciphertext = {name: oaep_encrypt(public, BANK_PLAIN[name]) for name in ("enc_bank_no", "enc_true_name")}
    with mock.client(**pair) as own:
        own.v2.mmpaysptrans.pay_bank.post(xml={**BANK_PLAIN, **ciphertext})
        assert _sent(mock)["enc_bank_no"] == ciphertext["enc_bank_no"]  # left as the caller made it
        assert own.bank_public_key is None
    assert mock.counts[("POST", "v2/risk/getpublickey")] == 0
    assert mock.calls[-1].decrypted["enc_true_name"] == "张三"


def test_bank_fields_encrypted_with_another_key_are_refused_by_the_platform(
    mock: MockPlatform, merchant_pem: tuple[str, str]
) -> None:
    other = rsa_key("not-the-bank-key").public_key()
    pair = {"client_cert": merchant_pem[0], "client_key": merchant_pem[1]}
    with mock.client(bank_public_key=other, **pair) as client, pytest.raises(ApiError, match="decrypted"):
        client.v2.mmpaysptrans.pay_bank.post(xml=BANK_PLAIN)


def test_a_bank_key_that_is_not_a_key_is_a_config_error(mock: MockPlatform) -> None:
    with pytest.raises(ConfigError, match="bank_public_key"):
        mock.client(bank_public_key="-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n")


def test_a_card_number_given_as_a_number_is_encrypted_too(cert_client: Client, mock: MockPlatform) -> None:
    cert_client.v2.mmpaysptrans.pay_bank.post(xml={**BANK_PLAIN, "enc_bank_no": 6222020202020202020})
    assert b"6222020202020202020" not in mock.calls[-1].body
    assert mock.calls[-1].decrypted["enc_bank_no"] == "6222020202020202020"
    before = len(mock.calls)
    with pytest.raises(ValidationError, match="to encrypt"):
        cert_client.v2.mmpaysptrans.pay_bank.post(xml={**BANK_PLAIN, "enc_true_name": {"name": "张三"}})
    assert len(mock.calls) == before


def test_an_invalid_transfer_is_refused_before_the_key_is_fetched(cert_client: Client, mock: MockPlatform) -> None:
    with pytest.raises(ValidationError) as refused:
        cert_client.v2.mmpaysptrans.pay_bank.post(xml={**BANK_PLAIN, "amount": "a lot"})
    assert "/xml/amount" in {error.pointer for error in refused.value.errors}
    assert not mock.calls  # not even getpublickey


def test_the_key_fetch_runs_under_the_calls_timeout(cert_client: Client, mock: MockPlatform) -> None:
    import time

    async def slow(call: MockCall) -> None:
        await asyncio.sleep(3)

    mock.on("POST", "v2/risk/getpublickey", slow)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        cert_client.v2.mmpaysptrans.pay_bank.post(xml=BANK_PLAIN, timeout=0.5)
    assert time.monotonic() - started < 2.0
    assert [call.key for call in mock.calls] == ["v2/risk/getpublickey"]  # the transfer never left
