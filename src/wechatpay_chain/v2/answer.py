"""``V2Response``: a :class:`~wechatpay_chain.Response` that also knows its XML fields."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from typing import Any

from ..response import Response

__all__ = ["V2Response"]


class V2Response(Response):
    """The answer of a v2 call.

    - ``data``: the answer's fields exactly as received and verified,
      ``{name: text}`` (the JSON object for the one v2 operation answering JSON,
      ``appauth/getaccesstoken``); ``None`` for a bill download (CSV or gzip in
      ``content``);
    - ``json()``: the same fields, with those the spec marks as JSON text
      (``promotion_detail``, ``receivers``...) decoded, so v2 and v3 answers are
      read the same way; a bill download has no JSON and raises ``ValueError``;
    - ``verified``: the sign algorithm that verified the answer (``"MD5"`` or
      ``"HMAC-SHA256"``), ``None`` for the documented unsigned answers.
    """

    __slots__ = ("data", "json_fields")

    def __init__(
        self,
        status_code: int,
        headers: Mapping[str, str],
        content: bytes,
        *,
        method: str = "",
        url: str = "",
        json_fields: tuple[str, ...] = (),
    ) -> None:
        super().__init__(status_code, headers, content, method=method, url=url)
        self.data: dict[str, Any] | None = None
        self.json_fields = json_fields

    def json(self) -> Any:
        if self.data is None:
            return super().json()
        fields: dict[str, Any] = dict(self.data)
        for name in self.json_fields:
            text = fields.get(name)
            if isinstance(text, str) and text[:1] in ("{", "["):
                with contextlib.suppress(ValueError):  # else left as the text that was signed
                    fields[name] = json.loads(text)
        return fields

    def __repr__(self) -> str:
        kind = "bill" if self.data is None else "xml"
        return f"<V2Response {self.status_code} {kind} {self.method} {self.url.split('?', 1)[0]}>"
