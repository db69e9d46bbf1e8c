"""Transfer bills in the sandbox (商家转账, ``v3/fund-app/mch-transfer/transfer-bills``).

WAIT_USER_CONFIRM (the answer to the create call, with the ``package_info`` the merchant
hands to the user's confirm page) -> TRANSFERING (``platform.confirm_transfer``: the user
confirmed) -> SUCCESS | FAIL with ``fail_reason`` (``platform.complete_transfer``).
Before the user confirms: the merchant's cancel -> CANCELING -> CANCELLED (``MCH_CANCEL``),
and 24 hours without confirmation -> CANCELLED (``OVERDUE_CLOSE``) on the sandbox clock.
Each end (SUCCESS, FAIL, CANCELLED) is notified as ``MCHTRANSFER.BILL.FINISHED`` to the
bill's ``notify_url``. The platform's rules: a reused ``out_bill_no`` must carry the same
transfer (then the same bill is answered), an unknown number is 404 ``NOT_FOUND``.
"""

from __future__ import annotations

import base64
import secrets
from functools import partial
from typing import Any

from ..trust.crypto import oaep_decrypt, oaep_encrypt
from .rules import Ask, Business, Table, amount
from .state import Refusal, v3_time

__all__ = [
    "CONFIRM_WINDOW",
    "TRANSFER_BILLS",
    "close_unconfirmed",
    "complete",
    "confirm",
    "find_bill",
    "finish",
    "rearm",
]

CONFIRM_WINDOW = 24 * 3600  # the user has a day to confirm, then the bill is closed
ENDS = ("SUCCESS", "FAIL", "CANCELLED")
EVENT = "MCHTRANSFER.BILL.FINISHED"
NOT_FOUND = Refusal(404, "NOT_FOUND", "记录不存在")
_IDENTITY = ("appid", "openid", "transfer_amount", "transfer_remark", "transfer_scene_id")
_ROOT = "v3/fund-app/mch-transfer/transfer-bills"


def find_bill(sandbox: Business, owner: str | None, **ids: Any) -> dict[str, Any]:
    """The bill named by ``out_bill_no`` or ``transfer_bill_no`` (``owner`` None: any merchant's)."""
    wanted = {name: str(value) for name, value in ids.items() if value}
    for bill in sandbox.state.every("transfer_bills"):
        if (owner is None or bill["mch_id"] == owner) and any(bill.get(k) == v for k, v in wanted.items()):
            return bill
    raise NOT_FOUND


def _for_merchant(sandbox: Business, ciphertext: Any) -> Any:
    """``user_name`` as the platform answers it: re-encrypted with the merchant's public key."""
    platform = sandbox.platform
    try:
        clear = oaep_decrypt(platform.platform_key, str(ciphertext))
    except (ValueError, TypeError):
        return ciphertext  # not encrypted for the platform: echoed as sent
    return oaep_encrypt(platform.merchant_key.public_key(), clear)


def _move(sandbox: Business, bill: dict[str, Any], state: str, fail_reason: str | None = None) -> None:
    bill["state"] = state
    bill["update_time"] = v3_time(sandbox.state.now())
    if fail_reason:
        bill["fail_reason"] = fail_reason
    if state in ENDS:
        bill.pop("package_info", None)


def _notify(sandbox: Business, bill: dict[str, Any]) -> None:
    url = bill.get("notify_url")
    if not url:
        return
    fields = ("out_bill_no", "transfer_bill_no", "state", "mch_id", "transfer_amount", "openid", "fail_reason")
    resource = {name: bill[name] for name in fields if bill.get(name) is not None}
    resource.update(create_time=bill["create_time"], update_time=bill["update_time"])
    sandbox.webhooks.send_v3(url, EVENT, resource, "mch_payment")


def finish(sandbox: Business, bill: dict[str, Any], state: str, fail_reason: str | None = None) -> dict[str, Any]:
    """An end (SUCCESS, FAIL, CANCELLED) and its notification; ValueError once the bill has ended."""
    with sandbox.state.lock:
        if bill["state"] in ENDS:
            raise ValueError(f"transfer bill {bill['out_bill_no']} is {bill['state']}: it has ended")
        _move(sandbox, bill, state, fail_reason)
    _notify(sandbox, bill)
    return bill


def confirm(sandbox: Business, bill: dict[str, Any]) -> dict[str, Any]:
    """The user confirms on the receiving page: WAIT_USER_CONFIRM -> TRANSFERING."""
    with sandbox.state.lock:
        if bill["state"] != "WAIT_USER_CONFIRM":
            raise ValueError(f"transfer bill {bill['out_bill_no']} is {bill['state']}, not WAIT_USER_CONFIRM")
        _move(sandbox, bill, "TRANSFERING")
    return bill


