"""Judge engine throughput against a loopback OpenAI-compatible server with fixed latency.

Measures, in one run and against the same server (tests/fixtures/judge_fake_openai_server.py in its own
process, 200 ms per answer):

1. baseline: a sequential loop in the style of WritingBench's evaluation script (one blocking
   ``client.chat.completions.create`` per (response, criterion), a retry loop, ``json.loads``);
2. the engine: 2,000 scoring calls at concurrency 16 (ideal: 16 / 0.2 s = 80 calls/s; target
   >= 85% of ideal);
   (printed beside a bare-SDK reference: the same calls through ``AsyncOpenAI`` under a semaphore,
   without cache, retries or validation -- the most this machine allows at that moment);
3. a fully cached rerun of 15,000 calls (target <= 3 s). The 2,000 calls of step 2 are cached by
   the run itself; the other 13,000 are written into the cache beforehand with the engine's own
   keys, standing in for an earlier run.

Usage: .venv/bin/python bench/judge_throughput.py [--calls 2000] [--concurrency 16] [--latency 0.2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import openai

from metaeval.judges.base import Completion
from metaeval.judges.cache import JudgeCache
from metaeval.judges.engine import EngineSettings, JudgeEngine, ScoreTask
from metaeval.judges.openai_compatible import OpenAICompatibleBackend
from metaeval.judges.prompts import SCORE_PROMPT_VERSION, SCORE_SCHEMA, score_messages
from metaeval.types import BANDS, Criterion

ROOT = Path(__file__).resolve().parent.parent
SERVER = ROOT / "tests" / "fixtures" / "judge_fake_openai_server.py"
CRITERIA = [Criterion(f"Criterion {i}", f"Checks aspect {i} of the writing.", {b: f"band {b}" for b in BANDS})
            for i in range(5)]


def make_tasks(n: int, offset: int = 0) -> list[ScoreTask]:
    """n tasks: n/5 responses x 5 criteria, each response ~1,500 characters."""
    body = "The committee reviewed the proposal in detail and found its structure sound. " * 20
    tasks = []
    for r in range(offset, offset + (n + 4) // 5):
        for c in CRITERIA:
            tasks.append(ScoreTask(index=r, model="bench-model", criterion=c, query=f"Write report #{r}.",
                                   response=f"Response {r}. EXPECT_SCORE={r % 10 + 1}\n\n{body}"))
    return tasks[:n]


def sequential_baseline(base_url: str, tasks: list[ScoreTask]) -> float:
    """WritingBench-style: one blocking call after another, retry until parseable."""
    client = openai.OpenAI(api_key="none", base_url=base_url)
    start = time.perf_counter()
    for t in tasks:
        messages = score_messages(t.query, t.response, t.criterion)
        while True:
            try:
                resp = client.chat.completions.create(model="fake", messages=messages, max_tokens=1024,
                                                      temperature=0.0)
                json.loads(resp.choices[0].message.content)
                break
            except Exception:  # noqa: BLE001 - mimics the reference script's catch-all
                time.sleep(1)
    return len(tasks) / (time.perf_counter() - start)


def bare_sdk(base_url: str, tasks: list[ScoreTask], concurrency: int) -> float:
    """Upper reference on this machine: the SDK alone under a semaphore (no cache, retries or checks)."""

    async def run() -> float:
        client = openai.AsyncOpenAI(api_key="none", base_url=base_url, max_retries=0)
        sem = asyncio.Semaphore(concurrency)

        async def one(t: ScoreTask) -> None:
            async with sem:
                resp = await client.chat.completions.create(
                    model="fake", messages=score_messages(t.query, t.response, t.criterion), max_tokens=1024,
                    temperature=0.0)
                json.loads(resp.choices[0].message.content)

        start = time.perf_counter()
        await asyncio.gather(*(one(t) for t in tasks))
        rate = len(tasks) / (time.perf_counter() - start)
        await client.close()
        return rate

    return asyncio.run(run())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--latency", type=float, default=0.2)
    ap.add_argument("--sequential", type=int, default=40, help="calls in the sequential baseline")
    ap.add_argument("--cached", type=int, default=15000)
    ap.add_argument("--bare", type=int, default=800, help="calls for the bare-SDK reference (0 = skip)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)

    server = subprocess.Popen([sys.executable, str(SERVER), "--latency", str(args.latency)], stdout=subprocess.PIPE,
                              text=True)
    try:
        port = int(server.stdout.readline())
        base_url = f"http://127.0.0.1:{port}/v1"
        tmp = Path(tempfile.mkdtemp(prefix="judge_bench_"))
        cache = JudgeCache(tmp / "cache.sqlite")
        ideal = args.concurrency / args.latency

        seq_rate = sequential_baseline(base_url, make_tasks(args.sequential, offset=10**6))
        bare_rate = bare_sdk(base_url, make_tasks(args.bare, offset=2 * 10**6), args.concurrency) if args.bare else 0.0

        backend = OpenAICompatibleBackend("fake", base_url=base_url, max_concurrency=args.concurrency,
                                          structured="json_schema")
        engine = JudgeEngine(backend, cache=cache, settings=EngineSettings(), progress=False)
        tasks = make_tasks(args.calls)
        start, cpu0 = time.perf_counter(), time.process_time()
        outcomes = engine.run(tasks)
        live, live_cpu = time.perf_counter() - start, time.process_time() - cpu0
        ok = sum(o.ok for o in outcomes)
        rate = args.calls / live

        # Fill the cache for the remaining tasks of the 15,000 (stand-in for an earlier run).
        all_tasks = make_tasks(args.cached)
        for t in all_tasks[args.calls:]:
            messages, meta = engine._score_parts(t)
            request = engine._request(messages, SCORE_SCHEMA, "criterion_score", meta)
            text = json.dumps({"score": int(t.response.split("EXPECT_SCORE=")[1].split()[0]), "reason": "cached"})
            cache.put(engine._key(request, SCORE_PROMPT_VERSION), Completion(text, 100, 10), backend=backend.provider,
                      model=backend.model, prompt_version=SCORE_PROMPT_VERSION)
        stats_before = json.loads(_get(f"http://127.0.0.1:{port}/stats"))
        start, cpu0 = time.perf_counter(), time.process_time()
        rerun = engine.run(all_tasks)
        cached_s, cached_cpu = time.perf_counter() - start, time.process_time() - cpu0
        stats_after = json.loads(_get(f"http://127.0.0.1:{port}/stats"))
        new_requests = stats_after["requests"] - stats_before["requests"]

        print(f"server latency {args.latency * 1000:.0f} ms, concurrency {args.concurrency}, ideal {ideal:.1f} calls/s")
        print(f"sequential loop (WritingBench style), {args.sequential} calls: {seq_rate:6.1f} calls/s")
        print(f"load average (1 min) on {os.cpu_count()} CPUs: {os.getloadavg()[0]:.2f}")
        if args.bare:
            print(f"bare SDK + semaphore, {args.bare} calls:        {bare_rate:6.1f} calls/s = "
                  f"{100 * bare_rate / ideal:.1f}% of ideal (what this machine allows right now; no engine)")
        print(f"engine, {args.calls} calls:                      {rate:6.1f} calls/s = {100 * rate / ideal:.1f}% of "
              f"ideal (target >= 85%), {rate / seq_rate:.1f}x the sequential loop; valid {ok}/{args.calls}; "
              f"client CPU {1000 * live_cpu / args.calls:.2f} ms/call")
        print(f"fully cached rerun, {len(all_tasks)} calls:          {cached_s:6.2f} s (target <= 3 s; CPU {cached_cpu:.2f} s); "
              f"new server requests {new_requests}; valid {sum(o.ok for o in rerun)}/{len(rerun)}")
        passed = rate >= 0.85 * ideal and cached_s <= 3.0 and new_requests == 0
        print("PASS" if passed else "FAIL")
        return 0 if passed else 1
    finally:
        server.terminate()
        server.wait(timeout=10)


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as resp:  # noqa: S310 - loopback only
        return resp.read().decode()


if __name__ == "__main__":
    sys.exit(main())
