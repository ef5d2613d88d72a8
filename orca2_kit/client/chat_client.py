"""A teacher behind any OpenAI-compatible chat endpoint (OpenAI, Azure, vLLM, `transformers serve`).

Requests run concurrently up to `max_concurrency`; identical requests in one call are sent once
and their answer is fanned out. Failed attempts are retried with exponential backoff, honouring
Retry-After (`max_retries`), here rather than inside the SDK so that the budget sees every
attempt: each attempt reserves its worst case before it is sent (see limits.Budget), an attempt
the server answered with an error is released, and one that got no answer (a timeout, a dropped
connection) or a gateway's error (502, 504, 52x: the server behind it may have done and billed the
work) is charged whole, and its retry reserves again. Once the budget trips (the endpoint billed
past a reservation) no attempt is sent, retries included.

An error reply is recorded as its status and the first words of its message, never the body
verbatim (a server's error page may be long, or echo what it was sent).

Every answer goes through the SQLite cache, so a rerun (or a crash and rerun) repeats no
answered request, and `replay_only` answers from the cache alone and fails clearly on a miss.
"""
from __future__ import annotations

import asyncio
import os
import random
import threading
import time
from dataclasses import dataclass
from typing import Optional

from tqdm.auto import tqdm

from orca2_kit.config import TeacherConfig
from orca2_kit.client.cache import ResponseCache, normalise_endpoint, request_key
from orca2_kit.client.limits import Budget, RateLimiter, estimate_tokens, max_input_tokens

RETRY_STATUS = (408, 409, 429)  # and every 5xx, as the openai SDK retries
# A gateway (a load balancer, Cloudflare, a proxy) answers these when the server behind it failed to
# reply in time or reply well: the server may have finished, and billed, the work
GATEWAY_STATUS = (502, 504, 520, 522, 524)
MAX_RETRY_AFTER_S = 60.0
MAX_ERROR_CHARS = 200


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


def error_text(e: BaseException, secret: Optional[str] = None) -> str:
    """`Kind (HTTP status): message`, the message clipped and with the key (if it came back) blanked."""
    status = getattr(e, "status_code", None)
    body = getattr(e, "body", None)
    msg = body.get("message") if isinstance(body, dict) and isinstance(body.get("message"), str) else \
        getattr(e, "message", None) or str(e)
    msg = " ".join(str(msg).split())
    if secret:
        msg = msg.replace(secret, "***")
    if len(msg) > MAX_ERROR_CHARS:
        msg = msg[:MAX_ERROR_CHARS] + "..."
    return f"{type(e).__name__}" + (f" (HTTP {status})" if status else "") + f": {msg}"


def _retry_after(headers) -> Optional[float]:
    for name, scale in (("retry-after-ms", 1e-3), ("retry-after", 1.0)):
        try:
            value = float(headers.get(name)) * scale
        except (TypeError, ValueError):
            continue
        if 0 < value <= MAX_RETRY_AFTER_S:
            return value
    return None


def _backoff(attempt: int, headers=None) -> float:
    """The server's Retry-After when it gives one, else 0.5 s doubling up to 8 s, less 0-25% jitter."""
    return (_retry_after(headers) if headers is not None else None) or \
        min(0.5 * 2 ** attempt, 8.0) * (1 - 0.25 * random.random())


