"""Client helpers end to end: notifications (with the mock delivering to a webhook),
platform certificates (download, refresh, both key modes), pay-sign."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from payloads import RETURN_ORDER

from wechatpay_chain import Client, ConfigError, SignatureError
from wechatpay_chain.mock import MockPlatform
from wechatpay_chain.v3.notifications import build_notification


def _webhook_app(client: Client, events: list[Any]) -> web.Application:
    """The README's aiohttp webhook, as a user would write it."""

    async def handle(request: web.Request) -> web.Response:
        try:
            event = client.notifications.parse(request.headers, await request.read())
        except SignatureError:
            status, headers, body = client.notifications.ack(False, "签名错误", status=401)
            return web.Response(status=status, headers=headers, body=body)
        events.append(event)
        status, headers, body = client.notifications.ack()
        return web.Response(status=status, headers=headers, body=body)

    app = web.Application()
    app.router.add_post("/notify", handle)
    return app


def test_mock_delivers_a_notification_to_a_webhook(mock: MockPlatform) -> None:
    events: list[Any] = []

    async def main() -> list[int]:
        client = mock.client()
        runner = web.AppRunner(_webhook_app(client, events))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/notify"
        try:
            ok, _ = await mock.notify_async(
                url, "TRANSACTION.SUCCESS", {"out_trade_no": "T1", "trade_state": "SUCCESS"}
            )
            probe, _ = await mock.notify_async(url, "TRANSACTION.SUCCESS", {"out_trade_no": "T2"}, probe=True)
            return [ok, probe]
        finally:
            await runner.cleanup()
            await client.aclose()

    assert asyncio.run(main()) == [204, 401]
    assert len(events) == 1
    event = events[0]
    assert event.event_type == "TRANSACTION.SUCCESS"
    assert event.resource == {"out_trade_no": "T1", "trade_state": "SUCCESS"}
    assert event["resource"]["out_trade_no"] == "T1"


def test_notifications_need_the_apiv3_key(mock: MockPlatform) -> None:
    headers, body = build_notification(
        "REFUND.SUCCESS", {"a": 1}, apiv3_key=mock.apiv3_key, platform_key=mock.platform_key, serial=mock.public_key_id
    )
    with mock.client() as client:
        assert client.notifications.parse(headers, body).resource == {"a": 1}
    with mock.client(apiv3_key=None) as client, pytest.raises(ConfigError, match="apiv3_key"):
        client.notifications.parse(headers, body)


def test_certificates_download_save_and_trust(mock: MockPlatform, tmp_path: Path) -> None:
    with mock.client() as client:
        certificates = client.certificates.download()
        assert [c.serial for c in certificates] == [mock.certificate_serial]
        paths = client.certificates.save(tmp_path, certificates)
        assert paths == [tmp_path / f"{mock.certificate_serial}.pem"]
        assert "BEGIN CERTIFICATE" in paths[0].read_text()
        client.certificates.refresh()
        assert set(client.trusted_keys) == {mock.public_key_id, mock.certificate_serial}
        assert client.encryption_serial == mock.public_key_id  # public key preferred during migration


def test_certificate_mode_and_migration(mock: MockPlatform) -> None:
    mock.sign_with = "certificate"
    try:
        # Certificate mode, bootstrapped by automatic refresh from no trusted key at all.
        with mock.client(certs={}, auto_refresh_certs=True) as client:
            answer = client.v3.profitsharing.return_orders.post(json=RETURN_ORDER)
            assert answer.verified == mock.certificate_serial
        # Migration: both configured; answers signed by either verify.
        both = {mock.public_key_id: mock.platform_key.public_key(), mock.certificate_serial: mock.platform_certificate}
        with mock.client(certs=both) as client:
            assert client.v3.profitsharing.return_orders.post(json=RETURN_ORDER).verified == mock.certificate_serial
            mock.sign_with = "public_key"
            assert client.v3.profitsharing.return_orders.post(json=RETURN_ORDER).verified == mock.public_key_id
    finally:
        mock.sign_with = "public_key"


def test_certificates_answer_with_a_wrong_apiv3_key_is_refused(mock: MockPlatform) -> None:
    from wechatpay_chain import DecryptionError

    with mock.client(apiv3_key="x" * 32) as client, pytest.raises(DecryptionError):
        client.certificates.download()


def test_paysign_bindings(mock: MockPlatform) -> None:
    with mock.client() as client:
        jsapi = client.paysign.jsapi(
            "wx8888888888888888",
            "wx201410272009395522657a690389285100",
            timestamp=1414561699,
            nonce="5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
        )
        message = (
            "wx8888888888888888\n1414561699\n5K8264ILTKCH16CQ2502SI8ZNMTM67VS\n"
            "prepay_id=wx201410272009395522657a690389285100\n"
        )
        mock.merchant_key.public_key().verify(
            base64.b64decode(jsapi["paySign"]), message.encode(), padding.PKCS1v15(), hashes.SHA256()
        )
        app = client.paysign.app("wx8888888888888888", "WX1217752501201407033233368018")
        assert app["partnerid"] == mock.mchid and app["package"] == "Sign=WXPay"
        v2 = client.paysign.jsapi_v2("wx8888888888888888", "wx2014")
        assert v2["signType"] == "MD5" and len(v2["paySign"]) == 32
    with Client(mchid="1", secret=None) as bare, pytest.raises(ConfigError):
        bare.paysign.jsapi("wx", "p")
