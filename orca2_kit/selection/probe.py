"""Strategy selection by probe (strategy_selection.rule: probe): what can the student *learn*?

For each candidate strategy: the teacher answers the train items in that strategy (through the
same cache as notebook 02, so no request is ever paid twice), the answers are erased into an SFT
set, a short LoRA (`probe_steps` steps) is trained on it, and that probe student answers the dev
split under the system message it was trained with. Its lenient dev accuracy per family is the
strategy's score, read with the same paired rule as `measured` (selection.choose_strategies).

Each probe is a small run folder (probe/<strategy>/ with 02_teacher_prompting, 03_prompt_erasure,
04_sft_training), trained by the same `python -m orca2_kit.train` as notebook 04; a finished probe
is reused when 01 is rerun.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from orca2_kit.config import Params, dump_params
from orca2_kit.scoring import score_rows
from orca2_kit.generation import generate_detailed, messages
from orca2_kit.strategies import student_system_message


def probe_params(p: Params) -> Params:
    """The training params of a probe: the run's, cut to `probe_steps` steps, saved once at the end."""
    steps = p.strategy_selection.probe_steps
    return p.model_copy(update={"train": p.train.model_copy(update={
        "max_steps": steps, "save_steps": steps, "logging_steps": max(1, steps // 10), "report_to": []})})


def train_probe(p: Params, strategy: str, train_items, out: Path, log=print) -> Path:
    """Teacher answers in `strategy`, erased, then a short LoRA; returns the adapter folder."""
    from orca2_kit import erasure
    from orca2_kit import train
    from orca2_kit.teacher import run_teacher

    adapter = out / "04_sft_training" / ("adapter" if p.train.method == "lora" else "model")
    if (out / "04_sft_training" / "train_metrics.json").is_file():
        log(f"probe {strategy}: reusing {adapter}")
        return adapter
    families = sorted({it.family for it in train_items})
    answers = run_teacher(p.teacher, train_items, {f: strategy for f in families}, out / "02_teacher_prompting")
    system = student_system_message(p.erasure.system_message, p.erasure.system_message_file)
    rows = erasure.build_sft_rows(answers, system, variant="erased")
    erasure.save_sft_dataset(rows, out / "03_prompt_erasure" / "sft_dataset", seed=p.seed)
    params_path = dump_params(probe_params(p), out / "params.yaml")
    log(f"probe {strategy}: training {p.strategy_selection.probe_steps} steps on {len(rows)} erased answers")
    train.launch(params_path, out, p.train.launcher, p.train.num_processes, p.train.accelerate_config,
                 log_file=out / "train.log")
    return adapter


def run_probe_grid(p: Params, train_items, dev_items, candidates: list[str], budgets: dict[str, int], out: Path,
                   log=print) -> pd.DataFrame:
    """The strategy grid of the probe rule: one row per (dev item, strategy), as run_strategy_grid."""
    from orca2_kit.models import load_student

    system = student_system_message(p.erasure.system_message, p.erasure.system_message_file)
    rows = []
    for s in candidates:
        adapter = train_probe(p, s, train_items, Path(out) / s, log)
        model, tok = load_student(p.student, p.device, adapter=str(adapter), scoring=p.generation.dtype,
                                  engine=p.generation.engine)
        gens = generate_detailed(model, tok, [messages(system, it.prompt) for it in dev_items], budgets[s],
                                 p.generation.batch_size, p.generation.max_prompt_tokens, desc=f"probe {s} / dev")
        rows += score_rows(dev_items, gens, strategy=s)
        del model
    return pd.DataFrame(rows)
