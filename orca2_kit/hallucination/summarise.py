"""Stage 06: grounded summaries from a model, judged offline (Orca 2, section 6.5 / Figure 6).

Orca 2 reports how often a model's summary states something the source text does not, with GPT-4
as the judge. This stage needs no judge model:

* built-in items (`items.py`) state known facts as (slot, value) pairs, and the checker
  (`check.check_summary`) binds each fact a summary states to a slot and checks it;
* real items (QMSum, ACI-Bench, MS MARCO; `grounded.py`) are checked by number and name
  (`check.check_real`) and, with a `support.SupportModel`, sentence by sentence;
* `summarise_items` turns a loaded model into per-summary rows, and `metrics.py` turns
  rows into rates, paired differences and length-matched views. Neither depends on notebook
  state: the ablation study calls them for every student.

An LLM judge (`judge.py`) can be added on top; `paper_fig6` holds the paper's published values.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Optional

from orca2_kit.hallucination.check import Verdict, check_real, check_summary
from orca2_kit.hallucination.items import GroundedItem
from orca2_kit.hallucination.metrics import rouge_l, word_count
from orca2_kit.paths import PACKAGE_DATA

DEFAULT_SUPPORT_THRESHOLD = 0.45  # HallucinationConfig.support_threshold: chosen on planted errors


def complete_words(text: str) -> str:
    """Drop a final word cut off by the token limit ("Mens" of "Mensah"): half a word is no claim."""
    text = text.rstrip()
    if not text or text[-1] in ".!?\"')]:;" or " " not in text:
        return text
    return text.rsplit(None, 1)[0]


def _real_recall(item: GroundedItem, summary: Verdict) -> Optional[float]:
    """Real data: the share of the reference's checkable facts (numbers by value, names) that the
    source supports and the summary states too."""
    def keys(v: Verdict) -> set:
        return {(p.kind == "name", p.value[0] if p.kind == "name" else round(p.value[0], 6))
                for p in v.parts if p.status == "supported"}

    ref = keys(check_real(item.document, item.reference_summary, item.instruction))
    return len(ref & keys(summary)) / len(ref) if ref else None


def offline_check(item: GroundedItem, summary: str, support=None, threshold: float = DEFAULT_SUPPORT_THRESHOLD) -> dict:
    """The checker that needs no API, as one row's columns.

    Built-in items: every fact bound to a slot (`check_summary`), recall against the slots the
    reference summary states. Real data: numbers and names against the source (`check_real`),
    recall against the reference's checkable facts, and with a `support.SupportModel` the summary
    sentences scoring below `threshold` (these make the summary hallucinated; they are listed in
    `support_unsupported` and not counted in `n_wrong`, which counts facts)."""
    summary = complete_words(summary)
    if item.dataset == "builtin":
        v = check_summary(item, summary)
        recall = len(v.slots_kept & set(item.reference_slots)) / len(item.reference_slots) if item.reference_slots else None
        low, method = [], "slots"
    else:
        v = check_real(item.document, summary, context=item.instruction)
        recall = _real_recall(item, v)
        low = support.unsupported(item.document, summary, threshold) if support is not None else []
        method = "entities" + (f"+{support.kind}" if support is not None else "")
    return {"offline_hallucinated": v.hallucinated or bool(low), "offline_unsupported": v.unsupported,
            "offline_reasons": v.reasons(), "n_facts": v.n_facts, "n_wrong": v.n_wrong, "precision": v.precision,
            "recall": recall, "support_unsupported": low, "offline_method": method}


def system_modes(configured: list[str], training: str) -> list[str]:
    """The system messages to summarise under: the configured ones plus the one the student was
    trained with (params.erasure.system_message), which is what it knows best."""
    return list(dict.fromkeys([*configured, training]))


def summarise_items(model, tokenizer, items: list[GroundedItem], system_modes: list[str], model_name: str,
                    max_new_tokens: int, batch_size: int, max_prompt_tokens: int = 1024, support=None,
                    threshold: float = DEFAULT_SUPPORT_THRESHOLD, system_message_file: Optional[str] = None) -> list[dict]:
    """Greedy summaries of every item under each system message, one row per summary, judged by
    the offline checker (`offline_check`), with the strategy the summary used, its length and
    ROUGE-L against the reference. `system_message_file` replaces the generic/cautious texts, as
    in training (params.erasure.system_message_file)."""
    from orca2_kit.generation.budgets import repeating
    from orca2_kit.generation import empty_system_check, generate_detailed, messages, system_text

    empty_ok = empty_system_check(tokenizer)["possible"]
    # Built-in and real items are generated apart: short built-in prompts are never padded to a long
    # transcript, and the real ones (all near the source budget) share one decoding loop.
    groups = [g for g in ([it for it in items if it.dataset == "builtin"],
                          [it for it in items if it.dataset != "builtin"]) if g]
    modes = [m for m in system_modes if m != "empty" or empty_ok]
    systems = {m: system_text(m, system_message_file if m in ("generic", "cautious") else None) for m in modes}
    by_mode: dict[str, list[dict]] = {m: [] for m in modes}
    for group in groups:  # every message's summaries of a group in one engine call: one slowest row, not one per message
        kind = "built-in" if group[0].dataset == "builtin" else "real-data"
        jobs = [(m, it) for m in modes for it in group]
        outs = generate_detailed(model, tokenizer, [messages(systems[m], it.query) for m, it in jobs], max_new_tokens,
                                 batch_size, max_prompt_tokens, stop_after_answer=False,
                                 desc=f"{model_name} / {', '.join(modes)} / {kind} summaries")
        # hit_limit: the summary was cut by hallucination.max_new_tokens (its length and recall are the
        # cap's); cut_in_loop: it was cut while repeating itself, which no limit would have ended
        for (m, it), g in zip(jobs, outs):
            by_mode[m].append({**summary_row(it, g.text, model_name, m, support, threshold), "hit_limit": g.hit_limit,
                               "cut_in_loop": bool(g.hit_limit and repeating(g.text)), "stopped_in_loop": g.in_loop})
    return [r for m in modes for r in by_mode[m]]  # per message, in the items' order


def summary_row(item: GroundedItem, summary: str, model_name: str, system: str, support=None,
                threshold: float = DEFAULT_SUPPORT_THRESHOLD) -> dict:
    """One summary's row: who wrote it, the checker's verdict and metrics, its strategy and length."""
    from orca2_kit.strategies import classify_strategy

    return {"dataset": item.dataset, "model": model_name, "system": system, "id": item.id, "genre": item.genre,
            "summary": summary, **offline_check(item, summary, support, threshold),
            "strategy": classify_strategy(summary, answer_line=False), "n_words": word_count(summary),
            "empty": not summary.strip(), "truncated": item.truncated,
            "rouge_l": rouge_l(summary, item.reference_summary)}


def reference_baseline(items: list[GroundedItem], support=None, threshold: float = DEFAULT_SUPPORT_THRESHOLD) -> list[dict]:
    """The offline checker run on each dataset's own reference summaries: for real data (written by
    people, not always from the source alone) this is the checker's flag rate on text taken as
    correct, the floor to read the models' rates against."""
    return [dict(summary_row(it, it.reference_summary, "reference", "-", support, threshold), rouge_l=1.0)
            for it in items]


