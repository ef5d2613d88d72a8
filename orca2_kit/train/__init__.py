"""Stage 04 (notebook 04_sft_training): supervised fine-tuning of the student, thin over TRL + PEFT.

    launch.py     start a run as a subprocess (python or `accelerate launch`); the checkpoint to resume
    trainer.py    what that subprocess runs (`python -m orca2_kit.train`): SFTTrainer, LoRA, loss on
                  the teacher's tokens only, computed where the loss is
    checks.py     loud checks on the rendered data before any step
    batches.py    length-bucketed batches and the padding meter
    loss_mask.py  the loss mask drawn over an example (notebook 04)
    tables.py     notebook 04's rounded tables: the run, and the loss per logged step
"""
from orca2_kit.train.checks import TrainDataError, check_examples  # noqa: F401
from orca2_kit.train.launch import STAGE_DIR, last_checkpoint, launch  # noqa: F401
from orca2_kit.train.tables import train_log_table, train_summary  # noqa: F401
