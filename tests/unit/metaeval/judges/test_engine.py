"""The run engine with scripted in-process backends: retries, validation loop, cache, concurrency."""

from __future__ import annotations

import asyncio
import json

from metaeval.criteria.generation import generate_criteria
from metaeval.judges.base import Backend, Completion, Request
from metaeval.judges.cache import JudgeCache
from metaeval.judges.engine import EngineSettings, JudgeEngine, PairTask, ScoreTask, backoff_delay
from metaeval.types import BANDS, Criterion

CRIT = Criterion("Clarity", "Is it clear?", {b: f"band {b}" for b in BANDS})


class Flaky(Exception):
    def __init__(self, wait: float | None = None) -> None:
        super().__init__("flaky")
        self.wait = wait


class Scripted(Backend):
    """Answers from a list per first-user-message; exceptions in the list are raised."""

    provider = "scripted"

    def __init__(self, script, *, max_concurrency: int = 4, delay: float = 0.0) -> None:
        super().__init__("m1", max_concurrency=max_concurrency)
        self.script = script
        self.requests: list[Request] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.delay = delay

    async def complete(self, request: Request) -> Completion:
        self.requests.append(request)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            key = request.messages[1]["content"]
            answers = self.script(key, len([r for r in self.requests if r.messages[1]["content"] == key]))
            if isinstance(answers, BaseException):
                raise answers
            return Completion(answers, 10, 5)
        finally:
            self.in_flight -= 1

    def should_retry(self, exc: BaseException) -> bool:
        return isinstance(exc, Flaky) or super().should_retry(exc)

    def retry_after(self, exc: BaseException) -> float | None:
        return getattr(exc, "wait", None)


def _task(i: int, response: str = "text") -> ScoreTask:
    return ScoreTask(index=i, model="alpha", criterion=CRIT, query=f"Write {i}.", response=response)


FAST = EngineSettings(backoff_base=0.001, max_attempts=4, max_invalid=3)


def test_transport_errors_are_retried_then_succeed():
    backend = Scripted(lambda key, n: Flaky() if n <= 2 else '{"score": 6, "reason": "fine"}')
    [out] = JudgeEngine(backend, settings=FAST, progress=False).run([_task(1)])
    assert (out.ok, out.value, out.reason) == (True, 6, "fine")
    assert len(backend.requests) == 3


def test_retry_after_is_honoured():
    backend = Scripted(lambda key, n: Flaky(wait=0.3) if n == 1 else '{"score": 4, "reason": "r"}')
    loop_time = []

    async def timed():
        engine = JudgeEngine(backend, settings=FAST, progress=False)
        t0 = asyncio.get_running_loop().time()
        out = await engine.score(_task(1))
        loop_time.append(asyncio.get_running_loop().time() - t0)
        return out

    out = asyncio.run(timed())
    assert out.value == 4 and loop_time[0] >= 0.3  # backoff ceiling is 1 ms; only Retry-After explains 0.3 s


def test_transport_failure_is_recorded_not_defaulted():
    backend = Scripted(lambda key, n: Flaky())
    [out] = JudgeEngine(backend, settings=FAST, progress=False).run([_task(1)])
    assert not out.ok and out.value is None
    assert "call failed after 4 attempts" in out.error and len(backend.requests) == 4


def test_non_retryable_error_fails_at_once():
    backend = Scripted(lambda key, n: ValueError("bad request"))
    [out] = JudgeEngine(backend, settings=FAST, progress=False).run([_task(1)])
    assert len(backend.requests) == 1 and "ValueError: bad request" in out.error


def test_invalid_answer_is_shown_back_and_retried():
    backend = Scripted(lambda key, n: '{"score": 11, "reason": "x"}' if n == 1 else "ignored")
    answers = iter(['{"score": 11, "reason": "wow"}', '{"score": 8, "reason": "solid"}'])
    backend.script = lambda key, n: next(answers)
    [out] = JudgeEngine(backend, settings=FAST, progress=False).run([_task(1)])
    assert (out.value, len(backend.requests)) == (8, 2)
    retry = backend.requests[1].messages
    assert retry[2] == {"role": "assistant", "content": '{"score": 11, "reason": "wow"}'}
    assert "outside 1-10" in retry[3]["content"]


