"""report.html: one page per run that people want to look at.

The pipeline at a glance (a box per stage: status, time, headline number), then each stage's
figures and metrics tables, links to the executed notebooks (also rendered to HTML, for a plain
browser), any "Try it" exercises run on it, and the manifest. Figures are linked relatively
(`figures/*.png`), so the page works from any copy of the run folder, offline. Written at the end
of every `python -m orca2_kit run`; `python -m orca2_kit report RUN_DIR` rewrites it.
"""
from __future__ import annotations

import json
from pathlib import Path

import jinja2
import pandas as pd
import yaml

from orca2_kit.evaluation.builtin import no_format_ok_reason
from orca2_kit.run.data import overview_line, skipped_line
from orca2_kit.selection.choose import summary as summary_01
from orca2_kit.run.manifest import read_manifest
from orca2_kit.study import learning_curve
from orca2_kit.pipeline import ALL_STAGES, STAGES
from orca2_kit.paths import NOTEBOOKS_DIR

TEMPLATE = Path(__file__).resolve().parent / "templates" / "report.html.j2"


def _pct(x) -> str:
    return f"{100 * x:.0f}%"


def _rows(m, key, **match):
    return [r for r in m.get(key, []) if all(r.get(k) == v for k, v in match.items())]


def _glance_05(m):
    """The verdict the notebook prints: student vs base at its best, lenient (format-free)."""
    for r in m.get("comparisons", []):
        if r.get("items") == "all" and "at its best" in str(r.get("comparison")) and "difference" in r:
            found = [g for g in m.get("comparisons", []) if g.get("items") not in (None, "all") and "difference" in g
                     and "at its best" in str(g.get("comparison")) and g.get("verdict") not in (None, "not distinguishable")]
            return (f"lenient accuracy, student - base at its best: {100 * r['difference']:+.0f} points "
                    f"(95% CI {100 * r['ci_low']:+.0f}..{100 * r['ci_high']:+.0f}, n={r['n']}): {r['verdict']}"
                    + "".join(f"; on {g['items']}: {100 * g['difference']:+.0f} points (95% CI {100 * g['ci_low']:+.0f}.."
                              f"{100 * g['ci_high']:+.0f}, n={g['n']}): {g['verdict']}" + _below_chance(g) for g in found)
                    + _cut_words({r["a"]: r.get("a_cut_by_limit"), r["b"]: r.get("b_cut_by_limit")},
                                 "answers cut (token budget or loop stop), on all items"))
    return ""


def _cut_words(shares: dict, what: str) -> str:
    """'; answers cut by the token budget: student 52%, base 6%' (per model, never pooled), or ''."""
    if not shares or any(v is None for v in shares.values()):
        return ""
    return f"; {what}: " + ", ".join(f"{m} {_pct(v)}" for m, v in shares.items())


def _below_chance(g: dict) -> str:
    """' (both scores below chance: ...)' when a verdict ranks two scores under what guessing gets."""
    ch, a, b = g.get("chance"), g.get("a_mean"), g.get("b_mean")
    if any(not isinstance(v, (int, float)) for v in (ch, a, b)) or not (a < ch and b < ch):
        return ""
    return (f" (both scores below chance: {g['a'].split(' / ')[0]} {a:.2f}, {g['b'].split(' / ')[0]} {b:.2f}, "
            f"guessing {ch:.2f})")


def _verdict(lo: float, hi: float, up: str, down: str) -> str:
    """What an interval of a difference says: `up` when it lies above 0, `down` below, else undecided."""
    return up if lo > 0 else down if hi < 0 else "not distinguishable"


