"""Stage 05: base vs student, zero-shot, on the held-out split, under each system message.

This is the kit's own generation layer on the built-in tasks; the paper's benchmarks run through
lm-evaluation-harness (see the evaluation task configs). "empty" is an explicit empty system turn;
a template that cannot render one is reported, not silently replaced by its default.

Every table reports, per model and system message (and family): the **lenient** (format-free)
accuracy — does the answer commit to the right thing, in any clear form — beside the **strict**
accuracy (only the 'Answer:' line counts), the **format-OK** rate, the accuracy *among* format-OK
answers, the share of generations the token limit **cut**, and the **chance** level. The verdict
("is the student ahead?") is read on lenient accuracy; how much better the student follows the
answer format is its own number (the format-OK difference), never folded into the verdict.

Intervals resample the design's units: items within each family (the suite draws a fixed number
per family), so they say how far a figure could move on other items of these families. The student
is one training run (one seed): how much another seed would move it is not in any interval here
(notebook 07 trains several). "The base at its best" is the message it scores highest with on the
dev split, chosen before it is compared on the test items.
"""
from __future__ import annotations

import pandas as pd

from orca2_kit.scoring import cut_not_in_loop, evaluate_model
from orca2_kit.stats import bootstrap_ci
from orca2_kit.tasks.base import TaskItem

def base_and_student(p, items: list[TaskItem], adapter, train_metrics_path, max_new_tokens: int,
                     dev_items: list[TaskItem] = ()) -> tuple[pd.DataFrame, list[dict], pd.DataFrame]:
    """Notebook 05's built-in evaluation: the base model under the profile's system messages (and
    its template's own default, `none`, when eval.base_under_none), the student under the profile's;
    a `trained` column says whether the student trained on the item's family. The base model also
    answers `dev_items` under each of its messages (the third frame), to choose its best message
    on items the comparison does not use (best_base_message)."""
    from orca2_kit.models import load_student

    modes = list(p.eval.system_messages)
    runs = [("base", None, modes + (["none"] if p.eval.base_under_none and "none" not in modes else [])),
            ("student", adapter, modes)]
    results, skipped, dev = [], [], pd.DataFrame()
    for name, weights, systems in runs:
        model, tokenizer = load_student(p.student, p.device, adapter=str(weights) if weights else None,
                                        scoring=p.generation.dtype, engine=p.generation.engine)
        assert_same_template(tokenizer, train_metrics_path)
        extra = list(dev_items) if name == "base" else []  # in the same engine call: one tail, not two
        samples, skip = evaluate_model(model, tokenizer, list(items) + extra, systems, name, max_new_tokens,
                                       p.generation.batch_size, p.generation.max_prompt_tokens,
                                       p.erasure.system_message_file)
        if extra:
            on_dev = samples.id.isin({it.id for it in extra})
            samples, dev = samples[~on_dev].reset_index(drop=True), samples[on_dev].reset_index(drop=True)
        results.append(samples)
        skipped += skip
        del model
    samples = pd.concat(results, ignore_index=True)
    samples["trained"] = ~samples.family.isin(p.tasks.heldout_families)
    return samples, skipped, dev


def best_base_message(scored: pd.DataFrame) -> dict:
    """The base model's best system message: the highest lenient accuracy on `scored` (the dev split:
    items the comparison does not use, so the choice cannot favour it on the test items); ties go to
    the first message scored. Returns the message, each message's accuracy, and n."""
    base = scored[scored.model == "base"]
    acc = base.groupby("system", sort=False)["correct_lenient"].mean()
    return {"system": str(acc.idxmax()), "lenient": {k: float(v) for k, v in acc.items()},
            "n": int(base.groupby("system", sort=False).size().min())}


def _strata(g: pd.DataFrame):
    """Each row's family, the unit the suite was drawn in (None when the rows have no family)."""
    return g["family"].to_numpy() if "family" in g else None


def assert_same_template(tokenizer, train_metrics_path) -> str:
    """The student must be evaluated through the chat template it was trained with."""
    import json

    from orca2_kit.generation import template_hash

    trained = json.loads(open(train_metrics_path).read())["template_hash"]
    now = template_hash(tokenizer)
    if now != trained:
        raise RuntimeError(f"chat template changed between training ({trained}) and evaluation ({now}); "
                           "the student would be scored on prompts it was not trained on")
    return now


