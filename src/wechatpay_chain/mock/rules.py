"""What every business area's table is made of: a request as the sandbox reads it, and a rule.

A table maps ``"METHOD key"`` (the spec key) to a rule; a rule reads the request, changes
the state and returns the object's view (a dict the response schema then shapes), None
for 204, or raises :class:`~.state.Refusal`. Only what the catalogue cannot say lives in
rules: which object an operation creates or finds, and how its state moves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from .webhooks import WebhookPlatform

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import rsa

    from ..catalog.specs import Catalog
    from .state import SandboxState
    from .webhooks import Webhooks

__all__ = ["Ask", "Business", "Rule", "SandboxPlatform", "Table", "amount", "text"]


class SandboxPlatform(WebhookPlatform, Protocol):
    """What the sandbox reads of the platform: whose it is, its specs, clock, APIv2 key and merchant key."""

    mchid: str
    catalog: Catalog
    secret: str
    merchant_key: rsa.RSAPrivateKey  # whose public half encrypts answers' sensitive fields (transfers)


class Business(Protocol):
    """What the business tables read and drive of the sandbox (``sandbox.Sandbox``), so that the
    tables need not import the module that imports them."""

    platform: SandboxPlatform
    state: SandboxState
    webhooks: Webhooks
    refund_delay: float | None
    profit_sharing_delay: float | None
    transfer_delay: float | None

    def notify_order(self, order: dict[str, Any]) -> None: ...

    def notify_refund(self, record: dict[str, Any], event_type: str) -> None: ...


@dataclass(frozen=True)
class Ask:
    """One request, as a rule sees it."""

    protocol: str  # "v3" or "v2"
    key: str  # the spec key
    fields: dict[str, Any]  # v3: path values, query and JSON body merged; v2: the XML fields
    mchid: str  # who signed it

    def owner(self) -> str:
        """The merchant the object belongs to: the sub-merchant for a partner, else the signer."""
        fields = self.fields
        return str(fields.get("sub_mchid") or fields.get("sub_mch_id") or fields.get("mch_id") or self.mchid)

    def get(self, name: str) -> Any:
        return self.fields.get(name)


Rule = Callable[[Business, Ask], dict[str, Any] | None]
Table = dict[str, Rule]


def amount(value: Any) -> int:
    """An amount in fen from a v3 integer or a v2 decimal string."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def text(value: Any) -> str:
    return "" if value is None else str(value)