class TeacherClient:
    def __init__(self, cfg: TeacherConfig, cache: ResponseCache, ledger=None, log=print):
        self.cfg, self.cache, self.log = cfg, cache, log
        self.sampling = {"temperature": cfg.temperature, "max_tokens": cfg.max_tokens}
        self.endpoint = normalise_endpoint(cfg.base_url)
        self.requests_sent = 0  # distinct requests sent (retries of one request count once)
        self.attempts = 0  # HTTP attempts, retries included
        self.used_keys: set[str] = set()  # the cache rows this client answered from or wrote
        self.send = not cfg.replay_only  # False: answer from the cache only (after a batch)
        self.batch_errors: dict[str, str] = {}  # cache key -> why the batch did not answer it
        self.limiter = RateLimiter(cfg.requests_per_minute, cfg.tokens_per_minute)
        self.budget = Budget(cfg.budget_usd, cfg.price_input_per_mtok, cfg.price_output_per_mtok, ledger)
        if self.budget.resume_if_covered(cfg.max_tokens):
            log(f"teacher: max_tokens {cfg.max_tokens} now covers what the endpoint billed past its reservation "
                "earlier in this run; sending again")
        self._told = False  # the budget's trip is logged once
        self._key = None if cfg.replay_only else api_key(cfg)  # fails early, before any work
        self._client = None  # one AsyncOpenAI per event loop: its connection pool is bound to the loop

    def _new_client(self):
        from openai import AsyncOpenAI

        # retries are ours (see the module docstring): the SDK makes one attempt per call
        return AsyncOpenAI(base_url=self.cfg.base_url, api_key=self._key or "not-needed", timeout=self.cfg.timeout_s,
                           max_retries=0)

    def key(self, msgs: list[dict], sample_index: int = 0) -> str:
        return request_key(self.cfg.model, msgs, self.sampling, sample_index, self.endpoint)

    def base_key(self, msgs: list[dict], sample_index: int = 0) -> str:
        return request_key(self.cfg.model, msgs, self.sampling, sample_index)

    def cached(self, msgs: list[dict], sample_index: int = 0) -> Optional[str]:
        """The cached answer, if any (replay-only also accepts one stored without this endpoint)."""
        row = self.cache.lookup(self.key(msgs, sample_index),
                                self.base_key(msgs, sample_index) if self.cfg.replay_only else None)
        if row is None:
            return None
        self.used_keys.add(row[0])
        return row[1]

    def store(self, msgs: list[dict], sample_index: int, text: str, usage: Optional[dict], request: dict) -> None:
        key = self.key(msgs, sample_index)
        self.cache.put(key, self.cfg.model, request, text, usage, self.endpoint, self.base_key(msgs, sample_index))
        self.used_keys.add(key)

    async def _one(self, msgs: list[dict], sample_index: int, sem: asyncio.Semaphore) -> Reply:
        hit = self.cached(msgs, sample_index)
        if hit is not None:
            return Reply(hit, cached=True)
        if not self.send:
            return Reply(None, error="cache miss in replay-only mode" if self.cfg.replay_only else
                         self.batch_errors.get(self.key(msgs, sample_index), "not answered by the batch"))
        async with sem:
            hit = self.cached(msgs, sample_index)  # another run on this cache may have answered meanwhile
            if hit is not None:
                return Reply(hit, cached=True)
            return await self._send(msgs, sample_index)

    async def _send(self, msgs: list[dict], sample_index: int) -> Reply:
        worst = self.budget.worst_case(msgs, self.cfg.max_tokens)
        self.requests_sent += 1
        state = {"reserved": None}
        try:
            return await self._attempts(msgs, sample_index, worst, state)
        except BaseException:  # cancelled (Ctrl-C, SIGTERM) mid-request: it may have been served
            if state["reserved"] is not None:
                self.budget.charge(state["reserved"])
            raise

    async def _attempts(self, msgs: list[dict], sample_index: int, worst: float, state: dict) -> Reply:
        import openai

        bound = (max_input_tokens(msgs), self.cfg.max_tokens)
        for attempt in range(self.cfg.max_retries + 1):
            last = attempt == self.cfg.max_retries
            if state["reserved"] is None:
                if not self.budget.reserve(worst):
                    return Reply(None, error=self._refused(worst))
                state["reserved"] = worst
            await self.limiter.acquire(bound[0] + bound[1])
            if self.budget.tripped is not None:  # tripped while this attempt waited: it is not sent
                self.budget.release(state["reserved"])
                state["reserved"] = None
                return Reply(None, error=self._refused(worst))
            self.attempts += 1
            try:
                resp = await self._client.chat.completions.create(model=self.cfg.model, messages=msgs, **self.sampling)
            except openai.APIStatusError as e:
                if e.status_code in GATEWAY_STATUS:  # the server behind the gateway may have done the work
                    self.budget.charge(state["reserved"])
                    state["reserved"] = None
                if not last and (e.status_code in RETRY_STATUS or e.status_code >= 500):
                    await asyncio.sleep(_backoff(attempt, e.response.headers))
                    continue  # the reservation (if still held) carries over to the next attempt
                if state["reserved"] is not None:  # the server itself answered with an error: nothing was served
                    self.budget.release(state["reserved"])
                    state["reserved"] = None
                return Reply(None, error=error_text(e, self._secret))
            except openai.APIConnectionError as e:  # no answer (timeout, dropped connection): maybe billed
                self.budget.charge(state["reserved"])
                state["reserved"] = None
                if not last:
                    await asyncio.sleep(_backoff(attempt))
                    continue
                return Reply(None, error=error_text(e, self._secret))
            except Exception as e:  # noqa: BLE001 — an answer that could not be read (malformed): served, so paid
                self.budget.charge(state["reserved"])
                state["reserved"] = None
                return Reply(None, error=error_text(e, self._secret))
            usage = resp.usage.model_dump() if getattr(resp, "usage", None) else None
            self.budget.settle(state["reserved"], usage, bound)
            state["reserved"] = None
            if self.budget.tripped is not None and not self._told:
                self._told = True
                self.log(f"teacher: stopped sending: {self.budget.why_stopped()}")
            text = resp.choices[0].message.content if resp.choices else None
            if text is None:
                return Reply(None, error="empty response")
            self.store(msgs, sample_index, text, usage, {"messages": msgs, **self.sampling, "sample": sample_index})
            return Reply(text)
        raise AssertionError("unreachable: the last attempt returns")

    @property
    def _secret(self) -> Optional[str]:
        return self._key if self.cfg.api_key_env else None  # blanked wherever a server echoes it

    def _refused(self, worst: float) -> str:
        if self.budget.tripped is not None:
            return f"budget stopped: {self.budget.why_stopped()}"
        return f"budget exhausted ({self.budget.describe()}; this request may cost up to ${worst:.4f})"

    async def _many(self, convs: list[list[dict]], samples: int, desc: str) -> list[list[Reply]]:
        if not self.send:
            return await self._gather(convs, samples, desc)
        async with self._new_client() as self._client:
            return await self._gather(convs, samples, desc)

    async def _gather(self, convs: list[list[dict]], samples: int, desc: str) -> list[list[Reply]]:
        sem = asyncio.Semaphore(self.cfg.max_concurrency)
        slots: dict[str, list[tuple[int, int]]] = {}  # one request per distinct key, fanned out to its slots
        for i in range(len(convs)):
            for k in range(samples):
                slots.setdefault(self.key(convs[i], k), []).append((i, k))
        out: list[list[Optional[Reply]]] = [[None] * samples for _ in convs]

        async def run(where):
            i, k = where[0]
            reply = await self._one(convs[i], k, sem)
            for i, k in where:
                out[i][k] = reply

        tasks = [asyncio.ensure_future(run(where)) for where in slots.values()]
        try:
            for fut in tqdm(asyncio.as_completed(tasks), total=len(tasks), desc=desc):
                await fut
        finally:  # interrupted or failed: cancel what is still in flight, and wait until it has stopped
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        return out  # type: ignore[return-value]

    def call(self, fn):
        """Run one SDK call, `fn(api) -> coroutine`, to completion (the Batch API's few calls)."""
        async def go():
            from openai import AsyncOpenAI

            async with AsyncOpenAI(base_url=self.cfg.base_url, api_key=self._key or "not-needed",
                                   timeout=self.cfg.timeout_s, max_retries=self.cfg.max_retries) as api:
                return await fn(api)

        return _run_sync(go())

    def plan(self, convs: list[list[dict]], samples: int = 1, refine_prompt: Optional[str] = None) -> dict:
        """What a run would send: requests not yet cached (with draft_refine's second round, whose
        input is the first's plus its draft), estimated tokens, and the most it can cost (no calls)."""
        hits, misses = self.cache.hits, self.cache.misses
        used = set(self.used_keys)
        todo, est_in, max_in, n_answer, n_refine = 0, 0, 0, 0, 0
        distinct = {self.key(c, k): (c, k) for c in convs for k in range(samples)}  # duplicates are sent once
        for c, k in distinct.values():
            draft = self.cached(c, k)
            if draft is None:
                todo, n_answer = todo + 1, n_answer + 1
                est_in += sum(estimate_tokens(m["content"]) for m in c)
                max_in += max_input_tokens(c)
            if refine_prompt is None:
                continue
            tail = [{"role": "user", "content": refine_prompt}]
            if draft is not None and self.cached(c + [{"role": "assistant", "content": draft}] + tail) is not None:
                continue
            # the draft is at most max_tokens tokens long (and its template allowance)
            todo, n_refine = todo + 1, n_refine + 1
            est_in += sum(estimate_tokens(m["content"]) for m in c + tail) + self.cfg.max_tokens
            max_in += max_input_tokens(c + tail) + self.cfg.max_tokens + 8
        self.cache.hits, self.cache.misses, self.used_keys = hits, misses, used  # planning is not a run
        tout = todo * self.cfg.max_tokens  # an upper bound: every answer at max_tokens
        total = len(distinct) * (2 if refine_prompt else 1)
        return {"requests": todo, "answer_requests": n_answer, "refine_requests": n_refine, "cached": total - todo,
                "est_input_tokens": est_in, "max_input_tokens": max_in, "max_output_tokens": tout,
                "est_cost_usd_max": round(self.budget.cost(max_in, tout), 4), "model": self.cfg.model,
                "endpoint": self.endpoint, "budget_usd": self.cfg.budget_usd}

    def uncached(self, convs: list[list[dict]], samples: int = 1) -> int:
        """How many distinct requests the cache cannot answer (counts nothing as a hit or miss)."""
        hits, misses, used = self.cache.hits, self.cache.misses, set(self.used_keys)
        keys = {self.key(c, k): (c, k) for c in convs for k in range(samples)}
        n = sum(self.cached(c, k) is None for c, k in keys.values())
        self.cache.hits, self.cache.misses, self.used_keys = hits, misses, used
        return n

    def complete(self, convs: list[list[dict]], samples: int = 1, desc: str = "teacher") -> list[list[Reply]]:
        """`samples` replies per conversation (sample index is part of the cache key). Sending holds
        the cache's lock, so a second run on this cache waits, then reads what this one paid for."""
        if not self.send or not self.uncached(convs, samples):
            return _run_sync(self._many(convs, samples, desc))
        with self.cache.sending(self.log), self.budget.exclusive():
            if self.budget.tripped is not None:
                self.log(f"teacher: not sending: {self.budget.why_stopped()}")
            return _run_sync(self._many(convs, samples, desc))


