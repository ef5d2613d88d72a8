"""Params: the whole profile, assembled from each stage's section, with the checks across sections."""
from __future__ import annotations

from pathlib import Path
from typing import Literal, Optional

from pydantic import Field, ValidationError, field_validator, model_validator

from orca2_kit.config.base import Section
from orca2_kit.config.core import GenerationConfig, StudentConfig, TasksConfig
from orca2_kit.config.erasure import ErasureConfig
from orca2_kit.config.evaluation import EvalConfig
from orca2_kit.config.hallucination import HallucinationConfig
from orca2_kit.config.messages import format_errors
from orca2_kit.config.overrides import apply_overrides
from orca2_kit.config.selection import StrategySelectionConfig
from orca2_kit.config.study import StudyConfig
from orca2_kit.config.teacher import TeacherConfig
from orca2_kit.config.train import TrainConfig
from orca2_kit.datadir import locate
from orca2_kit.errors import ConfigError


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
                first = format_errors(e, "", Params).split(": ", 1)[-1].splitlines()[0].strip()
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

    def train_seed(self) -> int:
        """The training seed (adapter init, batch order, the SFT dataset's shuffle): `train.seed`, else `seed`."""
        return self.train.seed if self.train.seed is not None else self.seed

    def resolved_data_dir(self) -> Optional[Path]:
        """The real-data directory (see locate_data_dir), or None: real-data steps are skipped."""
        return self.locate_data_dir()[0]

    def locate_data_dir(self) -> tuple[Optional[Path], str]:
        """(directory or None, where it came from): params data_dir, else $ORCA2_DATA_DIR, else the user
        config file's data_dir (`python -m orca2_kit data use DIR`), else data/ beside the repo."""
        return locate(self.data_dir)
