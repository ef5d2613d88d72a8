"""The study's figures (notebook 07 and the learning-curve command), in the kit's style (orca2_kit/plots.py)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from orca2_kit.plots import STRATEGY_ORDER, save
from orca2_kit.study.analysis import NO_LAYOUT


def study_scores(scores: pd.DataFrame, path, title: str = "Ablation study"):
    """Lenient accuracy per arm (mean over seeds, 95% interval over items, seeds and families), one
    panel per item group, chance dashed; the recipe arm's bar outlined."""
    groups = list(dict.fromkeys(scores.group))
    arms = list(dict.fromkeys(scores.arm))
    fig, axes = plt.subplots(1, len(groups), figsize=(4.2 * len(groups) + 1, 0.45 * len(arms) + 2), sharey=True,
                             squeeze=False)
    palette = dict(zip(arms, sns.color_palette("deep", len(arms))))
    for ax, grp in zip(axes[0], groups):
        g = scores[scores.group == grp].set_index("arm").reindex(arms)
        ax.barh(range(len(arms)), g["mean"], color=[palette[a] for a in arms],
                edgecolor=["black" if a == "recipe" else "none" for a in arms], linewidth=1.5)
        ax.errorbar(g["mean"], range(len(arms)), xerr=[g["mean"] - g["lo"], g["hi"] - g["mean"]], fmt="none",
                    color="black", lw=1, capsize=3)
        if g["chance"].notna().any():
            ax.axvline(float(g["chance"].mean()), color="black", ls="--", lw=1)
        ax.set_yticks(range(len(arms)), arms)
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        n = g["items"].dropna()
        ax.set_title(f"{grp} ({int(n.max()) if len(n) else 0} items)")
        ax.set_xlabel("lenient accuracy, 95% CI (dashed: chance)")
    fig.suptitle(title)
    fig.tight_layout()
    return fig, save(fig, path)


def study_format_vs_ability(scores: pd.DataFrame, path):
    """Per arm: lenient (format-free) accuracy beside the format-OK rate and strict accuracy, so a gain
    that is only the answer format shows as a gap between the bars."""
    long = scores.melt(id_vars=["arm"], value_vars=["lenient", "strict", "format_ok"], var_name="reading",
                       value_name="share")
    fig, ax = plt.subplots(figsize=(8, 0.5 * scores.arm.nunique() + 2))
    sns.barplot(long, y="arm", x="share", hue="reading", ax=ax, orient="h")
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of test items (mean over seeds)")
    ax.set_title("Does an arm know more, or only write the 'Answer:' line more often?")
    sns.move_legend(ax, "lower right")
    fig.tight_layout()
    return fig, save(fig, path)


def strategy_use_matrices(use: pd.DataFrame, path, title: str = "Which strategy each arm's answers use"):
    """One panel per arm: family x strategy used (share of answers), the strategy its map asked for
    boxed (for never-trained families: the expected one). Every strategy of the catalogue is a
    column, a never-used one a column of zeros (a reader sees it was never used, and its box is
    drawn), then 'no layout' (no recognisable layout), then any other label present."""
    arms = list(dict.fromkeys(use.arm))
    catalogue = [s for s in STRATEGY_ORDER if s != "no_answer"] + [NO_LAYOUT]
    used = catalogue + sorted(set(use.used) - set(catalogue))
    families = list(dict.fromkeys(use.family))
    cols = min(3, len(arms))
    rows = -(-len(arms) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.4 * cols + 1, (0.42 * len(families) + 2.2) * rows), squeeze=False)
    for ax, arm in zip(axes.flat, arms):
        g = use[use.arm == arm]
        m = g.pivot_table(index="family", columns="used", values="share", aggfunc="sum").reindex(
            index=families, columns=used).fillna(0.0)
        sns.heatmap(m, annot=True, fmt=".2f", cmap="Blues", vmin=0, vmax=1, cbar=False, ax=ax, annot_kws={"fontsize": 7})
        asked = g.drop_duplicates("family").set_index("family")["asked"]
        for r, fam in enumerate(families):
            if fam in asked and asked[fam] in used:
                ax.add_patch(plt.Rectangle((used.index(asked[fam]), r), 1, 1, fill=False, edgecolor="red", lw=2))
        ax.set_title(arm)
        ax.set_xlabel("")
        ax.set_ylabel("")
        plt.setp(ax.get_xticklabels(), rotation=35, ha="right", fontsize=8)
    for ax in list(axes.flat)[len(arms):]:
        ax.axis("off")
    fig.suptitle(f"{title} (red box: the strategy the arm's map asked the teacher for)")
    fig.tight_layout()
    return fig, save(fig, path)


def learning_curve(table: dict, path):
    """The recipe's dev accuracy against training items per family (log scale), each seed as a dot,
    the mean with its 95% interval, and the size the profile's rule picked."""
    rows = table["sizes"]
    sizes = [r["size"] for r in rows]
    fig, ax = plt.subplots(figsize=(6.5, 4))
    ax.errorbar(sizes, [r["accuracy"] for r in rows], yerr=[[r["accuracy"] - r["lo"] for r in rows],
                                                             [r["hi"] - r["accuracy"] for r in rows]],
                fmt="o-", color="black", capsize=4, label="mean over seeds, 95% CI")
    for r in rows:
        ax.scatter([r["size"]] * len(r["seed_accuracy"]), list(r["seed_accuracy"].values()), color="tab:blue",
                   alpha=0.6, s=18, label="one training seed" if r is rows[0] else None)
    ax.axvline(table["pick"], color="tab:red", ls="--", lw=1, label=f"picked: {table['pick']}")
    ax.set_xscale("log")
    ax.set_xticks(sizes, [str(s) for s in sizes])
    ax.set_xticks([], minor=True)  # the log axis's own minor labels (2x10^1, 3x10^1) would overlap the sizes
    ax.set_xlabel("training items per family (recipe arm)")
    ax.set_ylabel("dev accuracy (lenient)")
    ax.set_title("Where does the student stop improving?", fontsize=11)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig, save(fig, path)
