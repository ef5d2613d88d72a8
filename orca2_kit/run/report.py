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

from orca2_kit.run.manifest import read_manifest
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
            return (f"lenient accuracy, student - base at its best: {100 * r['difference']:+.0f} points "
                    f"(95% CI {100 * r['ci_low']:+.0f}..{100 * r['ci_high']:+.0f}, n={r['n']}): {r['verdict']}")
    return ""


def _glance_06(m):
    """Student minus base on the built-in documents, summaries with a wrong fact, paired, per message."""
    rows = [r for r in m.get("paired_differences", []) if r.get("dataset") == "builtin" and r.get("judge") == "offline"
            and r.get("metric") == "hallucinated" and r.get("diff") is not None]
    parts = [f"{r['system']} {100 * r['diff']:+.0f} points (95% CI {100 * r['lo']:+.0f}..{100 * r['hi']:+.0f})" for r in rows]
    if not parts:
        return ""
    out = (f"summaries with a wrong fact, student - base (built-in, n={rows[0]['n_pairs']} pairs): " + ", ".join(parts)
           + ("; not distinguishable" if all(r["lo"] <= 0 <= r["hi"] for r in rows) else ""))
    recall = [r for r in m.get("paired_differences", []) if r.get("dataset") == "builtin" and r.get("judge") == "offline"
              and r.get("metric") == "recall" and r.get("diff") is not None]
    if recall:  # a rate alone rewards saying nothing: what the summaries kept goes beside it
        out += "; fact recall " + ", ".join(f"{r['system']} {100 * r['diff']:+.0f} ({100 * r['lo']:+.0f}..{100 * r['hi']:+.0f})"
                                            for r in recall)
    held = (m.get("checker_agreement") or {}).get("heldout") or {}
    if "caught_in_scope" in held:
        out += (f". The checker flags {held['caught_in_scope']}/{held['n_in_scope']} hand-labelled summaries with a wrong "
                f"fact of its kinds, {held['caught']}/{held['n_hallucinated']} with any unsupported claim: a lower bound")
    return out


# A stage's headline number for the overview; a metric that a notebook stopped writing just drops out.
GLANCE = {
    "01": lambda m: f"{len(m['strategy_map'])} families mapped; {_pct(m['agreement_with_expected'])} as the authors expected",
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
    if isinstance(v, float):
        return f"{v:.3f}"
    if isinstance(v, (list, dict)):
        return json.dumps(v)
    return "" if v is None else str(v)


def metric_tables(metrics: dict) -> list[dict]:
    """metrics.json as tables: the scalars in one, each mapping and each list of records in its own."""
    scalars = {k: v for k, v in metrics.items() if not isinstance(v, (dict, list))}
    tables = [{"title": "", "html": _kv(scalars)}] if scalars else []
    for k, v in metrics.items():
        if isinstance(v, dict) and v:
            tables.append({"title": k, "html": _kv(v)})
        elif isinstance(v, list) and v and all(isinstance(r, dict) for r in v):
            df = pd.DataFrame(v)
            tables.append({"title": k, "html": df.to_html(index=False, na_rep="", formatters={c: _fmt for c in df.columns},
                                                          classes="metrics", border=0)})
        elif isinstance(v, list) and v:
            tables.append({"title": k, "html": _kv({k: v})})
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


def collect(run_dir: str | Path) -> dict:
    """Everything the template shows, read from the run folder (missing stages or figures are fine)."""
    run_dir = Path(run_dir).resolve()
    manifest = read_manifest(run_dir)
    if not manifest and not (run_dir / "params.yaml").is_file():
        raise FileNotFoundError(f"report: '{run_dir}' is not a run directory (no manifest.json or params.yaml)")
    figures = sorted(p for p in (run_dir / "figures").glob("*.png")) if (run_dir / "figures").is_dir() else []
    # a run shows the six stages; a study (python -m orca2_kit study) the stages it ran, 07 among them
    ran = [s for s in ALL_STAGES if s in manifest.get("stages", {})]
    shown = ran if "07_ablation" in ran else list(STAGES)
    html_nbs = render_notebooks(run_dir, shown)
    stages, used = [], set()
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
            "tables": metric_tables(metrics),
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
    params_text = (run_dir / "params.yaml").read_text() if (run_dir / "params.yaml").is_file() else ""
    params = yaml.safe_load(params_text) or {}
    slim = {k: v for k, v in manifest.items() if k not in ("params", "artifacts")}
    return {
        "run_dir": run_dir, "manifest": manifest, "params": params, "params_text": params_text, "stages": stages,
        "other_figures": [{"src": f"figures/{p.name}", "caption": p.stem.replace("_", " ")} for p in figures if p not in used],
        "exercise": exercise, "exercises": exercises, "versions": manifest.get("versions", {}),
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
