"""The LLM judge (orca2_kit.judge): verdict parsing, counting, and a real `transformers serve` judge."""
import pandas as pd
import pytest

from orca2_kit.config import ConfigError, JudgeConfig, load_params
from orca2_kit.hallucination.items import make_grounded_items
from orca2_kit.hallucination.metrics import rates_table
from orca2_kit.hallucination.judge import RESPONSE_FORMAT, VERDICTS, disagreements, judge_summaries, parse_verdict, preflight


# --- parsing ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text,verdict,spans", [
    ('{"hallucinated": true, "unsupported_spans": ["in Oslo"]}', "hallucinated", ["in Oslo"]),
    ('{"hallucinated": false, "unsupported_spans": []}', "supported", []),
    ('```json\n{"hallucinated": true, "unsupported_spans": ["42", "Mr Smith"]}\n```', "hallucinated", ["42", "Mr Smith"]),
    ('Here is my verdict:\n{"hallucinated": false, "unsupported_spans": []}', "supported", []),
    ('{"hallucinated": true, "unsupported_spans": []}', "hallucinated", []),
])
def test_valid_verdicts(text, verdict, spans):
    v = parse_verdict(text)
    assert (v["verdict"], v["spans"], v["reason"]) == (verdict, spans, "")


@pytest.mark.parametrize("text,reason", [
    (None, "empty reply"),
    ("   ", "empty reply"),
    ("The summary is faithful.", "no JSON object"),
    ('{"hallucinated": false, "unsupported_spans": [', "invalid JSON"),  # cut off by max_tokens
    ('{"hallucinated": "false", "unsupported_spans": []}', "schema: hallucinated"),  # a string is not a bool
    ('{"hallucinated": 0, "unsupported_spans": []}', "schema: hallucinated"),
    ('{"hallucinated": false}', "schema: unsupported_spans"),
    ('{"hallucinated": false, "unsupported_spans": [], "confidence": 0.9}', "schema: confidence"),
    ('{"hallucinated": false, "unsupported_spans": ["Oslo"]}', "hallucinated is false but"),
    ('{"hallucinated": false, "unsupported_spans": []} {"hallucinated": true, "unsupported_spans": []}', "more than one"),
    ('[{"hallucinated": false, "unsupported_spans": []}]', "larger JSON value"),
])
def test_malformed_verdicts(text, reason):
    v = parse_verdict(text)
    assert v["verdict"] == "malformed" and v["spans"] == [] and reason in v["reason"], v


def test_malformed_is_never_counted_as_not_hallucinated():
    rows = [{"dataset": "builtin", "model": "m", "system": "empty", "rouge_l": 0.5, "empty": False,
             "offline_hallucinated": False, "judge_verdict": v}
            for v in ["hallucinated", "malformed", "malformed", "supported", "error"]]
    r, = rates_table(rows, judge="llm")
    assert (r["rate"], r["n"], r["n_malformed"], r["n_error"]) == (0.5, 2, 2, 1)
    only_bad = [dict(x, judge_verdict="malformed") for x in rows]
    r, = rates_table(only_bad, judge="llm")
    assert r["rate"] is None and r["n"] == 0 and r["n_malformed"] == 5  # no verdict, not a 0% rate
    with pytest.raises(ValueError, match="judge must be"):
        rates_table(rows, judge="gpt")


def test_disagreements():
    df = pd.DataFrame({
        "dataset": ["builtin"] * 5, "model": ["m"] * 5, "system": ["empty"] * 5, "id": list("abcde"),
        "summary": ["s"] * 5, "offline_unsupported": [[]] * 5, "judge_spans": [[]] * 5,
        "offline_hallucinated": [True, True, False, False, True],
        "judge_verdict": ["hallucinated", "supported", "hallucinated", "supported", "malformed"]})
    counts, rows = disagreements(df)
    assert counts == {"n_compared": 4, "both": 1, "offline_only": 1, "judge_only": 1, "neither": 1,
                      "judge_no_verdict": 1, "agreement": 0.5, "kappa": 0.0}  # 50% is what chance gives here
    assert list(rows.id) == ["b", "c"]


def test_preflight_and_params(monkeypatch):
    assert "skipped" in preflight(None)
    monkeypatch.delenv("ORCA2_TEST_JUDGE_KEY", raising=False)
    cfg = JudgeConfig(model="gpt-4o", api_key_env="ORCA2_TEST_JUDGE_KEY")
    with pytest.raises(RuntimeError, match="ORCA2_TEST_JUDGE_KEY is not set"):
        preflight(cfg)
    monkeypatch.setenv("ORCA2_TEST_JUDGE_KEY", "dummy-value")
    assert "gpt-4o" in preflight(cfg)
    with pytest.raises(ConfigError, match="hallucination.judge.api_key_env: must be the NAME"):
        load_params("offline", ["hallucination.judge={model: m, api_key_env: 'sk-abc def'}"])
    with pytest.raises(ConfigError, match="hallucination.judge.model: Field required"):
        load_params("offline", ["hallucination.judge={base_url: 'http://127.0.0.1:1/v1'}"])


# --- against a real OpenAI-compatible server -------------------------------------------------

def _rows(items):
    # Summaries with and without planted content, so both verdicts are plausible.
    return [{"id": it.id, "summary": s} for it in items
            for s in (it.reference_summary, it.reference_summary + " The meeting was moved to Zorblax City.")]


