"""Notebook 04's numbers as small rounded tables, read from train_metrics.json (not the trainer's
printed log dicts, whose values are strings at four significant digits)."""
from __future__ import annotations

import pandas as pd

# log_history key -> the column a reader sees. TRL's 'num_tokens' counts every token the model
# read, the masked prompt included; the loss is on the answer's tokens only.
LOG_COLUMNS = {"step": "step", "epoch": "epoch", "loss": "loss", "grad_norm": "grad_norm",
               "learning_rate": "learning_rate", "mean_token_accuracy": "token_accuracy",
               "num_tokens": "tokens_read (prompt + answer)"}


def train_log_table(log_history: list[dict]) -> pd.DataFrame:
    """One row per logged step: loss, gradient norm, learning rate, token accuracy and the tokens
    read so far, rounded to what a reader compares (3 decimals; the learning rate in 3 significant
    digits, as text; tokens as whole numbers)."""
    rows = [{LOG_COLUMNS[k]: r[k] for k in LOG_COLUMNS if k in r} for r in log_history if "loss" in r]
    df = pd.DataFrame(rows)
    if not len(df):
        return df
    out = df.round({"epoch": 2, "loss": 3, "grad_norm": 3, "token_accuracy": 3})
    if "learning_rate" in out:
        out["learning_rate"] = [f"{x:.3g}" for x in out["learning_rate"]]  # a shared decimal format shows 1.7e-05 as 0.000
    if "tokens_read (prompt + answer)" in out:
        out["tokens_read (prompt + answer)"] = out["tokens_read (prompt + answer)"].astype(int)
    return out.set_index("step")


def train_summary(metrics: dict) -> pd.DataFrame:
    """The run in one small table: what was trained, on what, how far, how fast, rounded."""
    tokens = metrics.get("tokens") or {}
    rows = [("method", metrics.get("method")), ("device", metrics.get("device")),
            ("base weights dtype", str(metrics.get("base_dtype", "")).removeprefix("torch.")),
            ("optimizer steps", metrics.get("global_step")),
            ("training loss (mean over the run)", round(metrics["train_loss"], 3) if "train_loss" in metrics else None),
            ("time (s)", round(metrics["train_runtime_s"], 1) if "train_runtime_s" in metrics else None),
            ("tokens per second", round(metrics["tokens_per_s"]) if "tokens_per_s" in metrics else None),
            ("padding share of the batches", round(metrics["padding_fraction"], 3) if "padding_fraction" in metrics else None),
            ("packing", metrics.get("packing")), ("trainable parameters", metrics.get("trainable_params")),
            ("examples", tokens.get("examples")), ("prompt tokens (masked)", tokens.get("prompt_tokens")),
            ("answer tokens (trained on)", tokens.get("completion_tokens"))]
    return pd.DataFrame([(k, v) for k, v in rows if v is not None], columns=["", "value"]).set_index("")
