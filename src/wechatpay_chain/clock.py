"""The client's clock: the wall clock, plus what the platform's signed answers taught it.

Requests carry a timestamp the platform checks within a window; a server whose clock
drifts gets every call refused with 401. With ``correct_clock=True`` the client follows
the platform's signed ``Wechatpay-Timestamp`` instead, within a bound.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from cryptography.hazmat.primitives.asymmetric import rsa

from .errors import SignatureError
from .v3.protocol import find_header, verify_signed_message

__all__ = ["MAX_CLOCK_CORRECTION", "PlatformClock"]

# Seconds: the largest clock offset learnt from signed answers. A clock further off is
# left alone (fix it with NTP): a replayed old answer must not move the clock further.
MAX_CLOCK_CORRECTION = 900.0


class PlatformClock:
    """``now()`` is the wall clock plus the offset learnt from the platform (when correcting)."""

    __slots__ = ("correct", "offset", "wall")

    def __init__(self, wall: Callable[[], float], correct: bool = False) -> None:
        self.wall = wall
        self.correct = correct
        self.offset = 0.0

    def now(self) -> float:
        return self.wall() + self.offset

    def learn(
        self,
        headers: Mapping[str, str],
        content: bytes,
        keys: Mapping[str, rsa.RSAPublicKey],
        *,
        verified: bool,
    ) -> None:
        """Follow the platform's signed ``Wechatpay-Timestamp`` (only with ``correct=True``).

        Only what the platform signed teaches the clock: the timestamp of a verified
        answer, or of a 401 whose signature checks out with a trusted key (its timestamp
        is the one thing we cannot check against our clock, since our clock is in
        question). ``Date`` is not signed and is never read. A signed answer can still be
        an old one replayed, so the offset is bounded: a platform time more than
        ``MAX_CLOCK_CORRECTION`` away from the wall clock is ignored.
        """
        if not self.correct:
            return
        timestamp = find_header(headers, "Wechatpay-Timestamp")
        if not timestamp or not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
            return
        signed_at = float(timestamp)
        if not verified:
            try:
                verify_signed_message(headers, content, keys, now=lambda: signed_at)
            except SignatureError:
                return  # an unsigned or forged 401 proves nothing
        offset = signed_at - self.wall()
        if abs(offset) > MAX_CLOCK_CORRECTION:
            return  # beyond the bound: a replayed old answer, or a clock to fix by hand (NTP)
        # The timestamp has 1 s resolution and is taken before the answer travels: ignore jitter.
        self.offset = offset if abs(offset) > 2 else 0.0
