"""Notification dedup: each event id is claimed once, in memory or in a real Redis."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from typing import Any

import pytest

from wechatpay_chain.errors import ConfigError
from wechatpay_chain.seen_events import (
    CLAIM_TTL,
    DEDUP_TTL,
    Claim,
    MemorySeenEvents,
    RedisSeenEvents,
    SeenEvents,
    check_first_time,
)

EVENT = "EV-2018022511223320873"


@pytest.fixture(params=["memory", "redis"])
def make_seen(request: pytest.FixtureRequest) -> Any:
    """A factory: (ttl, claim_ttl) -> a fresh store of the parameter's kind."""
    if request.param == "memory":
        return lambda ttl=DEDUP_TTL, claim_ttl=CLAIM_TTL: MemorySeenEvents(ttl, claim_ttl=claim_ttl)
    url, prefix = request.getfixturevalue("redis_url"), f"test:{uuid.uuid4().hex}:"
    return lambda ttl=DEDUP_TTL, claim_ttl=CLAIM_TTL: RedisSeenEvents(url, ttl=ttl, claim_ttl=claim_ttl, prefix=prefix)


def test_first_time_is_true_once(make_seen: Any) -> None:
    seen = make_seen()
    assert isinstance(seen, SeenEvents)
    assert seen.first_time(EVENT)
    assert not seen.first_time(EVENT)
    assert seen.first_time("EV-other")
    assert check_first_time(seen, "EV-third") and not check_first_time(seen, "EV-third")


def test_forget_gives_the_claim_back(make_seen: Any) -> None:
    seen = make_seen()
    assert seen.first_time(EVENT)
    seen.forget(EVENT)  # handling failed: the platform's next delivery is handled
    assert seen.first_time(EVENT)
    seen.forget("EV-never-claimed")


def test_a_claim_is_in_progress_until_done_then_handled(make_seen: Any) -> None:
    seen = make_seen()
    assert seen.claim(EVENT) is Claim.FIRST
    assert seen.claim(EVENT) is Claim.IN_PROGRESS  # a redelivery while the first is handled: not a duplicate
    assert not seen.first_time(EVENT)
    seen.done(EVENT)
    assert seen.claim(EVENT) is Claim.HANDLED
    seen.forget(EVENT)  # too late: a handled event stays handled
    assert seen.claim(EVENT) is Claim.HANDLED


def test_a_claim_left_by_a_dead_worker_expires_after_the_claim_ttl() -> None:
    now = [1000.0]
    seen = MemorySeenEvents(3600, claim_ttl=60, clock=lambda: now[0])
    assert seen.claim(EVENT) is Claim.FIRST  # and the worker dies: neither done() nor forget()
    now[0] += 59
    assert seen.claim(EVENT) is Claim.IN_PROGRESS
    now[0] += 2
    assert seen.claim(EVENT) is Claim.FIRST  # the platform's next delivery is handled
    seen.done(EVENT)
    now[0] += 3599
    assert seen.claim(EVENT) is Claim.HANDLED
    now[0] += 2
    assert seen.claim(EVENT) is Claim.FIRST


def test_redis_claims_and_done_marks_expire_by_themselves(redis_url: str) -> None:
    prefix = f"test:{uuid.uuid4().hex}:"
    seen = RedisSeenEvents(redis_url, ttl=3600, claim_ttl=0.3, prefix=prefix)
    assert seen.claim(EVENT) is Claim.FIRST
    assert 0 < seen.redis.pttl(prefix + EVENT) <= 300
    time.sleep(1.0)  # generous: the claim lasted 0.3 s
    assert seen.claim(EVENT) is Claim.FIRST
    seen.done(EVENT)
    assert 3600 * 1000 - 5000 < seen.redis.pttl(prefix + EVENT) <= 3600 * 1000


def test_forget_releases_only_its_own_claim(redis_url: str) -> None:
    prefix = f"test:{uuid.uuid4().hex}:"
    slow, other = (RedisSeenEvents(redis_url, claim_ttl=0.2, prefix=prefix) for _ in range(2))
    assert slow.claim(EVENT) is Claim.FIRST
    time.sleep(0.8)  # the slow handler outlived its claim; another worker claims the redelivery
    assert other.claim(EVENT) is Claim.FIRST
    slow.forget(EVENT)  # the slow handler fails: the other worker's claim stays
    assert other.claim(EVENT) is Claim.IN_PROGRESS
    bystander = RedisSeenEvents(redis_url, prefix=prefix)
    bystander.forget(EVENT)  # it claimed nothing: it drops nothing
    assert other.claim(EVENT) is Claim.IN_PROGRESS


def test_a_handled_id_is_remembered_for_the_ttl() -> None:
    now = [1000.0]
    seen = MemorySeenEvents(300, clock=lambda: now[0])  # the clock is the store's own: no sleeping
    assert seen.first_time(EVENT)
    seen.done(EVENT)
    now[0] += 299
    assert not seen.first_time(EVENT)
    now[0] += 2
    assert seen.first_time(EVENT)


