"""OpenAI Batch API mode: one uploaded file of requests, answered within 24 h at half price.

Resumable and never submitted twice: `batch.json` is written *before* anything is uploaded, with
a token that also goes into the batch's metadata, so a rerun after a crash anywhere (even between
creating the batch and recording its id) finds the batch again by its token instead of paying
for a new one. Answers land in the same SQLite cache as online answers, keyed the same way, so the
rest of the stage does not care how they were obtained; a batch left by a run with other params
is still collected (its answers are valid for their own keys) before what is missing is sent.

The budget: the batch's worst case (every line at its input bound and max_tokens) is reserved
before it is submitted, and only the lines that fit are submitted; the others are recorded as
failed with the reason. When the output arrives, the reservation is settled at the reported usage.
"""
from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

from tqdm.auto import tqdm

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


def store_output(client, output_jsonl: str, requests: dict[str, dict]) -> dict[str, str]:
    """Put every answered line of a batch output file into the cache; return {custom_id: error}."""
    errors = {}
    for line in output_jsonl.splitlines():
        if not line.strip():
            continue
        rec = json.loads(line)
        cid, resp = rec.get("custom_id"), rec.get("response") or {}
        body = resp.get("body") or {}
        if rec.get("error") or resp.get("status_code", 200) != 200 or not body.get("choices"):
            errors[cid] = json.dumps(rec.get("error") or body.get("error") or {"status_code": resp.get("status_code")})
            continue
        text = body["choices"][0]["message"].get("content")
        if text is None:
            errors[cid] = "empty response"
            continue
        req = requests.get(cid, {}).get("body")
        if req is None:
            errors[cid] = "an answer to a request this batch did not hold"
            continue
        client.store(req["messages"], req.get("seed", 0), text, body.get("usage"), req)
        client.budget.add(body.get("usage"))
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
    client.budget.release(state.get("reserved_usd", 0.0))  # settled line by line at the reported usage
    errors = {}
    if batch.output_file_id:
        out = client.call(lambda api: api.files.content(batch.output_file_id)).text
        errors.update(store_output(client, out, requests))
    if batch.error_file_id:
        err = client.call(lambda api: api.files.content(batch.error_file_id)).text
        errors.update(store_output(client, err, requests))
    if batch.status != "completed":
        errors.setdefault("_batch", f"batch ended with status {batch.status}")
    return errors


def run_batch(client, convs: list[list[dict]], samples: int, out_dir: Path, log=print) -> dict[str, str]:
    """Collect an earlier batch if one was left, then submit one for everything still uncached
    that fits the budget, wait for it, cache its answers. Returns {custom_id: error}."""
    out_dir = Path(out_dir)
    state_path = out_dir / "batch.json"
    errors: dict[str, str] = {}
    leftover = False
    with client.cache.sending(log):
        if state_path.exists():
            state = json.loads(state_path.read_text())
            state.setdefault("input", "batch_input.jsonl")  # a batch.json written before tokens
            if not state.get("token") and not state.get("batch_id"):
                state = None  # nothing was submitted
        else:
            state = None
        if state is None:
            lines = batch_lines(client, convs, samples)
            if not lines:
                return {}
            lines, over, reserved = within_budget(client, lines)
            for x in over:
                errors[x["custom_id"]] = f"budget exhausted ({client.budget.describe()}): not submitted"
            if over:
                log(f"teacher batch: {len(lines)} of {len(lines) + len(over)} requests fit the budget "
                    f"(their worst case ${reserved:.4f}); the other {len(over)} are not submitted")
            if not lines:
                return errors
            token = uuid.uuid4().hex
            state = {"token": token, "input": f"batch_input-{token[:12]}.jsonl", "requests": len(lines),
                     "reserved_usd": reserved, "status": "new", "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
            (out_dir / state["input"]).write_text("".join(json.dumps(x) + "\n" for x in lines))
            _save(state_path, state)
        else:
            leftover = True
            client.budget.claim(state.get("reserved_usd", 0.0))
        _submit(client, state, state_path, log)
    errors.update(_collect(client, state, out_dir))
    done = out_dir / f"batch-{state['batch_id']}.json"
    state_path.replace(done)  # collected: a rerun submits only what is still missing, if anything
    if leftover:  # an earlier run's batch (perhaps made with other params): now send what is still missing
        missing = batch_lines(client, convs, samples)
        if missing:
            log(f"teacher batch: {len(missing)} requests are not answered by the earlier batch {state['batch_id']}; "
                "submitting them")
            return run_batch(client, convs, samples, out_dir, log)
    return errors
