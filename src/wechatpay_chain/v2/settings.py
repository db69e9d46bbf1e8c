"""APIv2 settings of a client: the API secret and the merchant client certificate (mTLS)."""

from __future__ import annotations

import ssl
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError
from ..transport.tls import tls_context
from ..trust.crypto import Secret, read_key_source, seal

__all__ = ["V2Settings"]

PemSource = str | bytes | Path


def _pem_bytes(source: PemSource | Secret, argument: str) -> bytes:
    """PEM text, a path or a file:// URL, read the way the v3 keys are (messages never echo a key)."""
    return read_key_source(source, argument)


@dataclass(frozen=True)
class V2Settings:
    """``secret`` signs v2 requests; ``client_cert``/``client_key`` (PEM) are the mTLS pair."""

    secret: Secret | None = field(default=None, repr=False)  # the v2 API key, wrapped (crypto.Secret)
    cert_pem: bytes | None = field(default=None, repr=False)
    key_pem: bytes | None = field(default=None, repr=False)

    @classmethod
    def load(
        cls,
        *,
        secret: str | Secret | None,
        client_cert: PemSource | None,
        client_key: PemSource | Secret | None,
    ) -> V2Settings:
        sealed_secret: Secret | None = seal(secret)
        sealed_key: Secret | None = seal(client_key)
        del secret, client_key  # this frame raises: from here on they are held wrapped
        if sealed_secret is not None and (not isinstance(sealed_secret.reveal(), str) or not sealed_secret):
            raise ConfigError("secret", "must be the APIv2 key as a non-empty string")
        if (client_cert is None) != (sealed_key is None):
            raise ConfigError(
                "client_cert" if client_cert is None else "client_key", "client_cert and client_key go together"
            )
        settings = cls(
            sealed_secret,
            _pem_bytes(client_cert, "client_cert") if client_cert is not None else None,
            _pem_bytes(sealed_key, "client_key") if sealed_key is not None else None,
        )
        if settings.has_client_certificate:
            settings.ssl_context()  # fail at construction, not on the first call
        return settings

    @property
    def has_client_certificate(self) -> bool:
        return self.cert_pem is not None and self.key_pem is not None

    def ssl_context(self, cafile: str | None = None) -> ssl.SSLContext:
        """A TLS context presenting the merchant certificate (for ``cert_required`` operations)."""
        if self.cert_pem is None or self.key_pem is None:
            raise ConfigError("client_cert", "this operation needs the merchant client certificate")
        context = tls_context(cafile)  # the system's CAs plus cafile
        # load_cert_chain reads files only: hand it a private temporary copy, deleted at once.
        with tempfile.NamedTemporaryFile("wb", suffix=".pem", delete=True) as bundle:
            bundle.write(self.cert_pem + b"\n" + self.key_pem)
            bundle.flush()
            try:
                context.load_cert_chain(bundle.name)
            except ssl.SSLError:
                raise ConfigError("client_cert", "certificate and key are not a readable PEM pair") from None
        return context

    def __repr__(self) -> str:
        return f"V2Settings(secret={'set' if self.secret else None}, client_certificate={self.has_client_certificate})"
