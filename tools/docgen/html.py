"""The static HTML site: ``index.html`` with client-side search, one page per operation.

No server, no external resource: pages link ``assets/style.css`` and the index runs
``assets/search.js``, both written next to them, so opening ``index.html`` from disk works.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from html import escape

from .markdown import code_blocks
from .pages import Page, Table

__all__ = ["html_index", "html_page"]

HEAD = (
    '<!doctype html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
    '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
    "<title>{title}</title>\n"
    '<link rel="stylesheet" href="{assets}style.css">\n</head>\n<body>\n'
)


def html_page(page: Page) -> str:
    """One operation's page; it lives in ``ops/``, next to ``index.html``'s folder."""
    op = page.operation
    parts = [HEAD.format(title=escape(f"{page.title} · {op.method} {op.key}"), assets="../assets/")]
    parts.append('<header><a href="../index.html">&larr; Index</a>')
    parts.append(f"<h1>{escape(page.title)}</h1>")
    parts.append(f'<p><span class="method">{op.method}</span> <code>{escape(op.url)}</code>')
    parts.append(f' <span class="meta">chain key <code>{escape(op.key)}</code></span></p></header>')
    parts.append(f'<p class="meta">{_facts(page)}</p>')
    parts.extend(f'<p class="note">{_inline_code(note)}</p>' for note in page.notes)
    parts.append("<h2>Request</h2>")
    if not page.request:
        parts.append("<p>No parameters.</p>")
    for table in page.request:
        parts.append(f"<h3><code>{escape(table.title)}</code></h3>")
        parts.append(_table(table))
    parts.append("<h2>Call</h2>")
    for label, code in code_blocks(page):
        parts.append(f"<p>{_inline_code(label)}</p>")
        parts.append(f'<pre><code class="language-python">{escape(code)}</code></pre>')
    if page.example.problems:
        items = "".join(f"<li><code>{escape(problem)}</code></li>" for problem in page.example.problems)
        parts.append(f'<div class="problem">The example payload does not pass validation:<ul>{items}</ul></div>')
    parts.append("<h2>Response</h2>")
    if op.spec.get("response_status"):
        parts.append(f"<p>Status {escape(str(op.spec['response_status']))}.</p>")
    response = page.response
    parts.append(_table(response) if response is not None and response.rows else "<p>No body.</p>")
    if page.errors:
        codes = "".join(f"<tr><td><code>{escape(c)}</code></td><td>{escape(m)}</td></tr>" for c, m in page.errors)
        error_table = f"<table><tr><th>code</th><th>meaning</th></tr>{codes}</table>"
        parts.append(f'<h2>Error codes</h2><div class="table">{error_table}</div>')
    parts.append("</body>\n</html>\n")
    return "\n".join(parts)


def _facts(page: Page) -> str:
    op = page.operation
    facts = ["Tags: " + ", ".join(escape(tag) for tag in page.tags)]
    if page.roles:
        facts.append("Roles: " + ", ".join(escape(role) for role in page.roles))
    if op.spec.get("updated"):
        facts.append(f"Updated {escape(str(op.spec['updated']))}")
    if page.doc:
        facts.append(f'<a href="{escape(page.doc)}">Official documentation</a>')
    return " · ".join(facts)


def _table(table: Table) -> str:
    """A field table in its own scrolling box (a phone scrolls the table, not the page), then its rules."""
    head = "<tr><th>field</th><th>type</th><th>required</th><th>label</th><th>enum</th></tr>"
    body = []
    for row in table.rows:
        indent = 0.6 + 1.6 * row.depth  # nesting shown by indentation
        marker = "&#8627; " if row.depth else ""
        enum = " ".join(f"<code>{_breakable(str(value))}</code>" for value in row.enum)
        body.append(
            f'<tr><td style="padding-left:{indent:.1f}em">{marker}<code>{_breakable(row.name)}</code></td>'
            f'<td class="type">{escape(row.type)}</td>'
            f'<td class="required">{escape(row.requirement)}</td>'
            f"<td>{escape(row.label)}</td>"
            f'<td class="enum">{enum}</td></tr>'
        )
    rules = "".join(f"<li>{_inline_code(rule)}</li>" for rule in table.rules)
    rules_list = f'<ul class="rules">{rules}</ul>' if rules else ""
    return f'<div class="table"><table class="fields">{head}{"".join(body)}</table></div>{rules_list}'


def _breakable(text: str) -> str:
    """Escaped, with a line-break chance after each ``_``, ``-``, ``.`` and ``/`` (long names wrap there)."""
    return re.sub(r"([_\-./])(?=.)", r"\1<wbr>", escape(text))


def _inline_code(text: str) -> str:
    """Markdown-style `code` spans as <code>, everything else escaped."""
    pieces = escape(text).split("`")
    return "".join(f"<code>{piece}</code>" if i % 2 else piece for i, piece in enumerate(pieces))


def html_index(groups: Iterable[tuple[str, list[Page]]]) -> str:
    groups = list(groups)
    count = len({page.slug for _, pages in groups for page in pages})
    parts = [HEAD.format(title="WeChat Pay API reference · wechatpay-chain", assets="assets/")]
    parts.append("<header><h1>WeChat Pay API reference</h1>")
    parts.append(
        '<input id="search" type="search" autofocus autocomplete="off" '
        'placeholder="Search path, title or tag (e.g. return-orders, 分账)">'
        f'<span id="count">{count} operations</span></header>'
    )
    parts.append('<main id="index">')
    for tag, pages in groups:
        items = []
        for page in pages:
            op = page.operation
            items.append(
                f'<li data-slug="{escape(page.slug)}" data-search="{escape(page.search_text)}">'
                f'<a href="ops/{escape(page.slug)}.html">{escape(page.title)}</a>'
                f"<code>{op.method} {escape(op.key)}</code></li>"
            )
        parts.append(f'<section class="tag"><h2>{escape(tag)}</h2><ul>{"".join(items)}</ul></section>')
    parts.append('</main>\n<p id="empty" hidden>No operation matches.</p>')
    parts.append('<script src="assets/search.js"></script>\n</body>\n</html>\n')
    return "\n".join(parts)
