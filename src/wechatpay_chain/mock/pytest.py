"""A pytest fixture for your own tests: ``from wechatpay_chain.mock.pytest import mock_platform``.

def test_refund(mock_platform):
    client = mock_platform.client()
    ...
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .platform import MockPlatform

__all__ = ["mock_platform"]


@pytest.fixture
def mock_platform() -> Iterator[MockPlatform]:
    with MockPlatform() as platform:
        yield platform
