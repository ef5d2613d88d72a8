"""A teacher behind any OpenAI-compatible chat endpoint (OpenAI, Azure, vLLM, `transformers serve`).

Requests run concurrently up to `max_concurrency`; the openai SDK retries 429/5xx/timeouts with
exponential backoff and honours Retry-After (`max_retries`). Every answer goes through the
SQLite cache, so a rerun (or a crash and rerun) repeats no answered request, and `replay_only`
answers from the cache alone and fails clearly on a miss.
"""
from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from typing import Optional

from tqdm.auto import tqdm

from ..config import TeacherConfig
from .cache import ResponseCache, request_key
from .limits import Budget, RateLimiter, estimate_tokens


class CacheMiss(RuntimeError):
    pass


@dataclass
class Reply:
    text: Optional[str]
    error: Optional[str] = None
    cached: bool = False


def api_key(cfg: TeacherConfig) -> str:
    """The key, read from the environment variable the params name (never from params)."""
    if cfg.api_key_env is None:
        return "not-needed"  # local servers (vLLM, transformers serve) accept any key
    key = os.environ.get(cfg.api_key_env)
    if not key:
        raise RuntimeError(f"teacher.api_key_env: the environment variable {cfg.api_key_env} is not set; "
                           f"export it, or set teacher.replay_only: true to answer from a cache file")
    return key


class TeacherClient:
    def __init__(self, cfg: TeacherConfig, cache: ResponseCache):
        self.cfg, self.cache = cfg, cache
        self.sampling = {"temperature": cfg.temperature, "max_tokens": cfg.max_tokens}
        self.requests_sent = 0
        self.limiter = RateLimiter(cfg.requests_per_minute, cfg.tokens_per_minute)
        self.budget = Budget(cfg.budget_usd, cfg.price_input_per_mtok, cfg.price_output_per_mtok)
        self._key = None if cfg.replay_only else api_key(cfg)  # fails early, before any work
        self._client = None  # one AsyncOpenAI per event loop: its connection pool is bound to the loop

    def _new_client(self):
        from openai import AsyncOpenAI

        return AsyncOpenAI(base_url=self.cfg.base_url, api_key=self._key or "not-needed", timeout=self.cfg.timeout_s,
                           max_retries=self.cfg.max_retries)

    def key(self, msgs: list[dict], sample_index: int = 0) -> str:
        return request_key(self.cfg.model, msgs, self.sampling, sample_index)

    async def _one(self, msgs: list[dict], sample_index: int, sem: asyncio.Semaphore) -> Reply:
        key = self.key(msgs, sample_index)
        hit = self.cache.get(key)
        if hit is not None:
            return Reply(hit, cached=True)
        if self.cfg.replay_only:
            return Reply(None, error="cache miss in replay-only mode")
        async with sem:
            if self.budget.exhausted:  # checked after the wait: in-flight answers may still land
                return Reply(None, error=f"budget exhausted (spent ${self.budget.spent:.4f} of ${self.budget.cap})")
            prompt_tokens = sum(estimate_tokens(m["content"]) for m in msgs)
            await self.limiter.acquire(prompt_tokens + self.cfg.max_tokens)
            try:
                self.requests_sent += 1
                resp = await self._client.chat.completions.create(model=self.cfg.model, messages=msgs,
                                                                  **self.sampling)
            except Exception as e:  # after the SDK's own retries: record, do not lose the others
                return Reply(None, error=f"{type(e).__name__}: {e}")
        text = resp.choices[0].message.content if resp.choices else None
        if text is None:
            return Reply(None, error="empty response")
        usage = resp.usage.model_dump() if getattr(resp, "usage", None) else None
        self.budget.add(usage)
        self.cache.put(key, self.cfg.model, {"messages": msgs, **self.sampling, "sample": sample_index}, text, usage)
        return Reply(text)

    async def _many(self, convs: list[list[dict]], samples: int, desc: str) -> list[list[Reply]]:
        if self.cfg.replay_only:
            return await self._gather(convs, samples, desc)
        async with self._new_client() as self._client:
            return await self._gather(convs, samples, desc)

    async def _gather(self, convs: list[list[dict]], samples: int, desc: str) -> list[list[Reply]]:
        sem = asyncio.Semaphore(self.cfg.max_concurrency)
        jobs = [(i, k) for i in range(len(convs)) for k in range(samples)]
        out: list[list[Optional[Reply]]] = [[None] * samples for _ in convs]

        async def run(i, k):
            out[i][k] = await self._one(convs[i], k, sem)

        tasks = [asyncio.ensure_future(run(i, k)) for i, k in jobs]
        for fut in tqdm(asyncio.as_completed(tasks), total=len(tasks), desc=desc):
            await fut
        return out  # type: ignore[return-value]

    def call(self, fn):
        """Run one SDK call, `fn(api) -> coroutine`, to completion (the Batch API's few calls)."""
        async def go():
            async with self._new_client() as api:
                return await fn(api)

        return _run_sync(go())

    def plan(self, convs: list[list[dict]], samples: int = 1) -> dict:
        """What a run would send: requests not yet cached, estimated tokens and cost (no calls)."""
        todo = [c for c in convs for k in range(samples) if self.cache.get(self.key(c, k)) is None]
        self.cache.hits = self.cache.misses = 0  # planning is not a run
        tin = sum(estimate_tokens(m["content"]) for c in todo for m in c)
        tout = len(todo) * self.cfg.max_tokens  # an upper bound: every answer at max_tokens
        return {"requests": len(todo), "cached": len(convs) * samples - len(todo), "est_input_tokens": tin,
                "max_output_tokens": tout, "est_cost_usd_max": round(self.budget.cost(tin, tout), 4),
                "model": self.cfg.model, "budget_usd": self.cfg.budget_usd}

    def complete(self, convs: list[list[dict]], samples: int = 1, desc: str = "teacher") -> list[list[Reply]]:
        """`samples` replies per conversation (sample index is part of the cache key)."""
        return _run_sync(self._many(convs, samples, desc))


def _run_sync(coro):
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    # Inside Jupyter an event loop is already running: run ours in a worker thread.
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as ex:
        return ex.submit(asyncio.run, coro).result()
