"""The pipeline: its stages in order, and what each stage's results depend on.

Each stage is one notebook and writes its artifacts into a folder of the same name under the run
directory, so a stage's outputs are one hop from its notebook. A stage's results depend on the
params sections it reads (STAGE_SECTIONS) and on the stages whose files it reads (STAGE_INPUTS);
orca2_kit/fingerprint.py hashes both, and the runner (orca2_kit/run/) reuses a stage only when
that hash is unchanged.
"""
from __future__ import annotations

STAGES = (
    "01_strategy_selection",
    "02_teacher_prompting",
    "03_prompt_erasure",
    "04_sft_training",
    "05_benchmark_eval",
    "06_hallucination",
)
# `python -m orca2_kit study`: strategy selection once, then every ablation arm (notebook 07)
STUDY = ("01_strategy_selection", "07_ablation")
ALL_STAGES = STAGES + ("07_ablation",)


def stage_name(key: str) -> str:
    """'04', '4', '04_sft_training' or 'sft_training' -> '04_sft_training'."""
    key = str(key).strip()
    for s in ALL_STAGES:
        if key in (s, s[:2], s[3:]) or (key.isdigit() and int(key) == int(s[:2])):
            return s
    raise ValueError(f"unknown stage '{key}'; stages are {', '.join(ALL_STAGES)}")


STAGE_SECTIONS = {
    "01_strategy_selection": ("seed", "student", "tasks", "generation", "strategy_selection"),
    "02_teacher_prompting": ("teacher",),
    "03_prompt_erasure": ("erasure",),
    "04_sft_training": ("train",),
    "05_benchmark_eval": ("eval", "data_dir"),
    "06_hallucination": ("hallucination", "data_dir"),
    # The study trains and scores every arm itself, each reused by the pipeline's own fingerprints (study/steps.py).
    "07_ablation": ("study", "teacher", "erasure", "train", "eval", "hallucination", "data_dir"),
}
# The stages whose files a stage reads (05 and 06 read the suite and the student of 01 through 04).
STAGE_INPUTS = {
    "01_strategy_selection": (),
    "02_teacher_prompting": ("01_strategy_selection",),
    "03_prompt_erasure": ("02_teacher_prompting",),
    "04_sft_training": ("03_prompt_erasure",),
    "05_benchmark_eval": ("04_sft_training",),
    "06_hallucination": ("04_sft_training",),
    "07_ablation": ("01_strategy_selection",),
}
# Top-level params no stage's results depend on: names.
NO_STAGE = ("profile", "description")
# Params that count as what they resolve to on this machine, not as written ('auto' is cuda on one
# machine and cpu on another): the device, and the dtypes it decides, are part of the fingerprint
# of every stage that runs the student (fingerprint.machine), each with the dtype it runs in.
RESOLVED = ("device",)
SCORING, TRAINING = ("device", "scoring_dtype"), ("device", "training_dtype")
MACHINE_STAGES = {"01_strategy_selection": SCORING, "04_sft_training": TRAINING, "05_benchmark_eval": SCORING,
                  "06_hallucination": SCORING, "07_ablation": ("device", "scoring_dtype", "training_dtype")}
# Keys that change how fast or how loudly a stage runs, never what it produces.
OPERATIONAL = ("teacher.max_concurrency", "teacher.timeout_s", "teacher.max_retries", "teacher.requests_per_minute",
               "teacher.tokens_per_minute", "teacher.batch_poll_s", "teacher.dry_run",
               "teacher.price_input_per_mtok", "teacher.price_output_per_mtok", "teacher.free",
               "train.logging_steps", "train.report_to", "train.save_steps",
               "hallucination.judge.max_concurrency", "hallucination.judge.timeout_s", "hallucination.judge.max_retries")
