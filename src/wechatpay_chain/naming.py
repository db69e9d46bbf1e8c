"""The naming rules of the chain: Python names and path strings -> URL segments.

A segment is ``Segment(text, template)``:

- a literal segment: ``Segment("return-orders", None)``;
- a template waiting for a keyword value: ``Segment(None, "out_trade_no")``;
- a literal value placed where the catalogue has a template:
  ``Segment("1217752501201407033233368018", "out_trade_no")``. The spec is found
  through the template; the value goes on the wire untouched (no case folding).

Attribute names go through :func:`attribute_segment` (escapes, templates,
catalogue spelling, then the mechanical kebab-case rule); path strings given to
``chain()`` and ``[...]`` go through :func:`path_segments`, which keeps the text
as written.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterable
from typing import NamedTuple

__all__ = ["VERBS", "Segment", "attribute_segment", "check_literal", "fold", "kebab", "path_segments"]

_HUMP = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_TEMPLATE_ATTRIBUTE = re.compile(r"^_([A-Za-z0-9][A-Za-z0-9_]*?)_$")
_TEMPLATE_TEXT = re.compile(r"^\{([^{}/]+)\}$")
# A literal segment goes on the wire as written, so it may hold only what RFC 3986
# allows in a path segment (pchar, "%" for text the caller encoded): no space, "#",
# "?", CR/LF or other control and no non-ASCII character, which each transport would
# treat its own way (or which would change the request line).
_LITERAL = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@%]+")
VERBS = ("get", "post", "put", "patch", "delete")
"""The HTTP methods a node has as verbs (and ``*_async``), in this order everywhere."""
# Python names that must be escaped with a trailing underscore: keywords plus the
# verbs and ``chain``, whose plain names call the node instead of extending it.
_ESCAPED = frozenset({*VERBS, "chain"})


class Segment(NamedTuple):
    text: str | None  # what goes on the wire; None for an unfilled template
    template: str | None  # the template name, when the catalogue has one here

    @property
    def spec_text(self) -> str:
        """How the segment appears in the spec key (the template wins)."""
        return f"{{{self.template}}}" if self.template is not None else (self.text or "")


def kebab(name: str) -> str:
    """The mechanical rule: camelCase humps and ``_`` become ``-``, lower case."""
    return _HUMP.sub("-", name).replace("_", "-").lower()


def fold(segment: str) -> str:
    """The key under which different spellings of one segment meet."""
    return segment.replace("-", "").replace("_", "").lower()


def _unescape(name: str) -> str:
    """``global_`` -> ``global``, ``delete_`` -> ``delete``; other names unchanged."""
    if name.endswith("_") and not name.endswith("__"):
        stem = name[:-1]
        if keyword.iskeyword(stem) or keyword.issoftkeyword(stem) or stem in _ESCAPED:
            return stem
    return name


def attribute_segment(name: str, known: Iterable[str] = ()) -> Segment:
    """Turn one Python attribute name into a segment.

    ``known`` is what the catalogue has at this position (segment texts as in
    the specs, ``{name}`` for templates). A known spelling that folds to the same
    key wins over the mechanical rule, so ``pay_bank`` stays ``pay_bank`` in v2
    and ``addInstitutionsub`` keeps its capitals.
    """
    template = _TEMPLATE_ATTRIBUTE.match(name)
    if template is not None and not (name.endswith("__") or name.startswith("__")):
        return Segment(None, template.group(1))
    plain = _unescape(name)
    folded = fold(plain)
    for candidate in known:
        if not candidate.startswith("{") and fold(candidate) == folded:
            return Segment(candidate, None)
    return Segment(kebab(plain), None)


def check_literal(text: str) -> str:
    """``text`` when it can be a literal path segment as written; ``ValueError`` otherwise."""
    if not _LITERAL.fullmatch(text) or text in (".", ".."):
        raise ValueError(
            f"{text!r} cannot be a path segment: spaces, '#', '?', CR/LF, other control or "
            "non-ASCII characters, '.' and '..' would change the request; pass a value with "
            "node[value] or a path value (both percent-encoded), a query with query="
        )
    return text


def path_segments(path: str) -> list[Segment]:
    """Split a path string as written: ``{name}`` and ``_name_`` are templates."""
    segments: list[Segment] = []
    for part in path.strip("/").split("/"):
        if not part:
            continue
        braces = _TEMPLATE_TEXT.match(part)
        underscores = _TEMPLATE_ATTRIBUTE.match(part)
        if braces is not None:
            segments.append(Segment(None, braces.group(1)))
        elif underscores is not None and not part.startswith("__"):
            segments.append(Segment(None, underscores.group(1)))
        else:
            segments.append(Segment(part, None))
    return segments
