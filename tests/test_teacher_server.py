"""The teacher client against a real OpenAI-compatible server: `transformers serve` on loopback
with the embedded SmolLM2 model (no fakes)."""
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from orca2_kit import tasks
from orca2_kit.config import TeacherConfig
from orca2_kit.teacher import run_teacher
from orca2_kit.teacher.cache import ResponseCache
from orca2_kit.teacher.client import TeacherClient

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(smollm2_dir, tmp_path_factory):
    port = _free_port()
    log = open(tmp_path_factory.mktemp("serve") / "serve.log", "w")
    cli = [sys.executable, "-c", "from transformers.cli.transformers import main; main()"]
    proc = subprocess.Popen(cli + ["serve", str(smollm2_dir), "--host", "127.0.0.1", "--port", str(port),
                                   "--device", "cpu"], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 180
    while time.time() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"transformers serve exited: see {log.name}")
        try:
            urllib.request.urlopen(url + "/health", timeout=2)
            break
        except OSError:
            time.sleep(1)
    else:
        proc.kill()
        pytest.fail("transformers serve did not come up in 180 s")
    yield {"base_url": url + "/v1", "model": str(smollm2_dir)}
    proc.terminate()
    proc.wait(30)


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
