"""One arm of the study through the pipeline's own stages: the teacher (02), erasure (03), training
(04) and scoring, by the same functions notebooks 02-06 call, reused by the same fingerprints
(orca2_kit/fingerprint.py) the runner records for them.

Every arm-seed is a small run folder of its own (07_ablation/arms/<arm>/seed-<s>/, with
03_prompt_erasure/ and 04_sft_training/ inside). The teacher answers once per distinct stage-02
fingerprint (every `teacher.*` key and the suite), through the profile's response cache and the
run's spend ledger, so no request is sent twice, across arms, reruns or stage 02 itself.
"""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pandas as pd

from orca2_kit import erasure, teacher, train
from orca2_kit.config import dump_params
from orca2_kit.evaluation.harness import agreement
from orca2_kit.fingerprint import digest, fingerprints, kit_commit, stage_params
from orca2_kit.generation import system_text
from orca2_kit.hallucination.summarise import summarise_items
from orca2_kit.models import load_student
from orca2_kit.scoring import evaluate_model
from orca2_kit.study.arms import Arm

STAGE_DIR = "07_ablation"


def _reuse(folder: Path, fp: str, log) -> bool:
    """True if `folder` finished with fingerprint `fp` (saying so when another commit of the kit made
    it); a folder of other params is set aside."""
    done = folder / "done.json"
    info = json.loads(done.read_text()) if done.is_file() else {}
    if info.get("fingerprint") == fp:
        _made_by(folder, info, log)
        return True
    if folder.exists():
        aside = folder.with_name(f"{folder.name}.stale-{int(time.time())}")
        log(f"{folder.name}: params changed since it ran (or it did not finish); set aside as {aside.name}")
        shutil.move(str(folder), aside)
    return False


def _made_by(folder: Path, info: dict, log) -> None:
    """The code is not in the fingerprint: a result reused across commits says which one made it."""
    made, now = info.get("commit"), kit_commit()
    if made != now:
        log(f"{folder}: reused, made by commit {(made or '(not recorded)')[:10]} (this is {now[:10]})")


def _finish(folder: Path, fp: str, **info) -> None:
    (folder / "done.json").write_text(json.dumps({"fingerprint": fp, "commit": kit_commit(), **info}, indent=2))


def teacher_answers(arm: Arm, run_dir: Path, log=print) -> pd.DataFrame:
    """Stage 02 for an arm: the teacher's answers, once per distinct stage-02 fingerprint."""
    fp = fingerprints(arm.params)["02_teacher_prompting"]
    folder = Path(run_dir) / STAGE_DIR / "teacher" / fp[:16]
    if not _reuse(folder, fp, log):
        answers, smap = teacher.answer_train_items(arm.params, run_dir, folder)
        log(f"teacher ({arm.name}): answered {len(answers)} items under map {smap}")
        _finish(folder, fp, strategy_map=smap)
    return pd.read_json(folder / "answers.jsonl", lines=True)


def train_arm(arm: Arm, seed: int, answers: pd.DataFrame, run_dir: Path, log=print, made_from: dict | None = None,
              root: str = f"{STAGE_DIR}/arms") -> Path:
    """Stages 03 and 04 for an arm and a training seed; returns the seed's folder (reused when its
    stage-04 fingerprint, and `made_from`, e.g. a subset of the answers, are unchanged)."""
    params = arm.with_seed(seed)
    folder = Path(run_dir) / root / arm.name / f"seed-{seed}"
    fp = fingerprints(params)["04_sft_training"]
    if made_from:
        fp = digest({"04_sft_training": fp, **made_from})
    if _reuse(folder, fp, log):
        log(f"{arm.name} / seed {seed}: trained already, reused")
        return folder
    folder.mkdir(parents=True)
    dataset = erasure.erase(params, answers, folder / "03_prompt_erasure", seed=params.train_seed())
    log(f"{arm.name} / seed {seed}: training on {len(dataset)} rows ({params.erasure.variant})")
    t0 = time.time()
    train.launch(dump_params(params, folder / "params.yaml"), folder, params.train.launcher,
                 params.train.num_processes, params.train.accelerate_config, log_file=folder / "train.log")
    _finish(folder, fp, train_s=round(time.time() - t0, 1), rows=len(dataset))
    return folder


