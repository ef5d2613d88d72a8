"""How examples are batched for training: length buckets, packed rows, and a meter of padding (stage 04)."""
from __future__ import annotations

import random


class PaddingMeter:
    """Wraps the data collator to count real vs padded positions of every batch trained on; `batches`
    keeps each batch's real tokens and the lengths of its examples (benchmarks/gpu_check.py times steps)."""

    def __init__(self, collator):
        self.collator, self.real, self.slots, self.batches = collator, 0, 0, []

    def __call__(self, examples):
        batch = self.collator(examples)
        lengths = [len(ex["input_ids"]) for ex in examples] if "seq_lengths" not in examples[0] else \
            [n for ex in examples for n in ex["seq_lengths"]]
        self.slots += batch["input_ids"].numel()
        self.real += sum(lengths)
        self.batches.append({"real": sum(lengths), "slots": batch["input_ids"].numel(), "lengths": lengths})
        return batch

    @property
    def fraction(self) -> float:
        return 1 - self.real / self.slots if self.slots else 0.0


class PackedRows:
    """Packed rows kept as rows, for attention kernels without variable-length support (sdpa, eager).

    TRL packs several examples into each row of max_length tokens (best-fit decreasing) and its
    padding-free collator then flattens the whole batch into one sequence, which only a varlen kernel
    (flash attention) computes cheaply: with sdpa the batch would be one causal attention over
    batch x max_length positions, masked block by block. Here each row stays a row: its examples are
    told apart by position ids that restart at 0, and with no attention mask transformers builds the
    per-example (block-diagonal causal) mask from them (masking_utils.find_packed_sequence_indices),
    so no token attends to another example. A row's padding gets position 0 (each pad token is its own
    one-token example) and no loss.
    """

    def __init__(self, pad_token_id: int, pad_to_multiple_of=None):
        from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

        self.collator = DataCollatorForLanguageModeling(pad_token_id=pad_token_id, padding_free=False,
                                                        return_position_ids=True, pad_to_multiple_of=pad_to_multiple_of)

    def __call__(self, examples):
        batch = self.collator(examples)
        del batch["attention_mask"]  # given a mask, transformers would not read the boundaries from the positions
        return batch


class LengthBucketSampler:
    """Sort every example by length, cut into micro-batches, shuffle the batches (seeded, per epoch).

    Transformers' group_by_length sorts only within random mega-batches (about 10% padding on the
    offline data); a global sort leaves almost none, and shuffling whole batches keeps the order
    random. Deterministic per (seed, epoch), so a resumed run skips exactly the batches it saw.
    """

    def __init__(self, lengths: list[int], batch_size: int, seed: int):
        self.lengths, self.batch_size, self.seed, self.epoch = lengths, batch_size, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.lengths)

    def __iter__(self):
        order = sorted(range(len(self.lengths)), key=lambda i: (self.lengths[i], i))
        batches = [order[i:i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        random.Random(f"{self.seed}:{self.epoch}").shuffle(batches)
        return iter([i for b in batches for i in b])
