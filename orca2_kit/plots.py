"""Every figure the notebooks show, drawn with seaborn and saved as PNG and SVG."""
from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

sns.set_theme(style="whitegrid", context="notebook")

# One colour per strategy in every figure (the catalogue's order), and grey for answers with none.
STRATEGY_ORDER = ("direct", "step_by_step", "explain_then_answer", "recall_then_generate", "recall_reason_generate",
                  "extract_generate", "no_answer")
STRATEGY_COLORS = dict(zip(STRATEGY_ORDER, sns.color_palette("colorblind", 6) + [(0.6, 0.6, 0.6)]))


def strategy_hue(values) -> dict:
    """hue_order and palette for a `strategy` hue: the catalogue's order and colours, whatever is present."""
    present = set(values)
    order = [s for s in STRATEGY_ORDER if s in present] + sorted(present - set(STRATEGY_ORDER))
    extra = dict(zip(order, sns.color_palette("pastel", len(order))))
    return {"hue_order": order, "palette": {s: STRATEGY_COLORS.get(s, extra[s]) for s in order}}


def save(fig, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path.with_suffix(".png"), dpi=130, bbox_inches="tight")
    fig.savefig(path.with_suffix(".svg"), bbox_inches="tight")
    return path.with_suffix(".png")


def strategy_heatmap(cells: pd.DataFrame, choice: pd.DataFrame, path, title: str = "Base student"):
    """Dev accuracy (lenient) per family x strategy with its 95% interval; the chosen cell boxed, the
    expected one marked with *."""
    acc = cells.pivot_table(index="family", columns="strategy", values="accuracy", sort=False)
    label = cells.assign(t=[f"{a:.2f}\n[{lo:.2f}, {hi:.2f}]" for a, lo, hi in zip(cells.accuracy, cells.lo, cells.hi)]) \
        .pivot_table(index="family", columns="strategy", values="t", aggfunc="first", sort=False) \
        .reindex(index=acc.index, columns=acc.columns)
    fig, ax = plt.subplots(figsize=(1.7 * acc.shape[1] + 2, 0.75 * acc.shape[0] + 1.5))
    sns.heatmap(acc, annot=label.to_numpy(), fmt="", cmap="viridis", vmin=0, vmax=1, annot_kws={"fontsize": 8},
                cbar_kws={"label": "dev accuracy (lenient)"}, ax=ax)
    cols = list(acc.columns)
    for r, fam in enumerate(acc.index):
        row = choice.set_index("family").loc[fam]
        if row["chosen"] in cols:
            ax.add_patch(plt.Rectangle((cols.index(row["chosen"]), r), 1, 1, fill=False, edgecolor="red", lw=2.5))
        if row["expected"] in cols:
            ax.text(cols.index(row["expected"]) + 0.95, r + 0.25, "*", color="white", fontsize=14, ha="right")
    n = int(cells["n"].min()) if len(cells) else 0
    ax.set_title(f"{title}: dev accuracy by strategy, 95% CI (n={n} per cell; box: chosen, *: expected)")
    ax.set_xlabel("strategy")
    ax.set_ylabel("task family")
    plt.setp(ax.get_xticklabels(), rotation=30, ha="right")
    return fig, save(fig, path)


def accept_rates(answers: pd.DataFrame, path):
    rates = answers.groupby(["family", "strategy"])["accepted"].mean().reset_index()
    fig, ax = plt.subplots(figsize=(8, 0.4 * len(rates) + 1.5))
    sns.barplot(data=rates, y="family", x="accepted", hue="strategy", dodge=False, ax=ax, **strategy_hue(rates.strategy))
    ax.set_xlim(0, 1)
    sns.move_legend(ax, "upper left", bbox_to_anchor=(1.01, 1), title="strategy")
    ax.set_xlabel("accepted fraction of teacher answers")
    ax.set_title("Teacher answers verified against references")
    return fig, save(fig, path)


