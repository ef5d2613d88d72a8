"""What a fingerprint holds beyond the params as written (issue 25, issue 29 item 4): the contents of
every file or folder the params name (edited in place, it is a change), the device and dtypes as
resolved on the machine that made a result, and, beside each record, the kit commit that made it."""
import json
import shutil
import subprocess

import pytest

from orca2_kit import fingerprint, pipeline
from orca2_kit.config import Params, load_params
from orca2_kit.models import dtype_record, ensure_tiny_random
from orca2_kit.pipeline import STAGES
from orca2_kit.run import records
from tests.conftest import ROOT


def _done(params) -> dict:
    return {"stages": {s: {"status": "ok", **records.record(params, s)} for s in STAGES}}


def _rerun(before, after) -> list[str]:
    why = records.plan(after, _done(before))
    return [s for s, w in why.items() if w]


def test_every_params_section_is_a_stages_a_resolved_one_or_changes_nothing():
    mapped = {k for v in pipeline.STAGE_SECTIONS.values() for k in v} | set(pipeline.NO_STAGE) | set(pipeline.RESOLVED)
    assert set(Params.model_fields) <= mapped, set(Params.model_fields) - mapped
    assert "device" not in pipeline.NO_STAGE  # it decides the dtypes: see the machine tests below


# ------------------------------------------------------------------------------ files named by params


def _task_file(tmp_path):
    f = tmp_path / "tasks.jsonl"
    f.write_text(json.dumps({"task": "t", "prompt": "2+2?", "reference": "4"}) + "\n")
    return f, ["tasks.source=file", f"tasks.path={f}"], STAGES


def _system_file(tmp_path):
    f = tmp_path / "system.txt"
    f.write_text("You are a careful assistant.")
    return f, [f"erasure.system_message_file={f}"], STAGES[2:]


def _accelerate_config(tmp_path):
    f = tmp_path / "accelerate.yaml"
    f.write_text("compute_environment: LOCAL_MACHINE\nmixed_precision: 'no'\nnum_processes: 1\n")
    return f, [f"train.accelerate_config={f}"], STAGES[3:]


def _source_file(tmp_path):
    d = tmp_path / "qmsum"
    d.mkdir()
    (d / "test.jsonl").write_text('{"x": 1}\n')
    return d / "test.jsonl", [f"hallucination.sources.qmsum={d}"], ["06_hallucination"]


def _support_model(tmp_path):
    d = tmp_path / "support"
    d.mkdir()
    (d / "config.json").write_text("{}")
    return d / "config.json", [f"hallucination.support_model={d}"], ["06_hallucination"]


def _local_student(tmp_path):
    d = tmp_path / "student"
    shutil.copytree(ensure_tiny_random(), d)
    return d / "config.json", ["student.source=local", f"student.name_or_path={d}"], STAGES


def _data_dir(tmp_path):
    d = tmp_path / "data" / "gsm8k"
    d.mkdir(parents=True)
    (d / "test.jsonl").write_text('{"question": "1+1?", "answer": "#### 2"}\n')
    return d / "test.jsonl", [f"data_dir={tmp_path / 'data'}"], ["05_benchmark_eval", "06_hallucination"]


@pytest.mark.parametrize("make", [_task_file, _system_file, _accelerate_config, _source_file, _support_model,
                                  _local_student, _data_dir])
def test_a_file_edited_in_place_reruns_the_stages_that_read_it(tmp_path, make):
    """Same params, same paths; only a file's contents changed: the stages that read it (and those
    downstream) run again, the others are reused, and the reason names the file."""
    edited, overrides, rerun = make(tmp_path)
    made = _done(load_params("smoke", overrides))  # what the manifest recorded when the stages ran
    assert not any(records.plan(load_params("smoke", overrides), made).values())  # unchanged: all reused
    edited.write_text(edited.read_text() + "\n")  # one byte more, same name
    why = records.plan(load_params("smoke", overrides), made)
    assert [s for s, w in why.items() if w] == list(rerun)
    assert "files." in why[rerun[0]], why[rerun[0]]


