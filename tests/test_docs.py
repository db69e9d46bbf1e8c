"""The reference (tools/gen_docs.py): its pages, the code they show, and the HTML in a browser.

- every operation has a Markdown and an HTML page; the indexes group them by tag;
- a page shows what the issue lists (title, method and path, roles, tables with nesting,
  six call forms, response table, official link);
- the code on the pages runs against the mock platform: the code blocks are read back
  from the built Markdown and executed (sync blocks as they are, async blocks with
  top-level ``await``); every call must reach the mock and come back 2xx. A sample of
  operations runs by default, all of them with ``pytest -m slow`` (about two minutes);
- operations whose example cannot succeed are listed in ``known_failure`` with the
  reason, as strict xfails: a fix elsewhere makes them fail until the entry is removed;
- the HTML is opened from disk in headless chromium (``-m slow``; skipped without chromium).
"""

from __future__ import annotations

import ast
import asyncio
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT / "specs"
sys.path.insert(0, str(ROOT / "tools"))

import screenshot_docs  # noqa: E402  (tools/ is not a package; the path is set just above)
from docgen.markdown import ASYNC_LABEL, SYNC_LABEL  # noqa: E402
from docgen.pages import Page, slug_of  # noqa: E402
from docgen.site import build, load_pages  # noqa: E402

from wechatpay_chain.catalog.specs import Catalog  # noqa: E402
from wechatpay_chain.mock import MockPlatform  # noqa: E402

SEED = "post-v3-profitsharing-return-orders"
SAMPLE_SIZE = 50
# Operations the default sample always includes: the seed, a path template with a query,
# a nested body with encrypted fields, an upload, a download, v2 XML, a v2 redirect page,
# a v2 call over the merchant certificate, the v2 upload, and one known failure (so the
# xfail path runs).
ALWAYS = (
    SEED,
    "get-v3-pay-transactions-out-trade-no-_out_trade_no_",
    "post-v3-pay-transactions-jsapi",
    "post-v3-merchant-media-upload",
    "get-v3-merchant-service-images-_media_id_",
    "post-v2-pay-micropay",
    "get-v2-papay-entrustweb",
    "post-v2-secapi-pay-refund",
    "post-v2-secapi-mch-uploadmedia",
    "get-v3-merchant-store-stores-_store_id_",
    "get-v3-billdownload-file",
)
CODE_BLOCK = re.compile(r"^(?P<label>[^\n]+)\n\n```python\n(?P<code>.*?)\n```$", re.MULTILINE | re.DOTALL)


# ---------------------------------------------------------------- what cannot succeed, and why


def known_failure(page: Page) -> str | None:
    """Why this page's example cannot succeed against the mock today, or ``None``.

    Rules read the spec, so every operation of a kind is covered; each names the
    part of the runtime or the mock that would have to change.
    """
    return KNOWN_BY_SLUG.get(page.slug)


KNOWN_BY_SLUG = {
    "get-v3-billdownload-file": (
        "mock: a bill file is served only for a token the mock issued in a v3/bill/* download_url; "
        "the page's token is the spec's example (404 RESOURCE_NOT_EXISTS)"
    ),
}


def _typed(schema: Any, kinds: tuple[str, ...]) -> bool:
    kind = schema.get("type") if isinstance(schema, Mapping) else None
    return (kind in kinds) if isinstance(kind, str) else any(k in kinds for k in kind or ())


# ---------------------------------------------------------------- fixtures


