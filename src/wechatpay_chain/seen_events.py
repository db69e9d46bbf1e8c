"""Notification dedup: hand each event over once, however often the platform delivers it.

The platform delivers a notification again until it gets a success answer, for up to
24 h 4 min (15 s, 15 s, 30 s, 3 min ... 6 h); a slow answer, a lost answer or two workers
behind a load balancer all lead to the same event arriving twice. A :class:`SeenEvents`
store claims an event id atomically: :meth:`~SeenEvents.first_time` is ``True`` for exactly
one caller per id (across processes, for the Redis store) until the id expires, 25 hours
by default (:data:`DEDUP_TTL`). A duplicate is answered with success and not handed over.

Claiming comes before handling: when handling fails, :meth:`~SeenEvents.forget` gives the
claim back, so that the platform's next delivery is handled instead of acknowledged.

Where a helper takes ``first_time=`` (``client.notifications.parse``,
``fleet.notifications.parse``), it accepts a store or a plain callable with the meaning of
:meth:`~SeenEvents.first_time`: ``event_id -> True the first time``. :func:`check_first_time`
is that one call.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from .errors import ConfigError

if TYPE_CHECKING:
    import redis

__all__ = [
    "DEDUP_TTL",
    "FirstTime",
    "MemorySeenEvents",
    "RedisSeenEvents",
    "SeenEvents",
    "check_first_time",
]

DEDUP_TTL = 25 * 3600.0  # seconds: longer than the platform's 24 h 4 min of redeliveries


@runtime_checkable
class SeenEvents(Protocol):
    """Remembers which notification event ids were handed over."""

    def first_time(self, event_id: str) -> bool:
        """Atomically claim ``event_id``: ``True`` for the one caller that saw it first (within the TTL)."""
        ...

    def forget(self, event_id: str) -> None:
        """Give a claim back (handling failed): the next delivery of the event is handled again."""
        ...


FirstTime = SeenEvents | Callable[[str], bool]
"""What ``first_time=`` takes: a store, or a callable ``event_id -> True the first time``."""


def check_first_time(first_time: FirstTime, event_id: str) -> bool:
    """Claim ``event_id`` with ``first_time``: ``True`` to hand the event over, ``False`` for a duplicate.

    Refuses (``ConfigError``, argument ``first_time``) a callable that answers anything but
    ``True`` or ``False`` (``set.add`` answers ``None``): guessing could drop an event or
    hand it over twice. A store's own errors (Redis unreachable) propagate, so the
    notification is answered with an error and delivered again later.
    """
    if not (isinstance(event_id, str) and event_id):
        raise ConfigError("event_id", "a notification's id is a non-empty string")
    claim = first_time.first_time if isinstance(first_time, SeenEvents) else first_time
    if not callable(claim):
        raise ConfigError("first_time", "expected a SeenEvents store or a callable event_id -> bool")
    answer = claim(event_id)
    if not isinstance(answer, bool):
        raise ConfigError("first_time", f"must answer True (first time) or False (seen), got {type(answer).__name__}")
    return answer


class MemorySeenEvents:
    """Event ids claimed in this process (thread-safe), each forgotten ``ttl`` seconds after its claim.

    One process only, and its memory grows with the events of one TTL; a fleet shares a
    :class:`RedisSeenEvents`.
    """

    def __init__(self, ttl: float = DEDUP_TTL, *, clock: Callable[[], float] = time.monotonic) -> None:
        if not ttl > 0:
            raise ConfigError("ttl", "events are remembered for a positive number of seconds")
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        # id -> expiry; one TTL for all, so insertion order is expiry order and pruning pops from the front
        self._expiry: OrderedDict[str, float] = OrderedDict()

    def first_time(self, event_id: str) -> bool:
        with self._lock:
            now = self._clock()
            while self._expiry and next(iter(self._expiry.values())) <= now:
                self._expiry.popitem(last=False)
            if event_id in self._expiry:
                return False
            self._expiry[event_id] = now + self.ttl
            return True

    def forget(self, event_id: str) -> None:
        with self._lock:
            self._expiry.pop(event_id, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._expiry)


class RedisSeenEvents:
    """Event ids claimed in Redis with ``SET NX PX``: one claim per id across a fleet.

    ``client`` is a redis-py client or a URL (``pip install 'wechatpay-chain[redis]'``);
    keys are ``<prefix><event id>`` and expire by themselves after ``ttl`` seconds.
    """

    def __init__(self, client: redis.Redis | str, *, ttl: float = DEDUP_TTL, prefix: str = "wechatpay:seen:") -> None:
        from .trust.redis_store import connect  # redis-py is an optional extra: imported when used

        if not ttl > 0:
            raise ConfigError("ttl", "events are remembered for a positive number of seconds")
        self.redis = connect(client)
        self.ttl = ttl
        self.prefix = prefix

    def __repr__(self) -> str:
        return f"RedisSeenEvents({self.redis!r}, ttl={self.ttl!r}, prefix={self.prefix!r})"

    def first_time(self, event_id: str) -> bool:
        milliseconds = max(1, math.ceil(self.ttl * 1000))
        return bool(self.redis.set(self.prefix + event_id, b"1", nx=True, px=milliseconds))

    def forget(self, event_id: str) -> None:
        self.redis.delete(self.prefix + event_id)