def token_lengths(lengths: pd.DataFrame, path):
    """Histogram of teacher-answer token lengths by strategy."""
    fig, ax = plt.subplots(figsize=(8, 4))
    sns.histplot(data=lengths, x="tokens", hue="strategy", multiple="stack", bins=30, ax=ax,
                 **strategy_hue(lengths.strategy))
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
            # one legend for both axes: each twin draws its own in the same corner, the second on top
            h1, l1 = ax1.get_legend_handles_labels()
            h2, l2 = ax2.get_legend_handles_labels()
            ax2.get_legend().remove()
            ax1.legend(h1 + h2, l1 + l2, loc="upper right")
    ax1.set_title("SFT on the erased dataset (loss on teacher tokens only)")
    return fig, save(fig, path)


def base_vs_student(fam: pd.DataFrame, path):
    """Lenient accuracy per family with 95% CIs, base vs student, one panel per system message; chance
    as a dashed tick per family, never-trained families marked."""
    fam = fam.copy()
    if "trained" in fam:
        fam["family"] = [f if t else f"{f} (never trained)" for f, t in zip(fam.family, fam.trained)]
    systems = list(dict.fromkeys(fam.system))
    families = list(dict.fromkeys(fam.family))
    fig, axes = plt.subplots(1, len(systems), figsize=(4.6 * len(systems), 0.5 * len(families) + 1.8), sharey=True,
                             squeeze=False)
    for ax, system in zip(axes[0], systems):
        g = fam[fam.system == system]
        models = list(dict.fromkeys(g.model))
        sns.barplot(g, y="family", x="lenient", hue="model", order=families, ax=ax, orient="h", hue_order=models)
        _interval_bars(ax, g, "lenient", families, models)
        _label_zero_bars(ax, g, "lenient", families, models)
        for i, f in enumerate(families):
            c = g[g.family == f]["chance"]
            if len(c):
                ax.plot([c.iloc[0]] * 2, [i - 0.45, i + 0.45], color="black", ls="--", lw=1)
        ax.set_xlim(0, 1)
        ax.set_title(f"{system} system message")
        ax.set_xlabel("")  # said once below the panels: three copies ran into each other
    fig.supxlabel("lenient accuracy, 95% CI (dashed: chance; \"0\": scored 0, a bar of no length)")
    fig.suptitle("Built-in test items (no model trained on them): base vs student; "
                 "(never trained): a family with no training items at all", y=1.02)
    fig.tight_layout()
    return fig, save(fig, path)


def _label_zero_bars(ax, table: pd.DataFrame, metric: str, order: list[str], models: list[str], key: str = "family"):
    """A '0' where a model scored 0 on a row (a horizontal bar of zero width is invisible, and would
    read as not measured); rows the model has no score for stay blank."""
    for container, m in zip(ax.containers, models):
        sub = table[table.model == m].set_index(key)
        for bar, name in zip(container, order):
            if name in sub.index and sub.loc[name, metric] == 0:
                ax.annotate("0", (0, bar.get_y() + bar.get_height() / 2), xytext=(2, 0), textcoords="offset points",
                            va="center", fontsize=9)


def _interval_bars(ax, table: pd.DataFrame, metric: str, order: list[str], models: list[str], key: str = "family"):
    """Black 95% interval lines on a horizontal seaborn barplot (one bar container per model, in order)."""
    for container, m in zip(ax.containers, models):
        sub = table[table.model == m].set_index(key)
        for bar, name in zip(container, order):
            if name in sub.index and not pd.isna(sub.loc[name, f"{metric}_lo"]):
                y = bar.get_y() + bar.get_height() / 2
                ax.plot([sub.loc[name, f"{metric}_lo"], sub.loc[name, f"{metric}_hi"]], [y, y], color="black", lw=1)


_HALLUC_ROWS = {
    "rate": "summaries with a\nwrong fact",
    "wrong_per_fact": "wrong facts per\nfact stated",
    "recall": "fact recall\n(vs reference)",
    "rouge_l": "ROUGE-L\n(vs reference)",
}


