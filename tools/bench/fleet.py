"""Many merchants in one process: what each merchant client costs (issue 15's targets).

    python tools/bench/fleet.py [--merchants 1000] [--timed 200] [--standalone 5] [--json FILE]

Starts the bench responder (``responder.py --any-mchid``: any merchant number signed with
its merchant key) in its own process, then, in this process, on one ``Merchants`` fleet:

- **warm-up**: one merchant's client calls 50 times (the spec, its validators and the
  connection are loaded once per process, not per merchant);
- **memory**: ``--merchants`` new merchant clients, each with its own merchant number and
  defaults, each making one call (a JSAPI order with ``appid``/``notify_url``/``mchid``
  filled from the defaults), all kept alive: the RSS growth (``/proc/self/statm``) in one
  pass, the ``tracemalloc`` growth (after ``gc.collect()``) in a second pass of as many
  others. Every merchant reuses the same key objects (loaded once), as a service provider
  would hold one key per merchant: what is measured is the client, not RSA keys;
- **first call**: ``--timed`` more merchants, one at a time: ``fleet.client(...)``, its
  first call, then a second (warm) call of the same client; the extra cost of a first
  call is the median of (first - warm) over the merchants;
- **standalone** (for comparison): ``--standalone`` ``Client(...)`` objects of their own
  (own catalogue, own pools): construction plus first call, and what each keeps.

Targets (issue 15): 1,000 merchant clients add at most 20 MiB; a new merchant's first call
costs at most 2 ms more than a warm call. The exit status is non-zero when a call failed.
"""

from __future__ import annotations

import argparse
import gc
import json
import shutil
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import BenchKeys, median, percentile, rss_bytes, start_responder, stop_process

if TYPE_CHECKING:
    from wechatpay_chain import Client

MIB = 1024 * 1024
MEMORY_TARGET_MIB = 20.0  # for 1,000 merchants
FIRST_CALL_TARGET_MS = 2.0
DEFAULTS = {"appid": "wxd678efh567hg6787", "notify_url": "https://shop.example/wechatpay/notify"}
perf = time.perf_counter


class Bench:
    """The fleet, the shared key objects, and a counter of orders and failures."""

    def __init__(self, keys: BenchKeys) -> None:
        from wechatpay_chain.fleet import Merchants
        from wechatpay_chain.trust.crypto import load_private_key, load_public_key

        self.keys = keys
        self.private_key = load_private_key(keys.merchant_private_pem)  # once, for every merchant
        self.platform = load_public_key(keys.platform_public_pem)
        self.fleet = Merchants(base_url=keys.base_url)
        self.next_mchid = 1_900_000_000
        self.orders = 0
        self.errors = 0
        self.first_error = ""

    def merchant(self) -> Client:
        self.next_mchid += 1
        return self.fleet.client(
            str(self.next_mchid),
            serial=self.keys.merchant_serial,
            private_key=self.private_key,
            certs={self.keys.platform_key_id: self.platform},
            defaults=DEFAULTS,
        )

    def standalone(self) -> Client:
        from wechatpay_chain import Client

        self.next_mchid += 1
        return Client(
            str(self.next_mchid),
            serial=self.keys.merchant_serial,
            private_key=self.private_key,
            certs={self.keys.platform_key_id: self.platform},
            defaults=DEFAULTS,
            base_url=self.keys.base_url,
        )

    def order(self, client: Client) -> None:
        """A JSAPI order as a fleet merchant writes it: only its own fields."""
        self.orders += 1
        payload = {
            "description": "bench",
            "out_trade_no": f"F{self.orders:012d}",
            "amount": {"total": 1},
            "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
        }
        try:
            # appid/mchid/notify_url come from the merchant's defaults, which the stubs cannot know
            client.v3.pay.transactions.jsapi.post(json=payload)  # type: ignore[arg-type]
        except Exception as exc:
            self.errors += 1
            self.first_error = self.first_error or repr(exc)[:300]


