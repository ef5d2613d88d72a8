"""Real grounded-summarisation data, in the upstream formats (Orca 2, section 6.5 / appendix C).

* QMSum (Yale-LILY/QMSum): one JSON object per meeting (`test.jsonl`, or one `.json` file per
  meeting): `meeting_transcripts` [{speaker, content}], `specific_query_list` [{query, answer,
  relevant_text_span: [[start, end], ...]}] and `general_query_list` [{query, answer}]. A specific
  query's source is its relevant turns (QMSum's gold-span setting); a general query's is the whole
  meeting.
* ACI-Bench (wyim/aci-bench): `challenge_data/<split>.csv` (dataset, encounter_id, dialogue, note)
  or `challenge_data_json/<split>.json` ({"data": [{src, tgt, file}]}): dialogue -> clinical note.
* MS MARCO v2.1 (hub `microsoft/ms_marco`, config v2.1): rows of query, passages {is_selected,
  passage_text, url}, answers, wellFormedAnswers, as `<split>.jsonl` / `.json`; the original
  column-oriented `dev_v2.1.json` ({"query": {"0": ...}, "passages": {"0": [{...}]}, ...}) too.

A source is a local file or folder, or `hf:<hub id>[:<config>]` (rows in the same upstream
columns, read with `datasets`). `load_grounded` picks `n` items with a seeded sample;
`fit_sources` cuts sources to a token budget and says how many it cut.
"""
from __future__ import annotations

import csv
import json
import random
from dataclasses import replace
from pathlib import Path
from typing import Iterable, Optional

from orca2_kit.hallucination.items import GroundedItem

REAL_DATASETS = ("qmsum", "aci_bench", "ms_marco")
FOLDERS = {"qmsum": "qmsum", "aci_bench": "aci_bench", "ms_marco": "ms_marco"}
LOCAL_SPLITS = {"qmsum": "test", "aci_bench": "clinicalnlp_taskB_test1", "ms_marco": "dev"}
HUB_SPLITS = {"qmsum": "test", "aci_bench": "test", "ms_marco": "validation"}

INSTRUCTIONS = {
    "qmsum": "Answer the request below about a meeting, using only the meeting transcript that follows. "
             "Write a short paragraph.\nRequest: {query}\n\nTranscript:",
    "aci_bench": "Write the clinical note for the doctor-patient conversation below. Use only what is said "
                 "in the conversation.\n\nConversation:",
    "ms_marco": "Answer the question in one or two sentences, using only the passages below.\n"
                "Question: {query}\n\nPassages:",
}


def _item(task: str, id_: str, instruction: str, document: str, reference: str) -> GroundedItem:
    return GroundedItem(id=id_, document=document, query=f"{instruction}\n{document}", reference_summary=reference,
                        dataset=task)


# --------------------------------------------------------------------------- QMSum


def qmsum_items(meetings: Iterable[tuple[str, dict]]) -> list[GroundedItem]:
    """Every query of every meeting; `meetings` yields (name, upstream meeting object)."""
    items = []
    for name, m in meetings:
        turns = [f"{t['speaker']}: {' '.join(t['content'].split())}" for t in m["meeting_transcripts"]]
        for k, q in enumerate(m.get("specific_query_list") or []):
            parts = []
            for start, end in q.get("relevant_text_span") or []:
                parts.append("\n".join(turns[int(start):int(end) + 1]))
            if not any(parts):
                continue
            items.append(_item("qmsum", f"qmsum-{name}-s{k}", INSTRUCTIONS["qmsum"].format(query=q["query"]),
                               "\n...\n".join(p for p in parts if p), q["answer"]))
        for k, q in enumerate(m.get("general_query_list") or []):
            items.append(_item("qmsum", f"qmsum-{name}-g{k}", INSTRUCTIONS["qmsum"].format(query=q["query"]),
                               "\n".join(turns), q["answer"]))
    return items


