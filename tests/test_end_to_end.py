"""The client against the embedded mock platform, over real sockets on 127.0.0.1."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from payloads import RETURN_ORDER

from wechatpay_chain import ApiError, Client, SignatureError, ValidationError
from wechatpay_chain.mock import MockAnswer, MockCall, MockPlatform

KEY = ("POST", "v3/profitsharing/return-orders")


def _check(response: Any) -> None:
    assert response.status_code == 200
    assert response.verified and response.verified.startswith("PUB_KEY_ID_")
    body = response.json()
    assert body["out_return_no"] and body["result"] in ("PROCESSING", "SUCCESS", "FAILED")


def test_three_sync_styles(client: Client, mock: MockPlatform) -> None:
    _check(client.v3.profitsharing.return_orders.post(json=RETURN_ORDER))
    _check(client.chain("v3/profitsharing/return-orders").post(json=RETURN_ORDER))
    _check(client["v3/profitsharing/return-orders"].post(json=RETURN_ORDER))
    assert mock.counts[KEY] == 3
    sent = mock.calls[-1]
    assert sent.json == RETURN_ORDER  # the body arrived exactly as given
    # compact JSON, UTF-8, not ASCII-escaped: exactly the bytes that were signed
    assert (
        sent.body
        == (
            '{"out_order_no":"P20150806125346","out_return_no":"R20190516001",'
            '"return_mchid":"86693852","amount":10,"description":"用户退款"}'
        ).encode()
    )
    assert sent.headers["Accept"] == "application/json"
    assert sent.headers["Content-Type"] == "application/json"
    assert sent.headers["User-Agent"].startswith("wechatpay-chain/0.1.0 aiohttp/")
    assert "Python/3." in sent.headers["User-Agent"]


def test_three_async_styles(mock: MockPlatform) -> None:
    async def main() -> None:
        async with mock.client() as client:
            _check(await client.v3.profitsharing.return_orders.post_async(json=RETURN_ORDER))
            _check(await client.chain("v3/profitsharing/return-orders").post_async(json=RETURN_ORDER))
            _check(await client["v3/profitsharing/return-orders"].post_async(json=RETURN_ORDER))

    asyncio.run(main())
    assert mock.counts[KEY] == 3


def test_sync_calls_from_many_threads(client: Client, mock: MockPlatform) -> None:
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: client.v3.profitsharing.return_orders.post(json=RETURN_ORDER), range(32)))
    assert all(r.status_code == 200 for r in results)
    assert mock.counts[KEY] == 32


def test_sync_call_inside_a_running_loop(client: Client) -> None:
    async def notebook_cell() -> int:
        return client.v3.profitsharing.return_orders.post(json=RETURN_ORDER).status_code

    assert asyncio.run(notebook_cell()) == 200


def test_100_concurrent_async_calls(mock: MockPlatform) -> None:
    async def main() -> list[Any]:
        async with mock.client() as client:
            node = client.v3.profitsharing.return_orders
            return await asyncio.gather(*(node.post_async(json=RETURN_ORDER) for _ in range(100)))

    responses = asyncio.run(main())
    assert len(responses) == 100 and all(r.verified for r in responses)
    assert mock.counts[KEY] == 100


def test_path_template_get_with_query_and_upper_case_literal(client: Client, mock: MockPlatform) -> None:
    response = client.v3.pay.transactions.out_trade_no._out_trade_no_.get(
        out_trade_no="ABCdef-01", query={"mchid": "1900000109"}
    )
    assert response.status_code == 200
    call = mock.calls[-1]
    assert call.path == "/v3/pay/transactions/out-trade-no/ABCdef-01"
    assert call.path_values == {"out_trade_no": "ABCdef-01"}
    assert call.query == {"mchid": "1900000109"}
    response = client.v3.pay.transactions.out_trade_no["UPPER-ID"].get(query={"mchid": "1900000109"})
    assert mock.calls[-1].path == "/v3/pay/transactions/out-trade-no/UPPER-ID"
    response = client.chain("v3/pay/transactions/out-trade-no/{out_trade_no}").get(
        out_trade_no="a b/c", query={"mchid": "1900000109"}
    )
    assert mock.calls[-1].path_values == {"out_trade_no": "a b/c"}


def test_missing_path_value_raises_before_sending(client: Client, mock: MockPlatform) -> None:
    with pytest.raises(ValidationError) as caught:
        client.v3.pay.transactions.out_trade_no._out_trade_no_.get(query={"mchid": "1900000109"})
    assert [e.pointer for e in caught.value.errors] == ["/path/out_trade_no"]
    assert not mock.calls


def test_unexpected_keyword_is_a_type_error(client: Client, mock: MockPlatform) -> None:
    with pytest.raises(TypeError, match="out_trade"):
        client.v3.profitsharing.return_orders.post(json=RETURN_ORDER, out_trade="x")
    assert not mock.calls


def test_api_error_carries_the_platform_fields(client: Client, mock: MockPlatform) -> None:
    mock.on(
        "POST",
        "v3/profitsharing/return-orders",
        lambda call: MockAnswer(403, {"code": "NO_AUTH", "message": "商户无权限", "detail": {"field": "x"}}),
    )
    with pytest.raises(ApiError) as caught:
        client.v3.profitsharing.return_orders.post(json=RETURN_ORDER)
    error = caught.value
    assert (error.status_code, error.code, error.message) == (403, "NO_AUTH", "商户无权限")
    assert error.detail == {"field": "x"}
    assert error.response is not None and error.request_id


def test_handler_sees_the_request(client: Client, mock: MockPlatform) -> None:
    seen: list[MockCall] = []

    @mock.on("POST", "v3/profitsharing/return-orders")
    def handler(call: MockCall) -> dict[str, Any]:
        seen.append(call)
        return {
            **RETURN_ORDER,
            "order_id": "1",
            "return_id": "2",
            "result": "SUCCESS",
            "create_time": "2015-05-20T13:29:35+08:00",
            "finish_time": "2015-05-20T13:29:35+08:00",
        }

    assert client.v3.profitsharing.return_orders.post(json=RETURN_ORDER).json()["return_id"] == "2"
    assert seen[0].mchid == "1900000109" and seen[0].json == RETURN_ORDER


@pytest.mark.parametrize(
    "fault, check",
    [
        ("bad_signature", "signature"),
        ("tampered_body", "signature"),
        ("stale_timestamp", "timestamp"),
        ("future_timestamp", "timestamp"),
        ("unknown_serial", "serial"),
        ("missing_headers", "headers"),
    ],
)
def test_each_fault_fails_closed(client: Client, mock: MockPlatform, fault: str, check: str) -> None:
    mock.fail(fault)
    with pytest.raises(SignatureError) as caught:
        client.v3.profitsharing.return_orders.post(json=RETURN_ORDER)
    assert caught.value.check == check
    _check(client.v3.profitsharing.return_orders.post(json=RETURN_ORDER))  # the next answer is fine


def test_server_error_fault(client: Client, mock: MockPlatform) -> None:
    mock.fail("server_error")
    with pytest.raises(ApiError) as caught:
        client.v3.profitsharing.return_orders.post(json=RETURN_ORDER)
    assert caught.value.status_code == 500 and caught.value.code == "SYSTEM_ERROR"


def test_async_faults_fail_closed_too(mock: MockPlatform) -> None:
    async def main() -> None:
        async with mock.client() as client:
            mock.fail("tampered_body")
            with pytest.raises(SignatureError):
                await client.v3.profitsharing.return_orders.post_async(json=RETURN_ORDER)

    asyncio.run(main())


def test_mock_rejects_a_request_signed_with_another_key(mock: MockPlatform) -> None:
    other = MockPlatform()  # not started: only its merchant key is used
    with mock.client(private_key=other.merchant_key) as client, pytest.raises(ApiError) as caught:
        client.v3.profitsharing.return_orders.post(json=RETURN_ORDER)
    assert caught.value.status_code == 401 and caught.value.code == "SIGN_ERROR"
    assert "signature" in (caught.value.message or "")


def test_unknown_path_gets_404(client: Client) -> None:
    with pytest.raises(ApiError) as caught:
        client.v3.no.such.thing.get()
    assert caught.value.status_code == 404 and caught.value.code == "NOT_FOUND"


def test_sync_and_async_share_one_client(mock: MockPlatform) -> None:
    client = mock.client()
    try:
        _check(client.v3.profitsharing.return_orders.post(json=RETURN_ORDER))

        async def main() -> None:
            _check(await client.v3.profitsharing.return_orders.post_async(json=RETURN_ORDER))
            await client.transport.aclose()

        asyncio.run(main())
    finally:
        client.close()
    assert client.transport.open_sessions() == 0


def test_signing_in_threads(mock: MockPlatform) -> None:
    async def main() -> list[Any]:
        async with mock.client(signing_threads=2) as client:
            node = client.v3.profitsharing.return_orders
            return await asyncio.gather(*(node.post_async(json=RETURN_ORDER) for _ in range(40)))

    assert all(answer.verified for answer in asyncio.run(main()))
    assert mock.counts[KEY] == 40


def test_a_path_value_never_changes_the_path(client: Client, mock: MockPlatform) -> None:
    node = client.v3.pay.transactions.out_trade_no["../../../v3/refund/domestic/refunds/R1"]
    assert node.spec_key == "v3/pay/transactions/out-trade-no/{out_trade_no}"
    node.get(query={"mchid": "1900000109"})
    assert (
        mock.calls[-1].path == "/v3/pay/transactions/out-trade-no/..%2F..%2F..%2Fv3%2Frefund%2Fdomestic%2Frefunds%2FR1"
    )
    for value in (".", "..", ""):
        with pytest.raises(ValidationError) as caught:
            client.v3.pay.transactions.out_trade_no._out_trade_no_.get(out_trade_no=value, query={"mchid": "1"})
        assert caught.value.errors[0].pointer == "/path/out_trade_no"
        with pytest.raises(ValidationError):
            client.v3.pay.transactions.out_trade_no[value].get(query={"mchid": "1"})
    assert len(mock.calls) == 1


def test_calls_after_close_are_a_typed_error(mock: MockPlatform) -> None:
    from wechatpay_chain import TransportError

    async def main() -> None:
        client = mock.client(signing_threads=1)
        await client.aclose()
        with pytest.raises(TransportError, match="closed"):
            await client.v3.profitsharing.return_orders.post_async(json=RETURN_ORDER)

    asyncio.run(main())
    client = mock.client()
    client.close()
    with pytest.raises(TransportError, match="closed"):
        client.v3.profitsharing.return_orders.post(json=RETURN_ORDER)