def test_always_invalid_is_a_failure_with_every_raw_answer():
    backend = Scripted(lambda key, n: f'{{"score": {10 + n}, "reason": "r"}}')
    [out] = JudgeEngine(backend, settings=FAST, progress=False).run([_task(1)])
    assert not out.ok and out.value is None
    assert out.raw == ['{"score": 11, "reason": "r"}', '{"score": 12, "reason": "r"}', '{"score": 13, "reason": "r"}']
    assert "invalid answer after 3 attempts" in out.error


def test_reasoning_is_removed_from_the_response_before_judging():
    backend = Scripted(lambda key, n: '{"score": 5, "reason": "r"}')
    JudgeEngine(backend, settings=FAST, progress=False).run([_task(1, "<think>secret plan</think>Final essay")])
    prompt = backend.requests[0].messages[1]["content"]
    assert "Final essay" in prompt and "secret plan" not in prompt


def test_cache_makes_a_rerun_call_nothing(tmp_path):
    script = lambda key, n: '{"score": 7, "reason": "r"}' if "Write 2" not in key or n > 1 else "junk"  # noqa: E731
    cache = JudgeCache(tmp_path / "c.sqlite")
    first = Scripted(script)
    out1 = JudgeEngine(first, cache=cache, settings=FAST, progress=False).run([_task(i) for i in range(5)])
    assert len(first.requests) == 6  # task 2 needed a second answer
    assert len(cache) == 6
    second = Scripted(script)
    out2 = JudgeEngine(second, cache=JudgeCache(tmp_path / "c.sqlite"), settings=FAST, progress=False).run(
        [_task(i) for i in range(5)])
    assert second.requests == []
    assert [o.value for o in out2] == [o.value for o in out1] == [7] * 5
    assert all(o.cached for o in out2)


def test_cache_key_changes_with_sampling_and_model(tmp_path):
    cache = JudgeCache(tmp_path / "c.sqlite")
    ok = lambda key, n: '{"score": 7, "reason": "r"}'  # noqa: E731
    JudgeEngine(Scripted(ok), cache=cache, settings=FAST, progress=False).run([_task(1)])
    hot = Scripted(ok)
    JudgeEngine(hot, cache=cache, settings=EngineSettings(temperature=0.7), progress=False).run([_task(1)])
    other = Scripted(ok)
    other.model = "m2"
    JudgeEngine(other, cache=cache, settings=FAST, progress=False).run([_task(1)])
    assert len(hot.requests) == 1 and len(other.requests) == 1 and len(cache) == 3


def test_concurrency_limit_per_backend():
    backend = Scripted(lambda key, n: '{"score": 3, "reason": "r"}', max_concurrency=3, delay=0.02)
    outs = JudgeEngine(backend, settings=FAST, progress=False).run([_task(i) for i in range(20)])
    assert all(o.ok for o in outs) and backend.max_in_flight == 3


def test_backoff_grows_and_respects_cap():
    import random

    rng = random.Random(1)
    delays = [backoff_delay(a, 1.0, 8.0, rng=rng) for a in range(10) for _ in range(50)]
    assert max(delays) <= 8.0 and min(delays) >= 0.0
    assert backoff_delay(0, 1.0, 8.0, retry_after=5.0, rng=rng) >= 5.0


def test_pairwise_maps_shown_order_back_to_models():
    backend = Scripted(lambda key, n: '{"winner": "A", "reason": "first is better"}')
    tasks = [PairTask(1, "m_a", "m_b", "q", "resp a", "resp b", order=o) for o in ("ab", "ba")]
    outs = JudgeEngine(backend, settings=FAST, progress=False).run(tasks)
    assert [o.value for o in outs] == ["model_a", "model_b"]  # "A" is model_b's response in the "ba" order
    shown_first = [r.messages[1]["content"].index("resp a") < r.messages[1]["content"].index("resp b")
                   for r in backend.requests]
    assert sorted(shown_first) == [False, True]