def _qmsum_local(path: Path, split: str) -> list[GroundedItem]:
    if path.is_dir():
        if (path / f"{split}.jsonl").is_file():
            path = path / f"{split}.jsonl"
        elif (path / split).is_dir():
            path = path / split
        elif not any(path.glob("*.json")):  # else the folder itself holds one .json per meeting
            raise FileNotFoundError(f"QMSum: neither {path / (split + '.jsonl')} nor {path / split}/ exists")
    if path.is_dir():  # one meeting per .json file
        files = sorted(path.glob("*.json"))
        if not files:
            raise FileNotFoundError(f"QMSum: no .json meeting files in {path}")
        return qmsum_items((f.stem, json.loads(f.read_text())) for f in files)
    lines = [ln for ln in path.read_text().splitlines() if ln.strip()]
    return qmsum_items((f"{split}{i:03d}", json.loads(ln)) for i, ln in enumerate(lines))


# --------------------------------------------------------------------------- ACI-Bench


def aci_items(rows: Iterable[dict], split: str) -> list[GroundedItem]:
    """Rows of the challenge CSV (dialogue, note, encounter_id) or JSON (src, tgt, file)."""
    items = []
    for i, r in enumerate(rows):
        dialogue, note = r.get("dialogue", r.get("src")), r.get("note", r.get("tgt"))
        if not dialogue or not note:
            raise ValueError(f"ACI-Bench row {i} of {split}: needs dialogue+note (CSV) or src+tgt (JSON) columns; "
                             f"got {sorted(r)}")
        name = r.get("encounter_id") or r.get("file") or f"{i:03d}"
        items.append(_item("aci_bench", f"aci-{split}-{name}", INSTRUCTIONS["aci_bench"], dialogue.strip(),
                           note.strip()))
    return items


def _aci_local(path: Path, split: str) -> list[GroundedItem]:
    if path.is_dir():
        for cand in (path / "challenge_data" / f"{split}.csv", path / "challenge_data_json" / f"{split}.json",
                     path / f"{split}.csv", path / f"{split}.json"):
            if cand.is_file():
                path = cand
                break
        else:
            raise FileNotFoundError(f"ACI-Bench: no {split}.csv or {split}.json under {path} "
                                    f"(challenge_data/ or challenge_data_json/)")
    if path.suffix == ".csv":
        with open(path, newline="") as f:
            return aci_items(csv.DictReader(f), split)
    data = json.loads(path.read_text())
    return aci_items(data["data"] if isinstance(data, dict) else data, split)


# --------------------------------------------------------------------------- MS MARCO


def _passages(p) -> list[str]:
    if isinstance(p, dict):  # hub: {"is_selected": [...], "passage_text": [...], "url": [...]}
        return list(p.get("passage_text") or [])
    return [x["passage_text"] for x in p or []]  # original files: [{"is_selected", "passage_text", "url"}]


def _answers(a) -> list[str]:
    if isinstance(a, str):  # the original files store an empty wellFormedAnswers as the string '[]'
        a = json.loads(a) if a.strip().startswith("[") else [a]
    return [x for x in a or [] if x and x.strip() and x.strip() != "No Answer Present."]


def ms_marco_items(rows: Iterable[dict], split: str) -> list[GroundedItem]:
    """Rows with query, passages, answers, wellFormedAnswers; unanswerable rows are skipped."""
    items = []
    for i, r in enumerate(rows):
        missing = {"query", "passages", "answers"} - set(r)
        if missing:
            raise ValueError(f"MS MARCO row {i} of {split}: missing {sorted(missing)}; got {sorted(r)}")
        refs = _answers(r.get("wellFormedAnswers")) or _answers(r["answers"])
        passages = _passages(r["passages"])
        if not refs or not passages:
            continue
        doc = "\n".join(f"[{k}] {' '.join(t.split())}" for k, t in enumerate(passages, 1))
        items.append(_item("ms_marco", f"msmarco-{split}-{r.get('query_id', i)}",
                           INSTRUCTIONS["ms_marco"].format(query=r["query"].strip()), doc, refs[0]))
    return items


def _columns_to_rows(data: dict) -> list[dict]:
    """The original dev_v2.1.json: {"query": {"0": q, ...}, "passages": {"0": [...]}, ...} -> rows."""
    keys = sorted(data["query"], key=int)
    return [{col: data[col].get(k) for col in data} for k in keys]


