"""Bills on the mock platform: ``v3/bill/*`` answers and the ``v3/billdownload/file`` stream.

A bill is registered with a token; the bill answer carries the mock's own download
URL and the SHA1 of the (uncompressed) bill, as the platform does. Bodies can be
produced by a generator so that a 50 MB bill never sits in the mock's memory.
"""

from __future__ import annotations

import hashlib
import secrets
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from .calls import MockAnswer, MockCall

__all__ = ["Bill", "BillShelf", "sample_bill_lines"]

HEADER = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,"
    "用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额\n"
)


def sample_bill_lines(count: int) -> Iterator[bytes]:
    """``count`` CSV lines of a trade bill (deterministic, so tests can recompute the digest)."""
    yield HEADER.encode()
    for number in range(count):
        yield (
            f"`2026-11-24 10:{number // 60 % 60:02d}:{number % 60:02d},`wx8888888888888888,`1900000109,`0,`,"
            f"`42000000002026112400{number:08d},`ORDER{number:010d},`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,`JSAPI,"
            "`SUCCESS,`CMC,`CNY,`0.01,`0.00\n"
        ).encode()


@dataclass
class Bill:
    chunks: Callable[[], Iterable[bytes]]  # the uncompressed bill, in pieces
    gzip: bool = False

    def digest(self) -> str:
        sha1 = hashlib.sha1()
        for chunk in self.chunks():
            sha1.update(chunk)
        return sha1.hexdigest()

    def body(self) -> Iterator[bytes]:
        if not self.gzip:
            yield from _coalesce(self.chunks())
            return
        deflate = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        for chunk in self.chunks():
            packed = deflate.compress(chunk)
            if packed:
                yield packed
        yield deflate.flush()


class BillShelf(Protocol):
    """Where bills wait for their download (the platform)."""

    bills: dict[str, Bill]

    @property
    def base_url(self) -> str: ...


def _coalesce(pieces: Iterable[bytes], size: int = 64 * 1024) -> Iterator[bytes]:
    """Group small pieces (CSV lines) into socket-sized writes."""
    buffer: list[bytes] = []
    length = 0
    for piece in pieces:
        buffer.append(piece)
        length += len(piece)
        if length >= size:
            yield b"".join(buffer)
            buffer, length = [], 0
    if buffer:
        yield b"".join(buffer)


def register(platform: BillShelf, bill: Bill) -> dict[str, Any]:
    """Store ``bill`` under a new token; the answer a bill request returns."""
    token = secrets.token_urlsafe(24)
    platform.bills[token] = bill
    return {
        "hash_type": "SHA1",
        "hash_value": bill.digest(),
        "download_url": f"{platform.base_url}v3/billdownload/file?token={token}",
    }


def bill_request_handler(platform: BillShelf) -> Callable[[MockCall], dict[str, Any]]:
    def answer(call: MockCall) -> dict[str, Any]:
        gzip = call.query.get("tar_type") == "GZIP"
        return register(platform, Bill(lambda: sample_bill_lines(20), gzip=gzip))

    return answer


def bill_file_handler(platform: BillShelf) -> Callable[[MockCall], MockAnswer]:
    def answer(call: MockCall) -> MockAnswer:
        bill = platform.bills.get(call.query.get("token", ""))
        if bill is None:
            return MockAnswer(404, {"code": "RESOURCE_NOT_EXISTS", "message": "账单文件不存在"})
        content_type = "application/x-gzip" if bill.gzip else "text/plain; charset=utf-8"
        return MockAnswer(200, None, {"Content-Type": content_type}, stream=bill.body, signed=False)

    return answer