def _glance_06(m):
    """Student minus base on the built-in documents, summaries with a wrong fact, paired, per
    message; fact recall beside it. Every interval carries its own verdict."""
    def rows(metric):
        return [r for r in m.get("paired_differences", []) if r.get("dataset") == "builtin"
                and r.get("judge") == "offline" and r.get("metric") == metric and r.get("diff") is not None]

    wrong, recall = rows("hallucinated"), rows("recall")
    if not wrong:
        return ""
    out = (f"summaries with a wrong fact, student - base (built-in, n={wrong[0]['n_pairs']} pairs): " + ", ".join(
        f"{r['system']} {100 * r['diff']:+.0f} points (95% CI {100 * r['lo']:+.0f}..{100 * r['hi']:+.0f}): "
        + _verdict(r["lo"], r["hi"], "more often wrong", "less often wrong") for r in wrong))
    if recall:  # a rate alone rewards saying nothing: what the summaries kept goes beside it
        out += "; fact recall " + ", ".join(
            f"{r['system']} {100 * r['diff']:+.0f} points ({100 * r['lo']:+.0f}..{100 * r['hi']:+.0f}): "
            + _verdict(r["lo"], r["hi"], "keeps more facts", "keeps fewer facts") for r in recall)
    if isinstance(m.get("cut_by_limit"), dict):  # per model since issue 27 (a pooled share hid the gap)
        out += _cut_words(m["cut_by_limit"], "summaries cut (token limit or loop stop)")
    held = (m.get("checker_agreement") or {}).get("heldout") or {}
    if "caught_in_scope" in held:
        out += (f". The checker flags {held['caught_in_scope']}/{held['n_in_scope']} hand-labelled summaries with a wrong "
                f"fact of its kinds, {held['caught']}/{held['n_hallucinated']} with any unsupported claim: a lower bound")
    return out


# A stage's headline number for the overview; a metric that a notebook stopped writing just drops out.
GLANCE = {
    # not "100% as the authors expected": at 8 dev items a cell, keeping it by default is what the rule almost always does
    "01": lambda m: summary_01(m["choice"], m.get("cells") or []),
    "02": lambda m: f"{_pct(m['accept_rate'])} of {m['n_answers']} teacher answers accepted"
                    + (f"; {m['cache_hits']} from the cache, {m['requests_sent']} sent" if m.get("cache_hits") or m.get("requests_sent") else ""),
    "03": lambda m: f"{m['rows']} training rows ({m.get('variant', 'erased')}), {m['instruction_leaks']} with "
                    "the teacher's instruction",
    "04": lambda m: f"loss {m['train_loss']:.3f} after {m['global_step']} steps",
    "05": _glance_05,
    "06": _glance_06,
    "07": lambda m: " ".join(str(m["conclusion"]).splitlines()[:1]),
}


def glance(stage: str, metrics: dict) -> str:
    try:
        return GLANCE[stage[:2]](metrics) if metrics else ""
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return ""


def _fmt(v):
    """A value as a reader reads it: numbers to three places, a list or mapping as plain words, not
    JSON; nothing (None: e.g. no judge set) as 'none', a number that could not be computed as '—'."""
    if isinstance(v, float):
        return "—" if v != v else f"{v:.3f}"
    if isinstance(v, dict):
        return "; ".join(f"{k}: {_fmt(x)}" for k, x in v.items())
    if isinstance(v, list):
        return ", ".join(_fmt(x) for x in v)
    return "none" if v is None else str(v)


# Why a table cell has no number, where the column says it: an empty cell reads as a rendering fault.
_NO_VALUE = {"acc_given_format_ok": "—, no format-OK answers"}


def _cell(column: str, v) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return _NO_VALUE.get(column, "—")
    return _fmt(v)


# Columns that say *which* row it is come first, in this order; then the row's size; then the
# values, each followed by its interval and verdict. metrics.json stores keys sorted (for stable
# diffs), which would put 'hi' before 'lo' and 'verdict' far from its number.
_KEYS = ("items", "group", "dataset", "benchmark", "variant", "form", "family", "model", "baseline", "system", "judge",
         "strategy", "metric", "comparison", "a", "b", "expected", "chosen", "challenger")
_SIZES = ("n", "n_pairs")
_VALUES = ("accuracy", "rate", "diff", "difference", "gain", "lenient", "strict", "acc", "acc_norm", "precision",
           "recall", "format_ok", "acc_given_format_ok", "chance")
_BARE = ("lo", "hi", "ci_low", "ci_high", "verdict", "why", "agrees")  # belong to the row's main value


