"""TLS contexts: the system's CAs, plus the one ``Client(cafile=...)`` adds."""

from __future__ import annotations

import ipaddress
import ssl
from urllib.parse import urlsplit

__all__ = ["is_loopback_url", "tls_context"]


def tls_context(cafile: str | None = None) -> ssl.SSLContext:
    """A verifying client context trusting the system's CAs and, besides them, ``cafile``.

    ``ssl.create_default_context(cafile=...)`` would trust ``cafile`` *instead of* the
    system store; ``cafile=`` adds a CA (a TLS-intercepting proxy, a test server).
    """
    context = ssl.create_default_context()
    if cafile:
        context.load_verify_locations(cafile=cafile)
    return context


def is_loopback_url(url: str) -> bool:
    """True when ``url``'s host is this machine (``localhost``, 127.0.0.0/8, ``::1``)."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
