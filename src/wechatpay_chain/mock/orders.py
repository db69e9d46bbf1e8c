"""Orders in the sandbox: the table of order operations and the order's state machine.

NOTPAY -> SUCCESS (``platform.pay``) -> REFUND (once refunded)
NOTPAY -> CLOSED (close, or expiry: ``time_expire``, else two hours, on the sandbox clock)
NOTPAY -> PAYERROR (``platform.fail_payment``); SUCCESS/NOTPAY -> REVOKED (payment-code reverse)

One record per (merchant, out_trade_no), written with the v3 query's field names; v2
operations read and answer the same record through ``v2_view``, as the platform serves
both protocols from one order book. A v2 order is notified in v2 XML, a v3 order in v3.
"""

from __future__ import annotations

import secrets
from typing import Any

from .rules import Ask, Business, Table, amount
from .state import Refusal, parse_v3_time, v2_time, v3_time

__all__ = ["ORDERS", "expire_order", "fail_payment", "find_order", "pay", "v2_view"]

DEFAULT_LIFETIME = 2 * 3600  # an unpaid order without time_expire closes after two hours

STATE_DESCRIPTIONS = {
    "NOTPAY": "订单未支付",
    "SUCCESS": "支付成功",
    "REFUND": "转入退款",
    "CLOSED": "订单已关闭",
    "REVOKED": "已撤销",
    "USERPAYING": "用户支付中",
    "PAYERROR": "支付失败，请重新下单支付",
}
V2_TRADE_TYPES = {"MWEB": "MWEB", "NATIVE": "NATIVE", "APP": "APP", "JSAPI": "JSAPI", "MICROPAY": "MICROPAY"}
# The fields whose difference makes a reused out_trade_no a different order.
_IDENTITY = ("description", "total", "trade_type", "attach")

NOT_FOUND = Refusal(404, "ORDER_NOT_EXIST", "订单不存在", v2_code="ORDERNOTEXIST")
PAID = Refusal(400, "ORDERPAID", "该订单已支付", v2_code="ORDERPAID")
CLOSED = Refusal(400, "ORDER_CLOSED", "订单已关闭", v2_code="ORDERCLOSED")
REUSED = Refusal(403, "OUT_TRADE_NO_USED", "商户订单号重复", v2_code="OUT_TRADE_NO_USED")


def _key(owner: str, out_trade_no: str) -> str:
    return f"{owner}/{out_trade_no}"


def find_order(
    sandbox: Business, owner: str | None, *, out_trade_no: Any = None, transaction_id: Any = None
) -> dict[str, Any]:
    """The order named by either id (``owner`` None: any merchant's); NOT_FOUND otherwise."""
    state = sandbox.state
    order = None
    if out_trade_no and owner:
        order = state.get("orders", _key(owner, str(out_trade_no)))
    elif out_trade_no:
        order = state.find("orders", out_trade_no=str(out_trade_no))
    elif transaction_id:
        order = state.find("orders", transaction_id=str(transaction_id))
        if order is not None and owner and order["_owner"] != owner:
            order = None
    if order is None:
        raise NOT_FOUND
    return order


def _identity(order: dict[str, Any]) -> tuple[Any, ...]:
    return (order.get("description"), order["amount"]["total"], order.get("trade_type"), order.get("attach"))


def _store(sandbox: Business, ask: Ask, order: dict[str, Any]) -> dict[str, Any]:
    """A new order, or the same one again when the request repeats; REUSED when it differs."""
    state = sandbox.state
    key = _key(ask.owner(), order["out_trade_no"])
    existing = state.get("orders", key)
    if existing is not None:
        if _identity(existing) != _identity(order):
            raise REUSED
        if existing["trade_state"] in ("SUCCESS", "REFUND"):
            raise PAID
        if existing["trade_state"] in ("CLOSED", "REVOKED"):
            raise CLOSED
        return existing
    now = state.now()
    expire = parse_v3_time(order.get("time_expire") or "") or now + DEFAULT_LIFETIME
    order.update(
        trade_state="NOTPAY",
        trade_state_desc=STATE_DESCRIPTIONS["NOTPAY"],
        _owner=ask.owner(),
        _protocol=ask.protocol,
        _created=now,
        _expires=expire,
        _refunded=0,
        _prepay_id=state.prepay_id(),
        _query_key=ask.key.rsplit("/", 1)[0] + "/out-trade-no/{out_trade_no}"
        if ask.protocol == "v3"
        else "v3/pay/transactions/out-trade-no/{out_trade_no}",
    )
    state.put("orders", key, order)
    state.at(expire, lambda: expire_order(sandbox, order))
    return order


