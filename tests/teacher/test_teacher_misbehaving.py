"""The money cap against servers that misbehave (issue 29): one that ignores max_tokens, one that
answers without usage, a gateway that answers 502 after the server behind it did the work, and an
error page that echoes the key. Against the real `transformers serve` behind the fault proxy, which
counts what was sent and the usage the server reported (what a provider bills), whatever the
client was told."""
import json

import pytest

from orca2_kit.client.limits import Budget, max_input_tokens
from orca2_kit.teacher import run_teacher, teacher_requests
from tests.faultproxy import FaultProxy
from tests.teacher.test_teacher_money import SMAP, _cfg, _items, _posts

PRICE_IN, PRICE_OUT = 1e-6, 1e5  # USD per million tokens: 0.1 USD an output token, input next to nothing


def _billed(usages) -> float:
    return sum(((u.get("prompt_tokens") or 0) * PRICE_IN + (u.get("completion_tokens") or 0) * PRICE_OUT) / 1e6
               for u in usages)


def _worst(items, max_tokens=8) -> list[float]:
    return [(max_input_tokens(r["messages"]) * PRICE_IN + max_tokens * PRICE_OUT) / 1e6
            for r in teacher_requests(items, SMAP)]


# --------------------------------------------------------------------------- the budget itself


def test_a_settle_past_its_reservation_trips_the_budget_and_nothing_more_is_reserved(tmp_path):
    """The issue's numbers: cap $1, a reservation of $0.9, a reply billed $6 (it ignored max_tokens).
    The overshoot is booked, and no reservation fits after it, however small."""
    b = Budget(1.0, 1e6, 1e6, tmp_path / "spend.json")  # $1 a token
    assert b.reserve(0.9)
    b.settle(0.9, {"prompt_tokens": 1, "completion_tokens": 5}, bound=(1, 1))
    assert b.spent == pytest.approx(6.0) and b.tripped and not b.reserve(1e-9)
    assert "raise teacher.max_tokens to at least 5" in b.why_stopped()
    # a rerun on the same ledger: still stopped; with max_tokens covering what was billed, it sends again
    again = Budget(100.0, 1e6, 1e6, tmp_path / "spend.json")
    assert again.tripped and not again.reserve(1.0)
    assert not again.resume_if_covered(4) and again.resume_if_covered(5) and again.reserve(1.0)
    # a server counting more input tokens than the request has bytes: no max_tokens covers that
    other = Budget(100.0, 1e6, 1e6, tmp_path / "other.json")
    assert other.reserve(2.0)
    other.settle(2.0, {"prompt_tokens": 50, "completion_tokens": 1}, bound=(10, 1))
    assert not other.resume_if_covered(10_000) and "use another endpoint" in other.why_stopped()


def test_two_budgets_on_one_ledger_take_turns_and_neither_overwrites_the_other(tmp_path):
    """A notebook run by hand beside the runner: two processes with one spend.json. Each reads the
    ledger when it takes its lock, so the second counts what the first spent meanwhile."""
    a = Budget(1.0, 1e6, 1e6, tmp_path / "spend.json")
    b = Budget(1.0, 1e6, 1e6, tmp_path / "spend.json")  # made before a spends anything
    with a.exclusive():
        assert a.reserve(0.6)
        a.settle(0.6, {"prompt_tokens": 0, "completion_tokens": 0.6})
    with b.exclusive():
        assert b.total == pytest.approx(0.6) and not b.reserve(0.6) and b.reserve(0.4)
        b.settle(0.4, {"prompt_tokens": 0, "completion_tokens": 0.4})
    assert json.loads((tmp_path / "spend.json").read_text())["spent_usd"] == pytest.approx(1.0)


def test_an_error_page_is_recorded_short_and_without_the_key(tmp_path, monkeypatch):
    """A server's 400 page that echoes the request's Authorization header: answers.jsonl records
    its status and first words, never the page, never the key."""
    monkeypatch.setenv("ORCA2_TEST_ECHO_KEY", "sk-canary-echo-0123456789")
    with FaultProxy("http://127.0.0.1:9", fault_rate=1.0, faults=("echo_error",)) as proxy:
        cfg = _cfg(proxy.url + "/v1", "m", tmp_path / "c.sqlite").model_copy(update={"api_key_env": "ORCA2_TEST_ECHO_KEY"})
        run_teacher(cfg, _items(1), SMAP, tmp_path / "run")
    assert proxy.auth["Bearer sk-canary-echo-0123456789"] == 3  # the key travelled (and came back in the page)
    text = (tmp_path / "run" / "answers.jsonl").read_text()
    rows = [json.loads(x) for x in text.splitlines()]
    assert "sk-canary-echo" not in text and all(len(r["reason"]) < 300 for r in rows)
    assert all(r["reason"].startswith("BadRequestError (HTTP 400): ") for r in rows), rows[0]["reason"]


