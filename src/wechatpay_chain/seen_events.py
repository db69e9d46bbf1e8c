"""Notification dedup: hand each event over once, however often the platform delivers it.

The platform delivers a notification again until it gets a success answer, for up to
24 h 4 min (15 s, 15 s, 30 s, 3 min ... 6 h); a slow answer, a lost answer or two workers
behind a load balancer all lead to the same event arriving twice. A :class:`SeenEvents`
store keeps each event id in one of two states::

    claim(id)   nothing recorded (or expired)  -> Claim.FIRST: now "in progress" for claim_ttl
                "in progress"                  -> Claim.IN_PROGRESS (another delivery is handled)
                "handled"                      -> Claim.HANDLED (a duplicate)
    done(id)    -> "handled" for ttl (25 h, past the platform's redeliveries)
    forget(id)  "in progress" -> nothing: the next delivery is handled again

A claim is short (:data:`CLAIM_TTL`, a few minutes): a worker killed while handling
leaves a claim that expires by itself, and the platform's next delivery is handled. Only
``done`` makes the id a duplicate for a day, and only after the handler succeeded, so a
failed or lost handling never turns into an acknowledged duplicate. A redelivery that
finds the event in progress must be answered with a failure (``notifications.parse``
raises :class:`~.errors.EventInProgress`): acknowledging it would lose the event if the
first handler then failed. ``claim_ttl`` must outlast the slowest handling: a claim that
expires while its handler still runs lets a redelivery be handled a second time.

Where a helper takes ``first_time=`` (``client.notifications.parse``,
``fleet.notifications.parse``), it accepts a store or a plain callable ``event_id -> True
the first time``. A callable can only say "first time" or "seen": it has no "in progress"
and nothing to mark done or give back, so a redelivery while the first is handled, or
after handling failed, is acknowledged as a duplicate; a store has neither limit.
:func:`check_first_time` and :func:`claim_event` are those calls.
"""

from __future__ import annotations

import enum
import math
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from .errors import ConfigError

if TYPE_CHECKING:
    import redis
    from redis.commands.core import Script

__all__ = [
    "CLAIM_TTL",
    "DEDUP_TTL",
    "Claim",
    "FirstTime",
    "MemorySeenEvents",
    "RedisSeenEvents",
    "SeenEvents",
    "check_first_time",
    "claim_event",
]

DEDUP_TTL = 25 * 3600.0  # seconds a handled event is remembered: past the platform's 24 h 4 min of redeliveries
CLAIM_TTL = 300.0  # seconds an event stays "in progress" without done()/forget(): a dead worker's claim lapses


class Claim(enum.Enum):
    """What claiming an event id found."""

    FIRST = "first"  # claimed now: hand the event over, then done() or forget()
    IN_PROGRESS = "in progress"  # another delivery is being handled: answer a failure
    HANDLED = "handled"  # a duplicate: acknowledge it, do not hand it over


@runtime_checkable
class SeenEvents(Protocol):
    """Remembers which notification event ids are being handled, and which were handled."""

    def claim(self, event_id: str) -> Claim:
        """Atomically claim ``event_id`` ("in progress") if nothing is recorded; say what was found."""
        ...

    def first_time(self, event_id: str) -> bool:
        """``claim(event_id) is Claim.FIRST``."""
        ...

    def done(self, event_id: str) -> None:
        """The event was handled: later deliveries are duplicates (for the store's ``ttl``)."""
        ...

    def forget(self, event_id: str) -> None:
        """Give a claim back (handling failed): the next delivery is handled again. A handled
        event stays handled."""
        ...


FirstTime = SeenEvents | Callable[[str], bool]
"""What ``first_time=`` takes: a store, or a callable ``event_id -> True the first time``."""


def claim_event(first_time: FirstTime, event_id: str) -> Claim:
    """Claim ``event_id`` with a store (its :meth:`~SeenEvents.claim`) or a callable (``True``:
    :attr:`Claim.FIRST`, ``False``: :attr:`Claim.HANDLED`; a callable has no "in progress").

    Refuses (``ConfigError``, argument ``first_time``) a callable that answers anything but
    ``True`` or ``False`` (``set.add`` answers ``None``): guessing could drop an event or
    hand it over twice. A store's own errors (Redis unreachable) propagate, so the
    notification is answered with an error and delivered again later.
    """
    if not (isinstance(event_id, str) and event_id):
        raise ConfigError("event_id", "a notification's id is a non-empty string")
    if isinstance(first_time, SeenEvents):
        return first_time.claim(event_id)
    if not callable(first_time):
        raise ConfigError("first_time", "expected a SeenEvents store or a callable event_id -> bool")
    answer = first_time(event_id)
    if not isinstance(answer, bool):
        raise ConfigError("first_time", f"must answer True (first time) or False (seen), got {type(answer).__name__}")
    return Claim.FIRST if answer else Claim.HANDLED


def check_first_time(first_time: FirstTime, event_id: str) -> bool:
    """``True`` when ``event_id`` was claimed now (hand the event over); see :func:`claim_event`."""
    return claim_event(first_time, event_id) is Claim.FIRST