def summarize(samples: pd.DataFrame, by=("model", "system"), seed: int = 0) -> pd.DataFrame:
    """The evaluation table: lenient and strict accuracy with 95% CIs (items redrawn within their
    families), format-OK, accuracy among format-OK answers, the share cut by the token limit, and
    chance, per group of `by`."""
    rows = []
    for key, g in samples.groupby(list(by), sort=False):
        key = key if isinstance(key, tuple) else (key,)
        lo, hi = bootstrap_ci(g["correct_lenient"], seed=seed, strata=_strata(g))
        slo, shi = bootstrap_ci(g["correct_strict"], seed=seed, strata=_strata(g))
        ok = g[g["format_ok"].astype(bool)]
        rows.append({**dict(zip(by, key)), "n": len(g),
                     "lenient": g["correct_lenient"].mean(), "lenient_lo": lo, "lenient_hi": hi,
                     "strict": g["correct_strict"].mean(), "strict_lo": slo, "strict_hi": shi,
                     "format_ok": g["format_ok"].mean(),
                     "acc_given_format_ok": ok["correct_strict"].mean() if len(ok) else float("nan"),
                     "cut_by_limit": g["hit_limit"].mean(), "cut_not_in_loop": cut_not_in_loop(g),
                     "chance": g["chance"].mean()})
    return pd.DataFrame(rows)


def readable(table: pd.DataFrame, places: int = 3) -> pd.DataFrame:
    """An evaluation table as a notebook shows it: rounded, and where there is no accuracy among
    format-OK answers it says why instead of NaN (the stored table keeps NaN)."""
    out = table.round(places)
    if "acc_given_format_ok" in out:
        fmt = out["format_ok"] if "format_ok" in out else pd.Series(0.0, index=out.index)
        out["acc_given_format_ok"] = [no_format_ok_reason(f) if pd.isna(v) else v
                                      for v, f in zip(out["acc_given_format_ok"].astype(object), fmt)]
    return out


def no_format_ok_reason(format_ok) -> str:
    """Why a row has no accuracy among format-OK answers: none was format-OK, or (a log-likelihood
    row of the harness) nothing was generated, so there is no format to read."""
    return "—, not generated" if pd.isna(format_ok) else "—, no format-OK answers"


def conclusion(comparisons: pd.DataFrame) -> str:
    """What notebook 05's paired comparisons say, in words (null results included): the student at
    its training message against the base at its best, per group of items, then the format gain."""
    def span(r) -> str:
        return f"{r.difference:+.2f} (95% CI {r.ci_low:+.2f} to {r.ci_high:+.2f}, n={r.n})"

    best = comparisons[comparisons.comparison.str.contains("at its best") & comparisons.difference.notna()]
    fmt = comparisons[comparisons.comparison.str.startswith("format gain") & comparisons.difference.notna()]
    if not len(best):
        return "No paired comparison of student and base could be made."
    found = best[best.verdict != "not distinguishable"]
    parts = "; ".join(f"{r.items} {span(r)}" for r in best.itertuples())
    if len(found):
        head = ("Against the base model at its best message, on lenient accuracy (the answer committed to, in any "
                f"form), the student is " + "; ".join(f"{r.verdict} on {r.items}" for r in found.itertuples())
                + f" ({len(found)} of the {len(best)} comparisons listed after the colon; the rest are not distinguishable): ")
    else:
        head = ("In this run the student cannot be told apart from the base model at its best message on lenient "
                "accuracy (the answer committed to, in any form): ")
    out = head + parts + "." + below_chance_words(found) + cut_words(best)
    if len(fmt):
        r = fmt[fmt["items"] == "all"].iloc[0] if (fmt["items"] == "all").any() else fmt.iloc[0]
        out += (f" The student's share of format-OK answers (the answer on an `Answer:` line of its own) differs by {span(r)}"
                + (" — a format gain, not an ability gain." if r.ci_low > 0 else "."))
    return out


