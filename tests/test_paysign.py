"""Pay-sign: each signature verifies with cryptography over the exact documented string.

The signing strings below are written out literally from the platform's examples
(JSAPI: appId, timeStamp, nonceStr, package; APP: appid, timestamp, noncestr, prepayid;
every line ending in \\n), not rebuilt with the code under test.
"""

from __future__ import annotations

import base64
import re
import time
from typing import Any

import pytest
from _certs_helpers import private_pem, rsa_key
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from wechatpay_chain.errors import ConfigError
from wechatpay_chain.v3.paysign import app_params, jsapi_params

APPID = "wx8888888888888888"
TIMESTAMP = "1414561699"
NONCE = "5K8264ILTKCH16CQ2502SI8ZNMTM67VS"
PREPAY_ID = "wx201410272009395522657a690389285100"


def merchant_key() -> Any:
    return rsa_key("merchant")


def verify(signature: str, message: bytes) -> None:
    merchant_key().public_key().verify(base64.b64decode(signature), message, padding.PKCS1v15(), hashes.SHA256())


def test_jsapi_params_sign_the_documented_string() -> None:
    params = jsapi_params(APPID, PREPAY_ID, merchant_key(), timestamp=TIMESTAMP, nonce=NONCE)
    assert params == {
        "appId": APPID,
        "timeStamp": TIMESTAMP,
        "nonceStr": NONCE,
        "package": "prepay_id=wx201410272009395522657a690389285100",
        "signType": "RSA",
        "paySign": params["paySign"],
    }
    verify(
        params["paySign"],
        b"wx8888888888888888\n1414561699\n5K8264ILTKCH16CQ2502SI8ZNMTM67VS\n"
        b"prepay_id=wx201410272009395522657a690389285100\n",
    )


def test_jsapi_sign_type_is_not_signed() -> None:
    params = jsapi_params(APPID, PREPAY_ID, merchant_key(), timestamp=TIMESTAMP, nonce=NONCE)
    with pytest.raises(InvalidSignature):
        verify(
            params["paySign"],
            b"wx8888888888888888\n1414561699\n5K8264ILTKCH16CQ2502SI8ZNMTM67VS\n"
            b"prepay_id=wx201410272009395522657a690389285100\nRSA\n",
        )


def test_jsapi_accepts_a_ready_package() -> None:
    params = jsapi_params(APPID, "prepay_id=" + PREPAY_ID, merchant_key(), timestamp=1414561699)
    assert params["package"] == "prepay_id=" + PREPAY_ID
    assert params["timeStamp"] == TIMESTAMP


def test_app_params_sign_the_documented_string() -> None:
    params = app_params(
        APPID,
        "1900000109",
        "WX1217752501201407033233368018",
        merchant_key(),
        timestamp=TIMESTAMP,
        nonce=NONCE,
    )
    assert params == {
        "appid": APPID,
        "partnerid": "1900000109",
        "prepayid": "WX1217752501201407033233368018",
        "package": "Sign=WXPay",
        "noncestr": NONCE,
        "timestamp": TIMESTAMP,
        "sign": params["sign"],
    }
    verify(
        params["sign"],
        b"wx8888888888888888\n1414561699\n5K8264ILTKCH16CQ2502SI8ZNMTM67VS\nWX1217752501201407033233368018\n",
    )


def test_signatures_are_deterministic_and_key_sources_are_equivalent() -> None:
    first = jsapi_params(APPID, PREPAY_ID, merchant_key(), timestamp=TIMESTAMP, nonce=NONCE)
    from_pem = jsapi_params(APPID, PREPAY_ID, private_pem(merchant_key()), timestamp=TIMESTAMP, nonce=NONCE)
    assert first == from_pem  # PKCS#1 v1.5 is deterministic: same inputs, same signature


def test_defaults_are_current_seconds_and_a_fresh_nonce() -> None:
    before = int(time.time())
    first = jsapi_params(APPID, PREPAY_ID, merchant_key())
    second = app_params(APPID, "1900000109", "WX1", merchant_key())
    after = int(time.time())
    assert before <= int(first["timeStamp"]) <= after
    assert re.fullmatch(r"[0-9]{10}", second["timestamp"])
    assert re.fullmatch(r"[A-Za-z0-9]{32}", first["nonceStr"])
    assert first["nonceStr"] != second["noncestr"]
    verify(
        first["paySign"],
        f"{APPID}\n{first['timeStamp']}\n{first['nonceStr']}\nprepay_id={PREPAY_ID}\n".encode(),
    )


@pytest.mark.parametrize("timestamp", ["1414561699000", "14145616.99", "-1", "", True, "١٢٣"])
def test_bad_timestamps_are_refused(timestamp: Any) -> None:
    with pytest.raises(ConfigError) as raised:
        jsapi_params(APPID, PREPAY_ID, merchant_key(), timestamp=timestamp)
    assert raised.value.argument == "timestamp"


@pytest.mark.parametrize("nonce", ["", "x" * 33, "two\nlines"])
def test_bad_nonces_are_refused(nonce: str) -> None:
    with pytest.raises(ConfigError) as raised:
        app_params(APPID, "1900000109", "WX1", merchant_key(), nonce=nonce)
    assert raised.value.argument == "nonce"


def test_a_public_key_is_no_signing_key() -> None:
    with pytest.raises(ConfigError):
        jsapi_params(APPID, PREPAY_ID, merchant_key().public_key())
