"""The teacher stage under faults, kills, budgets and dry runs — against a real server on loopback
behind a fault-injecting proxy."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from orca2_kit import tasks
from orca2_kit.config import TeacherConfig
from orca2_kit.teacher import DryRun, run_teacher
from orca2_kit.client.cache import ResponseCache
from tests.faultproxy import FaultProxy

pytestmark = pytest.mark.slow
SMAP = {"arithmetic": "step_by_step", "sentiment": "direct", "weekday": "direct"}


def _items(n):
    return tasks.build_suite(1, list(SMAP), n_train=n, n_dev=1, n_test=1)["train"]


def _cfg(base_url, model, tmp_path, **kw):
    kw = {"max_tokens": 16, "max_concurrency": 4, "timeout_s": 8, "max_retries": 8, **kw}
    return TeacherConfig(kind="openai", base_url=base_url, model=model, api_key_env=None,
                         cache_path=str(tmp_path / "cache.sqlite"), **kw)


def test_thirty_percent_faults_lose_nothing_and_answer_nothing_twice(server, tmp_path):
    items = _items(6)  # 18 requests
    with FaultProxy(server["url"], fault_rate=0.3, seed=3, hang_s=9) as proxy:
        # verify none: this is about transport faults; a 16-token answer cut before its 'Answer:' line
        # would be refused by the reference check and look like a lost request
        df = run_teacher(_cfg(proxy.url + "/v1", server["model"], tmp_path, verify="none"), items, SMAP, tmp_path / "run")
    assert sum(proxy.counts[f] for f in ("429", "500", "timeout")) > 0  # faults were injected
    assert len(df) == len(items)  # none lost: every request has a row
    assert all((a is not None) or r for a, r in zip(df.answer, df.reason))  # answered, or failed with a reason
    answered = df.answer.notna().sum()
    assert answered >= len(items) - 1  # retries with backoff get (nearly) everything through
    # answered once each, counted where a provider counts: the server answered each request once (a
    # fault never reaches it), except one it took longer than the client's 8 s timeout to answer (the
    # client gave up and asked again: that answer was charged, never recorded); every other was recorded
    again = {h: n - 1 for h, n in proxy.forwarded.items() if n > 1}
    assert all(sum(t >= 7.5 for t in proxy.latency[h]) >= n for h, n in again.items()), (again, dict(proxy.latency))
    assert sum(proxy.forwarded.values()) - sum(again.values()) == answered, proxy.forwarded
    assert len(ResponseCache(tmp_path / "cache.sqlite")) == answered and df.id.is_unique


def test_unreachable_endpoint_records_every_failure(tmp_path):
    df = run_teacher(_cfg("http://127.0.0.1:9/v1", "m", tmp_path, max_retries=0), _items(1), SMAP, tmp_path / "r")
    assert df.answer.isna().all() and df.reason.str.contains("Connection").all()


def test_dry_run_sends_nothing_and_prints_the_plan(server, tmp_path, capsys):
    cfg = _cfg(server["base_url"], server["model"], tmp_path, dry_run=True, price_input_per_mtok=2.5,
               price_output_per_mtok=10.0)
    with pytest.raises(DryRun, match="nothing was sent"):
        run_teacher(cfg, _items(2), SMAP, tmp_path / "run")
    plan = json.loads((tmp_path / "run" / "plan.json").read_text())
    assert plan["requests"] == 6 and plan["est_cost_usd_max"] > 0
    assert "teacher plan: 6 requests" in capsys.readouterr().out
    assert len(ResponseCache(tmp_path / "cache.sqlite")) == 0


def test_budget_cap_stops_cleanly_and_keeps_what_was_received(server, tmp_path):
    # a price so high that the first answers exhaust the budget: a cap of 1.5 worst cases (a request is
    # sent only if its worst case fits beside what was spent)
    from orca2_kit.teacher import teacher_requests
    from orca2_kit.client.limits import max_input_tokens

    worst = max(max_input_tokens(r["messages"]) + 16 for r in teacher_requests(_items(3), SMAP)) * 1e4 / 1e6
    cfg = _cfg(server["base_url"], server["model"], tmp_path, max_concurrency=1, price_input_per_mtok=1e4,
               price_output_per_mtok=1e4, budget_usd=1.5 * worst,
               timeout_s=600)  # a timed-out attempt may have been billed: it counts whole, so none here
    df = run_teacher(cfg, _items(3), SMAP, tmp_path / "run")
    stopped = df.reason.str.startswith("budget exhausted")
    assert stopped.any() and df.answer.notna().any()
    assert len(ResponseCache(tmp_path / "cache.sqlite")) == df.answer.notna().sum()
    # raising the budget and rerunning pays only for what is missing
    more = run_teacher(cfg.model_copy(update={"budget_usd": None}), _items(3), SMAP, tmp_path / "run2")
    stats = json.loads((tmp_path / "run2" / "teacher_stats.json").read_text())
    assert more.answer.notna().all() and stats["requests_sent"] == int(stopped.sum())


KILL_SCRIPT = """
import sys
from orca2_kit import tasks
from orca2_kit.config import TeacherConfig
from orca2_kit.teacher import run_teacher
smap = {"arithmetic": "step_by_step", "sentiment": "direct", "weekday": "direct"}
items = tasks.build_suite(2, list(smap), n_train=8, n_dev=1, n_test=1)["train"]
cfg = TeacherConfig(kind="openai", base_url=sys.argv[1], model=sys.argv[2], api_key_env=None, max_tokens=48,
                    max_concurrency=2, cache_path=sys.argv[3])
