"""Stage 05: base vs student, zero-shot, on the held-out split, under each system message.

This is the kit's own generation layer on the built-in tasks; the paper's benchmarks run through
lm-evaluation-harness (see the evaluation task configs). "empty" is an explicit empty system turn;
a template that cannot render one is reported, not silently replaced by its default.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .extract import score
from .generation import empty_system_check, generate, messages, system_text
from .tasks.base import TaskItem


def evaluate_model(model, tokenizer, items: list[TaskItem], system_modes: list[str], model_name: str,
                   max_new_tokens: int, batch_size: int, max_prompt_tokens: int = 1024,
                   system_message_file: str | None = None, engine: str = "auto") -> tuple[pd.DataFrame, list[dict]]:
    """Per-sample rows for every system message this template supports, and the skipped ones.
    `engine`: generation.generate's ("hf": plain model.generate, to check the fast decoder)."""
    rows, skipped = [], []
    check = empty_system_check(tokenizer)
    for mode in system_modes:
        if mode == "empty" and not check["possible"]:
            skipped.append({"model": model_name, "system": mode, "reason": check["reason"]})
            continue
        system = system_text(mode, system_message_file)
        outs = generate(model, tokenizer, [messages(system, it.prompt) for it in items], max_new_tokens,
                        batch_size, max_prompt_tokens, desc=f"{model_name} / {mode} system", engine=engine)
        for it, out in zip(items, outs):
            rows.append({"model": model_name, "system": mode, "id": it.id, "family": it.family, "output": out,
                         "reference": it.reference, **score(out, it.reference, it.answer_type, it.choices)})
    return pd.DataFrame(rows), skipped


def assert_same_template(tokenizer, train_metrics_path) -> str:
    """The student must be evaluated through the chat template it was trained with."""
    import json

    from .generation import template_hash

    trained = json.loads(open(train_metrics_path).read())["template_hash"]
    now = template_hash(tokenizer)
    if now != trained:
        raise RuntimeError(f"chat template changed between training ({trained}) and evaluation ({now}); "
                           "the student would be scored on prompts it was not trained on")
    return now


def bootstrap_ci(values, n_boot: int = 1000, seed: int = 0) -> tuple[float, float]:
    """95% percentile bootstrap interval of a mean (seeded: same data, same interval)."""
    v = np.asarray(values, dtype=float)
    if len(v) == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = v[rng.integers(0, len(v), size=(n_boot, len(v)))].mean(axis=1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def summarize(samples: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Accuracy (flexible and strict), 95% CI and format-OK rate per model and system message."""
    rows = []
    for (m, s), g in samples.groupby(["model", "system"], sort=False):
        lo, hi = bootstrap_ci(g["correct_flexible"], seed=seed)
        rows.append({"model": m, "system": s, "n": len(g), "accuracy": g["correct_flexible"].mean(),
                     "ci_low": lo, "ci_high": hi, "accuracy_strict": g["correct_strict"].mean(),
                     "format_ok": g["format_ok"].mean()})
    return pd.DataFrame(rows)


def per_family(samples: pd.DataFrame) -> pd.DataFrame:
    return (samples.groupby(["family", "model", "system"], sort=False)["correct_flexible"].mean()
            .rename("accuracy").reset_index())


def paired_difference(samples: pd.DataFrame, system: str, a: str = "student", b: str = "base",
                      seed: int = 0) -> dict:
    """Student minus base accuracy on the same items, with a paired bootstrap CI."""
    s = samples[samples.system == system].pivot_table(index="id", columns="model", values="correct_flexible")
    if a not in s or b not in s:
        return {}
    d = (s[a] - s[b]).dropna()
    lo, hi = bootstrap_ci(d, seed=seed)
    return {"system": system, "difference": float(d.mean()), "ci_low": lo, "ci_high": hi, "n": int(len(d))}
