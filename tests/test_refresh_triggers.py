"""Refresh triggers inside calls and notifications: a key store that fails (Redis down, a
folder unreadable) never fails a call or a notification the trusted ring verifies.

Each test runs its own mock platform in certificate mode, over real sockets on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from payloads import RETURN_ORDER
from redis.exceptions import ConnectionError as RedisConnectionError

from wechatpay_chain import ConfigError, SignatureError
from wechatpay_chain.fleet import Merchants
from wechatpay_chain.mock import MockPlatform
from wechatpay_chain.mock.certificates import mint_platform_certificate
from wechatpay_chain.mock.delivery import signed_notification
from wechatpay_chain.seen_events import Claim, MemorySeenEvents
from wechatpay_chain.trust.store import MemoryKeyStore, PlatformKeys, read_only

POST_KEY = ("POST", "v3/profitsharing/return-orders")
CERTS_KEY = ("GET", "v3/certificates")
DAY = 86400.0


@pytest.fixture
def platform() -> Iterator[MockPlatform]:
    """A platform of this test only, in certificate mode (it may rotate)."""
    with MockPlatform(sandbox=False) as mock:
        mock.sign_with = "certificate"
        yield mock


class BrokenStore(MemoryKeyStore):
    """A store whose backend is down: every operation raises ``error`` while ``broken``."""

    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error
        self.broken = True

    def _check(self) -> None:
        if self.broken:
            raise self.error

    def load(self, mchid: str) -> PlatformKeys | None:
        self._check()
        return super().load(mchid)

    def save(self, mchid: str, keys: PlatformKeys, expected_version: int) -> bool:
        self._check()
        return super().save(mchid, keys, expected_version)

    def acquire_lease(self, mchid: str, owner: str, ttl: float) -> bool:
        self._check()
        return super().acquire_lease(mchid, owner, ttl)

    def release_lease(self, mchid: str, owner: str) -> bool:
        self._check()
        return super().release_lease(mchid, owner)

    def merchants_for(self, key_id: str) -> frozenset[str]:
        self._check()
        return super().merchants_for(key_id)


def expire_soon(platform: MockPlatform, days: float = 4) -> None:
    """Give the platform a certificate (same key) that expires in ``days``: inside the refresh margin."""
    issued = time.time() - (5 * 365 - days - 1) * DAY  # mint_platform_certificate: 5 years from a day before
    platform._certificate = mint_platform_certificate(platform.platform_key, issued)


def certificate_text(platform: MockPlatform) -> str:
    return platform.platform_certificate.public_bytes(Encoding.PEM).decode("ascii")


def notification(platform: MockPlatform, event_id: str) -> tuple[dict[str, str], bytes]:
    """A payment notification the platform signed and sealed (as the mock delivers it)."""
    return signed_notification(
        platform, "TRANSACTION.SUCCESS", {"out_trade_no": event_id, "trade_state": "SUCCESS"}, event_id=event_id
    )


# --- 1. a failing store never fails a call the ring verifies --------------------------------------


@pytest.mark.parametrize("error", [RedisConnectionError("Redis is down"), OSError(5, "Input/output error")])
def test_a_store_failing_in_the_expiry_trigger_never_fails_the_call(
    platform: MockPlatform, caplog: Any, error: Exception
) -> None:
    expire_soon(platform)
    store = BrokenStore(error)
    with (
        platform.client(auto_refresh_certs=True, key_store=store) as client,
        caplog.at_level(logging.WARNING, "wechatpay_chain"),
    ):
        answer = client.v3.profitsharing.return_orders.post(json=RETURN_ORDER)
        assert answer.verified == platform.certificate_serial
        assert client.certificates.failures == 1 and client.certificates.last_error is error
        assert "refreshing the platform keys of 1900000109 failed" in caplog.text
        assert type(error).__name__ in caplog.text
        assert platform.counts[POST_KEY] == 1 and platform.counts[CERTS_KEY] == 0


@pytest.mark.parametrize("error", [RedisConnectionError("Redis is down"), OSError(5, "Input/output error")])
def test_a_store_failing_on_an_unknown_serial_leaves_a_signature_error(
    platform: MockPlatform, error: Exception
) -> None:
    with platform.client(key_store=BrokenStore(error)) as client:
        platform.rotate_platform_certificate()
        with pytest.raises(SignatureError) as refused:
            client.v3.profitsharing.return_orders.post(json=RETURN_ORDER)
        assert refused.value.check == "serial" and "not found" in str(refused.value.__notes__)
        assert client.certificates.failures == 1 and client.certificates.last_error is error
        assert platform.counts[POST_KEY] == 1  # never sent again


def test_a_store_failing_while_a_notification_names_an_unknown_key(platform: MockPlatform) -> None:
    error = RedisConnectionError("Redis is down")
    with platform.client(key_store=BrokenStore(error)) as worker:
        headers, body = notification(platform, "EV-1")
        assert worker.notifications.parse(headers, body).id == "EV-1"  # the ring verifies: no store call
        platform.rotate_platform_certificate()
        headers, body = notification(platform, "EV-2")
        with pytest.raises(SignatureError) as refused:
            worker.notifications.parse(headers, body)
        assert refused.value.check == "serial"
        with pytest.raises(SignatureError):
            asyncio.run(worker.notifications.parse_async(headers, body))
        assert worker.certificates.failures == 2 and worker.certificates.last_error is error


def test_a_fleet_routes_by_the_rings_while_its_store_is_down(platform: MockPlatform, caplog: Any) -> None:
    store = BrokenStore(RedisConnectionError("Redis is down"))
    fleet = Merchants(key_store=store)
    try:
        fleet.client(
            platform.mchid,
            serial=platform.merchant_serial,
            private_key=platform.merchant_key,
            certs={platform.certificate_serial: platform.platform_certificate},
            apiv3_key=platform.apiv3_key,
            base_url=platform.base_url,
        )
        headers, body = notification(platform, "EV-3")
        with caplog.at_level(logging.WARNING, "wechatpay_chain"):
            event = fleet.notifications.parse(headers, body)
            assert event is not None and event.mchid == platform.mchid
            event = asyncio.run(fleet.notifications.parse_async(headers, body))
            assert event is not None and event.id == "EV-3"
        assert "Redis is down" in caplog.text
    finally:
        fleet.close()


# --- 3. async parsing keeps store calls off the event loop ------------------------------------------


class ThreadNotingStore(MemoryKeyStore):
    """Notes the thread each routing lookup runs on (a Redis round trip blocks it)."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: list[threading.Thread] = []

    def merchants_for(self, key_id: str) -> frozenset[str]:
        self.threads.append(threading.current_thread())
        return super().merchants_for(key_id)


