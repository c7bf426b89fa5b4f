"""The run engine: cache, per-backend concurrency, retries with backoff, validation loop, progress.

One scoring call is made per (response, criterion). A call goes through:

1. the persistent cache (:mod:`metaeval.judges.cache`) -- a hit costs no call;
2. a semaphore shared by all calls with the same :meth:`Backend.connection_key`;
3. transport retries: exponential backoff with full jitter, never shorter than the server's
   Retry-After, for the errors :meth:`Backend.should_retry` accepts, each call bounded by a timeout;
4. validation (:mod:`metaeval.judges.parsing`); an unusable answer is shown back to the judge with
   the reason and asked again, up to ``max_invalid`` answers. Still unusable -> the task is
   recorded as failed with every raw answer; no score is ever made up.

Example (with the replay backend, which needs no model)::

    engine = JudgeEngine(create_backend("replay:scores.jsonl"), cache=None)
    outcomes = engine.run_scores(tasks)
"""

from __future__ import annotations

import asyncio
import logging
import random
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from metaeval.judges.base import Backend, Completion, Request
from metaeval.judges.cache import JudgeCache, cache_key, key_header
from metaeval.judges.parsing import ParseError, parse_pairwise, parse_score, strip_reasoning
from metaeval.judges.progress import Progress
from metaeval.judges.prompts import (
    PAIRWISE_PROMPT_VERSION,
    PAIRWISE_SCHEMA,
    SCORE_PROMPT_VERSION,
    SCORE_SCHEMA,
    pairwise_messages,
    retry_messages,
    score_messages,
)
from metaeval.redact import redact
from metaeval.types import Criterion

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScoreTask:
    """Score one response of ``model`` to query ``index`` under one criterion."""

    index: int | str
    model: str
    criterion: Criterion
    query: str
    response: str


@dataclass(frozen=True)
class PairTask:
    """Compare two responses to query ``index``; ``order="ba"`` shows model_b's response first."""

    index: int | str
    model_a: str
    model_b: str
    query: str
    response_a: str
    response_b: str
    order: str = "ab"
    criteria: tuple[Criterion, ...] = ()


@dataclass(frozen=True)
class AskTask:
    """Any other call through the engine (negotiated weights, step scores, rewrites, responses).

    ``parse(text) -> (value, reason)`` validates an answer (raise :class:`ParseError` to ask again);
    ``schema`` is the JSON schema sent to the backend (None: free text). ``label`` names the task in
    the failures file (a leaf name, ``negotiation`` ...).
    """

    index: int | str
    model: str
    label: str
    messages: tuple[Mapping[str, str], ...]
    parse: Callable[[str], tuple[Any, str]]
    version: str
    schema: dict | None = None
    schema_name: str = "output"
    meta: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Outcome:
    """The result of one task: a value (score 1-10, or "model_a"/"model_b"/"tie") or a failure."""

    task: ScoreTask | PairTask | AskTask | Mapping[str, Any]  # a query for criteria generation
    value: Any = None
    reason: str | None = None
    error: str | None = None
    raw: list[str] = field(default_factory=list)
    calls: int = 0
    cached: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


class CallFailed(RuntimeError):
    """A call that still failed after the allowed transport retries (or could not be retried)."""


@dataclass
class EngineSettings:
    """Sampling and retry settings. ``max_invalid`` bounds answers per task, ``max_attempts`` the
    transport attempts per call."""

    max_tokens: int = 1024
    temperature: float = 0.0
    top_p: float | None = None
    seed: int | None = None
    max_invalid: int = 3
    max_attempts: int = 6
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    timeout: float | None = None
    structured: bool = True


def backoff_delay(attempt: int, base: float, cap: float, retry_after: float | None = None,
                  rng: random.Random | None = None) -> float:
    """Full-jitter exponential backoff, at least ``retry_after``.

    >>> backoff_delay(3, 1.0, 60.0, retry_after=30.0, rng=random.Random(0)) >= 30.0
    True
    >>> 0 <= backoff_delay(2, 1.0, 60.0, rng=random.Random(0)) <= 4.0
    True
    """
    ceiling = min(cap, base * (2 ** attempt))
    delay = rng.uniform(0, ceiling) if rng is not None else random.uniform(0, ceiling)
    return max(delay, retry_after) if retry_after is not None else delay


_SEMAPHORES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Semaphore]] = (
    weakref.WeakKeyDictionary())


def _semaphore(key: str, limit: int) -> asyncio.Semaphore:
    """One semaphore per (event loop, connection key): engines sharing a server share its limit."""
    per_loop = _SEMAPHORES.setdefault(asyncio.get_running_loop(), {})
    sem = per_loop.get(key)
    if sem is None:
        sem = per_loop[key] = asyncio.Semaphore(limit)
    return sem


