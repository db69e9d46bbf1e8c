"""``wechatpay``: the demo, calls from the shell, the catalogue, the mock platform."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import WeChatPayError
from .naming import VERBS

__all__ = ["main"]


def _client(args: argparse.Namespace) -> Any:
    from .client import Client
    from .config import client_keywords, client_kwargs_from_pairs

    overrides = client_kwargs_from_pairs(client_keywords(Client.__init__), args.set)
    if args.config:
        return Client.from_file(args.config, **overrides)
    return Client.from_env(**overrides)


def _json_argument(text: str | None) -> Any:
    if text is None:
        return None
    if text.startswith("@"):
        text = Path(text[1:]).read_text(encoding="utf-8")
    return json.loads(text)


def _xml_argument(text: str | None) -> Any:
    """v2 fields: a JSON object (text or @file), or a v2 ``<xml>`` document."""
    if text is None:
        return None
    if text.startswith("@"):
        text = Path(text[1:]).read_text(encoding="utf-8")
    if text.lstrip().startswith("<"):
        from .v2.codec import decode_xml

        return decode_xml(text)
    fields = json.loads(text)
    if not isinstance(fields, dict):
        raise SystemExit("--xml takes a JSON object of v2 fields (or <xml>...</xml>)")
    return fields


def _query_argument(pairs: Sequence[str]) -> dict[str, str] | None:
    query: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--query takes k=v, got {pair!r}")
        query[name] = value
    return query or None


def command_call(args: argparse.Namespace) -> int:
    with _client(args) as client:
        body: dict[str, Any] = {}
        if args.xml is not None:
            body["xml"] = _xml_argument(args.xml)
        if args.json is not None:
            body["json"] = _json_argument(args.json)
        try:
            response = client.request(args.method, args.path, query=_query_argument(args.query), **body)
        except TypeError as wrong:  # xml= on a v3 path, json= on a v2 path
            print(f"error: {wrong}", file=sys.stderr)
            return 2
    print(f"HTTP {response.status_code}  verified by {response.verified or '- (unsigned answer)'}", file=sys.stderr)
    if response.content:
        try:
            print(json.dumps(response.json(), ensure_ascii=False, indent=2))
        except ValueError:
            sys.stdout.buffer.write(response.content)
    return 0


def command_specs_list(args: argparse.Namespace) -> int:
    from .catalog.specs import Catalog

    catalog = Catalog()
    entries = catalog.search(args.search) if args.search else catalog.under(args.prefix or "")
    if args.unsigned:
        entries = [e for e in entries if (op := catalog.operation(e.key, e.method)) is not None and op.flag("unsigned")]
    for entry in entries:
        print(f"{entry.method:<6} {entry.key:<70} {entry.summary}")
    print(f"{len(entries)} operation(s)", file=sys.stderr)
    return 0


def command_specs_show(args: argparse.Namespace) -> int:
    from .catalog.specs import Catalog

    catalog = Catalog()
    key = args.path.strip("/")
    operations = catalog.operations(key)
    if not operations:
        suggestions = catalog.suggest(key)
        hint = f" (did you mean {', '.join(suggestions)}?)" if suggestions else ""
        print(f"{key}: not in the catalogue{hint}", file=sys.stderr)
        return 1
    for operation in operations.values():
        print(operation.describe())
        print()
    return 0


def command_certs_download(args: argparse.Namespace) -> int:
    with _client(args) as client:
        certificates = client.certificates.download()
        paths = client.certificates.save(args.out, certificates)
    for certificate, path in zip(certificates, paths, strict=True):
        valid = f"{certificate.not_before:%Y-%m-%d} .. {certificate.not_after:%Y-%m-%d}"
        print(f"{certificate.serial}  valid {valid}  -> {path}")
    return 0


def command_certs_sync(args: argparse.Namespace) -> int:
    """For a scheduled job: refresh the configured key store under its lease (other nodes adopt)."""
    from .errors import ConfigError

    with _client(args) as client:
        store = client.key_store
        if store is None:
            raise ConfigError(
                "key_store", "certs sync refreshes a key store: set key_store (a redis:// URL or a folder)"
            )
        if store.read_only:
            raise ConfigError("key_store", "read-only: certs sync needs a store it may save to")
        downloads = client.certificates.downloads
        record = client.certificates.sync(if_needed=args.if_needed)
        fetched = client.certificates.downloads > downloads
    if record is None:
        print("no platform keys stored")
        return 0
    what = "downloaded and saved" if fetched else "already current (adopted)"
    print(f"{client.mchid}: {what}, version {record.version}")
    for certificate in record.platform_certificates():
        print(f"{certificate.serial}  valid {certificate.not_before:%Y-%m-%d} .. {certificate.not_after:%Y-%m-%d}")
    for key_id in record.public_keys:
        print(f"{key_id}  public key")
    return 0


class _ProgressBar:
    """A one-line progress bar on a terminal (stderr); silent when stderr is not a TTY."""

    def __init__(self) -> None:
        self.enabled = sys.stderr.isatty()
        self.last = 0.0

    def __call__(self, done: int, total: int | None) -> None:
        now = time.monotonic()
        if not self.enabled or now - self.last < 0.1:
            return
        self.last = now
        if total:
            filled = int(30 * done / total)
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {done / 1e6:7.1f} / {total / 1e6:.1f} MB")
        else:
            sys.stderr.write(f"\r{done / 1e6:7.1f} MB")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


def command_bill_download(args: argparse.Namespace) -> int:
    query: dict[str, str] = {"bill_date": args.date}
    if args.gzip:
        query["tar_type"] = "GZIP"
    if args.kind == "trade" and args.bill_type:
        query["bill_type"] = args.bill_type
    if args.kind == "fundflow" and args.account_type:
        query["account_type"] = args.account_type
    out = Path(args.out or f"{args.kind}bill-{args.date}.csv{'.gz' if args.gzip and not args.decompress else ''}")
    bar = _ProgressBar()
    with _client(args) as client:
        answer = client.request("GET", f"v3/bill/{args.kind}bill", query=query)
        try:
            result = client.download_bill(answer, out, decompress=args.decompress, progress=bar)
        finally:
            bar.close()
    print(f"{result.path}: {result.size} bytes, {answer.json().get('hash_type', '')} checked")
    return 0


def command_mock_serve(args: argparse.Namespace) -> int:
    import signal
    import threading

    from .mock import MockPlatform

    platform = MockPlatform(mchid=args.mchid, port=args.port, state_file=args.state, sandbox=not args.examples)
    out = Path(args.keys_dir)
    out.mkdir(parents=True, exist_ok=True)
    key_file = out / "merchant_key.pem"
    key_file.write_text(platform.merchant_private_key_pem)
    key_file.chmod(0o600)
    (out / f"{platform.public_key_id}.pem").write_text(platform.platform_public_key_pem)
    stop = threading.Event()
    # SIGTERM (a supervisor, `kill`) ends the run like Ctrl-C: the state file is written.
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        with platform:
            config = out / "wechatpay.toml"
            config.write_text(
                f'mchid = "{platform.mchid}"\nserial = "{platform.merchant_serial}"\n'
                f'private_key = "merchant_key.pem"\napiv3_key = "{platform.apiv3_key}"\n'
                f'base_url = "{platform.base_url}"\nsecret = "{platform.secret}"\n'
                f'[certs]\n"{platform.public_key_id}" = "{platform.public_key_id}.pem"\n'
            )
            print(f"mock platform on {platform.base_url}  (config: {config})", flush=True)
            print(f"try: wechatpay --config {config} call POST v3/pay/transactions/native --json '{{...}}'")
            print(f"then: wechatpay mock pay <out_trade_no> --port {platform.port}", flush=True)
            try:
                while not stop.wait(0.5):
                    pass
            except KeyboardInterrupt:
                pass
    finally:
        signal.signal(signal.SIGTERM, previous)
    if args.state:
        print(f"sandbox state written to {args.state}", flush=True)
    return 0


def command_mock_drive(args: argparse.Namespace) -> int:
    """Ask a running ``wechatpay mock serve`` to do what only the platform does (pay, fail a refund...)."""
    import urllib3

    from .mock.control import ACTIONS, CONTROL_PREFIX

    keywords: dict[str, Any] = {}
    first = ACTIONS[args.mock][1][0]
    keywords[first] = float(args.target) if first == "seconds" else args.target
    for name in ("payer", "mchid", "fail", "reason"):
        if getattr(args, name, None) and name in ACTIONS[args.mock][1]:
            keywords[name] = getattr(args, name)
    url = f"http://127.0.0.1:{args.port}{CONTROL_PREFIX}{args.mock}"
    try:
        answer = urllib3.request("POST", url, json=keywords, timeout=10, retries=False)
    except urllib3.exceptions.HTTPError as exc:
        print(f"wechatpay: no mock platform at 127.0.0.1:{args.port}: {exc}", file=sys.stderr)
        return 2
    document = answer.json()
    if answer.status != 200:
        print(f"wechatpay: {document.get('error')}", file=sys.stderr)
        return 1
    print(json.dumps(document["result"], ensure_ascii=False, indent=2))
    return 0


def command_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wechatpay", description="WeChat Pay from the shell.")
    parser.add_argument("--config", help="a TOML/JSON config file (default: WECHATPAY_* environment variables)")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEYWORD=VALUE",
        help="any Client keyword, over the config: --set timeout=5 --set retry=none (repeatable)",
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        help="log each request and answer (masked) to stderr: the wechatpay_chain logger",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="run the demo against the embedded mock platform")
    demo.set_defaults(run=command_demo)

    call = commands.add_parser(
        "call", help="call one API: wechatpay call POST v3/... --json @body.json, or POST v2/... --xml '{...}'"
    )
    call.add_argument("method", type=str.upper, choices=[verb.upper() for verb in VERBS])
    call.add_argument("path", help="the API path as in the URL, e.g. v3/profitsharing/return-orders, v2/pay/orderquery")
    call.add_argument("--json", help="v3 request body: JSON text or @file")
    call.add_argument("--xml", help="v2 fields to sign and send: a JSON object or <xml>...</xml>, text or @file")
    call.add_argument("--query", action="append", default=[], help="query parameter k=v (repeatable)")
    call.set_defaults(run=command_call)

    specs = commands.add_parser("specs", help="the API catalogue").add_subparsers(dest="specs", required=True)
    listing = specs.add_parser("list", help="list operations under a prefix")
    listing.add_argument("prefix", nargs="?", default="")
    listing.add_argument("--search", help="words to find in paths and summaries")
    listing.add_argument("--unsigned", action="store_true", help="only operations whose answers are not signed")
    listing.set_defaults(run=command_specs_list)
    show = specs.add_parser("show", help="methods, fields, required flags and enums of one path")
    show.add_argument("path")
    show.set_defaults(run=command_specs_show)

    certs = commands.add_parser("certs", help="platform certificates").add_subparsers(dest="certs", required=True)
    certs_download = certs.add_parser("download", help="download, decrypt and verify; write <serial>.pem files")
    certs_download.add_argument("--out", required=True, help="folder for the PEM files")
    certs_download.set_defaults(run=command_certs_download)
    certs_sync = certs.add_parser(
        "sync", help="refresh the configured key_store under its lease (a scheduled job); other nodes adopt"
    )
    certs_sync.add_argument(
        "--if-needed", action="store_true", help="download only when the stored certificates near expiry"
    )
    certs_sync.set_defaults(run=command_certs_sync)

    bill = commands.add_parser("bill", help="bills").add_subparsers(dest="bill", required=True)
    bill_download = bill.add_parser("download", help="apply for a bill and stream it to a file, hash checked")
    bill_download.add_argument("--date", required=True, help="bill date, YYYY-MM-DD")
    bill_download.add_argument("--kind", choices=["trade", "fundflow"], default="trade")
    bill_download.add_argument("--bill-type", help="trade bills: ALL, SUCCESS, REFUND ...")
    bill_download.add_argument("--account-type", help="fund flow bills: BASIC, OPERATION, FEES")
    bill_download.add_argument("--gzip", action="store_true", help="ask for a gzip file")
    bill_download.add_argument("--decompress", action="store_true", help="inflate a gzip bill while saving")
    bill_download.add_argument("--out", help="target file (default: <kind>bill-<date>.csv)")
    bill_download.set_defaults(run=command_bill_download)

    mock = commands.add_parser("mock", help="the embedded mock platform").add_subparsers(dest="mock", required=True)
    serve = mock.add_parser("serve", help="serve the mock platform (a sandbox) on 127.0.0.1 until Ctrl-C or SIGTERM")
    serve.add_argument("--mchid", default="1900000109")
    serve.add_argument("--keys-dir", default="wechatpay-mock", help="where to write the test keys and a config")
    serve.add_argument("--port", type=int, default=0, help="the port on 127.0.0.1 (default: any free one)")
    serve.add_argument("--state", help="a JSON file the sandbox is read from at start and written to at stop")
    serve.add_argument("--examples", action="store_true", help="no sandbox: answer every call from the spec examples")
    serve.set_defaults(run=command_mock_serve)
    drives = {
        "pay": ("out_trade_no", "the payer pays the order (its notification follows)"),
        "fail-payment": ("out_trade_no", "the payment fails (PAYERROR)"),
        "complete-refund": ("out_refund_no", "a PROCESSING refund succeeds"),
        "fail-refund": ("out_refund_no", "a PROCESSING refund goes ABNORMAL"),
        "close-refund": ("out_refund_no", "a PROCESSING refund is CLOSED"),
        "advance": ("seconds", "move the sandbox clock on (expiry, delayed refunds)"),
        "order": ("out_trade_no", "print the stored order"),
        "refund": ("out_refund_no", "print the stored refund"),
        "pay-combined": ("combine_out_trade_no", "the payer pays a combined order (every sub-order)"),
        "combined-order": ("combine_out_trade_no", "print the stored combined order"),
        "confirm-transfer": ("out_bill_no", "the user confirms a transfer bill"),
        "complete-transfer": ("number", "a transfer bill or batch ends (SUCCESS, or FAIL with --fail)"),
        "close-transfer": ("number", "an unconfirmed bill is cancelled, a batch closed"),
        "transfer": ("number", "print the stored transfer bill or batch"),
    }
    for action, (target, summary) in drives.items():
        drive = mock.add_parser(action, help=f"{summary}, in a running `mock serve`")
        drive.add_argument("target", metavar=target)
        drive.add_argument("--port", type=int, required=True, help="the port `mock serve` listens on")
        drive.add_argument("--mchid", help="the merchant (default: any)")
        if action in ("pay", "pay-combined"):
            drive.add_argument("--payer", help="the payer's openid")
        if action == "complete-transfer":
            drive.add_argument("--fail", help="the reason it fails (default: it succeeds)")
        if action == "close-transfer":
            drive.add_argument("--reason", help="a batch's close_reason (default OVERDUE_CLOSE)")
        drive.set_defaults(run=command_mock_drive)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.debug:
        import logging

        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
        logger = logging.getLogger("wechatpay_chain")
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    try:
        return int(args.run(args))
    except WeChatPayError as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
