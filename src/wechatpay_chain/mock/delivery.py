"""The mock delivers notifications: signed, encrypted POSTs to a webhook URL of yours."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

import aiohttp
from cryptography.hazmat.primitives.asymmetric import rsa

from ..v3.notifications import build_notification
from ..v3.protocol import AUTH_SCHEMA

__all__ = ["SIGNATURE_TYPE_HEADER", "NotifyingPlatform", "deliver", "signed_notification"]

SIGNATURE_TYPE_HEADER = "Wechatpay-Signature-Type"  # sent by the platform; some SDKs crash without it


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
    headers, body = signed_notification(platform, event_type, resource, signature_probe=probe, **options)
    headers = {**headers, "Content-Type": "application/json", "User-Agent": "Mozilla/4.0 (wechatpay-chain mock)"}
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session,
        session.post(url, data=body, headers=headers) as answer,
    ):
        return answer.status, await answer.read()


def signed_notification(
    platform: NotifyingPlatform, event_type: str, resource: Mapping[str, Any], **options: Any
) -> tuple[dict[str, str], bytes]:
    """The headers and body of one v3 notification, signed and encrypted as the platform does."""
    headers, body = build_notification(
        event_type,
        resource,
        apiv3_key=platform.apiv3_key,
        platform_key=platform.platform_key,
        serial=platform.signing_serial,
        now=platform.clock,
        **options,
    )
    return {**headers, SIGNATURE_TYPE_HEADER: AUTH_SCHEMA}, body
