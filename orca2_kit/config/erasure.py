"""Stage 03's section: what the student's training prompt becomes."""
from __future__ import annotations

from pathlib import Path
from typing import Literal, Optional

from pydantic import field_validator

from orca2_kit.config.base import Section


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
