"""What a client is: the merchant, its keys, its hosts, its catalogue and its switches.

The protocols' prepare steps (v3/calls.py, v2/flow.py) read a call's inputs from here;
the engine (engine.py) runs calls with it. Arguments are checked by ``Client`` before
they get here; this is plain data plus the lookups every protocol shares: which
operation a path is, and which hosts to try.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric import rsa

from .catalog.specs import Catalog, Operation
from .errors import FieldProblem, ValidationError
from .merchant_key import MerchantKey, Signer
from .trust.crypto import APIv3Keys, Secret, seal
from .v2.settings import V2Settings

__all__ = ["DEFAULT_BASE_URL", "Settings", "backup_hosts"]

DEFAULT_BASE_URL = "https://api.mch.weixin.qq.com"
# The platform's documented backup domains, tried when the primary cannot be reached:
# one for APIv3 and one for APIv2 (the v2 disaster-recovery guide names its own).
V3_BACKUP_URL = "https://api2.wechatpay.cn"
V2_BACKUP_URL = "https://api2.mch.weixin.qq.com"


def backup_hosts(base_url: str, v2: bool) -> list[str]:
    """The default backups: the platform's own, when the client talks to the platform."""
    if base_url != DEFAULT_BASE_URL:
        return []
    return [V2_BACKUP_URL if v2 else V3_BACKUP_URL]


@dataclass(eq=False)
class Settings:
    """One merchant's configuration (mutable: ``client.validate = False`` changes it here)."""

    mchid: str
    catalog: Catalog
    # The serial and the signer of one key, replaced whole (client.rotate_merchant_key): a
    # signature never goes out with the serial of another key. None: no APIv3 key.
    merchant_key: MerchantKey | None = None
    apiv3_keys: APIv3Keys | None = None  # tried in order when opening; the first seals
    v2: V2Settings = field(default_factory=V2Settings)
    bank_public_key: rsa.RSAPublicKey | None = None  # v2 bank transfers: fetched on first need
    defaults: Mapping[str, str] = field(default_factory=dict)  # fields filled where the spec has them
    base_url: str = DEFAULT_BASE_URL
    backup_urls: list[str] | None = None  # None: the platform's defaults (backup_hosts)
    cafile: str | None = None
    validate: bool = True
    validate_responses: bool = False
    strict: bool = False

    @property
    def serial(self) -> str | None:
        return self.merchant_key.serial if self.merchant_key is not None else None

    @property
    def signer(self) -> Signer | None:
        return self.merchant_key.signer if self.merchant_key is not None else None

    @property
    def private_key(self) -> rsa.RSAPrivateKey | None:
        """The merchant key when held here (``None`` with a remote signer)."""
        return self.merchant_key.private_key if self.merchant_key is not None else None

    @property
    def apiv3_key(self) -> Secret | None:
        """The first (current) APIv3 key; setting it leaves that one key."""
        return self.apiv3_keys[0] if self.apiv3_keys else None

    @apiv3_key.setter
    def apiv3_key(self, value: str | bytes | Secret | None) -> None:
        self.apiv3_keys = None if value is None else APIv3Keys([seal(value)])

    def operation_for(self, method: str, key: str) -> Operation | None:
        """The catalogue's operation; with ``strict=True`` a path outside it is refused."""
        operation = self.catalog.operation(key, method)
        if operation is None and self.strict:
            suggestions = self.catalog.suggest(key)
            hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
            raise ValidationError(f"{method} {key}", [FieldProblem("", "catalogue", f"not in the catalogue{hint}")])
        return operation

    def own_host(self, operation: Operation | None) -> str | None:
        """The host an operation's spec names (hk, fraud, payapp...), for v3 and v2 alike.

        A client pointed somewhere else than the platform (a mock, a proxy) keeps its host.
        """
        override = operation.spec.get("base_url") if operation is not None else None
        if override and self.base_url == DEFAULT_BASE_URL:
            return str(override).rstrip("/")
        return None

    def hosts_for(self, operation: Operation | None, *, v2: bool = False) -> list[str]:
        """The hosts to try in order: the operation's own host, or ours and the backups."""
        own = self.own_host(operation)
        if own:
            return [own]
        backups = self.backup_urls if self.backup_urls is not None else backup_hosts(self.base_url, v2)
        return [self.base_url, *backups]
