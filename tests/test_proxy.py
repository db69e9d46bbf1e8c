"""Calls, downloads, uploads and v2 mTLS through a real forward proxy (tinyproxy on 127.0.0.1).

The proxy asks for Basic credentials; its log shows each request it forwarded (``GET
http://...``) or tunnelled (``CONNECT 127.0.0.1:PORT``), so each test checks that the
traffic went through it, not only that the call worked. ``.ci/run`` installs tinyproxy.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from _ports import free_port
from test_sensitive_and_upload import PNG
from test_v2_mtls import REFUND, Pki, _client, pki, tls_platform  # noqa: F401 (pki is a fixture)

from wechatpay_chain import Client, TransportError, WeChatPayError
from wechatpay_chain.mock import MockPlatform
from wechatpay_chain.mock.bills import sample_bill_lines

TINYPROXY = shutil.which("tinyproxy")
_MISSING = "tinyproxy is not installed (.ci/run installs it)"
# Skipped (and listed) on a machine without it; under .ci/run (REQUIRE_TEST_SERVERS) a missing proxy fails.
pytestmark = pytest.mark.skipif(
    TINYPROXY is None and not (os.environ.get("REQUIRE_TEST_SERVERS") or os.environ.get("CI")), reason=_MISSING
)

USER, PASSWORD = "merchant", "s3cret-proxy-pass"


@dataclass
class Proxy:
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://{USER}:{PASSWORD}@127.0.0.1:{self.port}"

    def mark(self) -> int:
        return len(self.log.read_text(errors="replace")) if self.log.exists() else 0

    def requests_since(self, mark: int) -> list[str]:
        """The request lines the proxy logged since ``mark`` ("GET http://..." or "CONNECT host:port")."""
        time.sleep(0.05)  # tinyproxy writes its log line as it handles the request
        text = self.log.read_text(errors="replace")[mark:]
        return [line.split("): ", 1)[1] for line in text.splitlines() if "Request (file descriptor" in line]


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    if TINYPROXY is None:
        pytest.fail(_MISSING, pytrace=False)  # only reached where a missing server must fail the run
    folder = tmp_path_factory.mktemp("tinyproxy")
    port = free_port()
    log = folder / "tinyproxy.log"
    config = folder / "tinyproxy.conf"
    # No ConnectPort line: CONNECT is allowed to any port (the TLS mock's port is chosen per test).
    config.write_text(
        f'Port {port}\nListen 127.0.0.1\nTimeout 30\nLogFile "{log}"\nLogLevel Info\nMaxClients 64\n'
        f"Allow 127.0.0.1\nBasicAuth {USER} {PASSWORD}\nDisableViaHeader Yes\n"
    )
    assert TINYPROXY is not None
    process = subprocess.Popen(
        [TINYPROXY, "-d", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"tinyproxy did not start (exit {process.poll()})")
            time.sleep(0.05)
        yield Proxy(port, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _get(client: Client) -> int:
    answer = client.v3.pay.transactions.id._transaction_id_.get(transaction_id="42", query={"mchid": "1900000109"})
    return answer.status_code


async def _get_async(client: Client) -> int:
    answer = await client.v3.pay.transactions.id._transaction_id_.get_async(
        transaction_id="42", query={"mchid": "1900000109"}
    )
    return answer.status_code


# -- v3 over plain HTTP: the proxy forwards ---------------------------------------------------------
def test_sync_call_download_and_upload_go_through_the_proxy(mock: MockPlatform, proxy: Proxy, tmp_path: Path) -> None:
    url = mock.add_bill(lambda: sample_bill_lines(50))["download_url"]
    mark = proxy.mark()
    with mock.client(proxy=proxy.url) as client:
        assert _get(client) == 200
        assert client.download(url, tmp_path / "bill.csv").size > 0
        assert client.v3.merchant.media.upload.post(files={"file": ("logo.png", PNG)}).json()["media_id"]
    seen = proxy.requests_since(mark)
    assert any(line.startswith(f"GET {mock.base_url.rstrip('/')}/v3/pay/transactions/id/42") for line in seen), seen
    assert any(line.startswith(f"GET {url.split('?')[0]}") for line in seen), seen
    assert any(line.startswith(f"POST {mock.base_url.rstrip('/')}/v3/merchant/media/upload") for line in seen), seen
    assert len(mock.calls) == 3


def test_async_call_download_and_upload_go_through_the_proxy(mock: MockPlatform, proxy: Proxy, tmp_path: Path) -> None:
    url = mock.add_bill(lambda: sample_bill_lines(50))["download_url"]
    mark = proxy.mark()

    async def main() -> None:
        async with mock.client(proxy=proxy.url) as client:
            assert await _get_async(client) == 200
            assert (await client.download_async(url, tmp_path / "bill.csv")).size > 0
            upload = client.v3.merchant.media.upload
            assert (await upload.post_async(files={"file": ("logo.png", PNG)})).json()["media_id"]

    asyncio.run(main())
    seen = proxy.requests_since(mark)
    assert sum(line.startswith(f"GET {mock.base_url.rstrip('/')}/v3/pay/transactions/id/42") for line in seen) == 1, (
        seen
    )
    assert any(line.startswith(f"GET {url.split('?')[0]}") for line in seen), seen
    assert any(line.startswith(f"POST {mock.base_url.rstrip('/')}/v3/merchant/media/upload") for line in seen), seen


def test_trust_env_reads_http_proxy_and_no_proxy(
    mock: MockPlatform, proxy: Proxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    mark = proxy.mark()
    with mock.client() as client:  # trust_env is off by default
        assert _get(client) == 200
    assert proxy.requests_since(mark) == []
    with mock.client(trust_env=True) as client:
        assert _get(client) == 200

    async def main() -> None:
        async with mock.client(trust_env=True) as client:
            assert await _get_async(client) == 200

    asyncio.run(main())
    assert len(proxy.requests_since(mark)) == 2
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    mark = proxy.mark()
    with mock.client(trust_env=True) as client:
        assert _get(client) == 200
    asyncio.run(main())
    assert proxy.requests_since(mark) == []


def test_the_proxy_password_never_shows(
    mock: MockPlatform,
    proxy: Proxy,
    caplog: pytest.LogCaptureFixture,
    pki: Pki,  # noqa: F811
) -> None:
    wrong = f"http://{USER}:{PASSWORD}-wrong@127.0.0.1:{proxy.port}"
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    with mock.client(proxy=wrong, retry=None) as client:
        texts += [repr(client), repr(client.transport), repr(client.transport.blocking)]
        with pytest.raises(WeChatPayError) as refused:  # the proxy's 407, not a signed answer
            _get(client)
        texts += [str(refused.value), repr(refused.value)]

    async def tunnel() -> None:  # CONNECT refused with 407: nothing was sent to the platform
        async with tls_platform(pki) as (tls_mock, base_url):
            async with Client(
                mchid=tls_mock.mchid,
                secret=tls_mock.secret,
                base_url=base_url,
                cafile=pki.ca_file,
                client_cert=pki.merchant[0],
                client_key=pki.merchant[1],
                proxy=wrong,
                retry=None,
            ) as client:
                with pytest.raises(TransportError) as caught:
                    await client.v2.secapi.pay.refund.post_async(xml=REFUND)
                assert caught.value.sent is False
                texts.extend([str(caught.value), repr(caught.value)])
                sync_call = asyncio.get_running_loop().run_in_executor(
                    None, lambda: client.v2.secapi.pay.refund.post(xml=REFUND)
                )
                with pytest.raises(TransportError) as caught_sync:
                    await sync_call
                assert caught_sync.value.sent is False
                texts.extend([str(caught_sync.value), repr(caught_sync.value)])
            assert not tls_mock.calls

    asyncio.run(tunnel())
    texts.append(caplog.text)
    for text in texts:
        assert PASSWORD not in text
    assert any("401" in text or "407" in text for text in texts)  # tinyproxy says 401 to CONNECT


# -- v2 mTLS over HTTPS: the proxy tunnels (CONNECT), the certificate goes end to end -----------------
def test_v2_mtls_through_connect_sync_and_async(proxy: Proxy, pki: Pki) -> None:  # noqa: F811
    async def main() -> None:
        async with tls_platform(pki) as (tls_mock, base_url):
            port = base_url.rstrip("/").rsplit(":", 1)[1]
            mark = proxy.mark()
            with Client(
                mchid=tls_mock.mchid,
                secret=tls_mock.secret,
                base_url=base_url,
                cafile=pki.ca_file,
                client_cert=pki.merchant[0],
                client_key=pki.merchant[1],
                proxy=proxy.url,
            ) as client:
                loop = asyncio.get_running_loop()
                refund = await loop.run_in_executor(None, lambda: client.v2.secapi.pay.refund.post(xml=REFUND))
                assert refund.json()["refund_fee"] == "100"
                again = await client.v2.secapi.pay.refund.post_async(xml=REFUND)
                assert again.verified == "MD5"
                await client.aclose()
            assert tls_mock.counts[("POST", "v2/secapi/pay/refund")] == 2
            tunnels = [line for line in proxy.requests_since(mark) if line.startswith(f"CONNECT 127.0.0.1:{port}")]
            assert len(tunnels) == 2, proxy.requests_since(mark)

    asyncio.run(main())


# -- v3 over HTTPS: a call, a download and an upload through CONNECT, sync and async -----------------
def test_v3_https_call_download_and_upload_through_connect(proxy: Proxy, pki: Pki, tmp_path: Path) -> None:  # noqa: F811
    async def main() -> None:
        async with tls_platform(pki, client_auth=False) as (tls_mock, base_url):
            port = int(base_url.rstrip("/").rsplit(":", 1)[1])
            tls_mock.port = port  # the mock names its own URLs (a bill's download_url) by it
            bill = tls_mock.add_bill(lambda: sample_bill_lines(20))["download_url"].replace("http://", "https://")
            mark = proxy.mark()
            with tls_mock.client(base_url=base_url, cafile=pki.ca_file, proxy=proxy.url) as client:
                loop = asyncio.get_running_loop()

                def sync_calls() -> None:
                    assert _get(client) == 200
                    assert client.download(bill, tmp_path / "sync.csv").size > 0
                    assert client.v3.merchant.media.upload.post(files={"file": ("logo.png", PNG)}).status_code == 200

                await loop.run_in_executor(None, sync_calls)
                assert await _get_async(client) == 200
                assert (await client.download_async(bill, tmp_path / "async.csv")).size > 0
                upload = await client.v3.merchant.media.upload.post_async(files={"file": ("logo.png", PNG)})
                assert upload.status_code == 200
                await client.aclose()
            assert len(tls_mock.calls) == 6
            tunnels = [line for line in proxy.requests_since(mark) if line.startswith(f"CONNECT 127.0.0.1:{port}")]
            assert len(tunnels) >= 2, proxy.requests_since(mark)  # at least one tunnel per transport

    asyncio.run(main())


def test_a_proxy_that_is_not_an_http_url_is_refused() -> None:
    from wechatpay_chain import ConfigError

    with pytest.raises(ConfigError, match="proxy"):
        Client(mchid="1900000109", secret="x" * 32, proxy="socks5://127.0.0.1:1080")


def test_a_proxy_that_cannot_be_reached_is_named_in_the_error(mock: MockPlatform) -> None:
    """A dead proxy must not read as the platform refusing; its password never shows."""
    dead = f"http://{USER}:{PASSWORD}@127.0.0.1:{free_port()}"
    with mock.client(proxy=dead, retry=None) as client:
        with pytest.raises(TransportError) as sync_failed:
            _get(client)

        async def call_async() -> None:
            async with mock.client(proxy=dead, retry=None) as async_client:
                await _get_async(async_client)

        with pytest.raises(TransportError) as async_failed:
            asyncio.run(call_async())
    for failed in (sync_failed.value, async_failed.value):
        assert "through the proxy http://***@127.0.0.1:" in str(failed), str(failed)
        assert PASSWORD not in str(failed) and failed.sent is False
