"""Stage 03: prompt erasure (Orca 2 sec. 3).

The teacher answered under a detailed strategy instruction; the student is trained on
(student system message, task, teacher answer) with that instruction *erased*, so it must learn
to pick the strategy itself. Every row keeps its provenance (task, strategy, the instruction's
hash, teacher), which rebuilds the un-erased view from the strategy catalogue.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from orca2_kit.strategies import STRATEGIES, student_system_message, teacher_instruction, text_hash
from orca2_kit.tasks import family_info

# erased: the recipe; not_erased: the teacher's instruction kept (ablation); direct_only: answers
# made under the direct strategy only, erased (single-strategy imitation, the paper's contrast).
VARIANTS = ("erased", "not_erased", "direct_only")


class ErasureError(ValueError):
    pass


def _assert_erased(system: str, instruction: str, row_id: str) -> None:
    # The whole point: no trace of the teacher's instruction may reach the student's prompt.
    if system.strip() and (system.strip() == instruction.strip() or instruction.strip() in system):
        raise ErasureError(f"row {row_id}: the system message is still the teacher's instruction")
    for s in STRATEGIES.values():
        head = s.instruction.split("{task}")[-1][:60]
        if head.strip() and head in system:
            raise ErasureError(f"row {row_id}: the system message contains teacher-instruction text ({s.key})")


def build_sft_rows(answers: pd.DataFrame, system_message: str, variant: str = "erased") -> list[dict]:
    """Conversational prompt-completion rows (TRL's format: loss on the completion only)."""
    if variant not in VARIANTS:
        raise ErasureError(f"unknown variant '{variant}'; choose from {VARIANTS}")
    if variant == "direct_only" and set(answers["strategy"]) != {"direct"}:
        raise ErasureError("variant direct_only needs teacher answers made with the direct strategy only: "
                           "run the teacher with orca2_kit.erasure.direct_only_map(families)")
    rows = []
    for r in answers[answers["accepted"]].itertuples():
        system = r.instruction if variant == "not_erased" else system_message
        if variant != "not_erased":
            _assert_erased(system, r.instruction, r.id)
        rows.append({
            "prompt": [{"role": "system", "content": system}, {"role": "user", "content": r.prompt}],
            "completion": [{"role": "assistant", "content": r.answer}],
            "id": r.id, "task": r.family, "strategy": r.strategy, "instruction_hash": r.instruction_hash,
            "teacher": r.teacher, "variant": variant,
        })
    if not rows:
        raise ErasureError("no accepted teacher answers: nothing to train on (see the teacher's rejection reasons)")
    return rows


def direct_only_map(families) -> dict[str, str]:
    """A strategy map that asks the teacher for direct answers everywhere (the imitation ablation)."""
    return {f: "direct" for f in families}


def unerased_instruction(row: dict) -> str:
    """Rebuild the instruction the teacher saw from a row's provenance, checking its hash."""
    text = teacher_instruction(row["strategy"], family_info(row["task"])["description"])
    if text_hash(text) != row["instruction_hash"]:
        raise ErasureError(f"row {row['id']}: the strategy catalogue changed since this dataset was built")
    return text


def side_by_side(row: dict, width: int = 100) -> str:
    """One training row as the teacher saw it and as the student sees it, every text in full."""
    import textwrap

    def block(title: str, text: str) -> str:
        body = "\n".join(textwrap.fill(line, width) if line.strip() else "" for line in text.splitlines()) or "(empty)"
        return f"--- {title} " + "-" * max(3, width - len(title) - 5) + "\n" + body

    return "\n\n".join([
        block("TEACHER saw as its system message (erased)", unerased_instruction(row)),
        block("STUDENT sees as its system message", row["prompt"][0]["content"]),
        block("USER (both)", row["prompt"][1]["content"]),
        block("ASSISTANT: the teacher's answer, the only tokens the student is trained on", row["completion"][0]["content"]),
    ])


CARD = """---
language: en
tags: [orca2-kit, sft, prompt-erasure]
---
# orca2-kit SFT dataset ({variant})

Built by `orca2_kit.erasure` from verified teacher answers (teacher: {teachers}).

- rows: {n}; tasks: {tasks}
- strategy mix: {mix}
- student system message: {system!r}
- format: conversational prompt-completion (`prompt`: system + user turns, `completion`: the
  teacher's answer); train with loss on the completion only.
- provenance columns: `id`, `task`, `strategy`, `instruction_hash`, `teacher`, `variant`;
  `orca2_kit.erasure.unerased_instruction(row)` rebuilds the instruction the teacher saw.
"""


def save_sft_dataset(rows: list[dict], out_dir: Path, seed: int):
    """Shuffle (seeded) and save as an HF Dataset with a dataset card; returns the Dataset."""
    import datasets
    from datasets import Dataset

    ds = Dataset.from_list(rows).shuffle(seed=seed)
    out_dir = Path(out_dir)
    # No "Saving the dataset" bar: a stored notebook keeps it as a stray line (the rows are counted
    # below the cell); the caller's setting is put back afterwards.
    was_disabled = datasets.are_progress_bars_disabled()
    datasets.disable_progress_bars()
    try:
        ds.save_to_disk(str(out_dir))
    finally:
        if not was_disabled:
            datasets.enable_progress_bars()
    mix = pd.Series([r["strategy"] for r in rows]).value_counts().to_dict()
    (out_dir / "README.md").write_text(CARD.format(
        variant=rows[0]["variant"], teachers=", ".join(sorted({r["teacher"] for r in rows})), n=len(rows),
        tasks=", ".join(sorted({r["task"] for r in rows})), mix=json.dumps(mix),
        system=rows[0]["prompt"][0]["content"] if rows[0]["variant"] == "erased" else "(teacher instruction kept)"))
    return ds


def erase(params, answers: pd.DataFrame, out_dir: Path, seed: int):
    """Stage 03's work, for notebook 03 and the study alike: the params' student system message,
    the params' variant, the dataset saved to `out_dir/sft_dataset` (shuffled with `seed`)."""
    system = student_system_message(params.erasure.system_message, params.erasure.system_message_file)
    rows = build_sft_rows(answers, system, variant=params.erasure.variant)
    return save_sft_dataset(rows, Path(out_dir) / "sft_dataset", seed=seed)
