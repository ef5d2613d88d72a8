"""What the task configs in tasks/*.yaml call: the dataset loader, the prompt, the two named
extraction filters and the per-document scorer. lm-evaluation-harness does everything else
(requests, batching, chat templates, aggregation, per-sample logs)."""
from __future__ import annotations

from lm_eval.api.filter import Filter

from orca2_kit.evaluation.harness import benchmarks as B

from orca2_kit.evaluation.harness import answers as A


def load(benchmark: str, data_dir: str | None = None, **_):
    """custom_dataset: `benchmark` comes from the task's metadata, `data_dir` from the TaskManager's."""
    import datasets

    return datasets.DatasetDict({"test": datasets.Dataset.from_list(B.load_docs(benchmark, data_dir))})


doc_to_text = B.doc_to_text
mc_ll_text = B.mc_ll_text


class StrictAnswer(Filter):
    """strict-match: only the first 'Answer: ...' line counts; '' when the format was not followed."""

    def apply(self, resps, docs):
        return [[A.strict_answer(r) for r in rs] for rs in resps]


class LenientAnswer(Filter):
    """lenient-extract: the answer the response commits to, in any clear form (orca2_kit.extract)."""

    def apply(self, resps, docs):
        return [[A.lenient_answer(r, d) for r in rs] for rs, d in zip(resps, docs)]


def process_results(doc: dict, results: list[str]) -> dict:
    """Per document: right or wrong, whether an answer was found at all, and DROP's token F1."""
    answer = results[0]
    return {"acc": float(A.is_correct(answer, doc)), "answered": float(bool(answer)), "f1": A.token_f1(answer, doc)}


def race_articles(dataset):
    """process_docs of orca2_race_mc: RACE as lm-evaluation-harness poses it (race/preprocess_race.py),
    one document per article: its last question, after the article and the article's earlier
    questions with their answers (a fill-in question gets its answer in the blank)."""
    import datasets

    articles: dict[tuple, list[dict]] = {}
    for d in dataset:  # documents are interleaved across files: group by (file, article), in order
        articles.setdefault((d["subset"], d["passage"]), []).append(d)
    out = []
    for docs in articles.values():
        text = "Article: " + docs[-1]["passage"] + "\n\n"
        for d in docs[:-1]:
            answer = d["choices"][d["gold"]]
            if d["stem"][-6:] == "  _  .":
                text += d["stem"][:-5] + answer + "\n"
            else:
                text += "Question: " + d["stem"] + "\n" + "Answer: " + answer + "\n"
        out.append({**docs[-1], "race_prompt": text + docs[-1]["stem"]})
    return datasets.Dataset.from_list(out)
