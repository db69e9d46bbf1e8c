"""The sandbox: the mock platform's memory, its business tables and its notifications.

The platform hands a request here once it passed the signature and spec checks and no
test handler claimed it. One table per business area (``orders.ORDERS``,
``refunds.REFUNDS``, ...) maps the spec key to a rule; the rule's view of the object is
shaped by the operation's response schema (v3) or answered as v2 fields. Operations no
table names keep the catalogue's example answers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from ..v2.codec import encode_xml
from ..v2.messages import sign_v2_answer
from ..v2.notifications import encrypt_req_info
from ..v2.signing import MD5
from ..v3.protocol import new_nonce
from . import transfer_batches, transfers
from .calls import MockAnswer, MockCall
from .combine import COMBINED
from .orders import ORDERS, expire_order, v2_view
from .profitsharing import PROFIT_SHARING
from .refunds import REFUNDS, settle_refund, v2_refund_view
from .rules import Ask, SandboxPlatform, Table
from .shapes import shaped
from .state import Refusal, SandboxState
from .webhooks import Webhooks

if TYPE_CHECKING:
    from ..catalog.specs import Operation

__all__ = ["RULES", "Sandbox", "SandboxPlatform"]

RULES: Table = {
    **ORDERS,
    **COMBINED,
    **REFUNDS,
    **PROFIT_SHARING,
    **transfers.TRANSFER_BILLS,
    **transfer_batches.TRANSFER_BATCHES,
}
_V2_REFUND_STATUS = {"SUCCESS": "SUCCESS", "ABNORMAL": "CHANGE", "CLOSED": "REFUNDCLOSE"}
_NOT_NOTIFIED = ("prepay_id", "trade_state", "trade_state_desc", "code_url", "mweb_url")


class Sandbox:
    def __init__(self, platform: SandboxPlatform) -> None:
        self.platform = platform
        self.state = SandboxState(platform.clock)
        self.rules: Table = dict(RULES)
        self.webhooks = Webhooks(platform, self.state.now)
        # Sandbox seconds until a refund succeeds by itself; None: it waits for the test.
        self.refund_delay: float | None = 0.0
        self.profit_sharing_delay: float | None = 0.0  # the same, for profit sharing and its returns
        self.transfer_delay: float | None = 0.0  # the same, for transfer batches (bills wait for the user)
        self.refund_notify_url: str | None = None  # the merchant platform's configured address
        self.rate_limits: dict[str, int] = {}  # "METHOD key" or "*" -> answers per second
        self._rates: Counter[tuple[str, int]] = Counter()

    def load(self, path: str) -> None:
        """Read a state file and re-arm what waits for the clock (expiries, refunds settling)."""
        if not self.state.load(path):
            return
        with self.state.lock:
            for order in self.state.every("orders"):
                if order["trade_state"] == "NOTPAY":
                    self.state.at(order["_expires"], partial(expire_order, self, order))
            for record in self.state.every("refunds"):
                if record["status"] == "PROCESSING" and self.refund_delay is not None:
                    due = record["_created"] + self.refund_delay
                    self.state.at(due, partial(settle_refund, self, record, "SUCCESS", quiet=True))
            transfers.rearm(self)
            transfer_batches.rearm(self)

    def handles(self, method: str, key: str | None) -> bool:
        return f"{method} {key}" in self.rules

    # -- answering ---------------------------------------------------------------------------------
    def _run(self, protocol: str, call: MockCall, fields: dict[str, Any]) -> dict[str, Any] | None:
        rule = self.rules[f"{call.method} {call.key}"]
        self.state.run_due()  # what the clock has brought about is visible to this request
        with self.state.lock:
            return rule(self, Ask(protocol, str(call.key), fields, str(call.mchid or self.platform.mchid)))

    def answer_v3(self, call: MockCall, operation: Operation | None) -> MockAnswer:
        body = call.json if isinstance(call.json, dict) else {}
        try:
            view = self._run("v3", call, {**call.query, **call.path_values, **body})
        except Refusal as refusal:
            return MockAnswer(refusal.status, {"code": refusal.code, "message": refusal.message})
        if view is None or operation is None:
            return MockAnswer(204, None)
        status = int(operation.spec.get("response_status") or 200)
        return MockAnswer(status, shaped(operation.schema("response"), view))

    def answer_v2(self, call: MockCall, fields: dict[str, str]) -> dict[str, Any]:
        try:
            view = self._run("v2", call, dict(fields))
        except Refusal as refusal:
            return {
                "return_code": "SUCCESS",
                "result_code": "FAIL",
                "err_code": refusal.v2_code,
                "err_code_des": refusal.message,
            }
        answer = {"return_code": "SUCCESS", "return_msg": "OK", "result_code": "SUCCESS"}
        answer.update({name: value for name, value in (view or {}).items() if value is not None})
        return answer

    def rate_limited(self, method: str, key: str | None) -> bool:
        """True when this call goes over a limit a test set (``platform.rate_limit``)."""
        if not self.rate_limits:
            return False
        second = int(self.platform.clock())
        for name in (f"{method} {key}", "*"):
            limit = self.rate_limits.get(name)
            if limit is not None:
                self._rates[(name, second)] += 1
                if self._rates[(name, second)] > limit:
                    return True
        return False

    # -- notifications -----------------------------------------------------------------------------------
    def _schema(self, key: str, method: str = "GET") -> Mapping[str, Any] | None:
        operation = self.platform.catalog.operation(key, method)
        return operation.schema("response") if operation is not None else None

    def notify_order(self, order: dict[str, Any]) -> None:
        url = order.get("notify_url")
        if not url:
            return
        if order["_protocol"] == "v3":
            resource = shaped(self._schema(order["_query_key"]), order)
            self.webhooks.send_v3(url, "TRANSACTION.SUCCESS", resource, "transaction")
            return
        fields = {name: value for name, value in v2_view(order).items() if name not in _NOT_NOTIFIED}
        fields.update(return_code="SUCCESS", result_code="SUCCESS", nonce_str=new_nonce())
        body = sign_v2_answer(fields, self.platform.secret, MD5)
        self.webhooks.send_v2(url, "TRANSACTION.SUCCESS", fields, body)

    def notify_refund(self, record: dict[str, Any], event_type: str) -> None:
        url = record.get("notify_url") or self.refund_notify_url
        if not url:
            return
        money = record["amount"]
        if record["_protocol"] == "v3":
            resource = {
                name: record.get(name)
                for name in ("mchid", "sub_mchid", "out_trade_no", "transaction_id", "out_refund_no", "refund_id")
                if record.get(name)
            }
            resource.update(refund_status=record["status"], user_received_account=record["user_received_account"])
            if record.get("success_time"):
                resource["success_time"] = record["success_time"]
            resource["amount"] = {name: money[name] for name in ("total", "refund", "payer_total", "payer_refund")}
            self.webhooks.send_v3(url, event_type, resource, "refund")
            return
        order = self.state.get("orders", record["_order"]) or {}
        secret = self.platform.secret
        inner = {
            **v2_refund_view(record),
            "refund_status": _V2_REFUND_STATUS[record["status"]],
            "refund_recv_accout": record["user_received_account"],
            "refund_account": "REFUND_SOURCE_UNSETTLED_FUNDS",
            "refund_request_source": "API",
        }
        if record.get("success_time"):
            inner["success_time"] = record["success_time"][:19].replace("T", " ")
        envelope = {
            "return_code": "SUCCESS",
            "appid": order.get("appid", ""),
            "mch_id": order.get("mchid", self.platform.mchid),
            "nonce_str": new_nonce(),
            "req_info": encrypt_req_info(inner, secret),
        }
        body = encode_xml(envelope, cdata=list(envelope))
        self.webhooks.send_v2(url, event_type, inner, body)
