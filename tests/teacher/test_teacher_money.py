"""A researcher's money is safe (issue 17): a budget cap that holds at any concurrency, in batch
mode too; identical requests sent once; two runs on one cache paying once; a batch never submitted
twice, even after a crash between creating it and recording it; answers never replayed across
endpoints; Ctrl-C cancels what is in flight. Against the real `transformers serve` behind the fault
proxy, which counts what was really sent and the usage a provider would bill."""
import _thread
import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import pytest

from orca2_kit import tasks
from orca2_kit.config import TeacherConfig
from orca2_kit.teacher import REFINE_PROMPT, run_teacher, teacher_requests
from orca2_kit.client.cache import ResponseCache, request_key
from orca2_kit.client.chat_client import TeacherClient, _run_sync
from orca2_kit.client.limits import max_input_tokens
from tests.batchapi import BatchAPI
from tests.conftest import ROOT
from tests.faultproxy import FaultProxy

SMAP = {"arithmetic": "step_by_step", "sentiment": "direct", "weekday": "direct"}


def _items(n, seed=1):
    return tasks.build_suite(seed, list(SMAP), n_train=n, n_dev=1, n_test=1)["train"]


def _cfg(base_url, model, cache, **kw):
    kw = {"max_tokens": 8, "max_concurrency": 8, "timeout_s": 300, "max_retries": 2, **kw}
    return TeacherConfig(kind="openai", base_url=base_url, model=model, api_key_env=None, cache_path=str(cache), **kw)


def _posts(proxy) -> int:
    return sum(proxy.counts.values())


# --------------------------------------------------------------------------- budget


@pytest.mark.slow
def test_budget_is_never_exceeded_at_concurrency_8(server, tmp_path):
    """Prices that make the output the whole cost (the model writes its max_tokens), a cap of 3.5
    worst cases, 12 requests at concurrency 8: what the server really answered, priced at the usage
    it reported, stays under the cap. (Checking the cap before sending and counting on arrival let
    all 8 first requests out: 8 worst cases.)"""
    price_in, price_out = 1e-6, 1e5  # USD per million tokens: 0.1 USD per output token
    worst = (max_input_tokens(teacher_requests(_items(4), SMAP)[0]["messages"]) * price_in + 8 * price_out) / 1e6
    cap = 3.5 * worst
    with FaultProxy(server["url"], fault_rate=0.0) as proxy:
        cfg = _cfg(proxy.url + "/v1", server["model"], tmp_path / "c.sqlite", price_input_per_mtok=price_in,
                   price_output_per_mtok=price_out, budget_usd=cap)
        df = run_teacher(cfg, _items(4), SMAP, tmp_path / "run")
        billed = sum(((u.get("prompt_tokens") or 0) * price_in + (u.get("completion_tokens") or 0) * price_out) / 1e6
                     for u in proxy.usage)
        assert len(proxy.usage) == _posts(proxy) >= 1, "every request sent was answered (nothing in flight was lost)"
        assert billed <= cap, f"spent ${billed:.4f} past the cap ${cap:.4f} ({len(proxy.usage)} answers)"
        assert df.reason.str.startswith("budget exhausted").sum() == len(df) - len(proxy.usage)
        stats = json.loads((tmp_path / "run" / "teacher_stats.json").read_text())
        assert stats["spent_usd"] == pytest.approx(billed, rel=1e-6)  # the budget counted what was billed
        # a rerun in the same run folder continues from what was spent: the cap holds across reruns
        # (checked while the proxy still counts: a rerun that forgot the spend would send more)
        sent = _posts(proxy)
        again = run_teacher(cfg, _items(4), SMAP, tmp_path / "run")
        assert _posts(proxy) == sent and again.answer.notna().sum() == len(proxy.usage)


