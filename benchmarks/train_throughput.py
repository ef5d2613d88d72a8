"""Training throughput of the embedded student on this CPU: the kit vs a hand-configured TRL run.

    .venv/bin/python benchmarks/train_throughput.py [--steps 12] [--n-train 24]

Both runs train the same LoRA adapter on the same erased dataset (built-in tasks, reference
teacher) for the same number of steps. Reported, in one run:
- tokens/s: real (non-padding) tokens trained on per second of train() wall time;
- fraction of measured matmul peak: tokens/s x FLOP per token / the best GEMM rate measured here
  in the dtype the base model's matmuls run in. FLOP per token: full fine-tuning 6N (N
  parameters); LoRA 4N + 6N_lora (forward 2N; backward 2N for activation gradients through the
  frozen weights, which get no weight gradient; adapters 6 per parameter); attention FLOPs ignored;
- padding fraction: padded positions / all positions of the batches trained on;
- ratio: kit tokens/s / baseline tokens/s.
The baseline is what a careful user would write by hand for a CPU: fp32, no gradient
checkpointing, no bf16 autocast, random batches, same batch size and LoRA.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch
import yaml

ROOT = Path(__file__).resolve().parent.parent


def gemm_peak(dtype, seconds: float = 2.0) -> float:
    """Best GFLOP/s over a few square and model-shaped matmuls."""
    best = 0.0
    for m, k, n in [(2048, 2048, 2048), (4096, 576, 1536), (4096, 1536, 576), (3072, 3072, 3072)]:
        a, b = torch.randn(m, k, dtype=dtype), torch.randn(k, n, dtype=dtype)
        for _ in range(2):
            a @ b
        reps, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds / 4:
            a @ b
            reps += 1
        best = max(best, 2 * m * k * n * reps / (time.perf_counter() - t0) / 1e9)
    return best


def build_dataset(run_dir: Path, n_train: int, seed: int) -> None:
    from orca2_kit import erasure, tasks
    from orca2_kit.config import TeacherConfig
    from orca2_kit.strategies import student_system_message
    from orca2_kit.teacher import run_teacher

    items = tasks.build_suite(seed, n_train=n_train, n_dev=1, n_test=1)["train"]
    smap = {f.name: f.expected_strategy for f in tasks.FAMILIES.values()}
    answers = run_teacher(TeacherConfig(), items, smap, run_dir / "02_teacher_prompting")
    rows = erasure.build_sft_rows(answers, student_system_message("generic"))
    erasure.save_sft_dataset(rows, run_dir / "03_prompt_erasure" / "sft_dataset", seed=seed)


def kit_run(run_dir: Path, steps: int) -> dict:
    from orca2_kit.train import launch

    params = run_dir / "params.yaml"
    params.write_text(yaml.safe_dump({"extends": str(ROOT / "params" / "offline.yaml"), "profile": "bench",
                                      "train": {"max_steps": steps, "save_steps": 10_000, "report_to": []}}))
    out = launch(params, run_dir)
    return json.loads((out / "train_metrics.json").read_text())


def baseline_run(run_dir: Path, steps: int, params) -> dict:
    from datasets import load_from_disk
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    from orca2_kit.models import student_path
    from orca2_kit.train import PaddingMeter

    path = student_path(params.student)
    t = params.train
    ds = load_from_disk(str(run_dir / "03_prompt_erasure" / "sft_dataset")).select_columns(["prompt", "completion"])
    cfg = SFTConfig(output_dir=str(run_dir / "baseline"), max_steps=steps, per_device_train_batch_size=t.per_device_batch_size,
                    learning_rate=t.learning_rate, max_length=t.max_length, bf16=False, fp16=False, use_cpu=True,
                    gradient_checkpointing=False, report_to="none", save_strategy="no", logging_steps=1,
                    seed=params.seed, disable_tqdm=True)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    trainer = SFTTrainer(model=model, args=cfg, train_dataset=ds, processing_class=AutoTokenizer.from_pretrained(path),
                         peft_config=LoraConfig(r=t.lora_r, lora_alpha=t.lora_alpha, target_modules="all-linear",
                                                task_type="CAUSAL_LM"))
    meter = trainer.data_collator = PaddingMeter(trainer.data_collator)
    t0 = time.perf_counter()
    trainer.train()
    wall = time.perf_counter() - t0
    return {"tokens_per_s": meter.real / wall, "padding_fraction": meter.fraction, "train_runtime_s": wall,
            "base_dtype": "torch.float32", "trainable_params": sum(p.numel() for p in trainer.model.parameters() if p.requires_grad)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--n-train", type=int, default=24, help="items per family")
    ap.add_argument("--out", default=str(ROOT / "outputs" / "benchmarks" / "train_throughput.json"))
    args = ap.parse_args()

    from orca2_kit.config import load_params

    params = load_params("offline")
    n_params = 134_515_008  # SmolLM2-135M (tied embeddings counted once)
    peaks = {"torch.float32": gemm_peak(torch.float32), "torch.bfloat16": gemm_peak(torch.bfloat16)}
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp)
        build_dataset(run_dir, args.n_train, params.seed)
        kit = kit_run(run_dir, args.steps)
        base = baseline_run(run_dir, args.steps, params)
    report = {"steps": args.steps, "gemm_peak_gflops": peaks, "flop_per_token_rule": "LoRA: 4N + 6N_lora; full: 6N"}
    for name, r in (("kit", kit), ("baseline", base)):
        flop_tok = 4 * n_params + 6 * r["trainable_params"]
        peak = peaks[r["base_dtype"]]
        report[name] = {"tokens_per_s": r["tokens_per_s"], "padding_fraction": r["padding_fraction"],
                        "base_dtype": r["base_dtype"], "achieved_gflops": r["tokens_per_s"] * flop_tok / 1e9,
                        "fraction_of_peak": r["tokens_per_s"] * flop_tok / 1e9 / peak}
    report["ratio_kit_to_baseline"] = kit["tokens_per_s"] / base["tokens_per_s"]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