def expire_order(sandbox: Business, order: dict[str, Any]) -> None:
    with sandbox.state.lock:
        if order["trade_state"] == "NOTPAY":
            _move(order, "CLOSED")


def _move(order: dict[str, Any], trade_state: str) -> None:
    order["trade_state"] = trade_state
    order["trade_state_desc"] = STATE_DESCRIPTIONS[trade_state]


def _prepay_view(order: dict[str, Any]) -> dict[str, Any]:
    prepay = order["_prepay_id"]
    return {
        **order,
        "prepay_id": prepay,
        "code_url": f"weixin://wxpay/bizpayurl?pr={prepay[-7:]}",
        "h5_url": f"https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id={prepay}&package={secrets.randbelow(10**10)}",
    }


# -- v3 ---------------------------------------------------------------------------------------------
def _v3_order(ask: Ask, trade_type: str) -> dict[str, Any]:
    fields = {name: value for name, value in ask.fields.items() if name not in ("scene_info",)}
    total = amount((fields.get("amount") or {}).get("total"))
    currency = (fields.get("amount") or {}).get("currency") or "CNY"
    return {**fields, "trade_type": trade_type, "amount": {"total": total, "currency": currency}}


def create_v3(trade_type: str) -> Any:
    def create(sandbox: Business, ask: Ask) -> dict[str, Any]:
        return _prepay_view(_store(sandbox, ask, _v3_order(ask, trade_type)))

    return create


def codepay_v3(sandbox: Business, ask: Ask) -> dict[str, Any]:
    """Payment code (付款码): the payer scanned, the platform charges at once."""
    order = _store(sandbox, ask, _v3_order(ask, "MICROPAY"))
    if order["trade_state"] == "NOTPAY":
        pay(sandbox, order, notify=False)
    return order


def query_v3(sandbox: Business, ask: Ask) -> dict[str, Any]:
    return find_order(
        sandbox, ask.owner(), out_trade_no=ask.get("out_trade_no"), transaction_id=ask.get("transaction_id")
    )


def close_v3(sandbox: Business, ask: Ask) -> None:
    order = find_order(sandbox, ask.owner(), out_trade_no=ask.get("out_trade_no"))
    if order["trade_state"] in ("SUCCESS", "REFUND"):
        raise PAID
    if order["trade_state"] == "NOTPAY":
        _move(order, "CLOSED")


def reverse(sandbox: Business, ask: Ask) -> dict[str, Any]:
    order = find_order(
        sandbox, ask.owner(), out_trade_no=ask.get("out_trade_no"), transaction_id=ask.get("transaction_id")
    )
    if order["trade_state"] == "REFUND":
        raise Refusal(400, "TRADE_ERROR", "订单已退款，不能撤销", v2_code="TRADE_ERROR")
    _move(order, "REVOKED")
    return {**order, "recall": "N"}


# -- v2 ---------------------------------------------------------------------------------------------
def _v2_order(ask: Ask, trade_type: str | None = None) -> dict[str, Any]:
    fields = ask.fields
    order: dict[str, Any] = {
        "appid": fields.get("appid"),
        "mchid": fields.get("mch_id"),
        "sub_mchid": fields.get("sub_mch_id"),
        "out_trade_no": fields.get("out_trade_no"),
        "description": fields.get("body"),
        "attach": fields.get("attach"),
        "notify_url": fields.get("notify_url"),
        "trade_type": V2_TRADE_TYPES.get(str(trade_type or fields.get("trade_type")), "JSAPI"),
        "amount": {"total": amount(fields.get("total_fee")), "currency": fields.get("fee_type") or "CNY"},
        "payer": {"openid": fields.get("openid")} if fields.get("openid") else None,
        "settle_info": {"profit_sharing": fields.get("profit_sharing") == "Y"},
    }
    if fields.get("time_expire"):
        stamp = str(fields["time_expire"])
        order["time_expire"] = (
            f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}T{stamp[8:10]}:{stamp[10:12]}:{stamp[12:14]}+08:00"
        )
    return {name: value for name, value in order.items() if value is not None}