def scoring_fingerprint(params, trained_from: str, items, docs: list[dict], grounded, budget: int) -> str:
    """What an arm-seed's scores depend on: the student (its stage-04 fingerprint, or the base
    model's stage-01 one), every key the study's scoring reads (`eval`, `hallucination`, `study`,
    with the machine and the files they name), the system messages' texts as the student sees them
    (erasure.system_message_file's contents included), the items, documents and grounded items,
    and the token budget."""
    systems = {m: system_text(m, params.erasure.system_message_file) for m in params.study.system_messages}
    return digest({"student": trained_from, "eval": stage_params(params, "05_benchmark_eval"),
                   "hallucination": stage_params(params, "06_hallucination"), "study": params.study.model_dump(mode="json"),
                   "system_messages": systems, "items": [it.id for it in items], "documents": [d["id"] for d in docs],
                   "grounded": [g.id for g in grounded], "budget": budget})


def evaluate_arm(arm: Arm, seed: int, folder: Path, items, docs: list[dict], grounded, budget: int,
                 log=print) -> dict[str, pd.DataFrame]:
    """Scores of one trained arm-seed (or the base model, folder without an adapter) on the test
    items, the real-benchmark documents and the grounded summaries; cached in folder/eval/."""
    params = arm.with_seed(seed) if arm.trained else arm.params
    stage = "04_sft_training" if arm.trained else "01_strategy_selection"
    fp = scoring_fingerprint(params, fingerprints(params)[stage], items, docs, grounded, budget)
    done = folder / "eval" / "done.json"
    files = {k: folder / "eval" / f"{k}.jsonl" for k in ("items", "benchmarks", "summaries")}
    info = json.loads(done.read_text()) if done.is_file() else {}
    if info.get("fingerprint") == fp:
        _made_by(folder / "eval", info, log)
        return {k: pd.read_json(f, lines=True) if f.stat().st_size > 2 else pd.DataFrame() for k, f in files.items()}
    shutil.rmtree(folder / "eval", ignore_errors=True)  # unfinished, or scored under other settings
    (folder / "eval").mkdir(parents=True)
    adapter = folder / "04_sft_training" / ("adapter" if params.train.method == "lora" else "model")
    model, tok = load_student(params.student, params.device, adapter=str(adapter) if arm.trained else None,
                              scoring=params.generation.dtype)
    tag = {"arm": arm.name, "seed": seed}
    t0 = time.time()
    modes = params.study.system_messages
    rows, _ = evaluate_model(model, tok, items, modes, arm.name, budget, params.generation.batch_size,
                             params.generation.max_prompt_tokens, params.erasure.system_message_file)
    out = {"items": rows.assign(**tag), "benchmarks": _benchmarks(model, tok, docs, params, tag, budget),
           "summaries": _summaries(model, tok, grounded, params, tag)}
    del model
    for k, df in out.items():
        df.to_json(files[k], orient="records", lines=True)
    _finish(folder / "eval", fp, eval_s=round(time.time() - t0, 1))
    log(f"{arm.name} / seed {seed}: evaluated in {time.time() - t0:.0f} s")
    return out


def _benchmarks(model, tok, docs: list[dict], p, tag: dict, auto_budget: int) -> pd.DataFrame:
    """The real benchmarks through the kit's generation layer with the harness's own prompts and
    filters (evaluation/harness/agreement.py: the same documents score the same either way)."""
    if not docs:
        return pd.DataFrame()
    frames = []
    for mode in p.study.system_messages:
        budget = p.eval.harness.max_new_tokens if p.eval.harness.max_new_tokens != "auto" else auto_budget
        resp = agreement.kit_responses(model, tok, docs, mode, budget, p.generation.batch_size,
                                       system_message_file=p.erasure.system_message_file)
        frames.append(agreement.score(resp, docs, tag["arm"]).assign(system=mode, **tag))
    out = pd.concat(frames, ignore_index=True)
    out["chance"] = [1.0 / len(d["choices"]) if d["choices"] else 0.0 for d in docs] * len(frames)
    return out


def _summaries(model, tok, grounded, p, tag: dict) -> pd.DataFrame:
    """Grounded summaries of notebook 06's built-in items, by 06's own function (kept for the
    strategy they use; the checker's verdicts come along)."""
    if not grounded:
        return pd.DataFrame()
    rows = summarise_items(model, tok, grounded, list(p.study.system_messages), tag["arm"], p.hallucination.max_new_tokens,
                           p.generation.batch_size, p.generation.max_prompt_tokens,
                           system_message_file=p.erasure.system_message_file)
    return pd.DataFrame(rows).rename(columns={"summary": "output"}).assign(**tag)

