"""Client-side rate limits and cost accounting for a paid teacher endpoint."""
from __future__ import annotations

import asyncio
import collections
import time
from typing import Optional


def estimate_tokens(text: str) -> int:
    """~4 characters per token for English text: good enough for a budget estimate."""
    return max(1, len(text) // 4)


class RateLimiter:
    """Requests-per-minute and tokens-per-minute over a sliding 60 s window."""

    def __init__(self, rpm: Optional[int], tpm: Optional[int], window_s: float = 60.0):
        self.rpm, self.tpm, self.window = rpm, tpm, window_s
        self.events: collections.deque = collections.deque()  # (time, tokens)
        self.lock = asyncio.Lock()

    async def acquire(self, tokens: int) -> None:
        if not self.rpm and not self.tpm:
            return
        async with self.lock:
            while True:
                now = time.monotonic()
                while self.events and now - self.events[0][0] > self.window:
                    self.events.popleft()
                used = sum(t for _, t in self.events)
                if (not self.rpm or len(self.events) < self.rpm) and (not self.tpm or used + tokens <= self.tpm or not self.events):
                    self.events.append((now, tokens))
                    return
                await asyncio.sleep(max(0.01, self.window - (now - self.events[0][0])))


class Budget:
    """Spend in USD from the usage the endpoint reports; `exhausted` once the cap is reached."""

    def __init__(self, cap_usd: Optional[float], price_in: float, price_out: float):
        self.cap, self.price_in, self.price_out = cap_usd, price_in, price_out
        self.spent = 0.0

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.price_in + completion_tokens * self.price_out) / 1e6

    def add(self, usage: Optional[dict]) -> None:
        if usage:
            self.spent += self.cost(usage.get("prompt_tokens") or 0, usage.get("completion_tokens") or 0)

    @property
    def exhausted(self) -> bool:
        return self.cap is not None and self.spent >= self.cap