def _interval(c: str) -> tuple[str, ...]:
    return tuple(f"{c}{s}" for s in ("_lo", "_hi", "_ci_low", "_ci_high"))


def order_columns(cols: list[str]) -> list[str]:
    """Keys, size, then each value with its own interval; the bare lo/hi (and verdict) after the
    row's main value; everything else after, in its stored order."""
    cols = list(cols)
    bound = {x for c in cols for x in _interval(c) if x in cols}
    values = [c for c in _VALUES if c in cols] + [c for c in cols if c not in _VALUES and c not in _KEYS
                                                  and c not in _SIZES and c not in _BARE and c not in bound]
    out = [c for c in _KEYS if c in cols] + [c for c in _SIZES if c in cols]
    for i, c in enumerate(values):
        out += [c] + [x for x in _interval(c) if x in cols]
        if i == 0:
            out += [b for b in _BARE if b in cols]
    return out + [c for c in cols if c not in out]


def _with_verdict(df: pd.DataFrame) -> pd.DataFrame:
    """A difference with an interval and no verdict gets one: a reader should not have to work out
    whether 0 is inside [-26, -1]."""
    for value, lo, hi in (("diff", "lo", "hi"), ("difference", "ci_low", "ci_high")):
        if {value, lo, hi} <= set(df.columns) and "verdict" not in df.columns:
            df = df.assign(verdict=[("" if pd.isna(a) or pd.isna(b) else _verdict(a, b, "higher", "lower"))
                                    for a, b in zip(df[lo], df[hi])])
    return df


def _records(rows: list[dict]) -> str:
    df = _with_verdict(pd.DataFrame(rows))
    df = df[order_columns(list(df.columns))]
    if {"acc_given_format_ok", "format_ok"} <= set(df.columns):  # a log-likelihood row generated nothing
        df = df.assign(acc_given_format_ok=[no_format_ok_reason(f) if a is None or a != a else a
                                            for a, f in zip(df.acc_given_format_ok.astype(object), df.format_ok)])
    df = pd.DataFrame({c: [_cell(c, v) for v in df[c].astype(object)] for c in df.columns})
    return df.to_html(index=False, classes="metrics", border=0)


def skipped_words(rows: list[dict], said=()) -> str:
    """A list of skipped things ({benchmark, reason, ...}) as one line, grouped by reason, leaving
    out what the page already said (`said`: names in the section's real-data note); "" if nothing is left."""
    by: dict[str, list[str]] = {}
    for r in rows:
        name = str(r.get("benchmark") or r.get("dataset") or "")
        if name in said:
            continue
        where = " / ".join(str(r[k]) for k in ("model", "system", "variant") if r.get(k))
        by.setdefault(str(r.get("reason", "")), []).append(f"{name} ({where})" if name and where else name or where)
    return "; ".join(f"{', '.join(names)}: {why}" for why, names in by.items())


# metrics keys whose bare name would mislead a reader of the report
LABELS = {"cut_by_limit": "cut (budget or loop stop), per model over all its messages",
          "dev_cut_by_limit": "dev answers cut (budget or loop stop)"}


def metric_tables(metrics: dict, prefix: str = "", said=()) -> list[dict]:
    """metrics.json as tables: the scalars in one, each mapping and each list of records in its own
    (a mapping of mappings, e.g. the checker's agreement per label set, as one table a row each;
    deeper ones as their own tables, titled 'outer · inner'). A list of skipped things is one line
    (skipped_words), without what the section's real-data note already names (`said`)."""
    scalars = {LABELS.get(k, k): v for k, v in metrics.items() if not isinstance(v, (dict, list))}
    tables = [{"title": prefix, "html": _kv(scalars)}] if scalars else []
    for k, v in metrics.items():
        title = f"{prefix} · {LABELS.get(k, k)}" if prefix else LABELS.get(k, k)
        if k == "skipped" and isinstance(v, list) and v and all(isinstance(r, dict) and "reason" in r for r in v):
            if line := skipped_words(v, said):
                tables.append({"title": "", "html": _kv({title: line})})
        elif isinstance(v, dict) and v and all(isinstance(x, dict) for x in v.values()):
            tables.append({"title": title, "html": _records([{"": key, **x} for key, x in v.items()])})
        elif isinstance(v, dict) and v and any(isinstance(x, list) and x and isinstance(x[0], dict) for x in v.values()):
            tables += metric_tables(v, title, said)
        elif isinstance(v, dict) and v:
            tables.append({"title": title, "html": _kv(v)})
        elif isinstance(v, list) and v and all(isinstance(r, dict) for r in v):
            tables.append({"title": title, "html": _records(v)})
        elif isinstance(v, list) and v:
            tables.append({"title": "", "html": _kv({k: v})})
    return tables


