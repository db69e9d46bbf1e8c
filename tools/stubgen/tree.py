"""The chain tree exactly as the runtime resolves attribute names.

Every attribute the typed surface offers is checked against the runtime's own
naming rules (``python_name`` to spell it, ``attribute_segment`` to resolve it):
an attribute is typed only where ``client.<attribute>`` really reaches that
segment. Segments the attribute style cannot reach (two spellings folding to one
name, a name the node itself uses) are listed in ``Tree.unreachable``; they stay
reachable through ``chain()`` and ``[...]``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from wechatpay_chain.catalog.specs import Catalog, Operation
from wechatpay_chain.chain import Node, python_name
from wechatpay_chain.naming import VERBS, attribute_segment

from .text import pascal

__all__ = ["METHOD_ORDER", "ChainNode", "Tree", "build_tree"]

METHOD_ORDER = tuple(verb.upper() for verb in VERBS)
ROOT_CLASS_NAMES = {"v3": "V3", "v2": "V2", "hk": "Hk", "global": "Global"}
NAME_LIMIT = 60


@dataclass
class ChainNode:
    key: str  # the spec key up to here ("" for the root)
    attribute: str  # the Python attribute that reaches it from its parent
    class_name: str = ""
    children: dict[str, ChainNode] = field(default_factory=dict)  # attribute -> node, catalogue order
    operations: list[Operation] = field(default_factory=list)

    @property
    def depth(self) -> int:
        return 0 if not self.key else self.key.count("/") + 1

    def walk(self) -> Iterator[ChainNode]:
        yield self
        for child in self.children.values():
            yield from child.walk()


@dataclass
class Tree:
    root: ChainNode
    catalog: Catalog
    unreachable: list[str] = field(default_factory=list)  # "key: reason"

    def areas(self) -> Iterator[ChainNode]:
        """The nodes two levels down (``v3/pay``, ``hk/v3``): one generated module each."""
        for top in self.root.children.values():
            yield from top.children.values()


def _node_names() -> frozenset[str]:
    """Names the runtime ``Node`` answers itself, which no child segment can take."""
    return frozenset(name for name in dir(Node) if not name.startswith("__"))


def build_tree(specs: Path) -> Tree:
    catalog = Catalog([specs], builtin=False)
    tree = Tree(ChainNode("", ""), catalog)
    taken = _node_names()
    keys = sorted({entry.key for entry in catalog})
    for key in keys:
        node = tree.root
        for segment in key.split("/"):
            child = _child(node, node.key, segment, catalog, taken, tree)
            if child is None:
                break
            node = child
        else:
            methods = catalog.operations(key) or {}
            node.operations = [methods[method] for method in METHOD_ORDER if method in methods]
    _name_classes(tree.root)
    return tree


def _child(
    node: ChainNode, parent_key: str, segment: str, catalog: Catalog, taken: frozenset[str], tree: Tree
) -> ChainNode | None:
    key = f"{parent_key}/{segment}" if parent_key else segment
    attribute = python_name(segment)
    existing = node.children.get(attribute)
    if existing is not None and existing.key == key:
        return existing
    resolved = attribute_segment(attribute, catalog.children(parent_key)).spec_text
    if resolved != segment or attribute in taken:
        reason = f"reaches {resolved!r}" if resolved != segment else "is a name of the node itself"
        message = f"{key}: the attribute {attribute} {reason}"
        if message not in tree.unreachable:  # every key below it would report it again
            tree.unreachable.append(message)
        return None
    child = ChainNode(key, attribute)
    node.children[attribute] = child
    return child


def _name_classes(root: ChainNode) -> None:
    """Class names from the path (``V3ProfitsharingReturnOrders``), unique over the catalogue.

    A name longer than ``NAME_LIMIT`` keeps its area (``V3Marketing``) and as many of
    its last parts as fit, more where that is not unique: long URLs would otherwise
    give names of over a hundred characters, and the payload types add to them.
    """
    used: set[str] = set()
    for node in root.walk():
        if not node.key:
            continue
        segments = node.key.split("/")
        parts = [ROOT_CLASS_NAMES.get(segments[0], pascal(segments[0]))]
        parts += [("By" if part.startswith("{") else "") + pascal(part) for part in segments[1:]]
        node.class_name = _short_name(parts, used)
        used.add(node.class_name)


def _short_name(parts: list[str], used: set[str]) -> str:
    full = "".join(parts)
    if len(full) <= NAME_LIMIT and full not in used:
        return full
    head, tail = "".join(parts[:2]), parts[2:]
    count = 1
    while count < len(tail) and len(head) + sum(len(p) for p in tail[-(count + 1) :]) <= NAME_LIMIT:
        count += 1
    for size in range(count, len(tail) + 1):  # more parts where the short name is taken
        name = head + "".join(tail[-size:])
        if name not in used:
            return name
    number = 2
    while f"{full}{number}" in used:
        number += 1
    return f"{full}{number}"
