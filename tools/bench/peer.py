"""Worker for the peer SDK ``wechatpayv3`` (PyPI), run by ``run.py`` in its own venv.

    tools/bench/.venv-peer/bin/python tools/bench/peer.py --keys-dir DIR [--calls N] [--concurrency 1,8,64]

Same responder, same operation (``profitsharing_return`` = POST
/v3/profitsharing/return-orders with the same fields), in platform public key
mode. Its base URL is fixed in the SDK (``Core._gate_way``); we point that
attribute at the responder, which is the only change made to it. Sync mode is
``WeChatPay`` (requests, one call at a time; the SDK calls ``requests.post``
without a session, so each call opens a new connection: that is how it works
for its users). Async mode is ``AsyncWeChatPay`` (httpx.AsyncClient, installed
with the ``[async]`` extra), driven exactly like ours.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import PEER_PAYLOAD, BenchKeys, Measurement, drive, emit, measurement, process_cpu

perf = time.perf_counter
APPID = "wxd678efh567hg6787"
APIV3_KEY = "0123456789abcdef0123456789abcdef"  # unused here (no notifications), but required


def _settings(keys: BenchKeys) -> dict[str, Any]:
    from wechatpayv3 import WeChatPayType  # type: ignore[import-not-found]

    return {
        "wechatpay_type": WeChatPayType.NATIVE,
        "mchid": keys.mchid,
        "private_key": keys.merchant_private_pem,
        "cert_serial_no": keys.merchant_serial,
        "appid": APPID,
        "apiv3_key": APIV3_KEY,
        "public_key": keys.platform_public_pem,
        "public_key_id": keys.platform_key_id,
    }


def run_sync(keys: BenchKeys, n: int, warmup: int = 30) -> Measurement:
    from wechatpayv3 import WeChatPay

    wxpay = WeChatPay(**_settings(keys))
    wxpay._core._gate_way = keys.base_url  # the SDK's base URL, pointed at the responder
    for _ in range(warmup):
        wxpay.profitsharing_return(**PEER_PAYLOAD)
    latencies: list[float] = []
    errors, first_error = 0, ""
    cpu0, wall0 = process_cpu(), perf()
    for _ in range(n):
        start = perf()
        try:
            code, message = wxpay.profitsharing_return(**PEER_PAYLOAD)
            if code != 200:
                raise RuntimeError(f"unexpected answer {code}: {message!r:.200}")
        except Exception as exc:
            errors += 1
            first_error = first_error or repr(exc)[:300]
            continue
        latencies.append(perf() - start)
    return measurement("wechatpayv3 sync", latencies, perf() - wall0, process_cpu() - cpu0, errors, first_error)


async def run_async(keys: BenchKeys, n: int, concurrencies: list[int], warmup: int = 30) -> list[Measurement]:
    from wechatpayv3.async_ import AsyncWeChatPay  # type: ignore[import-not-found]

    results = []
    async with AsyncWeChatPay(**_settings(keys)) as wxpay:
        wxpay._core._gate_way = keys.base_url

        async def call() -> None:
            code, message = await wxpay.profitsharing_return(**PEER_PAYLOAD)
            if code != 200:
                raise RuntimeError(f"unexpected answer {code}: {message!r:.200}")

        for concurrency in concurrencies:
            results.append(await drive(call, n, concurrency, f"wechatpayv3 async c={concurrency}", warmup))
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keys-dir", type=Path, required=True)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", default="1,8,64")
    args = parser.parse_args(argv)
    keys = BenchKeys.load(args.keys_dir)
    results = [run_sync(keys, args.calls)]
    results.extend(asyncio.run(run_async(keys, args.calls, [int(c) for c in args.concurrency.split(",") if c])))
    for result in results:
        result.extra["version"] = version("wechatpayv3")
    emit(results)


if __name__ == "__main__":
    main()
