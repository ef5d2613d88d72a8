"""How many runaway loops the loop stop (orca2_kit/generation/stops.py: LOOP_LINES identical lines in a
row) ends, how much generated text it saves, and whether any stopped generation would have gone on
to something else, or been scored differently: replayed on the stored outputs of runs made without it.

For each generation in a run folder (01's grid, 05's samples, 06's summaries, the study's arms):
the first line break at which the rule fires; `escaped`: the stored text goes on to write any other
line after that point (the rule would have cut a generation that was leaving its loop); `changed`:
scoring the text cut there (orca2_kit.extract.score) gives another lenient or strict verdict or
format-OK than the stored one. Rows made with the stop (a `stopped_in_loop` column) are skipped.

    .venv/bin/python benchmarks/loop_stop.py RUN_DIR [RUN_DIR ...] [--lines 3 4 5 6]
writes outputs/benchmarks/loop_stop.json.
"""
from __future__ import annotations

import argparse
import glob
import json
import re
from pathlib import Path

import pandas as pd

from orca2_kit.extract import score
from orca2_kit.generation.stops import runaway, step_free
from orca2_kit.tasks import load_items

VERDICT = ("correct_lenient", "correct_strict", "format_ok")


def cut_at(text: str, lines: int):
    """The index just after the line break where the rule first fires, or None."""
    for i, ch in enumerate(text):
        if ch == "\n" and runaway(text[:i + 1], lines):
            return i + 1
    return None


def replay(run: Path, lines: int) -> dict:
    items = {it.id: it for f in glob.glob(str(run / "01_strategy_selection" / "suite" / "*.jsonl")) for it in load_items(f)}
    tot = {"generations": 0, "fired": 0, "escaped": 0, "changed": 0, "chars": 0, "chars_saved": 0}
    for f in sorted(glob.glob(str(run / "**" / "*.jsonl"), recursive=True)):
        if "/suite/" in f:
            continue
        s = pd.read_json(f, lines=True)
        col = "output" if "output" in s else "summary" if "summary" in s else None
        if col is None or "stopped_in_loop" in s:
            continue
        for _, r in s.iterrows():
            text = r[col] if isinstance(r[col], str) else ""
            tot["generations"] += 1
            tot["chars"] += len(text)
            c = cut_at(text + "\n", lines)
            if c is None or c >= len(text):
                continue
            tot["fired"] += 1
            tot["chars_saved"] += len(text) - c
            loop_line = step_free(text[:c].split("\n")[-2])
            rest = [step_free(x) for x in text[c:].split("\n")]
            # the last piece may be a line the limit cut: a bare step number or the loop line's beginning
            if any(x and x != loop_line and not loop_line.startswith(x) and not re.fullmatch(r"\d+[.):]?", x)
                   for x in rest):
                tot["escaped"] += 1
            it = items.get(r.get("id"))
            if it is not None and all(k in r for k in VERDICT):
                got = score(text[:c], it.reference, it.answer_type, it.choices, it.candidates, it.prompt)
                tot["changed"] += any(bool(got[k]) != bool(r[k]) for k in VERDICT)
    return tot


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+", type=Path)
    ap.add_argument("--lines", nargs="+", type=int, default=[3, 4, 5, 6])
    ap.add_argument("--out", type=Path, default=Path("outputs/benchmarks/loop_stop.json"))
    a = ap.parse_args()
    result = {"runs": [str(r) for r in a.runs], "by_lines": {}}
    for k in a.lines:
        per = {str(r): replay(r, k) for r in a.runs}
        result["by_lines"][k] = per
        for r, t in per.items():
            print(f"lines {k}  {r}: {t['generations']} generations, fired {t['fired']}, escaped {t['escaped']}, "
                  f"verdict changed {t['changed']}, text saved {t['chars_saved'] / max(1, t['chars']):.1%}")
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(result, indent=1))
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
