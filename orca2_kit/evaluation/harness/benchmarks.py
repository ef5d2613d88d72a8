"""The paper's benchmarks as data: where each one's files are, how its rows become documents, how
a document becomes a zero-shot prompt (how an answer is read and scored: answers.py).

Every loader turns its benchmark's upstream rows (a hub dataset, the benchmark's own files, or a
mirror such as those in ../shared/data) into one document schema, so that a single prompt and a
single scorer serve all of them, in lm-evaluation-harness (tasks/*.yaml) and in the kit's own
generation layer alike:

    id, benchmark, subset, question   the prompt body (passage, question, lettered options)
    choices, labels, gold             options, their letters, the index of the right one (MC; else [], [], -1)
    reference                         the right answer as text (a letter for MC; '|'-separated alternatives)
    answer_type                       'choice' | 'number' | 'text'
    context, continuation             the log-likelihood form (text completion sets only)
    stem, passage, mc_choices         MC only: the item's own text and its passage alone (no lettered
                                      options), and the options as lm-evaluation-harness's standard
                                      form continues with them (tasks/orca2_*_mc.yaml, STANDARD_MC)

Multi-file benchmarks (BBH's 27 tasks, MMLU's 57 subjects, AGIEval's 8 English sets) are
interleaved round-robin, so the first N documents — what `limit` takes — cover every subset.
"""
from __future__ import annotations

import csv
import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from orca2_kit.datadir import ENV, FETCH
from orca2_kit.tasks.base import ANSWER_FORMAT

LETTERS = "ABCDEFGHIJKLMNOP"


@dataclass(frozen=True)
class Benchmark:
    name: str
    group: str  # reasoning | knowledge | completion | multi-turn | safety (the paper's grouping)
    local: tuple[str, ...]  # glob(s) under the data directory, in upstream or mirror format
    hub: Optional[tuple[str, Optional[str], str]]  # (dataset id, config, split) on the hub
    parse: Callable[[dict, str], list[dict]]  # one upstream row (+ subset name) -> documents
    loglikelihood: bool = False  # also a multiple-choice log-likelihood variant
    note: str = ""
    hub_subsets: tuple[str, ...] = field(default=())  # datasets to load from the hub, if several
    subsets: tuple[str, ...] = field(default=())  # local files to keep (by stem), if not all


# ------------------------------------------------------------------------------------- prompts


def mc_question(stem: str, options: list[str], passage: str = "") -> str:
    body = (f"{passage.strip()}\n\n" if passage and passage.strip() else "") + stem.strip()
    opts = "\n".join(f"({LETTERS[i]}) {o.strip()}" for i, o in enumerate(options))
    return f"{body}\n\nOptions:\n{opts}"


def doc_to_text(doc: dict) -> str:
    """The zero-shot user turn: the question, then the answer-format line every kit prompt ends with."""
    hint = {"choice": "<letter>", "number": "<number>"}.get(doc["answer_type"], "<answer>")
    return f"{doc['question']}\n\n{ANSWER_FORMAT.format(hint=hint)}"


def mc_ll_text(doc: dict) -> str:
    return f"{doc['question']}\n\nAnswer with the letter of the right option."


# ------------------------------------------------------------------------------------- parsers


def _mc_doc(bench, subset, i, stem, options, gold, passage="", **extra) -> dict:
    labels = list(LETTERS[:len(options)])
    return {"id": f"{bench}/{subset}/{i}", "benchmark": bench, "subset": subset,
            "question": mc_question(stem, options, passage), "choices": [str(o) for o in options],
            "labels": labels, "gold": int(gold), "reference": labels[int(gold)], "answer_type": "choice",
            "context": "", "continuation": "", "stem": str(stem), "passage": passage or "",
            "mc_choices": [str(o) for o in options], **extra}


