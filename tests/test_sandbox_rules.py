"""The sandbox's rules: unknown ids, reused numbers, what cannot be closed or refunded, expiry,
refunds that fail, notification retries, rate limits, the wire's headers, the state file.

Sync tests on the user's fixture (``wechatpay_chain.mock.pytest``), a fresh sandbox each.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from wechatpay_chain import ApiError, Client
from wechatpay_chain.mock import MockPlatform
from wechatpay_chain.mock.pytest import mock_platform  # noqa: F401 - the fixture under test
from wechatpay_chain.mock.webhooks import RETRY_SCHEDULE

APPID = "wxd678efh567hg6787"


class Webhook:
    """A merchant endpoint on its own thread that answers the statuses it is given, in turn."""

    def __init__(self, answers: list[int]) -> None:
        self.answers = answers
        self.received: list[bytes] = []
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    async def _answer(self, request: web.Request) -> web.Response:
        self.received.append(await request.read())
        status = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return web.Response(status=status)

    def _serve(self) -> None:
        app = web.Application()
        app.router.add_post("/notify", self._answer)
        runner = web.AppRunner(app)
        self._loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self.url = f"http://127.0.0.1:{runner.addresses[0][1]}/notify"
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(runner.cleanup())
        self._loop.close()

    def __enter__(self) -> Webhook:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


@pytest.fixture
def client(mock_platform: MockPlatform) -> Iterator[Client]:  # noqa: F811 - the fixture above
    with mock_platform.client() as made:
        yield made


def _order(client: Client, out_trade_no: str, total: int = 100, notify_url: str = "https://shop.example/notify") -> Any:
    return client.v3.pay.transactions.native.post(
        json={
            "appid": APPID,
            "mchid": client.mchid,
            "description": "a cup of tea",
            "out_trade_no": out_trade_no,
            "notify_url": notify_url,
            "amount": {"total": total},
        }
    )


def _refund(client: Client, out_trade_no: str, out_refund_no: str, refund: int, total: int = 100) -> Any:
    return client.v3.refund.domestic.refunds.post(
        json={
            "out_trade_no": out_trade_no,
            "out_refund_no": out_refund_no,
            "amount": {"refund": refund, "total": total, "currency": "CNY"},
        }
    )


def _query(client: Client, out_trade_no: str) -> dict[str, Any]:
    answer = client.v3.pay.transactions.out_trade_no._out_trade_no_.get(
        out_trade_no=out_trade_no, query={"mchid": client.mchid}
    )
    return dict(answer.json())


def test_unknown_ids_answer_the_platforms_errors(client: Client) -> None:
    with pytest.raises(ApiError) as order:
        _query(client, "NEVER-MADE")
    assert (order.value.status_code, order.value.code) == (404, "ORDER_NOT_EXIST")
    with pytest.raises(ApiError) as refund:
        client.v3.refund.domestic.refunds._out_refund_no_.get(out_refund_no="NEVER-MADE")
    assert (refund.value.status_code, refund.value.code) == (404, "RESOURCE_NOT_EXISTS")
    with pytest.raises(ApiError) as v2:
        client.v2.pay.orderquery.post(xml={"appid": APPID, "out_trade_no": "NEVER-MADE"})
    assert v2.value.code == "ORDERNOTEXIST"


def test_an_order_answers_what_was_created(client: Client) -> None:
    created = _order(client, "T-ECHO", total=250).json()
    assert created["code_url"].startswith("weixin://wxpay/bizpayurl?pr=")
    order = _query(client, "T-ECHO")
    assert order["out_trade_no"] == "T-ECHO" and order["mchid"] == client.mchid and order["appid"] == APPID
    assert order["amount"]["total"] == 250 and order["trade_type"] == "NATIVE"
    assert (order["trade_state"], order["trade_state_desc"]) == ("NOTPAY", "订单未支付")
    assert "success_time" not in order and "transaction_id" not in order


def test_a_reused_out_trade_no(client: Client) -> None:
    first = _order(client, "T-AGAIN").json()
    assert _order(client, "T-AGAIN").json()["code_url"].split("pr=")[1] == first["code_url"].split("pr=")[1]
    with pytest.raises(ApiError) as reused:
        _order(client, "T-AGAIN", total=999)
    assert (reused.value.status_code, reused.value.code) == (403, "OUT_TRADE_NO_USED")


def test_close_before_payment_and_not_after(client: Client, mock_platform: MockPlatform) -> None:  # noqa: F811
    _order(client, "T-CLOSE")
    closed = client.v3.pay.transactions.out_trade_no._out_trade_no_.close.post(
        out_trade_no="T-CLOSE", json={"mchid": client.mchid}
    )
    assert closed.status_code == 204 and _query(client, "T-CLOSE")["trade_state"] == "CLOSED"
    with pytest.raises(ValueError, match="CLOSED, not NOTPAY"):
        mock_platform.pay("T-CLOSE")
    _order(client, "T-PAID")
    mock_platform.pay("T-PAID")
    with pytest.raises(ApiError) as paid:
        client.v3.pay.transactions.out_trade_no._out_trade_no_.close.post(
            out_trade_no="T-PAID", json={"mchid": client.mchid}
        )
    assert paid.value.code == "ORDERPAID"


def test_refunds_never_exceed_what_was_paid(client: Client, mock_platform: MockPlatform) -> None:  # noqa: F811
    _order(client, "T-REFUND")
    with pytest.raises(ApiError) as unpaid:
        _refund(client, "T-REFUND", "R-0", 10)
    assert unpaid.value.code == "INVALID_REQUEST"
    mock_platform.pay("T-REFUND", payer="oPayer")
    assert _refund(client, "T-REFUND", "R-1", 60).json()["status"] == "PROCESSING"
    with pytest.raises(ApiError) as too_much:
        _refund(client, "T-REFUND", "R-2", 41)
    assert too_much.value.code == "INVALID_REQUEST" and "可退金额" in str(too_much.value.message)
    assert _refund(client, "T-REFUND", "R-2", 40).json()["amount"]["refund"] == 40


def test_a_failed_refund_is_notified_and_gives_the_amount_back(mock_platform: MockPlatform, client: Client) -> None:  # noqa: F811
    mock_platform.refund_delay = None  # refunds wait for the test
    with Webhook([200]) as hook:
        _order(client, "T-ABNORMAL", notify_url=hook.url)
        mock_platform.pay("T-ABNORMAL")
        client.v3.refund.domestic.refunds.post(
            json={
                "out_trade_no": "T-ABNORMAL",
                "out_refund_no": "R-ABNORMAL",
                "notify_url": hook.url,
                "amount": {"refund": 100, "total": 100, "currency": "CNY"},
            }
        )
        mock_platform.fail_refund("R-ABNORMAL")
        delivery = mock_platform.expect_notification("REFUND.ABNORMAL", out_refund_no="R-ABNORMAL")
    assert delivery.acknowledged and delivery.subject["refund_status"] == "ABNORMAL"
    answer = client.v3.refund.domestic.refunds._out_refund_no_.get(out_refund_no="R-ABNORMAL").json()
    assert answer["status"] == "ABNORMAL" and "success_time" not in answer
    assert _refund(client, "T-ABNORMAL", "R-AGAIN", 100).json()["status"] == "PROCESSING"


def test_an_unpaid_order_expires_when_the_clock_moves(client: Client, mock_platform: MockPlatform) -> None:  # noqa: F811
    _order(client, "T-EXPIRE")
    mock_platform.advance(2 * 3600 - 5)
    assert _query(client, "T-EXPIRE")["trade_state"] == "NOTPAY"
    mock_platform.advance(10)
    assert _query(client, "T-EXPIRE")["trade_state"] == "CLOSED"


def test_payment_failure_and_payment_code(client: Client, mock_platform: MockPlatform) -> None:  # noqa: F811
    _order(client, "T-FAIL")
    mock_platform.fail_payment("T-FAIL")
    assert _query(client, "T-FAIL")["trade_state"] == "PAYERROR"
    assert mock_platform.deliveries == []  # the platform notifies successes only
    charged = client.v3.pay.transactions.codepay.post(
        json={
            "appid": APPID,
            "mchid": client.mchid,
            "description": "till",
            "out_trade_no": "T-CODE",
            "payer": {"auth_code": "134567890123456789"},
            "amount": {"total": 5},
            "scene_info": {"store_info": {"out_id": "S1"}},
        }
    ).json()
    assert charged["trade_state"] == "SUCCESS" and charged["trade_type"] == "MICROPAY"


def test_notifications_are_retried_on_the_platforms_schedule(mock_platform: MockPlatform, client: Client) -> None:  # noqa: F811
    mock_platform.sandbox.webhooks.time_scale = 0.002  # 15 s -> 30 ms
    with Webhook([500, 503, 204]) as hook:
        _order(client, "T-RETRY", notify_url=hook.url)
        mock_platform.pay("T-RETRY")
        delivery = mock_platform.expect_notification("TRANSACTION.SUCCESS", out_trade_no="T-RETRY")
    assert [attempt.status for attempt in delivery.attempts] == [500, 503, 204]
    assert delivery.acknowledged and len(hook.received) == 3
    # The same notification each time (a handler deduplicates on its id).
    assert len({body.split(b'"id":"')[1][:36] for body in hook.received}) == 1
    assert sum(RETRY_SCHEDULE) == 24 * 3600 + 4 * 60


def test_a_webhook_that_never_acknowledges_is_given_up_on(mock_platform: MockPlatform, client: Client) -> None:  # noqa: F811
    mock_platform.sandbox.webhooks.schedule = (0.01, 0.01)
    with Webhook([404]) as hook:
        _order(client, "T-GONE", notify_url=hook.url)
        mock_platform.pay("T-GONE")
        delivery = mock_platform.expect_notification(out_trade_no="T-GONE")
    assert not delivery.acknowledged and [attempt.status for attempt in delivery.attempts] == [404, 404, 404]
    with pytest.raises(AssertionError, match=r"no finished delivery of REFUND\.SUCCESS"):
        mock_platform.expect_notification("REFUND.SUCCESS", timeout=0.05)


def test_rate_limit_answers_429(client: Client, mock_platform: MockPlatform) -> None:  # noqa: F811
    mock_platform.rate_limit(1, "v3/pay/transactions/native")
    _order(client, "T-RATE-1")
    with pytest.raises(ApiError) as limited:
        client.v3.pay.transactions.native.post(
            json={
                "appid": APPID,
                "mchid": client.mchid,
                "description": "x",
                "out_trade_no": "T-RATE-2",
                "notify_url": "https://shop.example/n",
                "amount": {"total": 1},
            }
        )
    assert (limited.value.status_code, limited.value.code) == (429, "FREQUENCY_LIMITED")
    mock_platform.rate_limit(None, "v3/pay/transactions/native")


def test_answers_carry_the_platforms_headers(client: Client) -> None:
    answer = _order(client, "T-HEADERS")
    for name in ("Request-ID", "Wechatpay-Serial", "Wechatpay-Signature", "Wechatpay-Timestamp", "Wechatpay-Nonce"):
        assert answer.headers.get(name)
    assert answer.headers["Wechatpay-Signature-Type"] == "WECHATPAY2-SHA256-RSA2048"


def test_the_state_file_keeps_the_sandbox_between_runs(tmp_path: Path) -> None:
    state = tmp_path / "sandbox.json"
    with MockPlatform(state_file=str(state)) as first, first.client() as client:
        _order(client, "T-KEPT", total=321)
        first.pay("T-KEPT")
    with MockPlatform(state_file=str(state)) as second, second.client() as client:
        kept = _query(client, "T-KEPT")
    assert kept["trade_state"] == "SUCCESS" and kept["amount"]["total"] == 321


def test_profit_sharing_only_on_paid_orders_marked_for_it(client: Client, mock_platform: MockPlatform) -> None:  # noqa: F811
    receiver = {"type": "MERCHANT_ID", "account": "86693852", "amount": 30, "description": "rent"}
    for out_trade_no, marked in (("T-PS", True), ("T-NOPS", False)):
        client.v3.pay.transactions.jsapi.post(
            json={
                "appid": APPID,
                "mchid": client.mchid,
                "description": "shared",
                "out_trade_no": out_trade_no,
                "notify_url": "http://127.0.0.1:9/notify",
                "amount": {"total": 100},
                "payer": {"openid": "oP"},
                "settle_info": {"profit_sharing": marked},
            }
        )
        mock_platform.pay(out_trade_no)
    shared_id = mock_platform.order("T-PS")["transaction_id"]
    with pytest.raises(ApiError) as unmarked:
        client.v3.profitsharing.orders.post(
            json={
                "transaction_id": mock_platform.order("T-NOPS")["transaction_id"],
                "out_order_no": "P-0",
                "receivers": [receiver],
                "unfreeze_unsplit": True,
            }
        )
    assert unmarked.value.code == "NO_AUTH"
    with pytest.raises(ApiError) as too_much:
        client.v3.profitsharing.orders.post(
            json={
                "transaction_id": shared_id,
                "out_order_no": "P-1",
                "receivers": [{**receiver, "amount": 31}],
                "unfreeze_unsplit": True,
            }
        )
    assert too_much.value.code == "INVALID_REQUEST"  # above the 30% ceiling
    made = client.v3.profitsharing.orders.post(
        json={"transaction_id": shared_id, "out_order_no": "P-1", "receivers": [receiver], "unfreeze_unsplit": True}
    ).json()
    assert made["state"] == "PROCESSING" and made["receivers"][0]["result"] == "PENDING"
    mock_platform.advance(1)
    queried = client.v3.profitsharing.orders._out_order_no_.get(
        out_order_no="P-1", query={"transaction_id": shared_id}
    ).json()
    assert queried["state"] == "FINISHED" and queried["order_id"] == made["order_id"]
    back = client.v3.profitsharing.return_orders.post(
        json={
            "out_order_no": "P-1",
            "out_return_no": "B-1",
            "return_mchid": "86693852",
            "amount": 10,
            "description": "x",
        }
    ).json()
    assert back["result"] == "PROCESSING"
    with pytest.raises(ApiError):
        client.v3.profitsharing.return_orders.post(
            json={
                "out_order_no": "P-1",
                "out_return_no": "B-2",
                "return_mchid": "86693852",
                "amount": 21,
                "description": "x",
            }
        )
    mock_platform.advance(1)
    returned = client.v3.profitsharing.return_orders._out_return_no_.get(
        out_return_no="B-1", query={"out_order_no": "P-1"}
    ).json()
    assert returned["result"] == "SUCCESS" and returned["return_id"] == back["return_id"]
    with pytest.raises(ApiError) as missing:
        client.v3.profitsharing.orders._out_order_no_.get(out_order_no="P-9", query={"transaction_id": shared_id})
    assert (missing.value.status_code, missing.value.code) == (404, "RESOURCE_NOT_EXISTS")
