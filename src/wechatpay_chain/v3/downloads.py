"""Streaming downloads: bills, statements, receipts, images, without holding them in memory.

    answer = client.v3.bill.tradebill.get(query={"bill_date": "2026-11-24"})
    path = client.download_bill(answer, to="trade-2026-11-24.csv")

Chunks are written to a temporary file next to the target and moved into place
only after every check passed, so a failed download never leaves a half-written
file under the final name. Checks:

- the ``hash_type``/``hash_value`` the bill answer announced (SHA1 of the original,
  uncompressed bill), compared in constant time;
- ``Wechatpay-Statement-Sha1`` (``STATEMENT_DIGEST_HEADER``) when the platform sends it (overseas statements), and
  the platform signature over ``{"sha1": "<that digest>"}`` where the spec says
  ``signature_digest_header``;
- the platform signature, when the operation's spec does not mark the answer
  ``unsigned``: hashed incrementally over ``TIMESTAMP\\nNONCE\\nBODY\\n`` and
  verified at the end.

Gzip answers (``tar_type=GZIP``) are inflated on the fly for the digest; the file
keeps the bytes as sent unless ``decompress=True``. Inflating stops with an error past
``MAX_INFLATE_RATIO`` times the compressed size (plus 1 MiB): CSV bills inflate 5-20
times, a gzip bomb a thousand, and it must not fill the disk before its digest fails.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import zlib
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from ..catalog.paths import place_path
from ..errors import SignatureError
from ..response import Response
from ..transport.aio import Timeout
from ..trust.crypto import rsa_verify_prehashed
from .calls import PreparedCall, answer_is_signed, error_from_answer
from .protocol import (
    STATEMENT_DIGEST_HEADER,
    digest_matches,
    find_header,
    read_signed_headers,
    trusted_key,
    verify_digest_signed,
)

if TYPE_CHECKING:
    from ..engine import Engine

__all__ = ["Download", "download_bill_async", "download_to_async", "iter_download_async"]

Progress = Callable[[int, int | None], None]  # (bytes so far, total bytes or None)
MAX_INFLATE_RATIO = 100  # inflated bytes per compressed byte, at most (plus INFLATE_SLACK)
INFLATE_SLACK = 1 << 20


class _Checks:
    """Everything computed over the stream, checked once it ended."""

    def __init__(self, hash_type: str | None, hash_value: str | None, statement: bool, gzip: bool | None) -> None:
        self.expected = (hash_type.lower(), hash_value.lower()) if hash_type and hash_value else None
        try:
            self.digest = hashlib.new(self.expected[0]) if self.expected else None
        except ValueError:
            raise SignatureError("digest", f"unknown hash_type {hash_type!r}") from None
        self.statement = hashlib.sha1() if statement else None  # over the plain CSV
        self.gzip = gzip  # None: decided by the first bytes
        self.inflate: Any = None  # the decompressor of the gzip member being read
        self._members = 0  # gzip members read to their end
        self._pending = b""  # first bytes, until there are two to tell gzip by
        self.signature: Any = None  # a running SHA-256 over the signed message, when signed
        self.size = 0
        self.compressed = 0  # gzip bytes fed to the decompressor
        self.inflated = 0  # bytes it gave back

    def feed(self, chunk: bytes) -> bytes:
        """Account for ``chunk``; return its inflated bytes (or the chunk itself)."""
        self.size += len(chunk)
        if self.signature is not None:
            self.signature.update(chunk)
        if self.gzip is None:
            # Decided on the first two bytes, however the reads split them.
            self._pending += chunk
            if len(self._pending) < 2:
                return b""
            self.gzip = self._pending[:2] == b"\x1f\x8b"
            chunk, self._pending = self._pending, b""
        plain = self._inflate(chunk) if self.gzip else chunk
        self._account(plain)
        return plain

    def finish(self) -> bytes:
        """What is left at the end; a gzip stream must have ended where the download did."""
        if self.gzip is None:  # a body of less than two bytes
            tail, self._pending = self._pending, b""
            self._account(tail)
            return tail
        if not self.gzip:
            return b""
        if self.inflate is not None or not self._members:
            raise SignatureError("digest", "the download's gzip stream ends early")
        return b""

    def _inflate(self, data: bytes) -> bytes:
        """Inflate ``data``, member after member (a gzip file may hold several), never more
        than ``MAX_INFLATE_RATIO`` times what came compressed (a bomb stops here, early)."""
        self.compressed += len(data)
        out = []
        while data:
            if self.inflate is None:
                self.inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
            budget = MAX_INFLATE_RATIO * self.compressed + INFLATE_SLACK - self.inflated
            if budget <= 0:
                raise SignatureError(
                    "digest", f"the gzip download inflates more than {MAX_INFLATE_RATIO} times its size: refused"
                )
            try:
                piece = self.inflate.decompress(data, budget)
            except zlib.error:
                raise SignatureError("digest", "the download is not valid gzip") from None
            self.inflated += len(piece)
            out.append(piece)
            if self.inflate.eof:
                data, self.inflate = self.inflate.unused_data, None
                self._members += 1
            else:
                data = self.inflate.unconsumed_tail
        return b"".join(out)

    def _account(self, plain: bytes) -> None:
        if plain and self.digest is not None:
            self.digest.update(plain)
        if plain and self.statement is not None:
            self.statement.update(plain)


@dataclass
class _Outcome:
    size: int = 0
    response: Response | None = None


def _prepare(engine: Engine, url: str) -> PreparedCall:
    """A signed-GET preparation for a download URL (absolute, or a path with query)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    segments = place_path(engine.settings.catalog, (), parts.path.lstrip("/"))
    return engine.prepare_v3("GET", segments, {"query": query or None})


