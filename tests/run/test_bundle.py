"""Workshop bundles, for real: a local LLM teacher (`transformers serve` of SmolLM2) answers the
smoke profile's training tasks; the run is bundled; a fresh clone of the repository unbundles it
and runs the whole pipeline with no network (its own network namespace where the kernel allows
one), replaying the teacher's answers from the cache; its report opens in headless Chromium with
every figure rendered (only that last test needs a browser; without one it skips, saying so). (SmolLM2-135M as a teacher rarely writes the 'Answer:' line that
verification needs, so the teacher keeps its answers unverified: `teacher.verify: none`.)"""
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pandas as pd
import pytest

from tests.browser import chromium_or_skip, open_page
from tests.conftest import ROOT, run_cli

pytestmark = pytest.mark.slow


def checkout(dest: Path):
    """A fresh clone of the repository's HEAD and a way to run its CLI (as on another machine)."""
    subprocess.run(["git", "clone", "-q", str(ROOT), str(dest)], check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI", "ORCA2_", "HF_"))}
    env.update(PYTHONPATH=str(dest), ORCA2_CACHE=os.environ.get("ORCA2_CACHE", ""), MPLBACKEND="Agg")

    def cli(*args, prefix=(), **extra):
        return subprocess.run([*prefix, sys.executable, "-m", "orca2_kit", *args], cwd=dest, env={**env, **extra},
                              capture_output=True, text=True, timeout=900, check=False)
    return cli


@pytest.fixture(scope="module")
def teacher_run(server, tmp_path_factory):
    """The instructor's machine: stages 01-02 of the smoke profile with the local LLM teacher."""
    out = tmp_path_factory.mktemp("fill")
    cli = checkout(out / "repo")
    teacher = ["--set", "teacher.kind=openai", "--set", f"teacher.base_url={server['base_url']}",
               "--set", f"teacher.model={server['model']}", "--set", "teacher.api_key_env=null",
               "--set", "teacher.max_tokens=48", "--set", "teacher.max_concurrency=4", "--set", "teacher.timeout_s=600",
               # a 135M teacher rarely writes the 'Answer:' line: keep its answers unverified, so the replay trains on them
               "--set", "teacher.verify=none"]
    r = cli("run", "--profile", "smoke", "--out", str(out), "--run-id", "fill", "--only", "01", *teacher)
    assert r.returncode == 0, r.stderr[-3000:]
    run = out / "smoke" / "fill"
    r = cli("run", "--resume", str(run), "--only", "02")
    assert r.returncode == 0, r.stderr[-3000:]
    stats = json.loads((run / "02_teacher_prompting" / "teacher_stats.json").read_text())
    assert stats["requests_sent"] == stats["n"] > 0  # every answer came from the server
    r = cli("bundle", str(run), "--out", str(out / "ws.tar.gz"))
    assert r.returncode == 0, r.stderr[-3000:]
    return run


@pytest.fixture(scope="module")
def bundle_file(teacher_run):
    return teacher_run.parent.parent / "ws.tar.gz"


def test_bundle_holds_model_cache_suite_and_replay_params(bundle_file, teacher_run):
    with tarfile.open(bundle_file) as tar:
        names = tar.getnames()
        index = json.load(tar.extractfile("bundle.json"))
        params = __import__("yaml").safe_load(tar.extractfile("params.yaml"))
    assert names[0] == "bundle.json" and set(names[1:]) == set(index["files"])
    assert {"model/model.safetensors", "model/tokenizer.json", "teacher_cache.sqlite", "suite/train.jsonl",
            "params.yaml"} <= set(index["files"])
    paid = json.loads((teacher_run / "02_teacher_prompting" / "teacher_stats.json").read_text())["n"]
    assert index["teacher"]["cached_answers"] == paid > 0 and index["source_run"]["run_id"] == "fill"
    assert index["strategy_map"] == json.loads((teacher_run / "01_strategy_selection" / "strategy_map.json").read_text())
    t = params["teacher"]
    assert t["kind"] == "openai" and t["replay_only"] and t["cache_path"] is None and t["api_key_env"] is None
    assert params["profile"] == "workshop" and params["student"]["source"] == "local" and params["seed"] == 1234


def test_unbundle_refuses_a_tampered_bundle(bundle_file, tmp_path):
    """Same index, one file changed: the hash check names it before anything is installed."""
    bad = tmp_path / "bad.tar.gz"
    with tarfile.open(bundle_file) as src, tarfile.open(bad, "w:gz", compresslevel=1) as dst:
        for m in src.getmembers():
            data = src.extractfile(m).read()
            if m.name == "suite/train.jsonl":
                data = data.replace(b"e", b"E", 1)
            m.size = len(data)
            dst.addfile(m, __import__("io").BytesIO(data))
    r = run_cli("unbundle", str(bad), str(tmp_path / "ws"))
    assert r.returncode == 2 and "'suite/train.jsonl' does not match its sha256" in r.stderr
    assert not (tmp_path / "ws").exists()
    (tmp_path / "junk.tar.gz").write_bytes(b"not a bundle")
    r = run_cli("unbundle", str(tmp_path / "junk.tar.gz"), str(tmp_path / "ws2"))
    assert r.returncode == 2 and "damaged or not a .tar.gz" in r.stderr


def _no_network_prefix() -> list[str]:
    """Run in a fresh network namespace (only loopback, for the Jupyter kernel) where permitted."""
    probe = subprocess.run(["unshare", "-rn", "sh", "-c", "ip link set lo up"], capture_output=True, check=False) \
        if shutil.which("unshare") and shutil.which("ip") else None
    if probe is None or probe.returncode != 0:
        return []
    return ["unshare", "-rn", "sh", "-c", 'ip link set lo up && exec "$@"', "sh"]


@pytest.fixture(scope="module")
def replayed(bundle_file, tmp_path_factory):
    """Another machine: a fresh clone, an empty model cache, offline hub libraries, no network."""
    tmp = tmp_path_factory.mktemp("replay")
    clone = tmp / "clone"
    cli = checkout(clone)
    env = dict(ORCA2_CACHE=str(tmp / "empty-model-cache"), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               HF_DATASETS_OFFLINE="1", NO_PROXY="*", no_proxy="*")
    unbundled = cli("unbundle", str(bundle_file), str(tmp / "ws"), **env)
    profile = tmp / "ws" / "workshop.yaml"
    # a dead endpoint and no key: nothing but the cache can answer
    r = cli("run", "--profile", str(profile), "--run-id", "w1", "--set", "teacher.base_url=http://127.0.0.1:9/v1",
            prefix=_no_network_prefix(), **env) if unbundled.returncode == 0 else None
    return {"tmp": tmp, "clone": clone, "unbundle": unbundled, "profile": profile, "run": r,
            "run_dir": clone / "outputs" / "workshop" / "w1"}


def test_unbundled_in_a_fresh_clone_replays_the_teacher_offline(replayed, teacher_run):
    tmp, clone, run = replayed["tmp"], replayed["clone"], replayed["run_dir"]
    assert replayed["unbundle"].returncode == 0, replayed["unbundle"].stderr[-3000:]
    assert f"python -m orca2_kit run --profile {replayed['profile']}" in replayed["unbundle"].stdout
    r = replayed["run"]
    m = json.loads((run / "manifest.json").read_text())
    stats = json.loads((run / "02_teacher_prompting" / "teacher_stats.json").read_text())
    paid = json.loads((teacher_run / "02_teacher_prompting" / "teacher_stats.json").read_text())["n"]
    assert stats["requests_sent"] == 0 and stats["cache_hits"] == stats["n"] == paid > 0 and stats["failed"] == 0
    replayed_answers = pd.read_json(run / "02_teacher_prompting" / "answers.jsonl", lines=True)
    original = pd.read_json(teacher_run / "02_teacher_prompting" / "answers.jsonl", lines=True)
    assert replayed_answers.answer.tolist() == original.answer.tolist()  # the real teacher's words, replayed
    assert replayed_answers.accepted.tolist() == original.accepted.tolist()
    assert original.accepted.any()  # teacher.verify: none keeps every answer the teacher wrote
    # the whole pipeline, trained on the replayed answers
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
    assert all(v["status"] == "ok" for v in m["stages"].values()) and len(m["stages"]) == 6
    assert m["student_model"]["path"] == str(tmp / "ws" / "model")
    assert m["git"]["commit"] == subprocess.run(["git", "-C", str(clone), "rev-parse", "HEAD"], capture_output=True,
                                                text=True, check=True).stdout.strip()
    from orca2_kit.run.bundle import check_suite

    assert check_suite(tmp / "ws", run) == []  # the seed drew the same tasks here


def test_the_replayed_runs_report_opens_with_every_figure(replayed):
    """The browser half: the report of the replayed run renders every figure and links every notebook."""
    chromium_or_skip()
    run = replayed["run_dir"]
    assert replayed["run"] is not None and replayed["run"].returncode == 0, "the replay failed (see the test above)"
    m = json.loads((run / "manifest.json").read_text())
    page = open_page(run / "report.html", replayed["tmp"] / "report.png")
    pngs = sorted(p.name for p in (run / "figures").glob("*.png"))
    ran = [s for s, v in m["stages"].items() if v["status"] == "ok"]
    expected = {"01_strategy_heatmap.png", "02_accept_rates.png", "04_loss.png", "05_base_vs_student.png",
                "06_hallucination.png"}
    assert {f for f in expected if f[:2] in {s[:2] for s in ran}} <= set(pngs)
    assert sorted(Path(i["src"]).name for i in page["images"]) == pngs
    assert all(i["complete"] and i["width"] > 0 for i in page["images"]), page["images"]
    assert "replayed from cache" in page["text"] and "workshop" in page["title"]
    for s in ran:
        assert f"notebooks/{s}.html" in page["links"] and (run / "notebooks" / f"{s}.html").is_file()
