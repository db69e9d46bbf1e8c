"""Platform keys shared through a key store: refresh under the lease, read-only workers, unknown
serials learnt and the same answer verified again, notifications routed and deduplicated.

Each test runs its own mock platforms (a rotation changes a platform's key), over real
sockets on 127.0.0.1; the fleet tests use the session's real redis-server.
"""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from cryptography.hazmat.primitives.serialization import Encoding
from payloads import RETURN_ORDER

from wechatpay_chain import ConfigError, SignatureError, WeChatPayError
from wechatpay_chain.cli import main
from wechatpay_chain.errors import DecryptionError, EventInProgress
from wechatpay_chain.fleet import Merchants
from wechatpay_chain.mock import MockPlatform
from wechatpay_chain.mock.certificates import mint_platform_certificate
from wechatpay_chain.mock.delivery import signed_notification
from wechatpay_chain.mock.platform import MockAnswer
from wechatpay_chain.seen_events import MemorySeenEvents, RedisSeenEvents
from wechatpay_chain.trust.directory_store import DirectoryKeyStore
from wechatpay_chain.trust.redis_store import RedisKeyStore
from wechatpay_chain.trust.store import MemoryKeyStore, PlatformKeys, ReadOnlyKeyStore, read_only
from wechatpay_chain.trust.stores import open_key_store
from wechatpay_chain.v3.notifications import build_notification

POST_KEY = ("POST", "v3/profitsharing/return-orders")
CERTS_KEY = ("GET", "v3/certificates")
SECOND_MCHID = "1900000110"


@pytest.fixture
def platform() -> Iterator[MockPlatform]:
    """A platform of this test only, in certificate mode (it will rotate)."""
    with MockPlatform(sandbox=False) as mock:
        mock.sign_with = "certificate"
        yield mock


@pytest.fixture
def prefix() -> str:
    return f"test:{uuid.uuid4().hex}:"


def certificate_pem(platform: MockPlatform) -> str:
    return platform.platform_certificate.public_bytes(Encoding.PEM).decode("ascii")


def stored_record(platform: MockPlatform) -> PlatformKeys:
    """What a node that refreshed before the rotation saved: the current certificate."""
    return PlatformKeys({platform.certificate_serial: certificate_pem(platform)})


def merchant_options(platform: MockPlatform) -> dict[str, Any]:
    return {
        "serial": platform.merchant_serial,
        "private_key": platform.merchant_key,
        "apiv3_key": platform.apiv3_key,
        "base_url": platform.base_url,
    }


# --- one client: the unknown serial ------------------------------------------------------------


def test_an_unknown_serial_is_refreshed_and_the_same_answer_verified_again(platform: MockPlatform) -> None:
    with platform.client(auto_refresh_certs=True) as client:
        now = [1000.0]
        client.certificates.monotonic = lambda: now[0]
        client.certificates.refresh()
        assert platform.counts[CERTS_KEY] == 1
        new_serial = platform.rotate_platform_certificate()
        now[0] += 60  # a minute after the last download: unknown serials may download again
        answer = client.v3.profitsharing.return_orders.post(json=RETURN_ORDER)
        assert answer.verified == new_serial
        assert platform.counts[POST_KEY] == 1  # verified again, never sent again: the POST may have taken effect
        assert platform.counts[CERTS_KEY] == 2 and client.certificates.downloads == 2
        assert new_serial in client.trusted_keys and client.encryption_serial == new_serial
        # a GET too: one attempt, although a GET may be retried after a SignatureError
        platform.rotate_platform_certificate()
        now[0] += 60
        client.v3.pay.transactions.id._transaction_id_.get(transaction_id="42", query={"mchid": client.mchid})
        assert platform.counts[("GET", "v3/pay/transactions/id/{transaction_id}")] == 1


