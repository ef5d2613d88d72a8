"""How examples are batched for training: length buckets, and a meter of padding (stage 04)."""
from __future__ import annotations

import random


class PaddingMeter:
    """Wraps the data collator to count real vs padded positions of every batch trained on."""

    def __init__(self, collator):
        self.collator, self.real, self.slots = collator, 0, 0

    def __call__(self, examples):
        batch = self.collator(examples)
        ids = batch["input_ids"]
        mask = batch.get("attention_mask")
        self.slots += ids.numel()
        self.real += int(mask.sum()) if mask is not None else ids.numel()  # padding-free rows have no padding
        return batch

    @property
    def fraction(self) -> float:
        return 1 - self.real / self.slots if self.slots else 0.0


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
