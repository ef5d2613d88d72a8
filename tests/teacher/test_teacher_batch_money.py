"""Batch mode's money and cache (issue 29): a batch is stored under the params it was submitted with;
while a batch is out no other run on its cache submits the same requests (it waits, or collects
the batch a stopped run left); a line without usage is charged its worst case. Against the Batch
API stand-in (tests/batchapi.py) over the real `transformers serve`, which records every batch."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from orca2_kit.client.cache import ResponseCache, normalise_endpoint, request_key
from orca2_kit.client.limits import max_input_tokens
from orca2_kit.teacher import run_teacher, teacher_requests
from tests.batchapi import BatchAPI
from tests.conftest import ROOT
from tests.teacher.test_teacher_money import SMAP, _cfg, _items

pytestmark = pytest.mark.slow

SCRIPT = """
import sys
from tests.teacher.test_teacher_money import SMAP, _items, _cfg
from orca2_kit.teacher import run_teacher
cfg = _cfg(sys.argv[1], sys.argv[2], sys.argv[3], mode="batch", batch_poll_s=0.2, max_tokens=int(sys.argv[5]))
run_teacher(cfg, _items(1), SMAP, sys.argv[4])
"""
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def _start(api, server, cache, out, max_tokens=8, log=None):
    return subprocess.Popen([sys.executable, "-c", SCRIPT, api.url, server["model"], str(cache), str(out), str(max_tokens)],
                            cwd=ROOT, env=ENV, start_new_session=True, stdout=log or subprocess.DEVNULL,
                            stderr=subprocess.STDOUT if log else subprocess.DEVNULL, text=True)


def _submitted(out, proc, timeout=300):
    """Wait until the run in `out` has recorded its batch's id (it then waits for the batch)."""
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        state = out / "batch.json"
        if state.is_file() and json.loads(state.read_text()).get("batch_id"):
            return
        time.sleep(0.1)
    raise AssertionError(f"the batch was never recorded as submitted (exit {proc.poll()})")


def _kill(proc):
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _answered(out) -> list:
    return [json.loads(x)["answer"] for x in open(out / "answers.jsonl")]


def test_a_leftover_batch_is_stored_under_the_params_it_was_submitted_with(server, tmp_path):
    """A run submits a batch with max_tokens 8 and stops; the rerun, with max_tokens 12, collects it.
    Its answers are 8-token answers: they are stored under the 8-token requests, and the 12-token
    requests are submitted in a batch of their own (they were stored as the 12-token answers)."""
    out, cache = tmp_path / "run", tmp_path / "c.sqlite"
    with BatchAPI(server["base_url"]) as api:
        api.gate.clear()  # the batch stays in progress until the first run is gone
        first = _start(api, server, cache, out, max_tokens=8)
        _submitted(out, first)
        _kill(first)
        api.gate.set()
        r = subprocess.run([sys.executable, "-c", SCRIPT, api.url, server["model"], str(cache), str(out), "12"],
                           cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr[-3000:]
    one, two = api.lines.values()
    assert [x["body"]["max_tokens"] for x in one] == [8] * 3 and [x["body"]["max_tokens"] for x in two] == [12] * 3
    rows = ResponseCache(cache)
    endpoint = normalise_endpoint(api.url)
    for x in one:  # each 8-token answer under its 8-token key
        body = x["body"]
        key = request_key(body["model"], body["messages"], {"temperature": 0.0, "max_tokens": 8}, 0, endpoint)
        assert key == x["custom_id"] and rows.get(key) is not None
    assert len(rows) == 6 and all(_answered(out))


def test_a_second_run_while_a_batch_is_out_waits_and_submits_nothing_again(server, tmp_path):
    """Run A's batch is out (24 h at worst); run B, another run folder on the same cache, starts.
    B waits for A's lock instead of submitting the same requests, then finds A's answers."""
    cache = tmp_path / "c.sqlite"
    with BatchAPI(server["base_url"]) as api:
        api.gate.clear()
        a = _start(api, server, cache, tmp_path / "a")
        _submitted(tmp_path / "a", a)
        with open(tmp_path / "b.log", "w") as log:
            b = _start(api, server, cache, tmp_path / "b", log=log)
            time.sleep(8)  # B is up and at the cache's lock
            assert b.poll() is None and len(api.batches) == 1
            api.gate.set()
            assert a.wait(300) == 0 and b.wait(300) == 0, (tmp_path / "b.log").read_text()[-3000:]
    assert len(api.batches) == 1 and "waiting for pid" in (tmp_path / "b.log").read_text()
    assert all(_answered(tmp_path / "a")) and _answered(tmp_path / "b") == _answered(tmp_path / "a")


def test_a_batch_left_by_a_stopped_run_is_collected_by_the_next_run_not_submitted_again(server, tmp_path):
    """Run A submits its batch and is stopped while it is out; run B, another run folder on the
    same cache, collects A's batch (recorded in the cache) instead of paying for the same requests."""
    cache = tmp_path / "c.sqlite"
    with BatchAPI(server["base_url"]) as api:
        api.gate.clear()
        a = _start(api, server, cache, tmp_path / "a")
        _submitted(tmp_path / "a", a)
        _kill(a)
        api.gate.set()
        r = subprocess.run([sys.executable, "-c", SCRIPT, api.url, server["model"], str(cache), str(tmp_path / "b"), "8"],
                           cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr[-3000:]
    assert len(api.batches) == 1 and "collecting the batch another run left" in r.stdout + r.stderr
    assert all(_answered(tmp_path / "b")) and not (tmp_path / "a" / "batch.json").exists()
    assert list((tmp_path / "a").glob("batch-batch-1.json"))  # collected: A's rerun will not collect it again


def test_a_batch_line_without_usage_is_charged_its_worst_case(server, tmp_path):
    """The batch's output lines carry no usage: each answered line is charged its worst case (it was
    served, so it is billed), not $0 once the batch's reservation is released."""
    price_in, price_out = 1e-6, 1e5
    items = _items(1)
    worst = [(max_input_tokens(r["messages"]) * price_in + 8 * price_out) / 1e6 for r in teacher_requests(items, SMAP)]
    with BatchAPI(server["base_url"], strip_usage=True) as api:
        cfg = _cfg(api.url, server["model"], tmp_path / "c.sqlite", mode="batch", batch_poll_s=0.2,
                   price_input_per_mtok=price_in, price_output_per_mtok=price_out, budget_usd=100.0)
        df = run_teacher(cfg, items, SMAP, tmp_path / "run")
    billed = sum((u["prompt_tokens"] * price_in + u["completion_tokens"] * price_out) / 1e6 for u in api.usage)
    spend = json.loads((tmp_path / "run" / "spend.json").read_text())
    assert df.answer.notna().all() and billed > 0
    assert spend["spent_usd"] == pytest.approx(sum(worst), rel=1e-12) and spend["reserved_usd"] == 0
    assert spend["spent_usd"] >= billed
