"""Refunds in the sandbox: the table of refund operations and the refund's state machine.

PROCESSING -> SUCCESS (by itself after ``platform.refund_delay`` sandbox seconds, or
``platform.complete_refund``) | ABNORMAL (``platform.fail_refund``) | CLOSED
(``platform.close_refund``); each end is notified (REFUND.SUCCESS / .ABNORMAL / .CLOSED)
to the refund's ``notify_url`` (else ``platform.refund_notify_url``, the address a merchant
configures on the merchant platform). The platform's rules: only a paid order is refunded,
the refunds of an order never exceed what was paid, ``amount.total`` must be the order's.
An ABNORMAL or CLOSED refund gives its amount back to what can be refunded.
"""

from __future__ import annotations

from typing import Any

from .orders import find_order
from .rules import Ask, Business, Table, amount
from .state import Refusal, v3_time

__all__ = ["REFUNDS", "find_refund", "settle_refund", "v2_refund_view"]

NOT_FOUND = Refusal(404, "RESOURCE_NOT_EXISTS", "退款单不存在", v2_code="REFUNDNOTEXIST")
ENDS = {"SUCCESS": "REFUND.SUCCESS", "ABNORMAL": "REFUND.ABNORMAL", "CLOSED": "REFUND.CLOSED"}


def find_refund(sandbox: Business, owner: str | None, **ids: Any) -> dict[str, Any]:
    ids = {name: str(value) for name, value in ids.items() if value}
    for record in sandbox.state.every("refunds"):
        if (owner is None or record["_owner"] == owner) and any(
            record.get(name) == value for name, value in ids.items()
        ):
            return record
    raise NOT_FOUND


def _open(sandbox: Business, ask: Ask, out_refund_no: str, refund: int, total: int, notify_url: Any) -> dict[str, Any]:
    """Check the platform's rules and record a PROCESSING refund (the same one again on a repeat)."""
    state = sandbox.state
    owner = ask.owner()
    order = find_order(sandbox, owner, out_trade_no=ask.get("out_trade_no"), transaction_id=ask.get("transaction_id"))
    existing = state.get("refunds", f"{owner}/{out_refund_no}")
    if existing is not None:
        if existing["out_trade_no"] != order["out_trade_no"] or existing["amount"]["refund"] != refund:
            raise Refusal(400, "INVALID_REQUEST", "退款单号重复，且参数与原退款不一致", v2_code="ERROR")
        return existing
    if order["trade_state"] not in ("SUCCESS", "REFUND"):
        raise Refusal(
            400, "INVALID_REQUEST", f"订单状态为{order['trade_state']}，不能退款", v2_code="TRADE_STATE_ERROR"
        )
    if total != order["amount"]["total"]:
        raise Refusal(400, "INVALID_REQUEST", "订单金额与原订单不一致", v2_code="ERROR")
    if refund <= 0 or refund > total - order["_refunded"]:
        raise Refusal(400, "INVALID_REQUEST", "申请退款金额超过订单可退金额", v2_code="ERROR")
    now = state.now()
    order["_refunded"] += refund
    order["trade_state"], order["trade_state_desc"] = "REFUND", "转入退款"
    record = {
        "refund_id": state.refund_id(),
        "out_refund_no": out_refund_no,
        "transaction_id": order["transaction_id"],
        "out_trade_no": order["out_trade_no"],
        "mchid": order.get("mchid") or order.get("sp_mchid"),
        "sub_mchid": order.get("sub_mchid"),
        "channel": "ORIGINAL",
        "user_received_account": "支付用户零钱",
        "create_time": v3_time(now),
        "status": "PROCESSING",
        "funds_account": "AVAILABLE",
        "amount": {
            "total": total,
            "refund": refund,
            "payer_total": total,
            "payer_refund": refund,
            "settlement_total": total,
            "settlement_refund": refund,
            "discount_refund": 0,
            "currency": order["amount"].get("currency", "CNY"),
            "from": [],
        },
        "promotion_detail": [],
        "notify_url": notify_url,
        "_owner": owner,
        "_order": f"{order['_owner']}/{order['out_trade_no']}",
        "_protocol": ask.protocol,
        "_created": now,
    }
    state.put("refunds", f"{owner}/{out_refund_no}", record)
    if sandbox.refund_delay is not None:
        state.at(now + sandbox.refund_delay, lambda: settle_refund(sandbox, record, "SUCCESS", quiet=True))
    return record