async def _stream(
    engine: Engine,
    url: str,
    *,
    hash_type: str | None,
    hash_value: str | None,
    decompress: bool,
    progress: Progress | None,
    timeout: Timeout | None,
    outcome: _Outcome,
) -> AsyncGenerator[bytes, None]:
    prepared = _prepare(engine, url)
    settings = engine.settings
    headers = await engine.signed_headers(prepared)  # the client's signer, as every v3 call
    headers["Accept"] = "*/*"
    full_url = settings.hosts_for(prepared.operation)[0] + prepared.target
    # Downloads may take long: bound the connection and each read, not the whole transfer.
    limit = timeout or Timeout(total=None, connect=engine.transport.timeout.connect, read=engine.transport.timeout.read)
    async with engine.transport.open("GET", full_url, headers, timeout=limit) as answer:
        response = Response(answer.status, answer.headers, b"", method="GET", url=full_url)
        outcome.response = response
        if not 200 <= answer.status < 300:
            content = await engine.transport.read_whole(answer, "GET", full_url)
            raise error_from_answer(
                answer.status,
                answer.headers,
                content,
                Response(answer.status, answer.headers, content, method="GET", url=full_url),
            )
        content_type = answer.headers.get("Content-Type", "")
        operation = prepared.operation
        digest_header = str(operation.spec.get("signature_digest_header") or "") if operation is not None else ""
        statement_header = digest_header or STATEMENT_DIGEST_HEADER
        statement = find_header(answer.headers, statement_header) is not None
        checks = _Checks(hash_type, hash_value, statement, True if "gzip" in content_type else None)
        signed = not digest_header and answer_is_signed(operation)
        signed_headers: tuple[str, str, str, str] | None = None
        if signed:
            signed_headers = read_signed_headers(answer.headers, now=engine.clock.now)
            checks.signature = hashlib.sha256(f"{signed_headers[0]}\n{signed_headers[1]}\n".encode())
        total = answer.content_length
        async for chunk in answer.content.iter_any():  # what arrived, no re-slicing; aiohttp bounds it
            plain = checks.feed(chunk)
            if progress is not None:
                progress(checks.size, total)
            outcome.size = checks.size
            out = plain if decompress else chunk
            if out:
                yield out
        tail = checks.finish()
        if decompress and tail:
            yield tail
        _verify(checks, answer.headers, engine, signed_headers, statement_header)
        if digest_header:
            response.verified = verify_digest_signed(
                answer.headers, digest_header, engine.trusted_keys, now=engine.clock.now
            )
        elif signed_headers is not None:
            response.verified = signed_headers[3]


