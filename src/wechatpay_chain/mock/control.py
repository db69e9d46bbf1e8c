"""The sandbox's control routes, for a mock in another process (``wechatpay mock pay ...``).

``POST /_sandbox/<action>`` with a JSON object of keywords calls the ``MockPlatform``
method of that name and answers the result as JSON (400 with ``{"error": ...}`` for an
unknown id or a move the state machine refuses). Only the actions below exist; the routes
are served on 127.0.0.1 like the rest of the mock and are no part of the platform's API.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

__all__ = ["ACTIONS", "CONTROL_PREFIX", "control_handler"]

CONTROL_PREFIX = "/_sandbox/"
# action -> (method name, the keywords it takes)
ACTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "pay": ("pay", ("out_trade_no", "payer", "bank_type", "mchid")),
    "fail-payment": ("fail_payment", ("out_trade_no", "mchid")),
    "complete-refund": ("complete_refund", ("out_refund_no", "mchid")),
    "fail-refund": ("fail_refund", ("out_refund_no", "mchid")),
    "close-refund": ("close_refund", ("out_refund_no", "mchid")),
    "advance": ("advance", ("seconds",)),
    "order": ("order", ("out_trade_no", "mchid")),
    "refund": ("refund", ("out_refund_no", "mchid")),
    "pay-combined": ("pay_combined", ("combine_out_trade_no", "payer")),
    "combined-order": ("combined_order", ("combine_out_trade_no",)),
    "confirm-transfer": ("confirm_transfer", ("out_bill_no", "mchid")),
    "complete-transfer": ("complete_transfer", ("number", "fail", "mchid")),
    "close-transfer": ("close_transfer", ("number", "reason", "mchid")),
    "transfer": ("transfer", ("number", "mchid")),
}


def _public(value: Any) -> Any:
    """A stored object without its internal (``_``) fields."""
    if isinstance(value, dict):
        return {name: item for name, item in value.items() if not str(name).startswith("_")}
    return value


def control_handler(platform: object) -> Any:
    """The route's handler; ``platform``'s methods (``SandboxDriving``) are looked up by action name."""

    async def handle(request: web.Request) -> web.Response:
        action = request.match_info["action"]
        if action not in ACTIONS or request.method != "POST":
            return web.json_response({"error": f"no such action: {request.method} {action}"}, status=404)
        name, allowed = ACTIONS[action]
        try:
            given = json.loads(await request.read() or b"{}")
        except ValueError:
            return web.json_response({"error": "the body is not JSON"}, status=400)
        if not isinstance(given, dict) or set(given) - set(allowed):
            return web.json_response({"error": f"{action} takes {', '.join(allowed)}"}, status=400)
        first, *_rest = allowed
        keywords = {key: value for key, value in given.items() if key != first}
        try:
            result = getattr(platform, name)(given.get(first), **keywords)
        except (LookupError, ValueError, TypeError) as refused:
            return web.json_response({"error": str(refused)}, status=400)
        return web.json_response({"result": _public(result)})

    return handle
