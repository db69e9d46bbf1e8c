"""Faults on the wire: timeouts, retries, failover, observation, clock skew, resource hygiene."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import threading
import time
import warnings
from pathlib import Path
from typing import Any

import pytest
from _ports import closed_port_url
from payloads import RETURN_ORDER

from wechatpay_chain import ApiError, Client, SignatureError, Timeout, TimeoutError, TransportError
from wechatpay_chain.mock import FAULTS, MockPlatform
from wechatpay_chain.retry import Attempt, Retry

POST_KEY = ("POST", "v3/profitsharing/return-orders")
GET_KEY = ("GET", "v3/pay/transactions/id/{transaction_id}")
FAST = Retry(attempts=3, backoff=0.01, max_backoff=0.05)


def _get(client: Client, **kwargs: Any) -> Any:
    return client.v3.pay.transactions.id._transaction_id_.get(
        transaction_id="4200000001", query={"mchid": "1900000109"}, **kwargs
    )


def _post(client: Client, **kwargs: Any) -> Any:
    return client.v3.profitsharing.return_orders.post(json=RETURN_ORDER, **kwargs)


@pytest.fixture
def fast(mock: MockPlatform) -> Any:
    with mock.client(retry=FAST) as client:
        yield client


@pytest.mark.parametrize(
    "fault", ["server_error", "bad_gateway", "unavailable", "rate_limited", "reset", "truncated_body", "bad_signature"]
)
def test_get_is_retried_and_succeeds(fast: Client, mock: MockPlatform, fault: str) -> None:
    mock.fail(fault)
    assert _get(fast).status_code == 200
    assert mock.counts[GET_KEY] == 2


@pytest.mark.parametrize(
    "fault, error",
    [
        ("server_error", ApiError),
        ("bad_gateway", ApiError),
        ("unavailable", ApiError),
        ("rate_limited", ApiError),
        ("reset", TransportError),
        ("truncated_body", TransportError),
        ("bad_signature", SignatureError),
    ],
)
def test_post_without_idempotency_is_never_sent_twice(
    fast: Client, mock: MockPlatform, fault: str, error: type
) -> None:
    mock.fail(fault)
    with pytest.raises(error):
        _post(fast)
    assert mock.counts[POST_KEY] == 1


def test_post_with_an_idempotency_key_is_retried(fast: Client, mock: MockPlatform) -> None:
    mock.fail("unavailable")
    assert _post(fast, headers={"Idempotency-Key": "R1"}).status_code == 200
    mock.fail("server_error")
    assert _post(fast, idempotent=True).status_code == 200
    assert mock.counts[POST_KEY] == 4


def test_retries_are_bounded(fast: Client, mock: MockPlatform) -> None:
    mock.fail("server_error", times=5)
    with pytest.raises(ApiError):
        _get(fast)
    assert mock.counts[GET_KEY] == 3


def test_each_retry_is_signed_afresh(fast: Client, mock: MockPlatform) -> None:
    mock.fail("unavailable")
    _get(fast)
    authorizations = [call.headers["Authorization"] for call in mock.calls]
    assert len(set(authorizations)) == 2


def test_4xx_is_never_retried(fast: Client, mock: MockPlatform) -> None:
    from wechatpay_chain.mock import MockAnswer

    mock.on("GET", GET_KEY[1], lambda call: MockAnswer(404, {"code": "ORDER_NOT_EXIST", "message": "订单不存在"}))
    with pytest.raises(ApiError):
        _get(fast)
    assert mock.counts[GET_KEY] == 1


def test_connection_refused_fails_over_to_the_backup_host(mock: MockPlatform) -> None:
    events: list[Attempt] = []
    with mock.client(
        base_url=closed_port_url(), backup_urls=[mock.base_url], retry=FAST, on_attempt=events.append
    ) as client:
        assert _post(client).status_code == 200  # nothing was sent to the primary: safe for a POST
    assert mock.counts[POST_KEY] == 1
    assert [e.error for e in events] == ["TransportError", None]
    assert events[0].host != events[1].host and events[1].host == mock.base_url.rstrip("/")


def test_connection_refused_everywhere_is_a_transport_error() -> None:
    platform = MockPlatform()
    with (
        Client(
            mchid="1",
            serial="S",
            private_key=platform.merchant_key,
            certs={platform.public_key_id: platform.platform_key.public_key()},
            base_url=closed_port_url(),
            backup_urls=[],
            retry=FAST,
            validate=False,
        ) as client,
        pytest.raises(TransportError) as caught,
    ):
        client.chain("v3/x").get()
    assert caught.value.sent is False


def test_slow_headers_time_out_within_the_total(mock: MockPlatform) -> None:
    mock.fail("slow_headers", times=0, delay=3)
    try:
        with mock.client(retry=FAST) as client:
            started = time.monotonic()
            with pytest.raises(TimeoutError):
                _get(client, timeout=Timeout(total=0.6, connect=0.5, read=5))
            assert time.monotonic() - started < 2.0  # retries included, the total bounds the call

            async def main() -> None:
                async with mock.client(retry=FAST) as async_client:
                    await async_client.v3.pay.transactions.id._transaction_id_.get_async(
                        transaction_id="1", query={"mchid": "1900000109"}, timeout=0.6
                    )

            started = time.monotonic()
            with pytest.raises(TimeoutError):
                asyncio.run(main())
            assert time.monotonic() - started < 2.0
    finally:
        mock.clear_faults()


def test_slow_body_hits_the_read_timeout(fast: Client, mock: MockPlatform) -> None:
    mock.fail("slow_body", times=0, delay=2)
    try:
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            _post(fast, timeout=Timeout(total=5, connect=1, read=0.4))
        assert time.monotonic() - started < 2.0
        assert mock.counts[POST_KEY] == 1  # sent: a POST is not repeated after a timeout
    finally:
        mock.clear_faults()


def test_observer_and_debug_log_carry_no_secrets(mock: MockPlatform, caplog: pytest.LogCaptureFixture) -> None:
    events: list[Attempt] = []
    mock.fail("unavailable")
    with mock.client(retry=FAST, on_attempt=events.append) as client, caplog.at_level(logging.DEBUG, "wechatpay_chain"):
        _get(client)
    assert [(e.attempt, e.status, e.will_retry) for e in events] == [(1, 503, True), (2, 200, False)]
    assert all(e.request_id and e.path == "/v3/pay/transactions/id/4200000001" for e in events)
    text = caplog.text + repr(events)
    for secret in ("BEGIN", mock.apiv3_key):
        assert secret not in text
    # The observer never sees the query; the debug log shows the URL as sent, and the
    # Authorization header with its signature masked, never the signature.
    assert "mchid=1900000109" not in repr(events) and "signature=" not in repr(events)
    assert caplog.text.count("signature=") == caplog.text.count('signature="***"') == 2
    assert "attempt=2" in caplog.text


def test_a_failing_observer_does_not_break_the_call(mock: MockPlatform) -> None:
    def broken(_: Attempt) -> None:
        raise RuntimeError("observer bug")

    with mock.client(on_attempt=broken) as client:
        assert _get(client).status_code == 200


def test_clock_skew_is_rejected_and_can_be_corrected(mock: MockPlatform) -> None:
    skewed = lambda: time.time() + 600  # noqa: E731 - a clock ten minutes fast
    with mock.client(clock=skewed, retry=FAST) as client, pytest.raises(ApiError) as caught:
        _post(client)
    assert caught.value.status_code == 401  # the platform refuses the timestamp
    with mock.client(clock=skewed, correct_clock=True, retry=FAST) as client:
        assert _post(client).status_code == 200  # learnt the offset from Date, signed again
        assert abs(client.clock_offset + 600) < 5
        assert _post(client).status_code == 200
    assert mock.counts[POST_KEY] == 2  # the mock counts signed-correctly requests only


def test_answers_signed_outside_the_window_are_rejected(client: Client, mock: MockPlatform) -> None:
    for fault in ("stale_timestamp", "future_timestamp"):
        mock.fail(fault)
        with pytest.raises(SignatureError) as caught:
            _post(client)
        assert caught.value.check == "timestamp"


def test_all_faults_have_a_test() -> None:
    tested = {
        "server_error",
        "bad_gateway",
        "unavailable",
        "rate_limited",
        "reset",
        "truncated_body",
        "bad_signature",
        "slow_headers",
        "slow_body",
        "stale_timestamp",
        "future_timestamp",
        "unknown_serial",
        "missing_headers",
        "tampered_body",
        "v2_bad_sign",
    }
    assert set(FAULTS) <= tested


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_resources_stay_flat_over_many_calls(mock: MockPlatform) -> None:
    """A short soak (the long one: tests/test_soak.py, pytest -m slow)."""
    with mock.client(retry=FAST) as client:
        _get(client)  # warm up the pools
        fds, threads = _open_fds(), threading.active_count()
        for index in range(300):
            if index % 50 == 0:
                mock.fail("server_error")
                with pytest.raises(ApiError):
                    _post(client)
            else:
                _get(client)

        async def burst() -> None:
            async with mock.client(retry=FAST) as async_client:
                node = async_client.v3.pay.transactions.id._transaction_id_
                await asyncio.gather(
                    *(node.get_async(transaction_id=str(i), query={"mchid": "1900000109"}) for i in range(200))
                )

        asyncio.run(burst())
        # The mock's side of the closed connections shuts down on its own loop, soon after.
        deadline = time.monotonic() + 5
        while _open_fds() > fds + 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _open_fds() <= fds + 2
        assert threading.active_count() <= threads + 1
    assert client.transport.open_sessions() == 0


def test_a_client_left_open_warns_once(mock: MockPlatform) -> None:
    client = mock.client()
    _get(client)
    transport = client.transport
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del client
        transport.__del__()
        gc.collect()
    assert [w.category for w in caught if "not closed" in str(w.message)] == [ResourceWarning]


MICROPAY = {
    "appid": "wx8888888888888888",
    "body": "x",
    "out_trade_no": "T1",
    "total_fee": 1,
    "spbill_create_ip": "8.8.8.8",
    "auth_code": "120061098828009406",
}


def test_v2_calls_follow_the_same_retry_rules(fast: Client, mock: MockPlatform) -> None:
    events: list[Attempt] = []
    fast.on_attempt = events.append
    mock.fail("unavailable")
    with pytest.raises(ApiError):
        fast.v2.pay.micropay.post(xml=MICROPAY)  # a payment: never sent twice
    assert mock.counts[("POST", "v2/pay/micropay")] == 1
    assert [(e.status, e.will_retry) for e in events] == [(503, False)]
    mock.fail("unavailable")
    assert fast.v2.pay.micropay.post(xml=MICROPAY, idempotent=True).status_code == 200
    assert mock.counts[("POST", "v2/pay/micropay")] == 3


def test_aiohttp_never_replays_a_put_or_delete_by_itself() -> None:
    """A server that reads the request and drops the connection: each verb arrives once.

    aiohttp sends GET, PUT and DELETE a second time after a dropped connection unless told
    not to (transport._send_once does, through its public middlewares)."""
    seen: list[bytes] = []

    async def main() -> list[bytes]:
        async def drop(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            seen.append(await reader.readuntil(b"\r\n\r\n"))
            writer.close()

        server = await asyncio.start_server(drop, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        platform = MockPlatform()
        async with Client(
            mchid="1",
            serial="S",
            private_key=platform.merchant_key,
            certs={platform.public_key_id: platform.platform_key.public_key()},  # else nothing is sent
            base_url=f"http://127.0.0.1:{port}/",
            backup_urls=[],
            retry=None,
            validate=False,
        ) as client:
            for verb in ("delete_async", "put_async", "post_async", "patch_async"):
                with pytest.raises(TransportError):
                    await getattr(client.chain("v3/edu-papay/contracts/42"), verb)(json={"a": 1})
            with pytest.raises(TransportError):
                await client.chain("v3/edu-papay/contracts/42").get_async()
        server.close()
        return seen

    requests = asyncio.run(main())
    assert [r.split(b" ", 1)[0] for r in requests] == [b"DELETE", b"PUT", b"POST", b"PATCH", b"GET"]


def test_redirects_are_not_followed(client: Client, mock: MockPlatform) -> None:
    from wechatpay_chain.mock import MockAnswer

    mock.on("POST", "v3/profitsharing/return-orders", lambda call: MockAnswer(307, None, {"Location": "/v3/elsewhere"}))
    with pytest.raises(ApiError) as caught:
        _post(client)
    assert caught.value.status_code == 307
    assert [call.path for call in mock.calls] == ["/v3/profitsharing/return-orders"]


def test_sync_calls_from_short_lived_threads_share_a_bounded_pool(mock: MockPlatform) -> None:
    from wechatpay_chain.transport.blocking import MAX_IDLE_PER_HOST

    with mock.client() as client:

        def round_of_threads() -> None:
            threads = [threading.Thread(target=_get, args=(client,)) for _ in range(20)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()

        _get(client)
        gc.collect()
        fds = _open_fds()
        for _ in range(4):
            round_of_threads()
        gc.collect()
        # 80 threads in all; at most 20 ran at once, so at most 20 connections (two
        # descriptors each, with the mock in this process) were ever needed at a time.
        assert _open_fds() <= fds + 2 * 20 + 4
        assert 1 <= client.transport.blocking.idle_connections() <= min(20, MAX_IDLE_PER_HOST)
    assert client.transport.blocking.idle_connections() == 0


def test_sync_downloads_from_short_lived_threads_share_the_pool(mock: MockPlatform, tmp_path: Path) -> None:
    from wechatpay_chain.mock.bills import sample_bill_lines

    url = mock.add_bill(lambda: sample_bill_lines(10))["download_url"]
    with mock.client() as client:

        def round_of_threads(number: int) -> None:
            threads = [
                threading.Thread(target=client.download, args=(url, tmp_path / f"{number}-{index}.csv"))
                for index in range(20)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()

        client.download(url, tmp_path / "first.csv")
        gc.collect()
        fds = _open_fds()
        for number in range(4):
            round_of_threads(number)
        gc.collect()
        assert _open_fds() <= fds + 2 * 20 + 4  # at most 20 at once, whatever the number of threads
        assert len(list(tmp_path.iterdir())) == 81
        assert not client.transport._sessions  # no aiohttp session, so no event loop, was needed


def test_an_interrupted_sync_call_leaves_nothing_to_be_sent_later(mock: MockPlatform) -> None:
    """Ctrl-C while a sync call waits: its connection is closed, nothing stays pending."""
    import signal

    mock.fail("slow_headers")
    client = mock.client(retry=None)

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 0.2)
    try:
        with pytest.raises(KeyboardInterrupt):
            _post(client)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert client.transport.blocking.idle_connections() == 0  # the interrupted connection is gone
    assert _post(client).status_code == 200  # a later call goes on a fresh connection, alone
    assert mock.counts[("POST", POST_KEY[1])] == 2
    client.close()


def test_close_while_other_threads_call(mock: MockPlatform) -> None:
    client = mock.client()
    errors: list[BaseException] = []
    stop = threading.Event()

    def worker() -> None:
        while not stop.is_set():
            try:
                _get(client)
            except TransportError:
                return  # "the client is closed": expected once close() ran
            except BaseException as error:
                errors.append(error)
                return

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(0.3)
    client.close()
    stop.set()
    for thread in threads:
        thread.join(timeout=10)
    assert not errors, errors
    assert client.transport.open_sessions() == 0


def test_the_clock_is_not_learnt_from_unverified_answers(mock: MockPlatform) -> None:
    from wechatpay_chain.mock import MockAnswer

    mock.on("POST", POST_KEY[1], lambda call: MockAnswer(502, {"code": "X"}, {"Date": "Mon, 01 Jan 2001 00:00:00 GMT"}))
    with mock.client(correct_clock=True, retry=None) as client:
        with pytest.raises(ApiError):
            _post(client)
        assert client.clock_offset == 0.0


def test_sessions_of_ended_loops_are_let_go(mock: MockPlatform) -> None:
    with mock.client() as client, warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)  # the unclosed sessions are the point here
        for index in range(20):
            asyncio.run(
                client.v3.pay.transactions.id._transaction_id_.get_async(
                    transaction_id=str(index), query={"mchid": "1900000109"}
                )
            )
        assert len(client.transport._sessions) <= 1