def _open_doc(bench, subset, i, question, reference, answer_type, context="", continuation="") -> dict:
    return {"id": f"{bench}/{subset}/{i}", "benchmark": bench, "subset": subset, "question": question.strip(),
            "choices": [], "labels": [], "gold": -1, "reference": str(reference), "answer_type": answer_type,
            "context": context, "continuation": continuation}


def parse_gsm8k(row, subset, i):
    return [_open_doc("gsm8k", subset, i, row["question"], row["answer"].split("####")[-1].strip().replace(",", ""),
                      "number")]


_BBH_OPTION = re.compile(r"^\(([A-R])\)\s*(.*)$", re.MULTILINE)


def parse_bbh(row, subset, i):
    text, target = row["input"], str(row["target"]).strip()
    m = re.fullmatch(r"\(([A-R])\)", target)
    if m:  # multiple choice: options are already lettered in the input
        opts = _BBH_OPTION.findall(text)
        labels = [lab for lab, _ in opts]
        return [{"id": f"bbh/{subset}/{i}", "benchmark": "bbh", "subset": subset, "question": text.strip(),
                 "choices": [o for _, o in opts], "labels": labels, "gold": labels.index(m.group(1)),
                 "reference": m.group(1), "answer_type": "choice", "context": "", "continuation": ""}]
    kind = "number" if re.fullmatch(r"-?\d+(\.\d+)?", target) else "text"
    return [_open_doc("bbh", subset, i, text, target, kind)]


def parse_mmlu(row, subset, i):
    if "choices" in row:  # hub cais/mmlu
        options, subset = list(row["choices"]), row.get("subject") or subset
    else:  # the re-exported CSV: question,choice0..choice3,answer (index)
        options = [row[f"choice{k}"] for k in range(4)]
    gold = row["answer"]
    gold = LETTERS.index(gold) if isinstance(gold, str) and not gold.isdigit() else int(gold)
    return [_mc_doc("mmlu", subset, i, row["question"], options, gold)]


def parse_agieval(row, subset, i):
    if "query" in row:  # hub hails/agieval-*: the prompt is pre-built
        return [_mc_doc("agieval", subset, i, row["query"], list(row["choices"]), int(row["gold"][0]))]
    options = [re.sub(r"^\s*\(?[A-J]\)\s*", "", o) for o in row["options"]]
    doc = _mc_doc("agieval", subset, i, row["question"], options, LETTERS.index(row["label"].strip()[0]),
                  passage=row.get("passage") or "")
    # the standard form is the hub's hails/agieval-*: AGIEval's zero-shot query, options with their '(A)'
    doc["stem"], doc["mc_choices"] = agieval_zero_shot_query(row), list(row["options"])
    return [doc]


def agieval_zero_shot_query(row: dict) -> str:
    """AGIEval's own zero-shot prompt for its English multiple-choice sets (src/dataset_loader.py,
    convert_zero_shot): no separator after the passage, options joined by spaces."""
    count = len(row["options"]) if len(row["options"]) != 1 else 5
    return ((row.get("passage") or "") + "Q: " + row["question"] + " " + "Answer Choices: "
            + " ".join(row["options"]) + "\n" + "A: Among A through {}, the answer is".format("ABCDEFG"[count - 1]))


def parse_lambada(row, subset, i):
    if "text" in row:  # hub EleutherAI/lambada_openai: the last word is the target
        ctx, _, word = row["text"].rpartition(" ")
        cont = " " + word
    else:  # llm-foundry mirror: {"context", "continuation"}
        ctx, cont = row["context"], row["continuation"]
    q = ("Continue the passage below with its next word (the word that ends it).\n\n" + ctx.strip()
         + "\n\nGive only that one word.")
    return [_open_doc("lambada", subset, i, q, cont.strip(), "text", context=ctx, continuation=cont)]


