"""Many merchants in one process: a shared catalogue and transport (fleet.py), per-client state."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_v2_mtls import REFUND, Pki, pki, tls_platform  # noqa: F401 (pki is a fixture)

from wechatpay_chain import Client, ConfigError, Response, TransportError, ValidationError
from wechatpay_chain.catalog.specs import Catalog
from wechatpay_chain.config import client_keywords, client_kwargs_from_pairs
from wechatpay_chain.fleet import Merchants
from wechatpay_chain.mock import MockPlatform
from wechatpay_chain.mock.platform import generate_key
from wechatpay_chain.transport.shared import SharedTransport
from wechatpay_chain.v2.codec import decode_xml

KEYWORDS = client_keywords(Client.__init__)  # what Client(...) takes

ORDER = {"description": "a cup", "out_trade_no": "F1217752501", "amount": {"total": 1}, "payer": {"openid": "o-1"}}
SECOND_MCHID = "1900000110"


@pytest.fixture
def fleet(mock: MockPlatform) -> Iterator[Merchants]:
    with Merchants(base_url=mock.base_url) as merchants:
        yield merchants


def merchant(mock: MockPlatform, fleet: Merchants, mchid: str | None = None, **options: Any) -> Client:
    """A fleet client for ``mchid`` (the mock's merchant, or a second one registered with its own key)."""
    key, serial = mock.merchant_key, mock.merchant_serial
    if mchid is not None and mchid != mock.mchid:
        key, serial = generate_key(), f"{mchid}SERIAL"
        mock.merchants[mchid] = {serial: key.public_key()}
    return fleet.client(
        mchid or mock.mchid,
        serial=serial,
        private_key=key,
        certs={mock.public_key_id: mock.platform_key.public_key()},
        apiv3_key=mock.apiv3_key,
        secret=mock.secret,
        **options,
    )


def look_up(client: Client, transaction_id: str) -> Response:
    return client.v3.pay.transactions.id._transaction_id_.get(
        transaction_id=transaction_id, query={"mchid": client.mchid}
    )


async def look_up_async(client: Client, transaction_id: str) -> Response:
    return await client.v3.pay.transactions.id._transaction_id_.get_async(
        transaction_id=transaction_id, query={"mchid": client.mchid}
    )


def test_fleet_clients_share_the_catalogue_and_the_transport(mock: MockPlatform, fleet: Merchants) -> None:
    first, second = merchant(mock, fleet), merchant(mock, fleet, SECOND_MCHID)
    assert first.catalog is second.catalog is fleet.catalog
    assert isinstance(first.transport, SharedTransport) and first.transport.shared is fleet.transport
    assert first.transport is not second.transport  # each client closes its own handle
    query = "v3/pay/transactions/id/{transaction_id}"
    for client in (first, second):
        assert look_up(client, "1").verified
    assert [call.mchid for call in mock.calls] == [mock.mchid, SECOND_MCHID]
    assert fleet.catalog.operation(query, "GET") is first.catalog.operation(query, "GET")  # read once
    assert len(fleet.transport.blocking._pools) == 1  # one pool for the host, both merchants on it
    # Per-merchant state stays per client.
    assert first.private_key is not second.private_key and first.serial != second.serial
    first.clock_offset = 30.0
    assert second.clock_offset == 0.0
    assert first.trusted_keys is not second.trusted_keys and first.v2_settings is not second.v2_settings


def test_closing_a_merchant_client_leaves_the_fleet_open(mock: MockPlatform, fleet: Merchants) -> None:
    first, second = merchant(mock, fleet), merchant(mock, fleet)
    first.close()
    with pytest.raises(TransportError, match="closed"):
        first.v3.pay.transactions.jsapi.post(json={**ORDER, "appid": "wx1", "notify_url": "https://a.example/n"})
    assert not fleet.transport.closed
    assert look_up(second, "42").status_code == 200
    fleet.close()
    with pytest.raises(TransportError, match="closed"):
        look_up(second, "42")
    with pytest.raises(TransportError, match="closed"):
        merchant(mock, fleet)


def test_async_fleet_clients_share_one_session_per_loop(mock: MockPlatform) -> None:
    async def main() -> None:
        async with Merchants(base_url=mock.base_url) as fleet:
            clients = [merchant(mock, fleet), merchant(mock, fleet, SECOND_MCHID)]
            answers = await asyncio.gather(*(look_up_async(c, "7") for c in clients * 3))
            assert all(answer.verified for answer in answers)
            assert len(fleet.transport._sessions) == 1
            async with clients[0]:
                pass  # aclose() of a merchant client: the session stays
            assert await look_up_async(clients[1], "8")
            assert fleet.transport.open_sessions() == 1
        assert fleet.transport.closed

    asyncio.run(main())


def test_client_keywords_for_shared_parts(mock: MockPlatform, fleet: Merchants) -> None:
    own = mock.client(catalog=fleet.catalog, transport=fleet.transport)
    assert own.catalog is fleet.catalog and own.transport.shared is fleet.transport  # type: ignore[union-attr]
    again = mock.client(transport=own.transport)  # another client's handle shares what it shares
    assert again.transport.shared is fleet.transport  # type: ignore[union-attr]
    own.close()
    again.close()
    assert not fleet.transport.closed
    for refused in ({"proxy": "http://127.0.0.1:3128"}, {"timeout": 3}, {"max_answer_bytes": 10}):
        with pytest.raises(ConfigError, match="shared transport"):
            mock.client(transport=fleet.transport, **refused)
    with pytest.raises(ConfigError, match="specs= or catalog="):
        mock.client(catalog=fleet.catalog, specs=[])
    with pytest.raises(ConfigError, match="transport"):
        mock.client(transport=object())
    with pytest.raises(ConfigError, match="transport"):
        fleet.client(mock.mchid, transport=fleet.transport)
    for name in ("catalog", "transport"):  # Python objects: not from a config file or the environment
        with pytest.raises(ConfigError, match="keyword argument"):
            client_kwargs_from_pairs(KEYWORDS, [f"{name}=x"])


def test_fleet_options_are_client_defaults(mock: MockPlatform) -> None:
    with Merchants(base_url=mock.base_url, validate=False, retry=None) as fleet:
        client = merchant(mock, fleet)
        strict = merchant(mock, fleet, validate=True)
        assert client.validate is False and strict.validate is True and client.retry.attempts == 1
    with pytest.raises(ConfigError, match="proxy"):
        Merchants(proxy="socks5://127.0.0.1:1080")
    with pytest.raises(ConfigError, match="limit"):
        Merchants(limit=0)
    with pytest.raises(ConfigError, match="specs"):
        Merchants(specs=[], catalog=Catalog())


def test_the_shared_catalogue_reads_each_spec_once_across_threads() -> None:
    catalog = Catalog()
    key = "v3/pay/transactions/jsapi"
    found: list[Any] = []
    start = threading.Barrier(8)

    def look() -> None:
        start.wait()
        operation = catalog.operation(key, "POST")
        assert operation is not None
        operation.validate({"json": {}})  # compiles the validators once, under the operation's lock
        found.append(operation)

    threads = [threading.Thread(target=look) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(found) == 8 and all(operation is found[0] for operation in found)


def test_mtls_connections_are_never_shared_between_merchants(pki: Pki) -> None:  # noqa: F811
    """Two merchants with different client certificates on one fleet: each call presents its own.

    The server accepts the CA-issued certificate only; a connection that presented it must never
    carry the other merchant's call (which the server has to refuse), sync or async.
    """

    async def main() -> None:
        async with tls_platform(pki) as (mock, base_url):
            async with Merchants(base_url=base_url, cafile=pki.ca_file) as fleet:

                def client(pair: tuple[bytes, bytes]) -> Client:
                    return fleet.client(mock.mchid, secret=mock.secret, client_cert=pair[0], client_key=pair[1])

                good, stranger = client(pki.merchant), client(pki.stranger)
                refund = good.v2.secapi.pay.refund
                assert (await refund.post_async(xml=REFUND)).status_code == 200
                with pytest.raises(TransportError):
                    await stranger.v2.secapi.pay.refund.post_async(xml=REFUND)
                assert (await refund.post_async(xml=REFUND)).status_code == 200
                loop = asyncio.get_running_loop()  # sync calls on a worker: this loop serves TLS
                assert (await loop.run_in_executor(None, lambda: refund.post(xml=REFUND))).status_code == 200
                with pytest.raises(TransportError):
                    await loop.run_in_executor(None, lambda: stranger.v2.secapi.pay.refund.post(xml=REFUND))
                assert (await loop.run_in_executor(None, lambda: refund.post(xml=REFUND))).status_code == 200
            assert mock.counts[("POST", "v2/secapi/pay/refund")] == 4

    asyncio.run(main())


# -- per-client defaults (defaults.py) ------------------------------------------------------------------------
APPID, NOTIFY_URL, SUB_MCHID = "wxd678efh567hg6787", "https://shop.example/notify", "1900000200"
DEFAULTS = {"appid": APPID, "notify_url": NOTIFY_URL, "sub_mchid": SUB_MCHID, "sub_mch_id": SUB_MCHID}


def test_a_jsapi_order_with_only_its_own_fields(mock: MockPlatform, fleet: Merchants) -> None:
    shop = merchant(mock, fleet, SECOND_MCHID, defaults=DEFAULTS)
    assert shop.v3.pay.transactions.jsapi.post(json=ORDER).status_code == 200
    sent = mock.calls[-1].json
    assert sent == {"appid": APPID, "mchid": SECOND_MCHID, "notify_url": NOTIFY_URL, **ORDER}  # validated as sent
    assert "sub_mchid" not in sent  # a field the spec does not have is never written
    own = {"appid": "wx0000000000000001", "notify_url": "https://other.example/n", "mchid": SECOND_MCHID}
    shop.v3.pay.transactions.jsapi.post(json={**ORDER, **own})
    assert mock.calls[-1].json == {**ORDER, **own}  # the caller's values win


def test_a_query_without_mchid(mock: MockPlatform, fleet: Merchants) -> None:
    shop = merchant(mock, fleet, defaults=DEFAULTS)
    shop.v3.pay.transactions.out_trade_no._out_trade_no_.get(out_trade_no="F1")
    assert mock.calls[-1].query == {"mchid": mock.mchid}  # no appid: the query has no such field
    # Closing an order: the body is the merchant id alone, now written by the client.
    shop.v3.pay.transactions.out_trade_no._out_trade_no_.close.post(out_trade_no="F1")
    assert mock.calls[-1].json == {"mchid": mock.mchid}
    # Without defaults=, the client's own merchant id is still filled.
    with mock.client() as plain:
        plain.v3.pay.transactions.id._transaction_id_.get(transaction_id="4200000001")
    assert mock.calls[-1].query == {"mchid": mock.mchid}


def test_a_service_provider_order(mock: MockPlatform, fleet: Merchants) -> None:
    provider = merchant(mock, fleet, defaults={"sp_appid": APPID, "sub_mchid": SUB_MCHID, "notify_url": NOTIFY_URL})
    provider.v3.pay.partner.transactions.jsapi.post(json={**ORDER, "payer": {"sp_openid": "o-1"}})
    sent = mock.calls[-1].json
    assert (sent["sp_mchid"], sent["sp_appid"], sent["sub_mchid"]) == (mock.mchid, APPID, SUB_MCHID)
    assert "sub_appid" not in sent and "mchid" not in sent


def test_validation_sees_the_filled_payload(mock: MockPlatform, fleet: Merchants) -> None:
    shop = merchant(mock, fleet, defaults={"notify_url": NOTIFY_URL})
    with pytest.raises(ValidationError) as refused:
        shop.v3.pay.transactions.jsapi.post(json=ORDER)
    assert [error.pointer for error in refused.value.errors] == ["/json/appid"]  # mchid and notify_url filled
    assert not mock.calls


def test_a_field_naming_another_merchant_is_never_filled(mock: MockPlatform, fleet: Merchants) -> None:
    # bindrecipient's mchid is the store's receiving merchant (门店收款商户号), not the caller
    shop = merchant(mock, fleet)
    with pytest.raises(ValidationError) as refused:
        shop.v3.brand.partner.store.brandstores._store_id_.bindrecipient.post(store_id="1234", json={})
    assert "/json/mchid" in [error.pointer for error in refused.value.errors]
    assert not mock.calls


def test_a_v2_order(mock: MockPlatform, fleet: Merchants) -> None:
    shop = merchant(mock, fleet, defaults=DEFAULTS)
    order = {"body": "a cup", "out_trade_no": "F2", "total_fee": 1, "spbill_create_ip": "127.0.0.1"}
    answer = shop.v2.pay.unifiedorder.post(xml={**order, "trade_type": "JSAPI", "openid": "o-1"})
    assert answer.status_code == 200
    sent = decode_xml(mock.calls[-1].body)
    assert (sent["appid"], sent["mch_id"], sent["notify_url"]) == (APPID, mock.mchid, NOTIFY_URL)
    assert "sub_mch_id" not in sent and "mchid" not in sent  # unifiedorder has neither field
    shop.v2.pay.unifiedorder.post(xml={**order, "trade_type": "NATIVE", "product_id": "p", "appid": "wx1"})
    assert decode_xml(mock.calls[-1].body)["appid"] == "wx1"


@pytest.mark.parametrize(
    "defaults",
    [["appid"], {"appid": ""}, {"appid": 1}, {"": "x"}, {"/amount/total": "1"}],
)
def test_defaults_are_top_level_fields_with_text_values(mock: MockPlatform, defaults: Any) -> None:
    with pytest.raises(ConfigError, match="defaults"):
        mock.client(defaults=defaults)


def test_the_fleet_benchmark_runs() -> None:
    """tools/bench/fleet.py with tiny counts: the harness works (no timing is asserted)."""
    script = Path(__file__).resolve().parents[1] / "tools" / "bench" / "fleet.py"
    done = subprocess.run(
        [sys.executable, str(script), "--merchants", "20", "--timed", "5", "--standalone", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "memory per 1,000 merchants" in done.stdout and ", 0 failed" in done.stdout
