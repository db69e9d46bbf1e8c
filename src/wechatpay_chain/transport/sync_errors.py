"""urllib3's and the socket's errors as ours: ``TimeoutError``/``TransportError`` with ``sent``
as the retry rules need it, and messages without the query or a proxy credential."""

from __future__ import annotations

import builtins
from urllib.parse import urlsplit

import urllib3
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from ..errors import TimeoutError, TransportError
from .proxy_url import redact_proxy
from .request_check import url_for_messages

__all__ = ["CONNECTING", "sync_failure"]

CONNECTING = "wechatpay_chain_while_connecting"  # the tag the sync transport's connect() puts on what it raises


def sync_failure(exc: BaseException, method: str, url: str, proxy: str | None) -> BaseException:
    """urllib3's (or the socket's) error as ours, with ``sent`` as the retry rules need it."""
    if isinstance(exc, TransportError):
        return exc
    if not isinstance(exc, Exception):
        return exc  # Ctrl-C and the like: as they are
    where = _where(method, url)
    causes = _causes(exc)
    during_connect = any(
        getattr(cause, CONNECTING, False) or isinstance(cause, ConnectTimeoutError) for cause in causes
    )
    timed_out = any(_is_timeout(cause) for cause in causes)
    root = causes[-1]
    if during_connect and timed_out:
        return TimeoutError(f"{where}: timed out connecting", sent=False)
    if during_connect:
        via = f" through the proxy {redact_proxy(proxy)}" if proxy else ""
        return TransportError(_scrub(f"{where}: cannot connect{via} ({_reason(root)})", proxy), sent=False)
    if isinstance(exc, ValueError) and not isinstance(exc, urllib3.exceptions.HTTPError):
        # http.client refused the request before writing it (a header or target it cannot send)
        return TransportError(_scrub(f"{where}: {_reason(exc)}", proxy), sent=False)
    if timed_out:
        return TimeoutError(f"{where}: timed out", sent=True)
    return TransportError(_scrub(f"{where}: {type(root).__name__}: {_reason(root)}", proxy), sent=True)


def _is_timeout(exc: BaseException) -> bool:
    if isinstance(exc, NewConnectionError):  # a ConnectTimeoutError by descent, but a refusal
        return False
    return isinstance(exc, builtins.TimeoutError | urllib3.exceptions.TimeoutError)


def _causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and what it wraps (urllib3 nests the original error in its own), outermost first."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 8:
        seen.append(current)
        nested = getattr(current, "original_error", None) or getattr(current, "reason", None)
        if not isinstance(nested, BaseException):
            nested = next((arg for arg in current.args if isinstance(arg, BaseException)), None)
        current = nested if isinstance(nested, BaseException) else (current.__cause__ or current.__context__)
    return seen


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def _scrub(message: str, proxy: str | None) -> str:
    """Never a proxy credential in a message, whatever a library put in its text."""
    if proxy:
        parts = urlsplit(proxy)
        for secret in (parts.password, parts.username, proxy):
            if secret:
                message = message.replace(secret, "***")
    return message


def _where(method: str, url: str) -> str:
    """The call in error messages, without its query (which may carry personal data)."""
    return f"{method} {url_for_messages(url)}"
