"""One v3 call on the wire: attempts, retries, host failover, deadline, observation.

    deadline (the call's total timeout, retries included)
      attempt 1: sign afresh -> send -> verify  (ok: done)
      failure the retry policy allows (retry.py)? wait (backoff + jitter), next attempt,
      on the backup host when the primary could not be reached

Every attempt is reported to ``client.on_attempt`` (when set; without keys, signatures or
the query string) and, when ``wechatpay_chain`` logs at DEBUG, logged with its request and
answer, masked (transport/wire_log.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from .errors import ApiError, SignatureError, TransportError, WeChatPayError
from .response import Response
from .retry import Attempt
from .transport.aio import RawAnswer, Timeout, in_blocking_call, pause
from .transport.wire_log import Masks, WireRequest, format_attempt
from .v3.calls import PreparedCall, finish_call
from .v3.protocol import find_header, verify_signed_message

if TYPE_CHECKING:
    from .client import Client

__all__ = ["MAX_CLOCK_CORRECTION", "send_v3", "send_with_retries"]

log = logging.getLogger("wechatpay_chain")
# Seconds: the largest clock offset learnt from signed answers. A clock further off is
# left alone (fix it with NTP): a replayed old answer must not move the clock further.
MAX_CLOCK_CORRECTION = 900.0


Exchange = Callable[[str, "Timeout | None"], Awaitable[tuple[str, RawAnswer]]]
Finish = Callable[[str, RawAnswer], Response]


async def send_v3(client: Client, prepared: PreparedCall, timeout: Timeout | None) -> Response:
    """A v3 call: each attempt signed afresh (new nonce and timestamp), every answer verified."""

    wire = None
    if log.isEnabledFor(logging.DEBUG):  # what each attempt sent, for the debug log
        spec = prepared.operation.spec if prepared.operation is not None else None
        masks = Masks.for_spec(spec, secrets=(client.apiv3_key, client.v2_settings.secret))
        wire = WireRequest(prepared.method, prepared.target, prepared.headers, prepared.body, masks)

    async def exchange(host: str, attempt_timeout: Timeout | None) -> tuple[str, RawAnswer]:
        return await client._exchange(prepared, attempt_timeout, host, wire=wire)

    def finish(url: str, answer: RawAnswer) -> Response:
        try:
            response = finish_call(
                prepared,
                answer.status,
                answer.headers,
                answer.content,
                url=url,
                keys=client.trusted_keys,
                now=client.clock,
                validate_response=client.validate_responses,
            )
        except ApiError as error:
            if error.status_code == 401:  # perhaps our timestamp was refused: learn from a signed 401
                _learn_clock(client, answer, verified=False)
            raise
        if response.verified:  # the signed Wechatpay-Timestamp of a verified answer; never Date
            _learn_clock(client, answer, verified=True)
        return response

    send = send_with_retries(
        client,
        method=prepared.method,
        target=prepared.target,
        hosts=client._hosts_for(prepared),
        idempotent=prepared.idempotent,
        timeout=timeout,
        exchange=exchange,
        finish=finish,
        wire=wire,
    )
    if in_blocking_call():
        return await send
    # Counted while in flight: overlapping async calls sign on the client's signing threads.
    signer = client.signer
    signer.enter()
    try:
        return await send
    finally:
        signer.leave()


async def send_with_retries(
    client: Client,
    *,
    method: str,
    target: str,
    hosts: list[str],
    idempotent: bool,
    timeout: Timeout | None,
    exchange: Exchange,
    finish: Finish,
    wire: WireRequest | None = None,
) -> Response:
    """Attempts until an answer, a final error, or the end of the call's total timeout.

    One loop for v3 and v2: ``exchange(host, timeout)`` sends one attempt, ``finish``
    verifies its answer or raises. The first attempt runs under the session's (or the
    call's) timeout as it is, which costs nothing extra; later attempts get what remains
    of the total, and no retry starts that could not finish in time. ``wire``, when
    given, holds the request as sent (for the debug log).
    """
    limit = timeout or client.transport.timeout
    deadline = None if limit.total is None else time.monotonic() + limit.total
    policy = client.retry
    host = 0
    attempt = 0
    attempt_timeout = timeout
    while True:
        attempt += 1
        started = time.monotonic()
        offset = client.clock_offset
        answer: RawAnswer | None = None
        try:
            url, answer = await exchange(hosts[host], attempt_timeout)
            response = finish(url, answer)
        except WeChatPayError as error:
            retry = attempt < policy.attempts and policy.allows(error, idempotent)
            if not retry and _clock_was_wrong(client, error, attempt, offset):
                retry = True  # the platform refused our timestamp; signing again with the corrected clock is safe
            delay = policy.delay(attempt)
            if retry and deadline is not None and time.monotonic() + delay >= deadline:
                retry = False  # no time left for another attempt within the total timeout
            _report(client, method, target, hosts[host], attempt, answer, started, error, retry, wire)
            if not retry:
                if isinstance(error, TransportError):
                    error.settle(idempotent)  # a POST that may have arrived: say to query before retrying
                raise
            if isinstance(error, TransportError) and not error.sent and len(hosts) > 1:
                host = (host + 1) % len(hosts)  # could not connect: try the backup host
            await pause(delay)
            if deadline is not None:
                remaining = deadline - time.monotonic()
                attempt_timeout = Timeout(total=remaining, connect=limit.connect, read=limit.read)
            continue
        _report(client, method, target, hosts[host], attempt, answer, started, None, False, wire)
        return response


def _learn_clock(client: Client, answer: RawAnswer, *, verified: bool) -> None:
    """With ``correct_clock=True``, follow the platform's signed ``Wechatpay-Timestamp``.

    Only what the platform signed teaches the clock: the timestamp of a verified answer,
    or of a 401 whose signature checks out with a trusted key (its timestamp is the one
    thing we cannot check against our clock, since our clock is in question). ``Date`` is
    not signed and is never read. A signed answer can still be an old one replayed, so the
    offset is bounded: a platform time more than ``MAX_CLOCK_CORRECTION`` away from the
    wall clock is ignored, and the offset never goes beyond it.
    """
    if not client.correct_clock:
        return
    timestamp = find_header(answer.headers, "Wechatpay-Timestamp")
    if not timestamp or not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        return
    signed_at = float(timestamp)
    if not verified:
        try:
            verify_signed_message(answer.headers, answer.content, client.trusted_keys, now=lambda: signed_at)
        except SignatureError:
            return  # an unsigned or forged 401 proves nothing
    offset = signed_at - client.wall_clock()
    if abs(offset) > MAX_CLOCK_CORRECTION:
        return  # beyond the bound: a replayed old answer, or a clock to fix by hand (NTP)
    # The timestamp has 1 s resolution and is taken before the answer travels: ignore jitter.
    client.clock_offset = offset if abs(offset) > 2 else 0.0


def _clock_was_wrong(client: Client, error: WeChatPayError, attempt: int, offset_before: float) -> bool:
    """A first attempt refused with 401 whose signed answer just corrected the clock."""
    return (
        client.correct_clock
        and attempt == 1
        and isinstance(error, ApiError)
        and error.status_code == 401
        and client.clock_offset != offset_before
    )


def _report(
    client: Client,
    method: str,
    target: str,
    host: str,
    attempt: int,
    answer: RawAnswer | None,
    started: float,
    error: WeChatPayError | None,
    will_retry: bool,
    wire: WireRequest | None = None,
) -> None:
    if client.on_attempt is None and not log.isEnabledFor(logging.DEBUG):
        return  # nobody listens: build nothing
    status = answer.status if answer is not None else getattr(error, "status_code", None)
    event = Attempt(
        method=method,
        path=target.split("?", 1)[0],
        host=host,
        attempt=attempt,
        status=status,
        latency=time.monotonic() - started,
        request_id=answer.headers.get("Request-ID") if answer is not None else None,
        error=type(error).__name__ if error is not None else None,
        will_retry=will_retry,
    )
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
    if client.on_attempt is not None:
        try:
            client.on_attempt(event)
        except Exception:  # an observer must not break the call it observes
            log.exception("on_attempt callback failed")
