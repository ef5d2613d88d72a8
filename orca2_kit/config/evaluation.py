"""Stage 05's section: the built-in evaluation and the paper's benchmarks on lm-evaluation-harness."""
from __future__ import annotations

from typing import Literal, Optional, Union

from pydantic import Field, model_validator

from orca2_kit.config.base import ENV_NAME, Budget, Section, SystemMessage, key_in_clear


BENCHMARK_KEYS = ("agieval", "bbh", "drop", "crass", "race", "gsm8k", "mmlu", "arc_easy", "arc_challenge",
                  "hellaswag", "lambada", "truthfulqa", "toxigen", "mt_bench")


class EndpointConfig(Section):
    """An OpenAI-compatible chat endpoint (the harness's `chat` backend, or the MT-Bench judge)."""
    base_url: Optional[str] = None  # e.g. http://127.0.0.1:8000/v1
    model: Optional[str] = None
    api_key_env: Optional[str] = "OPENAI_API_KEY"  # the NAME of the variable, never the key

    @model_validator(mode="after")
    def _check(self):
        if bool(self.base_url) != bool(self.model):
            raise ValueError("base_url: and model must be given together")
        if self.api_key_env is not None and not ENV_NAME.fullmatch(self.api_key_env):
            raise ValueError("api_key_env: must be the NAME of an environment variable, not a key")
        if (clear := key_in_clear(self.base_url, self.api_key_env)) is not None:
            raise ValueError(clear)
        return self


class HarnessConfig(Section):
    """The paper's benchmarks on lm-evaluation-harness (orca2_kit/evaluation/harness)."""
    backend: Literal["hf", "vllm", "chat"] = "hf"
    benchmarks: Union[Literal["available"], list[Literal[BENCHMARK_KEYS]]] = "available"  # type: ignore[valid-type]
    limit: Optional[int] = Field(None, ge=1, description="documents per benchmark (None: all)")
    loglikelihood: bool = True  # also the log-likelihood variant of the multiple-choice sets
    # also lm-evaluation-harness's standard multiple-choice form (option text as continuation, acc/acc_norm)
    standard_mc: bool = True
    # auto: the built-in evaluation's budget (from the teacher's accepted answers), so a student is
    # given the room it learned to use on the benchmarks too
    max_new_tokens: Budget = "auto"
    batch_size: int = Field(32, ge=1)
    # None: generation.dtype, the scoring dtype of the built-in evaluation; set, it must be the same
    # (one student, one set of numbers)
    dtype: Optional[Literal["auto", "float32", "bfloat16", "float16"]] = None
    endpoint: EndpointConfig = Field(default_factory=EndpointConfig)  # backend chat: the model to score
    judge: EndpointConfig = Field(default_factory=EndpointConfig)  # MT-Bench judge; none: grading skipped
    mt_bench_limit: Optional[int] = Field(None, ge=1)

    @model_validator(mode="after")
    def _check(self):
        if self.backend == "chat" and not self.endpoint.base_url:
            raise ValueError("endpoint: backend 'chat' needs endpoint.base_url and endpoint.model")
        return self


class EvalConfig(Section):
    system_messages: list[SystemMessage] = Field(default_factory=lambda: ["empty", "generic"])
    # the base model is also scored under its template's own default (none), so it is compared at its best
    base_under_none: bool = True
    split: Literal["dev", "test"] = "test"
    # auto: a high percentile of the teacher's accepted answers plus a margin (generation.budget_*)
    max_new_tokens: Budget = "auto"
    harness: HarnessConfig = Field(default_factory=HarnessConfig)
