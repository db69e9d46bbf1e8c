"""Size caps: a call's answer is read against max_answer_bytes on both transports, and a gzip
download stops inflating long before a bomb fills the disk."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from wechatpay_chain import Client, ConfigError, SignatureError, TransportError
from wechatpay_chain.mock import MockPlatform

Script = Callable[[socket.socket], None]


@contextlib.contextmanager
def raw_server(script: Script) -> Iterator[str]:
    """A socket server on 127.0.0.1 that reads a request head and runs ``script`` on the connection."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def handle(conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            script(conn)

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        listener.close()


def lying_length(conn: socket.socket) -> None:
    """Announces 2 GiB, sends 4 MiB, then holds the connection."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2147483648\r\n\r\n")
    conn.sendall(b"x" * (4 << 20))
    time.sleep(3)


def endless_chunks(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    piece = b"x" * 65536
    chunk = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        conn.sendall(chunk)


def _get(client: Client) -> object:
    return client.v3.pay.transactions.id._transaction_id_.get(transaction_id="42", query={"mchid": "1900000109"})


async def _get_async(client: Client) -> object:
    node = client.v3.pay.transactions.id._transaction_id_
    return await node.get_async(transaction_id="42", query={"mchid": "1900000109"})


@pytest.mark.parametrize("script", [lying_length, endless_chunks], ids=["2GiB-content-length", "endless-chunked"])
def test_an_oversized_answer_is_refused_early_on_both_transports(mock: MockPlatform, script: Script) -> None:
    with raw_server(script) as url:
        with mock.client(base_url=url, retry=None, max_answer_bytes=1 << 20, timeout=10) as client:
            started = time.monotonic()
            with pytest.raises(TransportError, match="max_answer_bytes") as sync_refused:
                _get(client)
            assert time.monotonic() - started < 2.5

        async def main() -> None:
            async with mock.client(base_url=url, retry=None, max_answer_bytes=1 << 20, timeout=10) as client:
                with pytest.raises(TransportError, match="max_answer_bytes") as async_refused:
                    await _get_async(client)
                assert async_refused.value.sent is True

        started = time.monotonic()
        asyncio.run(main())
        assert time.monotonic() - started < 2.5
    assert sync_refused.value.sent is True


def test_the_default_cap_is_16_mib_and_can_be_lifted_or_refused(mock: MockPlatform) -> None:
    with mock.client() as client:
        assert client.transport.max_answer_bytes == 16 * 1024 * 1024
    with mock.client(max_answer_bytes=None) as client:
        assert client.transport.max_answer_bytes is None
    for wrong in (0, -1, "big"):
        with pytest.raises(ConfigError, match="max_answer_bytes"):
            mock.client(max_answer_bytes=wrong)


def test_an_answer_under_the_cap_is_read_whole(mock: MockPlatform) -> None:
    with mock.client(max_answer_bytes=1 << 20) as client:
        assert _get(client).status_code == 200  # type: ignore[attr-defined]


def test_a_gzip_bomb_stops_inflating_early(mock: MockPlatform, tmp_path: Path) -> None:
    """64 MiB of zeros gzip to about 64 KiB: decompress=True must not write them out."""
    block = bytes(1 << 20)

    def zeros() -> Iterator[bytes]:
        for _ in range(64):
            yield block

    url = mock.add_bill(zeros, gzip=True)["download_url"]
    assert len(gzip.compress(bytes(64 << 20))) < 100_000
    with mock.client() as client:
        written: list[int] = []
        with pytest.raises(SignatureError, match="inflates more than"):
            client.download(url, tmp_path / "bill.csv", decompress=True, progress=lambda size, _: written.append(size))
    assert not list(tmp_path.iterdir())  # nothing left under any name
    assert max(written, default=0) <= 100 * 100_000 + (1 << 20)  # stopped near the ratio, far below 64 MiB
