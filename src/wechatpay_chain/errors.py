"""The exceptions wechatpay-chain raises.

    WeChatPayError
    ├── ConfigError          wrong or unreadable configuration / key material (at construction)
    ├── ValidationError      a payload breaks its spec; nothing was sent
    ├── ApiError             the platform answered 4xx/5xx (v3) or FAIL (v2)
    ├── SignatureError       an answer or a notification failed verification (``.check``: a SignatureCheck)
    ├── DecryptionError      AES-GCM / OAEP / ECB ciphertext could not be opened
    ├── XmlError             a v2 XML body could not be written, or was refused when read (also a ValueError)
    ├── EventInProgress      a notification delivered again while another delivery is being handled
    └── TransportError       connection, timeout, TLS
        └── TimeoutError     (also a subclass of the built-in TimeoutError)

``ValidationError.errors`` is a list of :class:`FieldProblem` records (where and which
rule): data, not exceptions. ``FieldError`` is an alias of ``FieldProblem``, kept for code
written against the old name.

No message or repr carries key material: messages are built from templates
with names, paths and reasons only.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

if TYPE_CHECKING:
    from .response import Response

__all__ = [
    "ApiError",
    "ConfigError",
    "DecryptionError",
    "EventInProgress",
    "FieldError",
    "FieldProblem",
    "SignatureCheck",
    "SignatureError",
    "TimeoutError",
    "TransportError",
    "ValidationError",
    "WeChatPayError",
    "XmlError",
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
class FieldProblem:
    """One problem in a payload: where (a JSON pointer) and which rule it breaks.

    A record that :class:`ValidationError` lists, not an exception: it is never raised.
    """

    pointer: str  # e.g. "/json/amount" ("" for the root of a part)
    rule: str  # the JSON Schema keyword: required, type, enum, pattern, maxLength, ...
    message: str

    def __str__(self) -> str:
        return f"{self.pointer or '/'}: {self.message} ({self.rule})"


FieldError = FieldProblem
"""The old name of :class:`FieldProblem` (an alias: ``FieldError is FieldProblem``).

It is not an exception: ``except FieldError`` raises ``TypeError`` once an exception is
being matched. Catch ``ValidationError`` and read its ``errors``."""


class ValidationError(WeChatPayError, ValueError):
    """The payload breaks the operation's spec. ``errors`` lists every problem."""

    def __init__(self, operation: str, errors: Sequence[FieldProblem]) -> None:
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


SignatureCheck: TypeAlias = Literal[
    "authorization",  # the request's Authorization header (the mock checks what it receives)
    "body",  # the signed body is not what it must be (a JSON object, UTF-8 text)
    "certificate",  # a platform certificate is malformed, expired or differs from the trusted one
    "digest",  # a download's or statement's digest does not match
    "headers",  # a Wechatpay-* header is missing
    "mchid",  # the request names a merchant the mock does not know
    "serial",  # the answer is signed with a key that is not trusted
    "sign",  # a v2 sign is missing, of an unknown algorithm, or does not match
    "signature",  # the RSA signature does not match
    "timestamp",  # the timestamp is not an integer or is outside the window
]
"""The values of :attr:`SignatureError.check`: which check failed."""


class SignatureError(WeChatPayError):
    """An answer or notification did not verify. ``check`` names the failed check."""

    def __init__(self, check: SignatureCheck, reason: str) -> None:
        self.check = check
        self.reason = reason
        super().__init__(f"{check}: {reason}")


class DecryptionError(WeChatPayError):
    """A ciphertext could not be decrypted (wrong key, tampered data, bad encoding)."""


class EventInProgress(WeChatPayError):
    """A notification arrived again while another delivery of it is being handled (seen_events.py).

    Answer it with a failure (e.g. 503): the platform delivers it again later, by when the
    other handler has marked it done (then it is a duplicate) or given it back.
    """

    def __init__(self, event_id: str) -> None:
        self.event_id = event_id
        super().__init__(
            f"notification {event_id} is being handled by another delivery: answer a failure, it is delivered again"
        )


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


class XmlError(WeChatPayError, ValueError):
    """A v2 XML body could not be written, or was refused when read.

    Messages name the element and the reason, never a field's value.
    """