class ThreadNotingSeen(MemorySeenEvents):
    def __init__(self) -> None:
        super().__init__()
        self.threads: list[threading.Thread] = []

    def claim(self, event_id: str) -> Claim:
        self.threads.append(threading.current_thread())
        return super().claim(event_id)


def test_async_parsing_routes_and_claims_off_the_event_loop(platform: MockPlatform) -> None:
    store, seen = ThreadNotingStore(), ThreadNotingSeen()
    store.save(platform.mchid, PlatformKeys({platform.certificate_serial: certificate_text(platform)}), 0)
    fleet = Merchants(key_store=store)
    try:
        client = fleet.client(platform.mchid, apiv3_key=platform.apiv3_key, base_url=platform.base_url)
        headers, body = notification(platform, "EV-4")

        async def parse() -> threading.Thread:
            event = await fleet.notifications.parse_async(headers, body, first_time=seen)
            assert event is not None and event.id == "EV-4"
            event = await client.notifications.parse_async(*notification(platform, "EV-5"), first_time=seen)
            assert event is not None
            return threading.current_thread()

        loop_thread = asyncio.run(parse())
        assert store.threads and loop_thread not in store.threads
        assert len(seen.threads) == 2 and loop_thread not in seen.threads
    finally:
        fleet.close()


