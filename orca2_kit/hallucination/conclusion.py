"""What notebook 06's numbers say, in words, with the confound a rate alone hides.

A summary cut while looping often repeats lines it already wrote: it then states no more distinct
facts than it did before the loop began, so it has fewer chances to state a wrong one than a
summary that kept going (a loop that cycles through new values does the opposite). A model whose
summaries mostly loop can then show a lower share of summaries with a wrong fact without being any
more faithful. So the conclusion says, per dataset:

* student minus base on the share of summaries with a wrong fact, per system message, paired, each
  with its interval and verdict ("less often" / "more often" a wrong fact, or not distinguishable);
* each model's share of summaries the limit cut (and how many of those in a runaway loop) when it
  is large (LARGE_CUT), and the distinct facts stated per summary and wrong facts per fact stated
  (length-matched) of both models;
* where the student's summaries were mostly cut or state fewer facts than the base's, that its
  lower rate is not evidence of less hallucination. It never says "lower hallucination" otherwise.
"""
from __future__ import annotations

from orca2_kit.hallucination.metrics import MIN_PAIRS, _num, ratio_with_ci

LARGE_CUT = 0.25  # a model cut this often has its cut share said in the conclusion's words
MOSTLY = 0.5  # cut at least this often: its rate is that of summaries that mostly never ended


def _share(rows: list[dict], key: str) -> float:
    return sum(bool(r.get(key)) for r in rows) / len(rows) if rows else 0.0


def _loop_share(rows: list[dict]) -> float:
    return sum(bool(r.get("hit_limit")) and bool(r.get("cut_in_loop")) for r in rows) / len(rows) if rows else 0.0


def _verdict(d: dict) -> str:
    if d["n_pairs"] < MIN_PAIRS:
        return f"too few pairs for a verdict (n={d['n_pairs']})"
    interval = f"{d['diff']:+.2f} (95% CI {d['lo']:+.2f} to {d['hi']:+.2f}, n={d['n_pairs']})"
    word = ("less often" if d["hi"] < 0 else "more often" if d["lo"] > 0 else None)
    return f"{interval}: " + (f"the student's summaries {word} state a wrong fact" if word else "not distinguishable")


def _facts(rows: list[dict], seed: int) -> tuple[float | None, dict]:
    """Distinct facts stated per summary, and wrong facts per fact stated with its interval."""
    rows = [r for r in rows if r.get("n_facts") is not None]
    if not rows:
        return None, {}
    return (sum(r["n_facts"] for r in rows) / len(rows),
            ratio_with_ci([r["n_wrong"] for r in rows], [r["n_facts"] for r in rows], seed=seed))


def conclusion(rows: list[dict], diffs: list[dict], max_new_tokens: int, model: str = "student",
               baseline: str = "base", seed: int = 0) -> str:
    """Notebook 06's conclusion from its per-summary rows (models only, offline checker) and its
    paired differences (metrics.paired_differences), one paragraph per dataset."""
    out = []
    for ds in dict.fromkeys(r.get("dataset", "builtin") for r in rows):
        mine = [r for r in rows if r.get("dataset", "builtin") == ds]
        wrong = [d for d in diffs if d["dataset"] == ds and d["metric"] == "hallucinated" and d["judge"] == "offline"
                 and d["model"] == model and d["baseline"] == baseline and _num(d["diff"]) is not None]
        if not wrong:
            continue
        para = (f"{ds}: the share of summaries with a wrong fact (offline checker), {model} minus {baseline} on the same "
                "documents: " + "; ".join(f"{d['system']} {_verdict(d)}" for d in wrong) + ".")
        by = {m: [r for r in mine if r["model"] == m] for m in (model, baseline)}
        cut = {m: (_share(g, "hit_limit"), _loop_share(g)) for m, g in by.items()}
        for m, (share, loop) in cut.items():
            if share >= LARGE_CUT:
                para += (f" The {m}'s summaries were cut in {share:.0%} of cases (by the {max_new_tokens}-token "
                         "limit, or stopped by the kit once the same line came six times in a row)"
                         + (f", {loop:.0%} in a runaway loop (the same lines again and again)" if loop else "") + ".")
        facts = {m: _facts(g, seed) for m, g in by.items()}
        if all(f[0] is not None for f in facts.values()):
            para += (" Distinct facts stated per summary: " + ", ".join(f"{m} {f[0]:.1f}" for m, f in facts.items())
                     + "; wrong facts per fact stated (length-matched): " + ", ".join(
                         f"{m} {f[1]['mean']:.3f} [{f[1]['lo']:.3f}, {f[1]['hi']:.3f}]" if f[1].get("mean") is not None
                         else f"{m} —" for m, f in facts.items()) + ".")
        fewer = all(f[0] is not None for f in facts.values()) and facts[model][0] < facts[baseline][0]
        lower = any(d["diff"] < 0 for d in wrong)
        if lower and (cut[model][0] >= MOSTLY or fewer):
            why = [f"{cut[model][0]:.0%} of its summaries never ended" if cut[model][0] >= MOSTLY else "",
                   f"it states fewer distinct facts per summary than the {baseline}" if fewer else ""]
            para += (f" So the {model}'s lower share is not evidence of less hallucination: "
                     + " and ".join(w for w in why if w) + ", and a summary that loops or says less has fewer "
                     "chances to state a wrong fact; read it beside the wrong facts per fact stated above.")
        out.append(para)
    return "\n".join(out) or "No paired comparison of student and base summaries could be made."
