"""Batch API mode: the request file and the output parsing, in OpenAI's documented line formats."""
import json

import pytest

from orca2_kit.config import TeacherConfig
from orca2_kit.client.batch import batch_lines, store_output
from orca2_kit.client.cache import ResponseCache
from orca2_kit.client.chat_client import TeacherClient


@pytest.fixture
def client(tmp_path):
    cfg = TeacherConfig(kind="openai", model="gpt-x", api_key_env=None, mode="batch", replay_only=True,
                        price_input_per_mtok=1.0, price_output_per_mtok=2.0)
    return TeacherClient(cfg, ResponseCache(tmp_path / "c.sqlite"))


def test_batch_lines_cover_uncached_requests_once(client):
    convs = [[{"role": "user", "content": "a"}], [{"role": "user", "content": "b"}], [{"role": "user", "content": "a"}]]
    client.cache.put(client.key(convs[1], 0), "gpt-x", {}, "cached")
    lines = batch_lines(client, convs, samples=2)
    assert len(lines) == 3  # (a,0) (a,1) (b,1); (b,0) is cached; the repeated 'a' is one request
    assert all(x["url"] == "/v1/chat/completions" and x["body"]["model"] == "gpt-x" for x in lines)
    assert [x["body"].get("seed") for x in lines] == [None, 1, 1]


def test_store_output_caches_answers_and_keeps_errors(client):
    convs = [[{"role": "user", "content": "q1"}], [{"role": "user", "content": "q2"}]]
    lines = batch_lines(client, convs, 1)
    ok = {"id": "r1", "custom_id": lines[0]["custom_id"], "error": None,
          "response": {"status_code": 200, "request_id": "x", "body": {
              "choices": [{"index": 0, "message": {"role": "assistant", "content": "Answer: 1"}}],
              "usage": {"prompt_tokens": 1000, "completion_tokens": 500}}}}
    bad = {"id": "r2", "custom_id": lines[1]["custom_id"], "response": None,
           "error": {"code": "rate_limit_exceeded", "message": "slow down"}}
    errors = store_output(client, json.dumps(ok) + "\n" + json.dumps(bad) + "\n", {x["custom_id"]: x for x in lines})
    assert client.cache.get(lines[0]["custom_id"]) == "Answer: 1"
    assert "rate_limit_exceeded" in errors[lines[1]["custom_id"]]
    assert client.budget.spent == pytest.approx((1000 * 1.0 + 500 * 2.0) / 1e6)
    # the stage then reads answers from the cache; the failed one is a recorded miss
    replies = client.complete(convs)
    assert replies[0][0].text == "Answer: 1" and replies[1][0].text is None and "cache miss" in replies[1][0].error


def test_batch_and_draft_refine_do_not_mix():
    from orca2_kit.config import ConfigError, load_params

    with pytest.raises(ConfigError, match="teacher.mode"):
        load_params("gpu", ["teacher.mode=batch", "teacher.workflow=draft_refine"])
