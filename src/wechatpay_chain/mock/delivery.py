"""The mock delivers notifications: signed, encrypted POSTs to a webhook URL of yours."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

import aiohttp
from cryptography.hazmat.primitives.asymmetric import rsa

from ..v3.notifications import build_notification

__all__ = ["NotifyingPlatform", "deliver"]


class NotifyingPlatform(Protocol):
    """What signing and encrypting a notification needs of the platform."""

    apiv3_key: str
    platform_key: rsa.RSAPrivateKey
    clock: Callable[[], float]

    @property
    def signing_serial(self) -> str: ...


async def deliver(
    platform: NotifyingPlatform,
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