def _check_ttls(ttl: float, claim_ttl: float) -> None:
    if not ttl > 0:
        raise ConfigError("ttl", "events are remembered for a positive number of seconds")
    if not claim_ttl > 0:
        raise ConfigError("claim_ttl", "a claim lasts a positive number of seconds")


class MemorySeenEvents:
    """Event ids of this process (thread-safe): "in progress" for ``claim_ttl`` seconds after a
    claim, "handled" for ``ttl`` seconds after :meth:`done`.

    One process only, and its memory grows with the events of one TTL; a fleet shares a
    :class:`RedisSeenEvents`.
    """

    def __init__(
        self, ttl: float = DEDUP_TTL, *, claim_ttl: float = CLAIM_TTL, clock: Callable[[], float] = time.monotonic
    ) -> None:
        _check_ttls(ttl, claim_ttl)
        self.ttl = ttl
        self.claim_ttl = claim_ttl
        self._clock = clock
        self._lock = threading.Lock()
        # id -> (handled, expiry), oldest write first: pruning pops expired entries from the front
        self._entries: OrderedDict[str, tuple[bool, float]] = OrderedDict()

    def claim(self, event_id: str) -> Claim:
        with self._lock:
            now = self._clock()
            while self._entries and next(iter(self._entries.values()))[1] <= now:
                self._entries.popitem(last=False)
            entry = self._entries.get(event_id)
            if entry is not None and entry[1] > now:
                return Claim.HANDLED if entry[0] else Claim.IN_PROGRESS
            self._write(event_id, False, now + self.claim_ttl)
            return Claim.FIRST

    def first_time(self, event_id: str) -> bool:
        return self.claim(event_id) is Claim.FIRST

    def done(self, event_id: str) -> None:
        with self._lock:
            self._write(event_id, True, self._clock() + self.ttl)

    def forget(self, event_id: str) -> None:
        with self._lock:
            entry = self._entries.get(event_id)
            if entry is not None and not entry[0]:
                del self._entries[event_id]

    def _write(self, event_id: str, handled: bool, expiry: float) -> None:
        self._entries.pop(event_id, None)
        self._entries[event_id] = (handled, expiry)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


_HANDLED = "handled"

# A claim: SET NX PX with this claim's token; taken already, say whether it is handled.
_CLAIM = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[3] then return 2 end
return 0
"""

# forget: compare-and-delete, so that a slow handler's forget never removes a later claim
# (its own expired, another worker claimed the redelivery) nor a handled mark.
_FORGET = """
local value = redis.call('GET', KEYS[1])
if value and value ~= ARGV[2] and (ARGV[1] == '' or value == ARGV[1]) then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisSeenEvents:
    """Event ids in Redis, shared by a fleet: a claim is ``SET NX PX`` (one claim per id across
    the fleet), :meth:`done` overwrites it with a ``ttl`` expiry, :meth:`forget` deletes only the
    claim this store made (compare-and-delete).

    ``client`` is a redis-py client or a URL (``pip install 'wechatpay-chain[redis]'``);
    keys are ``<prefix><event id>`` and expire by themselves.
    """

    def __init__(
        self,
        client: redis.Redis | str,
        *,
        ttl: float = DEDUP_TTL,
        claim_ttl: float = CLAIM_TTL,
        prefix: str = "wechatpay:seen:",
    ) -> None:
        from .trust.redis_store import connect  # redis-py is an optional extra: imported when used

        _check_ttls(ttl, claim_ttl)
        self.redis = connect(client)
        self.ttl = ttl
        self.claim_ttl = claim_ttl
        self.prefix = prefix
        self._claim: Script = self.redis.register_script(_CLAIM)
        self._forget: Script = self.redis.register_script(_FORGET)
        self._lock = threading.Lock()
        self._tokens: dict[str, str] = {}  # event id -> the token of this store's claim, until done/forget

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name, None)!r}" for name in ("ttl", "claim_ttl", "prefix"))
        return f"RedisSeenEvents({getattr(self, 'redis', '(not connected)')!r}, {fields})"

    def claim(self, event_id: str) -> Claim:
        token = uuid.uuid4().hex
        found = self._claim(keys=[self.prefix + event_id], args=[token, _milliseconds(self.claim_ttl), _HANDLED])
        if found == 1:
            with self._lock:
                self._tokens[event_id] = token
            return Claim.FIRST
        return Claim.HANDLED if found == 2 else Claim.IN_PROGRESS

    def first_time(self, event_id: str) -> bool:
        return self.claim(event_id) is Claim.FIRST

    def done(self, event_id: str) -> None:
        # A plain SET (not XX): the event was handled, which stays true even if the claim lapsed.
        self.redis.set(self.prefix + event_id, _HANDLED, px=_milliseconds(self.ttl))
        with self._lock:
            self._tokens.pop(event_id, None)

    def forget(self, event_id: str) -> None:
        with self._lock:
            token = self._tokens.pop(event_id, None)
        if token is None:
            return  # not claimed through this object: another worker's live claim is not ours to drop
        self._forget(keys=[self.prefix + event_id], args=[token, _HANDLED])


def _milliseconds(seconds: float) -> int:
    return max(1, math.ceil(seconds * 1000))