def hallucination_rates(rates: pd.DataFrame, path, paper: pd.DataFrame | None = None, judge: str = "offline checker",
                        trained_with: str | None = None):
    """Figure 6 style: per dataset (columns), the hallucination rate, wrong facts per fact stated
    (length-matched: saying less cannot lower it), fact recall and ROUGE-L (rows), per system
    message and model, with 95% intervals. The paper's published values are drawn as black
    diamonds where they match a panel (same dataset and system message) and all of them, with
    their source tags, in the last column. `trained_with` marks the student's training message."""
    datasets = list(dict.fromkeys(rates["dataset"]))
    systems = list(dict.fromkeys(rates["system"]))
    models = list(dict.fromkeys(rates["model"]))
    metrics = [m for m in _HALLUC_ROWS if m in rates and rates[m].notna().any()]
    has_paper = paper is not None and len(paper)
    palette = dict(zip(models, sns.color_palette("deep", len(models))))
    ncols = len(datasets) + bool(has_paper)
    fig, axes = plt.subplots(len(metrics), ncols, figsize=(3.4 * ncols + 1.5, 2.3 * len(metrics) + 1.2),
                             squeeze=False)  # every metric is a fraction: each panel runs 0-1
    width = 0.8 / len(models)
    for c, ds in enumerate(datasets):
        d = rates[rates["dataset"] == ds]
        for row, metric in enumerate(metrics):
            ax = axes[row][c]
            sns.barplot(data=d, x="system", y=metric, hue="model", order=systems, hue_order=models,
                        palette=palette, ax=ax, legend=(row == 0 and c == 0))
            lo, hi = ("lo", "hi") if metric == "rate" else (f"{metric}_lo", f"{metric}_hi")
            for _, r in d.iterrows():
                if lo in r and not pd.isna(r[lo]) and not pd.isna(r[metric]):
                    x = systems.index(r["system"]) - 0.4 + width * (models.index(r["model"]) + 0.5)
                    ax.errorbar(x, r[metric], yerr=[[r[metric] - r[lo]], [r[hi] - r[metric]]], color="black",
                                capsize=3, lw=1)
            if row == 0:
                ax.set_title(f"{ds} (n={int(d['n'].max()) if len(d) else 0} per bar)")
                for _, p in (paper[paper["dataset"] == ds].iterrows() if has_paper else ()):
                    if p["system"] in systems:
                        ax.scatter(systems.index(p["system"]), p["rate"], marker="D", color="black", zorder=5)
                        ax.annotate(f"{p['model']} [{p['source']}]", (systems.index(p["system"]), p["rate"]),
                                    fontsize=6, xytext=(4, 2), textcoords="offset points")
            ax.set_ylim(0, 1)
            ax.set_xticks(range(len(systems)), [f"{x}\n(trained)" if x == trained_with else x for x in systems],
                          fontsize=8)
            ax.set_xlabel("system message" if row == len(metrics) - 1 else "")
            ax.set_ylabel(_HALLUC_ROWS[metric] if c == 0 else "")
    if has_paper:
        ax = axes[0][-1]
        labels = [f"{p.model}, {p.system}\n{p.dataset} [{p.source}]" for p in paper.itertuples()]
        ax.barh(range(len(paper)), paper["rate"], color="0.6")
        ax.scatter(paper["rate"], range(len(paper)), marker="D", color="black", zorder=5)
        ax.set_yticks(range(len(paper)), labels, fontsize=7)
        ax.yaxis.tick_right()
        ax.set_xlim(0, 1)
        ax.set_title("paper, Fig. 6 (GPT-4 judge)", fontsize=9)
        ax.set_xlabel("hallucination rate")
        for row in range(1, len(metrics)):
            axes[row][-1].axis("off")
    if axes[0][0].get_legend() is not None:  # one legend for all panels, beside the last one
        handles, labels = axes[0][0].get_legend_handles_labels()
        axes[0][0].get_legend().remove()
        if has_paper and len(metrics) > 1:
            axes[1][-1].legend(handles, labels, title="model", loc="upper left")
        else:
            axes[0][-1].legend(handles, labels, title="model", loc="upper left", bbox_to_anchor=(1.02, 1))
    fig.suptitle(f"Grounded summarisation, {judge}: 95% intervals\n{_paper_note(has_paper, datasets)}", fontsize=10)
    fig.tight_layout()
    return fig, save(fig, path)