@dataclass
class Site:
    out: Path
    pages: dict[str, Page]

    def markdown(self, slug: str) -> str:
        return (self.out / "md" / "ops" / f"{slug}.md").read_text(encoding="utf-8")

    def html(self, slug: str) -> str:
        return (self.out / "html" / "ops" / f"{slug}.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    out = tmp_path_factory.mktemp("reference")
    pages = load_pages(SPECS)
    build(out, SPECS, pages)
    return Site(out, {page.slug: page for page in pages})


def sample(slugs: list[str]) -> list[str]:
    """Every n-th operation over the catalogue (all areas, both protocols) plus ``ALWAYS``."""
    step = max(1, len(slugs) // SAMPLE_SIZE)
    return list(dict.fromkeys([*ALWAYS, *slugs[::step]]))


def all_slugs() -> list[str]:
    """From the index alone (no spec file read): collecting the tests stays cheap."""
    return [slug_of(entry.method, entry.key) for entry in Catalog([SPECS], builtin=False)]


@pytest.fixture(scope="module")
def merchant_certificate() -> dict[str, bytes]:
    """A merchant client certificate for the v2 calls that need one (the mock serves plain HTTP)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "1900000109")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    return {
        "client_cert": certificate.public_bytes(pem),
        "client_key": key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
    }


@pytest.fixture(scope="module")
def docs_mock() -> Iterator[MockPlatform]:
    with MockPlatform(mchid="1900000109", sandbox=False) as mock:  # the examples' merchant id and answers
        yield mock


# ---------------------------------------------------------------- running a page's code


def code_blocks(markdown: str) -> list[tuple[str, str]]:
    return [(m.group("label"), m.group("code")) for m in CODE_BLOCK.finditer(markdown)]


def client_options(mock: MockPlatform, certificate: dict[str, bytes]) -> dict[str, Any]:
    """A client that trusts both of the mock's keys (``v3/certificates`` is signed by the certificate),
    and knows its bank-transfer key (so a page's call count has no ``getpublickey`` fetch in it)."""
    trusted = {mock.public_key_id: mock.platform_key.public_key(), mock.certificate_serial: mock.platform_certificate}
    return {"certs": trusted, "bank_public_key": mock.bank_key.public_key(), **certificate}


def run_page(markdown: str, page: Page, mock: MockPlatform, options: dict[str, Any]) -> int:
    """Execute the page's code; return how many calls reached the mock.

    Counted over all keys: two specs may share a URL shape (``applyment/{applyment_id}/cancel``
    and ``applyment/{business_code}/cancel``), and the mock files such a call under the first.
    """
    before = len(mock.calls)
    blocks = code_blocks(markdown)
    assert blocks, f"{page.slug}: no code on the page"
    namespace: dict[str, Any] = {}
    with mock.client(**options) as client:
        namespace["client"] = client
        for label, code in blocks:
            if label != ASYNC_LABEL:
                exec(compile(code, f"{page.slug}.md", "exec"), namespace)
    asynchronous = [code for label, code in blocks if label == ASYNC_LABEL]
    if asynchronous:
        asyncio.run(_run_async(asynchronous[0], namespace, mock, options, page.slug))
    if page.example.redirect:
        assert str(namespace["url"]).startswith("http"), namespace["url"]
    return len(mock.calls) - before


async def _run_async(
    code: str, namespace: dict[str, Any], mock: MockPlatform, options: dict[str, Any], name: str
) -> None:
    async with mock.client(**options) as client:
        namespace["client"] = client
        compiled = compile(code, f"{name}.md", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        awaitable = eval(compiled, namespace)  # top-level await compiles to a coroutine
        if awaitable is not None:
            await awaitable


def expected_calls(markdown: str) -> int:
    return sum(code.count("response = ") for label, code in code_blocks(markdown) if label in (SYNC_LABEL, ASYNC_LABEL))


def check_page_runs(site: Site, slug: str, mock: MockPlatform, certificate: dict[str, bytes]) -> None:
    page = site.pages[slug]
    markdown = site.markdown(slug)
    reason = known_failure(page)
    try:
        made = run_page(markdown, page, mock, client_options(mock, certificate))
    except Exception as error:
        if reason is not None:
            pytest.xfail(f"{reason} [{type(error).__name__}]")
        raise
    assert made == expected_calls(markdown), f"{slug}: {made} calls reached the mock"
    if reason is not None:
        pytest.fail(f"{slug} now runs: remove it from known_failure ({reason})")


# ---------------------------------------------------------------- the pages


def test_every_operation_has_a_page_in_both_formats(site: Site) -> None:
    assert len(site.pages) == 1155
    for folder, suffix in (("md", ".md"), ("html", ".html")):
        written = {path.stem for path in (site.out / folder / "ops").glob(f"*{suffix}")}
        assert written == set(site.pages)


def test_the_seed_page_shows_what_the_issue_lists(site: Site) -> None:
    markdown = site.markdown(SEED)
    assert markdown.startswith("# 请求分账回退\n")
    assert "`POST /v3/profitsharing/return-orders`" in markdown
    assert "Roles: 直连商户, 服务商" in markdown and "Tags: 资金应用∙分账" in markdown
    assert "| `out_return_no` | string | yes | 商户回退单号 |  |" in markdown
    assert "`PROCESSING`, `SUCCESS`, `FAILED`" in markdown  # response enum
    calls = [line for _, code in code_blocks(markdown) for line in code.splitlines() if "response = " in line]
    assert calls == [
        "response = client.v3.profitsharing.return_orders.post(json=payload)",
        'response = client.chain("v3/profitsharing/return-orders").post(json=payload)',
        'response = client["v3/profitsharing/return-orders"].post(json=payload)',
        "response = await client.v3.profitsharing.return_orders.post_async(json=payload)",
        'response = await client.chain("v3/profitsharing/return-orders").post_async(json=payload)',
        'response = await client["v3/profitsharing/return-orders"].post_async(json=payload)',
    ]


def test_nesting_is_indented_and_the_official_link_is_there(site: Site) -> None:
    markdown = site.markdown("post-v3-pay-transactions-jsapi")
    assert "| &nbsp;&nbsp;&nbsp;&nbsp;`total` | integer | yes | 总金额 |" in markdown
    assert "[Official documentation](https://pay.weixin.qq.com/" in markdown
    html = site.html("post-v3-pay-transactions-jsapi")
    assert '<td style="padding-left:2.2em">&#8627; <code>total</code></td>' in html


def test_path_values_are_keywords_in_every_style(site: Site) -> None:
    markdown = site.markdown("get-v3-pay-transactions-out-trade-no-_out_trade_no_")
    attribute = "response = client.v3.pay.transactions.out_trade_no._out_trade_no_.get"
    assert f'{attribute}(out_trade_no="1217752501201407033233368018", query=query)' in markdown
    assert 'client.chain("v3/pay/transactions/out-trade-no/{out_trade_no}").get(out_trade_no=' in markdown


def test_every_example_payload_validates_against_its_spec(site: Site) -> None:
    problems = {slug: page.example.problems for slug, page in site.pages.items() if page.example.problems}
    assert problems == {}


# ---------------------------------------------------------------- the official link, over the whole catalogue

CATALOGUE = ROOT.parent / "shared" / "wechatpay-openapi"
OFFICIAL_HOSTS = ("pay.weixin.qq.com", "pay.wechatpay.cn")
_SOURCE_URL = re.compile(r"(?P<scheme>[a-z]*)://(?P<host>[A-Za-z0-9.-]+)(?P<rest>[^\s)\]<>\"'`，。；]*)")


def source_doc_links() -> dict[tuple[str, str], set[str]]:
    """(key, method) -> the official links the source operation carries, read straight from the YAML.

    Independent of the importer: every path file on disk, the operation's description and
    ``externalDocs``; a link counts when it points at an official host or its markdown
    label says 文档. A mistyped scheme (``hhttps``) is read as https.
    """
    import yaml

    found: dict[tuple[str, str], set[str]] = {}
    for folder in ("v2", "v3", "hk", "global"):
        for file in sorted((CATALOGUE / folder).rglob("*.yaml")):
            key = file.relative_to(CATALOGUE).with_suffix("").as_posix().removesuffix("/{empty}")
            document = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
            for method in ("get", "post", "put", "patch", "delete"):
                operation = document.get(method)
                if not isinstance(operation, dict):
                    continue
                text = str(operation.get("description") or "")
                external = operation.get("externalDocs") or {}
                labelled = {url for label, url in re.findall(r"\[([^\]]*)\]\(([^)\s]*)\)", text) if "文档" in label}
                links = set()
                for match in _SOURCE_URL.finditer(f"{text} {external.get('url') or ''}"):
                    url = f"https://{match['host']}{match['rest']}" if "s" in match["scheme"] else match.group(0)
                    if match["host"] in OFFICIAL_HOSTS or match.group(0) in labelled:
                        links.add(url)
                found[(key, method)] = links
    return found


def _shows_link(site: Site, slug: str, doc: Any) -> bool:
    in_html = f'<a href="{escape(doc)}">Official documentation</a>' in site.html(slug)
    return in_html and f"[Official documentation]({doc})" in site.markdown(slug)


@pytest.mark.skipif(not CATALOGUE.is_dir(), reason="the source catalogue is not checked out next to the repository")
def test_every_operation_with_an_official_link_in_the_source_shows_it(site: Site) -> None:
    source = source_doc_links()
    pages = {(page.operation.key, page.operation.method.lower()): page for page in site.pages.values()}
    assert set(source) == set(pages)
    missing, wrong, invented = [], [], []
    for where, links in source.items():
        page = pages[where]
        doc = page.operation.spec.get("doc")
        if links and doc is None:
            missing.append(where)
        elif links and (doc not in links or not _shows_link(site, page.slug, doc)):
            wrong.append((where, doc))
        elif not links and doc is not None:
            invented.append((where, doc))
    assert (missing, wrong, invented) == ([], [], [])
    # the source gives no link at all for these (counted 2026-08: 393 of 1,155)
    assert sum(1 for links in source.values() if not links) == 393


@pytest.mark.parametrize(
    ("description", "external", "link"),
    [
        ("[官方文档](hhttps://pay.weixin.qq.com/docs/a.html)", None, "https://pay.weixin.qq.com/docs/a.html"),
        (
            "详见 https://pay.weixin.qq.com/doc/v3/merchant/4012。",
            None,
            "https://pay.weixin.qq.com/doc/v3/merchant/4012",
        ),
        ("see <https://pay.wechatpay.cn/doc/v3/x>", None, "https://pay.wechatpay.cn/doc/v3/x"),
        ('<a href="https://pay.weixin.qq.com/a">接口</a>', None, "https://pay.weixin.qq.com/a"),
        (
            "[x](https://yoursite.com) [官方文档](https://open.work.weixin.qq.com/a)",
            None,
            "https://open.work.weixin.qq.com/a",
        ),
        ("回调 http://yoursite.com", None, None),
        ("no link", {"url": "https://pay.weixin.qq.com/e"}, "https://pay.weixin.qq.com/e"),
        (None, None, None),
    ],
)
def test_doc_link_reads_every_link_form(description: Any, external: Any, link: str | None) -> None:
    from specimport.text import doc_link

    assert doc_link(description, external) == link


# ---------------------------------------------------------------- placeholders, groups and conditions

PLACEHOLDER = re.compile(r"^(?:s|st|str|stri|strin|string)x*$")  # example_for's fallback, cut or padded


def _strings(value: Any, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{where}/{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{where}/{index}")
    elif isinstance(value, str):
        yield where, value


def test_no_example_payload_shows_a_placeholder(site: Site) -> None:
    found = [
        f"{slug}{where} = {value!r}"
        for slug, page in site.pages.items()
        for where, value in _strings({**page.example.variables, "path": page.example.path_values}, "")
        if PLACEHOLDER.match(value)
    ]
    assert found == []
    seed = site.pages[SEED].example.variables["payload"]
    # one of order_id, out_order_no: the example takes the group's first branch, no placeholder
    assert seed["order_id"] == "3008450740201411110007820472" and "out_order_no" not in seed
    assert not any('"string"' in code for _, code in code_blocks(site.markdown(SEED)))


def _with_rules(tmp_path: Path) -> Path:
    """A catalogue of two specs with the rules another change will write into the real ones."""
    import yaml

    specs = tmp_path / "specs"
    lines = ["key\tmethod\turl\tsummary"]
    documents = {}
    for key in ("v2/pay/orderquery", "v3/transfer/batches"):
        documents[key] = yaml.safe_load((SPECS / f"{key}.yaml").read_text(encoding="utf-8"))
        for method, operation in documents[key]["operations"].items():
            lines.append(f"{key}\t{method.upper()}\t{documents[key]['url']}\t{operation.get('summary', '')}")
    xml = documents["v2/pay/orderquery"]["operations"]["post"]["xml"]
    xml["required"] = [name for name in xml["required"] if name not in ("transaction_id", "out_trade_no")]
    xml.pop("allOf", None)
    xml["anyOf"] = [{"required": ["transaction_id"]}, {"required": ["out_trade_no"]}]
    body = documents["v3/transfer/batches"]["operations"]["post"]["json"]
    items = body["properties"]["transfer_detail_list"]["items"]
    items["required"] = [name for name in items.get("required", []) if name != "user_name"]
    items["allOf"] = [
        {"if": {"required": ["transfer_amount"], "properties": {"transfer_amount": {"minimum": 200000}}},
         "then": {"required": ["user_name"]}},
        {"if": {"required": ["transfer_amount"], "properties": {"transfer_amount": {"minimum": 100000}}},
         "then": {"not": {"required": ["user_id_card"]}}},
    ]  # fmt: skip
    for key, document in documents.items():
        target = specs / f"{key}.yaml"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    (specs / "index.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return specs


def test_groups_and_conditions_show_in_the_tables_and_the_examples_keep_them(tmp_path: Path) -> None:
    from jsonschema import Draft202012Validator

    specs = _with_rules(tmp_path)
    out = tmp_path / "reference"
    pages = {page.slug: page for page in load_pages(specs)}
    build(out, specs, list(pages.values()))
    read = Site(out, pages)

    query = "post-v2-pay-orderquery"
    markdown, html = read.markdown(query), read.html(query)
    assert "| `transaction_id` | string | one of |" in markdown and "| `out_trade_no` | string | one of |" in markdown
    assert "- One of transaction_id, out_trade_no is required" in markdown
    assert '<td class="required">one of</td>' in html
    assert "<li>One of transaction_id, out_trade_no is required</li>" in html
    payload = pages[query].example.variables["payload"]
    assert "transaction_id" in payload and "out_trade_no" not in payload  # the first branch only
    assert pages[query].example.problems == []
    xml = pages[query].operation.schema("xml")
    assert Draft202012Validator(xml).is_valid({**payload, "nonce_str": "0" * 32, "sign": "0" * 32})

    batches = "post-v3-transfer-batches"
    markdown, html = read.markdown(batches), read.html(batches)
    assert "`user_name` | string | conditional |" in markdown
    assert "- In `transfer_detail_list[]`: user_name: required when transfer_amount >= 200000" in markdown
    assert "- In `transfer_detail_list[]`: user_id_card: not allowed when transfer_amount >= 100000" in markdown
    rule = "user_name: required when transfer_amount &gt;= 200000"
    assert f"<li>In <code>transfer_detail_list[]</code>: {rule}</li>" in html
    detail = pages[batches].example.variables["payload"]["transfer_detail_list"][0]
    assert detail["transfer_amount"] >= 200000 and "user_name" in detail and "user_id_card" not in detail
    assert pages[batches].example.problems == []
    assert Draft202012Validator(pages[batches].operation.schema("json")).is_valid(
        pages[batches].example.variables["payload"]
    )


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.searchable = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a" and values.get("href"):
            self.links.append(str(values["href"]))
        if tag == "li" and "data-search" in values:
            self.searchable += 1


def test_the_html_index_links_every_page_and_works_offline(site: Site) -> None:
    index = (site.out / "html" / "index.html").read_text(encoding="utf-8")
    parser = _Links()
    parser.feed(index)
    targets = {link for link in parser.links if link.startswith("ops/")}
    assert targets == {f"ops/{slug}.html" for slug in site.pages}
    assert parser.searchable >= len(site.pages)  # an operation with two tags is listed twice
    assert "http://" not in index.replace('"http://', "") and "https://" not in index  # nothing fetched
    assert (site.out / "html" / "assets" / "search.js").is_file()
    markdown_index = (site.out / "md" / "index.md").read_text(encoding="utf-8")
    assert "## 资金应用∙分账" in markdown_index and f"(ops/{SEED}.md)" in markdown_index


# ---------------------------------------------------------------- the code on the pages runs


@pytest.mark.parametrize("slug", sample(all_slugs()))
def test_the_examples_of_a_sample_of_pages_run_against_the_mock(
    site: Site, slug: str, docs_mock: MockPlatform, merchant_certificate: dict[str, bytes]
) -> None:
    check_page_runs(site, slug, docs_mock, merchant_certificate)


@pytest.mark.slow
def test_the_examples_of_every_page_run_against_the_mock(
    site: Site, docs_mock: MockPlatform, merchant_certificate: dict[str, bytes], request: pytest.FixtureRequest
) -> None:
    """All 1,155 operations (about two minutes): ``pytest -m slow tests/test_docs.py``."""
    if "slow" not in (request.config.option.markexpr or ""):
        pytest.skip("long-running; the sample above runs by default; run with pytest -m slow")
    unexpected: list[str] = []
    still_failing: list[str] = []
    now_running: list[str] = []
    for slug, page in site.pages.items():
        reason = known_failure(page)
        try:
            made = run_page(site.markdown(slug), page, docs_mock, client_options(docs_mock, merchant_certificate))
            assert made == expected_calls(site.markdown(slug)), f"{made} calls reached the mock"
        except Exception as error:
            (still_failing if reason else unexpected).append(f"{slug}: {type(error).__name__}: {error}")
            continue
        if reason is not None:
            now_running.append(slug)
    print(f"\n{len(site.pages) - len(still_failing)} pages run; {len(still_failing)} known failures:")
    print("\n".join(f"  {line.splitlines()[0][:160]}" for line in still_failing))
    assert not unexpected, "\n".join(unexpected[:20])
    assert not now_running, f"these run now, remove them from known_failure: {now_running}"


# ---------------------------------------------------------------- in a real browser


@pytest.mark.slow
def test_the_html_works_in_headless_chromium(site: Site, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """Index loads, search finds return-orders, a page renders its tables; screenshots taken."""
    if "slow" not in (request.config.option.markexpr or ""):
        pytest.skip("starts a browser; run with pytest -m slow")
    executable = screenshot_docs.find_chromium()
    if executable is None:
        pytest.skip("no chromium on PATH (apt-get install chromium)")
    browser = screenshot_docs.Browser(executable)
    assert screenshot_docs.check_site(site.out / "html", browser) == []
    shots = screenshot_docs.take_screenshots(site.out / "html", tmp_path, browser)
    assert all(shot.stat().st_size > 10_000 for shot in shots)


PHONE_WIDTH = 375
# Pages whose tables are widest: long enum lists (webhooks), a long path and nested names, the seed.
NARROW_PAGES = (
    "post-v3-webhooks",
    "get-v3-platsolution-insurance-mch-transfer-batches-out-batch-no-_out_batch_no_-details-out-detail-no-_out_detail_no_",
    "post-v3-pay-transactions-jsapi",
    SEED,
)
# Headless chromium will not open a window narrower than 500 px, so the page is loaded in a
# 375 px iframe; the page reports its own widths to the frame around it, which keeps them.
_PROBE = (
    "<script>addEventListener('load', () => parent.postMessage("
    "[document.documentElement.scrollWidth, window.innerWidth], '*'));</script></body>"
)
_FRAME = (
    '<!doctype html><html><body style="margin:0"><iframe src="{src}" style="width:{width}px;height:900px;border:0">'
    "</iframe><script>addEventListener('message', (event) => {{"
    "document.body.dataset.scrollWidth = event.data[0]; document.body.dataset.innerWidth = event.data[1];"
    "}});</script></body></html>"
)


def page_width(browser: screenshot_docs.Browser, html: Path, width: int) -> tuple[int, int]:
    """(document scroll width, viewport width) of ``html`` (with ``_PROBE``) in a frame ``width`` pixels wide."""
    frame = html.with_name(f"frame-{html.name}")
    frame.write_text(_FRAME.format(src=html.name, width=width), encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        command = [
            browser.executable,
            *screenshot_docs.ISOLATION,
            f"--user-data-dir={profile}",
            "--dump-dom",
            frame.resolve().as_uri(),
        ]
        dom = subprocess.run(command, capture_output=True, text=True, timeout=browser.timeout, check=True).stdout
    found = re.search(r'data-scroll-width="(\d+)" data-inner-width="(\d+)"', dom)
    assert found, dom[-500:]
    return int(found[1]), int(found[2])


@pytest.mark.slow
def test_tables_fit_a_phone_screen_in_headless_chromium(
    site: Site, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """At 375 px the page never scrolls sideways: text wraps, a table too wide scrolls in its own box."""
    if "slow" not in (request.config.option.markexpr or ""):
        pytest.skip("starts a browser; run with pytest -m slow")
    executable = screenshot_docs.find_chromium()
    if executable is None:
        pytest.skip("no chromium on PATH (apt-get install chromium)")
    browser = screenshot_docs.Browser(executable)
    shutil.copytree(site.out / "html" / "assets", tmp_path / "assets")
    (tmp_path / "ops").mkdir()
    for slug in NARROW_PAGES:
        probe = tmp_path / "ops" / f"{slug}.html"
        probe.write_text(site.html(slug).replace("</body>", _PROBE), encoding="utf-8")
        scroll, viewport = page_width(browser, probe, PHONE_WIDTH)
        assert viewport == PHONE_WIDTH and scroll <= viewport, f"{slug}: {scroll} px wide in a {viewport} px window"
    # the probe does see an overflow: the widest page without its style sheet is wider than the phone
    bare = tmp_path / "ops" / "bare.html"
    bare.write_text(site.html(NARROW_PAGES[0]).replace("</body>", _PROBE).replace("style.css", "none.css"), "utf-8")
    assert page_width(browser, bare, PHONE_WIDTH)[0] > PHONE_WIDTH