# --------------------------------------------------------------------------- against the real server


@pytest.mark.slow
def test_a_server_that_ignores_max_tokens_trips_the_budget_and_nothing_more_is_sent(server, tmp_path):
    """The server writes (and bills) 8x max_tokens. The cap holds 20 worst cases, so the old budget
    went on sending until the overshoots had spent past it; now the first reply billed past its
    reservation stops every further send (concurrency 1: no other request is in flight), and a
    rerun in the same run folder sends nothing either, saying why."""
    items = _items(4)
    cap = 20 * max(_worst(items))
    with FaultProxy(server["url"], fault_rate=1.0, faults=("overlong",), overlong_factor=8) as proxy:
        cfg = _cfg(proxy.url + "/v1", server["model"], tmp_path / "c.sqlite", max_concurrency=1,
                   price_input_per_mtok=PRICE_IN, price_output_per_mtok=PRICE_OUT, budget_usd=cap)
        df = run_teacher(cfg, items, SMAP, tmp_path / "run")
        costs = [_billed([u]) for u in proxy.usage]
        over = [i for i, (c, w) in enumerate(zip(costs, _worst(items))) if c > w]
        assert over, f"the server never wrote past max_tokens: {proxy.usage}"
        assert _posts(proxy) == over[0] + 1, f"sent {_posts(proxy)} requests; the first overshoot was #{over[0] + 1}"
        assert sum(costs) <= cap  # here the trip kept spend under the cap (the old budget's was past it)
        assert df.reason.str.startswith("budget stopped: the endpoint billed").sum() == len(items) - over[0] - 1
        stats = json.loads((tmp_path / "run" / "teacher_stats.json").read_text())
        assert stats["spent_usd"] == pytest.approx(sum(costs), rel=1e-6)
        again = run_teacher(cfg, items, SMAP, tmp_path / "run")  # the rerun, while the proxy still counts
        assert _posts(proxy) == over[0] + 1 and again.answer.notna().sum() == over[0] + 1
        assert again.reason[again.answer.isna()].str.contains("raise teacher.max_tokens to at least").all()


@pytest.mark.slow
def test_a_502_after_the_server_answered_stays_charged_and_the_cap_counts_it(server, tmp_path):
    """A gateway answers 502 after the server behind it did (and billed) the work, three times for
    the first request. Each 502 keeps its reservation charged, and the retry reserves again: with a
    cap of 2.5 worst cases the client stops after two, and what the server billed stays under the
    cap. (Counting a 502 as nothing served, the old client retried on one reservation, four times.)"""
    items = _items(1)
    cap = 2.5 * max(_worst(items))
    with FaultProxy(server["url"], fault_rate=0.0, schedule=["502_after"] * 3) as proxy:
        cfg = _cfg(proxy.url + "/v1", server["model"], tmp_path / "c.sqlite", max_concurrency=1, max_retries=6,
                   price_input_per_mtok=PRICE_IN, price_output_per_mtok=PRICE_OUT, budget_usd=cap)
        df = run_teacher(cfg, items, SMAP, tmp_path / "run")
    assert proxy.counts["502_after"] == 2 and _posts(proxy) == 2, proxy.counts
    billed = _billed(proxy.usage)
    spend = json.loads((tmp_path / "run" / "spend.json").read_text())
    assert billed <= cap and spend["spent_usd"] >= billed  # the budget counted all the work the server did
    assert df.answer.isna().all() and df.reason.str.startswith("budget exhausted").all()


@pytest.mark.slow
def test_a_reply_without_usage_is_charged_its_whole_reservation(server, tmp_path):
    """The server bills, but its replies carry no usage: each is charged its worst case, never 0."""
    items = _items(1)
    with FaultProxy(server["url"], fault_rate=1.0, faults=("no_usage",)) as proxy:
        cfg = _cfg(proxy.url + "/v1", server["model"], tmp_path / "c.sqlite", price_input_per_mtok=PRICE_IN,
                   price_output_per_mtok=PRICE_OUT, budget_usd=100.0)
        df = run_teacher(cfg, items, SMAP, tmp_path / "run")
    spend = json.loads((tmp_path / "run" / "spend.json").read_text())
    assert df.answer.notna().all() and _posts(proxy) == len(items)
    assert spend["spent_usd"] == pytest.approx(sum(_worst(items)), rel=1e-12) and spend["spent_usd"] >= _billed(proxy.usage) > 0