def test_a_handled_id_is_remembered_for_the_ttl_in_redis(redis_url: str) -> None:
    seen = RedisSeenEvents(redis_url, ttl=0.3, prefix=f"test:{uuid.uuid4().hex}:")
    assert seen.first_time(EVENT)
    seen.done(EVENT)
    assert not seen.first_time(EVENT)  # well within 0.3 s: one round trip
    time.sleep(1.0)  # generous: Redis expires keys by its own clock
    assert seen.first_time(EVENT)


def test_threads_claiming_one_event_exactly_one_wins(make_seen: Any) -> None:
    seen, start, wins = make_seen(), threading.Barrier(12), []

    def claim() -> None:
        start.wait()
        wins.append(seen.first_time(EVENT))

    threads = [threading.Thread(target=claim) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wins.count(True) == 1 and len(wins) == 12


def test_processes_claiming_one_event_exactly_one_wins(redis_url: str) -> None:
    prefix = f"test:{uuid.uuid4().hex}:"
    script = (
        "import json, sys\n"
        "from wechatpay_chain.seen_events import RedisSeenEvents\n"
        "seen = RedisSeenEvents(sys.argv[1], prefix=sys.argv[2])\n"
        "print('ready', flush=True); sys.stdin.readline()\n"
        "print(json.dumps([seen.first_time('EV-%d' % index) for index in range(50)]))\n"
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script, redis_url, prefix],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    for process in processes:
        assert process.stdout is not None and process.stdout.readline() == "ready\n"
    for process in processes:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.close()
    claims = []
    for process in processes:
        assert process.stdout is not None
        claims.append(json.loads(process.stdout.read()))
        assert process.wait(timeout=120) == 0
    assert [sum(column) for column in zip(*claims, strict=True)] == [1] * 50  # each event: one winner


def test_memory_store_forgets_expired_ids() -> None:
    now = [1000.0]
    seen = MemorySeenEvents(10, claim_ttl=5, clock=lambda: now[0])
    for index in range(5):
        assert seen.first_time(f"EV-{index}")
        seen.done(f"EV-{index}")
    assert seen.first_time("EV-abandoned")  # claimed, never done: lapses after claim_ttl
    now[0] += 11
    assert seen.first_time("EV-new") and len(seen) == 1  # the expired ones were dropped


def test_redis_store_keys_expire_by_themselves(redis_url: str) -> None:
    prefix = f"test:{uuid.uuid4().hex}:"
    seen = RedisSeenEvents(redis_url, prefix=prefix)
    assert seen.first_time(EVENT)
    assert 300 * 1000 - 5000 < seen.redis.pttl(prefix + EVENT) <= 300 * 1000  # a claim: 5 min
    seen.done(EVENT)
    remaining = seen.redis.pttl(prefix + EVENT)
    assert 25 * 3600 * 1000 - 5000 < remaining <= 25 * 3600 * 1000  # 25 h: past the platform's 24 h 4 min
    assert "ttl=90000.0" in repr(seen) and "claim_ttl=300.0" in repr(seen)


def test_a_callable_works_like_a_store() -> None:
    claimed: set[str] = set()

    def first_time(event_id: str) -> bool:
        if event_id in claimed:
            return False
        claimed.add(event_id)
        return True

    assert check_first_time(first_time, EVENT) and not check_first_time(first_time, EVENT)
    assert check_first_time(MemorySeenEvents().first_time, EVENT)


@pytest.mark.parametrize(
    ("seen", "event_id", "message"),
    [
        (set().add, EVENT, "first_time: must answer True .first time. or False .seen., got NoneType"),
        (lambda event_id: 1, EVENT, "got int"),
        ("not callable", EVENT, "expected a SeenEvents store or a callable"),
        (lambda event_id: True, "", "event_id: a notification's id is a non-empty string"),
        (lambda event_id: True, None, "event_id"),
    ],
)
def test_what_check_first_time_refuses(seen: Any, event_id: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        check_first_time(seen, event_id)


@pytest.mark.parametrize("ttl", [0, -1])
def test_a_ttl_must_be_positive(ttl: float) -> None:
    with pytest.raises(ConfigError, match=r"^ttl"):
        MemorySeenEvents(ttl)
    with pytest.raises(ConfigError, match=r"^claim_ttl"):
        MemorySeenEvents(claim_ttl=ttl)


@pytest.mark.parametrize("ttl", [0, -1])
def test_a_redis_ttl_must_be_positive(ttl: float, redis_url: str) -> None:
    with pytest.raises(ConfigError, match=r"^ttl"):
        RedisSeenEvents(redis_url, ttl=ttl)
    with pytest.raises(ConfigError, match=r"^claim_ttl"):
        RedisSeenEvents(redis_url, claim_ttl=ttl)
