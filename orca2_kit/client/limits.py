"""Client-side rate limits and cost accounting for a paid teacher endpoint.

The budget is a reservation system: before a request is sent, its worst case (an upper bound of
its input tokens at the input price, plus `max_tokens` at the output price) is reserved; when the
answer arrives the reservation is settled at the usage the endpoint reports. A request that would
not fit beside everything already spent and reserved is not sent, so spend stays under the cap
at any concurrency, as long as the endpoint bills no more than that worst case; what happens when
it bills more (and the bound the cap then guarantees) is in Budget's docstring.
"""
from __future__ import annotations

import asyncio
import collections
import contextlib
import fcntl
import json
import os
import time
from pathlib import Path
from typing import Optional

# A chat template wraps every message in a few special tokens (role, separators) and may add a
# preamble of its own (SmolLM2's injects a default system message): generous allowances.
TEMPLATE_TOKENS_PER_MESSAGE = 8
TEMPLATE_TOKENS_PER_REQUEST = 64


def estimate_tokens(text: str) -> int:
    """~4 characters per token for English text: good enough for a plan."""
    return max(1, len(text) // 4)


def max_input_tokens(messages: list[dict]) -> int:
    """An upper bound of a conversation's input tokens: byte-level BPE tokenizers (GPT, Llama,
    Qwen, SmolLM) never spend more than one token per UTF-8 byte, plus the template's allowance."""
    return TEMPLATE_TOKENS_PER_REQUEST + sum(TEMPLATE_TOKENS_PER_MESSAGE + len(m["content"].encode())
                                             for m in messages)


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
    """Spend in USD: `reserve` a request's worst case before sending it, then `settle` it at the
    reported usage, `charge` it whole (the endpoint may have billed an answer we never read), or
    `release` it (the endpoint answered with an error: nothing was served).

    The bound it guarantees. A request is sent only if its worst case fits beside everything spent
    and reserved, so while the endpoint bills no more than a request's worst case (its input bound
    and `max_tokens`), spend never passes the cap, at any concurrency. An endpoint may bill more (it
    ignores `max_tokens`, bills hidden reasoning tokens, counts more input than the request has
    bytes): the first settle past its reservation *trips* the budget, and from then on no request
    is sent (reserve refuses, and the client checks before every attempt, retries included). Spend
    then stays under cap + the excess of the requests already in flight at that moment (at most
    max_concurrency of them), and the ledger keeps the trip, so a rerun sends nothing either until
    `max_tokens` covers what the endpoint was seen to bill (`resume_if_covered`).

    With a `ledger` file, spend, open reservations and a trip survive a crash: a rerun starts from
    what was spent before, and counts reservations left open by a killed process as spent.
    `exclusive()` holds the ledger's lock and rereads it: two processes on one ledger (a notebook
    run by hand beside the runner) take turns, and neither overwrites the other's spend."""

    def __init__(self, cap_usd: Optional[float], price_in: float, price_out: float, ledger: Optional[Path] = None):
        self.cap, self.price_in, self.price_out = cap_usd, price_in, price_out
        self.spent = self.reserved = 0.0
        self.carried = 0.0  # reservations a stopped process left open: counted as spent until claimed
        self.tripped: Optional[dict] = None  # set when the endpoint billed past a reservation: nothing more is sent
        self.ledger = Path(ledger) if ledger else None
        self._load()

    def _load(self) -> None:
        if self.ledger is not None and self.ledger.is_file():
            before = json.loads(self.ledger.read_text())
            self.spent, self.carried = float(before.get("spent_usd", 0.0)), float(before.get("reserved_usd", 0.0))
            self.tripped = before.get("tripped") or self.tripped

    @contextlib.contextmanager
    def exclusive(self):
        """Hold `<ledger>.lock` and start from what the ledger says (another process may have spent)."""
        if self.ledger is None:
            yield
            return
        self.ledger.parent.mkdir(parents=True, exist_ok=True)
        with open(self.ledger.with_name(self.ledger.name + ".lock"), "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, or by the OS if we die
            if self.reserved == 0:  # nothing of ours in flight: the file is the whole truth
                self._load()
            yield

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.price_in + completion_tokens * self.price_out) / 1e6

    def worst_case(self, messages: list[dict], max_tokens: int) -> float:
        return self.cost(max_input_tokens(messages), max_tokens)

    def usage_cost(self, usage: Optional[dict]) -> Optional[float]:
        if not usage or usage.get("prompt_tokens") is None or usage.get("completion_tokens") is None:
            return None
        return self.cost(usage["prompt_tokens"], usage["completion_tokens"])

    def fits(self, amount: float) -> bool:
        # a tiny tolerance for float rounding; a zero-cost request always fits
        return self.cap is None or amount <= 0 or self.total + self.reserved + amount <= self.cap * (1 + 1e-12)

    @property
    def total(self) -> float:
        """Spent, counting reservations left open by a stopped process as spent."""
        return self.spent + self.carried

    def claim(self, amount: float) -> float:
        """Take over a reservation a stopped process left open (a submitted batch we resume); returns
        the amount now reserved by this process."""
        moved = min(amount, self.carried)
        self.carried -= moved
        self.reserved += moved
        self._save()
        return moved

    def reserve(self, amount: float) -> bool:
        if self.tripped is not None or not self.fits(amount):
            return False
        self.reserved += amount
        self._save()
        return True

    def settle(self, reserved: float, usage: Optional[dict], bound: Optional[tuple[int, int]] = None) -> None:
        """The answer arrived: pay what it cost (the whole reservation if no usage was reported).
        `bound`: the request's (input bound, max_tokens), recorded if it billed past them."""
        real = self.usage_cost(usage)
        self.reserved -= reserved
        self.spent += reserved if real is None else real
        self._check(reserved, real, usage, bound)
        self._save()

    def charge(self, reserved: float) -> None:
        self.settle(reserved, None)

    def release(self, reserved: float) -> None:
        self.reserved -= reserved
        self._save()

    def add(self, usage: Optional[dict], worst: float, bound: Optional[tuple[int, int]] = None) -> None:
        """Spend reported after the fact (a Batch API output line, reserved as a whole batch): its
        usage, or its worst case when the line reports none (it was served, so it is billed)."""
        real = self.usage_cost(usage)
        self.spent += worst if real is None else real
        self._check(worst, real, usage, bound)
        self._save()

    def _check(self, reserved: float, real: Optional[float], usage: Optional[dict], bound) -> None:
        """Trip on the first answer billed past its reservation (see the class docstring)."""
        if self.cap is None or self.tripped is not None or real is None or real <= reserved * (1 + 1e-9) + 1e-12:
            return
        max_in, max_out = bound or (None, None)
        self.tripped = {"billed_usd": real, "reserved_usd": reserved, "prompt_tokens": usage["prompt_tokens"],
                        "completion_tokens": usage["completion_tokens"], "input_bound": max_in, "max_tokens": max_out}

    def why_stopped(self) -> str:
        t = self.tripped
        if t is None:
            return ""
        over_input = t["input_bound"] is not None and t["prompt_tokens"] > t["input_bound"]
        fix = ("it counts more input tokens than the request has bytes, which no max_tokens covers: use another "
               "endpoint" if over_input else
               f"raise teacher.max_tokens to at least {t['completion_tokens']} (each request then reserves what this "
               "endpoint bills), or use an endpoint that honours max_tokens")
        return (f"the endpoint billed ${t['billed_usd']:.4f} ({t['prompt_tokens']} input, {t['completion_tokens']} "
                f"output tokens) for a request reserved at ${t['reserved_usd']:.4f} (at most {t['input_bound']} input, "
                f"{t['max_tokens']} output tokens), so nothing more is sent on this budget ({self.describe()}); {fix}")

    def resume_if_covered(self, max_tokens: int) -> bool:
        """Clear a recorded trip if `max_tokens` now covers what the endpoint billed (a rerun with a
        raised max_tokens); True if it was cleared."""
        t = self.tripped
        if t is None or t["completion_tokens"] > max_tokens or \
                (t["input_bound"] is not None and t["prompt_tokens"] > t["input_bound"]):
            return False
        self.tripped = None
        self._save()
        return True

    @property
    def exhausted(self) -> bool:
        return self.tripped is not None or (self.cap is not None and self.total >= self.cap)

    def describe(self) -> str:
        return f"spent ${self.total:.4f}, ${self.reserved:.4f} reserved, of ${self.cap}"

    def _save(self) -> None:
        if self.ledger is None:
            return
        tmp = self.ledger.with_name(self.ledger.name + ".tmp")
        tmp.write_text(json.dumps({"spent_usd": self.spent, "reserved_usd": max(0.0, self.reserved + self.carried),
                                   "cap_usd": self.cap, "tripped": self.tripped}))
        os.replace(tmp, self.ledger)
