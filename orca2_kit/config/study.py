"""Notebook 07's section: the ablation study's arms, seeds and what every arm is scored on."""
from __future__ import annotations

import re
from typing import Any, Optional

from pydantic import Field, field_validator

from orca2_kit.config.base import Budget, Section, SystemMessage


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


class PlanningConfig(Section):
    """What the study's power is computed from before any arm trains (orca2_kit/study/power.py).
    Stated values, chosen on the conservative side; a pilot run (`study --plan-only --pilot RUN`)
    replaces item_sd and answer_var with a run's own, and the study reports the achieved values."""
    # spread of the per-item difference between two arms (one seed each): 0.5 is what a trained
    # student and its base model showed on an offline run's trained families (25% of items discordant;
    # two trained arms differ less)
    item_sd: float = Field(0.5, gt=0, le=1)
    # answer-level variance within an item across training seeds (0.25 at most: every item a coin flip
    # whatever the seed); 0.1: two seeds of one arm disagree on about a fifth of the items
    answer_var: float = Field(0.1, gt=0, le=0.25)
    seed_sd: float = Field(0.02, ge=0, le=0.5, description="seed-to-seed spread of an arm's accuracy")
    # an interval inside ±margin is reported as "equivalent within" it (an effect that large was looked for)
    margin: float = Field(0.10, gt=0, lt=1)


class LearningCurveConfig(Section):
    """`python -m orca2_kit learning-curve`: the recipe's dev accuracy at several training sizes, and
    the rule that picks the study's size (orca2_kit/study/learning_curve.py), stated before the curve is seen."""
    sizes: list[int] = Field(default_factory=lambda: [8, 24, 72], min_length=2, description="training items per family")
    seeds: list[int] = Field(default_factory=lambda: [1, 2], min_length=1)
    min_gain: float = Field(0.02, ge=0, lt=1, description="a next size gaining less than this: the student has stopped improving")
    max_size: Optional[int] = Field(None, ge=1, description="the largest size the study's time allows")
    # 'auto': as the study sizes its test answers (study/run.py): eval.max_new_tokens when it is a
    # number, else the teacher's answers the recipe trains on at that size (generation/budgets.py),
    # so the curve and the study read answers of one length. Until issue 27 a fixed 160 (an accident).
    max_new_tokens: Budget = Field("auto", description="dev answers' token budget")


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
    planning: PlanningConfig = Field(default_factory=PlanningConfig)
    learning_curve: LearningCurveConfig = Field(default_factory=LearningCurveConfig)

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
