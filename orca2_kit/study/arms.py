"""The ablation study (notebook 07): do strategy-tailored answers, erased, beat plain imitation?

Orca 2's central claim is that a small student trained on answers whose strategy was chosen per
task, with the detailed instruction *erased*, learns to choose a strategy itself and beats
imitating one style. The study trains several **arms** on the same suite, from one teacher cache,
each with several training seeds, and scores them on the same items:

    base          no training
    recipe        erased, the strategy map notebook 01 chose           (the reference arm)
    not_erased    the teacher's instruction kept as the training system message
    direct_only   the teacher's direct answers only (imitation without reasoning)
    one_strategy  one strategy for every family (imitating a single style)
    expected_map  the authors' expected map instead of the selected one

Arms are overrides of the profile (`study.arms`), so an arm is any recipe the params can express.
Everything an arm needs is a small folder of its own (07_ablation/arms/<arm>/seed-<s>/), reused
when its fingerprint (the arm's resolved params) is unchanged: a rerun of a finished study trains
nothing, and the teacher answers each distinct strategy map once (through the response cache, so
no request is ever sent twice, across arms or reruns). The analysis is in `study_analysis.py`.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from orca2_kit.config import ConfigError, Params, apply_overrides, dump_params
from orca2_kit.scoring import evaluate_model

STAGE_DIR = "07_ablation"


@dataclass(frozen=True)
class Arm:
    name: str
    params: Params  # the profile with the arm's overrides (train.seed set per seed at training time)
    overrides: dict

    @property
    def trained(self) -> bool:
        return self.name != "base"


def plan(p: Params) -> list[Arm]:
    """The study's arms, each validated like a profile (a bad override names its arm and key)."""
    from pydantic import ValidationError

    from orca2_kit.config import format_errors

    raw = p.model_dump(mode="json")
    raw["study"]["arms"] = {"recipe": {}}  # an arm's own params hold no arms (the study is the profile's)
    arms = [Arm("base", p, {})]
    for name, overrides in p.study.arms.items():
        try:
            arm_params = Params.model_validate(apply_overrides(raw, dict(overrides)))
        except ValidationError as e:
            raise ConfigError(format_errors(e, f"(study.arms.{name})", Params)) from None
        arms.append(Arm(name, arm_params, dict(overrides)))
    return arms


def fingerprint(params: Params) -> str:
    """What an arm-seed's results depend on: every section but the study's own and the harness's."""
    d = params.model_dump(mode="json")
    for k in ("study", "description", "hallucination"):
        d.pop(k, None)
    d.get("eval", {}).pop("harness", None)
    return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]


def twins(p: Params, selected: dict[str, str]) -> dict[str, str]:
    """{arm: the earlier arm it would train exactly like}: same resolved strategy map (e.g. the
    expected map when notebook 01 kept every expected strategy), same erasure, same training. A
    twin is not trained again; it has no information of its own and is reported as such."""
    from orca2_kit.strategies import strategy_map

    seen: dict[str, str] = {}
    out: dict[str, str] = {}
    for arm in plan(p):
        if not arm.trained:
            continue
        d = arm.params.model_dump(mode="json")
        d["teacher"]["strategy_map"] = strategy_map(arm.params.teacher.strategy_map, selected)
        for k in ("study", "description", "hallucination"):
            d.pop(k, None)
        key = hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()
        if key in seen:
            out[arm.name] = seen[key]
        else:
            seen[key] = arm.name
    return out


def _reuse(folder: Path, fp: str, log) -> bool:
    """True if `folder` finished with fingerprint `fp`; a folder of other params is set aside."""
    done = folder / "done.json"
    if done.is_file() and json.loads(done.read_text()).get("fingerprint") == fp:
        return True
    if folder.exists():
        aside = folder.with_name(f"{folder.name}.stale-{int(time.time())}")
        log(f"{folder.name}: params changed since it ran (or it did not finish); set aside as {aside.name}")
        shutil.move(str(folder), aside)
    return False


def _finish(folder: Path, fp: str, **info) -> None:
    (folder / "done.json").write_text(json.dumps({"fingerprint": fp, **info}, indent=2))


# ------------------------------------------------------------------------------------ teacher


def teacher_answers(arm: Arm, selected: dict[str, str], train_items, out: Path, log=print) -> pd.DataFrame:
    """The teacher's answers for an arm's strategy map, computed once per distinct map."""
    from orca2_kit.strategies import strategy_map
    from orca2_kit.teacher import run_teacher

    smap = strategy_map(arm.params.teacher.strategy_map, selected)
    key = hashlib.sha256(json.dumps(smap, sort_keys=True).encode()).hexdigest()[:12]
    folder = out / "teacher" / key
    answers = folder / "answers.jsonl"
    if not answers.is_file():
        log(f"teacher: answering {len(train_items)} items under map {smap}")
        run_teacher(arm.params.teacher, train_items, smap, folder)
        (folder / "strategy_map.json").write_text(json.dumps(smap, indent=2))
    return pd.read_json(answers, lines=True)


