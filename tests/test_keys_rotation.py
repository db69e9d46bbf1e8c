"""``client.rotate_merchant_key(serial, key)``: serial and key change as one pair; no call is lost.

The mock platform checks each request's signature with the public key of the serial it
names, so a request signed by one key under another key's serial is refused (401): the
tests below would see any such mix as a failed call.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from _fake_kms import FakeKms
from _secrets_check import assert_no_secret_in_locals
from payloads import RETURN_ORDER

from wechatpay_chain import ApiError, Client, ConfigError
from wechatpay_chain.mock import MockPlatform
from wechatpay_chain.mock.keys import generate_key
from wechatpay_chain.v3.protocol import parse_authorization


@pytest.fixture
def new_key(mock: MockPlatform) -> Iterator[tuple[str, Any]]:
    """The merchant's next certificate: its serial and key, accepted by the platform next to the old one."""
    serial, key = secrets.token_hex(20).upper(), generate_key()
    mock.add_merchant_key(serial, key.public_key())
    yield serial, key
    mock.merchants[mock.mchid].pop(serial, None)
    mock.merchants[mock.mchid][mock.merchant_serial] = mock.merchant_key.public_key()


def _serials(mock: MockPlatform) -> Counter[str]:
    return Counter(parse_authorization(call.headers["Authorization"])["serial_no"] for call in mock.calls)


def test_many_async_calls_while_rotating_lose_none(mock: MockPlatform, new_key: tuple[str, Any]) -> None:
    serial, key = new_key
    old = (mock.merchant_serial, mock.merchant_key)
    flips = 0

    async def main() -> list[Any]:
        nonlocal flips
        async with mock.client(signing_threads=2, retry=None) as client:
            node = client.v3.profitsharing.return_orders
            calls = [asyncio.ensure_future(node.post_async(json=RETURN_ORDER)) for _ in range(160)]
            stop = threading.Event()

            def rotate() -> None:  # from another thread, while the loop and the signing threads sign
                nonlocal flips
                while not stop.is_set():
                    client.rotate_merchant_key(*((serial, key) if flips % 2 == 0 else old))
                    flips += 1

            rotator = threading.Thread(target=rotate)
            rotator.start()
            try:
                answers = await asyncio.gather(*calls, return_exceptions=True)
            finally:
                stop.set()
                rotator.join()
            client.rotate_merchant_key(serial, key)  # the rotation done: the new pair from now on
            mock.remove_merchant_key(mock.merchant_serial)  # the platform retires the old certificate
            answers.append(await node.post_async(json=RETURN_ORDER))
            return answers

    answers = asyncio.run(main())
    failures = [answer for answer in answers if isinstance(answer, BaseException)]
    assert failures == [] and len(answers) == 161
    assert flips > 1
    assert _serials(mock)[serial] >= 1 and sum(_serials(mock).values()) == 161
    assert parse_authorization(mock.calls[-1].headers["Authorization"])["serial_no"] == serial


def test_sync_calls_on_many_threads_while_rotating(mock: MockPlatform, new_key: tuple[str, Any]) -> None:
    serial, key = new_key
    pairs = [(serial, key), (mock.merchant_serial, mock.merchant_key)]
    with mock.client(retry=None) as client:
        node = client.v3.profitsharing.return_orders
        with ThreadPoolExecutor(8) as pool:
            futures = [pool.submit(node.post, json=RETURN_ORDER) for _ in range(80)]
            flips = 0
            while not all(future.done() for future in futures):  # rotating the whole time
                client.rotate_merchant_key(*pairs[flips % 2])
                flips += 1
            statuses = [future.result().status_code for future in futures]
    assert statuses == [200] * 80 and flips > 1
    assert set(_serials(mock)) == {serial, mock.merchant_serial}


def test_rotating_to_a_remote_signer_and_back(mock: MockPlatform, new_key: tuple[str, Any]) -> None:
    serial, key = new_key
    kms = FakeKms(key)
    with mock.client() as client:
        client.rotate_merchant_key(serial, kms)
        assert client.serial == serial and client.signer is kms and client.private_key is None
        client.v3.profitsharing.return_orders.post(json=RETURN_ORDER)
        assert len(kms.signed_on) == 1
        client.rotate_merchant_key(mock.merchant_serial, mock.merchant_private_key_pem)
        assert client.private_key is not None
        client.v3.profitsharing.return_orders.post(json=RETURN_ORDER)
    assert list(_serials(mock)) == [serial, mock.merchant_serial]


@pytest.mark.parametrize(
    ("serial", "key", "argument"),
    [
        ("", "KEY", "serial"),
        (None, "KEY", "serial"),
        ("NEW", "not a key and not a file", "key"),
        ("NEW", object(), "key"),
        ("NEW", "PUBLIC", "key"),
    ],
)
def test_a_bad_rotation_keeps_the_old_pair(mock: MockPlatform, serial: Any, key: Any, argument: str) -> None:
    key = {"KEY": mock.merchant_key, "PUBLIC": mock.merchant_key.public_key()}.get(key, key)
    with mock.client() as client:
        before = client._engine.settings.merchant_key
        with pytest.raises(ConfigError) as caught:
            client.rotate_merchant_key(serial, key)
        assert caught.value.argument == argument
        assert client._engine.settings.merchant_key is before
        assert client.v3.profitsharing.return_orders.post(json=RETURN_ORDER).status_code == 200


def test_a_retired_certificate_is_refused_by_the_mock(mock: MockPlatform, new_key: tuple[str, Any]) -> None:
    serial, key = new_key
    with mock.client(retry=None) as client:
        mock.remove_merchant_key(mock.merchant_serial)
        with pytest.raises(ApiError) as caught:
            client.v3.profitsharing.return_orders.post(json=RETURN_ORDER)
        assert caught.value.status_code == 401
        client.rotate_merchant_key(serial, key)
        assert client.v3.profitsharing.return_orders.post(json=RETURN_ORDER).status_code == 200
    with pytest.raises(LookupError):
        mock.remove_merchant_key(mock.merchant_serial)


def test_serial_and_key_are_read_only_attributes(client: Client) -> None:
    with pytest.raises(AttributeError):
        client.serial = "OTHER"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        client.private_key = None  # type: ignore[misc]


def test_key_text_in_the_wrong_place_stays_out_of_tracebacks(mock: MockPlatform) -> None:
    pem = mock.merchant_private_key_pem
    body = pem.splitlines()[1]
    with pytest.raises(ConfigError) as caught:
        Client(mock.mchid, serial="S", signer=pem)  # a key given as the signer
    assert_no_secret_in_locals(caught.value, body)
    with mock.client() as client, pytest.raises(ConfigError) as caught:
        client.rotate_merchant_key("NEW", "\n".join(pem.splitlines()[1:]))  # no armour line: not PEM
    assert_no_secret_in_locals(caught.value, body)
