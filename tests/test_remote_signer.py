"""A remote signer (signer=): a key kept in a KMS or HSM signs requests, downloads and pay-sign.

Against the mock platform over real sockets: the mock checks every signature with the public
key it was given for the serial (``mock.add_merchant_key``).
"""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _certs_helpers import private_pem, rsa_key
from _fake_kms import AsyncFakeKms, FakeKms, listening
from payloads import RETURN_ORDER

from wechatpay_chain import Client, ConfigError
from wechatpay_chain.config import client_keywords, client_kwargs_from_env, client_kwargs_from_file
from wechatpay_chain.merchant_key import AsyncSigner, LocalSigner, Signer
from wechatpay_chain.mock import MockPlatform
from wechatpay_chain.trust.crypto import rsa_verify
from wechatpay_chain.v3.paysign import jsapi_params, pay_signing_string
from wechatpay_chain.v3.protocol import parse_authorization

# A platform key to trust: without one a client sends nothing (no answer could be verified).
TRUSTED = {"PUB_KEY_ID_0112345678": rsa_key("remote-signer-platform").public_key()}


@pytest.fixture
def kms(mock: MockPlatform) -> Iterator[tuple[FakeKms, str]]:
    """A fake KMS and the serial of its certificate, known to the mock for this test."""
    signer, serial = FakeKms(), secrets.token_hex(20).upper()
    mock.add_merchant_key(serial, signer.public_key())
    yield signer, serial
    mock.remove_merchant_key(serial)


@pytest.fixture
def async_kms(mock: MockPlatform) -> Iterator[tuple[AsyncFakeKms, str]]:
    signer, serial = AsyncFakeKms(), secrets.token_hex(20).upper()
    mock.add_merchant_key(serial, signer.public_key())
    yield signer, serial
    mock.remove_merchant_key(serial)


def _remote(mock: MockPlatform, signer: Any, serial: str, **options: Any) -> Client:
    return mock.client(private_key=None, signer=signer, serial=serial, **options)


def _post_many(client: Client, count: int) -> list[Any]:
    async def main() -> list[Any]:
        node = client.v3.profitsharing.return_orders
        try:
            return await asyncio.gather(*(node.post_async(json=RETURN_ORDER) for _ in range(count)))
        finally:
            await client.aclose()

    return asyncio.run(main())


def test_sync_calls_are_signed_by_the_remote_signer(mock: MockPlatform, kms: tuple[FakeKms, str]) -> None:
    signer, serial = kms
    with _remote(mock, signer, serial) as client:
        assert client.v3.profitsharing.return_orders.post(json=RETURN_ORDER).status_code == 200
        assert client.signer is signer and client.private_key is None and client.serial == serial
        assert "v3 remote signer" in repr(client)
    assert signer.signed_on == [threading.current_thread().name]  # a sync call signs on its own thread
    assert parse_authorization(mock.calls[-1].headers["Authorization"])["serial_no"] == serial
    assert isinstance(signer, Signer) and not isinstance(signer, AsyncSigner)


@pytest.mark.parametrize("threads", [0, 2])
def test_async_calls_never_wait_for_a_remote_sign_on_the_loop(
    mock: MockPlatform, kms: tuple[FakeKms, str], threads: int
) -> None:
    signer, serial = kms
    signer.delay = 0.005  # a KMS round trip: on the loop it would stall every other call
    answers = _post_many(_remote(mock, signer, serial, signing_threads=threads), 12)
    assert [answer.status_code for answer in answers] == [200] * 12
    assert len(signer.signed_on) == 12
    assert threading.current_thread().name not in signer.signed_on  # not even the first, lone call
    if threads:
        assert set(signer.signed_on) <= {"wechatpay-chain-sign-0", "wechatpay-chain-sign-1"}


