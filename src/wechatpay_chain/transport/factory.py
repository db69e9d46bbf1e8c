"""A client's own transport, built from its keywords (a fleet builds one for all its clients)."""

from __future__ import annotations

import sys

import aiohttp

from .._version import __version__
from ..errors import ConfigError
from ..trust.crypto import Secret, reveal
from .aio import Timeout, Transport
from .tls import tls_context

__all__ = ["DEFAULT_TIMEOUT", "check_transport_settings", "new_transport", "user_agent"]

DEFAULT_TIMEOUT = Timeout()


def user_agent() -> str:
    return (
        f"wechatpay-chain/{__version__} aiohttp/{aiohttp.__version__} "
        f"Python/{sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro} ({sys.platform})"
    )


def check_transport_settings(proxy: Secret | None, max_answer_bytes: int | None) -> None:
    """The transport keywords a client and a fleet both take, checked alike (ConfigError)."""
    if proxy is not None and not str(reveal(proxy)).startswith(("http://", "https://")):
        raise ConfigError("proxy", "must be an http:// or https:// URL (http://user:pass@host:port)")
    if max_answer_bytes is not None and (not isinstance(max_answer_bytes, int) or max_answer_bytes < 1):
        raise ConfigError("max_answer_bytes", "must be a whole number of bytes > 0, or None for no cap")


def new_transport(
    timeout: float | Timeout | None,
    cafile: str | None,
    proxy: Secret | None,
    trust_env: bool,
    max_answer_bytes: int | None,
    limit: int = 100,
) -> Transport:
    """A transport of its own, for one client or for a fleet (the proxy unwrapped only here)."""
    return Transport(
        timeout=Timeout.coerce(timeout),
        user_agent=user_agent(),
        ssl_context=tls_context(cafile) if cafile else None,
        limit=limit,
        proxy=reveal(proxy),
        trust_env=bool(trust_env),
        max_answer_bytes=max_answer_bytes,
    )
