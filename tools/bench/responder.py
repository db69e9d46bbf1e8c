"""The benchmark's platform: an aiohttp.web responder in its own process on 127.0.0.1.

    python tools/bench/responder.py --keys-dir DIR [--blob-mb 50]

At start it generates two RSA-2048 key pairs (never committed, never reused):
the merchant's (private key written to ``DIR/merchant_key.pem`` for the clients,
public key kept here to verify requests) and the platform's (public key written
to ``DIR/platform_public.pem``, private key kept in memory to sign answers). It
binds an ephemeral port, writes ``DIR/responder.json`` and prints ``READY <port>``.

Every request to a v3 path has its WECHATPAY2-SHA256-RSA2048 ``Authorization``
verified with the merchant public key (401 ``SIGN_ERROR`` otherwise) and gets the
same JSON body with a cached platform signature (re-signed once a minute, so the
timestamp stays well within the client's 300 s window and the server is not the
bottleneck; each client still verifies it on every answer).

Bench-only routes: ``GET /bench/stats`` (counts), ``GET /bench/blob`` and
``GET /v3/billdownload/file`` (an unsigned body of ``--blob-mb`` MB), and
requests carrying ``X-Bench-Hold: TOKEN`` wait until ``GET /bench/release?token=TOKEN``
(used to hold many calls in flight while memory is measured).
It stops by itself when its parent goes away or after ``--lifetime`` seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import secrets
import sys
import time
from pathlib import Path

from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from wechatpay_chain.errors import SignatureError
from wechatpay_chain.v3.protocol import (
    MAX_CLOCK_SKEW,
    answer_signing_string,
    dump_json,
    new_nonce,
    parse_authorization,
    request_signing_string,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import RESPONSE_BODY

_PKCS1 = padding.PKCS1v15()
_SHA256 = hashes.SHA256()
RESIGN_EVERY = 60  # seconds


class Responder:
    def __init__(
        self,
        *,
        mchid: str,
        merchant_serial: str,
        merchant_public: rsa.RSAPublicKey,
        platform_key: rsa.RSAPrivateKey,
        platform_key_id: str,
        blob: bytes,
        any_mchid: bool = False,
    ) -> None:
        self.mchid = mchid
        self.any_mchid = any_mchid  # a fleet of merchants sharing one key (tools/bench/fleet.py)
        self.merchant_serial = merchant_serial
        self.merchant_public = merchant_public
        self.platform_key = platform_key
        self.platform_key_id = platform_key_id
        self.blob = blob
        self.body = dump_json(RESPONSE_BODY)
        self.ok = 0
        self.bad = 0
        self.first_bad = ""
        self.holds: dict[str, asyncio.Event] = {}
        self._signed: tuple[int, dict[str, str]] | None = None

    def answer_headers(self) -> dict[str, str]:
        """The platform headers for the fixed body, signed once per RESIGN_EVERY seconds."""
        now = int(time.time())
        if self._signed is None or now - self._signed[0] >= RESIGN_EVERY:
            timestamp, nonce = str(now), new_nonce()
            signature = self.platform_key.sign(answer_signing_string(timestamp, nonce, self.body), _PKCS1, _SHA256)
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                "Request-ID": secrets.token_hex(16),
                "Wechatpay-Timestamp": timestamp,
                "Wechatpay-Nonce": nonce,
                "Wechatpay-Signature": base64.b64encode(signature).decode("ascii"),
                "Wechatpay-Serial": self.platform_key_id,
                "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",  # wechatpayv3 insists on it
            }
            self._signed = (now, headers)
        return self._signed[1]

    def check(self, request: web.Request, body: bytes) -> str | None:
        """None when the request is signed by the merchant; the reason otherwise."""
        header = request.headers.get("Authorization")
        if not header:
            return "Authorization header is missing"
        try:
            fields = parse_authorization(header)
        except SignatureError as exc:
            return f"authorization: {exc.reason}"
        if (fields["mchid"] != self.mchid and not self.any_mchid) or fields["serial_no"] != self.merchant_serial:
            return "unknown merchant or certificate serial"
        if not fields["timestamp"].isdigit() or abs(time.time() - int(fields["timestamp"])) > MAX_CLOCK_SKEW:
            return "timestamp out of range"
        message = request_signing_string(
            request.method, request.raw_path, fields["timestamp"], fields["nonce_str"], body
        )
        try:
            self.merchant_public.verify(base64.b64decode(fields["signature"]), message, _PKCS1, _SHA256)
        except (InvalidSignature, ValueError):
            return "signature does not match METHOD\\nURL\\nTIMESTAMP\\nNONCE\\nBODY\\n"
        return None

    def hold(self, token: str) -> asyncio.Event:
        event = self.holds.get(token)
        if event is None:
            event = self.holds[token] = asyncio.Event()
        return event

    async def handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path == "/bench/stats":
            stats = {"ok": self.ok, "bad": self.bad, "first_bad": self.first_bad, "cpu": time.process_time()}
            return web.json_response(stats)
        if path == "/bench/release":
            self.hold(request.query.get("token", "")).set()
            return web.json_response({"released": request.query.get("token", "")})
        if path in ("/bench/blob", "/v3/billdownload/file"):
            # Unsigned, as the platform's downloads are.
            return web.Response(body=self.blob, content_type="application/octet-stream")
        body = await request.read()
        reason = self.check(request, body)
        if reason is not None:
            self.bad += 1
            self.first_bad = self.first_bad or reason
            return web.Response(
                status=401, body=dump_json({"code": "SIGN_ERROR", "message": reason}), content_type="application/json"
            )
        self.ok += 1
        token = request.headers.get("X-Bench-Hold")
        if token:
            await self.hold(token).wait()
        return web.Response(status=200, body=self.body, headers=self.answer_headers())


def _write_private(path: Path, data: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(data)


async def serve(keys_dir: Path, blob_mb: float, lifetime: float, any_mchid: bool = False) -> None:
    merchant_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    platform_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    mchid = "1900000109"
    merchant_serial = secrets.token_hex(20).upper()
    platform_key_id = "PUB_KEY_ID_" + "".join(secrets.choice("0123456789") for _ in range(28))
    keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    _write_private(
        keys_dir / "merchant_key.pem",
        merchant_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
    )
    (keys_dir / "platform_public.pem").write_bytes(
        platform_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )

    responder = Responder(
        mchid=mchid,
        merchant_serial=merchant_serial,
        merchant_public=merchant_key.public_key(),
        platform_key=platform_key,
        platform_key_id=platform_key_id,
        blob=b"\0" * int(blob_mb * 1_000_000),
        any_mchid=any_mchid,
    )
    app = web.Application(client_max_size=1 << 20)
    app.router.add_route("*", "/{tail:.*}", responder.handle)
    runner = web.AppRunner(app, access_log=None, handle_signals=True)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=4096)
    await site.start()
    port = int(runner.addresses[0][1])
    (keys_dir / "responder.json").write_text(
        json.dumps(
            {
                "port": port,
                "mchid": mchid,
                "merchant_serial": merchant_serial,
                "platform_key_id": platform_key_id,
            }
        )
    )
    print(f"READY {port}", flush=True)
    parent = os.getppid()
    deadline = time.monotonic() + lifetime
    try:
        while os.getppid() == parent and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keys-dir", required=True, type=Path, help="private folder for the generated keys")
    parser.add_argument("--blob-mb", type=float, default=50.0, help="size of the download body (MB, 10^6 bytes)")
    parser.add_argument("--lifetime", type=float, default=1800.0, help="stop by itself after this many seconds")
    parser.add_argument("--any-mchid", action="store_true", help="accept any mchid signed with the merchant key")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.keys_dir, args.blob_mb, args.lifetime, args.any_mchid))


if __name__ == "__main__":
    main()
