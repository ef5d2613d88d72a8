"""Stage 04: supervised fine-tuning of the student on the erased dataset, thin over TRL + PEFT.

Run as a module so that `accelerate launch` can start it on several processes or GPUs, and so the
notebook's kernel never initialises CUDA:

    python -m orca2_kit.train --params outputs/offline/<run>/params.yaml --run-dir outputs/offline/<run>
    accelerate launch --multi_gpu --num_processes 2 -m orca2_kit.train --params ... --run-dir ...

The loss covers the teacher's tokens only: the dataset is conversational prompt-completion, and
TRL's `completion_only_loss` masks the prompt (system + user turns). Before any step we check
that every example keeps some completion tokens after truncation and that the end-of-turn token
is among them (otherwise the student never learns to stop).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

STAGE_DIR = "04_sft_training"


class TrainDataError(ValueError):
    pass


def check_examples(tokenizer, dataset, max_length: int) -> dict:
    """Loud checks on the rendered data; returns token statistics for the manifest."""
    eot = tokenizer.eos_token_id
    n_prompt = n_completion = n_total = 0
    for i, ex in enumerate(dataset):
        prompt = tokenizer.apply_chat_template(ex["prompt"], tokenize=False, add_generation_prompt=True)
        full = tokenizer.apply_chat_template(ex["prompt"] + ex["completion"], tokenize=False)
        if not full.startswith(prompt):
            raise TrainDataError(f"example {i} ({ex.get('id')}): the chat template renders the prompt differently "
                                 "with and without the answer; prompt-completion masking would be wrong")
        p_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        f_ids = tokenizer(full, add_special_tokens=False)["input_ids"][:max_length]
        completion = f_ids[len(p_ids):]
        if not completion:
            raise TrainDataError(f"example {i} ({ex.get('id')}): no assistant tokens left after truncation to "
                                 f"max_length={max_length} (prompt is {len(p_ids)} tokens); raise train.max_length")
        if eot not in completion:
            raise TrainDataError(f"example {i} ({ex.get('id')}): the end-of-turn token {tokenizer.eos_token!r} is not "
                                 f"among the trained tokens (truncated, or the template does not close the turn)")
        n_prompt += len(p_ids)
        n_completion += len(completion)
        n_total += len(f_ids)
    return {"examples": len(dataset), "prompt_tokens": n_prompt, "completion_tokens": n_completion,
            "total_tokens": n_total}


def sft_config(params, out_dir: Path, device: str):
    """TRL's own SFTConfig, with CPU-sane defaults.

    TRL's defaults (bf16 autocast on, gradient checkpointing on) make a step ~26x slower on a CPU;
    there we turn both off (a bf16 *base* is loaded directly where the CPU has native bf16) and
    checkpoint activations only on GPUs for full fine-tuning.
    """
    from trl import SFTConfig

    t = params.train
    on_gpu = device == "cuda"
    import torch

    bf16 = on_gpu and torch.cuda.is_bf16_supported()
    return SFTConfig(
        output_dir=str(out_dir / "checkpoints"),
        num_train_epochs=t.epochs, max_steps=t.max_steps, learning_rate=t.learning_rate,
        per_device_train_batch_size=t.per_device_batch_size, gradient_accumulation_steps=t.gradient_accumulation_steps,
        warmup_steps=t.warmup_ratio, lr_scheduler_type="cosine", max_length=t.max_length,
        completion_only_loss=True, bf16=bf16, fp16=False, use_cpu=not on_gpu,
        gradient_checkpointing=on_gpu and t.method == "full",
        train_sampling_strategy="group_by_length",  # less padding than random batches
        logging_steps=t.logging_steps, save_strategy="steps", save_steps=t.save_steps, save_total_limit=2,
        report_to=["tensorboard"],
        seed=params.seed, data_seed=params.seed, dataloader_num_workers=0, disable_tqdm=False,
    )


def lora_config(params):
    from peft import LoraConfig

    t = params.train
    return LoraConfig(r=t.lora_r, lora_alpha=t.lora_alpha, lora_dropout=t.lora_dropout, task_type="CAUSAL_LM",
                      target_modules=t.lora_target_modules or "all-linear")


def last_checkpoint(ckpt_dir: Path):
    from transformers.trainer_utils import get_last_checkpoint

    return get_last_checkpoint(str(ckpt_dir)) if ckpt_dir.is_dir() else None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m orca2_kit.train")
    ap.add_argument("--params", required=True, help="resolved params.yaml of the run")
    ap.add_argument("--run-dir", required=True)
    args = ap.parse_args(argv)

    import torch
    from datasets import load_from_disk
    from transformers import AutoModelForCausalLM, set_seed
    from trl import SFTTrainer

    from .config import load_params
    from .generation import template_hash
    from .models import load_tokenizer, resolve_device, resolve_dtype, student_path

    params = load_params(args.params)
    run_dir = Path(args.run_dir)
    out = run_dir / STAGE_DIR
    out.mkdir(parents=True, exist_ok=True)
    set_seed(params.seed)
    device = resolve_device(params.device)
    path = student_path(params.student)
    tok = load_tokenizer(path, params.student.revision)
    ds = load_from_disk(str(run_dir / "03_prompt_erasure" / "sft_dataset"))
    stats = check_examples(tok, ds, params.train.max_length)
    ds = ds.select_columns(["prompt", "completion"])

    # LoRA keeps the frozen base in the inference dtype (bf16 where the CPU or GPU has it; the
    # adapters stay fp32); full fine-tuning on a CPU trains fp32 weights.
    dtype = torch.float32 if (device == "cpu" and params.train.method == "full") else \
        resolve_dtype(params.student.dtype, device)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype, revision=params.student.revision)
    os.environ.setdefault("TENSORBOARD_LOGGING_DIR", str(out / "tensorboard"))
    cfg = sft_config(params, out, device)
    trainer = SFTTrainer(model=model, args=cfg, train_dataset=ds, processing_class=tok,
                         peft_config=lora_config(params) if params.train.method == "lora" else None)
    resume = last_checkpoint(out / "checkpoints")
    t0 = time.time()
    result = trainer.train(resume_from_checkpoint=resume)
    wall = time.time() - t0
    if trainer.is_world_process_zero():
        trainer.save_model(str(out / "adapter" if params.train.method == "lora" else out / "model"))
        tok.save_pretrained(str(out / "adapter" if params.train.method == "lora" else out / "model"))
        metrics = {
            "method": params.train.method, "device": device, "base_dtype": str(dtype), "world_size": trainer.args.world_size,
            "resumed_from": resume, "train_runtime_s": wall, "global_step": trainer.state.global_step,
            "train_loss": result.training_loss, "tokens": stats, "epochs_done": trainer.state.epoch,
            # tokens the model processed per second (prompt + completion, padding excluded)
            "tokens_per_s": stats["total_tokens"] * (trainer.state.epoch or 0) / wall if wall > 0 else None, "template_hash": template_hash(tok),
            "trainable_params": sum(p.numel() for p in trainer.model.parameters() if p.requires_grad),
            "log_history": trainer.state.log_history,
        }
        (out / "train_metrics.json").write_text(json.dumps(metrics, indent=2, default=str))
    return 0


def launch(params_path: str | Path, run_dir: str | Path, launcher: str = "python", num_processes: int = 1,
           accelerate_config: str | None = None) -> Path:
    """Start training as a subprocess (from notebook 04), streaming its output; raise on failure."""
    module = ["-m", "orca2_kit.train", "--params", str(params_path), "--run-dir", str(run_dir)]
    if launcher == "accelerate":
        cmd = [sys.executable, "-m", "accelerate.commands.launch"]
        if accelerate_config:
            from .config import resolve_accelerate_config

            cmd += ["--config_file", str(resolve_accelerate_config(accelerate_config))]
        elif num_processes > 1:
            cmd += ["--multi_gpu", "--num_processes", str(num_processes)]
        cmd += module
    else:
        cmd = [sys.executable] + module
    env = dict(os.environ, PYTHONUNBUFFERED="1", TOKENIZERS_PARALLELISM="false")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    tail, shown = [], 0.0
    for line in proc.stdout:  # tqdm redraws with \r (read as line breaks): show one every 5 s
        tail = (tail + [line])[-40:]
        is_bar = "it/s]" in line or "s/it]" in line
        if not is_bar or time.time() - shown > 5 or "100%" in line:
            print(line.rstrip(), flush=True)
            shown = time.time() if is_bar else shown
    if proc.wait() != 0:
        raise RuntimeError(f"training failed (exit {proc.returncode}):\n{''.join(tail)}")
    return Path(run_dir) / STAGE_DIR


if __name__ == "__main__":
    sys.exit(main())
