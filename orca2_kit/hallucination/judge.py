"""An LLM judge for grounded summaries, through the kit's OpenAI-compatible teacher client.

Per summary the judge answers one JSON object, {"hallucinated": bool, "unsupported_spans": [str]},
validated with pydantic. Structured output (`response_format` json_schema) is asked for, and the
prompt asks for the same JSON in words: a server may ignore the field (`transformers serve` does,
with a warning), and one that rejects it makes `structured: auto` fall back to the words alone.
A reply that does not validate is the verdict "malformed", a failed request "error": both are
counted apart and never as "not hallucinated".
Replies go through the teacher's SQLite cache, so a rerun sends nothing already judged.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import pandas as pd
from pydantic import BaseModel, ConfigDict, StrictBool, StrictStr, ValidationError

from orca2_kit.config import JudgeConfig, TeacherConfig

JUDGE_SYSTEM = (
    "You check whether a summary is grounded in its source text. A summary is hallucinated if it states "
    "anything (a fact, number, name, date, event or claim) that the source does not support. Paraphrases, "
    "omissions and general wording are not hallucinations.\n"
    "Reply with one JSON object and nothing else:\n"
    '{"hallucinated": true or false, "unsupported_spans": ["text copied exactly from the summary", ...]}\n'
    "List every unsupported part of the summary in unsupported_spans, copied word for word; the list is "
    "empty when hallucinated is false."
)
JUDGE_USER = "Source:\n<<<\n{source}\n>>>\n\nTask the summary was written for:\n{instruction}\n\nSummary:\n<<<\n{summary}\n>>>"

RESPONSE_FORMAT = {
    "type": "json_schema",
    "json_schema": {
        "name": "hallucination_verdict",
        "strict": True,
        "schema": {
            "type": "object",
            "properties": {"hallucinated": {"type": "boolean"},
                           "unsupported_spans": {"type": "array", "items": {"type": "string"}}},
            "required": ["hallucinated", "unsupported_spans"],
            "additionalProperties": False,
        },
    },
}

VERDICTS = ("hallucinated", "supported", "malformed", "error")


class JudgeVerdict(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hallucinated: StrictBool
    unsupported_spans: list[StrictStr]


def parse_verdict(text: Optional[str]) -> dict:
    """{"verdict": hallucinated|supported|malformed, "spans": [...], "reason": why malformed}.

    Accepted: one JSON object, optionally in a ```json fence or after a lead-in line. Anything
    else (no object, two objects, a string "false", extra keys, a verdict of false that still lists
    unsupported spans) is malformed."""
    def bad(reason):
        return {"verdict": "malformed", "spans": [], "reason": reason}

    if text is None or not text.strip():
        return bad("empty reply")
    start = text.find("{")
    if start < 0:
        return bad("no JSON object in the reply")
    try:
        obj, end = json.JSONDecoder().raw_decode(text, start)
    except json.JSONDecodeError as e:
        return bad(f"invalid JSON: {e.msg}")
    rest = text[end:].strip().removesuffix("```").strip()
    if "{" in rest:
        return bad("more than one JSON object")
    if text[:start].rstrip().endswith(("[", ",")) or rest.startswith(("]", ",", "}")):
        return bad("the object is part of a larger JSON value, not the reply itself")
    try:
        v = JudgeVerdict.model_validate(obj)
    except ValidationError as e:
        return bad("schema: " + "; ".join(f"{'.'.join(map(str, x['loc'])) or 'object'}: {x['msg']}" for x in e.errors()))
    if not v.hallucinated and v.unsupported_spans:
        return bad("hallucinated is false but unsupported spans are listed")
    return {"verdict": "hallucinated" if v.hallucinated else "supported", "spans": v.unsupported_spans, "reason": ""}


def judge_messages(source: str, instruction: str, summary: str) -> list[dict]:
    return [{"role": "system", "content": JUDGE_SYSTEM},
            {"role": "user", "content": JUDGE_USER.format(source=source, instruction=instruction.strip(),
                                                          summary=summary)}]


def _client(cfg: JudgeConfig, cache_path: Path):
    from orca2_kit.client.cache import ResponseCache
    from orca2_kit.client.chat_client import TeacherClient

    tcfg = TeacherConfig(kind="openai", base_url=cfg.base_url, model=cfg.model, api_key_env=cfg.api_key_env,
                         temperature=0.0, max_tokens=cfg.max_tokens, max_concurrency=cfg.max_concurrency,
                         timeout_s=cfg.timeout_s, max_retries=cfg.max_retries,
                         free=True)  # judge.* has no prices: its spend is not capped (only the teacher's is)
    return TeacherClient(tcfg, ResponseCache(cfg.cache_path or cache_path))


