"""What a test makes happen that a merchant cannot cause over the API (``MockPlatform`` methods).

    mock.pay("T1001", payer="oUpF8...")             # the payer pays: SUCCESS, then the notification
    delivery = mock.expect_notification("TRANSACTION.SUCCESS", out_trade_no="T1001")
    mock.fail_refund("R1001")                        # PROCESSING -> ABNORMAL, notified
    mock.advance(7200)                               # two hours later: unpaid orders expire
    mock.pay_combined("C1001")                       # every sub-order paid, one combine notification
    mock.confirm_transfer("B1001"); mock.complete_transfer("B1001")   # a transfer bill: SUCCESS, notified
    mock.complete_transfer("PB1001", fail={"D2": "ACCOUNT_FROZEN"})   # a transfer batch: FINISHED

Every method takes the merchant's own ids and raises ``LookupError`` for an unknown one and
``ValueError`` for a move the state machine does not allow (paying a closed order).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import combine, orders, refunds, transfer_batches, transfers
from .state import Refusal
from .webhooks import Delivery

if TYPE_CHECKING:
    from .sandbox import Sandbox

__all__ = ["SandboxDriving"]


class SandboxDriving:
    """Mixed into ``MockPlatform``: the test's side of the sandbox."""

    sandbox: Sandbox

    def _order(self, out_trade_no: str, mchid: str | None) -> dict[str, Any]:
        try:
            return orders.find_order(self.sandbox, mchid, out_trade_no=out_trade_no)
        except Refusal:
            raise LookupError(f"no order {out_trade_no!r} in the sandbox") from None

    def _refund(self, out_refund_no: str, mchid: str | None) -> dict[str, Any]:
        try:
            return refunds.find_refund(self.sandbox, mchid, out_refund_no=out_refund_no)
        except Refusal:
            raise LookupError(f"no refund {out_refund_no!r} in the sandbox") from None

    def _combined(self, combine_out_trade_no: str) -> dict[str, Any]:
        try:
            return combine.find_combined(self.sandbox, combine_out_trade_no=combine_out_trade_no)
        except Refusal:
            raise LookupError(f"no combined order {combine_out_trade_no!r} in the sandbox") from None

    def _transfer(self, number: str, mchid: str | None) -> tuple[str, dict[str, Any]]:
        """("bill", the transfer bill) or ("batch", the transfer batch) this merchant's number names."""
        try:
            return "bill", transfers.find_bill(self.sandbox, mchid, out_bill_no=number)
        except Refusal:
            pass
        try:
            return "batch", transfer_batches.find_batch(self.sandbox, mchid, out_batch_no=number)
        except Refusal:
            raise LookupError(f"no transfer bill or batch {number!r} in the sandbox") from None

    def order(self, out_trade_no: str, *, mchid: str | None = None) -> dict[str, Any]:
        """The stored order (its v3 fields; internal ones start with ``_``)."""
        return self._order(out_trade_no, mchid)

    def refund(self, out_refund_no: str, *, mchid: str | None = None) -> dict[str, Any]:
        return self._refund(out_refund_no, mchid)

    def pay(
        self, out_trade_no: str, *, payer: str | None = None, bank_type: str = "OTHERS", mchid: str | None = None
    ) -> dict[str, Any]:
        """The payer (an openid; a made-up one by default) pays the order; it is notified."""
        order = self._order(out_trade_no, mchid)
        if order.get("_combine"):
            raise ValueError(f"order {out_trade_no} is part of combined order {order['_combine']}: pay_combined it")
        return orders.pay(self.sandbox, order, payer=payer, bank_type=bank_type)

    def fail_payment(self, out_trade_no: str, *, mchid: str | None = None) -> dict[str, Any]:
        """The payment fails (PAYERROR); nothing is notified, as on the platform."""
        return orders.fail_payment(self.sandbox, self._order(out_trade_no, mchid))

    def complete_refund(self, out_refund_no: str, *, mchid: str | None = None) -> dict[str, Any]:
        """A PROCESSING refund succeeds now (with ``refund_delay=None`` refunds wait for this)."""
        return refunds.settle_refund(self.sandbox, self._refund(out_refund_no, mchid), "SUCCESS")

    def fail_refund(self, out_refund_no: str, *, mchid: str | None = None) -> dict[str, Any]:
        """A PROCESSING refund goes ABNORMAL (the payer's card is gone): REFUND.ABNORMAL is notified."""
        return refunds.settle_refund(self.sandbox, self._refund(out_refund_no, mchid), "ABNORMAL")

    def close_refund(self, out_refund_no: str, *, mchid: str | None = None) -> dict[str, Any]:
        return refunds.settle_refund(self.sandbox, self._refund(out_refund_no, mchid), "CLOSED")

    def combined_order(self, combine_out_trade_no: str) -> dict[str, Any]:
        """The combined order as its query answers it (its sub-orders read from the order book)."""
        return combine.combined_view(self.sandbox, self._combined(combine_out_trade_no))

    def pay_combined(self, combine_out_trade_no: str, *, payer: str | None = None) -> dict[str, Any]:
        """The payer pays every sub-order at once; TRANSACTION.SUCCESS with the combine fields is notified."""
        return combine.pay_combined(self.sandbox, self._combined(combine_out_trade_no), payer=payer)

    def transfer(self, number: str, *, mchid: str | None = None) -> dict[str, Any]:
        """The stored transfer bill (``out_bill_no``) or transfer batch (``out_batch_no``, details in ``_details``)."""
        return self._transfer(number, mchid)[1]

    def confirm_transfer(self, out_bill_no: str, *, mchid: str | None = None) -> dict[str, Any]:
        """The user confirms a transfer bill on the receiving page: WAIT_USER_CONFIRM -> TRANSFERING."""
        kind, record = self._transfer(out_bill_no, mchid)
        if kind != "bill":
            raise ValueError(f"{out_bill_no} is a transfer batch: its details need no confirmation")
        return transfers.confirm(self.sandbox, record)

    def complete_transfer(
        self, number: str, *, fail: str | dict[str, str] | None = None, mchid: str | None = None
    ) -> dict[str, Any]:
        """A transfer ends and is notified.

        A bill (``out_bill_no``): SUCCESS, or FAIL with ``fail`` as its ``fail_reason``.
        A batch (``out_batch_no``): FINISHED; its details SUCCESS, or FAIL where ``fail``
        says so (a reason for all of them, or ``{out_detail_no: reason}``).
        """
        kind, record = self._transfer(number, mchid)
        if kind == "bill":
            if fail is not None and not isinstance(fail, str):
                raise ValueError("a transfer bill fails with one reason (a string)")
            return transfers.complete(self.sandbox, record, fail)
        return transfer_batches.finish_batch(self.sandbox, record, fail)

    def close_transfer(self, number: str, *, reason: str = "OVERDUE_CLOSE", mchid: str | None = None) -> dict[str, Any]:
        """A bill the user never confirmed: CANCELLED (OVERDUE_CLOSE); a batch: CLOSED with ``close_reason``."""
        kind, record = self._transfer(number, mchid)
        if kind == "bill":
            return transfers.close_unconfirmed(self.sandbox, record)
        return transfer_batches.close_batch(self.sandbox, record, reason)

    @property
    def transfer_delay(self) -> float | None:
        """Sandbox seconds until a transfer batch finishes by itself (0: at once; None: it waits for the test)."""
        return self.sandbox.transfer_delay

    @transfer_delay.setter
    def transfer_delay(self, seconds: float | None) -> None:
        self.sandbox.transfer_delay = seconds

    @property
    def refund_delay(self) -> float | None:
        """Sandbox seconds until a refund succeeds by itself (0: right after it is accepted; None: never)."""
        return self.sandbox.refund_delay

    @refund_delay.setter
    def refund_delay(self, seconds: float | None) -> None:
        self.sandbox.refund_delay = seconds

    def advance(self, seconds: float) -> int:
        """Move the sandbox clock on: expiries and delayed refunds fall due; how many fired."""
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        with self.sandbox.state.lock:
            self.sandbox.state.offset += seconds
        return self.sandbox.state.run_due()

    def rate_limit(self, per_second: int | None, key: str = "*", method: str | None = None) -> None:
        """Answer 429 FREQUENCY_LIMITED above ``per_second`` calls (of ``METHOD key``, or of all); None lifts it."""
        name = "*" if key == "*" else f"{(method or 'POST').upper()} {key.strip('/')}"
        if per_second is None:
            self.sandbox.rate_limits.pop(name, None)
        else:
            self.sandbox.rate_limits[name] = per_second

    @property
    def deliveries(self) -> list[Delivery]:
        """Every notification sent, with each attempt and what the webhook answered."""
        return self.sandbox.webhooks.deliveries

    def expect_notification(self, event_type: str | None = None, *, timeout: float = 5.0, **match: Any) -> Delivery:
        """Wait until a notification like this was acknowledged (or its retries ran out); return it.

        ``match`` compares the notification's fields in clear: ``out_trade_no="T1001"``.
        Raises AssertionError, listing what was delivered, when none finishes in ``timeout``.
        """
        return self.sandbox.webhooks.wait(event_type, timeout=timeout, **match)

    async def expect_notification_async(
        self, event_type: str | None = None, *, timeout: float = 5.0, **match: Any
    ) -> Delivery:
        return await self.sandbox.webhooks.wait_async(event_type, timeout=timeout, **match)

    def save_state(self, path: str) -> None:
        """Write what the sandbox holds to ``path`` (JSON); ``MockPlatform(state_file=...)`` reads it back."""
        self.sandbox.state.save(path)
