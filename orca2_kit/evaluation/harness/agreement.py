"""Hold the kit's own generation layer to the harness: the same documents, prompts, model and system
message through `orca2_kit.generation.generate`, scored by the same filters as the task configs.
`benchmarks/harness_vs_kit.py` times both and reports how far their accuracies are apart."""
from __future__ import annotations

from typing import Optional

import pandas as pd

from orca2_kit.generation import generate, messages, system_text
from orca2_kit.evaluation.harness import benchmarks as B
from orca2_kit.evaluation.harness import answers as A


def kit_responses(model, tokenizer, docs: list[dict], system_mode: str, max_new_tokens: int, batch_size: int,
                  max_prompt_tokens: int = 1792, system_message_file: Optional[str] = None) -> list[str]:
    system = system_text(system_mode, system_message_file)
    convs = [messages(system, B.doc_to_text(d)) for d in docs]
    return generate(model, tokenizer, convs, max_new_tokens, batch_size, max_prompt_tokens,
                    desc=f"kit layer / {system_mode}")


def score(responses: list[str], docs: list[dict], source: str) -> pd.DataFrame:
    rows = []
    for r, d in zip(responses, docs):
        strict, lenient = A.strict_answer(r), A.lenient_answer(r, d)
        rows.append({"source": source, "benchmark": d["benchmark"], "id": d["id"], "response": r,
                     "acc_strict": float(A.is_correct(strict, d)), "acc_lenient": float(A.is_correct(lenient, d)),
                     "format_ok": float(bool(strict))})
    return pd.DataFrame(rows)


def harness_responses(out_dir, names: list[str]) -> dict[str, str]:
    """{doc id: raw response} from a harness run's per-sample logs."""
    import json
    from pathlib import Path

    out = {}
    for n in names:
        for line in open(Path(out_dir) / f"samples_orca2_{n}.jsonl", encoding="utf-8"):
            s = json.loads(line)
            out[s["doc"]["id"]] = s["resps"][0][0]
    return out
