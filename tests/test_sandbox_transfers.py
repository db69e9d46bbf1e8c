"""Transfers in the sandbox, through a Client over real sockets: transfer bills (the current
API, with the user's confirmation and the MCHTRANSFER.BILL.FINISHED notification delivered to
a real aiohttp webhook) and transfer batches; the platform's refusals (sums, reused numbers,
unknown ids); what only the user, the bank or the clock does, driven by the test.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from wechatpay_chain import ApiError, Client
from wechatpay_chain.mock import MockPlatform
from wechatpay_chain.mock.pytest import mock_platform  # noqa: F401 - the fixture under test
from wechatpay_chain.mock.transfers import CONFIRM_WINDOW

APPID = "wxf636efh567hg4356"


@pytest.fixture
def client(mock_platform: MockPlatform) -> Iterator[Client]:  # noqa: F811 - the fixture above
    with mock_platform.client() as made:
        yield made


def _bill(client: Client, out_bill_no: str, amount: int = 400, notify_url: str | None = None, **more: Any) -> Any:
    body: dict[str, Any] = {
        "appid": APPID,
        "out_bill_no": out_bill_no,
        "transfer_scene_id": "1000",
        "openid": "o-MYE42l80oelYMDE34nYD456Xoy",
        "transfer_amount": amount,
        "transfer_remark": "2026年11月报销",
        "transfer_scene_report_infos": [{"info_type": "活动名称", "info_content": "注册会员有礼"}],
        **more,
    }
    if notify_url:
        body["notify_url"] = notify_url
    return client.v3.fund_app.mch_transfer.transfer_bills.post(json=body)


def _query_bill(client: Client, out_bill_no: str, **options: Any) -> dict[str, Any]:
    answer = client.v3.fund_app.mch_transfer.transfer_bills.out_bill_no._out_bill_no_.get(
        out_bill_no=out_bill_no, **options
    )
    return dict(answer.json())


def _batch(client: Client, out_batch_no: str, amounts: list[int], **overrides: Any) -> Any:
    details = [
        {"out_detail_no": f"{out_batch_no}-D{n}", "transfer_amount": value, "transfer_remark": "佣金", "openid": "oU"}
        for n, value in enumerate(amounts, 1)
    ]
    body = {
        "appid": APPID,
        "out_batch_no": out_batch_no,
        "batch_name": "十一月佣金",
        "batch_remark": "十一月佣金",
        "total_amount": sum(amounts),
        "total_num": len(amounts),
        "transfer_detail_list": details,
        **overrides,
    }
    return client.v3.transfer.batches.post(json=body)


def _query_batch(client: Client, out_batch_no: str, **query: Any) -> dict[str, Any]:
    answer = client.v3.transfer.batches.out_batch_no._out_batch_no_.get(
        out_batch_no=out_batch_no, query={"need_query_detail": True, **query}
    )
    return dict(answer.json())


# -- transfer bills ----------------------------------------------------------------------------------------
async def _bill_flow(mock: MockPlatform) -> None:
    async with mock.client() as client:
        seen: dict[str, dict[str, Any]] = {}

        async def notify(request: web.Request) -> web.Response:  # the merchant's handler
            event = client.notifications.parse(request.headers, await request.read())
            seen.setdefault(event.id, {"type": event.event_type, **event.resource})
            status, headers, body = client.notifications.ack()
            return web.Response(status=status, headers=headers, body=body)

        app = web.Application()
        app.router.add_post("/transfer/notify", notify)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/transfer/notify"
        try:
            made = await client.v3.fund_app.mch_transfer.transfer_bills.post_async(
                json={
                    "appid": APPID,
                    "out_bill_no": "TB-FLOW",
                    "transfer_scene_id": "1000",
                    "openid": "o-MYE42l80oelYMDE34nYD456Xoy",
                    "user_name": "张三",  # encrypted by the client for the platform
                    "transfer_amount": 2500,
                    "transfer_remark": "现金奖励",
                    "notify_url": url,
                    "transfer_scene_report_infos": [{"info_type": "活动名称", "info_content": "新会员有礼"}],
                }
            )
            answer = made.json()
            assert answer["state"] == "WAIT_USER_CONFIRM" and answer["package_info"]
            number = answer["transfer_bill_no"]
            assert len(number) == 40 and number.isdigit()

            mock.confirm_transfer("TB-FLOW")  # the user confirms on the page package_info opens
            bills = client.v3.fund_app.mch_transfer.transfer_bills
            by_number = await bills.transfer_bill_no._transfer_bill_no_.get_async(transfer_bill_no=number, decrypt=True)
            assert by_number.json()["state"] == "TRANSFERING" and by_number.json()["user_name"] == "张三"

            mock.complete_transfer("TB-FLOW")
            delivery = await mock.expect_notification_async("MCHTRANSFER.BILL.FINISHED", out_bill_no="TB-FLOW")
            assert delivery.acknowledged and [attempt.status for attempt in delivery.attempts] == [204]
            (event,) = seen.values()
            assert event["type"] == "MCHTRANSFER.BILL.FINISHED"
            assert (event["state"], event["transfer_bill_no"], event["transfer_amount"]) == ("SUCCESS", number, 2500)
            assert event["mch_id"] == mock.mchid and "fail_reason" not in event

            final = await client.v3.fund_app.mch_transfer.transfer_bills.out_bill_no._out_bill_no_.get_async(
                out_bill_no="TB-FLOW"
            )
            assert final.json()["state"] == "SUCCESS" and "package_info" not in final.json()
        finally:
            await runner.cleanup()


def test_a_transfer_bill_confirmed_paid_and_notified() -> None:
    async def scenario() -> None:
        async with MockPlatform() as mock:
            await _bill_flow(mock)

    asyncio.run(scenario())


def test_a_transfer_bill_fails_is_cancelled_or_expires(client: Client, mock_platform: MockPlatform) -> None:  # noqa: F811
    _bill(client, "TB-FAIL", notify_url="http://127.0.0.1:9/notify")
    mock_platform.complete_transfer("TB-FAIL", fail="PAYEE_ACCOUNT_ABNORMAL")
    failed = _query_bill(client, "TB-FAIL")
    assert (failed["state"], failed["fail_reason"]) == ("FAIL", "PAYEE_ACCOUNT_ABNORMAL")
    assert mock_platform.deliveries[0].subject["fail_reason"] == "PAYEE_ACCOUNT_ABNORMAL"
    with pytest.raises(ValueError, match="it cannot be completed"):
        mock_platform.complete_transfer("TB-FAIL")

    _bill(client, "TB-CANCEL")
    cancelling = client.v3.fund_app.mch_transfer.transfer_bills.out_bill_no._out_bill_no_.cancel.post(
        out_bill_no="TB-CANCEL"
    ).json()
    assert cancelling["state"] == "CANCELING" and cancelling["update_time"]
    mock_platform.advance(0)
    cancelled = _query_bill(client, "TB-CANCEL")
    assert (cancelled["state"], cancelled["fail_reason"]) == ("CANCELLED", "MCH_CANCEL")

    _bill(client, "TB-CONFIRMED")
    mock_platform.confirm_transfer("TB-CONFIRMED")
    with pytest.raises(ApiError) as too_late:
        client.v3.fund_app.mch_transfer.transfer_bills.out_bill_no._out_bill_no_.cancel.post(out_bill_no="TB-CONFIRMED")
    assert (too_late.value.status_code, too_late.value.code) == (400, "INVALID_REQUEST")

    _bill(client, "TB-OVERDUE")
    mock_platform.advance(CONFIRM_WINDOW - 5)
    assert _query_bill(client, "TB-OVERDUE")["state"] == "WAIT_USER_CONFIRM"
    mock_platform.advance(10)
    overdue = _query_bill(client, "TB-OVERDUE")
    assert (overdue["state"], overdue["fail_reason"]) == ("CANCELLED", "OVERDUE_CLOSE")
    assert _query_bill(client, "TB-CONFIRMED")["state"] == "TRANSFERING"  # confirmed: the clock leaves it


def test_transfer_bill_refusals(client: Client, mock_platform: MockPlatform) -> None:  # noqa: F811
    first = _bill(client, "TB-AGAIN").json()
    assert _bill(client, "TB-AGAIN").json()["transfer_bill_no"] == first["transfer_bill_no"]  # a retry: the same bill
    with pytest.raises(ApiError) as reused:
        _bill(client, "TB-AGAIN", amount=401)
    assert (reused.value.status_code, reused.value.code) == (400, "INVALID_REQUEST")
    with pytest.raises(ApiError) as unknown:
        _query_bill(client, "TB-NEVER")
    assert (unknown.value.status_code, unknown.value.code) == (404, "NOT_FOUND")
    with pytest.raises(ApiError) as unknown_number:
        client.v3.fund_app.mch_transfer.transfer_bills.transfer_bill_no._transfer_bill_no_.get(
            transfer_bill_no="1330000071100999991182020050700019480001"
        )
    assert unknown_number.value.code == "NOT_FOUND"
    with pytest.raises(ApiError) as cancel_unknown:
        client.v3.fund_app.mch_transfer.transfer_bills.out_bill_no._out_bill_no_.cancel.post(out_bill_no="TB-NEVER")
    assert cancel_unknown.value.status_code == 404
    with pytest.raises(LookupError, match="TB-NEVER"):
        mock_platform.complete_transfer("TB-NEVER")
    with pytest.raises(ValueError, match="one reason"):
        mock_platform.complete_transfer("TB-AGAIN", fail={"x": "y"})


# -- transfer batches ---------------------------------------------------------------------------------------
def test_a_transfer_batch_finishes_by_itself(client: Client, mock_platform: MockPlatform) -> None:  # noqa: F811
    made = _batch(client, "PB-AUTO", [100, 250]).json()
    assert made["batch_status"] == "ACCEPTED" and len(made["batch_id"]) == 40
    answer = _query_batch(client, "PB-AUTO")
    batch = answer["transfer_batch"]
    assert (batch["batch_status"], batch["success_amount"], batch["success_num"]) == ("FINISHED", 350, 2)
    assert [d["detail_status"] for d in answer["transfer_detail_list"]] == ["SUCCESS", "SUCCESS"]
    by_id = client.v3.transfer.batches.batch_id._batch_id_.get(
        batch_id=made["batch_id"], query={"need_query_detail": False}
    ).json()
    assert by_id["transfer_batch"]["out_batch_no"] == "PB-AUTO" and "transfer_detail_list" not in by_id


def test_a_transfer_batch_the_test_finishes(client: Client, mock_platform: MockPlatform) -> None:  # noqa: F811
    mock_platform.transfer_delay = None  # batches wait for the test
    _batch(client, "PB-HELD", [100, 200, 300], notify_url="http://127.0.0.1:9/notify")
    held = _query_batch(client, "PB-HELD")
    assert held["transfer_batch"]["batch_status"] == "PROCESSING"
    assert {d["detail_status"] for d in held["transfer_detail_list"]} == {"PROCESSING"}
    with pytest.raises(LookupError, match="PB-HELD-D9"):
        mock_platform.complete_transfer("PB-HELD", fail={"PB-HELD-D9": "ACCOUNT_FROZEN"})
    mock_platform.complete_transfer("PB-HELD", fail={"PB-HELD-D2": "ACCOUNT_FROZEN"})
    batch = _query_batch(client, "PB-HELD")["transfer_batch"]
    assert (batch["batch_status"], batch["success_amount"], batch["fail_amount"], batch["fail_num"]) == (
        "FINISHED",
        400,
        200,
        1,
    )
    assert mock_platform.deliveries[-1].event_type == "MCHTRANSFER.BATCH.FINISHED"
    failed = _query_batch(client, "PB-HELD", detail_status="FAIL")["transfer_detail_list"]
    assert [d["out_detail_no"] for d in failed] == ["PB-HELD-D2"]
    detail = client.v3.transfer.batches.out_batch_no._out_batch_no_.details.out_detail_no._out_detail_no_.get(
        out_batch_no="PB-HELD", out_detail_no="PB-HELD-D2"
    ).json()
    assert (detail["detail_status"], detail["fail_reason"], detail["transfer_amount"]) == (
        "FAIL",
        "ACCOUNT_FROZEN",
        200,
    )
    same = client.v3.transfer.batches.batch_id._batch_id_.details.detail_id._detail_id_.get(
        batch_id=detail["batch_id"], detail_id=detail["detail_id"]
    ).json()
    assert same["out_detail_no"] == "PB-HELD-D2"
    with pytest.raises(ValueError, match="it has ended"):
        mock_platform.complete_transfer("PB-HELD")

    _batch(client, "PB-CLOSED", [100])
    mock_platform.close_transfer("PB-CLOSED", reason="MERCHANT_REVOCATION")
    closed = _query_batch(client, "PB-CLOSED")["transfer_batch"]
    assert (closed["batch_status"], closed["close_reason"], closed["fail_num"]) == ("CLOSED", "MERCHANT_REVOCATION", 1)


def test_transfer_batch_refusals(client: Client) -> None:
    with pytest.raises(ApiError) as bad_sum:
        _batch(client, "PB-SUM", [100, 200], total_amount=301)
    assert (bad_sum.value.status_code, bad_sum.value.code) == (400, "PARAM_ERROR")
    assert "total_amount" in str(bad_sum.value.message)
    with pytest.raises(ApiError) as bad_count:
        _batch(client, "PB-NUM", [100, 200], total_num=3)
    assert bad_count.value.code == "PARAM_ERROR" and "total_num" in str(bad_count.value.message)
    with pytest.raises(ApiError):
        _query_batch(client, "PB-SUM")  # nothing was kept of a refused batch
    first = _batch(client, "PB-AGAIN", [100]).json()
    assert _batch(client, "PB-AGAIN", [100]).json()["batch_id"] == first["batch_id"]
    with pytest.raises(ApiError) as reused:
        _batch(client, "PB-AGAIN", [150])
    assert (reused.value.status_code, reused.value.code) == (400, "INVALID_REQUEST")
    with pytest.raises(ApiError) as unknown:
        _query_batch(client, "PB-NEVER")
    assert (unknown.value.status_code, unknown.value.code) == (404, "NOT_FOUND")
    with pytest.raises(ApiError) as unknown_detail:
        client.v3.transfer.batches.out_batch_no._out_batch_no_.details.out_detail_no._out_detail_no_.get(
            out_batch_no="PB-AGAIN", out_detail_no="NO-SUCH"
        )
    assert unknown_detail.value.code == "NOT_FOUND"


def test_transfers_survive_the_state_file(tmp_path: Path) -> None:
    state = tmp_path / "sandbox.json"
    with MockPlatform(state_file=str(state)) as first, first.client() as client:
        _bill(client, "TB-KEPT")
        first.transfer_delay = None
        _batch(client, "PB-KEPT", [100])
    with MockPlatform(state_file=str(state)) as second, second.client() as client:
        assert _query_bill(client, "TB-KEPT")["state"] == "WAIT_USER_CONFIRM"
        second.advance(CONFIRM_WINDOW + 1)  # the re-armed expiry
        assert _query_bill(client, "TB-KEPT")["state"] == "CANCELLED"
        assert _query_batch(client, "PB-KEPT")["transfer_batch"]["batch_status"] == "FINISHED"
        assert second.transfer("PB-KEPT")["_details"][0]["detail_status"] == "SUCCESS"
