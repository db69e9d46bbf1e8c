"""One attempt loop for both protocols: v2 calls fail over, honour Idempotency-Key and are
observed like v3 ones; the bank key is fetched on a typed signal named by the spec."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import Any

import pytest
from _certs_helpers import certificate_pem, mint_certificate, private_pem, rsa_key
from _ports import closed_port_url
from payloads import RETURN_ORDER

from wechatpay_chain import ApiError, Client, ConfigError, TransportError, ValidationError
from wechatpay_chain.catalog.specs import Catalog
from wechatpay_chain.mock import MockPlatform
from wechatpay_chain.naming import path_segments
from wechatpay_chain.retry import Attempt, Retry
from wechatpay_chain.settings import Settings
from wechatpay_chain.v2.bank import BankKeyNeeded
from wechatpay_chain.v2.flow import prepare_v2_call
from wechatpay_chain.v2.settings import V2Settings

FAST = Retry(attempts=3, backoff=0.01, max_backoff=0.05)
ORDERQUERY = {"appid": "wx8888888888888888", "out_trade_no": "1217752501"}
ORDERQUERY_KEY = ("POST", "v2/pay/orderquery")
CLOSEORDER = {"appid": "wx8888888888888888", "out_trade_no": "1217752501"}
CLOSEORDER_KEY = ("POST", "v2/pay/closeorder")
BANK_PLAIN = {
    "partner_trade_no": "1212121221227",
    "enc_bank_no": "6222020202020202020",
    "enc_true_name": "张三",
    "bank_code": "1001",
    "amount": 100000,
}


@pytest.fixture(scope="module")
def merchant_pem() -> tuple[str, str]:
    """A merchant certificate and key (self-signed: over http the mock never sees it)."""
    key = rsa_key("attempt-loop-merchant")
    return certificate_pem(mint_certificate(key, 0x2025)), private_pem(key)


def test_a_v2_call_fails_over_to_the_backup_host(mock: MockPlatform) -> None:
    events: list[Attempt] = []
    with mock.client(
        base_url=closed_port_url(), backup_urls=[mock.base_url], retry=FAST, on_attempt=events.append
    ) as client:
        answer = client.v2.pay.closeorder.post(xml=CLOSEORDER)  # a POST: nothing reached the primary
    assert answer.status_code == 200 and mock.counts[CLOSEORDER_KEY] == 1
    assert [event.error for event in events] == ["TransportError", None]
    assert events[1].host == mock.base_url.rstrip("/") and events[0].host != events[1].host
    assert events[1].path == "/pay/closeorder"  # reported like v3: the host, then the path


def test_a_v2_post_is_retried_only_with_an_idempotency_key(mock: MockPlatform) -> None:
    with mock.client(retry=FAST) as client:
        mock.fail("unavailable")
        with pytest.raises(ApiError):
            client.v2.pay.closeorder.post(xml=CLOSEORDER)
        assert mock.counts[CLOSEORDER_KEY] == 1  # may have had its effect: never sent twice
        mock.fail("unavailable")
        assert client.v2.pay.closeorder.post(xml=CLOSEORDER, headers={"Idempotency-Key": "C1"}).status_code == 200
        assert mock.counts[CLOSEORDER_KEY] == 3
        mock.fail("server_error")
        assert client.v2.pay.closeorder.post(xml=CLOSEORDER, idempotent=True).status_code == 200
        assert mock.counts[CLOSEORDER_KEY] == 5


def test_a_v2_retry_sends_the_same_signed_bytes(mock: MockPlatform) -> None:
    with mock.client(retry=FAST) as client:
        mock.fail("server_error")
        client.v2.pay.closeorder.post(xml=CLOSEORDER, idempotent=True)
    first, second = mock.calls[-2:]
    assert first.body == second.body  # a v2 sign carries no timestamp: the same request again


def test_a_v2_post_that_could_not_connect_says_nothing_was_sent() -> None:
    with (
        Client(mchid="1900000109", secret="s" * 32, base_url=closed_port_url(), backup_urls=[], retry=FAST) as client,
        pytest.raises(TransportError) as caught,
    ):
        client.v2.pay.closeorder.post(xml=CLOSEORDER)
    assert caught.value.sent is False


def test_a_v2_post_that_may_have_arrived_is_sent_once_and_says_to_query() -> None:
    # A server that reads the request and never answers: the close may have taken effect.
    requests: list[bytes] = []
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.settimeout(5)

        def swallow() -> None:
            with contextlib.suppress(OSError):
                while True:
                    connection, _ = server.accept()
                    requests.append(connection.recv(65536))
                    time.sleep(1.5)
                    connection.close()

        threading.Thread(target=swallow, daemon=True).start()
        url = f"http://127.0.0.1:{server.getsockname()[1]}/"
        with (
            Client(mchid="1900000109", secret="s" * 32, base_url=url, backup_urls=[], retry=FAST) as client,
            pytest.raises(TransportError) as caught,
        ):
            client.v2.pay.closeorder.post(xml=CLOSEORDER, timeout=0.5)
    assert caught.value.sent is True and "query its result" in str(caught.value)
    assert len(requests) == 1 and requests[0].startswith(b"POST /pay/closeorder")  # never sent again


def test_the_v2_backup_host_is_the_platforms_own() -> None:
    settings = Settings(mchid="1900000109", catalog=Catalog())
    operation = settings.operation_for("POST", "v2/pay/orderquery")
    assert settings.hosts_for(operation, v2=True) == ["https://api.mch.weixin.qq.com", "https://api2.mch.weixin.qq.com"]
    assert settings.hosts_for(operation) == ["https://api.mch.weixin.qq.com", "https://api2.wechatpay.cn"]
    risk = settings.operation_for("POST", "v2/risk/getpublickey")  # its spec names its own host
    assert settings.hosts_for(risk, v2=True) == ["https://fraud.mch.weixin.qq.com"]
    mock = Settings(mchid="1", catalog=Catalog(), base_url="http://127.0.0.1:1")
    assert mock.hosts_for(operation, v2=True) == ["http://127.0.0.1:1"]  # a mock has no backup


def _bank_settings(**extra: Any) -> Settings:
    return Settings(
        mchid="1900000109",
        catalog=Catalog(),
        v2=V2Settings.load(secret="s" * 32, client_cert=None, client_key=None),
        **extra,
    )


def test_a_missing_bank_key_alone_is_a_signal_naming_the_specs_key_operation() -> None:
    segments = tuple(path_segments("v2/mmpaysptrans/pay_bank"))
    settings = _bank_settings()
    operation = settings.operation_for("POST", "v2/mmpaysptrans/pay_bank")
    assert operation is not None
    with pytest.raises(BankKeyNeeded) as caught:
        prepare_v2_call(settings, "POST", segments, {"xml": BANK_PLAIN})
    assert caught.value.operation == operation.spec["encrypt_key"] == "v2/risk/getpublickey"


def test_a_missing_bank_key_with_other_problems_reports_them_all() -> None:
    segments = tuple(path_segments("v2/mmpaysptrans/pay_bank"))
    with pytest.raises(ValidationError) as caught:
        prepare_v2_call(_bank_settings(), "POST", segments, {"xml": {**BANK_PLAIN, "amount": "a lot"}})
    rules = {(problem.pointer, problem.rule) for problem in caught.value.errors}
    assert ("/xml/enc_bank_no", "encrypt_key") in rules and any(pointer == "/xml/amount" for pointer, _ in rules)


def test_the_bank_key_is_fetched_once_then_the_transfer_is_prepared_again(
    mock: MockPlatform, merchant_pem: tuple[str, str]
) -> None:
    events: list[Attempt] = []
    pair = {"client_cert": merchant_pem[0], "client_key": merchant_pem[1]}
    with mock.client(on_attempt=events.append, **pair) as client:
        client.v2.mmpaysptrans.pay_bank.post(xml=BANK_PLAIN)
        client.v2.mmpaysptrans.pay_bank.post(xml=BANK_PLAIN)
    assert [event.path for event in events] == [
        "/risk/getpublickey",
        "/mmpaysptrans/pay_bank",
        "/mmpaysptrans/pay_bank",
    ]
    assert mock.calls[-1].decrypted["enc_true_name"] == "张三"


def test_a_v3_call_whose_answer_cannot_be_verified_is_not_sent(mock: MockPlatform) -> None:
    # No platform key trusted: a POST would take effect and its answer could never be checked.
    with mock.client(certs={}) as client, pytest.raises(ConfigError, match="nothing was sent"):
        client.v3.profitsharing.return_orders.post(json=RETURN_ORDER)
    assert not mock.calls
