"""The GPU check (benchmarks/gpu_check.py, issue 28) cannot rot: its GPU plan is checked against the
kit here (every run's overrides make a valid profile, the model shape is ~1.5B, every phase is
planned), and --dry runs the same code on this CPU end to end and writes every field."""
import json
import subprocess
import sys

import pytest

from orca2_kit.config import load_params
from tests.conftest import ROOT

BENCH = ROOT / "benchmarks"


def _plan(mode: str) -> dict:
    return json.loads((BENCH / "configs" / "gpu_check.json").read_text())[mode]


@pytest.mark.parametrize("mode", ["gpu", "dry"])
def test_every_planned_run_is_a_valid_profile_of_the_kit(mode):
    """A typo in the GPU plan would cost a device run: each run's --set overrides (and the smoke's)
    must validate here, and its packing must be one the kit accepts on that device."""
    from orca2_kit.train.trainer import use_packing

    plan = _plan(mode)
    device = "cuda" if mode == "gpu" else "cpu"
    runs = plan["train"]["runs"] + plan["train"]["extra_runs"]
    assert {r["name"] for r in runs} and len({r["name"] for r in runs}) == len(runs)
    for r in runs:
        p = load_params(plan["profile"], r["set"])
        assert use_packing(p, device) == ("train.packing=true" in r["set"]), r["name"]
    load_params("smoke", [s for s in plan["smoke"]["set"] if not s.startswith("device=")])
    for f in plan["tests"]["files"]:
        assert (ROOT / f).is_file(), f
    if mode == "gpu":  # the four runs the issue asks for
        assert {(load_params("gpu", r["set"]).train.method, "train.packing=true" in r["set"]) for r in plan["train"]["runs"]} \
            == {("full", True), ("full", False), ("lora", True), ("lora", False)}


def test_the_gpu_plans_model_has_qwen2_5_1_5b_s_shape():
    import torch

    sys.path.insert(0, str(BENCH))
    try:
        from gpu_train import matmul_params, random_model
    finally:
        sys.path.remove(str(BENCH))
    model = random_model(_plan("gpu")["model"], torch.bfloat16, "meta")
    assert sum(p.numel() for p in model.parameters()) == 1_543_714_304  # Qwen2.5-1.5B (tied embeddings)
    assert matmul_params(model) == 1_543_714_304  # the tied embedding counts once, as the output layer


@pytest.mark.slow
def test_dry_run_writes_every_phase_and_figure(tmp_path):
    """The whole check on this CPU, tiny (2-3 minutes on 2 shared cores: each phase is its own process)."""
    out = tmp_path / "gpu_check.json"
    r = subprocess.run([sys.executable, str(BENCH / "gpu_check.py"), "--dry", "--out", str(out)], cwd=ROOT,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    report = json.loads(out.read_text())
    phases = report["phases"]
    plan = _plan("dry")
    assert set(phases) == {"env", "generate", "smoke", "tests"} | {f"train:{x['name']}" for x in plan["train"]["runs"]}
    assert all(v["status"] == "ok" for v in phases.values()), {k: v.get("log_tail", v) for k, v in phases.items()}
    env = phases["env"]
    assert env["device"] == "cpu" and env["peak"]["tflops"] > 0 and env["versions"]["transformers"]
    for x in plan["train"]["runs"]:
        t = phases[f"train:{x['name']}"]
        assert t["tokens_per_s"] > 0 and 0 < t["mfu"] < 1 and t["losses_finite"] and len(t["losses"]) == t["steps"]
        assert t["tokens_timed"] == round(t["tokens_per_s"] * t["timed_s"], 0) or abs(
            t["tokens_timed"] - t["tokens_per_s"] * t["timed_s"]) < 1
        assert t["weights_dtype"] == ("float32" if t["method"] == "full" else t["weights_dtype"])
    packed = phases["train:full_packed"]
    assert packed["batches"].startswith("packed rows") and packed["examples_per_row"] > 1
    g = phases["generate"]
    assert g["kit"]["new_tokens"] == g["plain"]["new_tokens"] == g["prompts"] * g["max_new_tokens"]
    assert g["identical_texts"] == g["prompts"]  # fp32 on a CPU: the decoder writes generate's tokens
    assert phases["tests"]["summary"].endswith("s") and "skipped" in phases["tests"]["summary"]
    assert "train:full_packed" in r.stdout and "generate" in r.stdout  # the table


def test_a_partial_rerun_writes_its_phases_and_the_peak(tmp_path):
    """--phases (a rerun of what failed on the device): env always runs (the MFU denominator), the
    rest are left out, and the JSON and the table are written."""
    out = tmp_path / "gpu_check.json"
    r = subprocess.run([sys.executable, str(BENCH / "gpu_check.py"), "--dry", "--phases", "smoke", "--out", str(out)],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    phases = json.loads(out.read_text())["phases"]
    assert set(phases) == {"env", "smoke"} and phases["smoke"]["status"] == "ok", phases
    assert phases["env"]["peak"]["tflops"] > 0 and "matmul peak" in r.stdout
