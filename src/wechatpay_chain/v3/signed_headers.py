"""Request headers whose ``repr`` hides the Authorization signature."""

from __future__ import annotations

__all__ = ["SignedHeaders"]

_HIDDEN = frozenset({"authorization", "proxy-authorization"})


class SignedHeaders(dict[str, str]):
    """An attempt's headers; their ``repr`` hides the Authorization signature (and a proxy's
    credentials, which travel as ``Proxy-Authorization``).

    They travel down to the socket as arguments and copies, so they are locals of every
    frame on the way: an error tracker recording locals (Sentry does) must not record a
    signed, replayable Authorization. Copies on the way are made with this class too.
    """

    def __repr__(self) -> str:
        return repr({name: ("***" if name.lower() in _HIDDEN else value) for name, value in self.items()})
