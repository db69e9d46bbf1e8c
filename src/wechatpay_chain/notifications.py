"""``client.notifications``: webhook parsing bound to the client's keys and secrets.

    event = client.notifications.parse(request.headers, raw_body)   # v3: verify + decrypt
    status, headers, body = client.notifications.ack()               # 204, the platform's "received"

    event = client.notifications.parse(request.headers, raw_body, first_time=seen)
    if event is None: ...                                            # a duplicate: acknowledge, skip
    handle(event); seen.done(event.id)                               # on failure: seen.forget(event.id)

The pure functions live in :mod:`.v3.notifications` and :mod:`.v2.notifications`; this
binds them to one client's engine: its trust ring, clock, APIv3 key and v2 secret. A
notification signed with a key the ring lacks makes the client learn it, as an answer
does (trust/refresh.py: adopt it from the key store, or refresh at most once a minute),
and the same bytes are verified again.

Dedup (``first_time=``, see :mod:`.seen_events`): the event is verified and decrypted
first, then claimed. Claimed now: it is handed over, and the handler marks it
``seen.done(event.id)`` after handling it, or ``seen.forget(event.id)`` when handling
failed (the platform's next delivery is handled). Handled before: ``None``, which the
handler acknowledges with success. Being handled by another delivery right now:
:class:`~.errors.EventInProgress`, which the handler answers with a failure, so that the
platform delivers it again (acknowledging it would lose the event if that other handling
failed).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, overload

from .errors import ConfigError, EventInProgress, SignatureError
from .seen_events import Claim, claim_event
from .transport.driver import drive, offload
from .v3.notifications import Acknowledgement, Notification, ack, parse_notification
from .v3.protocol import find_header

if TYPE_CHECKING:
    from .engine import Engine
    from .seen_events import FirstTime

__all__ = ["NOTIFICATION_LEARN_WAIT", "Notifications"]

NOTIFICATION_LEARN_WAIT = 3.0  # seconds a notification waits for another node's key refresh, at most


class Notifications:
    """``client.notifications``: parse and acknowledge webhook notifications."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @overload
    def parse(self, headers: Mapping[str, str], body: bytes | str) -> Notification: ...
    @overload
    def parse(self, headers: Mapping[str, str], body: bytes | str, *, first_time: FirstTime) -> Notification | None: ...
    def parse(
        self, headers: Mapping[str, str], body: bytes | str, *, first_time: FirstTime | None = None
    ) -> Notification | None:
        """Verify (headers, 300 s, serial, RSA) and decrypt a v3 notification.

        Raises ``SignatureError`` (``.check`` names the failed check) or
        ``DecryptionError``; a notification that fails never yields data. Pass the raw
        body bytes exactly as received. With ``first_time`` (a :class:`~.seen_events.SeenEvents`
        store or a callable ``event_id -> True the first time``), a handled duplicate gives
        ``None``, and one being handled by another delivery raises ``EventInProgress``.
        """
        return drive(self._parse(headers, body, first_time))  # type: ignore[no-any-return]

    @overload
    async def parse_async(self, headers: Mapping[str, str], body: bytes | str) -> Notification: ...
    @overload
    async def parse_async(
        self, headers: Mapping[str, str], body: bytes | str, *, first_time: FirstTime
    ) -> Notification | None: ...
    async def parse_async(
        self, headers: Mapping[str, str], body: bytes | str, *, first_time: FirstTime | None = None
    ) -> Notification | None:
        """:meth:`parse` for a running event loop: learning a key (a store lookup, a refresh)
        and the dedup claim (a Redis round trip) do not block the loop."""
        return await self._parse(headers, body, first_time)

    async def _parse(
        self, headers: Mapping[str, str], body: bytes | str, first_time: FirstTime | None
    ) -> Notification | None:
        """One coroutine for both: a sync parse drives it with no loop (transport/driver.py)."""
        try:
            event = self._verified(headers, body)
        except SignatureError as error:
            serial = self._unknown_serial(error, headers)
            if serial is None or not await self._learn(serial):
                raise
            event = self._verified(headers, body)
        if first_time is None:
            return event
        return _answer(event, await offload(claim_event, first_time, event.id))

    def _verified(self, headers: Mapping[str, str], body: bytes | str) -> Notification:
        engine = self._engine
        apiv3_key = engine.settings.apiv3_keys  # all of them during a reset, tried in order
        if apiv3_key is None:
            raise ConfigError("apiv3_key", "needed to decrypt notifications")
        event = parse_notification(headers, body, keys=engine.trusted_keys, apiv3_key=apiv3_key, now=engine.clock.now)
        return dataclasses.replace(event, mchid=engine.settings.mchid)

    def _unknown_serial(self, error: SignatureError, headers: Mapping[str, str]) -> str | None:
        """The serial to learn when ``error`` is about a key the ring lacks (and the client can learn)."""
        if error.check != "serial" or self._engine.keeper is None:
            return None
        return find_header(headers, "Wechatpay-Serial") or None

    async def _learn(self, serial: str) -> bool:
        # A webhook must answer within the platform's notification timeout: another node's
        # lease is waited for a few seconds at most (then the platform delivers it again).
        keeper = self._engine.keeper
        return keeper is not None and await keeper.learn_key(serial, NOTIFICATION_LEARN_WAIT)

    def parse_v2(self, body: bytes | str) -> dict[str, str]:
        """Verify a v2 notification's sign, or decrypt a refund notification's ``req_info``."""
        from .v2 import parse_v2_notification

        secret = self._engine.settings.v2.secret
        if secret is None:
            raise ConfigError("secret", "needed to verify v2 notifications")
        return parse_v2_notification(body.encode("utf-8") if isinstance(body, str) else body, secret)

    @staticmethod
    def ack(success: bool = True, message: str | None = None, *, status: int | None = None) -> Acknowledgement:
        """(status, headers, body) to answer a v3 notification: 204 on success, 4xx/5xx FAIL otherwise."""
        return ack(success, message, status=status)

    @staticmethod
    def ack_v2(success: bool = True, message: str = "OK") -> bytes:
        """The XML body that answers a v2 notification."""
        from .v2 import v2_ack

        return v2_ack(success, message)

    def __repr__(self) -> str:
        return f"<notifications of {self._engine.settings.mchid}>"


def _answer(event: Notification, claim: Claim) -> Notification | None:
    """What ``parse`` answers for a claimed event: it, ``None`` (a duplicate), or ``EventInProgress``."""
    if claim is Claim.IN_PROGRESS:
        raise EventInProgress(event.id)  # answered with a failure: the platform delivers it again
    return event if claim is Claim.FIRST else None  # None: a duplicate, acknowledged, not handed over