def complete(sandbox: Business, bill: dict[str, Any], fail_reason: str | None = None) -> dict[str, Any]:
    """The money arrives (SUCCESS) or not (FAIL, ``fail_reason``); an unconfirmed bill counts as confirmed."""
    if bill["state"] not in ("ACCEPTED", "WAIT_USER_CONFIRM", "TRANSFERING"):
        raise ValueError(f"transfer bill {bill['out_bill_no']} is {bill['state']}: it cannot be completed")
    return finish(sandbox, bill, "FAIL" if fail_reason else "SUCCESS", fail_reason)


def close_unconfirmed(sandbox: Business, bill: dict[str, Any]) -> dict[str, Any]:
    """The user never confirms: CANCELLED with ``OVERDUE_CLOSE``, as the day's end would do."""
    if bill["state"] not in ("ACCEPTED", "WAIT_USER_CONFIRM"):
        raise ValueError(f"transfer bill {bill['out_bill_no']} is {bill['state']}, not waiting for the user")
    return finish(sandbox, bill, "CANCELLED", "OVERDUE_CLOSE")


def _overdue(sandbox: Business, bill: dict[str, Any]) -> None:
    with sandbox.state.lock:
        waiting = bill["state"] in ("ACCEPTED", "WAIT_USER_CONFIRM")
    if waiting:
        finish(sandbox, bill, "CANCELLED", "OVERDUE_CLOSE")


def _cancelled(sandbox: Business, bill: dict[str, Any]) -> None:
    with sandbox.state.lock:
        canceling = bill["state"] == "CANCELING"
    if canceling:
        finish(sandbox, bill, "CANCELLED", "MCH_CANCEL")


def rearm(sandbox: Business) -> None:
    """After a state file is read: the timers of bills still waiting for the clock."""
    for bill in sandbox.state.every("transfer_bills"):
        if bill["state"] in ("ACCEPTED", "WAIT_USER_CONFIRM"):
            sandbox.state.at(bill["_created"] + CONFIRM_WINDOW, partial(_overdue, sandbox, bill))
        elif bill["state"] == "CANCELING":
            sandbox.state.at(sandbox.state.now(), partial(_cancelled, sandbox, bill))


# -- the merchant's operations ----------------------------------------------------------------------
def create(sandbox: Business, ask: Ask) -> dict[str, Any]:
    state = sandbox.state
    owner = ask.owner()
    out_bill_no = str(ask.get("out_bill_no"))
    wanted = {name: ask.get(name) for name in _IDENTITY}
    wanted["transfer_amount"] = amount(wanted["transfer_amount"])
    existing = state.get("transfer_bills", f"{owner}/{out_bill_no}")
    if existing is not None:
        if any(existing.get(name) != value for name, value in wanted.items()):
            raise Refusal(400, "INVALID_REQUEST", "商户单号重复，且与原单据参数不一致")
        return existing
    if wanted["transfer_amount"] <= 0:
        raise Refusal(400, "PARAM_ERROR", "转账金额必须大于0")
    now = state.now()
    bill = {
        **wanted,
        "mch_id": owner,
        "out_bill_no": out_bill_no,
        "transfer_bill_no": state.platform_number("1330000071", 40),
        "state": "WAIT_USER_CONFIRM",
        "user_name": _for_merchant(sandbox, ask.get("user_name")) if ask.get("user_name") else None,
        "notify_url": ask.get("notify_url"),
        "package_info": base64.b64encode(secrets.token_bytes(48)).decode("ascii"),
        "create_time": v3_time(now),
        "update_time": v3_time(now),
        "_created": now,
    }
    state.put("transfer_bills", f"{owner}/{out_bill_no}", bill)
    state.at(now + CONFIRM_WINDOW, lambda: _overdue(sandbox, bill))
    return bill


def query(sandbox: Business, ask: Ask) -> dict[str, Any]:
    return find_bill(
        sandbox, ask.owner(), out_bill_no=ask.get("out_bill_no"), transfer_bill_no=ask.get("transfer_bill_no")
    )


def cancel(sandbox: Business, ask: Ask) -> dict[str, Any]:
    """Before the user confirmed: CANCELING now, CANCELLED (notified) a moment later."""
    bill = find_bill(sandbox, ask.owner(), out_bill_no=ask.get("out_bill_no"))
    if bill["state"] in ("CANCELING", "CANCELLED"):
        return bill
    if bill["state"] not in ("ACCEPTED", "WAIT_USER_CONFIRM"):
        raise Refusal(400, "INVALID_REQUEST", f"单据状态为{bill['state']}，不支持撤销")
    _move(sandbox, bill, "CANCELING")
    sandbox.state.at(sandbox.state.now(), lambda: _cancelled(sandbox, bill))
    return bill


TRANSFER_BILLS: Table = {
    f"POST {_ROOT}": create,
    f"GET {_ROOT}/out-bill-no/{{out_bill_no}}": query,
    f"GET {_ROOT}/transfer-bill-no/{{transfer_bill_no}}": query,
    f"POST {_ROOT}/out-bill-no/{{out_bill_no}}/cancel": cancel,
}