def test_plan_counts_draft_refine_second_round(tmp_path):
    """The plan counts both rounds of draft_refine, the second with its longer input (the draft)."""
    reqs = teacher_requests(_items(2), SMAP)
    convs = [r["messages"] for r in reqs]
    cfg = TeacherConfig(kind="openai", base_url="http://127.0.0.1:9/v1", model="m", api_key_env=None, max_tokens=100,
                        price_input_per_mtok=1.0, price_output_per_mtok=2.0, workflow="draft_refine")
    client = TeacherClient(cfg, ResponseCache(tmp_path / "c.sqlite"))
    single = client.plan(convs, 1)
    both = client.plan(convs, 1, REFINE_PROMPT)
    assert both["requests"] == 2 * single["requests"] == 2 * len(convs) and both["refine_requests"] == len(convs)
    # each refine input holds the original conversation, a draft of up to max_tokens, and the refine prompt
    assert both["max_input_tokens"] > 2 * single["max_input_tokens"] + len(convs) * 100
    assert both["est_cost_usd_max"] > 2 * single["est_cost_usd_max"]
    # a cached draft makes its refine request exact: its key is known, and it is checked in the cache
    client.store(convs[0], 0, "Answer: 1", None, {})
    refine0 = convs[0] + [{"role": "assistant", "content": "Answer: 1"}, {"role": "user", "content": REFINE_PROMPT}]
    client.store(refine0, 0, "Answer: 1", None, {})
    assert client.plan(convs, 1, REFINE_PROMPT)["requests"] == both["requests"] - 2


# --------------------------------------------------------------------------- duplicates


@pytest.mark.slow
def test_identical_requests_in_one_run_are_sent_once(server, tmp_path):
    items = _items(2)
    twice = items + items  # every task twice, as a collection with duplicate rows would have it
    with FaultProxy(server["url"], fault_rate=0.0) as proxy:
        df = run_teacher(_cfg(proxy.url + "/v1", server["model"], tmp_path / "c.sqlite"), twice, SMAP, tmp_path / "r")
    assert _posts(proxy) == len(items) and set(proxy.forwarded.values()) == {1}
    assert df.answer.notna().all() and list(df.answer[:len(items)]) == list(df.answer[len(items):])


