"""Ports on 127.0.0.1 for the tests' own servers, and addresses where nothing listens."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A port nothing listens on right now (the OS picked it; a server the test starts takes it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def closed_port_url() -> str:
    """``http://127.0.0.1:<port>/`` where a connection is refused: a host that cannot be reached."""
    return f"http://127.0.0.1:{free_port()}/"