def _ms_marco_local(path: Path, split: str) -> list[GroundedItem]:
    if path.is_dir():
        for cand in (path / f"{split}.jsonl", path / f"{split}.json"):
            if cand.is_file():
                path = cand
                break
        else:
            raise FileNotFoundError(f"MS MARCO: neither {split}.jsonl nor {split}.json in {path}")
    if path.suffix == ".jsonl":
        rows = [json.loads(ln) for ln in path.read_text().splitlines() if ln.strip()]
    else:
        data = json.loads(path.read_text())
        rows = _columns_to_rows(data) if isinstance(data, dict) else data
    return ms_marco_items(rows, split)


# --------------------------------------------------------------------------- entry points

_LOCAL = {"qmsum": _qmsum_local, "aci_bench": _aci_local, "ms_marco": _ms_marco_local}


def _hub(task: str, spec: str, split: str) -> list[GroundedItem]:
    from datasets import load_dataset

    hub_id, _, config = spec.removeprefix("hf:").partition(":")
    rows = load_dataset(hub_id, config or None, split=split)
    if task == "qmsum":
        return qmsum_items((f"{split}{i:03d}", r) for i, r in enumerate(rows))
    if task == "aci_bench":
        return aci_items(rows, split)
    return ms_marco_items(rows, split)


def resolve_source(task: str, source: Optional[str], data_dir: Optional[Path]) -> Optional[str]:
    """The params' source for `task`, else its folder in data_dir, else None (not available)."""
    if source:
        return source
    if data_dir is not None and (Path(data_dir) / FOLDERS[task]).exists():
        return str(Path(data_dir) / FOLDERS[task])
    return None


def load_grounded(task: str, source: str, split: Optional[str] = None, n: Optional[int] = None,
                  seed: int = 0) -> list[GroundedItem]:
    """Items of one real dataset from a local path or 'hf:<id>[:<config>]'; `n` of them (seeded)."""
    if task not in REAL_DATASETS:
        raise ValueError(f"unknown grounded dataset '{task}'; real datasets are {', '.join(REAL_DATASETS)}")
    if source.startswith("hf:"):
        items = _hub(task, source, split or HUB_SPLITS[task])
    else:
        path = Path(source).expanduser()
        if not path.exists():
            raise FileNotFoundError(f"{task}: source '{source}' does not exist")
        items = _LOCAL[task](path, split or LOCAL_SPLITS[task])
    if not items:
        raise ValueError(f"{task}: no usable items in '{source}' (split {split or 'default'})")
    if n is not None and n < len(items):
        picked = sorted(random.Random(f"{task}-{seed}").sample(range(len(items)), n))
        items = [items[i] for i in picked]
    return items


def fit_sources(items: list[GroundedItem], tokenizer, max_source_tokens: int) -> tuple[list[GroundedItem], int]:
    """Cut every source longer than `max_source_tokens` tokens to that length (the prompt is rebuilt
    from the cut source, and the judges check against what the model saw). Returns (items, n cut)."""
    out, n_cut = [], 0
    for it in items:
        ids = tokenizer(it.document, add_special_tokens=False)["input_ids"]
        if len(ids) <= max_source_tokens:
            out.append(it)
            continue
        doc = tokenizer.decode(ids[:max_source_tokens], skip_special_tokens=True).rstrip()
        out.append(replace(it, document=doc, query=it.instruction + doc, truncated=True))
        n_cut += 1
    return out, n_cut


def source_budget(model_path: str, tokenizer, max_source_tokens: int, max_new_tokens: int, overhead: int = 256) -> int:
    """Source tokens that fit: the params' budget, capped by the model's context less the answer
    and the instruction/template overhead."""
    from transformers import AutoConfig

    ctx = getattr(AutoConfig.from_pretrained(model_path), "max_position_embeddings", None) or tokenizer.model_max_length
    ctx = min(ctx, tokenizer.model_max_length)
    return max(16, min(max_source_tokens, ctx - max_new_tokens - overhead))
