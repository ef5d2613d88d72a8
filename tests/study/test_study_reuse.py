"""The study reuses a result only when everything it was made from is the same (issue 25): the
teacher's answers are keyed by every `teacher.*` key and the suite's items (an arm that changes
only the teacher gets answers of its own; a resume with other tasks gets answers for the new
items), an arm-seed's scores by every key notebook 07's scoring reads, the system messages' texts
and the machine; each done.json names the kit commit that made it. The teacher here is the
reference teacher (no endpoint); the run folder holds what notebook 01 writes."""
import json
import subprocess

import pytest

from orca2_kit import fingerprint, study, tasks
from orca2_kit.config import TeacherConfig, load_params
from orca2_kit.pipeline import OPERATIONAL
from orca2_kit.study import steps
from orca2_kit.tasks import family_info
from tests.conftest import ROOT

# a valid value for every teacher key that can change the answers (OPERATIONAL keys cannot)
TEACHER_CHANGES = {
    "kind": "openai", "base_url": "http://127.0.0.1:9/v1", "model": "another-teacher", "api_key_env": "OTHER_KEY",
    "temperature": 0.7, "max_tokens": 64, "replay_only": True, "cache_path": "/tmp/another-cache.sqlite",
    "budget_usd": 5.0, "samples": 3, "workflow": "draft_refine", "mode": "batch", "verify": "none",
    "strategy_map": "expected",
}



def _params(tmp_path, arms=None, overrides=()):
    over = list(overrides) + [f"teacher.cache_path={tmp_path / 'cache.sqlite'}"]
    p = load_params("smoke", over)
    if arms:
        p = load_params("smoke", {**{o.split("=")[0]: o.split("=", 1)[1] for o in over}, "study.arms": {"recipe": {}, **arms}})
    return p


def _run_folder(tmp_path, p):
    """What notebook 01 leaves for the study: the suite and the chosen strategy map."""
    run = tmp_path / "run"
    suite = tasks.load_suite(p.tasks, p.seed)
    for split, items in suite.items():
        tasks.save_items(items, run / "01_strategy_selection" / "suite" / f"{split}.jsonl")
    fams = dict.fromkeys(it.family for it in suite["train"])
    (run / "01_strategy_selection" / "strategy_map.json").write_text(
        json.dumps({f: family_info(f)["expected_strategy"] for f in fams}))
    return run


def test_every_teacher_key_that_can_change_an_answer_is_in_the_answers_key(tmp_path):
    keys = [k for k in TeacherConfig.model_fields if f"teacher.{k}" not in OPERATIONAL]
    assert sorted(keys) == sorted(TEACHER_CHANGES), "a new teacher key: add a value for it above"
    recipe = _params(tmp_path)
    base_fp = fingerprint.fingerprints(recipe)["02_teacher_prompting"]
    for key, value in TEACHER_CHANGES.items():
        extra = {"teacher.model": "m", "teacher.api_key_env": None} if key in ("kind", "replay_only", "budget_usd") else {}
        if key == "kind":
            extra["teacher.free"] = True
        if key == "samples":
            extra = {"teacher.workflow": "sample_k", "teacher.temperature": 0.7}
        arm = {f"teacher.{key}": value, **extra}
        arms = {a.name: a for a in study.plan(_params(tmp_path, {"x": arm}))}
        ref_fp = fingerprint.fingerprints(arms["recipe"].params)["02_teacher_prompting"]
        x_fp = fingerprint.fingerprints(arms["x"].params)["02_teacher_prompting"]
        assert ref_fp == base_fp and x_fp != base_fp, key


def test_an_arm_that_changes_only_the_teacher_gets_answers_of_its_own(tmp_path):
    """On efb4c03 the answers were keyed by the strategy map alone: this arm trained on the recipe's."""
    p = _params(tmp_path, {"verbose_teacher": {"teacher.max_tokens": 200}})
    run = _run_folder(tmp_path, p)
    arms = {a.name: a for a in study.plan(p)}
    logs = []
    steps.teacher_answers(arms["recipe"], run, logs.append)
    steps.teacher_answers(arms["verbose_teacher"], run, logs.append)
    folders = sorted(d for d in (run / "07_ablation" / "teacher").iterdir() if d.is_dir())
    assert len(folders) == 2  # two sets of answers, not one reused
    made = {json.loads((d / "done.json").read_text())["fingerprint"] for d in folders}
    assert made == {fingerprint.fingerprints(a.params)["02_teacher_prompting"] for a in arms.values() if a.trained}


