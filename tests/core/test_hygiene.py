"""Output hygiene, checked in CI: run outputs are never tracked by git, notebooks are stored
without outputs, every notebook has its jupytext .py pair in sync, and no tracked file outside the
tests (which hold fake keys on purpose) carries anything shaped like a credential."""
import subprocess
from pathlib import Path

import jupytext
import nbformat
import pytest

from orca2_kit.run.runner import SECRET_SHAPES

ROOT = Path(__file__).resolve().parents[2]
NB = ROOT / "notebooks"


def git(*args) -> str:
    r = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"not a git checkout ({r.stderr.strip()})")
    return r.stdout


def test_no_run_output_is_tracked():
    tracked = git("ls-files", "--", "outputs").split()
    assert [f for f in tracked if not Path(f).name.startswith("README")] == []
    # and what a run writes stays ignored, wherever under outputs/ it lands
    for f in ("outputs/smoke/r1/manifest.json", "outputs/offline/teacher_cache.sqlite",
              "outputs/smoke/r1/notebooks/01_strategy_selection.ipynb"):
        assert git("check-ignore", "--no-index", f).strip() == f, f"{f} would not be ignored"


def test_tracked_notebooks_are_stored_without_outputs():
    notebooks = [f for f in git("ls-files", "*.ipynb").split()]
    assert len(notebooks) >= 6
    for f in notebooks:
        nb = nbformat.read(ROOT / f, as_version=4)
        for c in nb.cells:
            if c.cell_type == "code":
                assert not c.get("outputs") and c.get("execution_count") is None, f"{f}: outputs stored"
        assert "papermill" not in nb.metadata, f"{f} is an executed notebook"


def test_jupytext_pairs_are_in_sync():
    ipynbs = sorted(p.stem for p in NB.glob("*.ipynb"))
    assert ipynbs == sorted(p.stem for p in NB.glob("*.py")), "every notebook needs its .py pair and vice versa"
    for stem in ipynbs:
        nb = nbformat.read(NB / f"{stem}.ipynb", as_version=4)
        py = jupytext.read(NB / f"{stem}.py")
        assert nb.metadata.get("jupytext", {}).get("formats") == "ipynb,py:percent", stem
        got = [(c.cell_type, c.source, c.metadata.get("tags", [])) for c in py.cells]
        want = [(c.cell_type, c.source, c.metadata.get("tags", [])) for c in nb.cells]
        assert got == want, f"{stem}: run `make notebooks` (jupytext --sync) to pair the .ipynb with the .py"


def test_no_credential_shaped_text_is_tracked():
    hits = []
    for f in git("ls-files").split():
        if f.startswith("tests/"):
            continue
        try:
            text = (ROOT / f).read_text(errors="ignore")
        except (IsADirectoryError, FileNotFoundError):
            continue
        hits += [f"{f}: {m.group(0)[:12]}..." for m in SECRET_SHAPES.finditer(text)]
    assert not hits
