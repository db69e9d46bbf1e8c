"""What passes through the mock platform: a request as it saw it (``MockCall``) and the answer
a handler gives (``MockAnswer``). Plain data, importable by every part of the mock without
importing the platform itself."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Handler", "MockAnswer", "MockCall", "error_answer"]


@dataclass
class MockCall:
    """What a handler receives: the request as the platform saw it."""

    method: str
    key: str | None  # the spec key matched (None for an unknown path)
    path: str
    path_values: dict[str, str]
    query: dict[str, str]
    headers: Mapping[str, str]
    body: bytes
    json: Any = None
    mchid: str | None = None
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # uploads: name -> (filename, bytes)
    decrypted: dict[str, str] = field(default_factory=dict)  # v2 bank transfers: the RSA fields opened


@dataclass
class MockAnswer:
    """A handler's explicit answer: status, JSON body (or raw bytes), extra headers."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    signed: bool = True
    serial: str | None = None  # sign with this key id instead of the platform's current one
    stream: Callable[[], Iterable[bytes]] | None = None  # a large body, sent in chunks (unsigned)


# A test's (or a built-in) handler: a MockAnswer, a JSON body, or None (204); may be async.
Handler = Callable[[MockCall], Any]


def error_answer(status: int, code: str, message: str, detail: Any = None) -> MockAnswer:
    """The platform's error answer: ``{"code": ..., "message": ...}`` (and ``detail`` when given)."""
    body: dict[str, Any] = {"code": code, "message": message}
    if detail is not None:
        body["detail"] = detail
    return MockAnswer(status, body)