def _paper_note(has_paper: bool, datasets: list[str]) -> str:
    """Why the paper's values are or are not in the figure. Notebook 06 passes them only when the
    run has rates on real data: the paper's Figure 6 is on QMSum, ACI-Bench and MS MARCO, never on
    our built-in documents (orca2_kit/data/paper_fig6.yaml does record values)."""
    if has_paper:
        return ("black diamonds: the paper's published values (arXiv:2311.11045, Fig. 6; source tags in brackets), "
                "7-13B models judged by GPT-4")
    if all(d == "builtin" for d in datasets):
        return ("paper values: not drawn - the paper's rates are on real data (QMSum, ACI-Bench, MS MARCO),\n"
                "and this run has rates on built-in documents only")
    return "paper values: not drawn - none were passed with these rates"


_DIFF_TITLES = {"hallucinated": "summaries with a wrong fact", "n_wrong": "wrong facts per summary",
                "precision": "precision (right / stated)", "recall": "fact recall", "n_words": "length (words)",
                "rouge_l": "ROUGE-L"}


def paired_differences(diffs: pd.DataFrame, path, title: str = "student minus base on the same items, 95% paired bootstrap"):
    """Forest plot: each metric's mean paired difference (95% interval) per dataset and system
    message, with the number of pairs in each row's label; the dashed line is no difference. Rows
    with fewer than 5 pairs are left out (an interval over 2 pairs looks precise and is not)."""
    d = diffs.dropna(subset=["diff"]).copy()
    d = d[d["n_pairs"] >= 5] if "n_pairs" in d and (d["n_pairs"] >= 5).any() else d
    n = d.groupby(["dataset", "system"])["n_pairs"].transform("max").astype(int).astype(str) if "n_pairs" in d else ""
    d["where"] = (d["dataset"] + " / " + d["system"] + (" / " + d["model"] if d["model"].nunique() > 1 else "")
                  + (" (n=" + n + ")" if "n_pairs" in d else ""))
    metrics = list(dict.fromkeys(d["metric"]))
    fig, axes = plt.subplots(1, max(1, len(metrics)), figsize=(2.8 * max(1, len(metrics)) + 1, 0.45 * d["where"].nunique() + 1.6),
                             sharey=True, squeeze=False)
    order = list(dict.fromkeys(d["where"]))
    for ax, metric in zip(axes[0], metrics):
        g = d[d["metric"] == metric]
        y = [order.index(w) for w in g["where"]]
        ax.errorbar(g["diff"], y, xerr=[g["diff"] - g["lo"], g["hi"] - g["diff"]], fmt="o", color="black", capsize=3)
        ax.axvline(0, ls="--", color="gray")
        ax.set_title(_DIFF_TITLES.get(metric, metric), fontsize=9)
        ax.set_yticks(range(len(order)), order)
    axes[0][0].invert_yaxis()  # the first row on top
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig, save(fig, path)


