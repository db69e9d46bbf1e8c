"""The sandbox's notifications: delivered to the object's ``notify_url``, retried, recorded.

When an object changes state the sandbox POSTs the platform's notification (v3: signed,
AES-256-GCM encrypted JSON; v2: signed XML, or ``req_info`` for refunds). An answer that
is not an acknowledgement (v3: any non-2xx; v2: anything but ``return_code`` SUCCESS) is
retried on the platform's schedule, 15s/15s/30s/3m/10m/20m/30m/30m/30m/60m/3h/3h/3h/6h/6h
(24h4m in all), compressed by ``time_scale`` (1/1000 by default: the whole day takes 87 s
of wall time). Every attempt is recorded (``platform.deliveries``), so a test can assert
what its handler answered, how often, and that it acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import uuid
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

import aiohttp

from ..v2.codec import XmlError, decode_xml
from .delivery import SIGNATURE_TYPE_HEADER, NotifyingPlatform, signed_notification

__all__ = ["RETRY_SCHEDULE", "SIGNATURE_TYPE_HEADER", "Attempt", "Delivery", "WebhookPlatform", "Webhooks"]

# The platform names its signature scheme on answers and notifications; some SDKs need it.

# Seconds between attempts after a failed one (the platform's published schedule).
RETRY_SCHEDULE: tuple[float, ...] = (
    15,
    15,
    30,
    180,
    600,
    1200,
    1800,
    1800,
    1800,
    3600,
    10800,
    10800,
    10800,
    21600,
    21600,
)
USER_AGENT = "Mozilla/4.0 (wechatpay-chain sandbox)"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass
class Attempt:
    """One POST of a notification and what the webhook answered (``status`` None: no answer)."""

    at: float  # the sandbox clock when it was sent
    status: int | None
    body: bytes
    error: str | None = None
    sent: bool = True  # False: refused before sending (webhooks.local_only), never retried


@dataclass
class Delivery:
    """A notification and every attempt to deliver it."""

    event_type: str  # TRANSACTION.SUCCESS, REFUND.SUCCESS... (v2: the same names)
    url: str
    protocol: str  # "v3" or "v2"
    subject: dict[str, Any]  # what the notification says, in clear (the v3 resource, the v2 fields)
    event_id: str
    attempts: list[Attempt] = field(default_factory=list)
    acknowledged: bool = False
    finished: bool = False  # acknowledged, or every retry spent

    def __repr__(self) -> str:
        answers = ", ".join(str(attempt.status or attempt.error) for attempt in self.attempts)
        return (
            f"<Delivery {self.protocol} {self.event_type} to {self.url}: [{answers}] acknowledged={self.acknowledged}>"
        )


Request = Callable[[], tuple[dict[str, str], bytes]]


def _acknowledged(protocol: str, status: int, body: bytes) -> bool:
    if protocol == "v3":
        return 200 <= status < 300
    if status != 200:
        return False
    try:
        return decode_xml(body).get("return_code") == "SUCCESS"
    except XmlError:
        return False


class WebhookPlatform(NotifyingPlatform, Protocol):
    """What webhook deliveries need of the platform: the notification keys and its loop."""

    _loop: asyncio.AbstractEventLoop | None  # set while it runs on a thread of its own


class Webhooks:
    """Deliveries in flight and done, for one platform."""

    def __init__(self, platform: WebhookPlatform, now: Callable[[], float]) -> None:
        self.platform = platform
        self._now = now  # the sandbox's clock (it can be advanced), for the attempts' times
        self.deliveries: list[Delivery] = []
        self.schedule: tuple[float, ...] = RETRY_SCHEDULE
        self.time_scale = 0.001  # wall seconds per platform second between retries
        self.timeout = 5.0  # the platform gives a webhook 5 s to answer
        self._changed = threading.Condition()
        self._tasks: set[asyncio.Task[None]] = set()
        # Deliver to this machine only: a test must not reach a real shop's address by mistake.
        self.local_only = True

    # -- what to send ---------------------------------------------------------------------------
    def send_v3(self, url: str, event_type: str, resource: Mapping[str, Any], original_type: str) -> Delivery:
        platform = self.platform
        delivery = Delivery(event_type, url, "v3", dict(resource), str(uuid.uuid4()))

        def request() -> tuple[dict[str, str], bytes]:
            # A retry is the same notification: the same event id.
            return signed_notification(
                platform, event_type, resource, original_type=original_type, event_id=delivery.event_id
            )

        return self._launch(delivery, request)

    def send_v2(self, url: str, event_type: str, subject: Mapping[str, Any], body: bytes) -> Delivery:
        delivery = Delivery(event_type, url, "v2", dict(subject), str(uuid.uuid4()))
        return self._launch(delivery, lambda: ({"Content-Type": "text/xml"}, body))

    # -- delivery ---------------------------------------------------------------------------------
    def _launch(self, delivery: Delivery, request: Request) -> Delivery:
        with self._changed:
            self.deliveries.append(delivery)
        self._start(self._deliver(delivery, request))
        return delivery

    def _start(self, coroutine: Coroutine[Any, Any, None]) -> None:
        loop = self.platform._loop
        if loop is None:  # started in the caller's loop (async tests), and called from it
            self._track(coroutine)
        else:  # the platform runs on its own thread: the task is made there
            loop.call_soon_threadsafe(self._track, coroutine)

    def _track(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, delivery: Delivery, request: Request) -> None:
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                for attempt in range(len(self.schedule) + 1):
                    if attempt:
                        await asyncio.sleep(self.schedule[attempt - 1] * self.time_scale)
                    headers, body = request()
                    record = await self._post(session, delivery, headers, body)
                    with self._changed:
                        delivery.attempts.append(record)
                        if record.status is not None and _acknowledged(delivery.protocol, record.status, record.body):
                            delivery.acknowledged = True
                            break
                        if not record.sent:
                            break
                        self._changed.notify_all()
        finally:
            with self._changed:
                delivery.finished = True
                self._changed.notify_all()

    async def _post(
        self, session: aiohttp.ClientSession, delivery: Delivery, headers: dict[str, str], body: bytes
    ) -> Attempt:
        at = self._now()
        host = urlsplit(delivery.url).hostname or ""
        if self.local_only and host not in LOCAL_HOSTS:
            return Attempt(at, None, b"", f"not sent: {host} is not this machine (webhooks.local_only)", sent=False)
        try:
            async with session.post(delivery.url, data=body, headers={**headers, "User-Agent": USER_AGENT}) as answer:
                return Attempt(at, answer.status, await answer.read())
        except (aiohttp.ClientError, TimeoutError) as exc:
            return Attempt(at, None, b"", f"{type(exc).__name__}: {exc}")

    async def close(self) -> None:
        """Stop retrying (the platform stops): pending deliveries end unfinished."""
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    # -- for tests ---------------------------------------------------------------------------------
    def matching(self, event_type: str | None, match: Mapping[str, Any]) -> list[Delivery]:
        return [
            delivery
            for delivery in self.deliveries
            if (event_type is None or delivery.event_type == event_type)
            and all(delivery.subject.get(name) == value for name, value in match.items())
        ]

    def wait(self, event_type: str | None = None, *, timeout: float = 5.0, **match: Any) -> Delivery:
        """The first notification like this once acknowledged or given up (AssertionError after ``timeout``)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                done = [delivery for delivery in self.matching(event_type, match) if delivery.finished]
                if done:
                    return done[0]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(self._nothing(event_type, match, timeout))
                self._changed.wait(left)

    async def wait_async(self, event_type: str | None = None, *, timeout: float = 5.0, **match: Any) -> Delivery:
        deadline = time.monotonic() + timeout
        while True:
            with self._changed:
                done = [delivery for delivery in self.matching(event_type, match) if delivery.finished]
            if done:
                return done[0]
            if time.monotonic() > deadline:
                raise AssertionError(self._nothing(event_type, match, timeout))
            await asyncio.sleep(0.01)

    def _nothing(self, event_type: str | None, match: Mapping[str, Any], timeout: float) -> str:
        wanted = " ".join([event_type or "any notification", *(f"{k}={v!r}" for k, v in match.items())])
        return f"no finished delivery of {wanted} within {timeout} s; deliveries so far: {self.deliveries!r}"