def test_unknown_serials_refresh_at_most_once_a_minute(platform: MockPlatform, caplog: Any) -> None:
    with platform.client(auto_refresh_certs=True) as client:
        now = [1000.0]
        client.certificates.monotonic = lambda: now[0]
        client.certificates.refresh()
        platform.rotate_platform_certificate()
        platform.on("GET", "v3/certificates", lambda call: MockAnswer(500, {"code": "SYSTEM_ERROR", "message": "x"}))
        now[0] += 60
        with caplog.at_level(logging.WARNING, "wechatpay_chain"), pytest.raises(SignatureError) as refused:
            client.v3.profitsharing.return_orders.post(json=RETURN_ORDER)
        assert refused.value.check == "serial" and "not found" in str(refused.value.__notes__)
        assert client.certificates.failures == 1 and client.certificates.last_error is not None
        assert "refreshing the platform keys of 1900000109 failed" in caplog.text
        downloads = platform.counts[CERTS_KEY]
        with pytest.raises(SignatureError):
            client.v3.profitsharing.return_orders.post(json=RETURN_ORDER)
        assert platform.counts[CERTS_KEY] == downloads  # within the minute: not asked again
        now[0] += 61
        platform.handlers.clear()
        assert client.v3.profitsharing.return_orders.post(json=RETURN_ORDER).verified == platform.certificate_serial


def test_without_auto_refresh_or_store_an_unknown_serial_fails_as_before(platform: MockPlatform) -> None:
    with platform.client() as client:
        platform.rotate_platform_certificate()
        with pytest.raises(SignatureError) as refused:
            client.v3.profitsharing.return_orders.post(json=RETURN_ORDER)
        assert refused.value.check == "serial"
        assert platform.counts[CERTS_KEY] == 0 and platform.counts[POST_KEY] == 1


def test_a_failed_expiry_refresh_never_fails_a_call_the_ring_verifies(platform: MockPlatform, caplog: Any) -> None:
    issued = time.time() - (5 * 365 - 5) * 86400  # a certificate (same key) that expires in 4 days
    platform._certificate = mint_platform_certificate(platform.platform_key, issued)
    platform.on("GET", "v3/certificates", lambda call: MockAnswer(503, {"code": "SYSTEM_ERROR", "message": "busy"}))
    with platform.client(auto_refresh_certs=True) as client, caplog.at_level(logging.WARNING, "wechatpay_chain"):
        answer = client.v3.profitsharing.return_orders.post(json=RETURN_ORDER)
        assert answer.verified == platform.certificate_serial
        assert client.certificates.failures == 1 and type(client.certificates.last_error).__name__ == "ApiError"
        assert "the newest certificate nears expiry" in caplog.text


def test_an_expiry_refresh_adopts_a_fresh_stored_record_instead_of_downloading(platform: MockPlatform) -> None:
    store = MemoryKeyStore()
    store.save(platform.mchid, stored_record(platform), 0)
    with platform.client(certs={}, key_store=store, auto_refresh_certs=True) as client:
        assert client.v3.profitsharing.return_orders.post(json=RETURN_ORDER).verified == platform.certificate_serial
        assert platform.counts[CERTS_KEY] == 0 and client.certificates.current


def test_configured_certs_stay_when_a_record_is_adopted(platform: MockPlatform) -> None:
    public = {platform.public_key_id: platform.platform_key.public_key()}
    with platform.client(certs=public, auto_refresh_certs=True) as client:
        client.certificates.refresh()
        assert set(client.trusted_keys) == {platform.public_key_id, platform.certificate_serial}
        assert client.certificates.store.load(platform.mchid) is not None  # the client's own memory store


# --- read-only processes -----------------------------------------------------------------------


