"""Markdown pages: GitHub-flavoured tables, nesting shown by indenting the field name."""

from __future__ import annotations

from collections.abc import Iterable

from .pages import Page, Table

__all__ = ["ASYNC_LABEL", "SYNC_LABEL", "code_blocks", "markdown_index", "markdown_page"]

INDENT = "&nbsp;" * 4
SYNC_LABEL = "Sync:"
ASYNC_LABEL = "Async (in a coroutine, or at the `python -m asyncio` prompt):"


def markdown_page(page: Page, index_link: str) -> str:
    op = page.operation
    lines = [f"# {_cell(page.title)}", "", f"`{op.method} {op.url}` · chain key `{op.key}`", ""]
    lines.append(" · ".join(_facts(page)))
    lines.append("")
    lines.extend(f"> {note}" for note in page.notes)
    if page.notes:
        lines.append("")
    lines.append("## Request")
    lines.append("")
    if not page.request:
        lines.extend(["No parameters.", ""])
    for table in page.request:
        lines.extend([f"### {table.title}", "", *_table(table), ""])
    lines.extend(["## Call", ""])
    for label, code in code_blocks(page):
        lines.extend([label, "", "```python", code, "```", ""])
    if page.example.problems:
        lines.append("> The example payload does not pass validation as built from the spec's examples:")
        lines.extend(f"> - `{problem}`" for problem in page.example.problems)
        lines.append("")
    lines.extend(["## Response", ""])
    status = op.spec.get("response_status")
    if status:
        lines.extend([f"Status {status}.", ""])
    response = page.response
    lines.extend([*_table(response), ""] if response is not None and response.rows else ["No body.", ""])
    if page.errors:
        lines.extend(["## Error codes", "", "| code | meaning |", "|---|---|"])
        lines.extend(f"| `{_cell(code)}` | {_cell(meaning)} |" for code, meaning in page.errors)
        lines.append("")
    lines.append(f"[Index]({index_link})")
    return "\n".join(lines) + "\n"


def code_blocks(page: Page) -> list[tuple[str, str]]:
    """(label, Python code) as the page shows them: variables, sync calls, async calls.

    A v2 browser page (``redirect``) is not called: its block builds the signed URL.
    """
    example = page.example
    blocks = []
    definitions = example.definitions()
    if definitions:
        blocks.append(("The payload, built from the spec's examples:", definitions))
    if example.redirect:
        lines = []
        for style, call in example.redirect_calls():
            lines.extend([f"# {style}", call])
        blocks.append(("A page the user's browser opens: build its signed URL (nothing is sent):", "\n".join(lines)))
        return blocks
    for asynchronous, label in ((False, SYNC_LABEL), (True, ASYNC_LABEL)):
        lines = []
        for style, call in example.calls(asynchronous):
            lines.extend([f"# {style}", call])
        blocks.append((label, "\n".join(lines)))
    return blocks


def _facts(page: Page) -> list[str]:
    op = page.operation
    facts = ["Tags: " + ", ".join(_cell(tag) for tag in page.tags)]
    if page.roles:
        facts.append("Roles: " + ", ".join(_cell(role) for role in page.roles))
    if op.spec.get("updated"):
        facts.append(f"Updated {op.spec['updated']}")
    if page.doc:
        facts.append(f"[Official documentation]({page.doc})")
    return facts


def _table(table: Table) -> list[str]:
    lines = ["| field | type | required | label | enum |", "|---|---|---|---|---|"]
    for row in table.rows:
        name = INDENT * row.depth + f"`{row.name}`"
        enum = ", ".join(f"`{_cell(str(value))}`" for value in row.enum)
        lines.append(f"| {name} | {_cell(row.type)} | {row.requirement} | {_cell(row.label)} | {enum} |")
    if table.rules:
        lines.append("")
        lines.extend(f"- {rule}" for rule in table.rules)
    return lines


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_index(groups: Iterable[tuple[str, list[Page]]], link: str) -> str:
    """The index: operations grouped by tag; ``link`` formats a page's path from its slug."""
    groups = list(groups)
    count = len({page.slug for _, pages in groups for page in pages})
    lines = ["# WeChat Pay API reference (wechatpay-chain)", ""]
    lines.extend([f"{count} operations, grouped by the catalogue's tags.", ""])
    for tag, pages in groups:
        lines.extend([f"## {_cell(tag)}", ""])
        for page in pages:
            op = page.operation
            lines.append(f"- [{_cell(page.title)}]({link.format(slug=page.slug)}) `{op.method} {op.key}`")
        lines.append("")
    return "\n".join(lines)
