"""Combined orders in the sandbox (合单支付, ``v3/combine-transactions``).

A combined order is a list of sub-orders paid in one go. Each sub-order is an order in the
order book (``orders``, under its own ``mchid``/``sub_mchid`` and ``out_trade_no``), so it
expires, is billed and is refunded by its ``out_trade_no`` like any order; the combined
record keeps the combine fields and which orders are its sub-orders. Its state is theirs:
``platform.pay_combined`` pays every sub-order at once and notifies TRANSACTION.SUCCESS with
the combine fields (``combine_out_trade_no``, ``sub_orders``...) to the combine
``notify_url``; close closes them all (not after payment: ``ORDERPAID``). The platform's
rules: a reused ``combine_out_trade_no`` (or a sub-order's ``out_trade_no``) with other
content is 403 ``OUT_TRADE_NO_USED``; at most 50 sub-orders; unknown ids 404 ``ORDER_NOT_EXIST``.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from functools import partial
from typing import Any

from . import orders
from .rules import Ask, Business, Table, amount
from .shapes import shaped
from .state import Refusal, parse_v3_time

__all__ = ["COMBINED", "combined_view", "find_combined", "pay_combined", "sub_orders"]

MAX_SUB_ORDERS = 50
QUERY_KEY = "v3/combine-transactions/out-trade-no/{combine_out_trade_no}"
_CHANNELS = {"jsapi": "JSAPI", "app": "APP", "h5": "MWEB", "native": "NATIVE", "miniprogram": "JSAPI"}


def find_combined(sandbox: Business, **ids: Any) -> dict[str, Any]:
    wanted = {name: str(value) for name, value in ids.items() if value}
    for record in sandbox.state.every("combined"):
        if any(record.get(name) == value for name, value in wanted.items()):
            return record
    raise orders.NOT_FOUND


def sub_orders(sandbox: Business, record: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [order for key in record["_orders"] if (order := sandbox.state.get("orders", key)) is not None]


def _identity(fields: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (
            sub.get("mchid"),
            sub.get("sub_mchid"),
            sub.get("out_trade_no"),
            amount((sub.get("amount") or {}).get("total_amount")),
        )
        for sub in fields.get("sub_orders") or []
    ]


def _sub_order(ask: Ask, sub: Mapping[str, Any], trade_type: str, now: float, expire: float) -> dict[str, Any]:
    money = sub.get("amount") or {}
    payer = ask.get("combine_payer_info") or {}
    order: dict[str, Any] = {
        "appid": sub.get("sub_appid") or ask.get("combine_appid"),
        "mchid": sub.get("mchid"),
        "sub_mchid": sub.get("sub_mchid"),
        "out_trade_no": sub.get("out_trade_no"),
        "description": sub.get("description"),
        "attach": sub.get("attach"),
        "trade_type": trade_type,
        "amount": {"total": amount(money.get("total_amount")), "currency": money.get("currency") or "CNY"},
        "payer": {"openid": payer["openid"]} if payer.get("openid") else None,
        "settle_info": sub.get("settle_info"),
        "trade_state": "NOTPAY",
        "trade_state_desc": orders.STATE_DESCRIPTIONS["NOTPAY"],
        "_owner": str(sub.get("sub_mchid") or sub.get("mchid") or ask.mchid),
        "_protocol": "v3",
        "_created": now,
        "_expires": expire,
        "_refunded": 0,
        "_prepay_id": "",
        "_query_key": "v3/pay/transactions/out-trade-no/{out_trade_no}",
        "_combine": str(ask.get("combine_out_trade_no")),
    }
    return {name: value for name, value in order.items() if value is not None}


def combined_view(sandbox: Business, record: dict[str, Any]) -> dict[str, Any]:
    """The combined order under the combine query's names, its sub-orders read from the order book."""
    subs = []
    for order in sub_orders(sandbox, record):
        money = order["amount"]
        sub = {name: order.get(name) for name in ("mchid", "sub_mchid", "out_trade_no", "attach", "trade_type")}
        sub.update(
            {name: order.get(name) for name in ("trade_state", "bank_type", "success_time", "transaction_id")},
            sub_appid=order["appid"] if order.get("sub_mchid") else None,
            amount={
                "total_amount": money["total"],
                "currency": money.get("currency", "CNY"),
                "payer_amount": money.get("payer_total", 0),
                "payer_currency": money.get("payer_currency", money.get("currency", "CNY")),
            },
        )
        subs.append({name: value for name, value in sub.items() if value is not None})
    return {**record, "sub_orders": subs}


# -- the merchant's operations ----------------------------------------------------------------------
def create(trade_type: str) -> Any:
    def rule(sandbox: Business, ask: Ask) -> dict[str, Any]:
        record = _store(sandbox, ask, trade_type)
        prepay = record["_prepay_id"]
        return {
            "prepay_id": prepay,
            "code_url": f"weixin://wxpay/bizpayurl?pr={prepay[-7:]}",
            "h5_url": f"https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id={prepay}&package={secrets.randbelow(10**10)}",
        }

    return rule


