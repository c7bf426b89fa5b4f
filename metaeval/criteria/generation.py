"""Query-dependent criteria written by an LLM, following WritingBench's method.

The judge reads the query (with its domain and subdomain when known) and writes five criteria
that weigh the query's own requirements -- purpose, style, format, length, use of supplied
material -- each with a description and five score bands. The answer must match
:data:`metaeval.criteria.schema.CRITERIA_OBJECT_SCHEMA`; an answer that does not is shown back to
the model with the problem and regenerated, up to the engine's ``max_invalid`` answers.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from typing import Any

from metaeval.criteria.language import detect_language
from metaeval.criteria.schema import CRITERIA_OBJECT_SCHEMA, CriteriaError, validate_criteria
from metaeval.judges.engine import JudgeEngine, Outcome
from metaeval.judges.parsing import ParseError, strip_reasoning
from metaeval.judges.progress import Progress
from metaeval.types import Criterion

GENERATION_PROMPT_VERSION = "criteria-gen-v1"

_SYSTEM = (
    "You design grading rubrics for professional writing tasks. A good rubric is specific to the "
    "task in front of you: it turns the requester's explicit and implied needs into checks that two "
    "independent graders would apply the same way."
)

_USER = """\
Write the grading rubric for the writing task below.

Domain: {domain1}
Subdomain: {domain2}

<task>
{query}
</task>

Produce exactly five criteria. Together they should cover what matters most for this particular \
task: whether the response does what was asked, respects any stated style, tone, format and \
length, makes correct use of supplied material, and reaches the quality a professional in this \
field would expect. Avoid generic criteria that would fit any task, and do not let two criteria \
check the same thing.

For each criterion give:
- "name": a short title;
- "criteria_description": what the criterion examines and why it matters for this task;
- "1-2", "3-4", "5-6", "7-8", "9-10": what a response scoring in that band looks like, concrete \
enough to place a response without guessing.

Write every field in {language}. Answer with one JSON object and nothing else:
{{"criteria": [{{"name": "...", "criteria_description": "...", "1-2": "...", "3-4": "...", \
"5-6": "...", "7-8": "...", "9-10": "..."}}, ... five in total]}}"""

_LANG_NAME = {"en": "English", "zh": "Chinese (简体中文)"}


def generation_messages(query: Mapping[str, Any], *, lang: str | None = None) -> list[dict[str, str]]:
    """Messages asking for five criteria for ``query`` (WritingBench layout)."""
    text = str(query["query"])
    lang = lang or detect_language(text)
    user = _USER.format(domain1=query.get("domain1") or "unspecified", domain2=query.get("domain2") or "unspecified",
                        query=text.strip(), language=_LANG_NAME.get(lang, "English"))
    return [{"role": "system", "content": _SYSTEM}, {"role": "user", "content": user}]


def parse_criteria(text: str) -> tuple[list[Criterion], str]:
    """Parse and validate a generated criteria set (object with ``criteria`` or a bare array)."""
    body = strip_reasoning(text)
    start = min((p for p in (body.find("{"), body.find("[")) if p >= 0), default=-1)
    if start < 0:
        raise ParseError("the answer holds no JSON")
    end = max(body.rfind("}"), body.rfind("]"))
    try:
        obj = json.loads(body[start:end + 1])
    except json.JSONDecodeError as exc:
        raise ParseError(f"the answer is not valid JSON ({exc.msg})") from exc
    try:
        return validate_criteria(obj, where="generated criteria"), ""
    except CriteriaError as exc:
        raise ParseError(str(exc)) from exc


def generate_criteria(queries: Sequence[Mapping[str, Any]], engine: JudgeEngine) -> list[Outcome]:
    """Generate five criteria per query; each outcome's ``value`` is a list of Criterion or None."""

    async def main() -> list[Outcome]:
        progress = engine._progress = Progress(len(queries), label=f"criteria {engine.label}",
                                               model=engine.backend.model, enabled=engine.show_progress)

        async def one(query: Mapping[str, Any]) -> Outcome:
            out = await engine.ask(query, generation_messages(query), CRITERIA_OBJECT_SCHEMA, "criteria_set",
                                   GENERATION_PROMPT_VERSION, parse_criteria,
                                   {"kind": "criteria", "index": query.get("index")})
            progress.task_done(ok=out.ok, cached=out.cached)
            return out

        try:
            return list(await asyncio.gather(*(one(q) for q in queries)))
        finally:
            progress.close()
            engine._progress = None
            await engine.backend.aclose()

    return asyncio.run(main())