@pytest.mark.slow
def test_judge_against_transformers_serve(server, tmp_path):
    items = make_grounded_items(2, seed=5)
    cfg = JudgeConfig(model=server["model"], base_url=server["base_url"], api_key_env=None, max_tokens=96,
                      max_concurrency=4, structured="auto")
    rows = _rows(items)
    out, info = judge_summaries(cfg, rows, {it.id: it for it in items}, tmp_path / "judge.sqlite")
    # transformers serve accepts response_format (and ignores it): the probe answer is reused.
    assert info["mode"] == "json_schema" and info["requests_sent"] == len(rows)
    assert len(out) == len(rows) and {o["judge_verdict"] for o in out} <= set(VERDICTS) - {"error"}
    for o in out:  # every verdict is exactly what the parser makes of the raw reply
        v = parse_verdict(o["judge_raw"])
        assert (o["judge_verdict"], o["judge_spans"]) == (v["verdict"], v["spans"])
    again, info2 = judge_summaries(cfg, rows, {it.id: it for it in items}, tmp_path / "judge.sqlite")
    assert info2["requests_sent"] == 0 and again == out  # a rerun is answered from the cache


@pytest.mark.slow
def test_cut_off_verdicts_are_malformed_not_supported(server, tmp_path):
    items = make_grounded_items(2, seed=6)
    cfg = JudgeConfig(model=server["model"], base_url=server["base_url"], api_key_env=None, max_tokens=4,
                      structured="prompt")
    rows = _rows(items)
    out, info = judge_summaries(cfg, rows, {it.id: it for it in items}, tmp_path / "j.sqlite")
    assert info["mode"] == "prompt" and all(o["judge_verdict"] == "malformed" for o in out), out
    scored = [dict(r, **o, dataset="builtin", model="m", system="empty", rouge_l=0.0, empty=False) for r, o in zip(rows, out)]
    r, = rates_table(scored, judge="llm")
    assert r["n"] == 0 and r["rate"] is None and r["n_malformed"] == len(rows)


class _NoStructuredOutput:
    """A loopback proxy in front of the real server that answers 400 to any request asking for
    response_format, as OpenAI-compatible servers without structured output do; the rest is forwarded."""

    def __init__(self, upstream: str):
        import threading
        import urllib.request
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.rejected = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if b'"response_format"' in body:
                    proxy.rejected += 1
                    out, code = b'{"error": {"message": "response_format is not supported"}}', 400
                else:
                    req = urllib.request.Request(upstream + self.path.removeprefix("/v1"), body,
                                                 {"Content-Type": "application/json"})
                    with urllib.request.urlopen(req, timeout=300) as r:
                        out, code = r.read(), r.status
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"


@pytest.mark.slow
def test_a_server_that_rejects_response_format(server, tmp_path):
    items = make_grounded_items(1, seed=7)
    proxy = _NoStructuredOutput(server["base_url"])
    try:
        cfg = JudgeConfig(model=server["model"], base_url=proxy.base_url, api_key_env=None, max_tokens=48,
                          max_retries=0, structured="json_schema")
        with pytest.raises(RuntimeError, match="rejected response_format"):
            judge_summaries(cfg, _rows(items), {it.id: it for it in items}, tmp_path / "j.sqlite")
        out, info = judge_summaries(cfg.model_copy(update={"structured": "auto"}), _rows(items),
                                    {it.id: it for it in items}, tmp_path / "j.sqlite")
        assert info["mode"] == "prompt (server rejected response_format)" and proxy.rejected == 2
        assert len(out) == 2 and all(o["judge_verdict"] in ("hallucinated", "supported", "malformed") for o in out)
    finally:
        proxy.server.shutdown()
    assert RESPONSE_FORMAT["json_schema"]["schema"]["required"] == ["hallucinated", "unsupported_spans"]


@pytest.mark.slow
def test_judge_and_offline_checker_compared_on_the_same_summaries(server, tmp_path):
    """The notebook's comparison: the same rows judged by both, counted side by side (the 135M judge's
    verdicts are poor; what is tested is that both see the same summaries and are tallied apart)."""
    from orca2_kit.hallucination.summarise import summary_row
    from orca2_kit.hallucination.metrics import paired_differences

    items = make_grounded_items(2, seed=5)
    rows = [summary_row(it, s, m, "empty") for it in items for m, s in
            (("base", it.reference_summary), ("student", it.reference_summary + " The meeting was moved to Zorblax City."))]
    cfg = JudgeConfig(model=server["model"], base_url=server["base_url"], api_key_env=None, max_tokens=64,
                      structured="auto")
    verdicts, info = judge_summaries(cfg, rows, {it.id: it for it in items}, tmp_path / "j.sqlite")
    samples = pd.concat([pd.DataFrame(rows), pd.DataFrame(verdicts)], axis=1)
    counts, diff = disagreements(samples)
    assert counts["n_compared"] + counts["judge_no_verdict"] == len(rows) == 4
    judged = samples[samples.judge_verdict.isin(["hallucinated", "supported"])]
    assert counts["both"] + counts["offline_only"] == int(judged.offline_hallucinated.sum())
    assert len(diff) == counts["offline_only"] + counts["judge_only"]
    assert [r["offline_hallucinated"] for r in rows] == [False, True, False, True]  # the offline checker is exact here
    recs = samples.to_dict(orient="records")
    assert {r["judge"] for r in rates_table(recs, judge="llm")} == {"llm"}
    assert all(d["n_pairs"] <= 2 for d in paired_differences(recs, judge="llm", metrics=("hallucinated",)))