def test_an_async_signer_is_awaited_by_async_calls(mock: MockPlatform, async_kms: tuple[AsyncFakeKms, str]) -> None:
    signer, serial = async_kms
    assert isinstance(signer, AsyncSigner)
    answers = _post_many(_remote(mock, signer, serial), 16)
    assert [answer.status_code for answer in answers] == [200] * 16
    assert signer.signed_async == 16 and signer.signed_on == []
    with _remote(mock, signer, serial) as client:  # a sync call has no loop: it uses sign()
        client.v3.profitsharing.return_orders.post(json=RETURN_ORDER)
    assert signer.signed_async == 16 and len(signer.signed_on) == 1


class _BadSigner:
    def __init__(self, result: Any) -> None:
        self.result = result

    def sign(self, message: bytes) -> Any:
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


class _BadAsyncSigner(_BadSigner):
    async def sign_async(self, message: bytes) -> Any:
        return self.sign(message)


@pytest.mark.parametrize(
    ("result", "reason"),
    [
        (b"\x01" * 128, "returned 128 bytes, expected a 256-byte RSA signature"),
        ("c2lnbmF0dXJl", "returned str, expected the raw signature bytes"),
        (None, "returned NoneType"),
        (TimeoutError("KMS did not answer"), "the signer raised TimeoutError: KMS did not answer"),
    ],
)
@pytest.mark.parametrize("kind", [_BadSigner, _BadAsyncSigner])
def test_a_bad_signature_is_refused_and_nothing_is_sent(result: Any, reason: str, kind: type[_BadSigner]) -> None:
    with listening() as (url, connections):
        client = Client("1900000109", serial="ABC", signer=kind(result), certs=TRUSTED, base_url=url, retry=3)
        with client, pytest.raises(ConfigError, match=reason) as sync_failure:
            client.v3.profitsharing.return_orders.post(json=RETURN_ORDER)
        assert sync_failure.value.argument == "signer" and "nothing was sent" in str(sync_failure.value)

        async def main() -> None:
            async with Client(
                "1900000109", serial="ABC", signer=kind(result), certs=TRUSTED, base_url=url
            ) as async_client:
                with pytest.raises(ConfigError, match=reason):
                    await async_client.v3.profitsharing.return_orders.post_async(json=RETURN_ORDER)

        asyncio.run(main())
        assert connections() == 0


def test_a_signer_of_another_key_size_says_so(mock: MockPlatform) -> None:
    class Small(_BadSigner):
        key_size = 3072  # its signatures are 384 bytes: 256 are refused

    with listening() as (url, connections):
        with (
            Client("1", serial="S", signer=Small(b"\0" * 256), certs=TRUSTED, base_url=url) as client,
            pytest.raises(ConfigError, match="expected a 384-byte RSA signature"),
        ):
            client.v3.profitsharing.return_orders.post(json=RETURN_ORDER)
        assert connections() == 0


@pytest.mark.parametrize(
    ("options", "argument", "reason"),
    [
        ({"signer": FakeKms, "private_key": "KEY"}, "signer", "not both"),
        ({"signer": FakeKms, "serial": None}, "serial", "serial and signer go together"),
        ({"signer": object()}, "signer", "sign(message) -> bytes"),
        ({"signer": "PEM"}, "signer", "a key goes in private_key="),  # a PEM key passed as the signer
        ({"signer": _BadSigner(b""), "serial": ""}, "serial", "certificate serial"),
    ],
)
def test_signer_configuration_errors(mock: MockPlatform, options: dict[str, Any], argument: str, reason: str) -> None:
    settings: dict[str, Any] = {"serial": "ABC", "private_key": None, **options}
    if settings["signer"] is FakeKms:
        settings["signer"] = FakeKms(mock.merchant_key)
    if settings["private_key"] == "KEY":
        settings["private_key"] = mock.merchant_key
    if settings["signer"] == "PEM":  # the run's own key, as PEM text: no key material is committed
        settings["signer"] = private_pem(rsa_key("signer-given-a-pem"))
    with pytest.raises(ConfigError) as caught:
        mock.client(**settings)
    assert caught.value.argument == argument and reason in caught.value.reason


def test_a_bad_key_size_is_a_configuration_error() -> None:
    class Odd(_BadSigner):
        key_size = "2048"

    with pytest.raises(ConfigError, match="key_size"):
        Client("1", serial="S", signer=Odd(b""))


