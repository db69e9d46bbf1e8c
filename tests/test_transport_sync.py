"""The sync transport (transport/blocking.py, urllib3) against scripted servers on 127.0.0.1 sockets."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from payloads import RETURN_ORDER

from wechatpay_chain import Client, Response, TimeoutError, TransportError
from wechatpay_chain.mock import MockPlatform
from wechatpay_chain.transport.aio import Timeout, Transport
from wechatpay_chain.transport.blocking import SyncPools


def _get(client: Client) -> Response:
    return client.v3.pay.transactions.id._transaction_id_.get(transaction_id="42", query={"mchid": "1900000109"})


OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
Handler = Callable[[socket.socket, int], None]  # (connection, its number)


def read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return b""
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")), 0
    )
    while len(body) < length:
        body += conn.recv(65536)
    return head


class ScriptedServer:
    """Accepts connections and hands each to ``handler``; counts them. Stops with the test."""

    def __init__(self, handler: Handler) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.connections = 0
        self.handler = handler
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._handle, args=(conn, self.connections), daemon=True).start()

    def _handle(self, conn: socket.socket, number: int) -> None:
        with conn, contextlib.suppress(OSError):
            self.handler(conn, number)

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def serve() -> Iterator[Callable[[Handler], ScriptedServer]]:
    servers: list[ScriptedServer] = []

    def start(handler: Handler) -> ScriptedServer:
        servers.append(ScriptedServer(handler))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def send(pool: SyncPools, url: str, *, read: float = 2.0, total: float | None = 5.0) -> tuple[int, bytes]:
    deadline = None if total is None else time.monotonic() + total
    answer = pool.open("POST", url + "/v3/x", {"Accept": "*/*"}, b"{}", connect=2.0, read=read, deadline=deadline)
    return answer.status, answer.read_to_end(1 << 20)


def answer_forever(answer: bytes) -> Handler:
    def handler(conn: socket.socket, number: int) -> None:
        while read_request(conn):
            conn.sendall(answer)

    return handler


def test_connections_are_kept_alive_and_reused(serve: Callable[[Handler], ScriptedServer]) -> None:
    server = serve(answer_forever(OK))
    pool = SyncPools(user_agent="test")
    assert [send(pool, server.url) for _ in range(5)] == [(200, b"ok")] * 5
    assert server.connections == 1 and pool.idle_connections() == 1
    pool.close()
    assert pool.idle_connections() == 0
    with pytest.raises(TransportError, match="closed"):
        send(pool, server.url)


def test_a_connection_the_server_closed_while_idle_is_replaced(serve: Callable[[Handler], ScriptedServer]) -> None:
    def one_answer_then_close(conn: socket.socket, number: int) -> None:
        read_request(conn)
        conn.sendall(OK)  # keep-alive by its headers, closed anyway (an idle timeout on the server)

    server = serve(one_answer_then_close)
    pool = SyncPools(user_agent="test")
    for _ in range(3):
        assert send(pool, server.url) == (200, b"ok")
        time.sleep(0.05)  # the server's FIN arrives while the connection is idle
    assert server.connections == 3  # each POST went out once, on a live connection


def test_connection_close_and_chunked_answers(serve: Callable[[Handler], ScriptedServer]) -> None:
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n1\r\no\r\n1\r\nk\r\n0\r\n\r\n"
    server = serve(answer_forever(chunked))
    pool = SyncPools(user_agent="test")
    assert send(pool, server.url) == (200, b"ok")
    assert pool.idle_connections() == 0


def test_the_request_carries_host_user_agent_and_length(serve: Callable[[Handler], ScriptedServer]) -> None:
    heads: list[bytes] = []

    def record(conn: socket.socket, number: int) -> None:
        heads.append(read_request(conn))
        conn.sendall(OK)

    server = serve(record)
    send(SyncPools(user_agent="wechatpay-chain/test"), server.url)
    port = server.url.rsplit(":", 1)[1]
    request_line, *lines = heads[0].split(b"\r\n")
    assert request_line == b"POST /v3/x HTTP/1.1"
    assert sorted(lines) == [  # exactly these: no Accept-Encoding, no urllib3 User-Agent
        b"Accept: */*",
        b"Content-Length: 2",
        b"Host: 127.0.0.1:" + port.encode(),
        b"User-Agent: wechatpay-chain/test",
    ]


def test_failures_say_whether_the_request_may_have_been_sent(serve: Callable[[Handler], ScriptedServer]) -> None:
    pool = SyncPools(user_agent="test")
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    with pytest.raises(TransportError, match="cannot connect") as refused:
        send(pool, f"http://127.0.0.1:{port}")
    assert refused.value.sent is False

    def reset_mid_body(conn: socket.socket, number: int) -> None:
        read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")

    with pytest.raises(TransportError) as reset:
        send(pool, serve(reset_mid_body).url)
    assert reset.value.sent is True

    with pytest.raises(TransportError, match="BadStatusLine") as garbage:
        send(pool, serve(answer_forever(b"SSH-2.0-OpenSSH\r\n\r\n")).url)
    assert garbage.value.sent is True and pool.idle_connections() == 0


def test_silence_times_out_within_the_read_and_total_limits(serve: Callable[[Handler], ScriptedServer]) -> None:
    def silent(conn: socket.socket, number: int) -> None:
        read_request(conn)
        time.sleep(3)

    server = serve(silent)
    pool = SyncPools(user_agent="test")
    for read, total in ((0.2, 5.0), (5.0, 0.3)):
        started = time.monotonic()
        with pytest.raises(TimeoutError) as caught:
            send(pool, server.url, read=read, total=total)
        assert caught.value.sent is True and time.monotonic() - started < 1.5


def test_run_blocking_refuses_a_coroutine_that_waits_on_a_loop() -> None:
    transport = Transport(timeout=Timeout(), user_agent="test")

    async def waits() -> None:
        await asyncio.sleep(0)

    with pytest.raises(RuntimeError, match="bug"):
        transport.run_blocking(waits())
    transport.close()


def test_sync_calls_inside_a_running_loop_need_no_helper_thread(mock: MockPlatform) -> None:
    with mock.client() as client:

        async def main() -> int:
            return _get(client).status_code  # blocks this loop for the call, as sync I/O does

        assert asyncio.run(main()) == 200
        assert not client.transport._sessions  # no aiohttp session, so no event loop, was needed


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork only")
def test_a_forked_child_does_not_share_the_parents_connections(mock: MockPlatform) -> None:
    with mock.client() as client:
        _get(client)
        assert client.transport.blocking.idle_connections() == 1
        reader, writer = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: report, then leave without running the parent's cleanup
            os.write(writer, str(client.transport.blocking.idle_connections()).encode())
            os._exit(0)
        os.close(writer)
        reported = os.read(reader, 16)
        os.close(reader)
        os.waitpid(pid, 0)
        assert reported == b"0"
        assert _get(client).status_code == 200  # the parent's connection is intact


if sys.platform == "win32":  # pragma: no cover
    pytest.skip("SO_LINGER layout differs", allow_module_level=True)


def test_sync_and_async_send_the_same_headers(mock: MockPlatform) -> None:
    """The two transports differ only below the HTTP layer: same names, same values but the signature."""
    with mock.client() as client:
        client.v3.profitsharing.return_orders.post(json=RETURN_ORDER)

        async def call_async() -> None:
            async with mock.client() as async_client:
                await async_client.v3.profitsharing.return_orders.post_async(json=RETURN_ORDER)

        asyncio.run(call_async())
    sync_call, async_call = mock.calls[-2:]
    varying = {"authorization", "host"}  # the signature; aiohttp may write the host differently
    sync_headers = {name.lower(): value for name, value in sync_call.headers.items() if name.lower() not in varying}
    async_headers = {name.lower(): value for name, value in async_call.headers.items() if name.lower() not in varying}
    assert sync_headers == async_headers
    # No Accept-Encoding: the platform signs the body it sends, so it must come as sent (identity).
    assert "accept-encoding" not in sync_headers
    assert sync_call.body == async_call.body


def test_stray_bytes_after_an_answer_are_never_read_as_the_next_answer(
    serve: Callable[[Handler], ScriptedServer],
) -> None:
    server = serve(answer_forever(OK + b"\r\n"))
    pool = SyncPools(user_agent="test")
    assert send(pool, server.url) == (200, b"ok")
    time.sleep(0.05)
    assert send(pool, server.url) == (200, b"ok")  # not read as the start of the next answer


@pytest.mark.parametrize("name", ["Host", "content-length", "Transfer-Encoding"])
def test_framing_headers_from_the_caller_are_refused_on_both_paths(mock: MockPlatform, name: str) -> None:
    with mock.client() as client:
        with pytest.raises(TransportError, match="set by the transport") as sync_refused:
            client.v3.profitsharing.return_orders.post(json=RETURN_ORDER, headers={name: "1"})

        async def call_async() -> None:
            async with mock.client() as async_client:
                await async_client.v3.profitsharing.return_orders.post_async(json=RETURN_ORDER, headers={name: "1"})

        with pytest.raises(TransportError, match="set by the transport") as async_refused:
            asyncio.run(call_async())
    assert sync_refused.value.sent is False and async_refused.value.sent is False
    assert not mock.calls


def test_a_header_value_latin1_cannot_carry_is_refused_alike_on_both_paths(mock: MockPlatform) -> None:
    # http.client could not encode it, aiohttp would have sent UTF-8: both refuse it now
    headers = {"X-Note": "示例"}
    with mock.client() as client:
        with pytest.raises(TransportError, match="non-Latin-1") as sync_refused:
            client.v3.profitsharing.return_orders.post(json=RETURN_ORDER, headers=headers)

        async def call_async() -> None:
            async with mock.client() as async_client:
                await async_client.v3.profitsharing.return_orders.post_async(json=RETURN_ORDER, headers=headers)

        with pytest.raises(TransportError, match="non-Latin-1") as async_refused:
            asyncio.run(call_async())
    assert sync_refused.value.sent is False and async_refused.value.sent is False
    assert not mock.calls


def test_a_sync_download_stopped_early_does_not_return_its_connection(mock: MockPlatform) -> None:
    from wechatpay_chain.mock.bills import sample_bill_lines

    url = mock.add_bill(lambda: sample_bill_lines(20000))["download_url"]
    with mock.client() as client:
        chunks = client.iter_download(url)
        assert next(chunks)
        chunks.close()  # the rest is unread: that connection must never carry another request
        assert client.transport.blocking.idle_connections() == 0
        assert _get(client).status_code == 200
        assert sum(len(chunk) for chunk in client.iter_download(url)) > 1_000_000
        assert client.transport.blocking.idle_connections() == 1  # read to its end: kept alive


def test_urllib3_is_imported_by_the_first_sync_call_only() -> None:
    """Start-up and async-only code never pay for the sync transport's import."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from wechatpay_chain import Client\n"
        "client = Client(mchid='1900000109')\n"
        "assert 'urllib3' not in sys.modules, 'imported at start-up'\n"
        "client.transport.blocking\n"
        "assert 'urllib3' in sys.modules\n"
        "client.close()\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_a_dripping_answer_head_is_bounded_by_the_total_time(serve: Callable[[Handler], ScriptedServer]) -> None:
    """Every byte of the head arrives within the read limit, but the whole never does:
    the call's total time bounds it all the same (each byte must not restart the clock)."""

    def drip(conn: socket.socket, number: int) -> None:
        read_request(conn)
        for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 200:
            conn.sendall(bytes([byte]))
            time.sleep(0.05)

    server = serve(drip)
    pool = SyncPools(user_agent="test")
    started = time.monotonic()
    with pytest.raises(TimeoutError) as caught:
        send(pool, server.url, read=1.0, total=0.6)
    assert time.monotonic() - started < 2.0
    assert caught.value.sent is True
    pool.close()


