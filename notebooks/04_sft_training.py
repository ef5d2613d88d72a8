# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-all
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 04 · SFT: teach the student from the erased dataset
#
# Supervised fine-tuning with TRL's `SFTTrainer`, LoRA adapters from PEFT, and the loss on the
# **teacher's tokens only** (the prompt — system message and task — is masked). Training runs as
# a separate process (`python -m orca2_kit.train`, or `accelerate launch` for several processes or
# GPUs), so this notebook never initialises CUDA, and an interrupted run resumes from its last
# checkpoint when rerun.

# %% tags=["parameters"]
params_path = "offline"  # a profile in params/ or a YAML path; the runner passes the run's params.yaml
run_dir = "../outputs/interactive"  # the same folder notebooks 01-03 wrote to
overrides = {}  # e.g. {"train.epochs": 1}

# %%
import json

from orca2_kit import plots, train  # first: it quiets library warnings that mean nothing to a reader
from orca2_kit.train import loss_mask
from datasets import load_from_disk  # noqa: E402,I001
from IPython.display import HTML, display
from orca2_kit.config import dump_params
from orca2_kit.models import load_tokenizer, student_path
from orca2_kit.run.stage import open_stage

stage = open_stage("04", params_path, run_dir, overrides)
p = stage.params
stage.artifact("03", "sft_dataset")
print("train: " + ", ".join(f"{k}={v}" for k, v in p.train.model_dump().items() if v is not None))
print(f"training seed (adapter initialisation, batch order): {p.train_seed()}"
      + ("" if p.train.seed is not None else " — train.seed is null, so the profile's seed"))

# %% [markdown]
# ## Which tokens are trained?
# One training example as the student's chat template renders it: the system message and the task
# (grey) are the prompt, masked out of the loss; only the teacher's answer and the end-of-turn token
# (yellow) are trained on — the student learns to *write* the answer, never to predict the question.

# %%
example = load_from_disk(str(stage.artifact("03", "sft_dataset")))[0]
HTML(loss_mask.as_html(load_tokenizer(student_path(p.student)), example, p.train.max_length))

# %%
out = train.launch(dump_params(p, stage.out / "params.yaml"), stage.run_dir, p.train.launcher, p.train.num_processes,
                   p.train.accelerate_config)

# %%
metrics = json.loads((out / "train_metrics.json").read_text())
display(train.train_summary(metrics))
train.train_log_table(metrics["log_history"])

# %%
fig, _ = plots.loss_curve(metrics["log_history"], stage.figures / "04_loss")

# %% [markdown]
# The log table counts `tokens_read (prompt + answer)` (TRL's `num_tokens`): every token the model
# read so far, the masked prompt included; the loss is on the answer's tokens only (*answer tokens*
# in the first table).
#
# Each point is the mean loss over the steps since the last one logged, and the batches are grouped
# by length (so little compute goes to padding): a batch of short direct answers and a batch of long
# step-by-step ones differ a lot in how hard their tokens are, so the curve jumps from point to point.
# Read its trend, not single points. A low training loss says the student can reproduce the teacher's
# layouts; whether it answers *new* tasks better is notebook 05's question.

# %%
stage.write_metrics({"train_loss": metrics["train_loss"], "global_step": metrics["global_step"],
                     "padding_fraction": metrics["padding_fraction"],
                     "template_hash": metrics["template_hash"]})
# wall-clock numbers apart: metrics.json is identical for the same seed, timings never are
_ = (stage.out / "timings.json").write_text(json.dumps({k: metrics[k] for k in ("train_runtime_s", "tokens_per_s")}))

# %% [markdown]
# ## Try it
# Change one thing, predict, then rerun. Each exercise runs into its own folder and keeps this run's
# results: `python -m orca2_kit run --resume <run dir> --exercise <id>` (its report sets the numbers
# side by side). Or set `overrides` in the parameters cell above and rerun the notebooks named.
#
# **04.1 · Smaller adapters** (reruns 04-05): `overrides = {"train.lora_r": 4, "train.lora_alpha": 8}`
# - *Predict:* A quarter of the trainable parameters; does the loss curve change much?
# - *Expected:* 4x fewer trainable parameters and about the same time per step (the frozen base
#   dominates on a CPU); the loss ends a little higher, and the student's accuracy stays close to the
#   run's, within the bootstrap intervals.
#
# **04.2 · A ten times smaller learning rate** (reruns 04-05): `overrides = {"train.learning_rate":
# 0.0002}`
# - *Predict:* What does the loss curve look like after the same number of steps, and where does the
#   student land?
# - *Expected:* The loss falls much more slowly and ends clearly higher; the student learns less of
#   the answer format (lower format-OK in 05). Whether it also answers worse is read on lenient
#   accuracy, which moves less than strict accuracy and may stay within the intervals of the run's
#   student.
#
# **04.3 · Two epochs** (reruns 04-05): `overrides = {"train.epochs": 2}`
# - *Predict:* Twice the steps; does the student keep improving on never-trained families?
# - *Expected:* Twice the steps and about twice the training time; the training loss ends lower.
#   Accuracy on the never-trained families improves less than the loss does, and may not improve at
#   all: the answers follow a few fixed layouts per strategy, which one epoch already teaches.
