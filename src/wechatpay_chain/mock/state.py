"""The sandbox's memory: the objects merchants created, the sandbox clock, ids, a state file.

Objects are plain JSON-able dicts (so a state file is ``json.dump`` of them), kept per
business area (``orders``, ``refunds``, ...) under the key the platform looks them up by
(``mchid/out_trade_no``...). Every mutation happens under one lock: the mock answers on
its own thread while a test drives the sandbox from another.

The sandbox clock is the platform's clock plus what ``advance()`` added: business times
(``success_time``, expiry) follow it, while signatures keep the real clock, because the
client checks their timestamps against its own.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

__all__ = ["CHINA", "Refusal", "SandboxState", "v2_time", "v3_time"]

CHINA = timezone(timedelta(hours=8))  # the platform writes every time in +08:00

Record = dict[str, Any]


class Refusal(Exception):
    """The platform says no: an HTTP status and code (v3) or an ``err_code`` (v2)."""

    def __init__(self, status: int, code: str, message: str, *, v2_code: str | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.v2_code = v2_code or code.replace("_", "")


def v3_time(moment: float) -> str:
    """RFC 3339 in China time, as v3 answers write times (``2018-06-08T10:34:56+08:00``)."""
    return datetime.fromtimestamp(int(moment), CHINA).isoformat()


def v2_time(moment: float) -> str:
    """``yyyyMMddHHmmss`` in China time, as v2 answers write times (``time_end``)."""
    return datetime.fromtimestamp(int(moment), CHINA).strftime("%Y%m%d%H%M%S")


def parse_v3_time(text: str) -> float | None:
    try:
        return datetime.fromisoformat(text).timestamp()
    except (TypeError, ValueError):
        return None


class SandboxState:
    """The stored objects, the sandbox clock and the events waiting for it."""

    AREAS = ("orders", "refunds", "profitsharing", "returns", "transfers", "transfer_bills", "combined")

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self.offset = 0.0  # seconds added by advance()
        self.lock = threading.RLock()
        self.objects: dict[str, dict[str, Record]] = {area: {} for area in self.AREAS}
        # (due time on the sandbox clock, what to do): expiry, refunds settling...
        self.timers: list[tuple[float, Callable[[], object]]] = []
        self._serial = 0

    def now(self) -> float:
        return self._clock() + self.offset

    # -- ids the platform's way ------------------------------------------------------------
    def _digits(self, count: int) -> str:
        """``count`` digits ending in a serial number, so ids made in one run never collide."""
        self._serial += 1
        tail = f"{self._serial:06d}"[-min(6, count) :]
        return "".join(secrets.choice("0123456789") for _ in range(count - len(tail))) + tail

    def transaction_id(self) -> str:
        """28 digits: ``4200`` + channel, the day (yyyyMMdd), a serial (``4200000985202103031441826014``)."""
        day = datetime.fromtimestamp(self.now(), CHINA).strftime("%Y%m%d")
        return "42000" + self._digits(5) + day + self._digits(10)

    def refund_id(self) -> str:
        """29 digits starting ``50`` (``50000000382019052709732678859``)."""
        return "50" + self._digits(27)

    def prepay_id(self) -> str:
        """``wx`` + the time to the second + a random tail (``wx201410272009395522657a690389285100``)."""
        stamp = datetime.fromtimestamp(self.now(), CHINA).strftime("%d%H%M%S%f")[:14]
        return "wx" + stamp + secrets.token_hex(10)

    def platform_number(self, prefix: str, length: int) -> str:
        """A digits-only id of ``length`` starting with ``prefix`` (profit sharing, transfer batches)."""
        return prefix + self._digits(length - len(prefix))

    # -- storage ---------------------------------------------------------------------------
    def get(self, area: str, key: str) -> Record | None:
        return self.objects[area].get(key)

    def put(self, area: str, key: str, record: Record) -> Record:
        self.objects[area][key] = record
        return record

    def find(self, area: str, **fields: Any) -> Record | None:
        """The first object of ``area`` whose fields equal ``fields`` (ids other than the key)."""
        for record in self.objects[area].values():
            if all(record.get(name) == value for name, value in fields.items()):
                return record
        return None

    def every(self, area: str) -> list[Record]:
        return list(self.objects[area].values())

    # -- the clock ---------------------------------------------------------------------------
    def at(self, due: float, action: Callable[[], object]) -> None:
        """Run ``action`` once the sandbox clock reaches ``due`` (``run_due`` fires it)."""
        self.timers.append((due, action))

    def run_due(self) -> int:
        """Fire every timer whose time has come, in time order; how many fired."""
        fired = 0
        while True:
            with self.lock:
                now = self.now()
                due = sorted((timer for timer in self.timers if timer[0] <= now), key=lambda timer: timer[0])
                if not due:
                    return fired
                self.timers.remove(due[0])
            due[0][1]()
            fired += 1

    # -- the state file ------------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """Write the objects and the clock offset as JSON (timers are rebuilt from the objects)."""
        with self.lock:
            document = {"offset": self.offset, "objects": self.objects}
            text = json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True)
        target = Path(path)
        partial = target.with_name(target.name + ".partial")
        partial.write_text(text, encoding="utf-8")
        partial.replace(target)  # a crash mid-write never leaves half a state file

    def load(self, path: str | Path) -> bool:
        """Read a state file written by :meth:`save`; False when there is none yet."""
        target = Path(path)
        if not target.exists():
            return False
        document = json.loads(target.read_text(encoding="utf-8"))
        with self.lock:
            self.offset = float(document.get("offset", 0.0))
            for area, records in (document.get("objects") or {}).items():
                if area in self.objects and isinstance(records, dict):
                    self.objects[area] = records
        return True