@pytest.mark.parametrize("length", [True, False])
def test_a_dripping_answer_body_is_bounded_by_the_total_time(
    serve: Callable[[Handler], ScriptedServer], length: bool
) -> None:
    """The same for the body, announced (read in one go) or chunked (read as it arrives)."""

    def drip(conn: socket.socket, number: int) -> None:
        read_request(conn)
        framing = b"Content-Length: 200\r\n" if length else b"Transfer-Encoding: chunked\r\n"
        conn.sendall(b"HTTP/1.1 200 OK\r\n" + framing + b"\r\n")
        for _ in range(200):
            conn.sendall(b"a" if length else b"1\r\na\r\n")
            time.sleep(0.05)

    server = serve(drip)
    pool = SyncPools(user_agent="test")
    started = time.monotonic()
    with pytest.raises(TimeoutError) as caught:
        send(pool, server.url, read=1.0, total=0.6)
    assert time.monotonic() - started < 2.0
    assert caught.value.sent is True
    pool.close()


def _raw_heads(handler_answer: bytes, calls: Callable[[str], None]) -> list[bytes]:
    """The request heads a raw socket server receives while ``calls(url)`` runs."""
    heads: list[bytes] = []
    listener = socket.create_server(("127.0.0.1", 0))

    def serve_forever() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn, contextlib.suppress(OSError):
                while True:
                    head = read_request(conn)
                    if not head:
                        break
                    heads.append(head)
                    conn.sendall(handler_answer)

    threading.Thread(target=serve_forever, daemon=True).start()
    try:
        calls(f"http://127.0.0.1:{listener.getsockname()[1]}")
    finally:
        listener.close()
    return heads


