"""What a run will do with the real data it finds, and `python -m orca2_kit data {fetch,status,use}`.

`plan` says, per selected benchmark (stage 05) and grounded set (stage 06), whether a run will use
it or skip it, why, and the command that gets it; `announce` prints that before stage 01 and
returns it for the run manifest. Where the data directory is: orca2_kit/datadir.py.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Optional

from orca2_kit.datadir import ENV, FETCH, default_data_dir, locate, use
from orca2_kit.errors import ConfigError
from orca2_kit.evaluation.harness.benchmarks import available
from orca2_kit.hallucination.grounded import FOLDERS, LOCAL_SPLITS, REAL_DATASETS

BENCH_STAGE, GROUNDED_STAGE = "05_benchmark_eval", "06_hallucination"
# The paths each grounded loader tries for a split (orca2_kit/hallucination/grounded.py, *_local), relative to
# the set's folder: a folder that lacks them would fail in stage 06, so it is reported here instead.
GROUNDED_SPLIT_FILES = {
    "qmsum": ("{split}.jsonl", "{split}"),
    "aci_bench": ("challenge_data/{split}.csv", "challenge_data_json/{split}.json", "{split}.csv", "{split}.json"),
    "ms_marco": ("{split}.jsonl", "{split}.json"),
}


# --------------------------------------------------------------------------- what is there


def benchmark_status(data_dir: Optional[Path]) -> dict[str, str]:
    """Every benchmark (MT-Bench included): 'ok', or the one-line reason it would be skipped."""
    if data_dir is None:
        return {name: "no data directory" for name in available(None)}
    return available(data_dir)


def grounded_status(data_dir: Optional[Path], sources: Optional[dict] = None,
                    splits: Optional[dict] = None) -> dict[str, str]:
    """Every real grounded set (QMSum, ACI-Bench, MS MARCO): 'ok', 'ok: <where>' for a source given in
    params, or the one-line reason stage 06 would skip (or fail on) it."""
    sources, splits, out = sources or {}, splits or {}, {}
    for name in REAL_DATASETS:
        if sources.get(name):
            src = sources[name]
            out[name] = f"ok: {src} (from the hub: needs the network)" if src.startswith("hf:") else f"ok: {src}"
            continue
        if data_dir is None:
            out[name] = "no data directory"
            continue
        folder, split = Path(data_dir) / FOLDERS[name], splits.get(name) or LOCAL_SPLITS[name]
        wanted = [pat.format(split=split) for pat in GROUNDED_SPLIT_FILES[name]]
        if not folder.exists():
            out[name] = f"no {FOLDERS[name]}/ under {data_dir}"
        elif not any((folder / w).exists() for w in wanted):
            out[name] = f"{folder} has no split '{split}' ({' or '.join(wanted)})"
        else:
            out[name] = "ok"
    return out


def _fetch_hint(names: list[str], data_dir: Optional[Path]) -> str:
    from orca2_kit.run.fetch import load_sources

    dest = "" if data_dir is None or Path(data_dir).resolve() == default_data_dir().resolve() else f" --dest {data_dir}"
    every = set(names) >= set(load_sources())
    return f"{FETCH}{dest}" + ("" if every else f" --only {','.join(names)}")


def plan(params, stages) -> dict:
    """What a run of `stages` will do with the real data its params select: per stage that reads
    data, the sets it runs and those it skips (with the reason), plus where the data came from."""
    data_dir, found = params.locate_data_dir()
    out: dict = {"data_dir": str(data_dir) if data_dir else None, "found": found}
    if BENCH_STAGE in stages:
        status = benchmark_status(data_dir)
        sel = params.eval.harness.benchmarks
        wanted = list(status) if sel == "available" else list(sel)
        out[BENCH_STAGE] = {"run": [b for b in wanted if status[b] == "ok"],
                            "skip": {b: status[b] for b in wanted if status[b] != "ok"}}
    if GROUNDED_STAGE in stages:
        h = params.hallucination
        status = grounded_status(data_dir, h.sources, h.splits)
        wanted = [d for d in h.datasets if d != "builtin"]
        out[GROUNDED_STAGE] = {"run": [d for d in wanted if status[d].startswith("ok")],
                               "skip": {d: status[d] for d in wanted if not status[d].startswith("ok")}}
    return out


_WHAT = {BENCH_STAGE: "benchmark", GROUNDED_STAGE: "grounded set"}


def _why(plan_: dict, skip: dict) -> str:
    data_dir = Path(plan_["data_dir"]) if plan_.get("data_dir") else None
    if data_dir is None:
        found = str(plan_.get("found") or "none found")
        return f"no data directory found{found[len('none found'):]}" if found.startswith("none found") else \
            f"no data directory: {found}"
    if len(set(skip.values())) == 1:
        return next(iter(skip.values()))
    return f"not in {data_dir} (python -m orca2_kit data status says what each lacks)"


def skipped_line(plan_: dict, stage: str, brief: bool = False) -> Optional[str]:
    """One line for where a stage's real data would have shown: what it skips, why, and the command
    that gets it; None when it skips nothing (or selects no real set). `plan_` is `plan(...)` or a
    run manifest's "data" entry. `brief`: without a data directory, the reason without where it was
    looked for (the report's overview says that once, overview_line)."""
    part = plan_.get(stage) or {}
    skip = part.get("skip") or {}
    if not skip:
        return None
    data_dir = Path(plan_["data_dir"]) if plan_.get("data_dir") else None
    what = _WHAT.get(stage, "set")
    why = "no data directory (see the overview)" if brief and data_dir is None else _why(plan_, skip)
    ran = part.get("run") or []
    return (f"Real data skipped: {len(skip)} {what}{'s' if len(skip) != 1 else ''} ({', '.join(skip)}): {why}"
            + (f"; ran {', '.join(ran)}" if ran else "") + f". Get them: {_fetch_hint(list(skip), data_dir)}"
            + (" (or point runs at a copy: .venv/bin/python -m orca2_kit data use DIR)." if data_dir is None and not brief else "."))


def overview_line(plan_: dict) -> Optional[str]:
    """The report overview's one line about real data: what every stage skipped, why (once), and
    the command that gets it all; None when nothing was skipped."""
    parts = {s: plan_[s]["skip"] for s in _WHAT if (plan_.get(s) or {}).get("skip")}
    if not parts:
        return None
    data_dir = Path(plan_["data_dir"]) if plan_.get("data_dir") else None
    from orca2_kit.run.fetch import load_sources

    what = " and ".join(f"{len(skip)} {_WHAT[s]}{'s' if len(skip) != 1 else ''} (stage {s[:2]})" for s, skip in parts.items())
    merged = {k: v for skip in parts.values() for k, v in skip.items()}
    return (f"Real data skipped: {what}: {_why(plan_, merged)}. Get them all: {_fetch_hint(list(load_sources()), data_dir)}"
            + (" (or point runs at a copy: .venv/bin/python -m orca2_kit data use DIR)." if data_dir is None else "."))


def announce(params, stages, log=print) -> dict:
    """Print, before stage 01, which benchmarks and grounded sets the run will use and which it skips
    (why, and how to get them); return the plan for the run manifest."""
    p = plan(params, stages)
    data_dir = Path(p["data_dir"]) if p["data_dir"] else None
    parts = [(s, what) for s, what in ((BENCH_STAGE, "benchmarks"), (GROUNDED_STAGE, "grounded sets"))
             if s in p and (p[s]["run"] or p[s]["skip"])]  # a stage that selects no real set says nothing
    if not parts:
        return p
    log(f"orca2-kit: real data: {data_dir} ({p['found']})" if data_dir else f"orca2-kit: real data: {p['found']}")
    missing: list[str] = []
    for stage, what in parts:
        run, skip = p[stage]["run"], p[stage]["skip"]
        log(f"  {stage[:2]} {what}: " + (f"runs {', '.join(run)}" if run else "runs none of the real ones")
            + (f"; skips {len(skip)}" if skip else "") + (f": {', '.join(skip)}" if skip and data_dir is None else ""))
        if data_dir is not None:  # without a directory every reason is the same: said once above
            for name, why in skip.items():
                log(f"     skip {name}: {why}")
        missing += list(skip)
    if missing:
        log(f"  get them: {_fetch_hint(missing, data_dir)}")
        if data_dir is None:
            log("  or point runs at a copy you have: .venv/bin/python -m orca2_kit data use DIR")
    return p


# --------------------------------------------------------------------------- command line


def add_parser(sub) -> None:
    """`python -m orca2_kit data {fetch,status,use}` (the parser of __main__)."""
    d = sub.add_parser("data", help="real benchmark data: fetch it, check it, point runs at it")
    ds = d.add_subparsers(dest="data_cmd", required=True)
    f = ds.add_parser("fetch", help="download the paper's benchmarks and grounded sets (GitHub at pinned "
                      "commits, else the Hugging Face hub's Parquet conversion), sha256-checked")
    f.add_argument("--dest", help=f"data directory to fill (default: {default_data_dir()}, which runs find "
                   "without any setting)")
    f.add_argument("--only", help="comma-separated sets, e.g. gsm8k,bbh,qmsum (default: all)")
    f.add_argument("--github-base", help="raw-file base URL (default https://raw.githubusercontent.com); "
                   "a mirror laid out as <owner>/<repo>/<commit>/<path>")
    f.add_argument("--hub-base", help="Hugging Face endpoint (default $HF_ENDPOINT or https://huggingface.co)")
    s = ds.add_parser("status", help="per benchmark and grounded set: ok, or why a run would skip it")
    s.add_argument("--dir", help="data directory to check (default: the one runs find)")
    u = ds.add_parser("use", help="record DIR as the data directory in the user config file")
    u.add_argument("dir")
    d.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    if args.data_cmd == "fetch":
        from orca2_kit.run.fetch import fetch

        dest = Path(args.dest).expanduser() if args.dest else default_data_dir()
        result = fetch(dest, args.only, github_base=args.github_base, hub_base=args.hub_base)
        runs_use, found = locate(None)
        if runs_use is None or runs_use.resolve() != dest.resolve():  # e.g. $ORCA2_DATA_DIR points elsewhere
            where = f"read data from {runs_use} ({found})" if runs_use else f"find no data directory ({found})"
            print(f"note: runs {where}, not {dest}; to use it: python -m orca2_kit data use {dest}")
        return 1 if result.failed else 0
    if args.data_cmd == "use":
        cfg = use(args.dir)
        print(f"data_dir: {Path(args.dir).expanduser().resolve()} recorded in {cfg}")
        if os.environ.get(ENV):
            print(f"note: ${ENV} is set and takes precedence over the user config file")
        return status(None)
    return status(Path(args.dir).expanduser() if args.dir else None)


def status(data_dir: Optional[Path]) -> int:
    """Print every benchmark and grounded set: ok, or why a run skips it and the command that gets it."""
    from orca2_kit.run.fetch import load_sources

    if data_dir is None:
        data_dir, found = locate(None)
        print(f"data directory: {data_dir} ({found})" if data_dir else f"data directory: {found}")
    else:
        if not data_dir.is_dir():
            raise ConfigError(f"data status: '{data_dir}' is not a directory")
        print(f"data directory: {data_dir} (--dir)")
    sources = load_sources()
    rows = [("benchmark", n, s) for n, s in benchmark_status(data_dir).items()]
    rows += [("grounded", n, s) for n, s in grounded_status(data_dir).items()]
    width = max(len(n) for _, n, _ in rows)
    for group, name, st in rows:
        print(f"  {group:9} {name:{width}}  {st}")
    missing = [n for _, n, st in rows if st != "ok"]
    if data_dir is None:
        print(f"get them: {FETCH}   (into {default_data_dir()}, which runs find without any setting)\n"
              "  or point runs at a copy you have: .venv/bin/python -m orca2_kit data use DIR")
    elif missing:
        print(f"get the missing ones: {_fetch_hint(missing, data_dir)}")
    print("licenses and terms (evaluation sets: keep them out of training data):")
    for name in [n for _, n, _ in rows]:
        print(f"  {name:{width}}  {sources[name]['license']}")
    return 0