def budget_words(max_new_tokens: int, setting, needed: int, per_strategy: dict[str, int],
                 selection: dict | None = None) -> str:
    """Notebook 05's budget in words, and why it is one budget where notebook 01 shows one need per
    strategy. `setting`: eval.max_new_tokens ('auto' or a number); `needed`, `per_strategy`: what the
    teacher's accepted answers need (budgets.answer_budget); `selection`: 01's budgets.json
    ({"needed": {...}, "used": {...}}), None when this run has none."""
    per = ", ".join(f"{s} {n}" for s, n in per_strategy.items())
    head = (f"budget: {max_new_tokens} new tokens for every answer, "
            + (f"the largest need among the teacher's accepted answers (per strategy: {per})" if setting == "auto" else
               f"set by eval.max_new_tokens (the teacher's accepted answers need {needed}; per strategy: {per})") + ".")
    why = (" One budget, not one per strategy: the student chooses its strategy itself (no instruction names it), so "
           "any answer may need the room of the longest.")
    if selection and selection.get("needed"):
        s01 = selection["needed"]
        shared = [s for s in per_strategy if s in s01]
        used = set((selection.get("used") or {}).values())
        why += (" Notebook 01's needs are other figures (" + ", ".join(f"{s} {s01[s]}" for s in shared or s01)
                + "): they were measured on the reference answers of every trained family written in every candidate "
                "strategy, these on the answers the student trained on, each family in the one strategy 01 chose for it"
                + (f"; 01's grid too gave every strategy the same budget, its largest need ({used.pop()})" if len(used) == 1
                   else "") + ".")
    return head + why


def below_chance_words(found: pd.DataFrame) -> str:
    """For each verdict whose two scores are both below what guessing scores on its items, one
    sentence saying so: 'behind' between two scores under chance is a ranking of two failures."""
    out = []
    for r in found.to_dict("records"):
        ch, am, bm = r.get("chance"), r.get("a_mean"), r.get("b_mean")
        if any(v is None or pd.isna(v) for v in (ch, am, bm)) or not (am < ch and bm < ch):
            continue
        out.append(f" On {r['items']}, both scores are below chance ({r['a'].split(' / ')[0]} {am:.2f}, "
                   f"{r['b'].split(' / ')[0]} {bm:.2f}; guessing scores {ch:.2f} on these items): "
                   f"'{r['verdict']}' ranks two answers no better than a guess.")
    return "".join(out)


LARGE_CUT = 0.25  # a model cut this often has its cut share said in the conclusion's own words


def cut_words(best: pd.DataFrame) -> str:
    """The conclusion's sentence on how the compared answers ended, for each model the budget cut in
    at least LARGE_CUT of its answers: the share (and how much of it in a runaway loop) on all items,
    then per group of items. A cut answer ends where the budget stopped it, before its Answer line
    (the stop rule ends an answer there), so a model cut that often is scored mostly on answers that
    never said what they answer; "" when no model is cut that often."""
    rows = list(best.to_dict("records"))
    if not rows:
        return ""
    head = next((r for r in rows if r.get("items") == "all"), rows[0])
    out = []
    for side in ("a", "b"):
        share = head.get(f"{side}_cut_by_limit")
        if share is None or pd.isna(share) or share < LARGE_CUT:
            continue
        name, loop = head[side].split(" / ")[0], head.get(f"{side}_cut_in_loop")
        groups = [f"{r['items']} {r[f'{side}_cut_by_limit']:.0%}" for r in rows
                  if r is not head and r.get("items") and not pd.isna(r.get(f"{side}_cut_by_limit"))]
        out.append(f" The {name}'s answers were cut in {share:.0%} of cases (by the token budget, or stopped by the "
                   "kit once the same line came six times in a row)"
                   + (f", {loop:.0%} in a runaway loop (the same step again and again, which no budget would end)"
                      if loop is not None and not pd.isna(loop) and loop > 0 else "")
                   + (f"; {', '.join(groups)}" if groups else "")
                   + (": its accuracy is that of answers that mostly never reached an Answer line"
                      if share >= 0.5 else ": much of its accuracy is that of answers that never reached an Answer line")
                   + ", so a verdict here compares how often the models finish as much as what they know.")
    return "".join(out)


