"""What is retried, and what never is.

A payment call must never be duplicated, so the rule is about what the platform may
already have done:

- nothing reached it (the connection could not be made): retry, any method, on the
  next host when there is a backup;
- the request may have reached it (timeout after sending, reset, 5xx, 429
  ``FREQUENCY_LIMITED``, an answer that fails verification): retry only when repeating
  cannot duplicate an effect: GET, or a call made idempotent by an ``Idempotency-Key``
  header or ``idempotent=True``;
- 4xx other than 429 (the platform understood and refused), validation errors,
  configuration errors: never.

Each attempt is signed afresh (new nonce and timestamp). Delays grow exponentially
with jitter, bounded by ``max_backoff`` and by the call's total timeout.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field

from .errors import ApiError, SignatureError, TransportError, WeChatPayError
from .v3.protocol import find_header

__all__ = ["Attempt", "Retry", "is_idempotent"]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_JITTER = random.Random()  # jitter needs no cryptographic randomness


@dataclass(frozen=True)
class Retry:
    """``attempts`` counts the first one too: ``Retry(attempts=1)`` never retries."""

    attempts: int = 3
    backoff: float = 0.1  # seconds before the second attempt; doubles each time
    max_backoff: float = 2.0
    statuses: frozenset[int] = field(default_factory=lambda: frozenset({429, 500, 502, 503, 504}))

    def allows(self, error: WeChatPayError, idempotent: bool) -> bool:
        """May the call be tried again after ``error``?"""
        if isinstance(error, TransportError):
            return not error.sent or idempotent
        if isinstance(error, ApiError):
            return error.status_code in self.statuses and idempotent
        if isinstance(error, SignatureError):
            return idempotent  # a GET asks again; a POST's effect may have happened
        return False

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based): equal jitter."""
        ceiling = min(self.max_backoff, self.backoff * 2.0 ** (attempt - 1))
        return ceiling / 2 + (rng or _JITTER).uniform(0, ceiling / 2)


NO_RETRY = Retry(attempts=1)


def is_idempotent(method: str, headers: Mapping[str, str], flag: bool | None) -> bool:
    if flag is not None:
        return flag
    return method.upper() in SAFE_METHODS or find_header(headers, "Idempotency-Key") is not None


@dataclass(frozen=True)
class Attempt:
    """What an observer learns about each attempt (no key, signature or secret)."""

    method: str
    path: str  # the path without the query (which may hold personal data)
    host: str
    attempt: int
    status: int | None  # None when no answer arrived
    latency: float  # seconds
    request_id: str | None
    error: str | None  # the error class name, when the attempt failed
    will_retry: bool = False
