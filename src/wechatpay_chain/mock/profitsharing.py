"""Profit sharing in the sandbox: the table of its operations and the two state machines.

Profit-sharing order: PROCESSING (receivers PENDING) -> FINISHED (receivers SUCCESS), by
itself ``platform.profit_sharing_delay`` sandbox seconds later. Return order: PROCESSING ->
SUCCESS the same way. The platform's rules: only a paid order created with
``settle_info.profit_sharing`` is shared, at most ``MAX_RATIO`` of what was paid and not
refunded; a return gives back at most what went to that receiver and was not returned yet.
"""

from __future__ import annotations

from typing import Any

from .orders import find_order
from .rules import Ask, Business, Table, amount
from .state import Refusal, v3_time

__all__ = ["MAX_RATIO", "PROFIT_SHARING"]

MAX_RATIO = 0.3  # the platform's default ceiling on what a merchant may share of an order
ORDER_GONE = Refusal(404, "RESOURCE_NOT_EXISTS", "分账单不存在", v2_code="ORDERNOTEXIST")


def _paid_order(sandbox: Business, ask: Ask) -> dict[str, Any]:
    try:
        order = find_order(sandbox, ask.owner(), transaction_id=ask.get("transaction_id"))
    except Refusal:
        raise Refusal(404, "RESOURCE_NOT_EXISTS", "订单不存在") from None
    if order.get("transaction_id") is None:
        raise Refusal(400, "INVALID_REQUEST", "订单未支付，不能分账")
    if not (order.get("settle_info") or {}).get("profit_sharing"):
        raise Refusal(403, "NO_AUTH", "该笔订单不需要分账（下单时未指定 settle_info.profit_sharing）")
    return order


def _finish(sandbox: Business, record: dict[str, Any]) -> None:
    with sandbox.state.lock:
        if record["state"] != "PROCESSING":
            return
        now = v3_time(sandbox.state.now())
        record["state"] = "FINISHED"
        for receiver in record["receivers"]:
            receiver.update(result="SUCCESS", finish_time=now)


def _create(sandbox: Business, ask: Ask, receivers: list[dict[str, Any]]) -> dict[str, Any]:
    state = sandbox.state
    order = _paid_order(sandbox, ask)
    key = f"{ask.owner()}/{ask.get('out_order_no')}"
    existing = state.get("profitsharing", key)
    if existing is not None:
        if existing["transaction_id"] != order["transaction_id"]:
            raise Refusal(400, "INVALID_REQUEST", "商户分账单号重复，且参数不一致")
        return existing
    wanted = sum(amount(receiver.get("amount")) for receiver in receivers)
    shared = sum(r["_shared"] for r in state.every("profitsharing") if r["transaction_id"] == order["transaction_id"])
    ceiling = int((order["amount"]["total"] - order["_refunded"]) * MAX_RATIO)
    if shared + wanted > ceiling:
        raise Refusal(400, "INVALID_REQUEST", f"分账金额超出最大分账比例，最多还可分 {ceiling - shared} 分")
    now = state.now()
    record = {
        "sub_mchid": ask.get("sub_mchid"),
        "transaction_id": order["transaction_id"],
        "out_order_no": ask.get("out_order_no"),
        "order_id": state.platform_number("3008", 28),
        "state": "PROCESSING",
        "receivers": [
            {
                "amount": amount(receiver.get("amount")),
                "description": receiver.get("description"),
                "type": receiver.get("type"),
                "account": receiver.get("account"),
                "result": "PENDING",
                "detail_id": state.platform_number("36", 23),
                "create_time": v3_time(now),
            }
            for receiver in receivers
        ],
        "_owner": ask.owner(),
        "_shared": wanted,
        "_returned": 0,
    }
    state.put("profitsharing", key, record)
    if sandbox.profit_sharing_delay is not None:
        state.at(now + sandbox.profit_sharing_delay, lambda: _finish(sandbox, record))
    return record


def create_order(sandbox: Business, ask: Ask) -> dict[str, Any]:
    return _create(sandbox, ask, list(ask.get("receivers") or []))


def unfreeze(sandbox: Business, ask: Ask) -> dict[str, Any]:
    """Give the order's unshared rest to the merchant: a profit-sharing order without receivers."""
    return _create(sandbox, ask, [])


def _find(sandbox: Business, owner: str, out_order_no: Any = None, order_id: Any = None) -> dict[str, Any]:
    for record in sandbox.state.every("profitsharing"):
        if record["_owner"] == owner and (
            (out_order_no and record["out_order_no"] == out_order_no) or (order_id and record["order_id"] == order_id)
        ):
            return record
    raise ORDER_GONE


def query_order(sandbox: Business, ask: Ask) -> dict[str, Any]:
    record = _find(sandbox, ask.owner(), out_order_no=ask.get("out_order_no"))
    if record["transaction_id"] != ask.get("transaction_id"):
        raise ORDER_GONE
    return record


def create_return(sandbox: Business, ask: Ask) -> dict[str, Any]:
    state = sandbox.state
    shared = _find(sandbox, ask.owner(), ask.get("out_order_no"), ask.get("order_id"))
    key = f"{ask.owner()}/{ask.get('out_return_no')}"
    existing = state.get("returns", key)
    if existing is not None:
        return existing
    wanted = amount(ask.get("amount"))
    to_receiver = sum(
        receiver["amount"] for receiver in shared["receivers"] if receiver.get("account") == ask.get("return_mchid")
    )
    returned = sum(
        r["amount"] for r in state.every("returns") if r["order_id"] == shared["order_id"] and r["result"] != "FAILED"
    )
    if wanted <= 0 or wanted > to_receiver - returned:
        raise Refusal(400, "INVALID_REQUEST", "回退金额超出该接收方可回退金额")
    now = state.now()
    record = {
        "sub_mchid": ask.get("sub_mchid"),
        "order_id": shared["order_id"],
        "out_order_no": shared["out_order_no"],
        "out_return_no": ask.get("out_return_no"),
        "return_id": state.platform_number("3008", 28),
        "return_mchid": ask.get("return_mchid"),
        "amount": wanted,
        "description": ask.get("description"),
        "result": "PROCESSING",
        "create_time": v3_time(now),
        "_owner": ask.owner(),
    }
    state.put("returns", key, record)

    def succeed() -> None:
        with state.lock:
            if record["result"] == "PROCESSING":
                record.update(result="SUCCESS", finish_time=v3_time(state.now()))

    if sandbox.profit_sharing_delay is not None:
        state.at(now + sandbox.profit_sharing_delay, succeed)
    return record


def query_return(sandbox: Business, ask: Ask) -> dict[str, Any]:
    record = sandbox.state.get("returns", f"{ask.owner()}/{ask.get('out_return_no')}")
    if record is None or record["out_order_no"] != ask.get("out_order_no"):
        raise Refusal(404, "RESOURCE_NOT_EXISTS", "回退单不存在")
    return record


PROFIT_SHARING: Table = {
    "POST v3/profitsharing/orders": create_order,
    "GET v3/profitsharing/orders/{out_order_no}": query_order,
    "POST v3/profitsharing/orders/unfreeze": unfreeze,
    "POST v3/profitsharing/return-orders": create_return,
    "GET v3/profitsharing/return-orders/{out_return_no}": query_return,
}
