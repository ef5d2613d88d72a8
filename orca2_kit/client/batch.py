"""OpenAI Batch API mode: one uploaded file of requests, answered within 24 h at half price.

Resumable and never submitted twice: `batch.json` is written *before* anything is uploaded, with
a token that also goes into the batch's metadata, so a rerun after a crash anywhere (even between
creating the batch and recording its id) finds the batch again by its token instead of paying
for a new one. The batch is also recorded in the response cache until it is collected, and the
cache's lock is held from submission until collection: another run on the cache (another run
folder, the study) waits, or, if this run stopped while its batch was out, collects that batch
itself, instead of submitting the same requests again.

Answers land in the same SQLite cache as online answers, under the key each request was submitted
with (its custom_id), so the rest of the stage does not care how they were obtained, and a batch
left by a run with other params is collected under *its* params (a gpt-4o-mini answer is never
stored as gpt-4o's) before what the current params still miss is submitted.

The budget: the batch's worst case (every line at its input bound and max_tokens) is reserved
before it is submitted, and only the lines that fit are submitted; the others are recorded as
failed with the reason. When the output arrives, each answered line is charged its reported usage,
or its worst case if it reports none (it was served, so it is billed), and the reservation is
released.
"""
from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Optional

from tqdm.auto import tqdm

from orca2_kit.client.cache import request_key
from orca2_kit.client.limits import max_input_tokens

DONE = {"completed", "failed", "expired", "cancelled"}
TOKEN_KEY = "orca2_kit_token"


def batch_lines(client, convs: list[list[dict]], samples: int) -> list[dict]:
    """One Batch API request line per uncached (conversation, sample); custom_id is the cache key."""
    lines, seen = [], set()
    for conv in convs:
        for k in range(samples):
            key = client.key(conv, k)
            if key in seen or client.cached(conv, k) is not None:
                continue
            seen.add(key)
            body = {"model": client.cfg.model, "messages": conv, **client.sampling}
            if k:  # distinct samples need distinct seeds (the cache key already differs)
                body["seed"] = k
            lines.append({"custom_id": key, "method": "POST", "url": "/v1/chat/completions", "body": body})
    client.cache.hits = client.cache.misses = 0
    return lines


def store_output(client, output_jsonl: str, requests: dict[str, dict], endpoint: Optional[str] = None) -> dict[str, str]:
    """Put every answered line of a batch output file into the cache, under the key its request
    was submitted with, at `endpoint` (default: the client's); charge each answered line. Returns
    {custom_id: error}."""
    endpoint = endpoint or client.endpoint
    errors = {}
    for line in output_jsonl.splitlines():
        if not line.strip():
            continue
        rec = json.loads(line)
        cid, resp = rec.get("custom_id"), rec.get("response") or {}
        body = resp.get("body") or {}
        if rec.get("error") or resp.get("status_code", 200) != 200:
            errors[cid] = json.dumps(rec.get("error") or body.get("error") or {"status_code": resp.get("status_code")})
            continue
        req = requests.get(cid, {}).get("body")
        if req is None:
            errors[cid] = "an answer to a request this batch did not hold"
            continue
        msgs, usage = req["messages"], body.get("usage")
        bound = (max_input_tokens(msgs), req["max_tokens"])
        client.budget.add(usage, client.budget.worst_case(msgs, req["max_tokens"]), bound)  # served: billed
        text = body["choices"][0]["message"].get("content") if body.get("choices") else None
        if text is None:
            errors[cid] = "empty response"
            continue
        sampling = {k: v for k, v in req.items() if k not in ("model", "messages", "seed")}
        sample = req.get("seed", 0)
        if request_key(req["model"], msgs, sampling, sample, endpoint) != cid:
            errors[cid] = "an answer whose request does not match its id (not stored)"
            continue
        client.cache.put(cid, req["model"], req, text, usage, endpoint, request_key(req["model"], msgs, sampling, sample))
    return errors


def within_budget(client, lines: list[dict]) -> tuple[list[dict], list[dict], float]:
    """(lines whose worst case fits the budget, in order; the rest; the amount reserved)."""
    fit, rest, reserved = [], [], 0.0
    for x in lines:
        worst = client.budget.worst_case(x["body"]["messages"], client.cfg.max_tokens)
        if not rest and client.budget.reserve(worst):
            fit.append(x)
            reserved += worst
        else:
            rest.append(x)
    return fit, rest, reserved


def _save(path: Path, state: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(state, indent=1))
    tmp.replace(path)


async def _find(api, token: str):
    """The batch created with this token in its metadata, if the endpoint has it."""
    async for b in api.batches.list(limit=100):
        if (b.metadata or {}).get(TOKEN_KEY) == token:
            return b
    return None