def parse_drop(row, subset, i):
    if "passage" in row:  # hub ucinlp/drop
        passage, question, refs = row["passage"], row["question"], row["answers_spans"]["spans"]
        body = f"Passage: {passage}\nQuestion: {question}"
    else:  # simple-evals format: context ends with "Answer:", alternatives in ref_text split by '|'
        body, refs = row["context"].rsplit("Answer:", 1)[0], row["ref_text"].split("|")
    return [_open_doc("drop", subset, i, body.strip(), "|".join(r.strip() for r in refs if r.strip()), "text")]


def _seeded_order(n: int, key: str) -> list[int]:
    order = list(range(n))
    random.Random(key).shuffle(order)
    return order


def parse_truthfulqa(row, subset, i):
    if isinstance(row.get("mc1_targets"), dict) and "choices" in row["mc1_targets"]:  # hub truthful_qa
        pairs = list(zip(row["mc1_targets"]["choices"], row["mc1_targets"]["labels"]))
    else:  # upstream mc_task.json: {answer: 0/1}
        pairs = list(row["mc1_targets"].items())
    # upstream lists the right answer first: shuffle the options, seeded by the question (same every run)
    order = _seeded_order(len(pairs), row["question"])
    options = [pairs[k][0] for k in order]
    gold = [pairs[k][1] for k in order].index(1)
    return [_mc_doc("truthfulqa", subset, i, row["question"], options, gold)]


def parse_arc(row, subset, i):
    q = row["question"]
    if isinstance(q, dict):  # AI2's own jsonl: {"question": {"stem", "choices": [{text, label}]}}
        stem, texts, labels = q["stem"], [c["text"] for c in q["choices"]], [c["label"] for c in q["choices"]]
    else:  # hub allenai/ai2_arc
        stem, texts, labels = q, list(row["choices"]["text"]), list(row["choices"]["label"])
    return [_mc_doc("arc", subset, i, stem, texts, labels.index(str(row["answerKey"])))]


def parse_hellaswag(row, subset, i):
    ctx = row.get("ctx") or (row.get("ctx_a", "") + " " + row.get("ctx_b", "")).strip()
    stem = (f"[{row['activity_label']}] " if row.get("activity_label") else "") + ctx
    q = "How does this most plausibly continue?\n\n" + stem
    doc = _mc_doc("hellaswag", subset, i, q, list(row["endings"]), int(row["label"]), context=stem, continuation="")
    # the standard form, as lm-evaluation-harness's hellaswag/utils.py process_docs builds it
    ctx_a, ctx_b = (row["ctx_a"], row.get("ctx_b", "")) if "ctx_a" in row else (row.get("ctx", ""), "")
    doc["stem"] = hellaswag_preprocess(row.get("activity_label", "") + ": " + ctx_a + " " + ctx_b.capitalize())
    doc["mc_choices"] = [hellaswag_preprocess(e) for e in row["endings"]]
    return [doc]


def hellaswag_preprocess(text: str) -> str:
    """lm-evaluation-harness's HellaSwag clean-up: WikiHow's '[title]' and bracket artifacts out."""
    text = text.strip().replace(" [title]", ". ")
    text = re.sub(r"\[.*?\]", "", text)
    return text.replace("  ", " ")


def parse_race(row, subset, i):
    if "questions" in row:  # the official RACE files: one article, several questions
        return [_mc_doc("race", subset, f"{i}.{k}", q, opts, LETTERS.index(a), passage=row["article"])
                for k, (q, opts, a) in enumerate(zip(row["questions"], row["options"], row["answers"]))]
    return [_mc_doc("race", subset, i, row["question"], list(row["options"]), LETTERS.index(row["answer"]),
                    passage=row["article"])]


def parse_crass(row, subset, i):
    if "target_scores" in row:  # BIG-bench crass_ai task.json
        options = list(row["target_scores"])
        gold = max(range(len(options)), key=lambda k: row["target_scores"][options[k]])
        stem = row["input"]
    else:  # hub tasksource/bigbench crass_ai
        options, stem = list(row["multiple_choice_targets"]), row["inputs"]
        gold = list(row["multiple_choice_scores"]).index(1)
    return [_mc_doc("crass", subset, i, stem, options, gold)]