def per_family(samples: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """The same table per family (with whether the student trained on it, when known)."""
    by = ("family", "model", "system") + (("trained",) if "trained" in samples else ())
    return summarize(samples, by=by, seed=seed)


def paired_difference(samples: pd.DataFrame, system_a: str, system_b: str | None = None, a: str = "student",
                      b: str = "base", metric: str = "correct_lenient", seed: int = 0) -> dict:
    """`a` under `system_a` minus `b` under `system_b` (default: the same message), on the same
    items, with a paired bootstrap CI (items redrawn within their families)."""
    system_b = system_b or system_a
    xa = samples[(samples.model == a) & (samples.system == system_a)].set_index("id")
    xb = samples[(samples.model == b) & (samples.system == system_b)].set_index("id")
    d = (xa[metric].astype(float) - xb[metric].astype(float)).dropna()
    if not len(d):
        return {}
    lo, hi = bootstrap_ci(d, seed=seed, strata=xa.loc[d.index, "family"].to_numpy() if "family" in xa else None)
    # each side's share of answers the token budget cut, on these pairs: a cut answer is the budget's
    # as much as the model's, and the two models can be cut very differently
    cut = {f"{k}_cut_by_limit": float(x.loc[d.index, "hit_limit"].astype(bool).mean()) if "hit_limit" in x else None
           for k, x in (("a", xa), ("b", xb))}
    # and the share cut while in a runaway loop (the same step again and again), which no budget ends
    cut |= {f"{k}_cut_in_loop": float((x.loc[d.index, "hit_limit"].astype(bool) & x.loc[d.index, "cut_in_loop"]
                                       .astype(bool)).mean()) if {"hit_limit", "cut_in_loop"} <= set(x) else None
            for k, x in (("a", xa), ("b", xb))}
    # each side's score and what guessing scores on these items, so a verdict between two scores
    # below chance reads as what it is
    means = {f"{k}_mean": float(x.loc[d.index, metric].astype(float).mean()) for k, x in (("a", xa), ("b", xb))}
    chance = {"chance": float(xa.loc[d.index, "chance"].mean())} if "chance" in xa and metric != "format_ok" else {}
    return {"a": f"{a} / {system_a}", "b": f"{b} / {system_b}", "metric": metric, "difference": float(d.mean()),
            "ci_low": lo, "ci_high": hi, "n": int(len(d)), **cut, **means, **chance}


def cut_line(r) -> str:
    """A comparison row's cut shares in words: 'cut by the budget: student 0.52, base 0.06'."""
    r = r if isinstance(r, dict) else r._asdict()
    if r.get("a_cut_by_limit") is None or r.get("b_cut_by_limit") is None or pd.isna(r["a_cut_by_limit"]):
        return ""
    return (f"cut (budget or loop stop): {r['a'].split(' / ')[0]} {r['a_cut_by_limit']:.2f}, "
            f"{r['b'].split(' / ')[0]} {r['b_cut_by_limit']:.2f}")


def cut_by_model(samples: pd.DataFrame) -> dict:
    """Per model, the share of its answers the budget cut and the share cut while not in a loop
    (pooled over models these hide that one model is cut far more often than the other)."""
    return {"cut_by_limit": {m: float(g.hit_limit.astype(bool).mean()) for m, g in samples.groupby("model", sort=False)},
            "cut_not_in_loop": {m: cut_not_in_loop(g) for m, g in samples.groupby("model", sort=False)}}


def verdict(diff: dict) -> str:
    """'ahead', 'behind' or 'not distinguishable' from a paired difference's interval."""
    if not diff:
        return "not measured"
    return "ahead" if diff["ci_low"] > 0 else "behind" if diff["ci_high"] < 0 else "not distinguishable"


def comparisons(samples: pd.DataFrame, trained_system: str, seed: int = 0, best: str | None = None) -> pd.DataFrame:
    """The paired comparisons notebook 05 reads: the student against the base under each system
    message both were scored with, and the student (under the message it was trained with) against
    the base *at its best* message — both on lenient accuracy — and, apart, the format gain. `best`:
    the base's best message chosen on the dev split (best_base_message); without it, it is chosen on
    these same items, and the comparison's name says so."""
    rows = []
    systems = [s for s in dict.fromkeys(samples.system) if ((samples.model == "student") & (samples.system == s)).any()]
    for s in systems:
        rows.append({"comparison": f"same message ({s})", **paired_difference(samples, s, seed=seed)})
    base = samples[samples.model == "base"]
    if len(base) and ((samples.model == "student") & (samples.system == trained_system)).any():
        where = "chosen on dev" if best else "chosen on these items"
        best = best or base.groupby("system", sort=False)["correct_lenient"].mean().idxmax()
        rows.append({"comparison": f"student ({trained_system}) vs base at its best ({best}, {where})",
                     **paired_difference(samples, trained_system, best, seed=seed)})
        rows.append({"comparison": f"format gain: format-OK rate, student ({trained_system}) - base ({best})",
                     **paired_difference(samples, trained_system, best, metric="format_ok", seed=seed)})
    out = pd.DataFrame(rows)
    if len(out):
        out["verdict"] = [verdict(r) if r.get("metric") == "correct_lenient" else "-" for r in out.to_dict("records")]
    return out
