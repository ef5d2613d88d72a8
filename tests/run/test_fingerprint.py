"""Fingerprinted reuse (issue 17): a stage's results are reused only when the params it depends on,
and its inputs', are those it ran with; otherwise it runs again, with what reads it, and says why."""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orca2_kit import fingerprint
from orca2_kit.run import records
from orca2_kit.config import load_params
from orca2_kit.pipeline import STAGES
from tests.conftest import ROOT


def _done(params) -> dict:
    return {"stages": {s: {"status": "ok", **records.record(params, s)} for s in STAGES}}


@pytest.mark.parametrize("override, rerun", [
    (None, []),
    ("teacher.max_tokens=24", STAGES[1:]),  # 02 and everything that reads it, directly or not
    ("tasks.n_train=5", STAGES),
    ("erasure.system_message=cautious", STAGES[2:]),
    ("train.learning_rate=0.01", STAGES[3:]),
    ("eval.harness.limit=1", ["05_benchmark_eval"]),  # 06 does not read 05
    ("hallucination.n_items=2", ["06_hallucination"]),
    ("teacher.max_concurrency=1", []),  # how fast, not what: nothing reruns
    ("train.logging_steps=3", []),
    ("description=another words", []),
])
def test_plan_reruns_exactly_the_stages_whose_fingerprint_changed(override, rerun):
    before = load_params("smoke")
    why = records.plan(load_params("smoke", [override] if override else []), _done(before))
    assert [s for s, w in why.items() if w] == list(rerun)
    if rerun:
        key = override.split("=")[0]
        assert key in why[rerun[0]] and all(why[s] for s in rerun[1:])


def test_a_stage_that_did_not_finish_runs_with_what_reads_it():
    p = load_params("smoke")
    m = _done(p)
    m["stages"]["04_sft_training"]["status"] = "interrupted"
    why = records.plan(p, m)
    assert [s for s, w in why.items() if w] == list(STAGES[3:]) and "interrupted" in why["04_sft_training"]


def test_a_run_from_before_fingerprints_is_judged_by_its_recorded_params():
    p = load_params("smoke")
    old = {"params": p.model_dump(mode="json"), "stages": {s: {"status": "ok"} for s in STAGES}}
    assert not any(records.plan(p, old).values())
    assert records.plan(load_params("smoke", ["train.epochs=2"]), old)["04_sft_training"]


def test_checkpoints_of_other_params_are_never_resumed_from(tmp_path):
    from orca2_kit.train import last_checkpoint

    ckpts = tmp_path / "checkpoints"
    (ckpts / "checkpoint-2").mkdir(parents=True)
    (ckpts / "checkpoint-2" / "trainer_state.json").write_text("{}")
    assert last_checkpoint(ckpts, "fp-a") is None  # unstamped (or another run's): set aside, start afresh
    assert sorted(p.name.split("-")[0] for p in tmp_path.iterdir()) == ["checkpoints", "checkpoints.fingerprint",
                                                                         "checkpoints.superseded"]
    (ckpts / "checkpoint-4").mkdir()
    (ckpts / "checkpoint-4" / "trainer_state.json").write_text("{}")
    assert last_checkpoint(ckpts, "fp-a") == str(ckpts / "checkpoint-4")  # same params: resumed
    assert last_checkpoint(ckpts, "fp-b") is None  # the params changed


@pytest.mark.slow
def test_resume_after_set_reruns_exactly_the_stages_whose_fingerprint_changed(tmp_path):
    """A whole smoke run, started from another folder with a relative path in params (the
    notebooks run in notebooks/ and must see it absolute); then --resume --set changes eval only:
    05 alone runs again, saying why; 01-04 and 06 are untouched; each stage keeps the params it
    ran with and the commit that made it; a second resume runs nothing, and names the commit of a
    stage another commit made."""
    (tmp_path / "system.txt").write_text("You are a careful assistant. Think, then answer.")

    def cli(*args):
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        return subprocess.run([sys.executable, "-m", "orca2_kit", "run", *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=1200)

    r = cli("--profile", "smoke", "--out", "out", "--run-id", "a", "--set", "erasure.system_message_file=system.txt")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    run = tmp_path / "out" / "smoke" / "a"
    params = (run / "params.yaml").read_text()
    assert f"system_message_file: {tmp_path / 'system.txt'}" in params  # absolute, from where the user was
    hashes = {s: _hashes(run / s) for s in STAGES}
    mtime = (run / "05_benchmark_eval" / "metrics.json").stat().st_mtime
    time.sleep(1)

    r = cli("--resume", str(run), "--set", "eval.max_new_tokens=6")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "05_benchmark_eval: runs (params changed: eval.max_new_tokens: 12 -> 6)" in r.stdout
    assert [s for s in STAGES if f"{s} ..." in r.stdout] == ["05_benchmark_eval"]
    assert {s: _hashes(run / s) for s in STAGES if s != "05_benchmark_eval"} == \
        {s: h for s, h in hashes.items() if s != "05_benchmark_eval"}
    assert (run / "05_benchmark_eval" / "metrics.json").stat().st_mtime > mtime
    m = json.loads((run / "manifest.json").read_text())
    assert m["stages"]["05_benchmark_eval"]["params"]["eval"]["max_new_tokens"] == 6
    assert m["stages"]["04_sft_training"]["params"] == fingerprint.stage_params(load_params("smoke", [
        f"erasure.system_message_file={tmp_path / 'system.txt'}"]), "04_sft_training")
    assert m["status"] == "ok"

    # each stage names the commit that made it; a resume on another commit reuses and says from which
    assert {v["commit"] for v in m["stages"].values()} == {fingerprint.kit_commit()}
    m["stages"]["01_strategy_selection"]["commit"] = "0" * 40
    (run / "manifest.json").write_text(json.dumps(m))
    r = cli("--resume", str(run))
    assert r.returncode == 0 and "every stage is up to date; nothing to run" in r.stdout, r.stdout[-2000:]
    assert ("01_strategy_selection: reused (fingerprint matches; made by commit 0000000000, this is "
            f"{records.short_commit(fingerprint.kit_commit())})") in r.stdout, r.stdout[-2000:]
    assert "04_sft_training: reused (fingerprint matches)\n" in r.stdout


def _hashes(d: Path) -> dict:
    from orca2_kit.fingerprint import sha256_file

    return {str(p.relative_to(d)): sha256_file(p) for p in sorted(d.rglob("*")) if p.is_file()}