run_teacher(cfg, items, smap, sys.argv[4])
"""


def test_killed_stage_repeats_no_answered_request(server, tmp_path):
    cache = tmp_path / "cache.sqlite"
    with FaultProxy(server["url"], fault_rate=0.0) as proxy:
        args = [proxy.url + "/v1", server["model"], str(cache), str(tmp_path / "a")]
        proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, *args], start_new_session=True,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 300
        while time.time() < deadline and (not cache.exists() or len(ResponseCache(cache)) < 4):
            time.sleep(0.3)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        done = len(ResponseCache(cache))
        assert 4 <= done < 24, "the kill should land midway"
        r = subprocess.run([sys.executable, "-c", KILL_SCRIPT, *args[:3], str(tmp_path / "b")], capture_output=True,
                           text=True, timeout=600)
        assert r.returncode == 0, r.stderr[-2000:]
    stats = json.loads((tmp_path / "b" / "teacher_stats.json").read_text())
    assert stats["requests_sent"] == 24 - done and stats["cache_hits"] == done
    # only the (at most 2) requests in flight at the kill, never recorded, were asked again
    assert sum(v - 1 for v in proxy.forwarded.values()) <= 2


def test_replay_only_reproduces_notebook_02_with_no_endpoint(server, tmp_path):
    """A cache made by a real teacher run, exported, then replayed by a fresh run: no endpoint, no key."""
    from tests.conftest import run_cli

    def sets(*kv):
        return [x for pair in kv for x in ("--set", pair)]

    teacher = sets("teacher.kind=openai", f"teacher.base_url={server['base_url']}", f"teacher.model={server['model']}",
                   "teacher.api_key_env=null", "teacher.max_tokens=24")
    r = run_cli("run", "--profile", "smoke", "--out", str(tmp_path), "--run-id", "live", "--only", "01", *teacher)
    assert r.returncode == 0, r.stderr[-2000:]
    live = tmp_path / "smoke" / "live"
    r = run_cli("run", "--resume", str(live), "--only", "02")
    assert r.returncode == 0, r.stderr[-2000:]
    exported = ResponseCache(tmp_path / "smoke" / "teacher_cache.sqlite").export(tmp_path / "handout.sqlite")

    replay = sets("teacher.kind=openai", "teacher.base_url=http://127.0.0.1:9/v1", f"teacher.model={server['model']}",
                  "teacher.api_key_env=null", "teacher.max_tokens=24", "teacher.replay_only=true",
                  f"teacher.cache_path={exported}")
    r = run_cli("run", "--profile", "smoke", "--out", str(tmp_path), "--run-id", "replay", "--only", "01", *replay)
    assert r.returncode == 0, r.stderr[-2000:]
    r = run_cli("run", "--resume", str(tmp_path / "smoke" / "replay"), "--only", "02")
    assert r.returncode == 0, r.stderr[-2000:]
    a = [json.loads(x) for x in open(live / "02_teacher_prompting" / "answers.jsonl")]
    b = [json.loads(x) for x in open(tmp_path / "smoke" / "replay" / "02_teacher_prompting" / "answers.jsonl")]
    assert [x["answer"] for x in a] == [x["answer"] for x in b] and all(x["answer"] for x in b)
    stats = json.loads((tmp_path / "smoke" / "replay" / "02_teacher_prompting" / "teacher_stats.json").read_text())
    assert stats["requests_sent"] == 0 and stats["cache_hits"] == len(b)
