"""The study end to end: every arm x seed trained and scored (reusing what is done), pooled.

`python -m orca2_kit study` runs notebook 01, then notebook 07, which calls `run`.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from orca2_kit import tasks
from orca2_kit.config import Params
from orca2_kit.evaluation.harness import benchmarks as B
from orca2_kit.generation import budgets
from orca2_kit.hallucination.items import scored_items
from orca2_kit.models import load_tokenizer, student_path
from orca2_kit.study.arms import plan, twins
from orca2_kit.study.steps import STAGE_DIR, evaluate_arm, teacher_answers, train_arm
from orca2_kit.teacher import selected_map


def study_documents(p: Params) -> list[dict]:
    """The real-benchmark documents every arm answers: the first `study.benchmark_limit` of each
    generative benchmark in the data directory (none without one)."""
    data_dir = p.resolved_data_dir()
    if not p.study.benchmark_limit or data_dir is None:
        return []
    wanted = B.BENCHMARKS if p.eval.harness.benchmarks == "available" else p.eval.harness.benchmarks
    status = B.available(data_dir)
    return [d for name in wanted if name in B.BENCHMARKS and status.get(name) == "ok"
            for d in B.load_docs(name, data_dir)[:p.study.benchmark_limit]]


def run(p: Params, run_dir: Path, log=print) -> dict[str, pd.DataFrame]:
    """Train and evaluate every arm x seed (reusing what is done); returns the pooled per-sample
    frames {"items", "benchmarks", "summaries"} with `arm` and `seed` columns."""
    import datasets

    datasets.disable_progress_bars()  # dozens of small datasets saved: their bars would drown the study's log
    run_dir = Path(run_dir)
    out = run_dir / STAGE_DIR
    items = tasks.load_items(run_dir / "01_strategy_selection" / "suite" / "test.jsonl")
    docs = study_documents(p)
    # the items 06 scores (past the documents the fact checker was developed and checked on)
    grounded = scored_items(p.study.grounded_items, p.seed) if p.study.grounded_items else []
    same = twins(p, selected_map(run_dir))
    for name, twin in same.items():
        log(f"study: arm '{name}' would train exactly like '{twin}' (the same strategy map, erasure and training); "
            "it is not trained again and has no scores of its own")
    arms = [a for a in plan(p) if a.name not in same]
    out.mkdir(parents=True, exist_ok=True)
    (out / "plan.json").write_text(json.dumps({"arms": {a.name: a.overrides for a in arms}, "twins": same,
                                               "seeds": p.study.seeds, "items": len(items),
                                               "benchmark_documents": len(docs), "grounded_items": len(grounded)},
                                              indent=2))
    answers = {a.name: teacher_answers(a, run_dir, log) for a in arms if a.trained}
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
            folder = train_arm(arm, seed, answers[arm.name], run_dir, log) if arm.trained else base_dir
            for k, df in evaluate_arm(arm, seed, folder, items, docs, grounded, budget, log).items():
                frames[k].append(df)
    pooled = {k: pd.concat([f for f in v if len(f)], ignore_index=True) if any(len(f) for f in v) else pd.DataFrame()
              for k, v in frames.items()}
    if len(pooled["items"]):
        pooled["items"]["trained"] = ~pooled["items"].family.isin(p.tasks.heldout_families)
    return pooled
