"""Path strings placed on the catalogue: which segment of ``v3/bill/.../{id}`` a literal fills.

The chain (``client.chain("v3/pay/transactions/id/4200...")``) and the engine's downloads
(a ``download_url`` given as text) both turn a path into segments here: a literal where the
catalogue has no such literal but a template becomes that template's value.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..naming import Segment, check_literal, path_segments
from .specs import Catalog

__all__ = ["pick_template", "place_path", "segments_key", "templates_of"]


def segments_key(segments: Sequence[Segment]) -> str:
    return "/".join(segment.spec_text for segment in segments)


def templates_of(known: list[str]) -> list[str]:
    return [name[1:-1] for name in known if name.startswith("{")]


def place_path(catalog: Catalog, base: Sequence[Segment], path: str) -> tuple[Segment, ...]:
    """``base`` extended with the segments of ``path``, literals placed on catalogue templates.

    A literal left as a literal is checked (:func:`naming.check_literal`): it goes on the
    wire as written, so nothing in it may change the request.
    """
    segments = list(base)
    parts = path_segments(path)
    for index, segment in enumerate(parts):
        if segment.text is not None:
            following = parts[index + 1].spec_text if index + 1 < len(parts) else None
            segment = _place(catalog, segment.text, segments_key(segments), following)
            if segment.template is None:
                check_literal(segment.text or "")
        segments.append(segment)
    return tuple(segments)


def _place(catalog: Catalog, text: str, parent_key: str, following: str | None = None) -> Segment:
    """A literal where the catalogue has no such literal but a template: a value."""
    known = catalog.children(parent_key)
    if text in known:
        return Segment(text, None)
    templates = templates_of(known)
    if not templates:
        return Segment(text, None)
    return Segment(text, pick_template(catalog, parent_key, templates, following))


def pick_template(catalog: Catalog, parent_key: str, templates: list[str], following: str | None) -> str:
    """Of several templates at one position, the one the rest of the path fits.

    With a next segment: the template under which it is known; without: the template
    that is an operation itself; else the first.
    """
    if len(templates) > 1:
        for name in templates:
            key = f"{parent_key}/{{{name}}}" if parent_key else f"{{{name}}}"
            if (following in catalog.children(key)) if following is not None else (key in catalog):
                return name
    return templates[0]