def settle_refund(sandbox: Business, record: dict[str, Any], status: str, *, quiet: bool = False) -> dict[str, Any]:
    """PROCESSING -> ``status`` and its notification (``quiet``: skip when no longer PROCESSING)."""
    state = sandbox.state
    with state.lock:
        if record["status"] != "PROCESSING":
            if quiet:
                return record
            raise ValueError(f"refund {record['out_refund_no']} is {record['status']}, not PROCESSING")
        record["status"] = status
        if status == "SUCCESS":
            record["success_time"] = v3_time(state.now())
        else:
            order = state.get("orders", record["_order"])
            if order is not None:
                order["_refunded"] -= record["amount"]["refund"]
            if status == "ABNORMAL":
                record["user_received_account"] = "用户银行卡已注销"
    sandbox.notify_refund(record, ENDS[status])
    return record


# -- v3 ---------------------------------------------------------------------------------------------
def create_v3(sandbox: Business, ask: Ask) -> dict[str, Any]:
    money = ask.get("amount") or {}
    return _open(
        sandbox,
        ask,
        str(ask.get("out_refund_no")),
        amount(money.get("refund")),
        amount(money.get("total")),
        ask.get("notify_url"),
    )


def query_v3(sandbox: Business, ask: Ask) -> dict[str, Any]:
    return find_refund(sandbox, ask.owner(), out_refund_no=ask.get("out_refund_no"), refund_id=ask.get("refund_id"))


# -- v2 ---------------------------------------------------------------------------------------------
def v2_refund_view(record: dict[str, Any]) -> dict[str, str]:
    money = record["amount"]
    return {
        "transaction_id": record["transaction_id"],
        "out_trade_no": record["out_trade_no"],
        "out_refund_no": record["out_refund_no"],
        "refund_id": record["refund_id"],
        "refund_fee": str(money["refund"]),
        "settlement_refund_fee": str(money["settlement_refund"]),
        "total_fee": str(money["total"]),
        "settlement_total_fee": str(money["settlement_total"]),
        "cash_fee": str(money["payer_total"]),
        "cash_refund_fee": str(money["payer_refund"]),
    }


def create_v2(sandbox: Business, ask: Ask) -> dict[str, Any]:
    record = _open(
        sandbox,
        ask,
        str(ask.get("out_refund_no")),
        amount(ask.get("refund_fee")),
        amount(ask.get("total_fee")),
        ask.get("notify_url"),
    )
    return {"appid": ask.get("appid"), "mch_id": ask.get("mch_id"), **v2_refund_view(record)}


def query_v2(sandbox: Business, ask: Ask) -> dict[str, Any]:
    """Every refund of the order, numbered ``_0``, ``_1``... as v2 answers list them."""
    owner = ask.owner()
    ids = {name: ask.get(name) for name in ("refund_id", "out_refund_no", "transaction_id", "out_trade_no")}
    first = find_refund(sandbox, owner, **ids)
    if ask.get("refund_id") or ask.get("out_refund_no"):
        refunds = [first]
    else:
        refunds = [r for r in sandbox.state.every("refunds") if r["_order"] == first["_order"]]
    view = v2_refund_view(first)
    answer: dict[str, Any] = {
        "appid": ask.get("appid"),
        "mch_id": ask.get("mch_id"),
        "transaction_id": view["transaction_id"],
        "out_trade_no": view["out_trade_no"],
        "total_fee": view["total_fee"],
        "cash_fee": view["cash_fee"],
        "refund_count": str(len(refunds)),
    }
    for number, record in enumerate(refunds):
        answer.update(
            {
                f"out_refund_no_{number}": record["out_refund_no"],
                f"refund_id_{number}": record["refund_id"],
                f"refund_channel_{number}": "ORIGINAL",
                f"refund_fee_{number}": str(record["amount"]["refund"]),
                f"refund_status_{number}": "REFUNDCLOSE" if record["status"] == "CLOSED" else record["status"],
                f"refund_account_{number}": "REFUND_SOURCE_UNSETTLED_FUNDS",
                f"refund_recv_accout_{number}": record["user_received_account"],
            }
        )
        if record.get("success_time"):
            answer[f"refund_success_time_{number}"] = record["success_time"][:19].replace("T", " ")
    return answer


REFUNDS: Table = {
    "POST v3/refund/domestic/refunds": create_v3,
    "GET v3/refund/domestic/refunds/{out_refund_no}": query_v3,
    "POST v2/secapi/pay/refund": create_v2,
    "POST v2/secapi/pay/refundv2": create_v2,
    "POST v2/pay/refundquery": query_v2,
    "POST v2/pay/refundqueryv2": query_v2,
}
