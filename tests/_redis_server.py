"""A real redis-server for the tests, started on a free 127.0.0.1 port in a temporary folder.

``.ci/run`` installs Debian's ``redis-server``. Where it is missing the Redis tests are
skipped and listed in the run's SKIPPED section, except under CI (``REQUIRE_TEST_SERVERS``,
which ``.ci/run`` sets, or ``CI``, which CI services set), where a missing server fails
the run: a check that CI was meant to run must not pass unseen.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from _ports import free_port

REDIS_SERVER = shutil.which("redis-server")
# util-linux's setpriv: the server gets SIGTERM when the test process dies, even by SIGKILL
_SETPRIV = shutil.which("setpriv")
_DIE_WITH_PARENT = [_SETPRIV, "--pdeathsig", "TERM"] if _SETPRIV else []


def require_redis_server() -> str:
    """The path of redis-server; skips (fails under CI) when it is not installed."""
    if REDIS_SERVER is not None:
        return REDIS_SERVER
    reason = "redis-server is not installed (.ci/run installs Debian's redis-server)"
    if os.environ.get("REQUIRE_TEST_SERVERS") or os.environ.get("CI"):
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@contextlib.contextmanager
def running_redis(folder: Path) -> Iterator[str]:
    """Start redis-server (no persistence) in ``folder``; yield its URL; stop it on exit."""
    server = require_redis_server()
    for _attempt in range(3):  # a free port may be taken between probing and binding
        port = free_port()
        log = folder / f"redis-{port}.log"
        options = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(folder)]
        process = subprocess.Popen(
            [*_DIE_WITH_PARENT, server, *options, "--logfile", str(log), "--daemonize", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        if _answers_ping(port, process):
            break
        _stop(process)
    else:
        detail = log.read_text(errors="replace")[-2000:] if log.exists() else "no log"
        pytest.fail(f"redis-server did not start: {detail}", pytrace=False)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        _stop(process)


def _answers_ping(port: int, process: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + 10
    while process.poll() is None and time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5) as connection:
            connection.sendall(b"PING\r\n")
            if connection.recv(16).startswith(b"+PONG"):
                return True
        time.sleep(0.05)
    return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