def _criteria_json(n: int) -> str:
    return json.dumps({"criteria": [{"name": f"G{i}", "criteria_description": "d", **{b: b for b in BANDS}}
                                    for i in range(n)]})


def test_generated_criteria_are_validated_and_regenerated(tmp_path):
    answers = iter([_criteria_json(4), _criteria_json(5)])
    backend = Scripted(lambda key, n: next(answers))
    engine = JudgeEngine(backend, cache=JudgeCache(tmp_path / "c.sqlite"), settings=FAST, progress=False)
    [out] = generate_criteria([{"index": 3, "query": "Write a toast for a wedding.", "domain1": "Literature & Arts"}],
                              engine)
    assert out.ok and [c.name for c in out.value] == ["G0", "G1", "G2", "G3", "G4"]
    assert len(backend.requests) == 2
    assert "generated criteria: field (top level)" in backend.requests[1].messages[-1]["content"]


def test_generation_failure_keeps_raw_text():
    backend = Scripted(lambda key, n: "I cannot do that")
    [out] = generate_criteria([{"index": 4, "query": "写一首诗"}],
                              JudgeEngine(backend, settings=FAST, progress=False))
    assert not out.ok and out.raw == ["I cannot do that"] * 3
    assert "Chinese" in backend.requests[0].messages[1]["content"]


def test_progress_line_reports_tokens_and_eta(capsys):
    import io

    from metaeval.judges.progress import Progress

    stream = io.StringIO()
    stream.isatty = lambda: True  # type: ignore[method-assign]
    p = Progress(4, label="j", model="gpt-4o", stream=stream, interval=0)
    p.add_call(1_000_000, 0)
    p.task_done(ok=True)
    p.close()
    text = stream.getvalue()
    # a live bar on a terminal: "j:  25%|##5       | 1/4 [00:00<00:00, ...task/s, calls 1 ... cost~$2.5000]"
    assert "j:  25%|" in text and "| 1/4 [" in text and "<" in text  # the "<" is tqdm's ETA
    assert "tokens in 1000000" in text and "cost~$2.5000" in text


def test_progress_off_a_terminal_logs_periodic_lines(caplog):
    import io
    import logging

    from metaeval.judges.progress import Progress

    stream = io.StringIO()  # not a terminal
    with caplog.at_level(logging.INFO, logger="metaeval.judges.progress"):
        p = Progress(4, label="j", model="gpt-4o", stream=stream, log_interval=3600)
        for _ in range(3):
            p.task_done(ok=True)
        p.close()
    assert stream.getvalue() == ""
    lines = [r.getMessage() for r in caplog.records]
    # the first task logs (the interval starts at the run's start), then nothing until the final line
    assert [line.split(" [")[0] for line in lines] == ["j 1/4", "j 3/4"], lines
    assert "ETA" in lines[-1] and "cost~$0.0000" in lines[-1]


def test_progress_first_line_does_not_depend_on_host_uptime(caplog, monkeypatch):
    """On a host booted 5 s ago the monotonic clock reads about 5.0: the first finished task is still
    logged (a logged-at-0.0 start would make 5.0 - 0.0 < log_interval and swallow it)."""
    import io
    import logging

    from metaeval.judges import progress

    monkeypatch.setattr(progress.time, "monotonic", lambda: 5.0)
    with caplog.at_level(logging.INFO, logger="metaeval.judges.progress"):
        p = progress.Progress(4, label="j", stream=io.StringIO(), log_interval=3600)
        p.task_done(ok=True)
    assert [r.getMessage().split(" [")[0] for r in caplog.records] == ["j 1/4"]


def test_outcomes_keep_task_order():
    backend = Scripted(lambda key, n: f'{{"score": {len(key) % 10 + 1}, "reason": "r"}}', delay=0.001)
    tasks = [_task(i, "x" * i) for i in range(30)]
    outs = JudgeEngine(backend, settings=FAST, progress=False).run(tasks)
    assert [o.task for o in outs] == tasks
