"""A user program the typed surface must accept: ``mypy --strict`` and pyright report nothing.

Type-checked by tests/test_stubs.py, and run there against the mock platform. The seed call plus three other
operations, sync and async, a v2 call, attribute style (typed) and ``chain()``/``[...]``
(loosely typed: they take any path and give the generic node), and every keyword a verb
documents: path values, ``query=``, ``json=``, ``xml=``, ``files=`` (v3 and v2, with ``form=``),
``headers=``, ``validate=``, ``timeout=`` (seconds or ``Timeout``), ``idempotent=``, ``decrypt=``.
"""

# pyright: strict

from __future__ import annotations

from typing import Literal

from wechatpay_chain import Client, Response, Timeout
from wechatpay_chain.mock import MockPlatform

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def return_order(client: Client) -> Literal["PROCESSING", "SUCCESS", "FAILED"]:
    answer = client.v3.profitsharing.return_orders.post(
        json={
            "order_id": "3008450740201411110007820472",
            "out_return_no": "R20190516001",
            "return_mchid": "86693852",
            "amount": 10,
            "description": "用户退款",
        }
    )
    return answer.json()["result"]


def query_order(client: Client) -> str | None:
    order = client.v3.pay.transactions.out_trade_no._out_trade_no_.get(
        out_trade_no="1217752501201407033233368018", query={"mchid": "1900000109"}
    )
    state = order.json().get("trade_state")
    return None if state is None else state.lower()


async def jsapi_prepay(client: Client) -> str:
    answer = await client.v3.pay.transactions.jsapi.post_async(
        json={
            "appid": "wxd678efh567hg6787",
            "mchid": "1900000109",
            "description": "Image形象店-深圳腾大-QQ公仔",
            "out_trade_no": "1217752501201407033233368018",
            "notify_url": "https://www.weixin.qq.com/wxpay/pay.php",
            "amount": {"total": 100, "currency": "CNY"},
            "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
        }
    )
    return answer.json()["prepay_id"]


async def add_receiver(client: Client) -> str:
    answer = await client.v3.profitsharing.receivers.add.post_async(
        json={
            "appid": "wx8888888888888888",
            "type": "MERCHANT_ID",
            "account": "86693852",
            "relation_type": "STORE",
        }
    )
    return answer.json()["account"]


def micropay(client: Client) -> bool:
    """APIv2: ``xml=`` typed by the spec (``sign`` and ``nonce_str`` are the client's); answers are XML text."""
    answer = client.v2.pay.micropay.post(
        xml={
            "appid": "wx8888888888888888",
            "mch_id": "1900000109",
            "body": "image形象店-深圳腾大- QQ公仔",
            "out_trade_no": "1217752501201407033233368018",
            "total_fee": 888,
            "spbill_create_ip": "8.8.8.8",
            "auth_code": "120061098828009406",
        }
    )
    return answer.json()["return_code"] == "SUCCESS" and answer.data is not None


def loose_styles(client: Client) -> list[Response]:
    """``chain()`` and ``[...]`` take any path: they give the generic node, loosely typed."""
    payload = {
        "out_order_no": "P20150806125346",
        "out_return_no": "R1",
        "return_mchid": "86693852",
        "amount": 1,
        "description": "用户退款",
    }
    return [
        client.chain("v3/profitsharing/return-orders").post(json=payload),
        client["v3/profitsharing/return-orders"].post(json=payload),
    ]


def with_mock() -> str:
    with MockPlatform(sandbox=False) as mock:
        client = mock.client()
        return client.v3.profitsharing.return_orders.path


def every_option(client: Client) -> list[int]:
    """The options every verb takes, sync and v3: headers, validate, timeout, idempotent, decrypt."""
    node = client.v3.pay.transactions.out_trade_no._out_trade_no_
    first = node.get(
        out_trade_no="1217752501201407033233368018",
        query={"mchid": "1900000109"},
        headers={"Accept-Language": "zh-CN"},
        validate=True,
        timeout=5,
        idempotent=True,
        decrypt=False,
    )
    refund = client.v3.refund.domestic.refunds.post(
        json={
            "out_trade_no": "1217752501201407033233368018",
            "out_refund_no": "R1",
            "amount": {"refund": 1, "total": 1, "currency": "CNY"},
        },
        headers={"Idempotency-Key": "R1"},
        idempotent=True,
        timeout=Timeout(total=30, connect=10, read=30),
        validate=None,
    )
    return [first.status_code, refund.status_code]


async def decrypted_guides(client: Client) -> str | None:
    """``decrypt=True``: the answer fields the spec marks encrypted come back opened (async)."""
    answer = await client.v3.smartguide.guides.get_async(query={"store_id": 1}, decrypt=True, timeout=5.0)
    guides = answer.json().get("data") or []
    return guides[0].get("mobile") if guides else None


def upload_image(client: Client) -> str:
    """``files=`` of a v3 upload (the meta part is the client's)."""
    answer = client.v3.merchant.media.upload.post(files={"file": ("logo.png", PNG)}, idempotent=False)
    return answer.json()["media_id"]


def v2_options(client: Client) -> str:
    """v2: ``xml=`` without ``mch_id``/``nonce_str``/``sign`` (the client fills them), with the options v2 takes."""
    answer = client.v2.pay.closeorder.post(
        xml={"appid": "wx8888888888888888", "out_trade_no": "1217752501201407033233368018"},
        headers={"Accept-Language": "zh-CN"},
        validate=True,
        timeout=Timeout(total=10),
        idempotent=True,
    )
    return answer.json()["return_code"]


def v2_upload(client: Client) -> str:
    """A v2 upload: ``files=`` and the signed text fields as ``form=`` (``media_hash`` is computed)."""
    answer = client.v2.secapi.mch.uploadmedia.post(
        files={"media": ("id-card.jpg", PNG, "image/jpeg")}, form={"sign_type": "HMAC-SHA256"}
    )
    return answer.json()["media_id"]
