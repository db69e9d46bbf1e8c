"""Faults the mock platform can inject into its next answers (``mock.fail(name)``)."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable
from typing import Any, Protocol

from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from ..v3.protocol import MAX_CLOCK_SKEW, sign_answer_headers

__all__ = ["FAULTS", "STATUS_FAULTS", "FaultControls", "SigningPlatform", "apply_fault", "send_network_fault"]

# fault -> (HTTP status, platform code, message): answered before signing, like a gateway would.
STATUS_FAULTS = {
    "server_error": (500, "SYSTEM_ERROR", "系统错误"),
    "bad_gateway": (502, None, "Bad Gateway"),
    "unavailable": (503, "SYSTEM_ERROR", "系统繁忙，请稍后重试"),
    "rate_limited": (429, "FREQUENCY_LIMITED", "频率超限"),
}
NETWORK_FAULTS = frozenset({"reset", "truncated_body", "slow_headers", "slow_body"})

FAULTS = {
    "bad_signature": "Wechatpay-Signature does not match the body",
    "stale_timestamp": f"signed 10 minutes ago (outside the {MAX_CLOCK_SKEW} s window)",
    "future_timestamp": "signed 10 minutes in the future",
    "unknown_serial": "Wechatpay-Serial names a key the client does not trust",
    "missing_headers": "no Wechatpay-Signature header",
    "tampered_body": "the body changed after it was signed",
    "server_error": "HTTP 500 with a platform-style SYSTEM_ERROR body",
    "bad_gateway": "HTTP 502 from a proxy in front of the platform",
    "unavailable": "HTTP 503 SYSTEM_ERROR",
    "rate_limited": "HTTP 429 FREQUENCY_LIMITED",
    "reset": "the connection is aborted halfway through the body",
    "truncated_body": "Content-Length promises more than is sent, then the connection closes",
    "slow_headers": "the answer starts after `delay` seconds",
    "slow_body": "headers at once, the rest of the body after `delay` seconds",
    "v2_bad_sign": "the next APIv2 answer is signed with a wrong key (SignatureError)",
}


class SigningPlatform(Protocol):
    """What a fault needs of the platform to re-sign an answer wrongly."""

    platform_key: rsa.RSAPrivateKey
    clock: Callable[[], float]


def apply_fault(
    fault: str, headers: dict[str, str], body: bytes, platform: SigningPlatform
) -> tuple[dict[str, str], bytes]:
    """The answer's headers and body with ``fault`` applied (server_error is handled earlier)."""
    headers = dict(headers)
    if fault == "bad_signature":
        wrong = sign_answer_headers(
            platform.platform_key,
            headers["Wechatpay-Serial"],
            body + b" ",
            timestamp=headers["Wechatpay-Timestamp"],
            nonce=headers["Wechatpay-Nonce"],
        )
        headers["Wechatpay-Signature"] = wrong["Wechatpay-Signature"]
    elif fault in ("stale_timestamp", "future_timestamp"):
        shift = -600 if fault == "stale_timestamp" else 600
        headers.update(
            sign_answer_headers(
                platform.platform_key,
                headers["Wechatpay-Serial"],
                body,
                timestamp=str(int(platform.clock()) + shift),
                nonce=headers["Wechatpay-Nonce"],
            )
        )
    elif fault == "unknown_serial":
        headers["Wechatpay-Serial"] = "PUB_KEY_ID_0000000000000000000000000000"
    elif fault == "missing_headers":
        headers.pop("Wechatpay-Signature", None)
    elif fault == "tampered_body":
        body = body.replace(b"SUCCESS", b"FAILED") if b"SUCCESS" in body else body + b" "
    return headers, body


async def send_network_fault(
    fault: str, request: web.Request, status: int, headers: dict[str, str], body: bytes, delay: float
) -> web.StreamResponse:
    """Misbehave on the wire: reset, truncate, or stall the answer."""
    if fault == "slow_headers":
        await asyncio.sleep(delay)
        return web.Response(status=status, body=body, headers=headers)
    answer = web.StreamResponse(status=status, headers={**headers, "Content-Length": str(len(body))})
    await answer.prepare(request)
    half = max(1, len(body) // 2)
    await answer.write(body[:half])
    if fault == "slow_body":
        await asyncio.sleep(delay)
        with contextlib.suppress(ConnectionResetError):  # the client may have given up meanwhile
            await answer.write(body[half:])
            await answer.write_eof()
        return answer
    transport = request.transport
    if transport is not None:
        if fault == "reset":
            transport.abort()
        else:
            transport.close()
    return answer


class FaultControls:
    """Mixed into ``MockPlatform``: queue faults for its next answers."""

    _faults: list[list[Any]]  # [name, remaining times]
    _random_faults: tuple[float, tuple[str, ...], random.Random]
    fault_delay: float

    def fail(self, fault: str, times: int = 1, *, delay: float = 2.0) -> None:
        """Inject ``fault`` into the next ``times`` answers (``times=0``: until cleared)."""
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; known: {', '.join(sorted(FAULTS))}")
        self._faults.append([fault, times])
        self.fault_delay = delay  # for slow_headers / slow_body

    def clear_faults(self) -> None:
        self._faults.clear()
        self._random_faults = (0.0, (), random.Random(0))

    def fail_randomly(self, rate: float, faults: tuple[str, ...] = ("server_error", "reset"), seed: int = 0) -> None:
        """Inject one of ``faults`` into a random ``rate`` of answers (soak tests); 0 turns it off."""
        unknown = set(faults) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown faults {sorted(unknown)}")
        self._random_faults = (rate, faults, random.Random(seed))

    def _take_fault(self) -> str | None:
        if not self._faults:
            rate, faults, rng = self._random_faults
            if rate and rng.random() < rate:
                return rng.choice(faults)
            return None
        entry = self._faults[0]
        if entry[1] > 0:
            entry[1] -= 1
            if entry[1] == 0:
                self._faults.pop(0)
        return str(entry[0])