class JudgeEngine:
    """Runs scoring and pairwise tasks against one backend."""

    def __init__(self, backend: Backend, *, cache: JudgeCache | None = None,
                 settings: EngineSettings | None = None, progress: bool = True,
                 price: tuple[float, float] | None = None, label: str | None = None) -> None:
        self.backend = backend
        self.cache = cache if backend.cacheable else None
        self.settings = settings or EngineSettings()
        self.show_progress = progress
        self.price = price
        self.label = label or backend.name
        self._progress: Progress | None = None
        # key headers by (prompt version, sampling); schemas are module constants, so id() is stable
        self._headers: dict[tuple, str] = {}

    # ------------------------------------------------------------------ one call
    def _request(self, messages: Sequence[Mapping[str, str]], schema: dict | None, name: str,
                 meta: dict[str, Any]) -> Request:
        s = self.settings
        return Request(messages=tuple(messages), max_tokens=s.max_tokens, temperature=s.temperature,
                       top_p=s.top_p, seed=s.seed, json_schema=schema if s.structured else None,
                       schema_name=name, meta=meta)

    def _key(self, request: Request, prompt_version: str) -> str:
        memo = (prompt_version, request.max_tokens, request.temperature, request.top_p, request.seed,
                id(request.json_schema))
        header = self._headers.get(memo)
        if header is None:
            header = self._headers[memo] = key_header(self.backend.cache_identity(), prompt_version,
                                                      request.sampling())
        return cache_key({}, prompt_version, request.messages, {}, header=header)

    async def call(self, request: Request, prompt_version: str, *, key: str | None = None,
                   looked_up: bool = False) -> tuple[Completion, bool]:
        """One completion, from the cache or the backend; returns (completion, was_cached).

        ``key``/``looked_up`` let a caller that already searched the cache in bulk skip a second lookup.
        """
        if self.cache is not None and key is None:
            key = self._key(request, prompt_version)
        if self.cache is not None and key is not None and not looked_up:
            hit = self.cache.get(key)
            if hit is not None:
                return hit, True
        completion = await self._call_with_retries(request)
        if self.cache is not None and key is not None:
            ident = self.backend.cache_identity()
            self.cache.put(key, completion, backend=ident["backend"], model=ident["model"],
                           prompt_version=prompt_version)
        if self._progress is not None:
            self._progress.add_call(completion.input_tokens, completion.output_tokens)
        return completion, False

    async def _call_with_retries(self, request: Request) -> Completion:
        s = self.settings
        timeout = s.timeout or self.backend.timeout
        sem = _semaphore(self.backend.connection_key(), self.backend.max_concurrency)
        last: BaseException | None = None
        for attempt in range(s.max_attempts):
            try:
                async with sem, asyncio.timeout(timeout):
                    return await self.backend.complete(request)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the backend decides what is retryable
                last = exc
                if not self.backend.should_retry(exc) or attempt == s.max_attempts - 1:
                    break
                delay = backoff_delay(attempt, s.backoff_base, s.backoff_max, self.backend.retry_after(exc))
                log.debug("%s: %s on attempt %d; retrying in %.2fs", self.label, _describe(exc), attempt + 1, delay)
                await asyncio.sleep(delay)
        tries = attempt + 1
        raise CallFailed(f"call failed after {tries} attempt{'s' if tries > 1 else ''}: {_describe(last)}")

    # ------------------------------------------------------------------ tasks
    async def ask(self, task: Any, base: list[dict[str, str]], schema: dict | None, name: str, version: str,
                  parse: Callable[[str], tuple[Any, str]], meta: dict[str, Any],
                  first: tuple[Completion, bool] | None = None, first_key: str | None = None) -> Outcome:
        """Ask until ``parse`` accepts an answer or ``max_invalid`` answers were unusable.

        ``first`` is a first answer already known (from a bulk cache lookup); ``first_key`` the
        cache key of a first request already known to be missing from the cache.
        """
        outcome = Outcome(task=task)
        messages = base
        all_cached = True
        for n in range(self.settings.max_invalid):
            request = self._request(messages, schema, name, meta)
            try:
                if n == 0 and first is not None:
                    completion, cached = first
                elif n == 0 and first_key is not None:
                    completion, cached = await self.call(request, version, key=first_key, looked_up=True)
                else:
                    completion, cached = await self.call(request, version)
            except CallFailed as exc:
                outcome.error = str(exc)
                outcome.cached = False
                return outcome
            all_cached = all_cached and cached
            outcome.calls += 0 if cached else 1
            outcome.raw.append(completion.text)
            try:
                value, reason = parse(completion.text)
            except ParseError as exc:
                outcome.error = f"invalid answer after {n + 1} attempt{'s' if n else ''}: {exc}"
                messages = retry_messages(base, strip_reasoning(completion.text)[:4000], str(exc))
                continue
            outcome.value, outcome.reason, outcome.error = value, reason, None
            outcome.cached = all_cached
            return outcome
        outcome.cached = all_cached
        return outcome

    def _score_parts(self, task: ScoreTask) -> tuple[list[dict[str, str]], dict[str, Any]]:
        messages = score_messages(task.query, strip_reasoning(task.response), task.criterion)
        meta = {"kind": "score", "index": task.index, "model": task.model, "criterion": task.criterion.name}
        return messages, meta

    async def score(self, task: ScoreTask, first: tuple[Completion, bool] | None = None,
                    prepared: tuple[list[dict[str, str]], dict[str, Any], str] | None = None) -> Outcome:
        """Score one (response, criterion); the response's reasoning part is removed first.

        ``prepared`` = (messages, meta, cache key) already built by a bulk cache lookup that missed.
        """
        key = None
        if prepared is not None:
            messages, meta, key = prepared
        else:
            messages, meta = self._score_parts(task)
        return await self.ask(task, messages, SCORE_SCHEMA, "criterion_score", SCORE_PROMPT_VERSION,
                              parse_score, meta, first, first_key=key)

    async def pair(self, task: PairTask) -> Outcome:
        """Ask which response is better in the task's order; the value names the winning model field."""
        a, b = strip_reasoning(task.response_a), strip_reasoning(task.response_b)
        shown = (a, b) if task.order == "ab" else (b, a)
        messages = pairwise_messages(task.query, shown[0], shown[1], list(task.criteria) or None)
        meta = {"kind": "pairwise", "index": task.index, "model_a": task.model_a, "model_b": task.model_b,
                "order": task.order}
        outcome = await self.ask(task, messages, PAIRWISE_SCHEMA, "pairwise_choice", PAIRWISE_PROMPT_VERSION,
                                 parse_pairwise, meta)
        if outcome.ok:
            first_shown, second_shown = ("model_a", "model_b") if task.order == "ab" else ("model_b", "model_a")
            outcome.value = {"A": first_shown, "B": second_shown, "tie": "tie"}[str(outcome.value)]
        return outcome

    # ------------------------------------------------------------------ batches
    async def _run(self, tasks: Sequence[ScoreTask | PairTask | AskTask]) -> list[Outcome]:
        progress = self._progress = Progress(len(tasks), label=self.label, model=self.backend.model,
                                             price=self.price, enabled=self.show_progress)
        results: list[Outcome | None] = [None] * len(tasks)
        pending: list[int] = []
        firsts: dict[int, tuple[Completion, bool]] = {}
        prepared: dict[int, tuple[list[dict[str, str]], dict[str, Any], str]] = {}
        # Fast path: look up every task's first call in one batch; a valid cached answer needs no coroutine.
        score_tasks = {i: t for i, t in enumerate(tasks) if isinstance(t, ScoreTask)}
        if self.cache is not None and score_tasks:
            keys = {}
            for i, score_task in score_tasks.items():
                messages, meta = self._score_parts(score_task)
                keys[i] = self._key(self._request(messages, SCORE_SCHEMA, "criterion_score", meta),
                                    SCORE_PROMPT_VERSION)
                prepared[i] = (messages, meta, keys[i])
            hits = self.cache.get_many(keys.values())
            for i, key in keys.items():
                hit = hits.get(key)
                if hit is None:
                    continue
                del prepared[i]
                try:
                    value, reason = parse_score(hit.text)
                except ParseError:
                    firsts[i] = (hit, True)
                    continue
                results[i] = Outcome(task=tasks[i], value=value, reason=reason, raw=[hit.text], cached=True)
                progress.task_done(ok=True, cached=True)
        pending = [i for i, r in enumerate(results) if r is None]

        async def run_one(i: int) -> None:
            task = tasks[i]
            if isinstance(task, ScoreTask):
                out = await self.score(task, firsts.get(i), prepared.get(i))
            elif isinstance(task, AskTask):
                meta = {"kind": task.label, "index": task.index, "model": task.model, **task.meta}
                out = await self.ask(task, [dict(m) for m in task.messages], task.schema, task.schema_name,
                                     task.version, task.parse, meta)
            else:
                out = await self.pair(task)
            results[i] = out
            progress.task_done(ok=out.ok, cached=out.cached)

        try:
            await asyncio.gather(*(run_one(i) for i in pending))
        finally:
            progress.close()
            await self.backend.aclose()
            self._progress = None
        return [r for r in results if r is not None]

    def run(self, tasks: Sequence[ScoreTask | PairTask | AskTask]) -> list[Outcome]:
        """Run all tasks (scoring and/or pairwise) and return outcomes in task order."""
        return asyncio.run(self._run(list(tasks)))

    def run_scores(self, tasks: Sequence[ScoreTask]) -> list[Outcome]:
        """Alias of :meth:`run` for scoring tasks."""
        return self.run(tasks)


def _describe(exc: BaseException | None) -> str:
    if exc is None:
        return "unknown error"
    if isinstance(exc, asyncio.TimeoutError | TimeoutError):
        return "timed out"
    full = redact(str(exc)).strip()  # before cutting, so no key is left half-masked
    text = full.splitlines()[0] if full else ""
    return f"{type(exc).__name__}: {text[:300]}" if text else type(exc).__name__