def test_a_resume_with_other_tasks_answers_the_new_items(tmp_path):
    """`study --resume --set tasks.n_train=...` reruns 01; the teacher must answer its new train items,
    not hand back the answers to the old ones."""
    p = _params(tmp_path)
    run = _run_folder(tmp_path, p)
    recipe = next(a for a in study.plan(p) if a.name == "recipe")
    first = steps.teacher_answers(recipe, run, print)
    q = _params(tmp_path, overrides=["tasks.n_train=3"])
    _run_folder(tmp_path, q)  # notebook 01 again, with the new suite
    again = steps.teacher_answers(next(a for a in study.plan(q) if a.name == "recipe"), run, print)
    new_ids = {it.id for it in tasks.load_items(run / "01_strategy_selection" / "suite" / "train.jsonl")}
    assert set(again["id"]) == new_ids and set(first["id"]) != new_ids


def _head() -> str:
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return commit + ("+dirty" if dirty else "")


def test_each_done_json_names_the_commit_and_a_reuse_across_commits_says_so(tmp_path):
    p = _params(tmp_path)
    run = _run_folder(tmp_path, p)
    recipe = next(a for a in study.plan(p) if a.name == "recipe")
    steps.teacher_answers(recipe, run, print)
    (folder,) = [d for d in (run / "07_ablation" / "teacher").iterdir() if d.is_dir()]
    done = json.loads((folder / "done.json").read_text())
    assert done["commit"] == _head()
    done["commit"] = "0123456789abcdef"
    (folder / "done.json").write_text(json.dumps(done))
    logs = []
    steps.teacher_answers(recipe, run, logs.append)
    assert [x for x in logs if "reused, made by commit 0123456789" in x], logs


# ------------------------------------------------------------------------------ the scores


def _scoring_fp(p, arm_name="base"):
    arm = next(a for a in study.plan(p) if a.name == arm_name)
    params = arm.with_seed(1) if arm.trained else arm.params
    made_from = fingerprint.fingerprints(params)["04_sft_training" if arm.trained else "01_strategy_selection"]
    return steps.scoring_fingerprint(params, made_from, [], [], [], 12)


@pytest.mark.parametrize("override", ["eval.harness.max_new_tokens=7", "hallucination.max_new_tokens=7",
                                      "study.system_messages=[empty]", "eval.harness.benchmarks=[gsm8k]",
                                      "generation.max_prompt_tokens=512", "generation.dtype=bfloat16"])
def test_every_key_07s_scoring_reads_is_in_the_scores_key(tmp_path, override):
    before = load_params("smoke")
    after = load_params("smoke", [override])
    for arm in ("base", "recipe"):
        assert _scoring_fp(before, arm) != _scoring_fp(after, arm), (override, arm)


def test_the_base_models_scores_follow_the_system_message_file_and_its_contents(tmp_path):
    """The base model is scored under erasure.system_message_file's text too (07 passes it): on
    c999e9e its scores were keyed by stage 01 only, so a new file, or the file edited, reused them."""
    f = tmp_path / "system.txt"
    f.write_text("You are a careful assistant.")
    plain = _scoring_fp(load_params("smoke"))
    with_file = _scoring_fp(load_params("smoke", [f"erasure.system_message_file={f}"]))
    f.write_text("You are a careless assistant.")
    edited = _scoring_fp(load_params("smoke", [f"erasure.system_message_file={f}"]))
    assert len({plain, with_file, edited}) == 3


def test_scores_made_on_another_machine_are_not_reused_here(monkeypatch):
    p = load_params("smoke")
    here = {arm: _scoring_fp(p, arm) for arm in ("base", "recipe")}
    with monkeypatch.context() as m:
        m.setattr(fingerprint, "machine", lambda params: {"device": "cuda", "scoring_dtype": "bfloat16",
                                                          "training_dtype": "bfloat16"})
        gpu = {arm: _scoring_fp(p, arm) for arm in ("base", "recipe")}
    assert all(here[a] != gpu[a] for a in here)
