"""The offline profile's notebook time, per notebook, of this tree against another checkout, and a
check that this tree's built-in scores are those of the plain `model.generate` path.

    git worktree add /tmp/base d958be0
    ORCA2_DATA_DIR=../shared/data .venv/bin/python benchmarks/offline_profile.py --baseline-tree /tmp/base
    .venv/bin/python benchmarks/offline_profile.py --check-plain outputs/offline/<run>   # scores only

Each tree runs `python -m orca2_kit run --profile offline` in a subprocess (its own code, its own
outputs/ folder); the runner records wall_s per stage in manifest.json. `--check-plain RUN` loads
that run's base model and student in the run's scoring dtype, answers notebook 05's held-out items
again through `model.generate` (generation engine "hf"), and compares every output and verdict
with the samples 05 wrote: the fast decoder must not change a score. Prints the per-notebook
times, totals, ratio, the scores, the load average; writes outputs/benchmarks/offline_profile.json.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_profile(tree: Path, run_id: str) -> Path:
    env = dict(os.environ, PYTHONPATH=str(tree))
    r = subprocess.run([sys.executable, "-m", "orca2_kit", "run", "--profile", "offline", "--run-id", run_id],
                       cwd=tree, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"the offline profile failed in {tree}:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    return tree / "outputs" / "offline" / run_id


def stage_times(run_dir: Path) -> dict:
    m = json.loads((run_dir / "manifest.json").read_text())
    times = {s: v.get("wall_s") for s, v in m["stages"].items()}
    return {"per_notebook_s": times, "total_s": round(sum(t for t in times.values() if t), 1), "dtypes": m.get("dtypes")}


def builtin_scores(run_dir: Path) -> list[dict]:
    import pandas as pd

    return pd.read_csv(run_dir / "05_benchmark_eval" / "scores.csv").to_dict(orient="records")


def check_plain(run_dir: Path) -> dict:
    """05's built-in samples again through model.generate: same outputs, same verdicts?"""
    import pandas as pd

    from orca2_kit import scoring
    from orca2_kit import tasks
    from orca2_kit.config import load_params
    from orca2_kit.models import load_student

    p = load_params(run_dir / "params.yaml")
    items = tasks.load_items(run_dir / "01_strategy_selection" / "suite" / f"{p.eval.split}.jsonl")
    saved = pd.read_json(run_dir / "05_benchmark_eval" / "samples.jsonl", lines=True)
    adapter = run_dir / "04_sft_training" / ("adapter" if p.train.method == "lora" else "model")
    plain = []
    for name, weights in [("base", None), ("student", adapter)]:
        model, tok = load_student(p.student, p.device, adapter=str(weights) if weights else None, scoring=p.generation.dtype,
                                  engine=p.generation.engine)
        df, _ = scoring.evaluate_model(model, tok, items, p.eval.system_messages, name, p.eval.max_new_tokens,
                                        p.generation.batch_size, p.generation.max_prompt_tokens,
                                        p.erasure.system_message_file, engine="hf")
        plain.append(df)
    plain = pd.concat(plain, ignore_index=True)
    key = ["model", "system", "id"]
    both = saved.merge(plain, on=key, suffixes=("_kit", "_plain"))
    return {"samples": len(both), "outputs_identical": int((both.output_kit == both.output_plain).sum()),
            "verdicts_identical": int((both.correct_lenient_kit == both.correct_lenient_plain).sum()),
            "accuracy_kit": both.groupby(["model", "system"]).correct_lenient_kit.mean().round(4).to_dict().__repr__(),
            "accuracy_plain": both.groupby(["model", "system"]).correct_lenient_plain.mean().round(4).to_dict().__repr__()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--baseline-tree", help="another checkout of the kit, e.g. /tmp/base at d958be0")
    ap.add_argument("--check-plain", help="a finished offline run directory: compare its 05 scores with model.generate's")
    ap.add_argument("--out", default=str(ROOT / "outputs" / "benchmarks" / "offline_profile.json"))
    a = ap.parse_args()
    report: dict = {"load_average_before": os.getloadavg()}
    if a.check_plain:
        report["check_plain"] = check_plain(Path(a.check_plain).resolve())
    else:
        stamp = time.strftime("bench-%Y%m%d-%H%M%S")
        kit_run = run_profile(ROOT, stamp)
        report["kit"] = {**stage_times(kit_run), "run_dir": str(kit_run), "builtin_scores": builtin_scores(kit_run)}
        if a.baseline_tree:
            base_run = run_profile(Path(a.baseline_tree).resolve(), stamp)
            report["baseline_tree"] = {**stage_times(base_run), "run_dir": str(base_run),
                                       "builtin_scores": builtin_scores(base_run)}
            report["ratio_total_baseline_to_kit"] = round(report["baseline_tree"]["total_s"] / report["kit"]["total_s"], 2)
        report["check_plain"] = check_plain(kit_run)
    report["load_average_after"] = os.getloadavg()
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(report, indent=1, default=str))
    print(json.dumps(report, indent=1, default=str))


if __name__ == "__main__":
    main()
