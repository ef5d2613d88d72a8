"""The kit on a CUDA GPU: where the student lands and in which dtype, the continuous decoder against
`model.generate` there, and training steps of the kit's trainer (full fine-tuning with fp32 master
weights under bf16 autocast; LoRA on packed rows). They need a GPU and skip without one; the device
check runs them (benchmarks/gpu_check.py, scripts/gpu_check.sh). Their CPU counterparts are
tests/core/test_generation.py and tests/train/test_gpu_paths.py."""
from pathlib import Path

import pytest
import torch

from orca2_kit.config import StudentConfig, load_params
from orca2_kit.generation import generate_detailed, messages, system_text
from orca2_kit.models import load_student, load_tokenizer

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (the device check runs these)")


def _convs(n: int) -> list[list[dict]]:
    from orca2_kit import tasks

    items = tasks.build_suite(1234, n_train=1, n_dev=1, n_test=2)["test"]
    modes = ["generic", "empty", "none"]
    return [messages(system_text(modes[i % 3]), it.prompt) for i, it in enumerate(items[:n])]


def test_the_scored_student_is_on_the_gpu_in_half_precision():
    model, _ = load_student(StudentConfig(source="tiny-random"), "cuda", scoring="auto")
    assert {p.device.type for p in model.parameters()} == {"cuda"}
    assert {p.dtype for p in model.parameters()} == {torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16}


def test_continuous_decoder_writes_model_generates_text_on_the_gpu_in_fp32():
    """Refills, per-row limits, three prefix groups, the KV slabs and row selection on CUDA tensors:
    the same text as `model.generate` (fp32, TF32 off: PyTorch's default for matmuls)."""
    model, tok = load_student(StudentConfig(source="tiny-random", dtype="float32"), "cuda")
    convs = _convs(9)
    limits = [3, 17, 9, 17, 3, 12, 17, 5, 17]
    fast = generate_detailed(model, tok, convs, limits, batch_size=3, stop_after_answer=False, engine="continuous")
    ref = generate_detailed(model, tok, convs, limits, batch_size=9, stop_after_answer=False, engine="hf")
    assert [g.text for g in fast] == [g.text for g in ref]
    assert [g.new_tokens for g in fast] == [g.new_tokens for g in ref]


def _trainer(tiny_dir, tmp_path: Path, sets: list[str], dtype):
    from transformers import AutoModelForCausalLM, set_seed

    from orca2_kit.train.trainer import build_trainer
    from tests.train.test_gpu_paths import _token_dataset

    p = load_params("smoke", sets + ["device=cuda", "train.max_steps=2", "train.per_device_batch_size=4",
                                     "train.report_to=[]", "train.logging_steps=1", "train.learning_rate=1e-3"])
    set_seed(0)
    model = AutoModelForCausalLM.from_pretrained(tiny_dir, dtype=dtype).to("cuda")
    return build_trainer(p, model, _token_dataset(16), load_tokenizer(str(tiny_dir)), tmp_path, "cuda",
                         save_strategy="no", disable_tqdm=True)


def test_full_fine_tuning_updates_fp32_master_weights_under_bf16_autocast(tiny_dir, tmp_path):
    from orca2_kit.models import training_dtype

    dtype = training_dtype("auto", "full", "cuda")
    trainer, meter, cfg = _trainer(tiny_dir, tmp_path, ["train.method=full"], dtype)
    assert dtype == torch.float32 and cfg.activation_checkpointing and cfg.bf16 == torch.cuda.is_bf16_supported()
    before = {n: p.detach().clone() for n, p in trainer.model.named_parameters()}
    trainer.train()
    params = dict(trainer.model.named_parameters())
    assert all(p.device.type == "cuda" and p.dtype == torch.float32 for p in params.values())
    assert sum(not torch.equal(before[n], params[n].detach()) for n in before) > len(before) // 2
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h and "train_runtime" not in h]
    assert losses and all(torch.isfinite(torch.tensor(x)) for x in losses) and meter.real > 0


def test_lora_on_packed_rows_on_the_gpu(tiny_dir, tmp_path):
    """LoRA over a bf16 base with checkpointing, on packed rows (sdpa, per-example masks from position
    ids): the adapters move, the loss is finite, rows hold several examples."""
    trainer, meter, cfg = _trainer(tiny_dir, tmp_path, ["train.method=lora", "train.packing=true",
                                                        "train.max_length=64"], torch.bfloat16)
    assert cfg.packing and cfg.activation_checkpointing
    before = {n: p.detach().clone() for n, p in trainer.model.named_parameters() if "lora_B" in n}
    trainer.train()
    after = dict(trainer.model.named_parameters())
    assert before and all(not torch.equal(before[n], after[n].detach()) for n in before)
    assert all(len(b["lengths"]) > 4 for b in meter.batches)  # 4 rows, several examples each
    assert all(torch.isfinite(torch.tensor(h["loss"])) for h in trainer.state.log_history if "loss" in h)


def test_packed_rows_give_each_example_its_own_logits_on_the_gpu(tiny_dir, tmp_path):
    """The CPU test's guarantee with CUDA's sdpa kernels (fp32): no attention across packed examples."""
    from transformers import AutoModelForCausalLM

    from orca2_kit.train.trainer import build_trainer
    from tests.train.test_gpu_paths import _token_dataset

    p = load_params("smoke", ["device=cuda", "train.packing=true", "train.max_length=64", "train.per_device_batch_size=4",
                              "train.report_to=[]"])
    model = AutoModelForCausalLM.from_pretrained(tiny_dir, dtype=torch.float32).to("cuda").eval()
    trainer, _, _ = build_trainer(p, model, _token_dataset(12), load_tokenizer(str(tiny_dir)), tmp_path, "cuda")
    batch = {k: v.to("cuda") for k, v in next(iter(trainer.get_train_dataloader())).items()}
    with torch.no_grad():
        out = model(**{k: v for k, v in batch.items() if k != "labels"}).logits
        for b in range(batch["input_ids"].shape[0]):
            pos = batch["position_ids"][b].tolist()
            starts = [i for i, q in enumerate(pos) if q == 0]
            for s, e in zip(starts, starts[1:] + [len(pos)]):
                if e - s > 1:
                    alone = model(input_ids=batch["input_ids"][b, s:e][None]).logits[0]
                    assert torch.allclose(alone, out[b, s:e], atol=1e-3), (b, s, e)