# ------------------------------------------------------------------------------------ one arm


def train_arm(arm: Arm, seed: int, answers: pd.DataFrame, out: Path, log=print) -> Path:
    """Erase (the arm's variant), then train with `seed`; returns the seed folder (reused if done)."""
    from orca2_kit import erasure
    from orca2_kit.train import trainer as train
    from orca2_kit.strategies import student_system_message

    params = arm.params.model_copy(update={"train": arm.params.train.model_copy(update={"seed": seed})})
    folder = out / "arms" / arm.name / f"seed-{seed}"
    fp = fingerprint(params)
    if _reuse(folder, fp, log):
        log(f"{arm.name} / seed {seed}: trained already, reused")
        return folder
    folder.mkdir(parents=True)
    system = student_system_message(params.erasure.system_message, params.erasure.system_message_file)
    rows = erasure.build_sft_rows(answers, system, variant=params.erasure.variant)
    erasure.save_sft_dataset(rows, folder / "03_prompt_erasure" / "sft_dataset", seed=seed)
    log(f"{arm.name} / seed {seed}: training on {len(rows)} rows ({params.erasure.variant})")
    t0 = time.time()
    train.launch(dump_params(params, folder / "params.yaml"), folder, params.train.launcher,
                 params.train.num_processes, params.train.accelerate_config, log_file=folder / "train.log")
    _finish(folder, fp, train_s=round(time.time() - t0, 1), rows=len(rows))
    return folder


def evaluate_arm(arm: Arm, seed: int, folder: Path, items, docs: list[dict], grounded, budget: int,
                 log=print) -> dict[str, pd.DataFrame]:
    """Scores of one trained arm-seed (or the base model, folder without an adapter) on the test
    items, the real-benchmark documents and the grounded summaries; cached in folder/eval/."""
    from orca2_kit.models import load_student

    p = arm.params
    cfg = p.study  # the profile's study settings (every arm carries them)
    done = folder / "eval" / "done.json"
    files = {k: folder / "eval" / f"{k}.jsonl" for k in ("items", "benchmarks", "summaries")}
    fp = hashlib.sha256(json.dumps([fingerprint(p), cfg.system_messages, [it.id for it in items],
                                    [d["id"] for d in docs], [g.id for g in grounded], budget]).encode()).hexdigest()[:16]
    if done.is_file() and json.loads(done.read_text()).get("fingerprint") == fp:
        return {k: pd.read_json(f, lines=True) if f.stat().st_size > 2 else pd.DataFrame() for k, f in files.items()}
    shutil.rmtree(folder / "eval", ignore_errors=True)  # unfinished, or scored under other settings
    (folder / "eval").mkdir(parents=True)
    adapter = folder / "04_sft_training" / ("adapter" if p.train.method == "lora" else "model")
    model, tok = load_student(p.student, p.device, adapter=str(adapter) if arm.trained else None,
                              scoring=p.generation.dtype)
    tag = {"arm": arm.name, "seed": seed}
    t0 = time.time()
    rows, _ = evaluate_model(model, tok, items, cfg.system_messages, arm.name, budget, p.generation.batch_size,
                             p.generation.max_prompt_tokens, p.erasure.system_message_file)
    out = {"items": rows.assign(**tag), "benchmarks": _benchmarks(model, tok, docs, p, tag, budget),
           "summaries": _summaries(model, tok, grounded, p, tag)}
    del model
    for k, df in out.items():
        df.to_json(files[k], orient="records", lines=True)
    done.write_text(json.dumps({"fingerprint": fp, "eval_s": round(time.time() - t0, 1)}))
    log(f"{arm.name} / seed {seed}: evaluated in {time.time() - t0:.0f} s")
    return out


def _benchmarks(model, tok, docs: list[dict], p: Params, tag: dict, auto_budget: int) -> pd.DataFrame:
    """The real benchmarks through the kit's generation layer with the harness's own prompts and
    filters (orca2_kit.harness.agreement: the same documents score the same either way)."""
    if not docs:
        return pd.DataFrame()
    from orca2_kit.evaluation.harness import agreement

    frames = []
    for mode in p.study.system_messages:
        budget = p.eval.harness.max_new_tokens if p.eval.harness.max_new_tokens != "auto" else auto_budget
        resp = agreement.kit_responses(model, tok, docs, mode, budget, p.generation.batch_size,
                                       system_message_file=p.erasure.system_message_file)
        frames.append(agreement.score(resp, docs, tag["arm"]).assign(system=mode, **tag))
    out = pd.concat(frames, ignore_index=True)
    out["chance"] = [1.0 / len(d["choices"]) if d["choices"] else 0.0 for d in docs] * len(frames)
    return out