def test_a_read_only_worker_adopts_and_never_calls_v3_certificates(platform: MockPlatform) -> None:
    store = MemoryKeyStore()
    with platform.client(key_store=read_only(store), certs={}, auto_refresh_certs=True) as worker:
        with pytest.raises(ConfigError, match="nothing was sent"):  # nothing stored yet, no download allowed
            worker.v3.profitsharing.return_orders.post(json=RETURN_ORDER)
        assert platform.counts[("POST", "v3/profitsharing/return-orders")] == 0  # fail closed before the wire
        with pytest.raises(ConfigError, match="read-only"):
            worker.certificates.download()
        with pytest.raises(ConfigError, match="read-only"):
            worker.certificates.refresh()
        assert platform.counts[CERTS_KEY] == 0
        with platform.client(certs={}, key_store=store) as refresher:
            refresher.certificates.refresh()  # a refreshing node saves
        assert worker.v3.profitsharing.return_orders.post(json=RETURN_ORDER).verified == platform.certificate_serial
        assert platform.counts[CERTS_KEY] == 1 and worker.certificates.downloads == 0


def test_open_key_store_reads_settings(tmp_path: Path, redis_url: str) -> None:
    assert isinstance(open_key_store(str(tmp_path)), DirectoryKeyStore)
    assert isinstance(open_key_store(tmp_path), DirectoryKeyStore)
    assert isinstance(open_key_store(redis_url), RedisKeyStore)
    worker = open_key_store(f"read-only:{redis_url}")
    assert isinstance(worker, ReadOnlyKeyStore) and worker.read_only
    store = MemoryKeyStore()
    assert open_key_store(store) is store
    for wrong in ("", "  ", 42):
        with pytest.raises(ConfigError, match="key_store"):
            open_key_store(wrong)  # type: ignore[arg-type]


# --- notifications -------------------------------------------------------------------------------


def notification(platform: MockPlatform, event_id: str) -> tuple[dict[str, str], bytes]:
    """A payment notification the platform signed and sealed (as the mock delivers it)."""
    return signed_notification(
        platform, "TRANSACTION.SUCCESS", {"out_trade_no": event_id, "trade_state": "SUCCESS"}, event_id=event_id
    )


def test_a_notification_under_a_shared_certificate_goes_to_the_merchant_whose_key_opens_it(
    platform: MockPlatform,
) -> None:
    # Two merchants trust the same platform certificate (the store indexes it for both): the
    # fleet routes by the APIv3 key that opens the resource, never by who saved last.
    store = MemoryKeyStore()
    other_mchid, other_key = "1900000999", "B" * 32
    for mchid in (platform.mchid, other_mchid):
        store.save(mchid, stored_record(platform), 0)
    with Merchants(key_store=read_only(store), base_url=platform.base_url) as fleet:
        fleet.client(platform.mchid, apiv3_key=platform.apiv3_key)
        fleet.client(other_mchid, apiv3_key=other_key)
        for mchid, apiv3_key in ((other_mchid, other_key), (platform.mchid, platform.apiv3_key)):
            headers, body = build_notification(
                "TRANSACTION.SUCCESS",
                {"out_trade_no": f"SHARED-{mchid}"},
                apiv3_key=apiv3_key,
                platform_key=platform.platform_key,
                serial=platform.certificate_serial,
            )
            event = fleet.notifications.parse(headers, body)
            assert event is not None and event.mchid == mchid and event.resource["out_trade_no"] == f"SHARED-{mchid}"
        stranger_headers, stranger_body = build_notification(
            "TRANSACTION.SUCCESS",
            {"out_trade_no": "NOBODY"},
            apiv3_key="C" * 32,
            platform_key=platform.platform_key,
            serial=platform.certificate_serial,
        )
        with pytest.raises(DecryptionError):  # no merchant's APIv3 key opens it
            fleet.notifications.parse(stranger_headers, stranger_body)
        with pytest.raises(SignatureError, match="several merchants"):
            fleet.notifications.client_for(stranger_headers)  # without the body it cannot tell