def _kv(d: dict) -> str:
    df = pd.DataFrame({"metric": list(d), "value": [_fmt(v) for v in d.values()]})
    return df.to_html(index=False, classes="metrics kv", border=0, header=False)


def render_notebooks(run_dir: Path, stages: list[str]) -> dict[str, str]:
    """Executed notebooks as HTML next to them (readable without Jupyter); stage -> relative path."""
    import nbformat
    from nbconvert import HTMLExporter

    out, exporter = {}, HTMLExporter()
    for s in stages:
        nb = run_dir / "notebooks" / f"{s}.ipynb"
        if nb.is_file():
            try:
                body, _ = exporter.from_notebook_node(nbformat.read(nb, as_version=4))
            except Exception:  # noqa: BLE001, S112 — an unreadable notebook is still linked as .ipynb
                continue
            nb.with_suffix(".html").write_text(body)
            out[s] = f"notebooks/{s}.html"
    return out


def _title(run_dir: Path, stage: str) -> str:
    """The notebook's own heading ('01 · Strategy selection: ...'), else the stage name."""
    for nb in (run_dir / "notebooks" / f"{stage}.ipynb", NOTEBOOKS_DIR / f"{stage}.ipynb"):
        try:
            first = json.loads(nb.read_text())["cells"][0]
            return "".join(first["source"]).splitlines()[0].lstrip("# ").strip()
        except (OSError, ValueError, KeyError, IndexError):
            continue
    return stage


def curve_section(run_dir: Path, params: dict) -> dict | None:
    """The learning curve of a run folder that holds one (python -m orca2_kit learning-curve): its
    figure, its table a size a row, the rule and the pick, and what a reader would ask of it (a seed
    part of 0, the dev budget against the study's)."""
    table = learning_curve.load(run_dir)
    if table is None:
        return None
    cols = ["size", "accuracy", "lo", "hi", "items", "seed_accuracy", "answer_var", "seed_sd", "budget",
            "answers", "cut_by_budget", "cut_in_loop", "train_s"]
    df = pd.DataFrame(table["sizes"])
    df = df[[c for c in cols if c in df]].rename(columns={"size": "training items per family"})
    df = pd.DataFrame({c: [_cell(c, v) for v in df[c].astype(object)] for c in df.columns})
    if "seed_sd" in df:  # a clipped estimate is not a measured 0: the note below says why
        df["seed_sd"] = [f"{v} (clipped at 0, see below)" if learning_curve.seed_part_words(r) else v
                         for v, r in zip(df["seed_sd"], table["sizes"])]
    setting = ((params.get("study") or {}).get("learning_curve") or {}).get("max_new_tokens")
    fig = run_dir / "figures" / "learning_curve.png"
    return {"figure": f"figures/{fig.name}" if fig.is_file() else None, "pick": table["pick"], "rule": table["rule"],
            "table": df.to_html(index=False, classes="metrics", border=0),
            "notes": [w for w in (learning_curve.seed_part_words(r) for r in table["sizes"]) if w]
            + [learning_curve.budget_words(table, setting)]}


