"""Stage 03 (notebook 03_prompt_erasure): the teacher's instruction is erased; (generic system
message, task, teacher answer) becomes the student's SFT dataset (build.py)."""
from orca2_kit.erasure.build import (  # noqa: F401
    VARIANTS, ErasureError, build_sft_rows, direct_only_map, erase, save_sft_dataset, side_by_side, unerased_instruction)
