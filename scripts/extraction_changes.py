"""How many lenient verdicts issue 25's answer reading changed, on a run's recorded outputs.

    .venv/bin/python scripts/extraction_changes.py RUN_DIR [--out outputs/benchmarks/extraction_changes.json]

Every output the run kept is read twice: by the lenient reading of commit BEFORE (the last one
before issue 25; its orca2_kit/extract.py and harness answers.py are taken from git, not shipped)
and by the current one, which ignores what a response copied from its prompt, reads hedges,
negations and questions as no commitment, reads comparatives against the question, and lets a cue
followed by a non-candidate end the search. Sources: notebook 01's strategy grid (the base model on
the dev items), notebook 05's built-in samples, 05's harness per-sample logs (one lenient row per
document and run), and the study's per-arm item scores when the run has them. Per source and
family or benchmark: n, verdicts changed (gained: wrong before, right now; lost: the reverse), and
lenient accuracy before and after. scripts/readme_measured.py prints the table (--extraction).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import types
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BEFORE = "c999e9e"  # main before issue 25 (the reading of efb4c03, in the package's new layout)


def old_readers(commit: str = BEFORE) -> tuple[types.ModuleType, types.ModuleType]:
    """(extract, harness answers) as they were at `commit`, loaded from git as private modules."""
    def source(path: str) -> str:
        r = subprocess.run(["git", "-C", str(ROOT), "show", f"{commit}:{path}"], capture_output=True, text=True)
        if r.returncode:
            sys.exit(f"error: cannot read {path} at commit {commit} from git ({r.stderr.strip()}); this script "
                     "needs the repository's history (a git clone, not an archive)")
        return r.stdout

    extract = types.ModuleType("_extract_before")
    sys.modules[extract.__name__] = extract
    exec(compile(source("orca2_kit/extract.py"), f"{commit}:orca2_kit/extract.py", "exec"), extract.__dict__)
    answers = types.ModuleType("_answers_before")
    text = source("orca2_kit/evaluation/harness/answers.py").replace("from orca2_kit.extract import",
                                                                        "from _extract_before import")
    exec(compile(text, f"{commit}:orca2_kit/evaluation/harness/answers.py", "exec"), answers.__dict__)
    return extract, answers


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.open(encoding="utf-8") if x.strip()] if path.is_file() else []


def builtin_rows(run: Path) -> list[tuple[str, str, dict, dict]]:
    """(source, family, item row, sample row) for every built-in output the run kept."""
    items = {r["id"]: r for split in ("train", "dev", "test")
             for r in _jsonl(run / "01_strategy_selection" / "suite" / f"{split}.jsonl")}
    out = []
    sources = [("01 strategy grid (base, dev)", run / "01_strategy_selection" / "grid.jsonl"),
               ("05 built-in", run / "05_benchmark_eval" / "samples.jsonl")]
    sources += [("07 study items", p) for p in sorted(run.glob("07_ablation/**/eval/items.jsonl"))]
    for name, path in sources:
        for s in _jsonl(path):
            if s.get("id") in items and isinstance(s.get("output"), str):
                out.append((name, s.get("family") or items[s["id"]]["family"], items[s["id"]], s))
    return out


def harness_rows(run: Path) -> list[tuple[str, str, dict, str]]:
    """(source, benchmark, document, response), one per document of every generative harness run."""
    out = []
    for f in sorted((run / "05_benchmark_eval" / "harness").glob("*/*/generative/samples_*.jsonl")):
        for s in _jsonl(f):
            if s.get("filter") == "lenient-extract":
                out.append(("05 harness", s["doc"]["benchmark"], s["doc"], s["resps"][0][0]))
    return out


def measure(run: Path, commit: str = BEFORE) -> dict:
    from orca2_kit.evaluation.harness import answers as new_answers
    from orca2_kit.extract import score as new_score

    old_extract, old_answers = old_readers(commit)
    groups: dict[tuple[str, str], dict] = defaultdict(lambda: {"n": 0, "old": 0, "new": 0, "gained": 0, "lost": 0,
                                                                "examples": []})

    def add(key, old: bool, new: bool, text: str, reference: str, read_old, read_new):
        g = groups[key]
        g["n"] += 1
        g["old"] += old
        g["new"] += new
        g["gained"] += new and not old
        g["lost"] += old and not new
        if old != new and len(g["examples"]) < 3:
            g["examples"].append({"output": text[-400:], "reference": reference, "before": read_old, "after": read_new})

    for source, family, it, s in builtin_rows(run):
        args = (s["output"], it["reference"], it.get("answer_type", "text"), it.get("choices") or (),
                it.get("candidates") or ())
        a, b = old_extract.score(*args), new_score(*args, prompt=it["prompt"])
        add((source, family), a["correct_lenient"], b["correct_lenient"], s["output"], it["reference"],
            a["answer_lenient"], b["answer_lenient"])
    for source, bench, doc, resp in harness_rows(run):
        a, b = old_answers.lenient_answer(resp, doc), new_answers.lenient_answer(resp, doc)
        add((source, bench), bool(old_answers.is_correct(a, doc)), bool(new_answers.is_correct(b, doc)), resp,
            doc["reference"], a, b)
    rows = [{"source": src, "group": grp, "n": g["n"], "changed": g["gained"] + g["lost"], "gained": g["gained"],
             "lost": g["lost"], "old_acc": g["old"] / g["n"], "new_acc": g["new"] / g["n"], "examples": g["examples"]}
            for (src, grp), g in sorted(groups.items())]
    manifest = json.loads((run / "manifest.json").read_text()) if (run / "manifest.json").is_file() else {}
    return {"run": str(run), "run_id": manifest.get("run_id"), "profile": manifest.get("profile"),
            "run_commit": (manifest.get("git") or {}).get("commit"), "before": commit,
            "after": subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True,
                                    text=True).stdout.strip(), "rows": rows}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="scripts/extraction_changes.py", description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path)
    ap.add_argument("--out", type=Path, default=ROOT / "outputs" / "benchmarks" / "extraction_changes.json")
    ap.add_argument("--before", default=BEFORE, help="the commit whose reading is 'before' (default %(default)s)")
    args = ap.parse_args(argv)
    if not (args.run / "01_strategy_selection" / "suite").is_dir():
        print(f"error: {args.run} is not a run directory with notebook 01's suite (01_strategy_selection/suite/)",
              file=sys.stderr)
        return 2
    result = measure(args.run, args.before)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    for r in result["rows"]:
        print(f"{r['source']:>30} | {r['group']:<16} n={r['n']:<5} changed {r['changed']:<4} (+{r['gained']} -{r['lost']}) "
              f"lenient {r['old_acc']:.3f} -> {r['new_acc']:.3f}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