def test_routing_follows_the_merchant_the_resource_names(platform: MockPlatform) -> None:
    # One company, two merchant numbers, one APIv3 key, one platform certificate: the key opens
    # every notification for both, so the resource's mchid decides; a resource naming another
    # merchant is refused even when a single candidate opens it; a client without an APIv3 key
    # (an API-only one) does not stop the others from routing.
    store = MemoryKeyStore()
    second, api_only = "1900000999", "1900000888"
    for mchid in (platform.mchid, second):
        store.save(mchid, stored_record(platform), 0)

    def sealed(resource: dict[str, Any]) -> tuple[dict[str, str], bytes]:
        return build_notification(
            "TRANSACTION.SUCCESS",
            resource,
            apiv3_key=platform.apiv3_key,
            platform_key=platform.platform_key,
            serial=platform.certificate_serial,
        )

    with Merchants(key_store=read_only(store), base_url=platform.base_url) as fleet:
        fleet.client(platform.mchid, apiv3_key=platform.apiv3_key)
        fleet.client(second, apiv3_key=platform.apiv3_key)
        fleet.client(api_only, certs={platform.certificate_serial: platform.platform_certificate})
        for mchid in (platform.mchid, second):
            event = fleet.notifications.parse(*sealed({"mchid": mchid, "out_trade_no": f"T-{mchid}"}))
            assert event is not None and event.mchid == mchid
        partner = fleet.notifications.parse(*sealed({"sp_mchid": second, "sub_mchid": "1900000777"}))
        assert partner is not None and partner.mchid == second
        with pytest.raises(SignatureError, match="names merchants"):
            fleet.notifications.parse(*sealed({"mchid": "1900000555", "out_trade_no": "NOT-OURS"}))
    with Merchants(key_store=read_only(store), base_url=platform.base_url) as alone:
        alone.client(second, apiv3_key=platform.apiv3_key)
        with pytest.raises(SignatureError, match="names merchants"):  # one candidate, the wrong merchant
            alone.notifications.parse(*sealed({"mchid": platform.mchid, "out_trade_no": "T-FIRST"}))


def test_notifications_learn_a_key_and_deduplicate(platform: MockPlatform) -> None:
    store = MemoryKeyStore()
    store.save(platform.mchid, stored_record(platform), 0)
    seen = MemorySeenEvents()
    with platform.client(certs={}, key_store=read_only(store)) as worker:
        headers, body = notification(platform, "EV-1")
        event = worker.notifications.parse(headers, body, first_time=seen)
        assert event is not None and event.mchid == platform.mchid and event.resource["out_trade_no"] == "EV-1"
        with pytest.raises(EventInProgress) as busy:  # delivered again while the first is being handled
            worker.notifications.parse(headers, body, first_time=seen)
        assert busy.value.event_id == "EV-1" and isinstance(busy.value, WeChatPayError)
        seen.forget("EV-1")  # handling failed: the next delivery is handled again
        assert worker.notifications.parse(headers, body, first_time=seen) is not None
        seen.done("EV-1")  # handled
        assert worker.notifications.parse(headers, body, first_time=seen) is None  # a duplicate: acknowledge
        assert asyncio.run(worker.notifications.parse_async(headers, body, first_time=seen)) is None
        assert worker.notifications.parse(headers, body, first_time=lambda event_id: False) is None
        assert worker.notifications.parse(headers, body).id == "EV-1"  # no first_time: no dedup
        with pytest.raises(ConfigError, match="first_time"):
            worker.notifications.parse(headers, body, first_time=set().add)  # type: ignore[arg-type]


def test_notifications_parse_refreshes_on_an_unknown_serial(platform: MockPlatform) -> None:
    with platform.client(auto_refresh_certs=True) as client:
        new_serial = platform.rotate_platform_certificate()
        headers, body = notification(platform, "EV-2")
        assert client.notifications.parse(headers, body).serial == new_serial
        assert platform.counts[CERTS_KEY] == 1
        other = MockPlatform(sandbox=False)  # a key nobody stores: refused, after one look
        other.sign_with = "certificate"
        headers, body = notification(other, "EV-3")
        with pytest.raises(SignatureError) as refused:
            asyncio.run(client.notifications.parse_async(headers, body))
        assert refused.value.check == "serial"


# --- the fleet: one Redis, two merchants, several processes -------------------------------------

