"""How long a fresh clone takes to get its environment: `bash scripts/setup.sh` in a new clone of each
commit, with empty package caches (pip's and uv's pointed at new folders), alternating the commits.

    .venv/bin/python benchmarks/setup_time.py --commits efb4c03 HEAD [--repeats 2]

efb4c03 installed the lock with pip; later commits with uv (issue 23). Downloads come from the same
index (or local wheel folder) for both, so the figure is the installer's, plus the network's
variation, which alternation spreads over both. Writes outputs/benchmarks/setup_time.json.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def one(commit: str, work: Path) -> float:
    clone = work / f"clone-{commit}"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    subprocess.run(["git", "-C", str(clone), "checkout", "-q", commit], check=True)
    env = {**os.environ, "PIP_CACHE_DIR": str(work / "pip-cache"), "UV_CACHE_DIR": str(work / "uv-cache")}
    t0 = time.perf_counter()
    r = subprocess.run(["bash", "scripts/setup.sh"], cwd=clone, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if r.returncode:
        raise SystemExit(f"setup.sh at {commit} failed:\n{r.stderr[-2000:]}")
    return wall


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--commits", nargs=2, default=["efb4c03", "HEAD"])
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--out", type=Path, default=ROOT / "outputs" / "benchmarks" / "setup_time.json")
    args = ap.parse_args(argv)
    commits = [subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", c], capture_output=True, text=True,
                              check=True).stdout.strip() for c in args.commits]
    walls: dict[str, list[float]] = {c: [] for c in commits}
    for i in range(args.repeats):
        for c in commits if i % 2 == 0 else commits[::-1]:
            with tempfile.TemporaryDirectory() as d:  # a new clone and empty caches every time
                walls[c].append(one(c, Path(d)))
                print(f"{c}: {walls[c][-1]:.1f} s", flush=True)
    res = {"commits": commits, "wall_s": walls, "median_s": {c: statistics.median(w) for c, w in walls.items()},
           "load_average_before": os.getloadavg(), "cores": os.cpu_count(),
           "find_links": os.environ.get("PIP_FIND_LINKS")}
    res["ratio_first_to_second"] = res["median_s"][commits[0]] / res["median_s"][commits[1]]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=2))
    print(json.dumps(res["median_s"]), f"ratio {res['ratio_first_to_second']:.1f}x ->", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