def v2_view(order: dict[str, Any]) -> dict[str, Any]:
    """The order under v2 names (amounts in fen, as text)."""
    total = str(order["amount"]["total"])
    paid = order.get("transaction_id") is not None
    view: dict[str, Any] = {
        "appid": order.get("appid") or order.get("sp_appid"),
        "mch_id": order.get("mchid") or order.get("sp_mchid"),
        "sub_mch_id": order.get("sub_mchid"),
        "out_trade_no": order["out_trade_no"],
        "trade_type": order.get("trade_type"),
        "trade_state": order["trade_state"],
        "trade_state_desc": order["trade_state_desc"],
        "total_fee": total,
        "fee_type": order["amount"].get("currency", "CNY"),
        "attach": order.get("attach"),
        "openid": (order.get("payer") or {}).get("openid"),
        "prepay_id": order.get("_prepay_id"),
    }
    if paid:
        view.update(
            transaction_id=order["transaction_id"],
            bank_type=order.get("bank_type"),
            cash_fee=total,
            is_subscribe="N",
            time_end=v2_time(order["_paid"]),
        )
    if order.get("trade_type") == "NATIVE":
        view["code_url"] = _prepay_view(order)["code_url"]
    if order.get("trade_type") == "MWEB":
        view["mweb_url"] = _prepay_view(order)["h5_url"]
    return {name: value for name, value in view.items() if value is not None}


def unifiedorder(sandbox: Business, ask: Ask) -> dict[str, Any]:
    return v2_view(_store(sandbox, ask, _v2_order(ask)))


def micropay(sandbox: Business, ask: Ask) -> dict[str, Any]:
    order = _store(sandbox, ask, _v2_order(ask, "MICROPAY"))
    if order["trade_state"] == "NOTPAY":
        pay(sandbox, order, notify=False)
    return v2_view(order)


def orderquery(sandbox: Business, ask: Ask) -> dict[str, Any]:
    return v2_view(query_v3(sandbox, ask))


def closeorder(sandbox: Business, ask: Ask) -> dict[str, Any]:
    close_v3(sandbox, ask)
    return {"appid": ask.get("appid"), "mch_id": ask.get("mch_id")}


def reverse_v2(sandbox: Business, ask: Ask) -> dict[str, Any]:
    reverse(sandbox, ask)
    return {"appid": ask.get("appid"), "mch_id": ask.get("mch_id"), "recall": "N"}


# -- transitions a merchant cannot cause (the test's side) -----------------------------------------------
def pay(
    sandbox: Business,
    order: dict[str, Any],
    *,
    payer: str | None = None,
    bank_type: str = "OTHERS",
    notify: bool = True,
) -> dict[str, Any]:
    """The payer pays: SUCCESS, a transaction id, the payer's amount; then the notification."""
    state = sandbox.state
    with state.lock:
        if order["trade_state"] != "NOTPAY":
            raise ValueError(f"order {order['out_trade_no']} is {order['trade_state']}, not NOTPAY: it cannot be paid")
        now = state.now()
        _move(order, "SUCCESS")
        payer_field = "sp_openid" if "sp_mchid" in order else "openid"
        known = dict(order.get("payer") or {})
        if payer:
            known[payer_field] = payer
        known.setdefault(payer_field, "o" + secrets.token_urlsafe(20)[:27])
        order.update(
            transaction_id=state.transaction_id(),
            bank_type=bank_type,
            success_time=v3_time(now),
            payer=known,
            _paid=now,
        )
        order["amount"].update(payer_total=order["amount"]["total"], payer_currency=order["amount"]["currency"])
    if notify:
        sandbox.notify_order(order)
    return order


def fail_payment(sandbox: Business, order: dict[str, Any]) -> dict[str, Any]:
    """The payment fails (PAYERROR): the platform notifies nothing, the merchant finds out by query."""
    with sandbox.state.lock:
        if order["trade_state"] != "NOTPAY":
            raise ValueError(f"order {order['out_trade_no']} is {order['trade_state']}, not NOTPAY")
        _move(order, "PAYERROR")
    return order


_V3_CHANNELS = {"jsapi": "JSAPI", "app": "APP", "h5": "MWEB", "native": "NATIVE", "miniprogram": "JSAPI"}

ORDERS: Table = {}
for _root in ("v3/pay/transactions", "v3/pay/partner/transactions"):
    for _channel, _trade_type in _V3_CHANNELS.items():
        ORDERS[f"POST {_root}/{_channel}"] = create_v3(_trade_type)
    ORDERS[f"POST {_root}/codepay"] = codepay_v3
    ORDERS[f"GET {_root}/out-trade-no/{{out_trade_no}}"] = query_v3
    ORDERS[f"GET {_root}/id/{{transaction_id}}"] = query_v3
    ORDERS[f"POST {_root}/out-trade-no/{{out_trade_no}}/close"] = close_v3
    ORDERS[f"POST {_root}/out-trade-no/{{out_trade_no}}/reverse"] = reverse
ORDERS.update(
    {
        "POST v2/pay/unifiedorder": unifiedorder,
        "POST v2/pay/micropay": micropay,
        "POST v2/pay/orderquery": orderquery,
        "POST v2/pay/closeorder": closeorder,
        "POST v2/secapi/pay/reverse": reverse_v2,
    }
)