def parse_toxigen(row, subset, i):
    toxic = (float(row["toxicity_ai"]) + float(row["toxicity_human"])) > 5.5  # as lm-evaluation-harness
    q = f"Is the following statement hateful?\n\nStatement: \"{row['text'].strip()}\""
    doc = _mc_doc("toxigen", subset, i, q, ["No", "Yes"], int(toxic))
    doc["stem"] = row["text"]  # the statement as given (the standard form quotes it unstripped)
    return [doc]


# ------------------------------------------------------------------------------------- registry

AGIEVAL_EN = ("aqua-rat", "logiqa-en", "lsat-ar", "lsat-lr", "lsat-rc", "sat-en", "sat-en-without-passage", "sat-math")

BENCHMARKS: dict[str, Benchmark] = {b.name: b for b in [
    Benchmark("agieval", "reasoning", ("agieval/*.jsonl",), ("hails/agieval-lsat-ar", None, "test"),
              parse_agieval, loglikelihood=True, note="English multiple-choice sets (math is cloze, left out)",
              hub_subsets=tuple(f"hails/agieval-{s}" for s in AGIEVAL_EN), subsets=AGIEVAL_EN),
    Benchmark("bbh", "reasoning", ("bbh/bbh/*.json",), ("lukaemon/bbh", None, "test"), parse_bbh),
    Benchmark("drop", "reasoning", ("drop/drop_v0_dev.jsonl", "drop/*.jsonl"), ("ucinlp/drop", None, "validation"), parse_drop),
    Benchmark("crass", "reasoning", ("crass/*.json",), ("tasksource/bigbench", "crass_ai", "train"), parse_crass,
              loglikelihood=True),
    Benchmark("race", "reasoning", ("race/*.jsonl", "race/*.json"), ("ehovy/race", "high", "test"), parse_race,
              loglikelihood=True),
    Benchmark("gsm8k", "reasoning", ("gsm8k/test.jsonl",), ("openai/gsm8k", "main", "test"), parse_gsm8k),
    Benchmark("mmlu", "knowledge", ("mmlu/test/*_test.csv", "mmlu/test/*.jsonl"), ("cais/mmlu", "all", "test"), parse_mmlu,
              loglikelihood=True),
    Benchmark("arc_easy", "knowledge", ("arc_easy/*.jsonl", "ARC-Easy/*Test*.jsonl"), ("allenai/ai2_arc", "ARC-Easy", "test"),
              parse_arc, loglikelihood=True),
    Benchmark("arc_challenge", "knowledge", ("arc_challenge/*.jsonl", "ARC-Challenge/*Test*.jsonl"),
              ("allenai/ai2_arc", "ARC-Challenge", "test"), parse_arc, loglikelihood=True),
    Benchmark("hellaswag", "completion", ("hellaswag/*.jsonl",), ("Rowan/hellaswag", None, "validation"), parse_hellaswag,
              loglikelihood=True),
    Benchmark("lambada", "completion", ("lambada/lambada_openai.jsonl", "lambada/*.jsonl"),
              ("EleutherAI/lambada_openai", "default", "test"), parse_lambada, loglikelihood=True),
    Benchmark("truthfulqa", "safety", ("truthfulqa/v1/mc_task.json", "truthfulqa/mc_task.json"),
              ("truthfulqa/truthful_qa", "multiple_choice", "validation"), parse_truthfulqa, loglikelihood=True,
              note="MC1, the 817-question v1 set most papers report; options shuffled (seeded per question)"),
    Benchmark("toxigen", "safety", ("toxigen/*.jsonl",), ("skg/toxigen-data", "annotated", "test"), parse_toxigen,
              loglikelihood=True, note="hateful-or-not classification, as lm-evaluation-harness"),
]}
# The benchmarks with lm-evaluation-harness's standard multiple-choice form (option text as the
# continuation, acc and acc_norm; tasks/orca2_<name>_mc.yaml). CRASS is left out: the harness's
# form is BIG-bench's pre-formatted `inputs` (options permuted by BIG-bench's own seeded shuffle),
# which cannot be rebuilt exactly from the task.json files the kit reads.
STANDARD_MC = ("agieval", "race", "mmlu", "arc_easy", "arc_challenge", "hellaswag", "truthfulqa", "toxigen")
# MT-Bench is two-turn and judged by an LLM: it is run by orca2_kit.evaluation.harness.mt_bench, not by a task config.
MT_BENCH_FILES = ("mt_bench/question.jsonl",)


