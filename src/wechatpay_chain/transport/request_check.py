"""What both transports refuse before anything is sent: a request that could be split or reframed."""

from __future__ import annotations

import re
from collections.abc import Mapping

from ..errors import TransportError

__all__ = ["FRAMING_HEADERS", "check_request", "too_long", "url_for_messages"]

# Headers that frame the message: set by the transport alone, refused from callers.
FRAMING_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection", "te", "upgrade"})
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_BAD_VALUE = re.compile(r"[\r\n\x00]|[^\x00-\xff]")
"""A line break or NUL (they would split the request), or a character Latin-1 cannot carry
(http.client refuses it while aiohttp would send UTF-8: both refuse it here, alike)."""
_BAD_TARGET = re.compile(r"[\x00-\x20\x7f]")


def check_request(method: str, url: str, headers: Mapping[str, str]) -> None:
    """Refuse, before anything is sent and on both paths alike, what could split or reframe
    the request: a method that is not a token, a target with spaces or controls, header
    names that are not tokens, values with line breaks or NUL, and the framing headers
    (Host, Content-Length, ...), which come from the transport only."""
    # Two checks for all headers at once (this runs on every call): the names joined are
    # one token only if each is, and no value may hold a line break or NUL.
    if (
        _TOKEN.fullmatch(method)
        and not _BAD_TARGET.search(url)
        and (
            not headers
            or (
                _TOKEN.fullmatch("".join(headers))
                and all(headers)
                and not _BAD_VALUE.search("".join(headers.values()))
                and FRAMING_HEADERS.isdisjoint(map(str.lower, headers))
            )
        )
    ):
        return
    where = f"{method!r} {url_for_messages(url)!r}"
    if not _TOKEN.fullmatch(method):
        reason = "the method is not an HTTP token"
    elif _BAD_TARGET.search(url):
        reason = "the request target holds a space or control character"
    else:
        framing = [name for name in headers if name.lower() in FRAMING_HEADERS]
        if framing:
            reason = f"header {framing[0]!r} is set by the transport, not by the caller"
        else:
            bad = next(
                name for name, value in headers.items() if not _TOKEN.fullmatch(name) or _BAD_VALUE.search(value)
            )
            reason = f"header {bad!r} cannot be sent: invalid name, or a line break or non-Latin-1 text in its value"
    raise TransportError(f"{where}: {reason}", sent=False)


def url_for_messages(url: str) -> str:
    """The URL without its query (which may carry personal data), for messages and logs."""
    return url.split("?", 1)[0]


def too_long(method: str, url: str, cap: int, announced: int | None = None) -> TransportError:
    """The error for an answer over ``max_answer_bytes``, announced or found while reading
    (the same words from both transports). The request was sent: ``sent=True``."""
    where = f"{method} {url_for_messages(url)}"
    if announced is not None:
        return TransportError(
            f"{where}: the answer announces {announced} bytes, more than max_answer_bytes={cap}", sent=True
        )
    return TransportError(f"{where}: the answer is longer than max_answer_bytes={cap}", sent=True)
