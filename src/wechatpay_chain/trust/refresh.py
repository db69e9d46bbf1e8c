"""``client.certificates``: download, verify and refresh the platform certificates.

``GET v3/certificates`` is the one answer a client may not be able to verify with
what it already trusts (the first download, a rotation): it is verified with the
certificates it delivers, after decrypting them with the APIv3 key, which only the
platform and the merchant know. The pure steps are in :mod:`.certificates`; the call
goes through the client's engine (one signed attempt, the answer checked here).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ConfigError
from ..naming import path_segments
from ..response import Response
from ..v3.calls import error_from_answer
from .certificates import PlatformCertificate, needs_refresh, parse_certificates_answer, write_pem_files

if TYPE_CHECKING:
    from ..engine import Engine

__all__ = ["MIN_REFRESH_INTERVAL", "Certificates"]

MIN_REFRESH_INTERVAL = 3600.0  # seconds between automatic fetches (the platform rotates over days)


class Certificates:
    """``client.certificates``: the platform certificates of one client's engine."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.current: list[PlatformCertificate] = []
        self._last_attempt: float | None = None

    async def download_async(self) -> list[PlatformCertificate]:
        """Fetch, decrypt and verify the platform certificates (nothing is trusted yet)."""
        engine = self._engine
        apiv3_key = engine.settings.apiv3_keys  # all of them during a reset, tried in order
        if apiv3_key is None:
            raise ConfigError("apiv3_key", "needed to decrypt the platform certificates")
        prepared = engine.prepare_v3("GET", tuple(path_segments("v3/certificates")), {})
        url, answer = await engine.exchange_once(prepared)
        if not 200 <= answer.status < 300:
            response = Response(answer.status, answer.headers, answer.content, method="GET", url=url)
            raise error_from_answer(answer.status, answer.headers, answer.content, response)
        return parse_certificates_answer(
            answer.headers, answer.content, apiv3_key, trusted=engine.trusted_keys, now=engine.clock.now
        )

    def download(self) -> list[PlatformCertificate]:
        return self._engine.transport.run_blocking(self.download_async())

    async def refresh_async(self) -> list[PlatformCertificate]:
        """Download, then trust the new certificates and drop the expired ones."""
        engine = self._engine
        self._last_attempt = engine.clock.now()
        certificates = await self.download_async()
        engine.trusted_keys = engine.trusted_keys.with_certificates(certificates).without_expired(engine.clock.now())
        self.current = certificates
        return certificates

    def refresh(self) -> list[PlatformCertificate]:
        return self._engine.transport.run_blocking(self.refresh_async())

    async def refresh_if_needed(self) -> None:
        """Automatic refresh: before the newest certificate nears expiry, at most hourly."""
        engine = self._engine
        ring = engine.trusted_keys
        if engine.settings.apiv3_key is None or (ring.public_key_ids and not ring.certificate_serials):
            return  # public-key mode: nothing expires
        if self._last_attempt is not None and engine.clock.now() - self._last_attempt < MIN_REFRESH_INTERVAL:
            return
        if self.current and not needs_refresh(self.current, now=engine.clock.now):
            return
        await self.refresh_async()

    def save(self, out_dir: str | Path, certificates: list[PlatformCertificate] | None = None) -> list[Path]:
        """Write ``<serial>.pem`` files (atomically) for the given or the last refreshed certificates."""
        return write_pem_files(certificates if certificates is not None else self.current, out_dir)
