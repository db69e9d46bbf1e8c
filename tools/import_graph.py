"""The package's import graph: modules, arrows, arrows inside circles, and the circles.

    python tools/import_graph.py [src/wechatpay_chain] [--edges]

Every import counts, wherever it is written: at the top, inside a function (a lazy
import still ties the two modules together) or under ``if TYPE_CHECKING:`` (a helper
that names ``Client`` in its hints depends on ``Client``'s shape). An arrow "runs back
up" when its target imports its source again, directly or through others: such arrows
are exactly the ones inside a circle (a strongly connected component of two or more
modules). ``--edges`` lists the arrows.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterable
from pathlib import Path


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, name: str, is_package: bool, known: set[str]) -> set[str]:
    """The package's own modules ``path`` imports (``from . import x`` names a module when it is one)."""
    tree = ast.parse(path.read_text("utf-8"))
    here = name.split(".") if is_package else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - (node.level - 1)] if node.level > 1 else here
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            targets = [module, *(f"{module}.{alias.name}" for alias in node.names)]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def graph(root: Path) -> dict[str, set[str]]:
    files = {module_name(path, root): path for path in sorted(root.rglob("*.py")) if "_typing" not in path.parts}
    known = set(files)
    # A package's __init__ is imported by every import of its modules: leave those arrows out.
    return {
        name: {t for t in imports_of(path, name, path.name == "__init__.py", known) if not name.startswith(t + ".")}
        for name, path in files.items()
    }


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of two or more modules (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    sys.setrecursionlimit(10_000)

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return sorted(found)


def summary(edges: dict[str, set[str]]) -> Iterable[str]:
    found = circles(edges)
    member = {name: i for i, component in enumerate(found) for name in component}
    back = sorted(
        (source, target)
        for source, targets in edges.items()
        for target in targets
        if source in member and member.get(target) == member[source]
    )
    yield f"modules: {len(edges)}"
    yield f"arrows: {sum(len(targets) for targets in edges.values())}"
    yield f"arrows that run back up (inside a circle): {len(back)}"
    yield f"circles: {len(found)}"
    for component in found:
        yield f"  circle of {len(component)}: {', '.join(component)}"
    importers = sorted(source for source, targets in edges.items() if "wechatpay_chain.client" in targets)
    yield f"modules importing wechatpay_chain.client: {', '.join(importers) or 'none'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", default="src/wechatpay_chain", type=Path)
    parser.add_argument("--edges", action="store_true", help="list every arrow")
    args = parser.parse_args()
    edges = graph(args.root.resolve())
    for line in summary(edges):
        print(line)
    if args.edges:
        for source in sorted(edges):
            for target in sorted(edges[source]):
                print(f"{source} -> {target}")


if __name__ == "__main__":
    main()
