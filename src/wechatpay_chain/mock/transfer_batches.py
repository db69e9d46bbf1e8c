"""Transfer batches in the sandbox (批量转账到零钱, ``v3/transfer/batches``).

Batch: ACCEPTED -> PROCESSING (at once) -> FINISHED, by itself ``platform.transfer_delay``
sandbox seconds after it was accepted (every detail SUCCESS) or when the test says how it
ended (``platform.complete_transfer(out_batch_no, fail=...)``); ACCEPTED/PROCESSING ->
CLOSED (``platform.close_transfer``: ``close_reason`` OVERDUE_CLOSE or MERCHANT_REVOCATION).
Detail: INIT -> PROCESSING -> SUCCESS | FAIL (with ``fail_reason``). FINISHED and CLOSED are
notified (``MCHTRANSFER.BATCH.FINISHED`` / ``.CLOSED``) when the batch has a ``notify_url``.
The platform's rules: ``total_amount`` is the sum of the details and ``total_num`` their
count, ``out_detail_no`` is unique in the batch, a reused ``out_batch_no`` must carry the same
batch (then the same batch is answered); an unknown number is 404 ``NOT_FOUND``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .rules import Ask, Business, Table, amount
from .state import Refusal, v3_time

__all__ = ["TRANSFER_BATCHES", "close_batch", "find_batch", "finish_batch", "rearm"]

NOT_FOUND = Refusal(404, "NOT_FOUND", "记录不存在")
OPEN = ("ACCEPTED", "PROCESSING")
_ROOT = "v3/transfer/batches"
_BATCH_FIELDS = ("appid", "batch_name", "batch_remark", "total_amount", "total_num", "transfer_scene_id")


def find_batch(sandbox: Business, owner: str | None, **ids: Any) -> dict[str, Any]:
    wanted = {name: str(value) for name, value in ids.items() if value}
    for batch in sandbox.state.every("transfers"):
        if (owner is None or batch["mchid"] == owner) and any(batch.get(k) == v for k, v in wanted.items()):
            return batch
    raise NOT_FOUND


def _touch(sandbox: Business, batch: dict[str, Any], status: str) -> str:
    now = v3_time(sandbox.state.now())
    batch["batch_status"], batch["update_time"] = status, now
    return now


def _start(sandbox: Business, batch: dict[str, Any]) -> None:
    with sandbox.state.lock:
        if batch["batch_status"] == "ACCEPTED":
            now = _touch(sandbox, batch, "PROCESSING")
            for detail in batch["_details"]:
                detail.update(detail_status="PROCESSING", update_time=now)


def _notify(sandbox: Business, batch: dict[str, Any], event_type: str) -> None:
    url = batch.get("notify_url")
    if not url:
        return
    fields = ("mchid", "out_batch_no", "batch_id", "batch_status", "total_num", "total_amount", "close_reason")
    resource = {name: batch[name] for name in fields if batch.get(name) is not None}
    resource.update({name: batch[name] for name in ("success_amount", "success_num", "fail_amount", "fail_num")})
    resource["update_time"] = batch["update_time"]
    sandbox.webhooks.send_v3(url, event_type, resource, "mch_payment")


def finish_batch(
    sandbox: Business, batch: dict[str, Any], fail: str | Mapping[str, str] | None = None, *, quiet: bool = False
) -> dict[str, Any]:
    """Every open detail ends (FAIL with its reason where ``fail`` says so), the batch FINISHED."""
    with sandbox.state.lock:
        if batch["batch_status"] not in OPEN:
            if quiet:
                return batch
            raise ValueError(f"transfer batch {batch['out_batch_no']} is {batch['batch_status']}: it has ended")
        _start(sandbox, batch)
        reasons = fail if isinstance(fail, Mapping) else {}
        unknown = set(reasons) - {detail["out_detail_no"] for detail in batch["_details"]}
        if unknown:
            raise LookupError(f"no detail {sorted(unknown)} in transfer batch {batch['out_batch_no']}")
        now = _touch(sandbox, batch, "FINISHED")
        for detail in batch["_details"]:
            reason = reasons.get(detail["out_detail_no"]) or (fail if isinstance(fail, str) else None)
            detail.update(detail_status="FAIL" if reason else "SUCCESS", update_time=now)
            if reason:
                detail["fail_reason"] = reason
        for end in ("SUCCESS", "FAIL"):
            done = [d["transfer_amount"] for d in batch["_details"] if d["detail_status"] == end]
            batch[f"{end.lower()}_amount"], batch[f"{end.lower()}_num"] = sum(done), len(done)
    _notify(sandbox, batch, "MCHTRANSFER.BATCH.FINISHED")
    return batch


def close_batch(sandbox: Business, batch: dict[str, Any], reason: str = "OVERDUE_CLOSE") -> dict[str, Any]:
    """The batch closes before any money moved: every detail FAIL, ``close_reason`` set."""
    with sandbox.state.lock:
        if batch["batch_status"] not in OPEN:
            raise ValueError(f"transfer batch {batch['out_batch_no']} is {batch['batch_status']}: it has ended")
        now = _touch(sandbox, batch, "CLOSED")
        batch["close_reason"] = reason
        for detail in batch["_details"]:
            detail.update(detail_status="FAIL", update_time=now)
            if reason == "OVERDUE_CLOSE":
                detail["fail_reason"] = reason
        batch.update(fail_amount=batch["total_amount"], fail_num=batch["total_num"])
    _notify(sandbox, batch, "MCHTRANSFER.BATCH.CLOSED")
    return batch


def _arm(sandbox: Business, batch: dict[str, Any]) -> None:
    state = sandbox.state
    state.at(state.now(), lambda: _start(sandbox, batch))
    if sandbox.transfer_delay is not None:
        due = batch["_created"] + sandbox.transfer_delay
        state.at(due, lambda: finish_batch(sandbox, batch, quiet=True))


def rearm(sandbox: Business) -> None:
    """After a state file is read: the timers of batches still open."""
    for batch in sandbox.state.every("transfers"):
        if batch["batch_status"] in OPEN:
            _arm(sandbox, batch)


# -- the merchant's operations ----------------------------------------------------------------------
def _identity(fields: Mapping[str, Any]) -> list[Any]:
    details = [
        [item.get("out_detail_no"), amount(item.get("transfer_amount")), item.get("openid")]
        for item in fields.get("transfer_detail_list") or []
    ]
    return [*(fields.get(name) for name in _BATCH_FIELDS), details]


def create(sandbox: Business, ask: Ask) -> dict[str, Any]:
    state = sandbox.state
    owner = ask.owner()
    out_batch_no = str(ask.get("out_batch_no"))
    existing = state.get("transfers", f"{owner}/{out_batch_no}")
    if existing is not None:
        if existing["_identity"] != _identity(ask.fields):
            raise Refusal(400, "INVALID_REQUEST", "商家批次单号重复，且与原批次参数不一致")
        return existing
    items = list(ask.get("transfer_detail_list") or [])
    amounts = [amount(item.get("transfer_amount")) for item in items]
    if amount(ask.get("total_num")) != len(items):
        raise Refusal(400, "PARAM_ERROR", f"total_num 与明细笔数不一致：{ask.get('total_num')} ≠ {len(items)}")
    if amount(ask.get("total_amount")) != sum(amounts):
        raise Refusal(
            400, "PARAM_ERROR", f"total_amount 与明细金额之和不一致：{ask.get('total_amount')} ≠ {sum(amounts)}"
        )
    if len({item.get("out_detail_no") for item in items}) != len(items):
        raise Refusal(400, "PARAM_ERROR", "同一批次内 out_detail_no 重复")
    if any(value <= 0 for value in amounts):
        raise Refusal(400, "PARAM_ERROR", "转账金额必须大于0")
    now = state.now()
    stamp = v3_time(now)
    batch_id = state.platform_number("1030000071", 40)
    batch: dict[str, Any] = {name: ask.get(name) for name in _BATCH_FIELDS}
    batch.update(
        mchid=owner,
        out_batch_no=out_batch_no,
        batch_id=batch_id,
        batch_status="ACCEPTED",
        batch_type="API",
        create_time=stamp,
        update_time=stamp,
        success_amount=0,
        success_num=0,
        fail_amount=0,
        fail_num=0,
        notify_url=ask.get("notify_url"),
        _identity=_identity(ask.fields),
        _created=now,
        _details=[
            {
                "mchid": owner,
                "out_batch_no": out_batch_no,
                "batch_id": batch_id,
                "appid": ask.get("appid"),
                "out_detail_no": item.get("out_detail_no"),
                "detail_id": state.platform_number("1040000071", 40),
                "detail_status": "INIT",
                "transfer_amount": value,
                "transfer_remark": item.get("transfer_remark"),
                "openid": item.get("openid"),
                "user_name": item.get("user_name"),
                "initiate_time": stamp,
                "update_time": stamp,
            }
            for item, value in zip(items, amounts, strict=True)
        ],
    )
    state.put("transfers", f"{owner}/{out_batch_no}", batch)
    _arm(sandbox, batch)
    return batch


def _truthy(value: Any) -> bool:
    return str(value).lower() in ("true", "1")


def query_batch(sandbox: Business, ask: Ask) -> dict[str, Any]:
    batch = find_batch(sandbox, ask.owner(), batch_id=ask.get("batch_id"), out_batch_no=ask.get("out_batch_no"))
    answer: dict[str, Any] = {"transfer_batch": batch}
    if _truthy(ask.get("need_query_detail")):
        status = str(ask.get("detail_status") or "ALL")
        details = [d for d in batch["_details"] if status == "ALL" or d["detail_status"] == status]
        offset, limit = amount(ask.get("offset")), amount(ask.get("limit")) or 20
        answer["transfer_detail_list"] = details[offset : offset + limit]
    return answer


def query_detail(sandbox: Business, ask: Ask) -> dict[str, Any]:
    batch = find_batch(sandbox, ask.owner(), batch_id=ask.get("batch_id"), out_batch_no=ask.get("out_batch_no"))
    for detail in batch["_details"]:
        if detail["detail_id"] == ask.get("detail_id") or detail["out_detail_no"] == ask.get("out_detail_no"):
            return dict(detail)
    raise NOT_FOUND


TRANSFER_BATCHES: Table = {
    f"POST {_ROOT}": create,
    f"GET {_ROOT}/batch-id/{{batch_id}}": query_batch,
    f"GET {_ROOT}/out-batch-no/{{out_batch_no}}": query_batch,
    f"GET {_ROOT}/batch-id/{{batch_id}}/details/detail-id/{{detail_id}}": query_detail,
    f"GET {_ROOT}/out-batch-no/{{out_batch_no}}/details/out-detail-no/{{out_detail_no}}": query_detail,
}