def _run_sync(coro):
    """Run a coroutine to completion from synchronous code. Ctrl-C (or the runner's SIGTERM, which
    interrupts the kernel) cancels it: every request in flight is cancelled and awaited first."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)  # asyncio.run cancels the task cleanly on KeyboardInterrupt
    # Inside Jupyter an event loop is already running in this thread: run ours in a worker thread.
    # A KeyboardInterrupt lands here, in the waiting thread, so it must reach the worker's loop too:
    # otherwise the worker would go on sending requests after the cell was interrupted.
    loop = asyncio.new_event_loop()
    task = loop.create_task(coro)
    result: dict = {}
    done = threading.Event()

    def work():
        try:
            result["value"] = loop.run_until_complete(task)
        except BaseException as e:  # noqa: BLE001 — handed to the waiting thread
            result["error"] = e
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
            done.set()

    threading.Thread(target=work, name="orca2-teacher", daemon=True).start()
    try:
        while not done.wait(0.2):  # short waits: a signal in this thread is handled between them
            pass  # (not Thread.join: an interrupt inside join marks a live thread as finished)
    except BaseException:
        loop.call_soon_threadsafe(task.cancel)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if done.wait(0.2):
                    break
            except KeyboardInterrupt:  # a second Ctrl-C: we are stopping already
                continue
        raise
    if "error" in result:
        raise result["error"]
    return result["value"]
