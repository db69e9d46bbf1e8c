"""A proxy URL as reprs and messages may show it."""

from __future__ import annotations

from urllib.parse import urlsplit

__all__ = ["redact_proxy"]


def redact_proxy(url: str | None) -> str | None:
    """The proxy URL for reprs and messages: its user name and password replaced."""
    if not url:
        return url
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://***@{host}{port}"
