"""What an error tracker that records locals (Sentry does) would see of a failure."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import wechatpay_chain

PACKAGE = str(Path(wechatpay_chain.__file__).parent)


def _frames(error: BaseException) -> Iterator[Any]:
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None:
            continue
        tb: TracebackType | None = current.__traceback__
        while tb is not None:
            yield tb.tb_frame
            tb = tb.tb_next
        pending.extend((current.__cause__, current.__context__))


def assert_no_secret_in_locals(error: BaseException, *secrets: str) -> None:
    """What an error tracker recording locals would see: the repr of every local of the package."""
    for frame in _frames(error):
        if frame.f_code.co_filename.startswith(PACKAGE):
            for name, value in frame.f_locals.items():
                for secret in secrets:
                    assert secret not in repr(value), f"{frame.f_code.co_name}() local {name!r} holds a secret"