@pytest.mark.slow
def test_two_concurrent_runs_on_one_cache_pay_once(server, tmp_path):
    """Two processes answer the same tasks through one cache file at the same time: the second
    waits for the first (the cache's lock) and reads its answers; each request is sent once."""
    script = ("import sys\nfrom orca2_kit.config import TeacherConfig\nfrom orca2_kit.teacher import run_teacher\n"
              "from tests.teacher.test_teacher_money import SMAP, _items, _cfg\n"
              "run_teacher(_cfg(sys.argv[1], sys.argv[2], sys.argv[3], max_concurrency=2), _items(2), SMAP, sys.argv[4])\n")
    cache = tmp_path / "shared.sqlite"
    with FaultProxy(server["url"], fault_rate=0.0, delay_s=0.5) as proxy:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        procs = [subprocess.Popen([sys.executable, "-c", script, proxy.url + "/v1", server["model"], str(cache),
                                   str(tmp_path / name)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True) for name in ("a", "b")]
        logs = [p.communicate(timeout=600)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), logs
    stats = [json.loads((tmp_path / n / "teacher_stats.json").read_text()) for n in ("a", "b")]
    assert _posts(proxy) == 6 and set(proxy.forwarded.values()) == {1}, proxy.forwarded  # 6 distinct requests, once
    assert sorted(s["requests_sent"] for s in stats) == [0, 6] and any("waiting for pid" in x for x in logs)


def _open_and_store(path, go):
    go.wait()
    try:
        ResponseCache(path).put(f"k{os.getpid()}", "m", {}, "x")
        return None
    except Exception as e:  # noqa: BLE001 — reported to the test
        return repr(e)


def test_processes_opening_a_new_cache_at_once_all_get_it(tmp_path):
    """Seen in CI: two runs starting on one new cache; SQLite's switch to WAL does not always wait for
    the other process ("database is locked"), so one run died before sending anything."""
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    errors = []
    with ctx.Manager() as manager, ctx.Pool(4) as pool:
        for trial in range(10):
            go = manager.Event()
            path = tmp_path / f"c{trial}.sqlite"
            pending = [pool.apply_async(_open_and_store, (path, go)) for _ in range(4)]
            time.sleep(0.2)
            go.set()
            errors += [e for e in (r.get(timeout=120) for r in pending) if e]
            assert errors or len(ResponseCache(path)) == 4
    assert not errors, errors[:3]


# --------------------------------------------------------------------------- endpoints in the key


def test_an_answer_is_never_replayed_for_another_endpoint(tmp_path):
    """The same model name on another server is asked again, not answered from the cache; a
    replay-only run (a workshop, which has no endpoint) still finds the answer."""
    msgs = [{"role": "user", "content": "What is 2+2?"}]
    cache = ResponseCache(tmp_path / "c.sqlite")
    a = TeacherClient(_cfg("http://127.0.0.1:8001/v1", "m", cache.path, max_retries=0), cache)
    a.store(msgs, 0, "Answer: 4", None, {"messages": msgs})
    assert a.complete([msgs])[0][0].text == "Answer: 4"  # same endpoint (spelled the same): replayed
    assert TeacherClient(_cfg("HTTP://127.0.0.1:8001/v1/", "m", cache.path), cache).complete([msgs])[0][0].cached
    other = TeacherClient(_cfg("http://127.0.0.1:9/v1", "m", cache.path, max_retries=0), cache).complete([msgs])[0][0]
    assert other.text is None and "Connection" in other.error  # it really tried to send to the other server
    replay = TeacherClient(_cfg(None, "m", cache.path, replay_only=True), cache).complete([msgs])[0][0]
    assert replay.text == "Answer: 4"


def test_a_cache_from_before_endpoint_keys_is_replayed_only_where_safe(tmp_path):
    """Old caches keyed (model, messages, sampling, sample): replay-only (old workshop bundles)
    still reads them; a live run does not trust them until `adopt` says which server gave them."""
    msgs = [{"role": "user", "content": "hi"}]
    sampling = {"temperature": 0.0, "max_tokens": 8}
    old = sqlite3.connect(tmp_path / "old.sqlite")
    old.execute("CREATE TABLE responses (key TEXT PRIMARY KEY, model TEXT, request TEXT, response TEXT, usage TEXT, "
                "created REAL)")
    old.execute("INSERT INTO responses VALUES (?,?,?,?,?,?)", (request_key("m", msgs, sampling, 0), "m",
                json.dumps({"messages": msgs, **sampling, "sample": 0}), "hello", "{}", 0.0))
    old.commit()
    old.close()
    cache = ResponseCache(tmp_path / "old.sqlite")  # migrated in place
    assert TeacherClient(_cfg(None, "m", cache.path, replay_only=True), cache).complete([msgs])[0][0].text == "hello"
    live = _cfg("http://127.0.0.1:9/v1", "m", cache.path, max_retries=0)
    assert TeacherClient(live, cache).complete([msgs])[0][0].text is None
    assert cache.adopt("http://127.0.0.1:9/v1") == 1
    assert TeacherClient(live, cache).complete([msgs])[0][0].text == "hello"
    merged = ResponseCache(tmp_path / "new.sqlite")  # an old cache file merges into a new one
    old2 = sqlite3.connect(tmp_path / "old2.sqlite")
    old2.execute("CREATE TABLE responses (key TEXT PRIMARY KEY, model TEXT, request TEXT, response TEXT, usage TEXT, "
                 "created REAL)")
    old2.execute("INSERT INTO responses VALUES ('k', 'm', '{}', 'x', '{}', 0)")
    old2.commit()
    old2.close()
    assert merged.import_from(tmp_path / "old2.sqlite") == 1


# --------------------------------------------------------------------------- batch mode


BATCH_SCRIPT = """
import sys
from tests.teacher.test_teacher_money import SMAP, _items, _cfg
from orca2_kit.teacher import run_teacher
cfg = _cfg(sys.argv[1], sys.argv[2], sys.argv[3], mode="batch", batch_poll_s=0.2)
run_teacher(cfg, _items(int(sys.argv[5])), SMAP, sys.argv[4])
"""


@pytest.mark.slow
def test_a_batch_created_before_a_crash_is_found_again_not_submitted_twice(server, tmp_path):
    """The client is killed after the Batch API created the batch and before it heard the batch's
    id. The rerun finds the batch by the token in its metadata, collects it, and submits only the
    requests it did not hold (the rerun asks for more tasks)."""
    out, cache = tmp_path / "run", tmp_path / "c.sqlite"
    with BatchAPI(server["base_url"], create_delay_s=600) as api:
        args = [sys.executable, "-c", BATCH_SCRIPT, api.url, server["model"], str(cache), str(out)]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen(args + ["1"], cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        deadline = time.time() + 120
        while not api.batches and time.time() < deadline and proc.poll() is None:
            time.sleep(0.1)
        assert api.batches, "the batch was never created"
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        assert not list(out.glob("batch-*.json"))  # it never heard back: the batch is recorded as 'submitting'
        api.create_delay_s = 0
        r = subprocess.run(args + ["2"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr[-3000:]
    first, *rest = api.lines.values()
    assert len(first) == 3 and len(rest) == 1 and len(rest[0]) == 3  # 3 tasks, then only the 3 new ones
    ids = [x["custom_id"] for lines in api.lines.values() for x in lines]
    assert len(ids) == len(set(ids))  # no request in two batches
    assert "found batch batch-1" in r.stdout + r.stderr
    df = [json.loads(x) for x in open(out / "answers.jsonl")]
    assert len(df) == 6 and all(x["answer"] for x in df)


@pytest.mark.slow
def test_batch_mode_submits_only_what_fits_the_budget(server, tmp_path):
    price_in, price_out = 1e-6, 1e5
    items = _items(2)
    worst = max(max_input_tokens(r["messages"]) * price_in + 8 * price_out for r in teacher_requests(items, SMAP)) / 1e6
    cap = 3.5 * worst
    with BatchAPI(server["base_url"]) as api:
        cfg = _cfg(api.url, server["model"], tmp_path / "c.sqlite", mode="batch", batch_poll_s=0.2,
                   price_input_per_mtok=price_in, price_output_per_mtok=price_out, budget_usd=cap)
        df = run_teacher(cfg, items, SMAP, tmp_path / "run")
    (lines,) = api.lines.values()
    assert len(lines) == 3  # 3 of the 6 requests fit 3.5 worst cases
    out = [json.loads(x) for x in api.files["file-2"].decode().splitlines()]
    billed = sum((x["response"]["body"]["usage"]["prompt_tokens"] * price_in
                  + x["response"]["body"]["usage"]["completion_tokens"] * price_out) / 1e6 for x in out)
    assert billed <= cap and df.answer.notna().sum() == 3
    assert df.reason.str.contains("budget exhausted").sum() == 3


# --------------------------------------------------------------------------- interrupts


def test_an_interrupt_inside_jupyter_cancels_the_requests_in_flight():
    """In a Jupyter kernel an event loop already runs, so the teacher's loop runs in a worker
    thread; Ctrl-C lands in the kernel's thread. It must cancel the worker's requests, and wait
    until they have stopped, before the cell ends."""
    seen = {"cancelled": False, "finished": False}

    async def requests_in_flight():
        try:
            await asyncio.sleep(20)  # a request waiting for its answer
        except asyncio.CancelledError:
            seen["cancelled"] = True
            raise
        finally:
            seen["finished"] = True

    async def cell():  # what a notebook cell is: synchronous code under a running loop
        threading.Timer(0.5, _thread.interrupt_main).start()  # the user presses the stop button
        t0 = time.time()
        with pytest.raises(KeyboardInterrupt):
            _run_sync(requests_in_flight())
        return time.time() - t0

    def like_ipykernel(signum, frame):  # the kernel turns SIGINT into KeyboardInterrupt in the cell's thread
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGINT, like_ipykernel)
    try:
        took = asyncio.run(cell())
    finally:
        signal.signal(signal.SIGINT, old)
    assert seen == {"cancelled": True, "finished": True} and took < 5
