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

from orca2_kit import plots, train
from orca2_kit.config import dump_params
from orca2_kit.stages import open_stage

stage = open_stage("04", params_path, run_dir, overrides)
p = stage.params
stage.artifact("03", "sft_dataset")
print({k: v for k, v in p.train.model_dump().items() if v is not None})

# %%
out = train.launch(dump_params(p, stage.out / "params.yaml"), stage.run_dir, p.train.launcher, p.train.num_processes,
                   p.train.accelerate_config)

# %%
metrics = json.loads((out / "train_metrics.json").read_text())
{k: metrics[k] for k in ("method", "device", "base_dtype", "global_step", "train_loss", "train_runtime_s", "tokens_per_s",
                "padding_fraction", "packing", "trainable_params", "tokens")}

# %%
fig, _ = plots.loss_curve(metrics["log_history"], stage.figures / "04_loss")

# %% [markdown]
# The loss should fall quickly: the answers are short and follow a few fixed layouts per
# strategy. What matters is whether the student generalises to *new* tasks — notebook 05.

# %%
stage.write_metrics({"train_loss": metrics["train_loss"], "global_step": metrics["global_step"],
                     "train_runtime_s": metrics["train_runtime_s"], "tokens_per_s": metrics["tokens_per_s"],
                     "padding_fraction": metrics["padding_fraction"],
                     "template_hash": metrics["template_hash"]})

# %% [markdown]
# ## Try it
# 1. `overrides = {"train.epochs": 1}`: predict the effect on notebook 05's student accuracy, then check.
# 2. `overrides = {"train.lora_r": 4}`: fewer trainable parameters — does the loss curve change much?