def _verify(
    checks: _Checks,
    headers: Mapping[str, str],
    engine: Engine,
    signed_headers: tuple[str, str, str, str] | None,
    statement_header: str,
) -> None:
    digest = checks.digest
    if (
        checks.expected is not None
        and digest is not None
        and not hmac.compare_digest(digest.hexdigest(), checks.expected[1])
    ):
        raise SignatureError("digest", f"{checks.expected[0].upper()} of the download does not match hash_value")
    if checks.statement is not None and not digest_matches(
        checks.statement.digest(), find_header(headers, statement_header) or ""
    ):
        raise SignatureError("digest", f"SHA1 of the statement does not match {statement_header}")
    if signed_headers is not None:
        checks.signature.update(b"\n")
        _, _, signature, serial = signed_headers
        key = trusted_key(engine.trusted_keys, serial)
        if not rsa_verify_prehashed(key, checks.signature.digest(), signature):
            raise SignatureError("signature", "RSA-SHA256 signature does not match the download")


async def download_to_async(
    engine: Engine,
    url: str,
    to: str | os.PathLike[str],
    *,
    hash_type: str | None = None,
    hash_value: str | None = None,
    decompress: bool = False,
    progress: Progress | None = None,
    timeout: Timeout | None = None,
) -> Download:
    """Stream ``url`` into the file ``to``; the file appears only when every check passed."""
    target = Path(to)
    partial = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
    outcome = _Outcome()
    try:
        # aclosing: a failed write closes the stream (and its connection) now, not when
        # the collector or a running loop's finalizer gets to it.
        chunks = _stream(
            engine,
            url,
            hash_type=hash_type,
            hash_value=hash_value,
            decompress=decompress,
            progress=progress,
            timeout=timeout,
            outcome=outcome,
        )
        async with contextlib.aclosing(chunks):
            with partial.open("wb") as sink:
                async for chunk in chunks:
                    sink.write(chunk)
                sink.flush()
                os.fsync(sink.fileno())
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return Download(target, outcome.size, outcome.response)


async def iter_download_async(
    engine: Engine,
    url: str,
    *,
    hash_type: str | None = None,
    hash_value: str | None = None,
    decompress: bool = False,
    timeout: Timeout | None = None,
) -> AsyncIterator[bytes]:
    """Chunks of ``url`` as they arrive. Checks run at the end and raise there: a consumer
    that must not act on unchecked data should download to a file instead."""
    chunks = _stream(
        engine,
        url,
        hash_type=hash_type,
        hash_value=hash_value,
        decompress=decompress,
        progress=None,
        timeout=timeout,
        outcome=_Outcome(),
    )
    async with contextlib.aclosing(chunks):  # closing this iterator closes the stream at once
        async for chunk in chunks:
            yield chunk


def bill_location(answer: Response | Mapping[str, Any]) -> tuple[str, str | None, str | None]:
    """(download_url, hash_type, hash_value) from a bill answer (tradebill, fundflowbill...)."""
    document = answer.json() if isinstance(answer, Response) else answer
    if not isinstance(document, Mapping) or not document.get("download_url"):
        raise ValueError("expected a bill answer with download_url, hash_type and hash_value")
    return str(document["download_url"]), document.get("hash_type"), document.get("hash_value")


async def download_bill_async(
    engine: Engine, answer: Response | Mapping[str, Any], to: str | os.PathLike[str], **options: Any
) -> Download:
    url, hash_type, hash_value = bill_location(answer)
    return await download_to_async(engine, url, to, hash_type=hash_type, hash_value=hash_value, **options)


class Download:
    """Where a download went, how many bytes came, and the answer's status and headers."""

    __slots__ = ("path", "response", "size")

    def __init__(self, path: Path, size: int, response: Response | None) -> None:
        self.path = path
        self.size = size
        self.response = response

    def __repr__(self) -> str:
        return f"<Download {self.path} {self.size} bytes>"

    def __fspath__(self) -> str:
        return str(self.path)
