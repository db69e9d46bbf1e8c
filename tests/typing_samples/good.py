"""A user program the typed surface must accept: ``mypy --strict`` and pyright report nothing.

Type-checked by tests/test_stubs.py, and run there against the mock platform. The seed call plus three other
operations, sync and async, a v2 call, attribute style (typed) and ``chain()``/``[...]``
(loosely typed: they take any path and give the generic node).
"""

# pyright: strict

from __future__ import annotations

from typing import Literal

from wechatpay_chain import Client, Response
from wechatpay_chain.mock import MockPlatform


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
    payload = {"out_return_no": "R1", "return_mchid": "86693852", "amount": 1, "description": "用户退款"}
    return [
        client.chain("v3/profitsharing/return-orders").post(json=payload),
        client["v3/profitsharing/return-orders"].post(json=payload),
    ]


def with_mock() -> str:
    with MockPlatform() as mock:
        client = mock.client()
        return client.v3.profitsharing.return_orders.path
