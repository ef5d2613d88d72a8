"""OpenAI Batch API mode: one uploaded file of requests, answered within 24 h at half price.

Resumable: the batch id is saved next to the stage's outputs, so rerunning the stage polls the
same batch instead of paying for a new one. Answers land in the same SQLite cache as online
answers, keyed the same way, so the rest of the stage does not care how they were obtained.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

from tqdm.auto import tqdm

DONE = {"completed", "failed", "expired", "cancelled"}


def batch_lines(client, convs: list[list[dict]], samples: int) -> list[dict]:
    """One Batch API request line per uncached (conversation, sample); custom_id is the cache key."""
    lines, seen = [], set()
    for conv in convs:
        for k in range(samples):
            key = client.key(conv, k)
            if key in seen or client.cache.get(key) is not None:
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
        req = requests.get(cid, {}).get("body", {})
        client.cache.put(cid, client.cfg.model, req, text, body.get("usage"))
        client.budget.add(body.get("usage"))
    return errors


def run_batch(client, convs: list[list[dict]], samples: int, out_dir: Path) -> dict[str, str]:
    """Submit (or resume) a batch for everything uncached, wait for it, cache its answers."""
    out_dir = Path(out_dir)
    state_path = out_dir / "batch.json"
    if state_path.exists():
        state = json.loads(state_path.read_text())
    else:
        lines = batch_lines(client, convs, samples)
        if not lines:
            return {}
        src = out_dir / "batch_input.jsonl"
        src.write_text("".join(json.dumps(x) + "\n" for x in lines))
        with open(src, "rb") as f:
            upload = client.call(lambda api: api.files.create(file=f, purpose="batch"))
        batch = client.call(lambda api: api.batches.create(input_file_id=upload.id, endpoint="/v1/chat/completions",
                                                           completion_window="24h"))
        state = {"batch_id": batch.id, "input_file_id": upload.id, "requests": len(lines)}
        state_path.write_text(json.dumps(state))  # from here on, a rerun resumes this batch
    requests = {x["custom_id"]: x for x in map(json.loads, open(out_dir / "batch_input.jsonl"))}
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
    if batch.output_file_id:
        out = client.call(lambda api: api.files.content(batch.output_file_id)).text
        errors.update(store_output(client, out, requests))
    if batch.error_file_id:
        err = client.call(lambda api: api.files.content(batch.error_file_id)).text
        errors.update(store_output(client, err, requests))
    if batch.status != "completed":
        errors.setdefault("_batch", f"batch ended with status {batch.status}")
    return errors
