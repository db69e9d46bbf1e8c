"""The answer of one call, after verification."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from multidict import CIMultiDict, CIMultiDictProxy

__all__ = ["Response"]


class Response:
    """A verified answer: ``status_code``, ``headers``, ``content``, ``text``, ``json()``.

    ``verified`` names the platform key that signed the answer, or is ``None``
    for the documented unsigned answers (bill and file downloads).
    """

    __slots__ = ("_json", "content", "headers", "method", "status_code", "url", "verified")

    def __init__(
        self,
        status_code: int,
        headers: Mapping[str, str],
        content: bytes,
        *,
        method: str = "",
        url: str = "",
        verified: str | None = None,
    ) -> None:
        self.status_code = status_code
        self.headers: CIMultiDictProxy[str] = (
            headers if isinstance(headers, CIMultiDictProxy) else CIMultiDictProxy(CIMultiDict(headers))
        )
        self.content = content
        self.method = method
        self.url = url
        self.verified = verified
        self._json: Any = _UNSET

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The JSON body (parsed once). An empty body (204) gives ``None``."""
        if self._json is _UNSET:
            self._json = json.loads(self.content) if self.content else None
        return self._json

    @property
    def request_id(self) -> str | None:
        return self.headers.get("Request-ID")

    def __repr__(self) -> str:
        return f"<Response {self.status_code} {self.method} {self.url}>"


_UNSET: Any = object()