def _summaries(model, tok, grounded, p: Params, tag: dict) -> pd.DataFrame:
    """Grounded summaries (notebook 06's built-in items), kept for the strategy they use."""
    if not grounded:
        return pd.DataFrame()
    from orca2_kit.generation import generate_detailed, messages, system_text

    rows = []
    for mode in p.study.system_messages:
        gens = generate_detailed(model, tok, [messages(system_text(mode, p.erasure.system_message_file), it.query)
                                              for it in grounded], p.hallucination.max_new_tokens,
                                 p.generation.batch_size, p.generation.max_prompt_tokens, stop_after_answer=False,
                                 desc=f"{tag['arm']} / summaries")
        rows += [{"id": it.id, "system": mode, "output": g.text, "hit_limit": g.hit_limit, **tag}
                 for it, g in zip(grounded, gens)]
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------ the study


def run(p: Params, run_dir: Path, log=print) -> dict[str, pd.DataFrame]:
    """Train and evaluate every arm x seed (reusing what is done); returns the pooled per-sample
    frames {"items", "benchmarks", "summaries"} with `arm` and `seed` columns."""
    from orca2_kit.generation import budgets
    from orca2_kit import tasks
    from orca2_kit.hallucination.items import make_grounded_items
    from orca2_kit.models import load_tokenizer, student_path

    import datasets

    datasets.disable_progress_bars()  # dozens of small datasets saved: their bars would drown the study's log
    run_dir = Path(run_dir)
    out = run_dir / STAGE_DIR
    sel = run_dir / "01_strategy_selection"
    selected = json.loads((sel / "strategy_map.json").read_text())
    train_items = tasks.load_items(sel / "suite" / "train.jsonl")
    items = tasks.load_items(sel / "suite" / "test.jsonl")
    docs = study_documents(p)
    grounded = make_grounded_items(p.study.grounded_items, p.seed) if p.study.grounded_items else []
    same = twins(p, selected)
    for name, twin in same.items():
        log(f"study: arm '{name}' would train exactly like '{twin}' (the same strategy map, erasure and training); "
            "it is not trained again and has no scores of its own")
    arms = [a for a in plan(p) if a.name not in same]
    (out / "plan.json").write_text(json.dumps({"arms": {a.name: a.overrides for a in arms}, "twins": same,
                                               "seeds": p.study.seeds, "items": len(items),
                                               "benchmark_documents": len(docs), "grounded_items": len(grounded)},
                                              indent=2))
    answers = {a.name: teacher_answers(a, selected, train_items, out, log) for a in arms if a.trained}
    tok = load_tokenizer(student_path(p.student), p.student.revision)
    need = max(budgets.answer_budget(tok, df, p.generation.budget_percentile, p.generation.budget_margin)[0]
               for df in answers.values())
    budget = need if p.eval.max_new_tokens == "auto" else p.eval.max_new_tokens
    log(f"study: {len(arms)} arms, seeds {p.study.seeds}, {len(items)} test items, {len(docs)} benchmark documents, "
        f"{len(grounded)} grounded items; budget {budget} new tokens")
    frames: dict[str, list[pd.DataFrame]] = {"items": [], "benchmarks": [], "summaries": []}
    base_dir = out / "base"
    base_dir.mkdir(parents=True, exist_ok=True)
    for arm in arms:
        for seed in (p.study.seeds if arm.trained else [0]):
            folder = train_arm(arm, seed, answers[arm.name], out, log) if arm.trained else base_dir
            for k, df in evaluate_arm(arm, seed, folder, items, docs, grounded, budget, log).items():
                frames[k].append(df)
    pooled = {k: pd.concat([f for f in v if len(f)], ignore_index=True) if any(len(f) for f in v) else pd.DataFrame()
              for k, v in frames.items()}
    if len(pooled["items"]):
        pooled["items"]["trained"] = ~pooled["items"].family.isin(p.tasks.heldout_families)
    return pooled


def study_documents(p: Params) -> list[dict]:
    """The real-benchmark documents every arm answers: the first `study.benchmark_limit` of each
    generative benchmark in the data directory (none without one)."""
    from orca2_kit.evaluation.harness import benchmarks as B

    data_dir = p.resolved_data_dir()
    if not p.study.benchmark_limit or data_dir is None:
        return []
    wanted = B.BENCHMARKS if p.eval.harness.benchmarks == "available" else p.eval.harness.benchmarks
    status = B.available(data_dir)
    return [d for name in wanted if name in B.BENCHMARKS and status.get(name) == "ok"
            for d in B.load_docs(name, data_dir)[:p.study.benchmark_limit]]


def arm_maps(p: Params, selected: dict[str, str]) -> dict[str, dict[str, str]]:
    """The strategy map each arm's teacher followed ({} for the base model)."""
    from orca2_kit.strategies import strategy_map

    return {a.name: strategy_map(a.params.teacher.strategy_map, selected) if a.trained else {} for a in plan(p)}


def summary_strategy(text: str) -> str:
    """The strategy a free-form summary's layout shows (it needs no 'Answer:' line): step-by-step,
    recall or extract layouts, and plain prose as 'prose'."""
    from orca2_kit.strategies import classify_strategy

    s = classify_strategy(text, answer_line=False)
    return "prose" if s == "direct" else s