def _store(sandbox: Business, ask: Ask, trade_type: str) -> dict[str, Any]:
    state = sandbox.state
    combine_no = str(ask.get("combine_out_trade_no"))
    key = f"{ask.get('combine_mchid') or ask.mchid}/{combine_no}"
    existing = state.get("combined", key)
    if existing is not None:
        if (
            existing["_identity"] != [list(item) for item in _identity(ask.fields)]
            or existing["_trade_type"] != trade_type
        ):
            raise orders.REUSED
        subs = sub_orders(sandbox, existing)
        if any(order["trade_state"] in ("SUCCESS", "REFUND") for order in subs):
            raise orders.PAID
        if any(order["trade_state"] == "CLOSED" for order in subs):
            raise orders.CLOSED
        return existing
    wanted = list(ask.get("sub_orders") or [])
    if not wanted or len(wanted) > MAX_SUB_ORDERS:
        raise Refusal(400, "PARAM_ERROR", f"子单数量应为1至{MAX_SUB_ORDERS}笔")
    now = state.now()
    expire = parse_v3_time(ask.get("time_expire") or "") or now + orders.DEFAULT_LIFETIME
    made = [_sub_order(ask, sub, trade_type, now, expire) for sub in wanted]
    keys = [f"{order['_owner']}/{order['out_trade_no']}" for order in made]
    if len(set(keys)) != len(keys) or any(state.get("orders", k) is not None for k in keys):
        raise orders.REUSED  # a sub-order's out_trade_no is taken, in this request or before
    if any(order["amount"]["total"] <= 0 for order in made):
        raise Refusal(400, "PARAM_ERROR", "子单金额必须大于0")
    record = {
        "combine_appid": ask.get("combine_appid"),
        "combine_mchid": ask.get("combine_mchid") or ask.mchid,
        "combine_out_trade_no": combine_no,
        "combine_transaction_id": state.transaction_id(),
        "scene_info": ask.get("scene_info"),
        "combine_payer_info": {"openid": (ask.get("combine_payer_info") or {}).get("openid")},
        "notify_url": ask.get("notify_url"),
        "_orders": keys,
        "_identity": [list(item) for item in _identity(ask.fields)],
        "_trade_type": trade_type,
        "_prepay_id": state.prepay_id(),
    }
    for order_key, order in zip(keys, made, strict=True):
        order["_prepay_id"] = record["_prepay_id"]
        state.put("orders", order_key, order)
        state.at(expire, partial(orders.expire_order, sandbox, order))
    return state.put("combined", key, record)


def query(sandbox: Business, ask: Ask) -> dict[str, Any]:
    record = find_combined(
        sandbox,
        combine_out_trade_no=ask.get("combine_out_trade_no"),
        combine_transaction_id=ask.get("combine_transaction_id"),
    )
    return combined_view(sandbox, record)


def close(sandbox: Business, ask: Ask) -> None:
    record = find_combined(sandbox, combine_out_trade_no=ask.get("combine_out_trade_no"))
    subs = sub_orders(sandbox, record)
    if any(order["trade_state"] in ("SUCCESS", "REFUND") for order in subs):
        raise orders.PAID
    for order in subs:
        orders.expire_order(sandbox, order)  # NOTPAY -> CLOSED, as expiry does


# -- the test's side ----------------------------------------------------------------------------------
def pay_combined(sandbox: Business, record: dict[str, Any], *, payer: str | None = None) -> dict[str, Any]:
    """The payer pays every sub-order at once; one combine notification follows."""
    state = sandbox.state
    with state.lock:
        subs = sub_orders(sandbox, record)
        unpaid = [order["out_trade_no"] for order in subs if order["trade_state"] != "NOTPAY"]
        if unpaid:
            raise ValueError(f"combined order {record['combine_out_trade_no']}: {unpaid} not NOTPAY, cannot be paid")
        payer = payer or record["combine_payer_info"].get("openid") or "o" + secrets.token_urlsafe(20)[:27]
        for order in subs:
            orders.pay(sandbox, order, payer=payer, notify=False)
        record["combine_payer_info"] = {"openid": payer}
        view = combined_view(sandbox, record)
    url = record.get("notify_url")
    if url:
        operation = sandbox.platform.catalog.operation(QUERY_KEY, "GET")
        schema = operation.schema("response") if operation is not None else None
        sandbox.webhooks.send_v3(url, "TRANSACTION.SUCCESS", shaped(schema, view), "transaction")
    return view


COMBINED: Table = {}
for _channel, _trade_type in _CHANNELS.items():
    COMBINED[f"POST v3/combine-transactions/{_channel}"] = create(_trade_type)
COMBINED.update(
    {
        f"GET {QUERY_KEY}": query,
        "GET v3/combine-transactions/id/{combine_transaction_id}": query,
        "POST v3/combine-transactions/out-trade-no/{combine_out_trade_no}/close": close,
    }
)
