"""A timeout or transport error after the request went out says to query before retrying."""

from __future__ import annotations

import asyncio

import pytest
from payloads import RETURN_ORDER

from wechatpay_chain import TimeoutError, TransportError
from wechatpay_chain.errors import MAY_HAVE_ARRIVED
from wechatpay_chain.mock import MockPlatform
from wechatpay_chain.retry import Retry
from wechatpay_chain.transport.aio import Timeout

FAST = Retry(attempts=3, backoff=0.01, max_backoff=0.05)
SLOW = Timeout(total=5, connect=1, read=0.4)


def test_settle_adds_the_advice_once_and_only_when_it_applies() -> None:
    sent = TimeoutError("read timed out", sent=True)
    sent.settle(idempotent=False)
    sent.settle(idempotent=False)
    assert str(sent) == f"read timed out; {MAY_HAVE_ARRIVED}"
    idempotent = TransportError("connection reset", sent=True)
    idempotent.settle(idempotent=True)
    not_sent = TransportError("connection refused", sent=False)
    not_sent.settle(idempotent=False)
    assert str(idempotent) == "connection reset" and str(not_sent) == "connection refused"


def test_a_post_timing_out_after_sending_says_to_query(mock: MockPlatform) -> None:
    mock.fail("slow_body", times=0, delay=2)
    try:
        with mock.client(retry=FAST) as client, pytest.raises(TimeoutError) as caught:
            client.v3.profitsharing.return_orders.post(json=RETURN_ORDER, timeout=SLOW)
        assert caught.value.sent and "may have reached the platform" in str(caught.value)
        assert "query" in str(caught.value) and "before you retry" in str(caught.value)
    finally:
        mock.clear_faults()


def test_an_async_v2_post_timing_out_after_sending_says_to_query(mock: MockPlatform) -> None:
    async def slow(call: object) -> dict[str, str]:
        await asyncio.sleep(2)
        return {}

    async def call() -> None:
        async with mock.client(retry=FAST) as client:
            await client.v2.pay.orderquery.post_async(
                xml={"appid": "wxd678efh567hg6787", "out_trade_no": "T1"}, timeout=SLOW
            )

    mock.on("POST", "v2/pay/orderquery", slow)
    with pytest.raises(TimeoutError) as caught:
        asyncio.run(call())
    assert caught.value.sent and MAY_HAVE_ARRIVED in str(caught.value)
    assert mock.counts[("POST", "v2/pay/orderquery")] == 1  # not repeated


def test_a_get_timing_out_does_not_say_it(mock: MockPlatform) -> None:
    mock.fail("slow_body", times=0, delay=2)
    try:
        with mock.client(retry=Retry(attempts=1)) as client, pytest.raises(TimeoutError) as caught:
            client.v3.pay.transactions.id._transaction_id_.get(
                transaction_id="4200000001", query={"mchid": "1900000109"}, timeout=SLOW
            )
        assert caught.value.sent and MAY_HAVE_ARRIVED not in str(caught.value)
    finally:
        mock.clear_faults()
