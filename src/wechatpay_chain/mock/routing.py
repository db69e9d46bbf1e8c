"""URL -> spec key for the mock's v3 side, from the catalogue index."""

from __future__ import annotations

import re
from urllib.parse import unquote

from ..catalog.specs import Catalog

__all__ = ["Router"]


class Router:
    """URL -> spec key, from the catalogue index (templates become regex groups)."""

    def __init__(self, catalog: Catalog) -> None:
        self._routes: dict[str, list[tuple[re.Pattern[str], str]]] = {}
        for entry in catalog:
            if not entry.key.startswith(("v3/", "hk/", "global/")):
                continue
            pattern = re.escape(entry.url)
            pattern = re.sub(r"\\\{([A-Za-z0-9_]+)\\\}", r"(?P<\1>[^/]+)", pattern)
            self._routes.setdefault(entry.method, []).append((re.compile(f"^{pattern}$"), entry.key))
        for routes in self._routes.values():
            # Literal paths beat templates; a key equal to its URL beats hk/ twins.
            routes.sort(key=lambda item: (item[0].pattern.count("(?P<"), item[1] != item[0].pattern[2:-1]))

    def matches(self, method: str, path: str) -> list[tuple[str, dict[str, str]]]:
        """Every spec key whose URL shape fits, best first (several share a shape)."""
        found = []
        for pattern, key in self._routes.get(method, ()):
            match = pattern.match(path)
            if match is not None:
                found.append((key, {name: unquote(value) for name, value in match.groupdict().items()}))
        return found

    def knows_path(self, path: str) -> bool:
        return any(pattern.match(path) for routes in self._routes.values() for pattern, _ in routes)
