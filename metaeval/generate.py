"""Responses made in the tool: one response per query from any backend, through the judge engine.

The query is sent as the only user message, as WritingBench's ``generate_response.py`` does; with
materials, their texts follow the query under a ``Reference material:`` line. Calls go through
:class:`~metaeval.judges.engine.JudgeEngine`, so concurrency, the cache (rerun to resume), retries
and the progress line with cost/ETA are the judges' ones. Output lines are ``{"index", "model",
"response"}`` -- what ``annotate import responses`` and ``metaeval judge --responses`` read.

Example:
    >>> generation_messages("Write a haiku.", ["Season: autumn"])[0]["content"]
    'Write a haiku.\\n\\nReference material:\\nSeason: autumn'
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from metaeval.io import InputFileError, iter_jsonl, write_text_atomic
from metaeval.judges.engine import AskTask, JudgeEngine, Outcome
from metaeval.judges.output import failure_rows
from metaeval.judges.parsing import ParseError, strip_reasoning

GENERATE_VERSION = "generate-v1"


def parse_text(text: str) -> tuple[str, str]:
    """Accept any non-empty answer (the reasoning part of reasoning models is removed).

    >>> parse_text("<think>plan</think> Dear Sir,")
    ('Dear Sir,', '')
    """
    body = strip_reasoning(text)
    if not body:
        raise ParseError("the answer is empty")
    return body, ""


def generation_messages(query: str, materials: Sequence[str] = ()) -> list[dict[str, str]]:
    """The user message for one query (materials appended after the query)."""
    text = query.strip()
    if materials:
        text += "\n\nReference material:\n" + "\n\n".join(m.strip() for m in materials)
    return [{"role": "user", "content": text}]


def read_materials(path: str | Path) -> dict[str, list[str]]:
    """Materials ``{"index", "text"}`` per line (several lines per index allowed), keyed by index as text."""
    out: dict[str, list[str]] = {}
    for line, obj in iter_jsonl(path):
        if "index" not in obj:
            raise InputFileError("missing", path=path, line=line, field="index")
        if not isinstance(obj.get("text"), str):
            raise InputFileError("missing or not a string", path=path, line=line, field="text")
        out.setdefault(str(obj["index"]), []).append(obj["text"])
    return out


def query_materials(query: Mapping[str, Any], source: str) -> list[str]:
    """The ``materials`` field of a query line: a list of strings or of ``{"text": ...}`` objects."""
    raw = query.get("materials", [])
    items = raw if isinstance(raw, list) else [raw]
    out = []
    for k, item in enumerate(items):
        text = item.get("text") if isinstance(item, dict) else item
        if not isinstance(text, str):
            raise InputFileError("expected a string or an object with 'text'", path=source,
                                 line=query.get("_line"), field=f"materials[{k}]")
        out.append(text)
    return out


def generation_tasks(queries: Mapping[str, Mapping[str, Any]], model: str, *, with_materials: bool = False,
                     materials: Mapping[str, Sequence[str]] | None = None, source: str = "queries",
                     prompts: Mapping[str, str] | None = None) -> list[AskTask]:
    """One task per query in index order; ``prompts`` replaces a query's text (rewritten instructions)."""
    tasks = []
    for key in sorted(queries, key=lambda k: (int(k) if k.lstrip("-").isdigit() else 0, k)):
        q = queries[key]
        mats: list[str] = []
        if with_materials:
            mats = list(materials.get(key, ())) if materials is not None else query_materials(q, source)
        text = prompts[key] if prompts is not None else str(q["query"])
        tasks.append(AskTask(index=q["index"], model=model, label="generation", version=GENERATE_VERSION,
                             messages=tuple(generation_messages(text, mats)), parse=parse_text, schema=None))
    return tasks


def response_lines(outcomes: Sequence[Outcome]) -> list[dict[str, Any]]:
    """Valid outcomes as ``{"index", "model", "response"}`` lines."""
    out = []
    for o in outcomes:
        if o.ok and isinstance(o.task, AskTask):
            out.append({"index": o.task.index, "model": o.task.model, "response": o.value})
    return out


def generate(engine: JudgeEngine, tasks: Sequence[AskTask], output: str | Path) -> dict[str, Any]:
    """Run ``tasks`` and write responses (and ``OUTPUT.failures.jsonl``) atomically."""
    outcomes = engine.run(tasks)
    lines = response_lines(outcomes)
    fails = failure_rows(outcomes, judge=engine.backend.name, method="generate")
    output = Path(output)
    fail_path = output.with_name(output.name + ".failures.jsonl")
    write_text_atomic(output, "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines))
    write_text_atomic(fail_path, "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in fails))
    return {"output": str(output), "n_responses": len(lines), "n_failures": len(fails), "failures": str(fail_path)}