def local_files(bench: Benchmark, data_dir: Path) -> list[Path]:
    for pattern in bench.local:
        found = [p for p in sorted(Path(data_dir).glob(pattern)) if not bench.subsets or p.stem in bench.subsets]
        if found:
            return found
    return []


def _read_rows(path: Path) -> list[dict]:
    if path.suffix == ".csv":
        with open(path, newline="", encoding="utf-8") as f:
            return list(csv.DictReader(f))
    if path.suffix == ".jsonl":
        with open(path, encoding="utf-8") as f:
            return [json.loads(ln) for ln in f if ln.strip()]
    data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data, dict):
        data = data.get("examples") or data.get("data") or [data]  # BIG-bench / BBH / a single RACE article
    return data


def _subset_name(path: Path) -> str:
    return path.stem.removesuffix("_test")


def _interleave(groups: list[list[dict]]) -> list[dict]:
    out, k = [], 0
    while any(k < len(g) for g in groups):
        out += [g[k] for g in groups if k < len(g)]
        k += 1
    return out


def load_docs(name: str, data_dir: Optional[str | Path] = None) -> list[dict]:
    """A benchmark's documents from `data_dir` (upstream or mirror files) or, without one, the hub."""
    bench = BENCHMARKS[name]
    groups: list[list[dict]] = []
    if data_dir:
        files = local_files(bench, Path(data_dir))
        if not files:
            raise FileNotFoundError(f"{name}: no files matching {' or '.join(bench.local)} under {data_dir}")
        for path in files:
            rows = _read_rows(path)
            groups.append([d for i, r in enumerate(rows) for d in bench.parse(r, _subset_name(path), i)])
    else:
        import datasets

        hub_id, config, split = bench.hub
        for sub in bench.hub_subsets or (hub_id,):
            ds = datasets.load_dataset(sub, config, split=split)
            groups.append([d for i, r in enumerate(ds) for d in bench.parse(dict(r), sub.rsplit("-", 1)[-1] if bench.hub_subsets else name, i)])
    docs = _interleave(groups)
    for d in docs:  # parsers shared by two benchmarks (ARC) name the family; the id names the benchmark
        d["benchmark"], d["id"] = name, name + d["id"][d["id"].index("/"):]
    if not docs:
        raise ValueError(f"{name}: the data files hold no documents")
    return docs


def available(data_dir: Optional[str | Path]) -> dict[str, str]:
    """For every benchmark: 'ok' if its local files are there, else a one-line reason."""
    # without a data directory nothing is read from the hub either: a run reads benchmarks from files only
    out, none = {}, f"no data directory (get them: {FETCH}; or set data_dir or ${ENV})"
    for name, bench in BENCHMARKS.items():
        if data_dir is None:
            out[name] = none
        elif local_files(bench, Path(data_dir)):
            out[name] = "ok"
        else:
            out[name] = f"no {' or '.join(bench.local)} under {data_dir}"
    mt = Path(data_dir) / MT_BENCH_FILES[0] if data_dir else None
    out["mt_bench"] = none if mt is None else "ok" if mt.is_file() else f"no {MT_BENCH_FILES[0]} under {data_dir}"
    return out
