"""Token buckets: the send rates providers impose (SMS per second over the account, robot
webhooks 20 a minute per bot as DingTalk does). In memory, per dispatcher process: with several
replicas configure each one's share of the provider's limit."""
from __future__ import annotations

import time
from typing import Callable, Hashable


class TokenBucket:
    """`rate` tokens a second up to `burst`; rate 0 means unlimited."""

    def __init__(self, rate: float, burst: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = max(1, burst)
        self.clock = clock
        self.tokens = float(self.burst)
        self.updated = clock()

    def _refill(self) -> None:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def try_take(self) -> float:
        """Take a token and return 0, or take none and return the seconds until one is free."""
        if self.rate <= 0:
            return 0.0
        self._refill()
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


class RateLimits:
    """One bucket per (channel, key): key is the bot for webhooks, None for account-wide limits."""

    def __init__(self, limits: dict[str, tuple[float, int]], *, per_key: set[str] = frozenset(),
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.per_key = per_key
        self.clock = clock
        self._buckets: dict[tuple[str, Hashable], TokenBucket] = {}

    def try_take(self, channel: str, key: Hashable = None) -> float:
        if channel not in self.limits:
            return 0.0
        k = (channel, key if channel in self.per_key else None)
        bucket = self._buckets.get(k)
        if bucket is None:
            rate, burst = self.limits[channel]
            bucket = self._buckets[k] = TokenBucket(rate, burst, clock=self.clock)
        return bucket.try_take()