def _rejects_response_format(error: Optional[str]) -> bool:
    return bool(error) and ("response_format" in error or error.startswith(("BadRequestError", "UnprocessableEntityError")))


def judge_summaries(cfg: JudgeConfig, rows: list[dict], items: dict, cache_path: Path) -> tuple[list[dict], dict]:
    """Judge every row's summary against its item's (possibly truncated) source.

    `rows` need "id" and "summary"; `items` maps id -> GroundedItem. Returns one verdict record per
    row (judge_verdict, judge_spans, judge_reason, judge_raw) and run info (mode, requests sent)."""
    client = _client(cfg, cache_path)
    convs = []
    for r in rows:
        it = items[r["id"]]
        convs.append(judge_messages(it.document, it.instruction, r["summary"]))
    mode = "prompt" if cfg.structured == "prompt" else "json_schema"
    if mode == "json_schema" and convs:
        client.sampling["response_format"] = RESPONSE_FORMAT  # sent with every request, and part of the cache key
        probe = client.complete(convs[:1], desc="judge (probe)")[0][0]
        if _rejects_response_format(probe.error):
            if cfg.structured == "json_schema":
                raise RuntimeError(f"judge.structured: json_schema, but the server rejected response_format: "
                                   f"{probe.error[:200]} (set judge.structured: auto or prompt)")
            del client.sampling["response_format"]
            mode = "prompt (server rejected response_format)"
    replies = [reps[0] for reps in client.complete(convs, desc="judge")] if convs else []
    out = []
    for rep in replies:
        if rep.text is None:
            out.append({"judge_verdict": "error", "judge_spans": [], "judge_reason": rep.error or "no reply",
                        "judge_raw": None})
            continue
        v = parse_verdict(rep.text)
        out.append({"judge_verdict": v["verdict"], "judge_spans": v["spans"], "judge_reason": v["reason"],
                    "judge_raw": rep.text})
    client.cache.close()
    return out, {"mode": mode, "requests_sent": client.requests_sent, "model": cfg.model}


def disagreements(samples: pd.DataFrame) -> tuple[dict, pd.DataFrame]:
    """Offline checker vs LLM judge, over the summaries where both gave a verdict.

    Returns counts (both / offline_only / judge_only / neither, agreement, judge_no_verdict), Cohen's
    kappa (agreement beyond what the two flag rates give by chance; None when chance alone explains
    every verdict) and the rows where they differ."""
    judged = samples[samples.judge_verdict.isin(["hallucinated", "supported"])]
    off, llm = judged.offline_hallucinated.astype(bool), judged.judge_verdict.eq("hallucinated")
    counts = {"n_compared": int(len(judged)), "both": int((off & llm).sum()), "offline_only": int((off & ~llm).sum()),
              "judge_only": int((~off & llm).sum()), "neither": int((~off & ~llm).sum()),
              "judge_no_verdict": int((~samples.judge_verdict.isin(["hallucinated", "supported"])).sum())}
    n = counts["n_compared"]
    counts["agreement"] = (counts["both"] + counts["neither"]) / n if n else None
    chance = (off.mean() * llm.mean() + (1 - off.mean()) * (1 - llm.mean())) if n else None
    counts["kappa"] = (counts["agreement"] - chance) / (1 - chance) if n and chance < 1 else None
    cols = ["dataset", "model", "system", "id", "summary", "offline_unsupported", "offline_reasons", "judge_verdict",
            "judge_spans"]
    return counts, judged[off != llm][[c for c in cols if c in judged]]


def preflight(cfg: Optional[JudgeConfig]) -> str:
    """Before any generation: say whether the judge step will run, and fail early on a missing key."""
    import os

    if cfg is None:
        return "LLM judge: skipped (hallucination.judge is not set; the offline checker alone judges)"
    if cfg.api_key_env is not None and not os.environ.get(cfg.api_key_env):
        raise RuntimeError(f"hallucination.judge.api_key_env: the environment variable {cfg.api_key_env} is not "
                           f"set; export it, set api_key_env: null for a local server, or remove hallucination.judge")
    return f"LLM judge: {cfg.model} at {cfg.base_url or 'api.openai.com'} (structured output: {cfg.structured})"