def test_a_signer_cannot_come_from_the_environment_or_a_file(tmp_path: Path) -> None:
    known = client_keywords(Client.__init__)
    assert known["signer"].kind == "object"
    with pytest.raises(ConfigError, match="takes a Python object"):
        client_kwargs_from_env(known, environ={"WECHATPAY_MCHID": "1", "WECHATPAY_SIGNER": "kms://key/1"})
    config = tmp_path / "wechatpay.toml"
    config.write_text('mchid = "1"\nsigner = "kms://key/1"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="takes a Python object"):
        client_kwargs_from_file(known, config)


def test_decrypt_needs_the_private_key_itself(mock: MockPlatform, kms: tuple[FakeKms, str]) -> None:
    signer, serial = kms
    with _remote(mock, signer, serial) as client, pytest.raises(ConfigError) as caught:
        client.decrypt("c2VhbGVk")
    assert caught.value.argument == "signer" and "remote signer only signs" in caught.value.reason
    with mock.client() as local:  # a local key decrypts as before
        assert local.signer is not None and isinstance(local.signer, LocalSigner)
        assert repr(local.signer) == "<LocalSigner RSA-2048>"


def test_pay_sign_with_a_remote_signer(mock: MockPlatform, kms: tuple[FakeKms, str]) -> None:
    signer, serial = kms
    with _remote(mock, signer, serial) as client:
        params = client.paysign.jsapi("wx8888888888888888", "wx201410272009395522657a690389285100")
        app = client.paysign.app("wx8888888888888888", "WX1217752501201407033233368018")
    signed = pay_signing_string(params["appId"], params["timeStamp"], params["nonceStr"], params["package"])
    assert rsa_verify(signer.public_key(), signed, params["paySign"])
    signed = pay_signing_string(app["appid"], app["timestamp"], app["noncestr"], app["prepayid"])
    assert rsa_verify(signer.public_key(), signed, app["sign"])
    # the module function takes a signer as well as a key
    again = jsapi_params("wx1", "prepay", signer, timestamp=1414561699, nonce="n")
    assert rsa_verify(
        signer.public_key(), pay_signing_string("wx1", "1414561699", "n", "prepay_id=prepay"), again["paySign"]
    )
    with pytest.raises(ConfigError, match="pay-sign needs"), Client("1") as keyless:
        keyless.paysign.jsapi("wx1", "prepay")


def test_downloads_are_signed_by_the_remote_signer(
    mock: MockPlatform, async_kms: tuple[AsyncFakeKms, str], tmp_path: Path
) -> None:
    signer, serial = async_kms
    with _remote(mock, signer, serial) as client:
        answer = client.v3.bill.tradebill.get(query={"bill_date": "2026-11-24"})
        client.download_bill(answer, to=tmp_path / "sync.csv")
    assert len(signer.signed_on) == 2 and signer.signed_async == 0

    async def main() -> None:
        async with _remote(mock, signer, serial) as client:
            answer = await client.v3.bill.tradebill.get_async(query={"bill_date": "2026-11-24"})
            await client.download_bill_async(answer, to=tmp_path / "async.csv")

    asyncio.run(main())
    assert signer.signed_async == 2
    assert (tmp_path / "sync.csv").read_bytes() == (tmp_path / "async.csv").read_bytes() != b""
    assert parse_authorization(mock.calls[-1].headers["Authorization"])["serial_no"] == serial


def test_fleet_clients_take_a_signer(mock: MockPlatform, kms: tuple[FakeKms, str]) -> None:
    from wechatpay_chain.fleet import Merchants

    signer, serial = kms
    with Merchants(base_url=mock.base_url) as fleet:
        shop = fleet.client(
            mock.mchid, serial=serial, signer=signer, certs={mock.public_key_id: mock.platform_key.public_key()}
        )
        assert shop.v3.profitsharing.return_orders.post(json=RETURN_ORDER).status_code == 200
    assert len(signer.signed_on) == 1
