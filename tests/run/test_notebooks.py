"""Notebook hygiene: stored without outputs, a tagged parameters cell, in sync with the .py pairs,
and logic kept in orca2_kit (no def/class in cells)."""
from pathlib import Path

import jupytext
import nbformat
import pytest

from orca2_kit.pipeline import ALL_STAGES as STAGES

NB = Path(__file__).resolve().parents[2] / "notebooks"


@pytest.mark.parametrize("stage", STAGES)
def test_notebook_is_clean_and_paired(stage):
    nb = nbformat.read(NB / f"{stage}.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code)
    params = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1 and "params_path" in params[0].source and "run_dir" in params[0].source
    assert not any(line.lstrip().startswith(("def ", "class ", "!pip", "from orca2_kit import *"))
                   for c in code for line in c.source.splitlines())
    paired = jupytext.read(NB / f"{stage}.py")
    assert [c.source for c in paired.cells] == [c.source for c in nb.cells], "run `make notebooks` to sync"
    assert nb.cells[0].cell_type == "markdown" and "Try it" in nb.cells[-1].source
