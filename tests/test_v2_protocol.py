"""The APIv2 (XML) protocol core: signing, the XML codec, answers, notifications.

Everything here is sans-I/O: a client core is paired with the platform core
(the functions the mock uses) and both are fed fixed nonces and clocks.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import re
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given, settings
from hypothesis import strategies as st

from wechatpay_chain import v2
from wechatpay_chain.errors import (
    ApiError,
    ConfigError,
    DecryptionError,
    SignatureError,
    ValidationError,
    WeChatPayError,
)
from wechatpay_chain.v2 import (
    XmlError,
    app_paysign_v2,
    decode_xml,
    decode_xml_items,
    decrypt_req_info,
    encode_xml,
    encrypt_req_info,
    is_xml_body,
    jsapi_paysign_v2,
    parse_v2_notification,
    parse_v2_request,
    parse_v2_response,
    prepare_v2_request,
    sign_v2,
    sign_v2_answer,
    signed_query,
    v2_ack,
    v2_result_fail,
    v2_return_fail,
    v2_signing_string,
    verify_v2_sign,
)

# The platform's published example (pay.weixin.qq.com, "签名算法").
OFFICIAL_PARAMS = {
    "appid": "wxd930ea5d5a258f4f",
    "mch_id": "10000100",
    "device_info": "1000",
    "body": "test",
    "nonce_str": "ibuaiVcKdpRxkhJA",
}
OFFICIAL_SECRET = "192006250b4c09247ec02edce69f6a2d"
OFFICIAL_MD5 = "9A0A8659F005D6984697E2CA0A9CF3B7"
OFFICIAL_HMAC = "6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6"

MCHID = "10000100"
SECRET = OFFICIAL_SECRET


# --- signing -------------------------------------------------------------------------


def test_official_vector_signing_string() -> None:
    assert v2_signing_string(OFFICIAL_PARAMS) == (
        "appid=wxd930ea5d5a258f4f&body=test&device_info=1000&mch_id=10000100&nonce_str=ibuaiVcKdpRxkhJA"
    )


def test_official_vector_md5() -> None:
    assert sign_v2(OFFICIAL_PARAMS, OFFICIAL_SECRET) == OFFICIAL_MD5
    assert sign_v2(OFFICIAL_PARAMS, OFFICIAL_SECRET, "MD5") == OFFICIAL_MD5


def test_official_vector_hmac_sha256() -> None:
    assert sign_v2(OFFICIAL_PARAMS, OFFICIAL_SECRET, "HMAC-SHA256") == OFFICIAL_HMAC


def test_sign_skips_empty_values_and_the_sign_itself() -> None:
    padded = {**OFFICIAL_PARAMS, "attach": "", "detail": None, "sign": "WHATEVER"}
    assert sign_v2(padded, OFFICIAL_SECRET) == OFFICIAL_MD5


def test_sign_sorts_by_byte_order() -> None:
    # Upper-case letters sort before lower-case and "_" between them, in byte order.
    assert v2_signing_string({"b": "1", "B": "2", "a_": "3", "a": "4", "aB": "5"}) == ("B=2&a=4&aB=5&a_=3&b=1")


def test_sign_covers_json_text_of_dict_and_list_values() -> None:
    params = {"detail": {"cost_price": 1, "goods": ["苹果"]}, "receivers": [{"amount": 1}]}
    assert v2_signing_string(params) == ('detail={"cost_price":1,"goods":["苹果"]}&receivers=[{"amount":1}]')


def test_sign_refuses_unknown_algorithm_and_empty_secret() -> None:
    with pytest.raises(ConfigError, match="sign_type"):
        sign_v2(OFFICIAL_PARAMS, SECRET, "SHA1")
    with pytest.raises(ConfigError, match="secret"):
        sign_v2(OFFICIAL_PARAMS, "")


@pytest.mark.parametrize("sign", [OFFICIAL_MD5, OFFICIAL_HMAC, OFFICIAL_MD5.lower()])
def test_verify_chooses_algorithm_by_length(sign: str) -> None:
    assert verify_v2_sign({**OFFICIAL_PARAMS, "sign": sign}, OFFICIAL_SECRET)


def test_verify_uses_sign_type_when_present() -> None:
    signed = {**OFFICIAL_PARAMS, "sign_type": "HMAC-SHA256"}
    signed["sign"] = sign_v2(signed, SECRET, "HMAC-SHA256")
    assert verify_v2_sign(signed, SECRET)
    # The declared algorithm is the one checked: an MD5 sign under HMAC-SHA256 fails.
    mismatched = {**signed, "sign": sign_v2(signed, SECRET, "MD5")}
    assert not verify_v2_sign(mismatched, SECRET)


@pytest.mark.parametrize("sign", [OFFICIAL_MD5, OFFICIAL_HMAC])
def test_verify_rejects_a_one_character_change(sign: str) -> None:
    flipped = ("0" if sign[5] != "0" else "1").join((sign[:5], sign[6:]))
    assert not verify_v2_sign({**OFFICIAL_PARAMS, "sign": flipped}, SECRET)
    assert not verify_v2_sign({**OFFICIAL_PARAMS, "body": "test!", "sign": sign}, SECRET)
    assert not verify_v2_sign({**OFFICIAL_PARAMS, "sign": sign}, SECRET[:-1] + "e")


@pytest.mark.parametrize("sign", ["", "ABC", OFFICIAL_MD5 + "00", "中" * 32])
def test_verify_rejects_missing_or_odd_signs(sign: str) -> None:
    assert not verify_v2_sign({**OFFICIAL_PARAMS, "sign": sign}, SECRET)
    assert not verify_v2_sign(OFFICIAL_PARAMS, SECRET)


def test_signed_query_is_sorted_encoded_and_verifiable() -> None:
    query = signed_query({"plan_id": "12535", "display_account": "张 三", "empty": ""}, SECRET)
    pairs = [pair.split("=", 1) for pair in query.split("&")]
    assert [name for name, _ in pairs] == ["display_account", "plan_id", "sign"]
    assert "%E5%BC%A0%20%E4%B8%89" in query  # UTF-8, space as %20
    fields = {"plan_id": "12535", "display_account": "张 三", "sign": pairs[-1][1]}
    assert verify_v2_sign(fields, SECRET)


def test_signed_query_hmac_names_its_algorithm() -> None:
    query = signed_query({"a": "1"}, SECRET, "HMAC-SHA256")
    assert "sign_type=HMAC-SHA256" in query
    assert len(query.rsplit("sign=", 1)[1]) == 64


def test_jsapi_paysign_matches_an_independent_computation() -> None:
    result = jsapi_paysign_v2(
        "wxd930ea5d5a258f4f",
        "wx2017033010242291fcfe0db70013231072",
        SECRET,
        timestamp=1414561699,
        nonce="5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
    )
    assert set(result) == {"appId", "timeStamp", "nonceStr", "package", "signType", "paySign"}
    plain = (
        "appId=wxd930ea5d5a258f4f&nonceStr=5K8264ILTKCH16CQ2502SI8ZNMTM67VS"
        "&package=prepay_id=wx2017033010242291fcfe0db70013231072&signType=MD5"
        f"&timeStamp=1414561699&key={SECRET}"
    )
    assert result["paySign"] == hashlib.md5(plain.encode()).hexdigest().upper()
    assert result["package"] == "prepay_id=wx2017033010242291fcfe0db70013231072"


def test_jsapi_paysign_hmac_and_defaults() -> None:
    result = jsapi_paysign_v2("wx1", "wx2", SECRET, sign_type="HMAC-SHA256")
    assert result["signType"] == "HMAC-SHA256"
    assert len(result["paySign"]) == 64
    assert re.fullmatch(r"[A-Za-z0-9]{32}", result["nonceStr"])
    assert result["timeStamp"].isdigit()
    fields = {key: value for key, value in result.items() if key != "paySign"}
    expected = (
        hmac.new(
            SECRET.encode(),
            (v2_signing_string(fields) + f"&key={SECRET}").encode(),
            hashlib.sha256,
        )
        .hexdigest()
        .upper()
    )
    assert result["paySign"] == expected


def test_app_paysign_matches_an_independent_computation() -> None:
    result = app_paysign_v2(
        "wxd930ea5d5a258f4f",
        MCHID,
        "wx201410272009395522657a690389285100",
        SECRET,
        timestamp="1412000000",
        nonce="5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
    )
    assert result["package"] == "Sign=WXPay"
    assert set(result) == {"appid", "partnerid", "prepayid", "package", "noncestr", "timestamp", "sign"}
    plain = (
        "appid=wxd930ea5d5a258f4f&noncestr=5K8264ILTKCH16CQ2502SI8ZNMTM67VS"
        "&package=Sign=WXPay&partnerid=10000100"
        "&prepayid=wx201410272009395522657a690389285100&timestamp=1412000000"
        f"&key={SECRET}"
    )
    assert result["sign"] == hashlib.md5(plain.encode()).hexdigest().upper()


# --- the XML codec -------------------------------------------------------------------


def test_round_trip_with_cdata_chinese_markup_and_carriage_returns() -> None:
    fields = {
        "body": "腾讯充值中心-QQ会员充值",
        "attach": "a]]>b]]>]]>",
        "detail": "<b>&amp; 'q' \"dq\"</b>",
        "remark": "line1\r\nline2\rline3\n",
        "spaces": "  padded  ",
        "empty": "",
        "plain": "ABC123",
    }
    body = encode_xml(fields)
    assert body.startswith(b"<xml>") and body.endswith(b"</xml>")
    assert b"<plain>ABC123</plain>" in body  # plain ASCII needs no CDATA
    assert b"<![CDATA[\xe8\x85\xbe" in body  # non-ASCII goes into CDATA, as UTF-8
    assert decode_xml(body) == fields


def test_encode_cdata_for_listed_fields_and_json_values() -> None:
    body = encode_xml(
        {"a": "x", "b": "y", "scene": {"id": 1}, "n": 5, "skipped": None},
        cdata=("a",),
        json_fields=("b",),
    )
    assert body == (b'<xml><a><![CDATA[x]]></a><b><![CDATA[y]]></b><scene><![CDATA[{"id":1}]]></scene><n>5</n></xml>')


@pytest.mark.parametrize("name", ["", "1abc", "a b", "ns:tag", "中文", "a>b", "-x"])
def test_encode_refuses_names_that_are_not_xml_names(name: str) -> None:
    with pytest.raises(XmlError, match="not a valid XML element name"):
        encode_xml({name: "1"})


@pytest.mark.parametrize("text", ["\x00", "a\x01b", "\x1b", "\ufffe", "\ud800"])
def test_encode_refuses_characters_xml_cannot_carry(text: str) -> None:
    with pytest.raises(XmlError, match="cannot be written in XML"):
        encode_xml({"field": text})


def test_encode_refuses_bools_and_unknown_types() -> None:
    with pytest.raises(XmlError, match="bool"):
        encode_xml({"profit_sharing": True})
    with pytest.raises(XmlError, match="cannot write a"):
        encode_xml({"when": object()})


def test_xml_error_is_a_wechatpay_error_and_a_value_error() -> None:
    assert issubclass(XmlError, WeChatPayError)
    assert issubclass(XmlError, ValueError)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
]>
<xml><return_code>&lol9;</return_code></xml>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<xml><return_msg>&xxe;</return_msg></xml>"""
PLAIN_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE xml SYSTEM "http://example.invalid/v2.dtd">
<xml><return_code>SUCCESS</return_code></xml>"""


@pytest.mark.parametrize(
    ("body", "reason"),
    [(BILLION_LAUGHS, "refused"), (EXTERNAL_ENTITY, "refused"), (PLAIN_DTD, "DTD")],
    ids=["billion-laughs", "external-entity", "dtd"],
)
def test_dangerous_xml_is_refused(body: bytes, reason: str) -> None:
    with pytest.raises(XmlError, match=reason) as caught:
        decode_xml(body)
    assert "root:" not in str(caught.value)  # nothing of /etc/passwd came through
    with pytest.raises(XmlError):
        parse_v2_response(body, secret=SECRET)


def test_decode_refuses_oversized_bodies_before_parsing() -> None:
    body = b"<xml><a>" + b"x" * 100 + b"</a></xml>"
    with pytest.raises(XmlError, match="over the 64-byte limit"):
        decode_xml(body, max_bytes=64)
    assert decode_xml(body, max_bytes=len(body)) == {"a": "x" * 100}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "not well-formed"),
        (b"<xml><a>1</xml>", "not well-formed"),
        (b"<html><body>502</body></html>", "expected <xml>"),
        (b"<xml><a>1</a><a>2</a></xml>", "more than once"),
        (b"\xff\xfe<xml/>", "not well-formed"),
        (b"<xml>" + b"<a>" * 40 + b"</a>" * 40 + b"</xml>", "nested more than"),
    ],
)
def test_decode_refuses_malformed_bodies(body: bytes, reason: str) -> None:
    with pytest.raises(XmlError, match=reason):
        decode_xml(body)


def test_decode_ignores_attributes_comments_and_whitespace_between_fields() -> None:
    body = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<xml version="2">\n  <!-- c -->\n  <a x="1">1</a>\n  <b/>\n</xml>\n'
    )
    assert decode_xml(body) == {"a": "1", "b": ""}


def test_decode_keeps_nested_fields_as_inner_markup() -> None:
    body = (
        b"<xml><return_code>SUCCESS</return_code><hblist>"
        b"<hbinfo><openid>o1</openid><amount>100</amount></hbinfo>"
        b"<hbinfo><openid><![CDATA[o2&<]]></openid><amount>200</amount></hbinfo>"
        b"</hblist></xml>"
    )
    fields = decode_xml(body)
    assert fields["return_code"] == "SUCCESS"
    assert fields["hblist"].startswith("<hbinfo><openid>o1</openid>")
    assert decode_xml_items(fields["hblist"], "hbinfo") == [
        {"openid": "o1", "amount": "100"},
        {"openid": "o2&<", "amount": "200"},
    ]
    with pytest.raises(XmlError, match="only <record> records"):
        decode_xml_items(fields["hblist"], "record")


def test_is_xml_body_tells_bills_from_error_answers() -> None:
    assert is_xml_body(b"<xml><return_code>FAIL</return_code></xml>")
    assert is_xml_body(b'\xef\xbb\xbf \r\n<?xml version="1.0"?><xml/>')
    assert not is_xml_body("交易时间,公众账号ID,商户号\n`2024-01-01,`wx1,`1\n".encode())
    assert not is_xml_body(gzip.compress(b"<xml></xml>"))
    assert not is_xml_body(b"")


# --- requests and answers ------------------------------------------------------------


def test_prepare_adds_a_nonce_signs_and_encodes() -> None:
    body, fields = prepare_v2_request(
        {"appid": "wx1", "mch_id": MCHID, "out_trade_no": "T1"}, mchid=MCHID, secret=SECRET
    )
    assert re.fullmatch(r"[A-Za-z0-9]{32}", fields["nonce_str"])
    assert "sign_type" not in fields  # MD5 is the platform's default: not sent
    assert len(fields["sign"]) == 32 and verify_v2_sign(fields, SECRET)
    assert decode_xml(body) == fields
    assert parse_v2_request(body, secret=SECRET) == fields  # the platform accepts it


def test_prepare_with_fixed_nonce_and_hmac() -> None:
    _, fields = prepare_v2_request(
        {"mch_id": MCHID}, mchid=MCHID, secret=SECRET, sign_type="HMAC-SHA256", nonce="N" * 32
    )
    assert fields["nonce_str"] == "N" * 32
    assert fields["sign_type"] == "HMAC-SHA256"
    assert fields["sign"] == sign_v2(fields, SECRET, "HMAC-SHA256")


def test_prepare_nonceless_and_present_nonce() -> None:
    _, fields = prepare_v2_request({"mchid": MCHID}, mchid=MCHID, secret=SECRET, nonceless=True)
    assert "nonce_str" not in fields
    _, fields = prepare_v2_request({"nonce_str": "mine"}, mchid=MCHID, secret=SECRET)
    assert fields["nonce_str"] == "mine"


def test_prepare_payload_sign_type_wins_and_old_sign_is_replaced() -> None:
    params = {"mch_id": MCHID, "sign_type": "MD5", "sign": "STALE"}
    _, fields = prepare_v2_request(params, mchid=MCHID, secret=SECRET, sign_type="HMAC-SHA256")
    assert len(fields["sign"]) == 32 and verify_v2_sign(fields, SECRET)


def test_prepare_defaults_fill_only_absent_fields() -> None:
    _, fields = prepare_v2_request(
        {"appid": "wx-mine", "sub_appid": None},
        mchid=MCHID,
        secret=SECRET,
        defaults={"appid": "wx-cfg", "sub_appid": "wx-sub", "x": "1"},
    )
    assert (fields["appid"], fields["sub_appid"], fields["x"]) == ("wx-mine", "wx-sub", "1")


def test_prepare_canonical_sign_type_and_none_merchant_id() -> None:
    params = {"mch_id": None, "sign_type": "hmac-sha256"}
    body, fields = prepare_v2_request(params, mchid=MCHID, secret=SECRET)
    assert fields["sign_type"] == "HMAC-SHA256" and len(fields["sign"]) == 64
    assert b"<mch_id>" not in body  # None is "absent", for the check and on the wire


def test_prepare_reports_every_merchant_mismatch_at_once() -> None:
    params = {"mch_id": "999", "combine_mch_id": "888", "sign_type": "SHA1", "mchid": MCHID}
    with pytest.raises(ValidationError) as caught:
        prepare_v2_request(params, mchid=MCHID, secret=SECRET, operation="v2/pay/unifiedorder")
    error = caught.value
    assert error.operation == "v2/pay/unifiedorder"
    assert [(e.pointer, e.rule) for e in error.errors] == [
        ("/xml/mch_id", "merchant"),
        ("/xml/combine_mch_id", "merchant"),
        ("/xml/sign_type", "enum"),
    ]
    assert SECRET not in str(error)


def test_prepare_accepts_an_integer_merchant_id() -> None:
    _, fields = prepare_v2_request({"mch_id": int(MCHID)}, mchid=MCHID, secret=SECRET)
    assert verify_v2_sign(fields, SECRET)


def _answer(**fields: Any) -> dict[str, Any]:
    return {
        "return_code": "SUCCESS",
        "return_msg": "OK",
        "appid": "wx1",
        "mch_id": MCHID,
        "nonce_str": "n" * 32,
        "result_code": "SUCCESS",
        **fields,
    }


@pytest.mark.parametrize("sign_type", ["MD5", "HMAC-SHA256"])
def test_parse_response_accepts_a_signed_success(sign_type: str) -> None:
    body = sign_v2_answer(_answer(prepay_id="wx201410272009", total_fee=1), SECRET, sign_type)
    assert b"<total_fee>1</total_fee>" in body  # numbers bare, text in CDATA
    assert b"<prepay_id><![CDATA[wx201410272009]]></prepay_id>" in body
    fields = parse_v2_response(body, secret=SECRET)
    assert fields["prepay_id"] == "wx201410272009" and fields["total_fee"] == "1"


def test_parse_response_return_fail() -> None:
    with pytest.raises(ApiError) as caught:
        parse_v2_response(v2_return_fail("签名错误"), secret=SECRET)
    error = caught.value
    assert (error.status_code, error.code, error.message) == (200, "FAIL", "签名错误")
    assert error.detail == {"return_code": "FAIL", "return_msg": "签名错误"}


def test_parse_response_result_fail() -> None:
    body = v2_result_fail("ORDERPAID", "该订单已支付", secret=SECRET, fields={"appid": "wx1"})
    with pytest.raises(ApiError) as caught:
        parse_v2_response(body, secret=SECRET, status_code=200)
    error = caught.value
    assert (error.code, error.message) == ("ORDERPAID", "该订单已支付")
    assert error.detail["result_code"] == "FAIL" and error.detail["appid"] == "wx1"
    assert verify_v2_sign(error.detail, SECRET)  # the platform signs business failures


def test_parse_response_missing_sign() -> None:
    body = encode_xml(_answer())
    with pytest.raises(SignatureError) as caught:
        parse_v2_response(body, secret=SECRET)
    assert (caught.value.check, caught.value.reason) == ("sign", "missing")
    assert parse_v2_response(body, secret=SECRET, verify_sign=False)["mch_id"] == MCHID


def test_parse_response_wrong_sign() -> None:
    fields = _answer(total_fee=1)
    fields["sign"] = sign_v2(fields, SECRET)
    fields["total_fee"] = 100  # changed after signing
    with pytest.raises(SignatureError) as caught:
        parse_v2_response(encode_xml(fields), secret=SECRET)
    assert caught.value.check == "sign"
    assert "does not match" in caught.value.reason
    assert SECRET not in str(caught.value)
    with pytest.raises(SignatureError, match="unknown algorithm"):
        parse_v2_response(encode_xml({**fields, "sign": "ABC"}), secret=SECRET)


def test_parse_response_without_return_code_is_not_a_v2_answer() -> None:
    with pytest.raises(XmlError, match="return_code"):
        parse_v2_response(b"<xml><a>1</a></xml>", secret=SECRET)


def test_parse_request_refuses_a_bad_sign() -> None:
    body, _ = prepare_v2_request({"mch_id": MCHID}, mchid=MCHID, secret=SECRET)
    with pytest.raises(SignatureError, match="does not match the request"):
        parse_v2_request(body, secret=SECRET[::-1])
    with pytest.raises(SignatureError, match="missing"):
        parse_v2_request(encode_xml({"mch_id": MCHID}), secret=SECRET)


def test_ack_bodies() -> None:
    assert v2_ack() == (
        b"<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>"
    )
    assert decode_xml(v2_ack(False, "签名失败")) == {"return_code": "FAIL", "return_msg": "签名失败"}


# --- notifications -------------------------------------------------------------------

REFUND_INFO = {
    "out_refund_no": "R20181119001",
    "refund_fee": "3960",
    "refund_recv_accout": "支付用户零钱",
    "refund_status": "SUCCESS",
    "success_time": "2018-11-19 16:24:13",
}
# Made outside this code base with the OpenSSL command line, from the plaintext
# <root> document of REFUND_INFO (every value in CDATA, in this order):
#   KEY=$(printf %s "$SECRET" | md5sum | cut -d' ' -f1)
#   printf %s "$PLAINTEXT" | openssl enc -aes-256-ecb -nosalt \
#       -K "$(printf %s "$KEY" | xxd -p -c 64)" | base64 -w0
REFUND_INFO_VECTOR = (
    "WBzGpzQuNpcFxIlFjUUD9BfnwwNUlVAs7bwvgHME4/S2AVM5OvCppDjNK+klPw6EEzEQIOaZs9EYO4DOrifmCRlU"
    "lpr3T6lTJhyzQKHQGhO3vm+YFk9T7uptvJKjIigmrCIrpsUYfEoB9kN6EbL3P/9g8UtUZ7w9hHVCxxSSizUgODmV"
    "gVibMQ+O5C+0a49byMM5z387jtcXpgKaOvfDUBUvDb+UfxK2TpL62HEMkuQWJY9B0igfoCnYyXITGqnfecUouhl1"
    "uI6caGm+e9Qv7DnCq/3u0Vi9bOYklLhFPAIEmA+H790/n/V63t5+YNeh2KXX9agM+fDAPe/DTKBmmKvzXJhJJAXK"
    "hrdPkgqzplHvvO8cZPHU/wRy0B21tl523oq5OYelGTRed7W0Ow/YvQ=="
)


def test_req_info_fixed_vector() -> None:
    assert decrypt_req_info(REFUND_INFO_VECTOR, SECRET) == REFUND_INFO
    assert encrypt_req_info(REFUND_INFO, SECRET) == REFUND_INFO_VECTOR


def test_req_info_matches_a_reference_ecb_decryption() -> None:
    # Independent of our code: the documented key derivation, straight on cryptography.
    key = hashlib.md5(SECRET.encode()).hexdigest().encode()
    decryptor = Cipher(algorithms.AES(key), modes.ECB()).decryptor()
    padded = decryptor.update(base64.b64decode(encrypt_req_info({"a": "甲"}, SECRET)))
    unpadder = padding.PKCS7(128).unpadder()
    plain = unpadder.update(padded + decryptor.finalize()) + unpadder.finalize()
    assert plain == "<root><a><![CDATA[甲]]></a></root>".encode()


def _tamper(req_info: str, position: int) -> str:
    raw = bytearray(base64.b64decode(req_info))
    raw[position] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


@pytest.mark.parametrize("position", [0, 20, -1])
def test_tampered_req_info_is_refused(position: int) -> None:
    with pytest.raises(DecryptionError):
        decrypt_req_info(_tamper(REFUND_INFO_VECTOR, position), SECRET)


@pytest.mark.parametrize(
    ("req_info", "reason"),
    [
        ("not base64!", "base64"),
        (base64.b64encode(b"short").decode(), "AES blocks"),
        ("", "AES blocks"),
    ],
)
def test_malformed_req_info_is_refused(req_info: str, reason: str) -> None:
    with pytest.raises(DecryptionError, match=reason):
        decrypt_req_info(req_info, SECRET)


def test_req_info_with_the_wrong_secret_is_refused() -> None:
    with pytest.raises(DecryptionError):
        decrypt_req_info(REFUND_INFO_VECTOR, "0" * 32)


def test_payment_notification_is_verified() -> None:
    notification = _answer(out_trade_no="T1", total_fee=1, transaction_id="4200")
    body = sign_v2_answer(notification, SECRET)
    assert parse_v2_notification(body, SECRET)["transaction_id"] == "4200"
    forged = body.replace(b"<total_fee>1</total_fee>", b"<total_fee>9</total_fee>")
    with pytest.raises(SignatureError, match="does not match the notification"):
        parse_v2_notification(forged, SECRET)
    with pytest.raises(SignatureError, match="missing"):
        parse_v2_notification(encode_xml(notification), SECRET)


def test_failed_payment_notification_is_returned_not_raised() -> None:
    body = v2_result_fail("NOTENOUGH", "余额不足", secret=SECRET)
    assert parse_v2_notification(body, SECRET)["err_code"] == "NOTENOUGH"


def test_refund_notification_is_decrypted_and_outer_extras_dropped() -> None:
    envelope = {
        "return_code": "SUCCESS",
        "appid": "wx1",
        "mch_id": MCHID,
        "nonce_str": "n" * 32,
        "req_info": encrypt_req_info(REFUND_INFO, SECRET),
        "result_code": "SUCCESS",
        "cash_fee": "100000",  # not covered by anything
    }
    fields = parse_v2_notification(encode_xml(envelope), SECRET)
    assert fields == {
        "return_code": "SUCCESS",
        "appid": "wx1",
        "mch_id": MCHID,
        "nonce_str": "n" * 32,
        **REFUND_INFO,
    }


def test_refund_notification_with_tampered_req_info_is_refused() -> None:
    envelope = {"return_code": "SUCCESS", "req_info": _tamper(REFUND_INFO_VECTOR, 0)}
    with pytest.raises(DecryptionError):
        parse_v2_notification(encode_xml(envelope), SECRET)


# --- properties ----------------------------------------------------------------------

# Every character XML 1.0 can carry: no surrogates, no C0 controls but tab, LF, CR.
_NOT_IN_XML = "".join(chr(c) for c in range(0x20) if chr(c) not in "\t\n\r") + "\ufffe\uffff"
xml_text = st.text(st.characters(exclude_categories=("Cs",), exclude_characters=_NOT_IN_XML))
field_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.-]{0,15}", fullmatch=True).filter(
    lambda name: name not in ("sign", "sign_type")
)
xml_fragments = st.lists(
    st.sampled_from(
        [
            "<xml>",
            "</xml>",
            "<a>",
            "</a>",
            "<b/>",
            "<![CDATA[",
            "]]>",
            "&",
            "&amp;",
            "&#0;",
            "&#13;",
            "<!DOCTYPE xml>",
            '<!ENTITY e "x">',
            "&e;",
            "<?xml version='1.0'?>",
            "<!-- -->",
            "<",
            ">",
            '"',
            "中",
            "\x00",
            " ",
            "<xml a='1'>",
            '<?xml version="1.0" encoding="utf-16"?>',
            '<?xml version="1.0" encoding="bogus"?>',
        ]
    )
    | xml_text
).map("".join)


def _decode_or_refuse(body: bytes) -> None:
    try:
        result = decode_xml(body)
    except XmlError:
        return
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in result.items())


@settings(max_examples=300, deadline=None)
@given(st.text() | xml_fragments)
def test_any_text_decodes_to_a_dict_or_the_typed_error(text: str) -> None:
    _decode_or_refuse(text.encode("utf-8", errors="surrogatepass"))


@settings(max_examples=200, deadline=None)
@given(st.binary())
def test_any_bytes_decode_to_a_dict_or_the_typed_error(data: bytes) -> None:
    _decode_or_refuse(data)
    assert isinstance(is_xml_body(data), bool)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(field_names, xml_text, max_size=12))
def test_any_fields_round_trip_through_the_codec(fields: dict[str, str]) -> None:
    assert decode_xml(encode_xml(fields)) == fields
    assert decode_xml(encode_xml(fields, cdata=list(fields))) == fields


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(field_names, xml_text, max_size=12), st.sampled_from(v2.SIGN_TYPES))
def test_any_fields_sign_and_verify_through_the_wire(fields: dict[str, str], sign_type: str) -> None:
    body = sign_v2_answer(fields, SECRET, sign_type)
    received = decode_xml(body)
    assert verify_v2_sign(received, SECRET)
    assert not verify_v2_sign(received, SECRET + "x")


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(field_names, xml_text, max_size=8))
def test_any_fields_round_trip_through_req_info(fields: dict[str, str]) -> None:
    assert decrypt_req_info(encrypt_req_info(fields, SECRET), SECRET) == fields


# --- the public surface --------------------------------------------------------------


NETWORK_MODULES = ("aiohttp", "asyncio", "http", "socket", "ssl", "urllib.request")


def test_public_names_exist_and_nothing_imports_a_network_library() -> None:
    for name in v2.__all__:
        assert hasattr(v2, name), name
    for source_file in Path(v2.__file__).parent.glob("*.py"):
        imported = re.findall(r"^\s*(?:from|import)\s+([\w.]+)", source_file.read_text("utf-8"), re.M)
        assert imported, source_file.name
        for module in imported:
            if source_file.name == "settings.py" and module == "ssl":
                continue  # it builds the TLS context that presents the merchant certificate; no socket
            assert not module.startswith(tuple(f"{name}." for name in NETWORK_MODULES)), module
            assert module not in NETWORK_MODULES, (source_file.name, module)
