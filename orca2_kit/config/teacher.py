"""Stage 02's section: the teacher, its endpoint, its money and its workflow."""
from __future__ import annotations

import re
from typing import Literal, Optional, Union

from pydantic import Field, model_validator

from orca2_kit.config.base import ENV_NAME, Section, Strategy, is_loopback, key_in_clear, shown


class TeacherConfig(Section):
    kind: Literal["reference", "openai"] = "reference"
    base_url: Optional[str] = None  # any OpenAI-compatible endpoint; None = api.openai.com
    model: Optional[str] = None
    api_key_env: Optional[str] = "OPENAI_API_KEY"  # the NAME of the variable, never the key
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    max_tokens: int = Field(512, ge=1)
    max_concurrency: int = Field(8, ge=1)
    timeout_s: float = Field(120.0, gt=0)
    max_retries: int = Field(6, ge=0)
    replay_only: bool = False  # answer from the cache only; a miss is an error (no key needed)
    cache_path: Optional[str] = None  # default: outputs/<profile>/teacher_cache.sqlite, shared by the profile's runs
    requests_per_minute: Optional[int] = Field(None, ge=1)  # your endpoint's rate limits, if any
    tokens_per_minute: Optional[int] = Field(None, ge=1)
    # USD per million tokens, for the dry-run estimate and the budget cap (0: free / local server)
    price_input_per_mtok: float = Field(0.0, ge=0)
    price_output_per_mtok: float = Field(0.0, ge=0)
    budget_usd: Optional[float] = Field(None, gt=0)  # spend cap: worst cases are reserved first (client/limits.py: the bound)
    free: bool = False  # true: the endpoint costs nothing, so no prices are needed (e.g. your own vLLM server)
    dry_run: bool = False  # print the plan (requests, tokens, cost) and stop before any call
    samples: int = Field(1, ge=1, description="answers per task (sample index is part of the cache key)")
    # single: one answer per task; sample_k: `samples` answers, keep those matching the reference;
    # draft_refine: a second call asks the teacher to check and rewrite its draft
    workflow: Literal["single", "sample_k", "draft_refine"] = "single"
    # online: chat requests now; batch: OpenAI's Batch API (half price, results within 24 h), resumable
    mode: Literal["online", "batch"] = "online"
    # reference: keep answers whose final answer matches the task's reference; none: keep every
    # non-empty answer (most of the paper's data was not filtered); the check is still recorded
    verify: Literal["reference", "none"] = "reference"
    batch_poll_s: float = Field(30.0, gt=0)
    # Which strategy the teacher is told to use per family: measured (the map notebook 01 chose),
    # expected (the authors' expectation), or one strategy for every family (e.g. step_by_step:
    # "imitate the big model's single style", an ablation arm)
    strategy_map: Union[Literal["measured", "expected"], Strategy] = "measured"

    @model_validator(mode="after")
    def _check_kind(self):
        if self.kind == "openai" and not self.model:
            raise ValueError("model: required when kind is 'openai'")
        if self.mode == "batch" and self.workflow == "draft_refine":
            raise ValueError("mode: batch answers in one round; draft_refine needs two (use mode: online)")
        if self.workflow == "sample_k" and (self.samples < 2 or self.temperature == 0):
            raise ValueError("workflow: sample_k needs samples >= 2 and temperature > 0 (greedy samples are identical)")
        if self.api_key_env is not None and not ENV_NAME.fullmatch(self.api_key_env):
            raise ValueError(
                "api_key_env: must be the NAME of an environment variable (e.g. OPENAI_API_KEY), "
                "not a key")
        if self.base_url is not None and not re.match(r"https?://[^/\s]", self.base_url, re.I):
            raise ValueError(f"base_url: '{shown(self.base_url)}' is not an http(s) URL (e.g. http://127.0.0.1:8000/v1)")
        if (self.kind == "openai" and not self.replay_only and not self.free and not is_loopback(self.base_url)
                and not (self.price_input_per_mtok and self.price_output_per_mtok)):
            raise ValueError(
                f"price_input_per_mtok: the endpoint {shown(self.base_url) or 'api.openai.com (base_url: null)'} is not on "
                "this machine, so it may be paid: set teacher.price_input_per_mtok and teacher.price_output_per_mtok "
                "(USD per million tokens, from your provider's price page) so the plan and budget_usd can count "
                "the cost, or teacher.free: true if it costs nothing")
        if self.kind == "openai" and not self.replay_only:
            if (clear := key_in_clear(self.base_url, self.api_key_env)) is not None:
                raise ValueError(clear)
            if self.budget_usd is not None and not (self.price_input_per_mtok and self.price_output_per_mtok):
                raise ValueError(
                    f"budget_usd: ${self.budget_usd} is counted at teacher.price_input_per_mtok "
                    f"({self.price_input_per_mtok}) and teacher.price_output_per_mtok ({self.price_output_per_mtok}), "
                    "so with a price of 0 it caps nothing; set both prices (USD per million tokens, from the "
                    "provider's price page; a tunnel on this machine to a paid API has them too), or leave "
                    "budget_usd out for an endpoint that costs nothing")
        return self
