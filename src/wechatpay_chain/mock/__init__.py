"""The embedded mock platform (aiohttp.web on 127.0.0.1) for the demo, the tests and your own tests."""

from .faults import FAULTS
from .platform import MockAnswer, MockCall, MockPlatform

__all__ = ["FAULTS", "MockAnswer", "MockCall", "MockPlatform"]
