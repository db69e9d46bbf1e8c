"""``wechatpay demo``: the chain against the embedded mock platform, nothing leaves 127.0.0.1."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from .client import Client
from .errors import ApiError, SignatureError, ValidationError
from .mock import MockPlatform
from .response import Response

if TYPE_CHECKING:
    from ._typing.v3_profitsharing import V3ProfitsharingReturnOrdersPostJson

__all__ = ["run_demo"]

RETURN_ORDER: V3ProfitsharingReturnOrdersPostJson = {
    "out_order_no": "P20150806125346",
    "out_return_no": "R20190516001",
    "return_mchid": "86693852",
    "amount": 10,
    "description": "用户退款",
}


def _show(label: str, response: Response) -> None:
    body = response.json() or {}
    summary = ", ".join(f"{k}={body[k]}" for k in ("out_return_no", "result", "trade_state") if k in body)
    print(f"  {label:<58} HTTP {response.status_code}  {summary}  [verified: {response.verified}]")


def _sync_forms(client: Client) -> list[tuple[str, Callable[[], Response]]]:
    return [
        (
            "client.v3.profitsharing.return_orders.post(json=...)",
            lambda: client.v3.profitsharing.return_orders.post(json=RETURN_ORDER),
        ),
        (
            'client.chain("v3/profitsharing/return-orders").post(...)',
            lambda: client.chain("v3/profitsharing/return-orders").post(json=RETURN_ORDER),
        ),
        (
            'client["v3/profitsharing/return-orders"].post(...)',
            lambda: client["v3/profitsharing/return-orders"].post(json=RETURN_ORDER),
        ),
    ]


def _async_forms(client: Client) -> list[tuple[str, Callable[[], Awaitable[Response]]]]:
    return [
        (
            "await client.v3.profitsharing.return_orders.post_async(...)",
            lambda: client.v3.profitsharing.return_orders.post_async(json=RETURN_ORDER),
        ),
        (
            'await client.chain("v3/profitsharing/return-orders").post_async',
            lambda: client.chain("v3/profitsharing/return-orders").post_async(json=RETURN_ORDER),
        ),
        (
            'await client["v3/profitsharing/return-orders"].post_async(...)',
            lambda: client["v3/profitsharing/return-orders"].post_async(json=RETURN_ORDER),
        ),
    ]


async def _run_async(client: Client) -> None:
    for label, call in _async_forms(client):
        _show(label, await call())
    await client.aclose()


def run_demo() -> int:
    started = time.perf_counter()
    with MockPlatform(sandbox=False) as mock:  # the catalogue's example answers, whatever the ids
        print(f"Mock WeChat Pay platform on {mock.base_url} (trusted key {mock.public_key_id})\n")
        print("1. 请求分账回退 POST v3/profitsharing/return-orders, six ways; every answer signature-verified:")
        with mock.client() as client:
            for label, call in _sync_forms(client):
                _show(label, call())
        asyncio.run(_run_async(mock.client()))

        with mock.client() as client:
            print("\n2. A path template: GET v3/pay/transactions/out-trade-no/{out_trade_no}")
            response = client.v3.pay.transactions.out_trade_no._out_trade_no_.get(
                out_trade_no="1217752501201407033233368018", query={"mchid": mock.mchid}
            )
            _show("client.v3.pay.transactions.out_trade_no._out_trade_no_.get(...)", response)

            print("\n3. A payload that breaks its spec is refused before sending:")
            try:
                bad = {"out_return_no": "R1", "amount": "10"}  # a type checker refuses it too: wrong on purpose
                client.v3.profitsharing.return_orders.post(json=bad)  # type: ignore[arg-type]
            except ValidationError as exc:
                print("  ValidationError: " + str(exc).replace("\n", "\n  "))

            print("\n4. An answer whose signature does not check out is never handed over:")
            mock.fail("tampered_body")
            try:
                client.v3.profitsharing.return_orders.post(json=RETURN_ORDER)
            except SignatureError as exc:
                print(f"  SignatureError: {exc}")

            print("\n5. A platform error arrives as ApiError:")
            mock.fail("server_error")
            try:
                client.v3.profitsharing.return_orders.post(json=RETURN_ORDER)
            except ApiError as exc:
                print(f"  ApiError: {exc} (status_code={exc.status_code}, code={exc.code})")
        calls = sum(mock.counts.values())
    print(f"\nDone: {calls} signed requests reached the mock, in {time.perf_counter() - started:.2f} s.")
    return 0