WORKER = r"""
import json, sys
from wechatpay_chain import Client
from wechatpay_chain.trust.redis_store import RedisKeyStore

spec = json.loads(sys.stdin.readline())
store = RedisKeyStore(spec["redis"], prefix=spec["prefix"])
with Client(spec["mchid"], spec["serial"], spec["private_key"], {spec["old_serial"]: spec["old_certificate"]},
            spec["apiv3_key"], base_url=spec["base_url"], key_store=store, auto_refresh_certs=True) as client:
    client.v3.profitsharing.return_orders.post(json=spec["body"])  # before the rotation
    print("ready", flush=True)
    sys.stdin.readline()  # go: the platform has rotated
    answer = client.v3.profitsharing.return_orders.post(json=spec["body"])
    print(json.dumps({"verified": answer.verified, "downloads": client.certificates.downloads}), flush=True)
"""

PROCESSES_PER_MERCHANT = 3


def test_a_fleet_refreshes_once_per_rotation_and_routes_notifications(redis_url: str, prefix: str) -> None:
    with MockPlatform(sandbox=False) as first, MockPlatform(mchid=SECOND_MCHID, sandbox=False) as second:
        platforms = {first.mchid: first, second.mchid: second}
        store = RedisKeyStore(redis_url, prefix=prefix)
        for platform in platforms.values():
            platform.sign_with = "certificate"
            store.save(platform.mchid, stored_record(platform), 0)  # refreshed before the rotation
        workers: list[tuple[str, subprocess.Popen[str]]] = []
        try:
            for platform in platforms.values():
                spec = {
                    **merchant_options(platform),
                    "mchid": platform.mchid,
                    "private_key": platform.merchant_private_key_pem,
                    "old_serial": platform.certificate_serial,
                    "old_certificate": certificate_pem(platform),
                    "redis": redis_url,
                    "prefix": prefix,
                    "body": RETURN_ORDER,
                }
                for _ in range(PROCESSES_PER_MERCHANT):
                    worker = subprocess.Popen(
                        [sys.executable, "-c", WORKER],
                        stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE,
                        text=True,
                    )
                    assert worker.stdin is not None
                    worker.stdin.write(json.dumps(spec) + "\n")
                    worker.stdin.flush()
                    workers.append((platform.mchid, worker))
            for _, worker in workers:
                assert worker.stdout is not None
                assert worker.stdout.readline().strip() == "ready", worker.stderr.read() if worker.stderr else ""
            assert all(platform.counts[CERTS_KEY] == 0 for platform in platforms.values())  # adopted, not fetched
            new_serials = {mchid: platform.rotate_platform_certificate() for mchid, platform in platforms.items()}
            for _, worker in workers:  # all at once: they race for the lease
                assert worker.stdin is not None
                worker.stdin.write("go\n")
                worker.stdin.flush()
            results: dict[str, list[dict[str, Any]]] = {mchid: [] for mchid in platforms}
            for mchid, worker in workers:
                out, err = worker.communicate(timeout=120)
                assert worker.returncode == 0, err
                results[mchid].append(json.loads(out.strip().splitlines()[-1]))
        finally:
            for _, worker in workers:
                if worker.poll() is None:
                    worker.kill()
                    worker.wait()
        for mchid, platform in platforms.items():
            assert platform.counts[CERTS_KEY] == 1  # one download per rotation across all processes
            assert sum(result["downloads"] for result in results[mchid]) == 1
            assert {result["verified"] for result in results[mchid]} == {new_serials[mchid]}
            assert platform.counts[POST_KEY] == 2 * PROCESSES_PER_MERCHANT  # nothing was sent twice
            assert store.merchants_for(new_serials[mchid]) == {mchid}

        # One webhook endpoint for both merchants: a read-only fleet routes, verifies, dedups.
        handled: list[tuple[str, str]] = []
        failing = {"EV-B-FAILS"}
        seen = RedisSeenEvents(redis_url, prefix=prefix + "seen:")
        asyncio.run(_deliver_to_one_handler(platforms, redis_url, prefix, seen, handled, failing))
        assert sorted(handled) == [(first.mchid, "EV-A"), (second.mchid, "EV-B"), (second.mchid, "EV-B-FAILS")]


