"""The mock delivers notifications: signed, encrypted POSTs to a webhook URL of yours."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import aiohttp

from ..v3.notifications import build_notification

if TYPE_CHECKING:
    from .platform import MockPlatform

__all__ = ["deliver"]


async def deliver(
    platform: MockPlatform,
    url: str,
    event_type: str,
    resource: Mapping[str, Any],
    *,
    probe: bool = False,
    timeout: float = 10.0,
    **options: Any,
) -> tuple[int, bytes]:
    """POST one notification to ``url``; return the webhook's (status, body)."""
    headers, body = build_notification(
        event_type,
        resource,
        apiv3_key=platform.apiv3_key,
        platform_key=platform.platform_key,
        serial=platform.signing_serial,
        now=platform.clock,
        signature_probe=probe,
        **options,
    )
    headers = {**headers, "Content-Type": "application/json", "User-Agent": "Mozilla/4.0 (wechatpay-chain mock)"}
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session,
        session.post(url, data=body, headers=headers) as answer,
    ):
        return answer.status, await answer.read()
