"""Every figure the notebooks show, drawn with seaborn and saved as PNG and SVG."""
from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

sns.set_theme(style="whitegrid", context="notebook")


def save(fig, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path.with_suffix(".png"), dpi=130, bbox_inches="tight")
    fig.savefig(path.with_suffix(".svg"), bbox_inches="tight")
    return path.with_suffix(".png")


def strategy_heatmap(acc: pd.DataFrame, choice: pd.DataFrame, path):
    """Dev accuracy per family x strategy; the chosen cell boxed, the expected one marked with *."""
    fig, ax = plt.subplots(figsize=(1.4 * acc.shape[1] + 2, 0.55 * acc.shape[0] + 1.5))
    sns.heatmap(acc, annot=True, fmt=".2f", cmap="viridis", vmin=0, vmax=1, cbar_kws={"label": "dev accuracy"}, ax=ax)
    cols = list(acc.columns)
    for r, fam in enumerate(acc.index):
        row = choice.set_index("family").loc[fam]
        if row["chosen"] in cols:
            ax.add_patch(plt.Rectangle((cols.index(row["chosen"]), r), 1, 1, fill=False, edgecolor="red", lw=2.5))
        if row["expected"] in cols:
            ax.text(cols.index(row["expected"]) + 0.9, r + 0.3, "*", color="white", fontsize=14, ha="right")
    ax.set_title("Base student, dev accuracy by strategy (box: chosen, *: expected)")
    ax.set_xlabel("strategy")
    ax.set_ylabel("task family")
    plt.setp(ax.get_xticklabels(), rotation=30, ha="right")
    return fig, save(fig, path)


def accept_rates(answers: pd.DataFrame, path):
    rates = answers.groupby(["family", "strategy"])["accepted"].mean().reset_index()
    fig, ax = plt.subplots(figsize=(8, 0.4 * len(rates) + 1.5))
    sns.barplot(data=rates, y="family", x="accepted", hue="strategy", dodge=False, ax=ax)
    ax.set_xlim(0, 1)
    sns.move_legend(ax, "upper left", bbox_to_anchor=(1.01, 1), title="strategy")
    ax.set_xlabel("accepted fraction of teacher answers")
    ax.set_title("Teacher answers verified against references")
    return fig, save(fig, path)


def token_lengths(lengths: pd.DataFrame, path):
    """Histogram of teacher-answer token lengths by strategy."""
    fig, ax = plt.subplots(figsize=(8, 4))
    sns.histplot(data=lengths, x="tokens", hue="strategy", multiple="stack", bins=30, ax=ax)
    ax.set_xlabel("teacher answer length (tokens)")
    ax.set_title("What the student will learn to write")
    return fig, save(fig, path)


def loss_curve(log_history: list[dict], path):
    logs = pd.DataFrame([r for r in log_history if "loss" in r])
    fig, ax1 = plt.subplots(figsize=(8, 4))
    if len(logs):
        sns.lineplot(data=logs, x="step", y="loss", marker="o", ax=ax1, label="train loss")
        if "learning_rate" in logs:
            ax2 = ax1.twinx()
            sns.lineplot(data=logs, x="step", y="learning_rate", color="gray", ax=ax2, label="learning rate")
            ax2.grid(False)
    ax1.set_title("SFT on the erased dataset (loss on teacher tokens only)")
    return fig, save(fig, path)


def base_vs_student(fam: pd.DataFrame, path):
    """Accuracy per family, base vs student, one panel per system message."""
    g = sns.catplot(data=fam, kind="bar", x="accuracy", y="family", hue="model", col="system",
                    height=0.45 * fam["family"].nunique() + 2, aspect=1.1)
    g.set(xlim=(0, 1))
    g.figure.suptitle("Held-out built-in tasks: base vs student", y=1.02)
    return g.figure, save(g.figure, path)


def hallucination_rates(rates: pd.DataFrame, path):
    """Hallucination rate with 95% CI per model and system message (cf. the paper's Fig. 6)."""
    fig, ax = plt.subplots(figsize=(7, 4))
    sns.barplot(data=rates, x="system", y="rate", hue="model", ax=ax)
    xs = {s: i for i, s in enumerate(rates["system"].unique())}
    models = list(rates["model"].unique())
    width = 0.8 / len(models)
    for _, r in rates.iterrows():
        if r["lo"] is None or pd.isna(r["lo"]):
            continue
        x = xs[r["system"]] - 0.4 + width * (models.index(r["model"]) + 0.5)
        ax.errorbar(x, r["rate"], yerr=[[r["rate"] - r["lo"]], [r["hi"] - r["rate"]]], color="black", capsize=4)
    ax.set_ylim(0, 1)
    ax.set_ylabel("hallucination rate")
    ax.set_title("Grounded summarisation: summaries with unsupported content")
    return fig, save(fig, path)