async def _deliver_to_one_handler(
    platforms: dict[str, MockPlatform],
    redis_url: str,
    prefix: str,
    seen: RedisSeenEvents,
    handled: list[tuple[str, str]],
    failing: set[str],
) -> None:
    fleet = Merchants(key_store=read_only(RedisKeyStore(redis_url, prefix=prefix)))  # a webhook worker
    for platform in platforms.values():
        fleet.client(platform.mchid, apiv3_key=platform.apiv3_key, base_url=platform.base_url)  # no certs at all

    async def notify(request: web.Request) -> web.Response:
        try:
            event = await fleet.notifications.parse_async(request.headers, await request.read(), first_time=seen)
        except SignatureError:
            status, headers, body = fleet.notifications.ack(False, "invalid", status=401)
            return web.Response(status=status, headers=headers, body=body)
        except EventInProgress:  # another delivery is being handled: the platform delivers it again
            return web.Response(status=503)
        if event is not None:  # None: a duplicate, acknowledged below and not handed over
            if event.id in failing:
                failing.discard(event.id)
                seen.forget(event.id)  # the platform delivers it again: handle it then
                return web.Response(status=500)
            handled.append((event.mchid, event.id))
            seen.done(event.id)
        status, headers, body = fleet.notifications.ack()
        return web.Response(status=status, headers=headers, body=body)

    app = web.Application()
    app.router.add_post("/notify", notify)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        url = f"http://127.0.0.1:{port}/notify"
        first, second = platforms.values()
        for platform, event_id in ((first, "EV-A"), (second, "EV-B"), (second, "EV-B-FAILS")):
            resource = {"out_trade_no": event_id, "trade_state": "SUCCESS"}
            for _ in range(2):  # every event arrives twice
                status, _ = await platform.notify_async(url, "TRANSACTION.SUCCESS", resource, event_id=event_id)
                assert status in (204, 500)
        assert (await second.notify_async(url, "TRANSACTION.SUCCESS", {}, event_id="EV-X", probe=True))[0] == 401
        stranger = MockPlatform(sandbox=False)  # a key of no merchant of the fleet
        headers, _ = notification(stranger, "EV-Y")
        with pytest.raises(SignatureError, match="no merchant of this fleet"):
            fleet.notifications.client_for(headers)
    finally:
        await runner.cleanup()
        await fleet.aclose()


# --- wechatpay certs sync ----------------------------------------------------------------------


def test_certs_sync_refreshes_the_configured_store(
    platform: MockPlatform, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "merchant_key.pem").write_text(platform.merchant_private_key_pem)
    keys = tmp_path / "keys"
    config = tmp_path / "wechatpay.toml"
    lines = [
        f'mchid = "{platform.mchid}"',
        f'serial = "{platform.merchant_serial}"',
        'private_key = "merchant_key.pem"',
        f'apiv3_key = "{platform.apiv3_key}"',
        f'base_url = "{platform.base_url}"',
    ]
    config.write_text("\n".join(lines) + "\n")
    assert main(["--config", str(config), "certs", "sync"]) == 2
    assert "key_store" in capsys.readouterr().err
    config.write_text("\n".join([*lines, f'key_store = "{keys}"']) + "\n")
    assert main(["--config", str(config), "certs", "sync"]) == 0
    assert "downloaded and saved, version 1" in capsys.readouterr().out
    assert (keys / platform.mchid / f"{platform.certificate_serial}.pem").is_file()
    assert main(["--config", str(config), "certs", "sync", "--if-needed"]) == 0
    assert "already current" in capsys.readouterr().out
    assert platform.counts[CERTS_KEY] == 1
    assert main(["--config", str(config), "--set", f"key_store=read-only:{keys}", "certs", "sync"]) == 2
    assert "read-only" in capsys.readouterr().err