def measure(keys: BenchKeys, merchants: int, timed: int, standalone: int) -> dict[str, Any]:
    bench = Bench(keys)
    warm = bench.merchant()
    for _ in range(50):
        bench.order(warm)

    kept: list[Client] = []
    gc.collect()
    rss0 = rss_bytes()
    for _ in range(merchants):
        client = bench.merchant()
        bench.order(client)
        kept.append(client)
    gc.collect()
    rss = rss_bytes() - rss0

    tracemalloc.start()
    gc.collect()
    traced0 = tracemalloc.get_traced_memory()[0]
    for _ in range(merchants):
        client = bench.merchant()
        bench.order(client)
        kept.append(client)
    gc.collect()
    traced = tracemalloc.get_traced_memory()[0] - traced0
    tracemalloc.stop()

    create, first, again = [], [], []
    for _ in range(timed):
        t0 = perf()
        client = bench.merchant()
        t1 = perf()
        bench.order(client)
        t2 = perf()
        bench.order(client)
        t3 = perf()
        create.append(t1 - t0)
        first.append(t2 - t1)
        again.append(t3 - t2)
        kept.append(client)
    extra = [f - w for f, w in zip(first, again, strict=True)]

    alone_first: list[float] = []
    alone_kept: list[Client] = []
    tracemalloc.start()
    traced_alone0 = tracemalloc.get_traced_memory()[0]
    for _ in range(standalone):
        t0 = perf()
        client = bench.standalone()
        bench.order(client)
        alone_first.append(perf() - t0)
        alone_kept.append(client)
    gc.collect()
    traced_alone = tracemalloc.get_traced_memory()[0] - traced_alone0
    tracemalloc.stop()
    for client in alone_kept:
        client.close()
    bench.fleet.close()
    return {
        "merchants": merchants,
        "rss_bytes": rss,
        "traced_bytes": traced,
        "timed": timed,
        "create_ms": median(create) * 1000,
        "first_ms": median(first) * 1000,
        "warm_ms": median(again) * 1000,
        "extra_ms": median(extra) * 1000,
        "extra_p90_ms": percentile(extra, 90) * 1000,
        "standalone": standalone,
        "standalone_first_ms": median(alone_first) * 1000 if alone_first else None,
        "standalone_traced_bytes": traced_alone / standalone if standalone else None,
        "orders": bench.orders,
        "errors": bench.errors,
        "first_error": bench.first_error,
    }


def render(report: dict[str, Any]) -> str:
    n = report["merchants"]
    per_1000 = 1000 / n
    rss_mib, traced_mib = report["rss_bytes"] / MIB * per_1000, report["traced_bytes"] / MIB * per_1000

    def verdict(value: float, target: float) -> str:
        return "ok" if value <= target else "OVER TARGET"

    lines = [
        f"fleet: {n} merchant clients per pass, each one call (JSAPI order, defaults filled), one shared key object",
        f"  memory per 1,000 merchants: RSS {rss_mib:.1f} MiB, tracemalloc {traced_mib:.1f} MiB "
        f"(target <= {MEMORY_TARGET_MIB:.0f} MiB: {verdict(max(rss_mib, traced_mib), MEMORY_TARGET_MIB)}); "
        f"{report['traced_bytes'] / n / 1024:.1f} KiB per client",
        f"  first call over a warm one ({report['timed']} new merchants): median +{report['extra_ms']:.2f} ms, "
        f"p90 +{report['extra_p90_ms']:.2f} ms (target <= {FIRST_CALL_TARGET_MS:.0f} ms: "
        f"{verdict(report['extra_ms'], FIRST_CALL_TARGET_MS)}); first {report['first_ms']:.2f} ms, "
        f"warm {report['warm_ms']:.2f} ms, fleet.client(...) {report['create_ms']:.3f} ms",
    ]
    if report["standalone"]:
        lines.append(
            f"  for comparison, a standalone Client (own catalogue and pools): construction + first call "
            f"{report['standalone_first_ms']:.1f} ms, {report['standalone_traced_bytes'] / MIB:.2f} MiB kept each"
        )
    lines.append(f"  {report['orders']} orders, {report['errors']} failed {report['first_error']}".rstrip())
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--merchants", type=int, default=1000, help="merchant clients per memory pass")
    parser.add_argument("--timed", type=int, default=200, help="new merchants timed for the first-call cost")
    parser.add_argument("--standalone", type=int, default=5, help="standalone Clients, for comparison (0: none)")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="wechatpay-bench-fleet-"))
    responder, keys = start_responder(sys.executable, folder, blob_mb=0.001, any_mchid=True)
    try:
        report = measure(keys, args.merchants, args.timed, args.standalone)
    finally:
        stop_process(responder)
        shutil.rmtree(folder, ignore_errors=True)
    print(render(report))
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 1 if report["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
