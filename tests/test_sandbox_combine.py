"""Combined orders in the sandbox, through a Client over real sockets: the combine order, its
sub-orders in the order book (refunded by their own ``out_trade_no``), one payment for all,
the combine notification at a real aiohttp webhook; close, expiry and the refusals.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web

from wechatpay_chain import ApiError, Client
from wechatpay_chain.mock import MockPlatform
from wechatpay_chain.mock.pytest import mock_platform  # noqa: F401 - the fixture under test

APPID = "wxd678efh567hg6787"


@pytest.fixture
def client(mock_platform: MockPlatform) -> Iterator[Client]:  # noqa: F811 - the fixture above
    with mock_platform.client() as made:
        yield made


def _combine_body(mchid: str, combine_no: str, amounts: list[int], notify_url: str, **more: Any) -> dict[str, Any]:
    return {
        "combine_appid": APPID,
        "combine_mchid": mchid,
        "combine_out_trade_no": combine_no,
        "combine_payer_info": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
        "notify_url": notify_url,
        "sub_orders": [
            {
                "mchid": mchid,
                "attach": f"shop-{n}",
                "amount": {"total_amount": value, "currency": "CNY"},
                "out_trade_no": f"{combine_no}-S{n}",
                "description": f"商品{n}",
            }
            for n, value in enumerate(amounts, 1)
        ],
        **more,
    }


def _query(client: Client, combine_no: str) -> dict[str, Any]:
    answer = client.v3.combine_transactions.out_trade_no._combine_out_trade_no_.get(combine_out_trade_no=combine_no)
    return dict(answer.json())


async def _combine_flow(mock: MockPlatform) -> None:
    async with mock.client() as client:
        seen: dict[str, dict[str, Any]] = {}

        async def notify(request: web.Request) -> web.Response:
            event = client.notifications.parse(request.headers, await request.read())
            seen.setdefault(event.id, event.resource)
            status, headers, body = client.notifications.ack()
            return web.Response(status=status, headers=headers, body=body)

        app = web.Application()
        app.router.add_post("/combine/notify", notify)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/combine/notify"
        try:
            made = await client.v3.combine_transactions.jsapi.post_async(
                json=_combine_body(mock.mchid, "C-FLOW", [100, 250], url)
            )
            assert made.json()["prepay_id"].startswith("wx")
            before = (
                await client.v3.combine_transactions.out_trade_no._combine_out_trade_no_.get_async(
                    combine_out_trade_no="C-FLOW"
                )
            ).json()
            assert [sub["trade_state"] for sub in before["sub_orders"]] == ["NOTPAY", "NOTPAY"]
            assert "transaction_id" not in before["sub_orders"][0]

            mock.pay_combined("C-FLOW")
            paid = await mock.expect_notification_async("TRANSACTION.SUCCESS", combine_out_trade_no="C-FLOW")
            assert paid.acknowledged
            (resource,) = seen.values()
            assert resource["combine_mchid"] == mock.mchid
            assert resource["combine_payer_info"]["openid"] == "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
            subs = {sub["out_trade_no"]: sub for sub in resource["sub_orders"]}
            assert set(subs) == {"C-FLOW-S1", "C-FLOW-S2"}
            assert {sub["trade_state"] for sub in subs.values()} == {"SUCCESS"}
            assert subs["C-FLOW-S2"]["amount"] == {
                "total_amount": 250,
                "currency": "CNY",
                "payer_amount": 250,
                "payer_currency": "CNY",
            }

            # A sub-order is an order: refunded by its own out_trade_no.
            refund = await client.v3.refund.domestic.refunds.post_async(
                json={
                    "out_trade_no": "C-FLOW-S2",
                    "out_refund_no": "C-FLOW-R1",
                    "amount": {"refund": 50, "total": 250, "currency": "CNY"},
                }
            )
            assert refund.json()["transaction_id"] == subs["C-FLOW-S2"]["transaction_id"]
            by_id = (
                await client.v3.combine_transactions.id._combine_transaction_id_.get_async(
                    combine_transaction_id=resource["combine_transaction_id"]
                )
            ).json()
            states = {sub["out_trade_no"]: sub["trade_state"] for sub in by_id["sub_orders"]}
            assert states == {"C-FLOW-S1": "SUCCESS", "C-FLOW-S2": "REFUND"}
        finally:
            await runner.cleanup()


def test_a_combined_order_paid_notified_and_refunded_by_sub_order() -> None:
    async def scenario() -> None:
        async with MockPlatform() as mock:
            await _combine_flow(mock)

    asyncio.run(scenario())


def test_close_and_expiry_close_every_sub_order(client: Client, mock_platform: MockPlatform) -> None:  # noqa: F811
    native = client.v3.combine_transactions.native.post(
        json=_combine_body(client.mchid, "C-CLOSE", [10, 20], "http://127.0.0.1:9/n")
    ).json()
    assert native["code_url"].startswith("weixin://wxpay/bizpayurl?pr=")
    closed = client.v3.combine_transactions.out_trade_no._combine_out_trade_no_.close.post(
        combine_out_trade_no="C-CLOSE",
        json={
            "combine_appid": APPID,
            "sub_orders": [{"mchid": client.mchid, "out_trade_no": f"C-CLOSE-S{n}"} for n in (1, 2)],
        },
    )
    assert closed.status_code == 204
    assert {sub["trade_state"] for sub in _query(client, "C-CLOSE")["sub_orders"]} == {"CLOSED"}
    with pytest.raises(ValueError, match="cannot be paid"):
        mock_platform.pay_combined("C-CLOSE")

    scene = {"device_id": "POS1", "payer_client_ip": "14.23.150.211", "h5_info": {"type": "Wap"}}
    h5 = client.v3.combine_transactions.h5.post(
        json=_combine_body(client.mchid, "C-EXPIRE", [10], "http://127.0.0.1:9/n", scene_info=scene)
    ).json()
    assert h5["h5_url"].startswith("https://wx.tenpay.com/")
    mock_platform.advance(2 * 3600 + 1)
    assert _query(client, "C-EXPIRE")["sub_orders"][0]["trade_state"] == "CLOSED"

    client.v3.combine_transactions.app.post(json=_combine_body(client.mchid, "C-PAID", [10], "http://127.0.0.1:9/n"))
    mock_platform.pay_combined("C-PAID", payer="oAnother")
    assert mock_platform.combined_order("C-PAID")["combine_payer_info"] == {"openid": "oAnother"}
    with pytest.raises(ApiError) as paid:
        client.v3.combine_transactions.out_trade_no._combine_out_trade_no_.close.post(
            combine_out_trade_no="C-PAID",
            json={"combine_appid": APPID, "sub_orders": [{"mchid": client.mchid, "out_trade_no": "C-PAID-S1"}]},
        )
    assert paid.value.code == "ORDERPAID"


def test_combined_order_refusals(client: Client, mock_platform: MockPlatform) -> None:  # noqa: F811
    body = _combine_body(client.mchid, "C-AGAIN", [10, 20], "http://127.0.0.1:9/n")
    first = client.v3.combine_transactions.jsapi.post(json=body).json()
    assert client.v3.combine_transactions.jsapi.post(json=body).json() == first  # a retry: the same prepay id
    changed = _combine_body(client.mchid, "C-AGAIN", [10, 21], "http://127.0.0.1:9/n")
    with pytest.raises(ApiError) as reused:
        client.v3.combine_transactions.jsapi.post(json=changed)
    assert (reused.value.status_code, reused.value.code) == (403, "OUT_TRADE_NO_USED")
    taken = _combine_body(client.mchid, "C-OTHER", [10], "http://127.0.0.1:9/n")
    taken["sub_orders"][0]["out_trade_no"] = "C-AGAIN-S1"  # another combine's sub-order number
    with pytest.raises(ApiError) as clash:
        client.v3.combine_transactions.jsapi.post(json=taken)
    assert clash.value.code == "OUT_TRADE_NO_USED"
    with pytest.raises(ApiError):
        _query(client, "C-OTHER")  # nothing kept of a refused combine
    with pytest.raises(ApiError) as unknown:
        _query(client, "C-NEVER")
    assert (unknown.value.status_code, unknown.value.code) == (404, "ORDER_NOT_EXIST")
    with pytest.raises(ValueError, match="pay_combined"):
        mock_platform.pay("C-AGAIN-S1")  # a sub-order is paid with its combine, never alone
    with pytest.raises(LookupError, match="C-NEVER"):
        mock_platform.pay_combined("C-NEVER")