def benchmark_scores(summary: pd.DataFrame, path):
    """Table 2 / Figure 5 style: lenient accuracy per benchmark, base vs student, one panel per system
    message, with 95% bootstrap intervals and each benchmark's chance level (dashed)."""
    s = summary[summary.variant == "generative"]
    systems = list(dict.fromkeys(s.system))
    benches = list(dict.fromkeys(s.benchmark))
    fig, axes = plt.subplots(1, len(systems), figsize=(5 * len(systems), 0.45 * len(benches) + 2),
                             sharey=True, squeeze=False)
    for ax, system in zip(axes[0], systems):
        g = s[s.system == system]
        models = list(dict.fromkeys(g.model))
        sns.barplot(g, y="benchmark", x="lenient", hue="model", order=benches, ax=ax, orient="h", hue_order=models)
        _interval_bars(ax, g, "lenient", benches, models, key="benchmark")
        for i, b in enumerate(benches):
            c = g[g.benchmark == b]["chance"]
            if len(c):
                ax.plot([c.iloc[0]] * 2, [i - 0.45, i + 0.45], color="black", ls="--", lw=1)
        ax.set_xlim(0, 1)
        ax.set_title(f"{system} system message")
        ax.set_xlabel("lenient accuracy, 95% CI (dashed: chance)")
    fig.suptitle("Real benchmarks through lm-evaluation-harness, zero-shot")
    fig.tight_layout()
    return fig, save(fig, path)


def multiple_choice_forms(mc_summary: pd.DataFrame, path):
    """The multiple-choice sets scored two ways, one panel per model: the option letter (the `_ll`
    variant) and the field's standard form (the option text, acc and acc_norm), with 95% bootstrap
    intervals and each benchmark's chance level (black tick)."""
    bars = [("letter", "acc", "letter: acc"), ("continuation", "acc", "option text: acc"),
            ("continuation", "acc_norm", "option text: acc_norm")]
    models, benches = list(dict.fromkeys(mc_summary.model)), list(dict.fromkeys(mc_summary.benchmark))
    fig, axes = plt.subplots(1, len(models), figsize=(5 * len(models), 0.6 * len(benches) + 2), sharey=True,
                             squeeze=False)
    height = 0.8 / len(bars)
    for ax, model in zip(axes[0], models):
        g = mc_summary[mc_summary.model == model]
        for k, ((form, metric, label), color) in enumerate(zip(bars, sns.color_palette(n_colors=len(bars)))):
            r = g[g.form == form].set_index("benchmark").reindex(benches)
            y = [i + (k - (len(bars) - 1) / 2) * height for i in range(len(benches))]
            err = [r[metric] - r[f"{metric}_ci_low"], r[f"{metric}_ci_high"] - r[metric]]
            ax.barh(y, r[metric].fillna(0), height=height, color=color, label=label, xerr=err, error_kw={"lw": 1})
        chance = g.groupby("benchmark", sort=False)["chance"].first().reindex(benches)
        for i, c in enumerate(chance):
            ax.plot([c, c], [i - 0.45, i + 0.45], color="black", lw=2, label="chance" if i == 0 else None)
        ax.set_yticks(range(len(benches)), benches)
        ax.set_xlim(0, 1)
        ax.set_title(model)
        ax.set_xlabel("accuracy, 95% CI")
    axes[0][0].invert_yaxis()
    axes[0][-1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.suptitle("Multiple-choice sets: option letter vs the standard form (option text as continuation)")
    fig.tight_layout()
    return fig, save(fig, path)


def paper_side_by_side(table: pd.DataFrame, path, ours: tuple[str, ...] = ("base", "student")):
    """Figure 4 style: our models' scores next to the paper's published ones, per benchmark (percent).
    Only benchmarks both sides report are drawn; the paper's models are 7B/13B, ours ~100M."""
    long = table.rename_axis("benchmark").reset_index().melt(id_vars="benchmark", var_name="model", value_name="accuracy").dropna()
    have = set(long[long.model.isin(ours)].benchmark)
    long = long[long.benchmark.isin(have)]
    both = {b for b in have if (long[(long.benchmark == b) & ~long.model.isin(ours)]).shape[0]}
    long = long[long.benchmark.isin(both)] if both else long
    fig, ax = plt.subplots(figsize=(1.6 * max(1, long.benchmark.nunique()) + 3, 4))
    sns.barplot(long, x="benchmark", y="accuracy", hue="model", ax=ax)
    ax.set_ylim(0, 100)
    ax.set_ylabel("accuracy (%)")
    ax.set_title("This run beside the paper's published zero-shot numbers (empty system message)")
    ax.legend(fontsize=8, ncol=2)
    return fig, save(fig, path)
