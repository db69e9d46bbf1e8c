"""The exceptions wechatpay-chain raises.

    WeChatPayError
    ├── ConfigError          wrong or unreadable configuration / key material (at construction)
    ├── ValidationError      a payload breaks its spec; nothing was sent
    ├── ApiError             the platform answered 4xx/5xx (v3) or FAIL (v2)
    ├── SignatureError       an answer or a notification failed verification
    ├── DecryptionError      AES-GCM / OAEP / ECB ciphertext could not be opened
    └── TransportError       connection, timeout, TLS
        └── TimeoutError     (also a subclass of the built-in TimeoutError)

No message or repr carries key material: messages are built from templates
with names, paths and reasons only.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .response import Response

__all__ = [
    "ApiError",
    "ConfigError",
    "DecryptionError",
    "FieldError",
    "SignatureError",
    "TimeoutError",
    "TransportError",
    "ValidationError",
    "WeChatPayError",
]


class WeChatPayError(Exception):
    """Base of every error raised by wechatpay-chain."""


class ConfigError(WeChatPayError, ValueError):
    """A constructor argument is wrong: names the argument and the reason, never the value."""

    def __init__(self, argument: str, reason: str) -> None:
        self.argument = argument
        self.reason = reason
        super().__init__(f"{argument}: {reason}")


@dataclass(frozen=True)
class FieldError:
    """One problem in a payload: where (a JSON pointer) and which rule it breaks."""

    pointer: str  # e.g. "/json/amount" ("" for the root of a part)
    rule: str  # the JSON Schema keyword: required, type, enum, pattern, maxLength, ...
    message: str

    def __str__(self) -> str:
        return f"{self.pointer or '/'}: {self.message} ({self.rule})"


class ValidationError(WeChatPayError, ValueError):
    """The payload breaks the operation's spec. ``errors`` lists every problem."""

    def __init__(self, operation: str, errors: Sequence[FieldError]) -> None:
        self.operation = operation
        self.errors = list(errors)
        lines = "\n".join(f"  - {error}" for error in self.errors)
        count = len(self.errors)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"{operation}: {count} {noun}, nothing was sent\n{lines}")


class ApiError(WeChatPayError):
    """The platform answered with an error (HTTP 4xx/5xx, or a v2 FAIL)."""

    def __init__(
        self,
        status_code: int,
        code: str | None,
        message: str | None,
        detail: Any = None,
        response: Response | None = None,
    ) -> None:
        self.status_code = status_code
        self.code = code
        self.message = message
        self.detail = detail
        self.response = response
        super().__init__(f"HTTP {status_code} {code or '-'}: {message or 'no message'}")

    @property
    def request_id(self) -> str | None:
        """The platform's ``Request-ID`` header, to quote when asking its support."""
        if self.response is None:
            return None
        return self.response.headers.get("Request-ID")


class SignatureError(WeChatPayError):
    """An answer or notification did not verify. ``check`` names the failed check."""

    def __init__(self, check: str, reason: str) -> None:
        self.check = check
        self.reason = reason
        super().__init__(f"{check}: {reason}")


class DecryptionError(WeChatPayError):
    """A ciphertext could not be decrypted (wrong key, tampered data, bad encoding)."""


MAY_HAVE_ARRIVED = (
    "the request may have reached the platform and taken effect: query its result (e.g. the order) before you retry"
)


class TransportError(WeChatPayError):
    """The request could not be completed: connection, TLS, protocol."""

    def __init__(self, message: str, *, sent: bool = False) -> None:
        self.sent = sent  # True when the request may have reached the platform
        super().__init__(message)

    def settle(self, idempotent: bool) -> None:
        """The call ends with this error: a ``sent`` non-idempotent call says to query first."""
        if self.sent and not idempotent and len(self.args) == 1 and MAY_HAVE_ARRIVED not in str(self.args[0]):
            self.args = (f"{self.args[0]}; {MAY_HAVE_ARRIVED}",)


class TimeoutError(TransportError, builtins.TimeoutError):
    """The call did not complete within its timeout."""
