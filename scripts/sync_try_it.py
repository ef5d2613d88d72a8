"""Rewrite each notebook's closing "Try it" cell from notebooks/exercises.yaml (the one source of the
exercises), then pair the .ipynb with the .py:

    .venv/bin/python scripts/sync_try_it.py

tests/run/test_report.py checks that every notebook's last cell states exactly its exercises.
"""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from orca2_kit.run.exercises import load_exercises  # noqa: E402
from orca2_kit.pipeline import ALL_STAGES  # noqa: E402

INTRO = ("Change one thing, predict, then rerun. Each exercise runs into its own folder and keeps this run's "
         "results: `python -m orca2_kit run --resume <run dir> --exercise <id>` (its report sets the numbers "
         "side by side). Or set `overrides` in the parameters cell above and rerun the notebooks named.")


def cell(stage: str) -> str:
    lines = ["## Try it", *textwrap.wrap(INTRO, 100, break_on_hyphens=False), ""]
    exercises = [e for e in load_exercises().values() if e.id.startswith(stage[:2])]
    for i, e in enumerate(exercises):
        reruns = "-".join(dict.fromkeys([e.stages[0][:2], e.stages[-1][:2]]))
        head = f"**{e.id} · {e.title}** (reruns {reruns}): `overrides = {json.dumps(e.overrides)}`"
        lines += textwrap.wrap(head, 100, break_on_hyphens=False)
        lines += textwrap.wrap(f"- *Predict:* {' '.join(e.predict.split())}", 100, subsequent_indent="  ", break_on_hyphens=False)
        lines += textwrap.wrap(f"- *Expected:* {' '.join(e.expect.split())}", 100, subsequent_indent="  ", break_on_hyphens=False)
        if i < len(exercises) - 1:
            lines.append("")
    return "\n".join("# " + x if x else "#" for x in lines) + "\n"


def main() -> int:
    for stage in ALL_STAGES:
        py = ROOT / "notebooks" / f"{stage}.py"
        text = py.read_text()
        start = text.index("# %% [markdown]\n# ## Try it")
        py.write_text(text[:start] + "# %% [markdown]\n" + cell(stage))
        subprocess.run([sys.executable, "-m", "jupytext", "--sync", str(py)], check=True, capture_output=True)
    print("rewrote the Try it cells of", ", ".join(ALL_STAGES))
    return 0


if __name__ == "__main__":
    sys.exit(main())