def test_a_cache_path_is_not_an_input(tmp_path):
    cache = tmp_path / "teacher_cache.sqlite"
    cache.write_text("x")
    made = _done(load_params("smoke", [f"teacher.cache_path={cache}"]))
    cache.write_text("xy")  # the cache grew: its answers are keyed by their own content
    assert not any(records.plan(load_params("smoke", [f"teacher.cache_path={cache}"]), made).values())


# ------------------------------------------------------------------------------ the machine


def test_the_machine_is_fingerprinted_as_resolved_here():
    """Every stage that runs the student holds the device and dtypes as this machine resolves them."""
    p = load_params("smoke")
    rec = dtype_record(p)
    resolved = {"device": rec["device"], "scoring_dtype": rec["scoring"], "training_dtype": rec["training_base"]}
    for s, keys in pipeline.MACHINE_STAGES.items():
        assert fingerprint.stage_params(p, s)["machine"] == {k: resolved[k] for k in keys}
    assert set(pipeline.MACHINE_STAGES["04_sft_training"]) == {"device", "training_dtype"}
    # 'auto' and 'cpu' resolve alike on a machine without a GPU: nothing reruns
    if rec["device"] == "cpu":
        assert _rerun(p, load_params("smoke", ["device=cpu"])) == []


def test_a_machine_that_trains_in_another_dtype_retrains_but_reuses_what_it_scores_alike(monkeypatch):
    """A CPU without native bf16 trains in fp32 where this one may train in bf16, and scores in fp32
    like every CPU: the student is trained again (and scored again), strategy selection is reused."""
    p = load_params("smoke")
    here = fingerprint.machine(p)
    other = {**here, "training_dtype": "float32" if here["training_dtype"] != "float32" else "bfloat16"}
    with monkeypatch.context() as m:
        m.setattr(fingerprint, "machine", lambda params: other)
        made_there = _done(p)
    why = records.plan(p, made_there)
    assert [s for s, w in why.items() if w] == list(STAGES[3:]), why
    assert "machine.training_dtype" in why["04_sft_training"]


def test_results_made_on_another_machine_are_not_reused_here(monkeypatch):
    """A run made on a GPU (bf16) and resumed on this machine: every stage runs again, and says why.
    The GPU machine's record is made by its own `machine()` answer; the plan is this machine's."""
    p = load_params("smoke")
    here = fingerprint.machine(p)
    gpu = {"device": "cuda", "scoring_dtype": "bfloat16", "training_dtype": "bfloat16"}
    assert here != gpu
    with monkeypatch.context() as m:
        m.setattr(fingerprint, "machine", lambda params: gpu)
        made_on_gpu = _done(p)
    why = records.plan(p, made_on_gpu)
    assert all(why.values()), why
    assert 'machine.device: "cuda" -> "cpu"' in why["01_strategy_selection"] or here["device"] != "cpu"


# ------------------------------------------------------------------------------ the commit


def _head() -> str:
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return commit + ("+dirty" if dirty else "")


def test_each_stage_record_and_stamp_holds_the_kit_commit(tmp_path):
    p = load_params("smoke")
    for s in STAGES:
        assert records.record(p, s)["commit"] == _head()
    out = tmp_path / "harness"
    out.mkdir()
    fingerprint.stamp(out, "fp-a")
    assert fingerprint.stamp_path(out).read_text().split() == ["fp-a", _head()]
    assert fingerprint.matches(out, "fp-a") and not fingerprint.matches(out, "fp-b")


def test_a_resume_across_commits_says_what_it_reuses_from_which():
    p = load_params("smoke")
    m = _done(p)
    assert records.made_by(m, "04_sft_training") == ""  # made by this commit: nothing to say
    m["stages"]["04_sft_training"]["commit"] = "0123456789abcdef0123456789abcdef01234567"
    del m["stages"]["05_benchmark_eval"]["commit"]  # a run from before commits were recorded
    assert not any(records.plan(p, m).values())  # the code is not in the fingerprint: reused...
    assert records.made_by(m, "04_sft_training").startswith("made by commit 0123456789, this is ")  # ...and said
    assert records.made_by(m, "05_benchmark_eval").startswith("made by commit (not recorded), this is ")
