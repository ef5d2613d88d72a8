"""Stage 04's section: training (LoRA or full, TRL's settings, the launcher)."""
from __future__ import annotations

from pathlib import Path
from typing import Literal, Optional, Union

from pydantic import Field, field_validator, model_validator

from orca2_kit.config.base import Section
from orca2_kit.paths import PACKAGE

ACCELERATE_CONFIGS = PACKAGE / "train" / "accelerate_configs"


def resolve_accelerate_config(name: str) -> Path:
    """A shipped config name ('deepspeed_zero3') or a path to your own accelerate config file."""
    shipped = ACCELERATE_CONFIGS / f"{name}.yaml"
    return shipped if shipped.is_file() else Path(name).expanduser()


class TrainConfig(Section):
    method: Literal["lora", "full"] = "lora"
    # the training seed (adapter init, batch order); None: the profile's seed. The ablation study
    # varies this alone, so its arms share the suite, the strategy map and the teacher's answers.
    seed: Optional[int] = None
    epochs: float = Field(2.0, gt=0)
    max_steps: int = Field(-1, ge=-1, description="-1: run the epochs")
    learning_rate: float = Field(1e-3, gt=0)
    per_device_batch_size: int = Field(8, ge=1)
    gradient_accumulation_steps: int = Field(1, ge=1)
    max_length: int = Field(512, ge=16)
    warmup_ratio: float = Field(0.05, ge=0, lt=1)
    lora_r: int = Field(16, ge=1)
    lora_alpha: int = Field(32, ge=1)
    lora_dropout: float = Field(0.0, ge=0, lt=1)
    lora_target_modules: Optional[list[str]] = None  # None: all linear layers of the block
    launcher: Literal["python", "accelerate"] = "python"
    num_processes: int = Field(1, ge=1)
    accelerate_config: Optional[str] = None  # a file from orca2_kit/train/accelerate_configs or your own
    save_steps: int = Field(50, ge=1)
    logging_steps: int = Field(5, ge=1)
    # auto: pack several conversations per row without cross-attention (padding-free) where the
    # attention kernel supports it (flash attention on a GPU); else length-grouped batches.
    packing: Union[bool, Literal["auto"]] = "auto"
    attn_implementation: Optional[str] = None  # e.g. flash_attention_2 on GPUs; None: transformers' default
    report_to: list[Literal["tensorboard", "mlflow", "wandb"]] = Field(default_factory=lambda: ["tensorboard"])
    save_merged: bool = False  # also save base + adapter merged into one model directory
    load_in_4bit: bool = False  # QLoRA: 4-bit NF4 base via bitsandbytes (CUDA GPUs only)

    @model_validator(mode="after")
    def _qlora(self):
        if self.load_in_4bit and self.method != "lora":
            raise ValueError("load_in_4bit: QLoRA trains LoRA adapters; set method: lora")
        return self

    @field_validator("accelerate_config")
    @classmethod
    def _config_exists(cls, v):
        if v is not None and not resolve_accelerate_config(v).is_file():
            shipped = sorted(p.stem for p in ACCELERATE_CONFIGS.glob("*.yaml"))
            raise ValueError(f"'{v}' is neither a shipped config ({', '.join(shipped)}) nor an existing file")
        return v
