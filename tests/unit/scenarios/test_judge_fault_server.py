"""The engine against a loopback OpenAI-compatible server that misbehaves 20% of the time.

Faults: 429 with Retry-After, 500, stalls past the client timeout, malformed JSON bodies, malformed
JSON content, score 11 and a missing reason. Expected scores are planted in the responses
(``EXPECT_SCORE=n``), so every score in the output can be checked without trusting our code.
"""

from __future__ import annotations

import json
import logging
import re
from collections import defaultdict
from pathlib import Path

import pytest

from metaeval.cli import main
from tests.fixtures.judge_fake_openai_server import FAULTS, FakeJudgeServer

FIX = Path(__file__).resolve().parents[2] / "fixtures"
PLANTED = "sk-planted-7c1e9a-do-not-log"


@pytest.fixture()
def fault_server():
    # Seed 6: the first 60 draws at a 20% rate contain every fault kind (checked by hand once).
    srv = FakeJudgeServer(fault_rate=0.2, stall=3.0, retry_after="1", seed=6).start()
    yield srv
    srv.shutdown()
    srv.server_close()


def _expected(response: str) -> int:
    return int(re.search(r"EXPECT_SCORE=(\d+)", response).group(1))


def test_faulty_server_run_completes_without_defaults(fault_server, tmp_path, monkeypatch, caplog, capsys):
    broken = tmp_path / "demo-broken.jsonl"
    broken.write_text(json.dumps({"index": 900101, "response": "ALWAYS_INVALID text\n\nmore"}) + "\n")
    monkeypatch.setenv("PLANTED_JUDGE_KEY", PLANTED)
    caplog.set_level(logging.DEBUG)
    out = tmp_path / "out"
    rc = main(["-v", "judge", "--method", "dynamic", "--judge", f"openai-compatible:{fault_server.base_url}@fake",
               "--queries", str(FIX / "judge_queries.jsonl"),
               "--responses", str(FIX / "judge_responses.jsonl"), f"demo-broken={broken}",
               "--output", str(out), "--api-key-env", "PLANTED_JUDGE_KEY", "--timeout", "2",
               "--backoff-base", "0.05", "--max-attempts", "10", "--max-invalid", "5", "--concurrency", "8"])
    assert rc == 0
    captured = capsys.readouterr()

    responses = {}
    for line in (FIX / "judge_responses.jsonl").read_text().splitlines():
        r = json.loads(line)
        responses[(r["index"], r["model"])] = r["response"]
    records = [json.loads(x) for x in (out / "fake__dynamic.long.jsonl").read_text().splitlines()]
    failures = [json.loads(x) for x in (out / "fake__dynamic.failures.jsonl").read_text().splitlines()]

    # Every task accounted for exactly once: 12 responses x 5 + 1 broken x 5.
    seen = [(r["index"], r["model"], r["criterion"]) for r in records + failures]
    assert len(seen) == len(set(seen)) == 65
    # Each score is the planted one -- no invented or default values.
    for r in records:
        assert r["score"] == _expected(responses[(r["index"], r["model"])]) and r["reason"]
    # The always-invalid response is recorded as failed, with every raw answer kept.
    broken_rows = [f for f in failures if f["model"] == "demo-broken"]
    assert len(broken_rows) == 5
    for f in broken_rows:
        assert f["error"].startswith("invalid answer after 5 attempts") and len(f["raw"]) == 5
        # each raw answer is the server's 11 -- or, when a fault hit that request, a broken/partial answer
        assert any('"score": 11' in raw for raw in f["raw"])
        assert all('"score": 11' in raw or raw.count("{") != raw.count("}") or '"reason"' not in raw
                   for raw in f["raw"])
    # Random faults were retried: no honest task failed. A bad answer comes back with probability
    # 0.2 * 3/7 ~ 0.086, five in a row ~ 5e-6 per task; transport faults get 10 attempts.
    assert [f for f in failures if f["model"] != "demo-broken"] == [], failures

    stats = fault_server.stats()
    assert set(stats["faults"]) == set(FAULTS), stats["faults"]
    # Retry-After honoured: after a 429, the same request came back no sooner than 1 s later.
    by_key = defaultdict(list)
    for t, key, kind in fault_server.events:
        by_key[key].append((t, kind))
    gaps = []
    for evs in by_key.values():
        evs.sort()
        for (t0, kind), (t1, _) in zip(evs, evs[1:], strict=False):
            if kind == "429":
                gaps.append(t1 - t0)
    assert gaps and min(gaps) >= 0.95, gaps

    # The planted key is in no file and no log line.
    blobs = [p.read_bytes() for p in out.rglob("*") if p.is_file()]
    assert blobs and all(PLANTED.encode() not in b for b in blobs)
    log_text = caplog.text + captured.out + captured.err
    assert "HTTP Request" in log_text or "retrying" in log_text  # debug logging really was on
    assert PLANTED not in log_text
