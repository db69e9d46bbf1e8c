"""A KMS look-alike for tests: the private key stays inside; ``sign`` is all it offers."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from wechatpay_chain.mock.keys import generate_key


class FakeKms:
    """Signs RSA-SHA256 PKCS#1 v1.5 with a key generated for the test; records where it signed."""

    def __init__(self, key: rsa.RSAPrivateKey | None = None, delay: float = 0.0) -> None:
        self._key = key or generate_key()
        self.delay = delay  # a network round trip to the KMS
        self.signed_on: list[str] = []  # the thread of each sign()
        self._lock = threading.Lock()

    def public_key(self) -> rsa.RSAPublicKey:
        return self._key.public_key()

    def sign(self, message: bytes) -> bytes:
        with self._lock:
            self.signed_on.append(threading.current_thread().name)
        if self.delay:
            time.sleep(self.delay)
        return self._key.sign(message, padding.PKCS1v15(), hashes.SHA256())


class AsyncFakeKms(FakeKms):
    """A KMS with an async client as well: async calls await ``sign_async``."""

    def __init__(self, key: rsa.RSAPrivateKey | None = None) -> None:
        super().__init__(key)
        self.signed_async = 0

    async def sign_async(self, message: bytes) -> bytes:
        self.signed_async += 1
        await asyncio.sleep(0.001)  # the KMS round trip, without blocking the loop
        return self._key.sign(message, padding.PKCS1v15(), hashes.SHA256())


@contextlib.contextmanager
def listening() -> Iterator[tuple[str, Callable[[], int]]]:
    """A port that accepts connections and answers nothing: (base_url, connections so far).

    For "nothing was sent": a call that fails before sending never connects here.
    """
    server = socket.create_server(("127.0.0.1", 0))
    server.setblocking(False)
    accepted: list[socket.socket] = []

    def connections() -> int:
        while True:
            try:
                accepted.append(server.accept()[0])
            except BlockingIOError:
                return len(accepted)

    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}", connections
    finally:
        for connection in accepted:
            connection.close()
        server.close()