def _submit(client, state: dict, state_path: Path, log) -> None:
    """Upload and create the batch `state` describes, or find the one a crashed run created."""
    if state.get("batch_id"):
        return
    found = client.call(lambda api: _find(api, state["token"])) if state.get("status") == "submitting" else None
    if found is not None:
        log(f"teacher batch: found batch {found.id}, created by an earlier run that stopped before recording it")
        state.update(batch_id=found.id, status="submitted")
        _save(state_path, state)
        return
    state["status"] = "submitting"
    _save(state_path, state)  # from here on, a rerun looks for this batch before it submits one
    if not state.get("input_file_id"):
        with open(state_path.parent / state["input"], "rb") as f:
            upload = client.call(lambda api: api.files.create(file=f, purpose="batch"))
        state["input_file_id"] = upload.id
        _save(state_path, state)

    async def create(api):  # one attempt: a retried create could make a second batch
        return await api.with_options(max_retries=0).batches.create(
            input_file_id=state["input_file_id"], endpoint="/v1/chat/completions", completion_window="24h",
            metadata={TOKEN_KEY: state["token"]})

    try:
        batch = client.call(create)
    except Exception:
        batch = client.call(lambda api: _find(api, state["token"]))  # created, but the reply was lost?
        if batch is None:
            raise
    state.update(batch_id=batch.id, status="submitted")
    _save(state_path, state)


def _collect(client, state: dict, out_dir: Path) -> dict[str, str]:
    """Wait for a submitted batch, put its answers into the cache; return {custom_id: error}."""
    requests = {x["custom_id"]: x for x in map(json.loads, open(out_dir / state["input"]))}
    with tqdm(total=state["requests"], desc=f"batch {state['batch_id']}") as bar:
        while True:
            batch = client.call(lambda api: api.batches.retrieve(state["batch_id"]))
            counts = batch.request_counts
            bar.n = (counts.completed + counts.failed) if counts else 0
            bar.refresh()
            if batch.status in DONE:
                break
            time.sleep(client.cfg.batch_poll_s)
    errors = {}
    for file_id in (batch.output_file_id, batch.error_file_id):
        if file_id:
            text = client.call(lambda api: api.files.content(file_id)).text
            errors.update(store_output(client, text, requests, state.get("endpoint")))
    if batch.status != "completed":
        errors.setdefault("_batch", f"batch ended with status {batch.status}")
    return errors


def _finish(client, path: Path, log, reserved: Optional[float] = None) -> dict[str, str]:
    """Submit (if it is not yet) and collect the batch `path` records; `reserved`: what this process
    reserved for it (None: a batch a stopped run left, whose reservation is taken over if it is on
    this run's ledger). The record is then renamed batch-<id>.json and dropped from the cache."""
    state = json.loads(path.read_text())
    state.setdefault("input", "batch_input.jsonl")  # a batch.json written before tokens
    if reserved is None:
        mine = state.get("ledger") == str(client.budget.ledger) or (
            "ledger" not in state and path.name == "batch.json")  # written before batches named their ledger
        reserved = client.budget.claim(state.get("reserved_usd", 0.0)) if mine else 0.0
    _submit(client, state, path, log)
    errors = _collect(client, state, path.parent)
    client.budget.release(reserved)  # each answered line was charged as it was stored
    path.replace(path.with_name(f"batch-{state['batch_id']}.json"))  # collected: never collected again
    if state.get("token"):
        client.cache.batch_collected(state["token"])
    return errors


def _leftovers(client, own: Path, log) -> list[Path]:
    """The batches to collect before submitting: this folder's, then any other run's on this cache."""
    found = []
    if own.exists():
        state = json.loads(own.read_text())
        if state.get("token") or state.get("batch_id"):  # else nothing was submitted: it is replaced
            found.append(own)
    for token, where in client.cache.pending_batches().items():
        path = Path(where)
        if path.resolve() == own.resolve():
            continue
        if not path.is_file():
            log(f"teacher batch: the record of batch {token[:12]} ({path}) is gone (its folder was removed?); "
                "its requests are submitted again if still missing")
            client.cache.batch_collected(token)
            continue
        log(f"teacher batch: collecting the batch another run left on this cache ({path}) before submitting anything")
        found.append(path)
    return found


def run_batch(client, convs: list[list[dict]], samples: int, out_dir: Path, log=print) -> dict[str, str]:
    """Collect every batch left uncollected on this cache, then submit one for everything still
    uncached that fits the budget, wait for it, cache its answers. Returns {custom_id: error}.
    The cache's lock is held until then (see the module docstring)."""
    out_dir = Path(out_dir)
    own = out_dir / "batch.json"
    errors: dict[str, str] = {}
    with client.cache.sending(log), client.budget.exclusive():
        for path in _leftovers(client, own, log):
            errors.update(_finish(client, path, log))
        lines = batch_lines(client, convs, samples)
        if not lines:
            return errors
        lines, over, reserved = within_budget(client, lines)
        for x in over:
            errors[x["custom_id"]] = (f"budget stopped: {client.budget.why_stopped()}" if client.budget.tripped else
                                      f"budget exhausted ({client.budget.describe()}): not submitted")
        if over:
            log(f"teacher batch: {len(lines)} of {len(lines) + len(over)} requests fit the budget "
                f"(their worst case ${reserved:.4f}); the other {len(over)} are not submitted")
        if not lines:
            return errors
        token = uuid.uuid4().hex
        state = {"token": token, "input": f"batch_input-{token[:12]}.jsonl", "requests": len(lines),
                 "reserved_usd": reserved, "endpoint": client.endpoint, "model": client.cfg.model,
                 "ledger": str(client.budget.ledger), "status": "new", "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        (out_dir / state["input"]).write_text("".join(json.dumps(x) + "\n" for x in lines))
        _save(own, state)
        client.cache.batch_pending(token, own.resolve())
        errors.update(_finish(client, own, log, reserved))
    return errors
