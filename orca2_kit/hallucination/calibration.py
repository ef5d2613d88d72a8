"""Choosing the support check's threshold on planted errors in real documents (QMSum, ACI-Bench).

The support check (`support.SupportModel`) flags a summary sentence whose best support score
against the source is below `hallucination.support_threshold`. That number is chosen here, not
guessed:

1. `planted_claims`: from each real item's reference summary, sentences as written (taken as
   supported: people wrote them from the source) and planted copies that are not: a number
   changed to one the source never states, two numbers swapped, a name replaced by one the source
   never mentions, or a sentence from another item's reference (off-topic for this source).
2. Items are split in two by a seeded hash: the threshold that maximises F1 of the whole offline
   check (the entity check OR a low support score) on the calibration half is chosen
   (`choose_threshold`), and precision/recall at it are reported on the held-out half, overall and
   per kind of planted error (`evaluate`).

Reference sentences are not always supported by the (possibly cut) source, and another item's
sentence can happen to be true of this one too: both are label noise, and they lower the measured
precision and recall, never raise them. `benchmarks/support_threshold.py` runs it end to end.
"""
from __future__ import annotations

import hashlib
import random
import re

from orca2_kit.hallucination.check import check_real
from orca2_kit.hallucination.read import read_mentions
from orca2_kit.hallucination.items import LAST_NAMES, GroundedItem
from orca2_kit.hallucination.support import sentences

PLANTS = ("number", "number_swap", "name", "off_topic")


def _split(item_id: str, seed: int) -> str:
    h = int(hashlib.sha256(f"{seed}-{item_id}".encode()).hexdigest(), 16)
    return "calibration" if h % 2 == 0 else "held_out"


def _source_numbers(document: str) -> set[float]:
    return {round(v, 6) for m in read_mentions(document, use_vocab=False) for p in m.parts if p.kind != "name"
            for v in p.value}


def _replace(text: str, start: int, surface: str, new: str) -> str:
    return text[:start] + new + text[start + len(surface):]


def _plant(kind: str, sentence: str, item: GroundedItem, others: list[str], rng: random.Random) -> str | None:
    """`sentence` with one planted error of `kind`, or None where that kind does not apply."""
    mentions = read_mentions(sentence, use_vocab=False)
    numbers = [m for m in mentions if m.parts[0].kind != "name" and len(m.parts) == 1]
    if kind == "number" and numbers:
        m = rng.choice(numbers)
        have = _source_numbers(item.document)
        v = m.parts[0].value[0]
        new = next(x for x in (v + d for d in (3, 7, 11, 13, 17, 23, 29, 31, 37, 41, 1000)) if round(x, 6) not in have)
        return _replace(sentence, m.start, m.surface, f"{new:g}")
    if kind == "number_swap":
        distinct = {}
        for m in numbers:
            distinct.setdefault(round(m.parts[0].value[0], 6), m)
        if len(distinct) < 2:
            return None
        a, b = sorted(rng.sample(list(distinct.values()), 2), key=lambda m: m.start)
        return sentence[:a.start] + b.surface + sentence[a.start + len(a.surface):b.start] + a.surface + \
            sentence[b.start + len(b.surface):]
    if kind == "name":
        names = [m for m in mentions if m.parts[0].kind == "name" and m.parts[0].status != "unsupported"
                 and f" {m.parts[0].value[0]} " in " " + " ".join(re.findall(r"\w+", item.document.lower())) + " "]
        if not names:
            return None
        m = rng.choice(names)
        new = rng.choice([n for n in LAST_NAMES if n.lower() not in item.document.lower()])
        return _replace(sentence, m.start, m.surface, new)
    if kind == "off_topic" and others:
        return rng.choice(others)
    return None


