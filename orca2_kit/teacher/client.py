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
        self._client = None
        if not cfg.replay_only:
            from openai import AsyncOpenAI

            self._client = AsyncOpenAI(base_url=cfg.base_url, api_key=api_key(cfg), timeout=cfg.timeout_s,
                                       max_retries=cfg.max_retries)

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
        self.cache.put(key, self.cfg.model, {"messages": msgs, **self.sampling, "sample": sample_index}, text, usage)
        return Reply(text)

    async def _many(self, convs: list[list[dict]], samples: int, desc: str) -> list[list[Reply]]:
        sem = asyncio.Semaphore(self.cfg.max_concurrency)
        jobs = [(i, k) for i in range(len(convs)) for k in range(samples)]
        out: list[list[Optional[Reply]]] = [[None] * samples for _ in convs]

        async def run(i, k):
            out[i][k] = await self._one(convs[i], k, sem)

        tasks = [asyncio.ensure_future(run(i, k)) for i, k in jobs]
        for fut in tqdm(asyncio.as_completed(tasks), total=len(tasks), desc=desc):
            await fut
        return out  # type: ignore[return-value]

    def complete(self, convs: list[list[dict]], samples: int = 1, desc: str = "teacher") -> list[list[Reply]]:
        """`samples` replies per conversation (sample index is part of the cache key)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self._many(convs, samples, desc))
        # Inside Jupyter an event loop is already running: run ours in a worker thread.
        import concurrent.futures

        with concurrent.futures.ThreadPoolExecutor(1) as ex:
            return ex.submit(asyncio.run, self._many(convs, samples, desc)).result()
