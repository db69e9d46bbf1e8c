"""The sandbox end to end, written the way the README tells users to write their own tests.

A merchant's webhook (a real aiohttp server on 127.0.0.1, the handler a merchant writes:
verify, decrypt, record once, acknowledge) receives what the sandbox delivers while the
test walks the business flow: order, pay, notification, partial refund, refund
notification, queries, the day's bill.
"""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from aiohttp import web

from wechatpay_chain import Client
from wechatpay_chain.mock import MockPlatform

CHINA = timezone(timedelta(hours=8))


class Shop:
    """The merchant's side: its webhook endpoints and what they recorded (once per event)."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.events: dict[str, dict[str, Any]] = {}  # id -> decrypted resource: deduplicated
        self.v2_events: list[dict[str, str]] = []
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def v3_notify(self, request: web.Request) -> web.Response:
        event = self.client.notifications.parse(request.headers, await request.read())
        self.events.setdefault(event.id, event.resource)
        status, headers, body = self.client.notifications.ack()
        return web.Response(status=status, headers=headers, body=body)

    async def v2_notify(self, request: web.Request) -> web.Response:
        self.v2_events.append(self.client.notifications.parse_v2(await request.read()))
        return web.Response(body=self.client.notifications.ack_v2(), content_type="text/xml")

    async def __aenter__(self) -> Shop:
        app = web.Application()
        app.router.add_post("/pay/notify", self.v3_notify)
        app.router.add_post("/pay/notify-v2", self.v2_notify)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.runner is not None
        await self.runner.cleanup()


def _bill_rows(text: str) -> list[list[str]]:
    return [[value.lstrip("`") for value in row] for row in csv.reader(io.StringIO(text))]


async def _v3_flow(mock: MockPlatform, tmp_path: Path) -> None:
    async with mock.client() as client, Shop(client) as shop:
        prepay = await client.v3.pay.transactions.jsapi.post_async(
            json={
                "appid": "wxd678efh567hg6787",
                "mchid": mock.mchid,
                "description": "Image形象店-深圳腾大-QQ公仔",
                "out_trade_no": "T20261124001",
                "notify_url": f"{shop.url}/pay/notify",
                "amount": {"total": 100, "currency": "CNY"},
                "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
                "attach": "cart-7",
            }
        )
        assert prepay.json()["prepay_id"].startswith("wx")

        order = await client.v3.pay.transactions.out_trade_no._out_trade_no_.get_async(
            out_trade_no="T20261124001", query={"mchid": mock.mchid}
        )
        assert order.json()["trade_state"] == "NOTPAY"
        assert "transaction_id" not in order.json()

        mock.pay("T20261124001")
        paid = await mock.expect_notification_async("TRANSACTION.SUCCESS", out_trade_no="T20261124001")
        assert paid.acknowledged and [attempt.status for attempt in paid.attempts] == [204]
        resource = next(iter(shop.events.values()))
        assert resource["trade_state"] == "SUCCESS" and resource["attach"] == "cart-7"
        transaction_id = resource["transaction_id"]
        assert len(transaction_id) == 28

        refund = await client.v3.refund.domestic.refunds.post_async(
            json={
                "transaction_id": transaction_id,
                "out_refund_no": "R20261124001",
                "notify_url": f"{shop.url}/pay/notify",
                "amount": {"refund": 30, "total": 100, "currency": "CNY"},
            }
        )
        assert refund.json()["status"] == "PROCESSING" and refund.json()["amount"]["refund"] == 30
        refunded = await mock.expect_notification_async("REFUND.SUCCESS", out_refund_no="R20261124001")
        assert refunded.acknowledged
        assert {event.get("refund_status") for event in shop.events.values()} == {None, "SUCCESS"}

        by_id = await client.v3.pay.transactions.id._transaction_id_.get_async(
            transaction_id=transaction_id, query={"mchid": mock.mchid}
        )
        assert by_id.json()["out_trade_no"] == "T20261124001"
        assert by_id.json()["trade_state"] == "REFUND"
        again = await client.v3.refund.domestic.refunds._out_refund_no_.get_async(out_refund_no="R20261124001")
        assert again.json()["status"] == "SUCCESS" and again.json()["refund_id"] == refund.json()["refund_id"]

        today = datetime.now(CHINA).strftime("%Y-%m-%d")
        bill = await client.v3.bill.tradebill.get_async(query={"bill_date": today, "bill_type": "ALL"})
        rows = _bill_rows(await _bill_text(client, bill, tmp_path))
        kinds = {(row[6], row[9]) for row in rows[1:-2]}
        assert kinds == {("T20261124001", "SUCCESS"), ("T20261124001", "REFUND")}
        assert rows[-1][0] == "2"  # the summary counts both lines


async def _bill_text(client: Client, bill: Any, folder: Path) -> str:
    """The bill a tradebill answer points to, downloaded (hash checked) and read."""
    result = await client.download_bill_async(bill, folder / "bill.csv")
    return Path(result.path).read_text("utf-8")


def test_v3_jsapi_order_paid_refunded_and_billed(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with MockPlatform() as mock:
            await _v3_flow(mock, tmp_path)

    asyncio.run(scenario())


async def _v2_flow(mock: MockPlatform) -> None:
    async with mock.client() as client, Shop(client) as shop:
        ordered = await client.v2.pay.unifiedorder.post_async(
            xml={
                "appid": "wxd678efh567hg6787",
                "body": "腾讯充值中心-QQ会员充值",
                "out_trade_no": "V2T001",
                "total_fee": "888",
                "spbill_create_ip": "123.12.12.123",
                "notify_url": f"{shop.url}/pay/notify-v2",
                "trade_type": "JSAPI",
                "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
            }
        )
        assert ordered.json()["prepay_id"].startswith("wx")

        mock.pay("V2T001")
        paid = await mock.expect_notification_async("TRANSACTION.SUCCESS", out_trade_no="V2T001")
        assert paid.acknowledged and paid.protocol == "v2"
        (notice,) = shop.v2_events
        assert notice["result_code"] == "SUCCESS" and notice["total_fee"] == "888"

        refund = await client.v2.secapi.pay.refund.post_async(
            xml={
                "appid": "wxd678efh567hg6787",
                "transaction_id": notice["transaction_id"],
                "out_refund_no": "V2R001",
                "total_fee": "888",
                "refund_fee": "300",
                "notify_url": f"{shop.url}/pay/notify-v2",
            }
        )
        assert refund.json()["refund_fee"] == "300"
        refunded = await mock.expect_notification_async("REFUND.SUCCESS", out_refund_no="V2R001")
        assert refunded.acknowledged
        assert shop.v2_events[-1]["refund_status"] == "SUCCESS"  # decrypted from req_info

        order = await client.v2.pay.orderquery.post_async(xml={"appid": "wxd678efh567hg6787", "out_trade_no": "V2T001"})
        assert order.json()["trade_state"] == "REFUND"
        refunds = await client.v2.pay.refundquery.post_async(
            xml={"appid": "wxd678efh567hg6787", "out_trade_no": "V2T001"}
        )
        assert refunds.json()["refund_status_0"] == "SUCCESS" and refunds.json()["refund_fee_0"] == "300"

        today = datetime.now(CHINA).strftime("%Y%m%d")
        bill = await client.v2.pay.downloadbill.post_async(
            xml={"appid": "wxd678efh567hg6787", "bill_date": today, "bill_type": "ALL"}
        )
        rows = _bill_rows(bill.text)
        assert {(row[6], row[9]) for row in rows[1:-2]} == {("V2T001", "SUCCESS"), ("V2T001", "REFUND")}
        assert rows[-1][1:3] == ["8.88", "3.00"]


def test_v2_order_paid_refunded_and_billed() -> None:
    async def scenario() -> None:
        async with MockPlatform() as mock:
            await _v2_flow(mock)

    asyncio.run(scenario())


def test_the_readme_example_runs(tmp_path: Path) -> None:
    """The README's "Testing your integration" example, run as written."""
    readme = (Path(__file__).parent.parent / "README.md").read_text("utf-8")
    section = readme.split("## Testing your integration", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(compile(code, "README.md", "exec"), namespace)
    namespace["test_checkout"](tmp_path)
