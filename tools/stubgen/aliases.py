"""One class per distinct ``TypedDict`` of a module; the other names become aliases.

Operations of one area often carry the same object (an ``amount``, a ``payer``, a page
of results) under names of their own. Where two ``TypedDict``s of a module have the same
keys, types, required keys and field docs, the first is written and the later one is
``Later = First``, followed by its own docstring: every name stays importable and shows
its own description, and type checkers read one class instead of two. Type-wise
nothing changes: ``TypedDict``s are structural, so the two were interchangeable anyway.

Only the class docstring (which names the operation) may differ. Nested objects come
first in a module, so comparing field types after renaming already folded names also
folds the parents of folded objects. Aliases stay inside their module, so a type checker
that reads one area's stub still reads only that file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .schema_types import FieldDef, TypedDictDef
from .text import docstring

__all__ = ["Alias", "fold_duplicates"]

# a name in a type expression; string literals (``Literal["..."]`` values) are matched whole and left alone
_NAME_OR_STRING = re.compile(r'"(?:\\.|[^"\\])*"|[A-Za-z_][A-Za-z0-9_]*')


@dataclass
class Alias:
    name: str
    target: str
    doc: str

    def render(self) -> str:
        return f"{self.name} = {self.target}\n{docstring(self.doc, '')}"


def fold_duplicates(definitions: list[TypedDictDef]) -> list[TypedDictDef | Alias]:
    """``definitions`` in order, each repeat of an earlier shape replaced by an alias of it."""
    renamed: dict[str, str] = {}  # folded name -> the class it stands for
    first: dict[tuple[tuple[str, str, bool, str], ...], str] = {}
    out: list[TypedDictDef | Alias] = []
    for definition in definitions:
        fields = [_renamed(item, renamed) for item in definition.fields]
        shape = tuple((item.name, item.annotation, item.required, item.label) for item in fields)
        target = first.get(shape)
        if target is None:
            first[shape] = definition.name
            out.append(TypedDictDef(definition.name, definition.doc, fields))
        else:
            renamed[definition.name] = target
            out.append(Alias(definition.name, target, definition.doc))
    return out


def _renamed(item: FieldDef, renamed: dict[str, str]) -> FieldDef:
    if not renamed:
        return item
    annotation = _NAME_OR_STRING.sub(lambda found: renamed.get(found.group(0), found.group(0)), item.annotation)
    return FieldDef(item.name, annotation, item.required, item.label)