def _header_lines(head: bytes) -> list[str]:
    """Header lines of a request head, names lower-cased, the volatile ones' values dropped."""
    lines = []
    for line in head.decode("latin-1").split("\r\n")[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        volatile = name in ("authorization", "host", "idempotency-key", "wechatpay-serial")
        lines.append(name if volatile else f"{name}: {value.strip()}")
    return sorted(lines)


@pytest.mark.parametrize(
    ("method", "body", "headers"),
    [
        ("GET", b"", {"Accept": "application/json", "USER-AGENT": "mine/1.0"}),
        ("POST", b"{}", {"Accept": "application/json", "Content-Type": "application/json", "user-agent": "mine/1.0"}),
        ("DELETE", b"", {"Accept": "application/json"}),
        ("POST", b"<xml></xml>", {"Content-Type": "text/xml"}),  # v2: no Accept of its own
    ],
)
def test_both_transports_put_the_same_head_on_the_wire(method: str, body: bytes, headers: dict[str, str]) -> None:
    answer = b"HTTP/1.1 204 No Content\r\n\r\n"

    def sync_calls(url: str) -> None:
        transport = Transport(timeout=Timeout(total=5), user_agent="wechatpay-chain/test")
        transport.run_blocking(transport.send(method, url + "/v3/x", headers, body))
        transport.close()

    def async_calls(url: str) -> None:
        async def main() -> None:
            transport = Transport(timeout=Timeout(total=5), user_agent="wechatpay-chain/test")
            await transport.send(method, url + "/v3/x", headers, body)
            await transport.aclose()

        asyncio.run(main())

    sync_heads = _raw_heads(answer, sync_calls)
    async_heads = _raw_heads(answer, async_calls)
    assert len(sync_heads) == len(async_heads) == 1
    assert _header_lines(sync_heads[0]) == _header_lines(async_heads[0])
    assert sum(1 for line in _header_lines(sync_heads[0]) if line.startswith("user-agent")) == 1


def test_a_connection_idle_too_long_is_not_reused(
    serve: Callable[[Handler], ScriptedServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A NAT may drop an idle connection without a word: past the idle limit, a new one."""
    from wechatpay_chain.transport import blocking as sync_transport

    monkeypatch.setattr(sync_transport, "IDLE_LIMIT", 0.2)
    server = serve(answer_forever(OK))
    pool = SyncPools(user_agent="test")
    assert send(pool, server.url) == (200, b"ok")
    assert send(pool, server.url) == (200, b"ok")
    assert server.connections == 1  # reused while fresh
    time.sleep(0.4)
    assert send(pool, server.url) == (200, b"ok")
    assert server.connections == 2
    pool.close()
