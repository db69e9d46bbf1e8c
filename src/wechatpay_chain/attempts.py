"""One attempt loop for every call, v3 and v2: retries, host failover, deadline, observation.

    deadline (the call's total timeout, retries included)
      attempt 1: headers for this attempt -> send -> finish (verify)  (ok: done)
      failure the retry policy allows (retry.py)? wait (backoff + jitter), next attempt,
      on the backup host when the primary could not be reached

What differs between the protocols is in the plan a protocol prepares (:class:`Plan`):
a v3 plan signs each attempt afresh (new nonce and timestamp) and verifies the answer's
RSA signature; a v2 plan sends the same signed bytes again and checks the XML sign.
Every attempt is reported to ``on_attempt`` (when set; without keys, signatures or the
query string) and, when ``wechatpay_chain`` logs at DEBUG, logged with its request and
answer, masked (transport/wire_log.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from .errors import TransportError, WeChatPayError
from .response import Response
from .retry import Attempt, Retry
from .transport.aio import RawAnswer, Timeout
from .transport.driver import pause
from .transport.wire_log import WireRequest, format_attempt

if TYPE_CHECKING:
    from .transport.aio import Transport
    from .transport.shared import SharedTransport

__all__ = ["Plan", "run_attempts"]

log = logging.getLogger("wechatpay_chain")


class Plan(Protocol):
    """A prepared call, as the attempt loop runs it (v3: engine.V3Plan; v2: v2.call.V2Call)."""

    @property
    def method(self) -> str: ...
    @property
    def target(self) -> str: ...  # /path?query, as sent
    @property
    def body(self) -> bytes: ...
    @property
    def hosts(self) -> Sequence[str]: ...  # tried in order: failover moves to the next
    @property
    def idempotent(self) -> bool: ...  # may be sent again after it may have reached the platform
    @property
    def ssl_context(self) -> Any: ...  # the merchant certificate's context, for v2 cert_required
    @property
    def wire(self) -> WireRequest | None: ...  # the DEBUG log's record of what was sent

    async def headers_for_attempt(self) -> Mapping[str, str]:
        """The headers of one attempt (v3: signed afresh)."""
        ...

    async def finish(self, url: str, answer: RawAnswer) -> Response:
        """Verify the answer or raise (``ApiError``, ``SignatureError``...); it may wait (v3: a
        key the ring lacks is looked up, then the same answer verified again, never resent)."""
        ...

    def retry_anyway(self, error: WeChatPayError, attempt: int) -> bool:
        """Whether an error the policy would not retry is still worth one more attempt (v3:
        the platform refused our timestamp and its signed 401 just corrected our clock)."""
        ...


async def run_attempts(
    plan: Plan,
    *,
    transport: Transport | SharedTransport,
    policy: Retry,
    timeout: Timeout | None,
    on_attempt: Callable[[Attempt], None] | None,
) -> Response:
    """Attempts until an answer, a final error, or the end of the call's total timeout.

    The first attempt runs under the session's (or the call's) timeout as it is, which
    costs nothing extra; later attempts get what remains of the total, and no retry
    starts that could not finish in time.
    """
    if transport.closed:
        raise TransportError("the client is closed")
    limit = timeout or transport.timeout
    deadline = None if limit.total is None else time.monotonic() + limit.total
    hosts, wire = plan.hosts, plan.wire
    host = 0
    attempt = 0
    attempt_timeout = timeout
    while True:
        attempt += 1
        started = time.monotonic()
        answer: RawAnswer | None = None
        url = hosts[host] + plan.target
        try:
            if wire is not None:  # the DEBUG log keeps the headers as sent (masked when written)
                wire.url, wire.headers = url, await plan.headers_for_attempt()
                answer = await transport.send(
                    plan.method, url, wire.headers, plan.body, timeout=attempt_timeout, ssl_context=plan.ssl_context
                )
            else:
                # The headers go straight into send(): no local of this frame holds the
                # Authorization while the attempt may raise (error trackers record locals).
                answer = await transport.send(
                    plan.method,
                    url,
                    await plan.headers_for_attempt(),
                    plan.body,
                    timeout=attempt_timeout,
                    ssl_context=plan.ssl_context,
                )
            response = await plan.finish(url, answer)
        except WeChatPayError as error:
            retry = attempt < policy.attempts and policy.allows(error, plan.idempotent)
            if not retry and plan.retry_anyway(error, attempt):
                retry = True
            delay = policy.delay(attempt)
            if retry and deadline is not None and time.monotonic() + delay >= deadline:
                retry = False  # no time left for another attempt within the total timeout
            _report(on_attempt, plan, hosts[host], attempt, answer, started, error, retry)
            if not retry:
                if isinstance(error, TransportError):
                    error.settle(plan.idempotent)  # a POST that may have arrived: say to query before retrying
                raise
            if isinstance(error, TransportError) and not error.sent and len(hosts) > 1:
                host = (host + 1) % len(hosts)  # could not connect: try the backup host
            await pause(delay)
            if deadline is not None:
                remaining = deadline - time.monotonic()
                attempt_timeout = Timeout(total=remaining, connect=limit.connect, read=limit.read)
            continue
        _report(on_attempt, plan, hosts[host], attempt, answer, started, None, False)
        return response


def _report(
    on_attempt: Callable[[Attempt], None] | None,
    plan: Plan,
    host: str,
    attempt: int,
    answer: RawAnswer | None,
    started: float,
    error: WeChatPayError | None,
    will_retry: bool,
) -> None:
    if on_attempt is None and not log.isEnabledFor(logging.DEBUG):
        return  # nobody listens: build nothing
    status = answer.status if answer is not None else getattr(error, "status_code", None)
    event = Attempt(
        method=plan.method,
        path=plan.target.split("?", 1)[0],
        host=host,
        attempt=attempt,
        status=status,
        latency=time.monotonic() - started,
        request_id=answer.headers.get("Request-ID") if answer is not None else None,
        error=type(error).__name__ if error is not None else None,
        will_retry=will_retry,
    )
    wire = plan.wire
    if wire is not None and log.isEnabledFor(logging.DEBUG):
        log.debug(
            "%s",
            format_attempt(
                wire,
                attempt=attempt,
                elapsed=event.latency,
                status=status,
                headers=answer.headers if answer is not None else None,
                body=answer.content if answer is not None else None,
                error=error,
                will_retry=will_retry,
            ),
        )
    elif log.isEnabledFor(logging.DEBUG):
        log.debug(
            "%s %s%s -> %s attempt=%d %.1fms request_id=%s%s%s",
            event.method,
            host,
            event.path,
            event.status,
            event.attempt,
            event.latency * 1000,
            event.request_id,
            f" error={event.error}" if event.error else "",
            " (retrying)" if will_retry else "",
        )
    if on_attempt is not None:
        try:
            on_attempt(event)
        except Exception:  # an observer must not break the call it observes
            log.exception("on_attempt callback failed")
