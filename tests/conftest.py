"""Shared fixtures: one mock platform per test session (RSA keys are made once)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from wechatpay_chain import Client
from wechatpay_chain.mock import MockPlatform


@pytest.fixture(scope="session")
def platform() -> Iterator[MockPlatform]:
    with MockPlatform() as mock:
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
