"""Stage 01's section: how the strategy map is chosen."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from orca2_kit.config.base import STRATEGY_KEYS, Section, Strategy


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
