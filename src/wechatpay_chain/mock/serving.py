"""Starting and stopping the mock platform: in the caller's loop, or on a thread of its own.

On start the sandbox is read from the state file (if any) and a ticker fires the
sandbox's timers as real time passes; on stop pending notification retries are cancelled
and the sandbox is written back to the state file.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import TYPE_CHECKING, Self

from aiohttp import web

if TYPE_CHECKING:
    from .sandbox import Sandbox

__all__ = ["Serving"]


class Serving:
    """Mixed into ``MockPlatform``: its lifecycle."""

    sandbox: Sandbox
    state_file: str | None
    requested_port: int
    port: int | None
    _runner: web.AppRunner | None
    _thread: threading.Thread | None
    _loop: asyncio.AbstractEventLoop | None
    _ticker: asyncio.Task[None] | None

    def app(self) -> web.Application:
        raise NotImplementedError

    # -- lifecycle --------------------------------------------------------------------------
    async def start_async(self) -> Self:
        """Start in the running loop (async tests): ``async with MockPlatform() as mock``."""
        if self.state_file:
            self.sandbox.load(self.state_file)
        runner = web.AppRunner(self.app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", self.requested_port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = int(runner.addresses[0][1])
        self._ticker = asyncio.get_running_loop().create_task(self._tick())
        return self

    async def _tick(self) -> None:
        """Fire sandbox timers as real time passes (refunds settling, expiry), ten times a second."""
        while True:
            await asyncio.sleep(0.1)
            self.sandbox.state.run_due()

    async def stop_async(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        await self.sandbox.webhooks.close()
        if self.state_file:
            self.sandbox.state.save(self.state_file)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def start(self) -> Self:
        """Start on a private thread and loop (sync tests, the demo, the CLI)."""
        loop = asyncio.new_event_loop()
        started = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.start_async())
            except BaseException as exc:  # reported to the starting thread below
                failure.append(exc)
                started.set()
                return
            started.set()
            loop.run_forever()
            loop.run_until_complete(self.stop_async())
            loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=run, name="wechatpay-mock", daemon=True)
        self._thread.start()
        started.wait()
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        if self._thread is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._thread = None
            self._loop = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        return await self.start_async()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop_async()
