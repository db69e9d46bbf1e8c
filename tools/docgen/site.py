"""Build the whole reference: every page in Markdown and HTML, the two indexes, the assets.

Layout of ``OUT/``::

    md/index.md            md/ops/<slug>.md
    html/index.html        html/ops/<slug>.html        html/assets/{style.css,search.js}

The attribute spelling of each operation comes from the stub generator's tree, so
a page shows the attribute style only where the runtime really resolves it.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from stubgen.tree import ChainNode, build_tree

from .html import html_index, html_page
from .markdown import markdown_index, markdown_page
from .pages import UNTAGGED, Page, build_page, slug_for
from .values import FieldValues

__all__ = ["BuildReport", "build", "load_pages"]

ASSETS = Path(__file__).resolve().parent / "assets"


@dataclass(frozen=True)
class BuildReport:
    pages: int
    files: int
    bytes: int
    with_problems: list[str]  # slugs whose example payload does not validate


def load_pages(specs: Path) -> list[Page]:
    """One page per operation, in catalogue order, slugs unique even on case-insensitive disks."""
    tree = build_tree(specs)
    attributes = dict(_attribute_paths(tree.root, ""))
    operations = [tree.catalog.operation(entry.key, entry.method) for entry in tree.catalog]
    present = [operation for operation in operations if operation is not None]
    values = FieldValues(present)  # the catalogue's examples by field name, for the fields without one
    pages: list[Page] = []
    taken: set[str] = set()
    for operation in present:
        slug = slug_for(operation)
        unique, number = slug, 2
        while unique.lower() in taken:
            unique, number = f"{slug}-{number}", number + 1
        taken.add(unique.lower())
        pages.append(build_page(operation, unique, attributes.get(operation.key), values))
    return pages


def _attribute_paths(node: ChainNode, prefix: str) -> Iterator[tuple[str, str]]:
    for attribute, child in node.children.items():
        path = f"{prefix}.{attribute}" if prefix else attribute
        yield child.key, path
        yield from _attribute_paths(child, path)


def groups_of(pages: list[Page]) -> list[tuple[str, list[Page]]]:
    """Pages by tag (an operation with two tags is listed under both), tags in name order."""
    by_tag: dict[str, list[Page]] = {}
    for page in pages:
        for tag in page.tags:
            by_tag.setdefault(tag, []).append(page)
    return sorted(by_tag.items(), key=lambda item: (item[0] == UNTAGGED, item[0]))


def build(out: Path, specs: Path, pages: list[Page] | None = None) -> BuildReport:
    """Write the reference under ``out``; ``pages`` saves loading them again when the caller has them."""
    pages = load_pages(specs) if pages is None else pages
    groups = groups_of(pages)
    written: list[Path] = []
    for folder in ("md", "html"):
        if (out / folder).exists():
            shutil.rmtree(out / folder)  # a page of a removed operation must not linger
    for page in pages:
        written.append(_write(out / "md" / "ops" / f"{page.slug}.md", markdown_page(page, "../index.md")))
        written.append(_write(out / "html" / "ops" / f"{page.slug}.html", html_page(page)))
    written.append(_write(out / "md" / "index.md", markdown_index(groups, "ops/{slug}.md")))
    written.append(_write(out / "html" / "index.html", html_index(groups)))
    for asset in sorted(ASSETS.iterdir()):
        target = out / "html" / "assets" / asset.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(asset, target)
        written.append(target)
    size = sum(path.stat().st_size for path in written)
    problems = [page.slug for page in pages if page.example.problems]
    return BuildReport(len(pages), len(written), size, problems)


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
