"""The sandbox's trade bill: the day's payments and refunds in the platform's CSV format.

As the platform writes it: a header line, one line per payment (on the day it succeeded)
and per refund (on the day it was accepted), every value after a backquote so that Excel
keeps long numbers whole, then a summary header and the summary line. Amounts are yuan
with two decimals. ``bill_type`` ALL has both kinds, SUCCESS the payments, REFUND the refunds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from .bills import Bill, BillShelf, register
from .calls import MockCall
from .state import CHINA, SandboxState

if TYPE_CHECKING:
    from .sandbox import Sandbox

__all__ = ["HEADER", "SUMMARY_HEADER", "trade_bill", "tradebill_handler"]

HEADER = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,"
    "货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,"
    "商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注"
)
SUMMARY_HEADER = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"
FEE_RATE = 0.006  # the sandbox charges the common 0.6%


def _yuan(fen: float) -> str:
    return f"{fen / 100:.2f}"


def _day(moment: float) -> str:
    return datetime.fromtimestamp(moment, CHINA).strftime("%Y-%m-%d")


def _clock(moment: float) -> str:
    return datetime.fromtimestamp(moment, CHINA).strftime("%Y-%m-%d %H:%M:%S")


def _line(values: Iterable[Any]) -> str:
    return ",".join(f"`{'' if value is None else value}" for value in values)


def trade_bill(state: SandboxState, owner: str, bill_date: str, bill_type: str = "ALL") -> bytes:
    """The bill of ``owner`` (a mchid) for ``bill_date`` (``2026-11-24`` or ``20261124``)."""
    day = bill_date if "-" in bill_date else f"{bill_date[:4]}-{bill_date[4:6]}-{bill_date[6:8]}"
    lines = [HEADER]
    settled = refunded = fees = ordered = asked = 0.0
    with state.lock:
        orders = {f"{o['_owner']}/{o['out_trade_no']}": o for o in state.every("orders") if o["_owner"] == owner}
        paid = [o for o in orders.values() if o.get("_paid") is not None and _day(o["_paid"]) == day]
        refunds = [r for r in state.every("refunds") if r["_owner"] == owner and _day(r["_created"]) == day]
        if bill_type in ("ALL", "SUCCESS"):
            for order in sorted(paid, key=lambda o: o["_paid"]):
                total = order["amount"]["total"]
                fee = round(total * FEE_RATE)
                settled, fees, ordered = settled + total, fees + fee, ordered + total
                lines.append(_payment_line(order, total, fee))
        if bill_type in ("ALL", "REFUND"):
            for refund in sorted(refunds, key=lambda r: r["_created"]):
                order = orders.get(refund["_order"], {})
                amount = refund["amount"]["refund"]
                fee = round(amount * FEE_RATE)
                refunded, fees, asked = refunded + amount, fees - fee, asked + amount
                lines.append(_refund_line(order, refund, amount, fee))
    count = len(lines) - 1
    lines.append(SUMMARY_HEADER)
    lines.append(_line([count, _yuan(settled), _yuan(refunded), "0.00", _yuan(fees), _yuan(ordered), _yuan(asked)]))
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def _common(order: dict[str, Any]) -> list[Any]:
    return [
        order.get("appid") or order.get("sp_appid"),
        order.get("mchid") or order.get("sp_mchid"),
        order.get("sub_mchid") or "0",
        "",
        order.get("transaction_id"),
        order.get("out_trade_no"),
        (order.get("payer") or {}).get("openid") or (order.get("payer") or {}).get("sp_openid"),
        order.get("trade_type"),
    ]


def _payment_line(order: dict[str, Any], total: int, fee: int) -> str:
    head = [_clock(order["_paid"]), *_common(order), "SUCCESS", order.get("bank_type")]
    money = [order["amount"].get("currency", "CNY"), _yuan(total), "0.00"]
    no_refund = ["0", "0", "0.00", "0.00", "", ""]
    tail = [order.get("description"), order.get("attach"), _yuan(fee), "0.60%", _yuan(total), "0.00", ""]
    return _line(head + money + no_refund + tail)


def _refund_line(order: dict[str, Any], refund: dict[str, Any], amount: int, fee: int) -> str:
    head = [_clock(refund["_created"]), *_common(order), "REFUND", order.get("bank_type")]
    money = [refund["amount"]["currency"], "0.00", "0.00"]
    refunded = [refund["refund_id"], refund["out_refund_no"], _yuan(amount), "0.00", "ORIGINAL", refund["status"]]
    tail = [order.get("description"), order.get("attach"), _yuan(-fee), "0.60%", "0.00", _yuan(amount), ""]
    return _line(head + money + refunded + tail)


class TradeBillPlatform(BillShelf, Protocol):
    """Whose sandbox the trade bill is read from."""

    mchid: str
    sandbox: Sandbox


def tradebill_handler(platform: TradeBillPlatform) -> Callable[[MockCall], dict[str, Any]]:
    """``GET v3/bill/tradebill`` in the sandbox: the bill of the asked day, from the state."""

    def answer(call: MockCall) -> dict[str, Any]:
        owner = call.query.get("sub_mchid") or call.mchid or platform.mchid
        query = call.query
        bill = trade_bill(platform.sandbox.state, owner, query.get("bill_date", ""), query.get("bill_type", "ALL"))
        return register(platform, Bill(lambda: [bill], gzip=query.get("tar_type") == "GZIP"))

    return answer