def planted_claims(items: list[GroundedItem], seed: int = 0, per_item: int = 4) -> list[dict]:
    """Up to `per_item` reference sentences per item, each as written (planted=None, label 0) and
    with one planted error (label 1), the kind planted least so far where it applies."""
    rng = random.Random(f"plant-{seed}")
    by_dataset: dict[str, list[GroundedItem]] = {}
    for it in items:
        by_dataset.setdefault(it.dataset, []).append(it)
    claims, made = [], dict.fromkeys(PLANTS, 0)
    for it in items:
        own = [s for s in sentences(it.reference_summary, min_words=6)]
        others = [s for o in by_dataset[it.dataset] if o.id != it.id for s in sentences(o.reference_summary, 6)]
        for s in rng.sample(own, min(per_item, len(own))):
            base = {"dataset": it.dataset, "id": it.id, "split": _split(it.id, seed), "original": s}
            claims.append({**base, "claim": s, "planted": None, "label": 0})
            # The kind planted least so far first (most sentences hold no number; any can go off-topic).
            for kind in sorted(PLANTS, key=lambda k: (made[k], PLANTS.index(k))):
                planted = _plant(kind, s, it, others, rng)
                if planted is not None and planted != s:
                    claims.append({**base, "claim": planted, "planted": kind, "label": 1})
                    made[kind] += 1
                    break
    return claims


def score_claims(claims: list[dict], items: list[GroundedItem], support) -> list[dict]:
    """Each claim's support score against its item's source, and whether the entity check flags it."""
    by_id = {it.id: it for it in items}
    out = []
    for c in claims:
        it = by_id[c["id"]]
        scores = support.scores(it.document, c["claim"])
        entity = check_real(it.document, c["claim"], context=it.instruction)
        out.append({**c, "support": min((s for _, s in scores), default=1.0), "entity_flag": entity.hallucinated,
                    "entity_reasons": entity.reasons()})
    return out


def _prf(rows: list[dict], threshold: float) -> dict:
    def flagged(r):
        return r["support"] < threshold or r["entity_flag"]

    tp = sum(1 for r in rows if r["label"] and flagged(r))
    fp = sum(1 for r in rows if not r["label"] and flagged(r))
    fn = sum(1 for r in rows if r["label"] and not flagged(r))
    p = tp / (tp + fp) if tp + fp else None
    rec = tp / (tp + fn) if tp + fn else None
    f1 = 2 * p * rec / (p + rec) if p and rec else 0.0
    return {"precision": p, "recall": rec, "f1": f1, "tp": tp, "fp": fp, "fn": fn, "n": len(rows),
            "positives": tp + fn}


def metrics_at(rows: list[dict], threshold: float, with_entities: bool = True) -> dict:
    """Precision/recall of flagging a claim: support below `threshold` (OR the entity check)."""
    return _prf([dict(r, entity_flag=r["entity_flag"] and with_entities) for r in rows], threshold)


def choose_threshold(rows: list[dict], grid: tuple[float, ...] | None = None) -> float:
    """The threshold maximising F1 of the whole offline check on `rows` (ties: the lower, which
    flags less)."""
    grid = grid or tuple(round(0.05 * k, 2) for k in range(0, 20))
    return max(grid, key=lambda t: (metrics_at(rows, t)["f1"], -t))


def evaluate(scored: list[dict], grid: tuple[float, ...] | None = None) -> dict:
    """Choose on the calibration half, report on the held-out half (overall and per planted kind,
    for support alone, the entity check alone, and both)."""
    calib = [r for r in scored if r["split"] == "calibration"]
    held = [r for r in scored if r["split"] == "held_out"]
    t = choose_threshold(calib, grid)
    report = {"threshold": t, "calibration": metrics_at(calib, t), "held_out": metrics_at(held, t),
              "held_out_support_only": metrics_at(held, t, with_entities=False),
              "held_out_entities_only": _prf([dict(r, support=1.0) for r in held], -1.0),
              "by_planted_kind": {}, "by_dataset": {}}
    for kind in PLANTS:
        rows = [r for r in held if r["planted"] == kind]
        if rows:
            report["by_planted_kind"][kind] = {
                "n": len(rows), "recall_support_only": metrics_at(rows, t, with_entities=False)["recall"],
                "recall_both": metrics_at(rows, t)["recall"]}
    for ds in sorted({r["dataset"] for r in held}):
        report["by_dataset"][ds] = metrics_at([r for r in held if r["dataset"] == ds], t)
    neg = [r for r in held if not r["label"]]
    report["held_out_false_flags_of_unaltered_references"] = {
        "support": sum(r["support"] < t for r in neg), "entities": sum(r["entity_flag"] for r in neg), "n": len(neg)}
    return report
