"""The smoke profile end to end through papermill, as a user runs it: the README's main command,
shrunk. Slow (about a minute): it starts six kernels and trains a tiny model."""
import json

import nbformat
import pytest

from orca2_kit.pipeline import STAGES
from tests.conftest import run_cli

CANARY = "sk-canary-0123456789abcdef-orca2"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("outputs")
    r = run_cli("run", "--profile", "smoke", "--out", str(out), "--run-id", "t1",
                env={"OPENAI_API_KEY": CANARY, "ORCA2_TEST_SECRET_TOKEN": CANARY})
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return out / "smoke" / "t1"


def test_six_executed_notebooks_figures_and_manifest(smoke_run):
    for s in STAGES:
        nb = nbformat.read(smoke_run / "notebooks" / f"{s}.ipynb", as_version=4)
        errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
        assert not errors, s
        assert (smoke_run / s / "metrics.json").is_file(), s
    # and drawn on the page, not only saved (MPLBACKEND=Agg, as CI sets it, must not leave pages blank)
    drawn = {s for s in STAGES for c in nbformat.read(smoke_run / "notebooks" / f"{s}.ipynb", as_version=4).cells
             if c.cell_type == "code" for o in c.get("outputs", []) if "image/png" in o.get("data", {})}
    assert {"01_strategy_selection", "02_teacher_prompting", "04_sft_training", "05_benchmark_eval",
            "06_hallucination"} <= drawn, drawn
    figs = {p.stem for p in (smoke_run / "figures").glob("*.png")}
    assert {"01_strategy_heatmap", "02_accept_rates", "04_loss", "05_base_vs_student", "06_hallucination"} <= figs
    m = json.loads((smoke_run / "manifest.json").read_text())
    assert all(m["stages"][s]["status"] == "ok" for s in STAGES)
    assert m["seed"] == m["params"]["seed"] and m["versions"]["torch"] and "commit" in m["git"]
    assert "04_sft_training/adapter/adapter_model.safetensors" in m["artifacts"]
    assert any(k.startswith("03_prompt_erasure/sft_dataset/") for k in m["artifacts"])
    assert m["student_model"]["hashes"] and len(m["chat_template_hash"]) == 16


def test_stage_artifacts_are_consistent(smoke_run):
    smap = json.loads((smoke_run / "01_strategy_selection" / "strategy_map.json").read_text())
    assert set(smap) == {"arithmetic", "sentiment"}  # the trained families: smoke holds capital_recall out
    m3 = json.loads((smoke_run / "03_prompt_erasure" / "metrics.json").read_text())
    assert m3["instruction_leaks"] == 0 and m3["rebuilt"] == m3["rows"] > 0
    m5 = json.loads((smoke_run / "05_benchmark_eval" / "metrics.json").read_text())
    scored = {(m, s) for m in ("base", "student") for s in ("empty", "generic")} | {("base", "none")}  # base_under_none
    assert {(r["model"], r["system"]) for r in m5["summary"]} == scored


def test_no_secret_in_any_output_file(smoke_run):
    for p in smoke_run.rglob("*"):
        if p.is_file():
            assert CANARY.encode() not in p.read_bytes(), p


def test_notebooks_get_only_paths_as_parameters(smoke_run):
    nb = nbformat.read(smoke_run / "notebooks" / "01_strategy_selection.ipynb", as_version=4)
    assert set(nb.metadata.papermill.parameters) == {"params_path", "run_dir"}


def test_one_stage_alone_on_an_earlier_runs_artifacts(smoke_run):
    r = run_cli("run", "--resume", str(smoke_run), "--only", "03")
    assert r.returncode == 0, r.stderr[-2000:]
    m = json.loads((smoke_run / "manifest.json").read_text())
    assert m["stages"]["03_prompt_erasure"]["status"] == "ok"


def test_bad_profile_is_refused_before_any_notebook(tmp_path):
    r = run_cli("run", "--profile", "smoke", "--out", str(tmp_path), "--set", "train.epoch=1")
    assert r.returncode == 2 and "train.epoch: unknown key" in r.stderr
    assert not any(tmp_path.iterdir())  # no run directory, no notebook started
    r = run_cli("run", "--profile", "smoke", "--out", str(tmp_path), "--set", "student.source=local",
                "--set", "student.name_or_path=/no/model")
    assert r.returncode == 2 and "student.name_or_path" in r.stderr and not any(tmp_path.iterdir())


def test_a_failing_stage_names_its_executed_notebook(tmp_path, smoke_run):
    # Notebook 05 needs notebook 04's adapter: removing it makes 05 fail, loudly.
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(smoke_run, broken)
    shutil.rmtree(broken / "04_sft_training" / "adapter")
    r = run_cli("run", "--resume", str(broken), "--only", "05")
    assert r.returncode == 1
    assert str(broken / "notebooks" / "05_benchmark_eval.ipynb") in r.stderr and "run stage 04_sft_training first" in r.stderr