def collect(run_dir: str | Path) -> dict:
    """Everything the template shows, read from the run folder (missing stages or figures are fine)."""
    run_dir = Path(run_dir).resolve()
    manifest = read_manifest(run_dir)
    if not manifest and not (run_dir / "params.yaml").is_file():
        raise FileNotFoundError(f"report: '{run_dir}' is not a run directory (no manifest.json or params.yaml)")
    figures = sorted(p for p in (run_dir / "figures").glob("*.png")) if (run_dir / "figures").is_dir() else []
    # a run shows the six stages; a study (python -m orca2_kit study) the stages it ran, 07 among them
    ran = [s for s in ALL_STAGES if s in manifest.get("stages", {})]
    params_text = (run_dir / "params.yaml").read_text() if (run_dir / "params.yaml").is_file() else ""
    params = yaml.safe_load(params_text) or {}
    curve = curve_section(run_dir, params)  # a learning-curve run: 01, then the curve
    shown = ran if "07_ablation" in ran or curve else list(STAGES)
    html_nbs = render_notebooks(run_dir, shown)
    stages, used = [], set()
    data_plan = manifest.get("data") or {}  # what the run did with real data (run/data.py: plan)
    for s in shown:
        info = manifest.get("stages", {}).get(s, {})
        metrics_file = run_dir / s / "metrics.json"
        metrics = json.loads(metrics_file.read_text()) if metrics_file.is_file() else {}
        figs = [p for p in figures if p.name.startswith(s[:3])]
        used.update(figs)
        linked = info.get("linked_from_parent", False)
        prefix = "../../" if linked else ""
        nb = run_dir / "notebooks" / f"{s}.ipynb"
        stages.append({
            "name": s, "title": _title(run_dir, s), "status": info.get("status") or ("ok" if metrics else "not run"),
            "wall_s": info.get("wall_s"), "glance": glance(s, metrics), "linked": linked,
            "error": (info.get("error") or "")[-1500:],
            "notebook": f"{prefix}notebooks/{s}.ipynb" if (linked or nb.is_file()) else None,
            "notebook_html": f"{prefix}notebooks/{s}.html" if linked else html_nbs.get(s),
            "figures": [{"src": f"figures/{p.name}", "caption": p.stem[3:].replace("_", " ")} for p in figs],
            # the overview says once why real data is missing; the section names its sets and the command
            "tables": metric_tables(metrics, said=set((data_plan.get(s) or {}).get("skip") or {})),
            "data_note": skipped_line(data_plan, s, brief=True),
        })
    exercise, exercises = manifest.get("exercise"), []
    if exercise:
        from orca2_kit.run.exercises import compare

        exercise = {**exercise, "comparison": compare(run_dir)}
    for sub in sorted((run_dir / "exercises").glob("*/manifest.json")) if (run_dir / "exercises").is_dir() else []:
        from orca2_kit.run.exercises import compare

        m = json.loads(sub.read_text())
        exercises.append({"id": m["exercise"]["id"], "title": m["exercise"]["title"],
                          "report": f"exercises/{sub.parent.name}/report.html",
                          "done": all(v.get("status") == "ok" for v in m.get("stages", {}).values()),
                          "comparison": compare(sub.parent)})
    if curve and curve["figure"]:
        used.update(p for p in figures if p.name == "learning_curve.png")
    slim = {k: v for k, v in manifest.items() if k not in ("params", "artifacts")}
    return {
        "run_dir": run_dir, "manifest": manifest, "params": params, "params_text": params_text, "stages": stages,
        "other_figures": [{"src": f"figures/{p.name}", "caption": p.stem.replace("_", " ")} for p in figures if p not in used],
        "data_notes": [n for n in [overview_line(data_plan)] if n],
        "exercise": exercise, "exercises": exercises, "curve": curve, "versions": manifest.get("versions", {}),
        "manifest_text": json.dumps(slim, indent=2, default=str), "n_artifacts": len(manifest.get("artifacts", {})),
        "total_s": sum(v.get("wall_s") or 0 for k, v in manifest.get("stages", {}).items() if not v.get("linked_from_parent")),
        "fmt": _fmt,
    }


def write_report(run_dir: str | Path) -> Path:
    ctx = collect(run_dir)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATE.parent), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    path = ctx["run_dir"] / "report.html"
    tmp = path.with_suffix(".html.tmp")
    tmp.write_text(env.get_template(TEMPLATE.name).render(**ctx))
    tmp.replace(path)
    return path
