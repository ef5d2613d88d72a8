"""Notebook 07's section: the ablation study's arms, seeds and what every arm is scored on."""
from __future__ import annotations

import re
from typing import Any, Optional

from pydantic import Field, field_validator

from orca2_kit.config.base import Section, SystemMessage


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
