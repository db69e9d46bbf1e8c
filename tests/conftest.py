"""Shared fixtures: one mock platform per test session (RSA keys are made once)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

# A hook, imported so that pytest finds it here: every skip is listed at the end of the run.
from _skip_report import pytest_terminal_summary  # noqa: F401

from wechatpay_chain import Client
from wechatpay_chain.mock import MockPlatform

pytest_plugins = ["pytester"]  # tests/test_quality.py runs pytest on a file of its own


@pytest.fixture(scope="session")
def platform() -> Iterator[MockPlatform]:
    # The suite checks the client against the catalogue's example answers (any id is known);
    # the sandbox, which remembers objects and refuses unknown ids, has tests/test_sandbox*.py.
    with MockPlatform(sandbox=False) as mock:
        yield mock


@pytest.fixture
def mock(platform: MockPlatform) -> Iterator[MockPlatform]:
    """The session's mock platform, with handlers, faults and counters reset per test."""
    platform.handlers.clear()
    platform.clear_faults()
    platform.calls.clear()
    platform.counts.clear()
    yield platform
    platform.handlers.clear()
    platform.clear_faults()


@pytest.fixture
def client(mock: MockPlatform) -> Iterator[Client]:
    with mock.client() as c:
        yield c


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server of this session (tests/_redis_server.py); tests keep apart by key prefix."""
    from _redis_server import running_redis

    with running_redis(tmp_path_factory.mktemp("redis")) as url:
        yield url