def highlight(summary: str, unsupported: list[str]) -> str:
    """Mark unsupported spans as **[span]** for the worst-examples table."""
    for span in sorted({u for u in unsupported if u}, key=len, reverse=True):
        summary = re.sub(rf"(?<!\[)(?<![\w.]){re.escape(span)}(?![\w])", f"**[{span}]**", summary)
    return summary


PAPER_FIG6 = PACKAGE_DATA / "paper_fig6.yaml"
PAPER_DATASETS = ("qmsum", "aci_bench", "ms_marco", "average")


def paper_fig6(path: Path = PAPER_FIG6) -> dict:
    """The paper's values: {"source", "sources": {tag: what it is}, "values": [{model, system, dataset,
    rate, where, source}], "notes": [...]}, checked (a rate is a fraction; every value says where the
    paper prints it and which source it was read in)."""
    import yaml

    data = yaml.safe_load(Path(path).read_text()) or {}
    values, tags = data.get("values") or [], data.get("sources") or {}
    for i, v in enumerate(values):
        missing = {"model", "system", "dataset", "rate", "where", "source"} - set(v)
        if missing:
            raise ValueError(f"{path}: values[{i}] lacks {sorted(missing)}")
        if not 0 <= float(v["rate"]) <= 1:
            raise ValueError(f"{path}: values[{i}].rate must be a fraction in [0, 1], got {v['rate']}")
        if not str(v["where"]).strip():
            raise ValueError(f"{path}: values[{i}].where must say where in the paper the number is printed")
        if v["dataset"] not in PAPER_DATASETS:
            raise ValueError(f"{path}: values[{i}].dataset is {v['dataset']!r}; allowed: {', '.join(PAPER_DATASETS)}")
        unknown = [t for t in re.findall(r"\w+", str(v["source"])) if t not in tags]
        if unknown or not str(v["source"]).strip():
            raise ValueError(f"{path}: values[{i}].source {v['source']!r} names no tag of 'sources' "
                             f"({', '.join(tags) or 'none defined'})")
    return {"source": data.get("source", ""), "sources": tags, "values": values, "notes": data.get("notes") or []}