# --- 4. the expiry trigger looks at the certificates the client trusts ------------------------------


def test_fresh_configured_certificates_are_not_refreshed_on_the_first_call(platform: MockPlatform, caplog: Any) -> None:
    with (
        platform.client(auto_refresh_certs=True) as client,
        caplog.at_level(logging.INFO, "wechatpay_chain"),
    ):
        assert client.v3.profitsharing.return_orders.post(json=RETURN_ORDER).verified == platform.certificate_serial
        assert platform.counts[CERTS_KEY] == 0 and client.certificates.failures == 0
        assert "nears expiry" not in caplog.text


def test_configured_certificates_near_expiry_are_refreshed_once(platform: MockPlatform) -> None:
    expire_soon(platform)
    with platform.client(auto_refresh_certs=True) as client:
        new_serial = platform.rotate_platform_certificate()  # what the download brings: a fresh one
        client.v3.profitsharing.return_orders.post(json=RETURN_ORDER)
        assert platform.counts[CERTS_KEY] == 1 and new_serial in client.trusted_keys
        client.v3.profitsharing.return_orders.post(json=RETURN_ORDER)
        assert platform.counts[CERTS_KEY] == 1


# --- 5. read-only processes never call v3/certificates, not even through the chain ------------------


def test_a_read_only_process_refuses_v3_certificates_through_the_chain(platform: MockPlatform) -> None:
    store = MemoryKeyStore()
    store.save(platform.mchid, PlatformKeys({platform.certificate_serial: certificate_text(platform)}), 0)
    with platform.client(certs={}, key_store=read_only(store)) as worker:
        with pytest.raises(ConfigError, match="key_store: read-only"):
            worker.v3.certificates.get()
        with pytest.raises(ConfigError, match="key_store: read-only"):
            asyncio.run(worker.v3.certificates.get_async())
        assert platform.counts[CERTS_KEY] == 0
    with platform.client(key_store=store) as refresher:  # a writable store: allowed
        assert refresher.v3.certificates.get().status_code == 200


# --- 6. inside a call, another node's lease is not waited for -----------------------------------------


def test_the_expiry_trigger_does_not_wait_for_another_nodes_lease(platform: MockPlatform) -> None:
    expire_soon(platform)
    store = MemoryKeyStore()
    assert store.acquire_lease(platform.mchid, "another-node", 60)  # it is downloading, slowly
    with platform.client(auto_refresh_certs=True, key_store=store) as client:
        started = time.monotonic()
        assert client.v3.profitsharing.return_orders.post(json=RETURN_ORDER, timeout=2).verified
        assert time.monotonic() - started < 1.5  # not LEASE_TTL (30 s), not the call's 2 s
        assert platform.counts[CERTS_KEY] == 0 and client.certificates.failures == 0


def test_an_unknown_serial_waits_for_another_nodes_lease_no_longer_than_the_call(platform: MockPlatform) -> None:
    # The answer is signed with a certificate the ring lacks; another node holds the lease (it
    # is downloading): the call waits for its save within its own timeout, not LEASE_TTL (30 s).
    store = MemoryKeyStore()
    with platform.client(auto_refresh_certs=True, key_store=store) as client:
        platform.rotate_platform_certificate()
        assert store.acquire_lease(platform.mchid, "another-node", 60)
        started = time.monotonic()
        with pytest.raises(SignatureError):
            client.v3.profitsharing.return_orders.post(json=RETURN_ORDER, timeout=1)
        assert time.monotonic() - started < 10  # about the call's 1 s; LEASE_TTL would be 30
        assert platform.counts[("POST", "v3/profitsharing/return-orders")] == 1  # never sent again
