"""The teacher client against a real OpenAI-compatible server: `transformers serve` on loopback
with the embedded SmolLM2 model (no fakes)."""
import pytest

from orca2_kit import tasks
from orca2_kit.config import TeacherConfig
from orca2_kit.teacher import run_teacher
from orca2_kit.client.cache import ResponseCache
from orca2_kit.client.chat_client import TeacherClient

pytestmark = pytest.mark.slow


def _cfg(server, tmp_path, **kw):
    return TeacherConfig(kind="openai", base_url=server["base_url"], model=server["model"], api_key_env=None,
                         max_tokens=24, max_concurrency=4, cache_path=str(tmp_path / "cache.sqlite"), **kw)


def test_teacher_stage_against_a_real_server_then_rerun_makes_zero_requests(server, tmp_path):
    items = tasks.build_suite(0, ["arithmetic", "sentiment"], n_train=2, n_dev=1, n_test=1)["train"]
    smap = {"arithmetic": "step_by_step", "sentiment": "direct"}
    first = run_teacher(_cfg(server, tmp_path), items, smap, tmp_path / "a")
    stats = (tmp_path / "a" / "teacher_stats.json").read_text()
    assert '"requests_sent": 4' in stats and first.answer.notna().all()
    assert set(first.columns) >= {"accepted", "reason", "instruction_hash"}
    again = run_teacher(_cfg(server, tmp_path), items, smap, tmp_path / "b")
    assert '"requests_sent": 0' in (tmp_path / "b" / "teacher_stats.json").read_text()
    assert list(again.answer) == list(first.answer)
    # Replay-only: the same answers from the cache file alone, no endpoint, no key.
    replay = run_teacher(_cfg(server, tmp_path, replay_only=True).model_copy(update={"base_url": "http://127.0.0.1:9"}),
                         items, smap, tmp_path / "c")
    assert list(replay.answer) == list(first.answer)


def test_n_samples_are_cached_separately(server, tmp_path):
    cache = ResponseCache(tmp_path / "s.sqlite")
    client = TeacherClient(_cfg(server, tmp_path, temperature=0.8), cache)
    replies = client.complete([[{"role": "user", "content": "Name a colour."}]], samples=3)
    assert len(replies[0]) == 3 and all(r.text for r in replies[0]) and len(cache) == 3
    assert client.requests_sent == 3


def test_replay_only_miss_is_a_clear_error(tmp_path):
    cfg = TeacherConfig(kind="openai", model="m", api_key_env=None, replay_only=True)
    client = TeacherClient(cfg, ResponseCache(tmp_path / "empty.sqlite"))
    r = client.complete([[{"role": "user", "content": "hi"}]])[0][0]
    assert r.text is None and "cache miss" in r.error


def test_cache_export_and_import(tmp_path):
    a = ResponseCache(tmp_path / "a.sqlite")
    a.put("k1", "m", {"x": 1}, "one")
    b = ResponseCache(tmp_path / "b.sqlite")
    assert b.import_from(a.export(tmp_path / "export.sqlite")) == 1 and b.get("k1") == "one"


def test_multi_call_workflows(server, tmp_path):
    items = tasks.build_suite(0, ["sentiment"], n_train=2, n_dev=1, n_test=1)["train"]
    smap = {"sentiment": "direct"}
    refined = run_teacher(_cfg(server, tmp_path, workflow="draft_refine"), items, smap, tmp_path / "r")
    stats = (tmp_path / "r" / "teacher_stats.json").read_text()
    assert '"requests_sent": 4' in stats and refined.draft.notna().all() and refined.answer.notna().all()
    sampled = run_teacher(_cfg(server, tmp_path, workflow="sample_k", samples=3, temperature=0.9), items, smap,
                          tmp_path / "s")
    assert len(sampled) == 6 and sorted(sampled["sample"].unique()) == [0, 1, 2]
    assert set(sampled.reason[~sampled.accepted]) <= {"no 'Answer:' line"} | {r for r in sampled.reason if r.startswith("wrong")}
