"""``client.notifications``: webhook parsing bound to the client's keys and secrets.

    event = client.notifications.parse(request.headers, raw_body)   # v3: verify + decrypt
    status, headers, body = client.notifications.ack()               # 204, the platform's "received"

The pure functions live in :mod:`.v3.notifications` and :mod:`.v2.notifications`; this
binds them to one client's engine: its trust ring, clock, APIv3 key and v2 secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from .errors import ConfigError
from .v3.notifications import Acknowledgement, Notification, ack, parse_notification

if TYPE_CHECKING:
    from .engine import Engine

__all__ = ["Notifications"]


class Notifications:
    """``client.notifications``: parse and acknowledge webhook notifications."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def parse(self, headers: Mapping[str, str], body: bytes | str) -> Notification:
        """Verify (headers, 300 s, serial, RSA) and decrypt a v3 notification.

        Raises ``SignatureError`` (``.check`` names the failed check) or
        ``DecryptionError``; a notification that fails never yields data. Pass the raw
        body bytes exactly as received.
        """
        engine = self._engine
        apiv3_key = engine.settings.apiv3_keys  # all of them during a reset, tried in order
        if apiv3_key is None:
            raise ConfigError("apiv3_key", "needed to decrypt notifications")
        return parse_notification(headers, body, keys=engine.trusted_keys, apiv3_key=apiv3_key, now=engine.clock.now)

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
