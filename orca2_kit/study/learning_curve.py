"""How much training data the study's arms get: the recipe's dev accuracy at several training sizes.

`python -m orca2_kit learning-curve --profile offline-study` runs notebook 01 (the suite and the
strategy map), then trains the recipe arm at each size of `study.learning_curve.sizes` (the first
N training items of every trained family) with each of its seeds, through the same stage
functions the study uses, and scores the dev split (never the test items the study compares arms
on). The rule that picks the size is stated in the profile before any curve is seen: the smallest
size after which the next one gains less than `min_gain` of dev accuracy (its point estimate), or
the largest size when every step still gains; `max_size` caps it at what the study's time allows.
The seeds' spread at each size is the pilot of the study's seed-to-seed assumption.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from orca2_kit import tasks
from orca2_kit.models import load_student
from orca2_kit.scoring import evaluate_model
from orca2_kit.study.arms import plan
from orca2_kit.study.intervals import mean_interval
from orca2_kit.study.steps import teacher_answers, train_arm

OUT_DIR = "learning_curve"


def subset(answers: pd.DataFrame, size: int) -> pd.DataFrame:
    """The teacher's answers to the first `size` training items of each family (the suite's order)."""
    index = answers["id"].str.rsplit("/", n=1).str[-1].astype(int)
    return answers[index < size]


def curve(p, run_dir: Path, log=print) -> dict:
    """Train the recipe at each size and seed; score the dev split; return the table and the pick."""
    cfg = p.study.learning_curve
    run_dir = Path(run_dir)
    out = run_dir / OUT_DIR
    out.mkdir(parents=True, exist_ok=True)
    if max(cfg.sizes) > p.tasks.n_train:
        raise ValueError(f"study.learning_curve.sizes: {max(cfg.sizes)} training items per family, but the suite "
                         f"has tasks.n_train={p.tasks.n_train}; raise tasks.n_train or lower the sizes")
    recipe = next(a for a in plan(p) if a.name == "recipe")
    answers = teacher_answers(recipe, run_dir, log)
    dev = [it for it in tasks.load_items(run_dir / "01_strategy_selection" / "suite" / "dev.jsonl")
           if it.family not in p.tasks.heldout_families]
    rows = []
    for size in sorted(cfg.sizes):
        part = subset(answers, size)
        for seed in cfg.seeds:
            arm = recipe.__class__(f"recipe-n{size}", recipe.params, recipe.overrides)
            folder = train_arm(arm, seed, part, run_dir, log, made_from={"train_items_per_family": size},
                               root=OUT_DIR)
            scored = folder / "dev_scores.jsonl"
            if not scored.is_file():
                adapter = folder / "04_sft_training" / ("adapter" if p.train.method == "lora" else "model")
                model, tok = load_student(p.student, p.device, adapter=str(adapter), scoring=p.generation.dtype)
                df, _ = evaluate_model(model, tok, dev, list(p.study.system_messages), arm.name, cfg.max_new_tokens,
                                       p.generation.batch_size, p.generation.max_prompt_tokens,
                                       p.erasure.system_message_file)
                del model
                df.to_json(scored, orient="records", lines=True)
            df = pd.read_json(scored, lines=True)
            train_s = json.loads((folder / "done.json").read_text()).get("train_s")
            rows += [{**r, "size": size, "seed": seed, "train_s": train_s} for r in df.to_dict("records")]
    table = summarise(pd.DataFrame(rows), cfg.min_gain, cfg.max_size)
    (out / "curve.json").write_text(json.dumps(table, indent=2))
    return table


def summarise(samples: pd.DataFrame, min_gain: float, max_size: int | None = None) -> dict:
    """Per size: dev accuracy (mean over seeds and items) with its interval, each seed's accuracy,
    the training time; and the size the rule picks, with the rule in words."""
    sizes = []
    for size, g in samples.groupby("size"):
        m = g.pivot_table(index=["family", "id"], columns="seed", values="correct_lenient")
        acc, lo, hi = mean_interval(m.to_numpy(float), m.index.get_level_values("family").to_numpy())
        per_seed = m.mean(axis=0)
        sizes.append({"size": int(size), "accuracy": acc, "lo": lo, "hi": hi, "items": len(m),
                      "seed_accuracy": {int(k): float(v) for k, v in per_seed.items()},
                      **variance_components(m.to_numpy(float)),
                      "train_s": float(g.drop_duplicates("seed")["train_s"].mean())})
    pick, why = pick_size(sizes, min_gain, max_size)
    return {"sizes": sizes, "pick": pick, "rule": why, "min_gain": min_gain, "max_size": max_size}


def variance_components(y: np.ndarray) -> dict:
    """The study's planning values from one arm's items x seeds outcomes (two-way layout): the
    answer-level variance within an item across seeds, and the seeds' spread beyond it."""
    n, k = y.shape
    if k < 2:
        return {"answer_var": float("nan"), "seed_sd": float("nan")}
    means = y.mean(axis=0)
    resid = y - y.mean(axis=1, keepdims=True) - means[None, :] + y.mean()
    ms_res = float((resid ** 2).sum() / max((n - 1) * (k - 1), 1))
    ms_seed = n * float(means.var(ddof=1))
    return {"answer_var": ms_res, "seed_sd": float(np.sqrt(max(ms_seed - ms_res, 0.0) / n))}


def pick_size(sizes: list[dict], min_gain: float, max_size: int | None = None) -> tuple[int, str]:
    """The rule: the smallest size whose next size gains less than `min_gain`; else the largest; capped."""
    pick = sizes[-1]["size"]
    why = f"every larger size still gained at least {100 * min_gain:.0f} points: the largest, {pick}"
    for a, b in zip(sizes, sizes[1:]):
        gain = b["accuracy"] - a["accuracy"]
        if gain < min_gain:
            pick = a["size"]
            why = (f"{a['size']} -> {b['size']} training items per family gained {100 * gain:+.1f} points "
                   f"(< {100 * min_gain:.0f}): the student stops improving at about {a['size']}")
            break
    if max_size is not None and pick > max_size:
        why += f"; capped at {max_size}, the largest that fits the study's time"
        pick = max_size
    return pick, why


def pilot_values(table: dict) -> dict:
    """The answer-level variance and seed spread at the picked size (the study's planning pilot)."""
    row = next(r for r in table["sizes"] if r["size"] == table["pick"])
    return {"answer_var": row["answer_var"], "seed_sd": row["seed_sd"], "size": row["size"], "items": row["items"]}
