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
from orca2_kit.generation import budgets
from orca2_kit.models import load_student, load_tokenizer, student_path
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
    tok = load_tokenizer(student_path(p.student), p.student.revision)
    rows = []
    for size in sorted(cfg.sizes):
        part = subset(answers, size)
        budget = dev_budget(p, tok, part)
        for seed in cfg.seeds:
            arm = recipe.__class__(f"recipe-n{size}", recipe.params, recipe.overrides)
            folder = train_arm(arm, seed, part, run_dir, log, made_from={"train_items_per_family": size},
                               root=OUT_DIR)
            scored = folder / "dev_scores.jsonl"
            if _scored_budget(scored) != budget:  # never scored, or under another budget: score again
                adapter = folder / "04_sft_training" / ("adapter" if p.train.method == "lora" else "model")
                model, tok = load_student(p.student, p.device, adapter=str(adapter), scoring=p.generation.dtype,
                                          engine=p.generation.engine)
                df, _ = evaluate_model(model, tok, dev, list(p.study.system_messages), arm.name, budget,
                                       p.generation.batch_size, p.generation.max_prompt_tokens,
                                       p.erasure.system_message_file)
                del model
                df.assign(budget=budget).to_json(scored, orient="records", lines=True)
            df = pd.read_json(scored, lines=True)
            train_s = json.loads((folder / "done.json").read_text()).get("train_s")
            rows += [{**r, "size": size, "seed": seed, "train_s": train_s} for r in df.to_dict("records")]
    table = summarise(pd.DataFrame(rows), cfg.min_gain, cfg.max_size)
    (out / "curve.json").write_text(json.dumps(table, indent=2))
    return table


def dev_budget(p, tokenizer, answers: pd.DataFrame) -> int:
    """The dev answers' budget at one size, by the study's rule (study/run.py): a number set in
    study.learning_curve.max_new_tokens or else eval.max_new_tokens; 'auto', the teacher's answers
    the recipe trains on at this size (p95 of their lengths + margin, the largest per strategy)."""
    for setting in (p.study.learning_curve.max_new_tokens, p.eval.max_new_tokens):
        if setting != "auto":
            return int(setting)
    return budgets.answer_budget(tokenizer, answers, p.generation.budget_percentile, p.generation.budget_margin)[0]


def _scored_budget(path: Path):
    """The budget a dev_scores.jsonl was scored under (None: not scored, or before it was recorded)."""
    if not path.is_file():
        return None
    df = pd.read_json(path, lines=True)
    return int(df["budget"].iloc[0]) if "budget" in df and len(df) else None


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
                      "train_s": float(g.drop_duplicates("seed")["train_s"].mean()),
                      **_cuts(g)})
    pick, why = pick_size(sizes, min_gain, max_size)
    return {"sizes": sizes, "pick": pick, "rule": why, "min_gain": min_gain, "max_size": max_size}


def _cuts(g: pd.DataFrame) -> dict:
    """The dev budget at one size and how many answers reached it (cut), and of those, how many in a loop."""
    out = {"answers": len(g)}
    if "budget" in g:
        out["budget"] = int(g["budget"].iloc[0])
    if "hit_limit" in g:
        cut = g["hit_limit"].astype(bool)
        out["cut_by_budget"] = int(cut.sum())
        if "cut_in_loop" in g:
            out["cut_in_loop"] = int((cut & g["cut_in_loop"].astype(bool)).sum())
    return out


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


def load(run_dir: Path) -> dict | None:
    """curve.json of a run folder (None without one), each size with its dev budget's cuts: read
    from the dev answers where the table predates them being recorded."""
    path = Path(run_dir) / OUT_DIR / "curve.json"
    if not path.is_file():
        return None
    table = json.loads(path.read_text())
    for row in table["sizes"]:
        if "cut_by_budget" not in row:
            files = sorted((path.parent / f"recipe-n{row['size']}").glob("seed-*/dev_scores.jsonl"))
            if files:
                row.update(_cuts(pd.concat([pd.read_json(f, lines=True) for f in files], ignore_index=True)))
    return table


def seed_part_words(row: dict) -> str | None:
    """Why a size's seed part reads 0: the estimate (between-seed variance of the seed means minus
    what answer noise alone gives them) came out negative and was clipped at 0. None otherwise."""
    accs = list(row.get("seed_accuracy", {}).values())
    if len(accs) < 2 or row.get("seed_sd") != 0.0:
        return None
    n, between = row["items"], float(np.var(accs, ddof=1))
    noise = row["answer_var"] / n
    return (f"{row['size']} per family: the seed part of the spread reads 0 because its estimate is clipped at "
            f"zero. The seeds' dev accuracies ({', '.join(f'{100 * a:.1f}%' for a in accs)}) have a variance of "
            f"{between:.5f} (sd {100 * np.sqrt(between):.1f} points); answer noise alone (answer variance "
            f"{row['answer_var']:.3f} over {n} items) gives seed accuracies a variance of {noise:.5f} (sd "
            f"{100 * np.sqrt(noise):.1f} points). The seed part is the first minus the second, {between - noise:+.5f}: "
            f"below zero, so it is set to 0. The seeds differ less than item noise alone would make them; with {n} "
            f"items and {len(accs)} seeds a seed spread that small cannot be seen: read 0 as 'too small to measure "
            "here', not as 'none'.")


def budget_words(table: dict, setting=None) -> str:
    """The dev answers' token budget, against the study's, and how many answers it cut (in a loop or not).
    `setting`: study.learning_curve.max_new_tokens of the run, for a table that does not record its budget."""
    rows = table["sizes"]
    cut = sum(r.get("cut_by_budget", 0) for r in rows)
    loop = sum(r.get("cut_in_loop", 0) for r in rows)
    total = sum(r.get("answers", 0) for r in rows)
    if all("budget" in r for r in rows):
        out = ("Dev answers had " + ", ".join(f"{r['budget']} new tokens at {r['size']}" for r in rows) + " items per "
               "family: sized as the study sizes its test answers (the teacher's answers the recipe trained on, p95 "
               "of their lengths + margin); the study takes the largest over all its arms, so its budget can be larger.")
    else:
        out = (f"Dev answers had a fixed budget of {setting} new tokens (study.learning_curve.max_new_tokens, the "
               "kit's default when this curve ran), where the study sizes its budget from the teacher's answers "
               "('auto': its log says 'budget N new tokens'). The fixed number was an accident of the default; the "
               "kit now sizes the curve's budget as the study does.")
    if total and "cut_by_budget" in rows[0]:
        out += f" {cut} of {total} dev answers reached it"
        if "cut_in_loop" in rows[0] and cut:
            out += (", all of them inside a loop (a repeated line): no answer still making progress was cut." if loop == cut
                    else f", {loop} of them inside a loop (a repeated line), {cut - loop} while still making progress.")
        else:
            out += "."
    return out
