"""Making and scoring WEval-style requirement-drop groups through the judge engine.

``build``: for each query with at least C checklist requirements, C are picked (seeded), ordered at
random, and variant k (k = 0 .. C-1) keeps the first C - k of them: the instruction is rewritten by an
LLM without the dropped ones (variant 0 is the query itself), and the generator writes one response
per variant. One line per response in WEval's layout: ``prompt``, ``chosen``, ``constraint`` (the C
requirement texts), ``instruction_id_list`` (ids ``r1`` .. ``rC`` of the requirements kept, ``rK``
being ``constraint[K-1]``), ``group`` (the query index) and ``index`` (the query index), plus ``model``
and ``dropped``. A group with any failed call is left out whole (listed in the failures file).

``score``: WEval's way -- the judge scores each response against each requirement in its
``constraint`` list (1-10) and ``score`` is the mean -- or, with a registered criteria method, the method's response
score of the response against the group's full instruction (the line that kept every requirement).

Example:
    >>> requirement_text({"name": "Length", "criteria_description": "At most 200 words."})
    'Length: At most 200 words.'
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from metaeval.generate import generation_messages, parse_text
from metaeval.groups import Group, read_groups
from metaeval.io import InputFileError, iter_jsonl, write_text_atomic
from metaeval.judges.engine import AskTask, JudgeEngine, ScoreTask
from metaeval.judges.output import failure_rows
from metaeval.judges.parsing import ParseError, extract_json_object
from metaeval.types import Criterion

REWRITE_VERSION = "groups-rewrite-v1"
REWRITE_SCHEMA: dict = {"type": "object", "properties": {"instruction": {"type": "string"}},
                        "required": ["instruction"], "additionalProperties": False}
_REWRITE_USER = """\
Below is a writing instruction and a list of requirements it contains. Rewrite the instruction so \
that it no longer asks for the listed requirements, and change nothing else: keep the topic, the \
audience, every other requirement and any reference material word for word where you can.

<instruction>
{query}
</instruction>

Requirements to take out:
{dropped}

Answer with one JSON object and nothing else:
{{"instruction": "<the rewritten instruction>"}}"""
_BANDS = {"1-2": "Ignores the requirement.", "3-4": "Touches the requirement but mostly misses it.",
          "5-6": "Meets the requirement in part.", "7-8": "Meets the requirement with small lapses.",
          "9-10": "Meets the requirement fully."}


def requirement_text(item: Mapping[str, Any]) -> str:
    """A checklist item as one requirement line (name and description)."""
    name, desc = str(item.get("name", "")).strip(), str(item.get("criteria_description", "")).strip()
    return f"{name}: {desc}" if name and desc else name or desc


def parse_rewrite(text: str) -> tuple[str, str]:
    """Validate ``{"instruction": non-empty str}``."""
    value = extract_json_object(text).get("instruction")
    if not isinstance(value, str) or not value.strip():
        raise ParseError("the instruction is missing or empty")
    return value.strip(), ""


def plan_groups(queries: Mapping[str, Mapping[str, Any]], c: int, *, seed: int = 0,
                source: str = "queries") -> list[dict[str, Any]]:
    """For each query with at least ``c`` checklist items: the chosen requirements in drop order."""
    plans = []
    for key in sorted(queries, key=lambda k: (int(k) if k.lstrip("-").isdigit() else 0, k)):
        q = queries[key]
        checklist = q.get("checklist")
        if not isinstance(checklist, list):
            raise InputFileError("missing or not a list", path=source, line=q.get("_line"), field="checklist")
        texts = [requirement_text(x) for x in checklist if isinstance(x, dict)]
        texts = [t for t in texts if t]
        if len(texts) < c:
            continue
        rng = random.Random(f"{seed}:{q['index']}")
        chosen = rng.sample(texts, c)  # in drop order: variant k drops the last k
        plans.append({"query": q, "constraint": chosen})
    return plans


def build_groups(rewriter: JudgeEngine, generator: JudgeEngine, plans: Sequence[dict[str, Any]], *,
                 model: str, output: str | Path) -> dict[str, Any]:
    """Rewrite, generate and write the groups file (and ``OUTPUT.failures.jsonl``) atomically."""
    rewrites: list[AskTask] = []
    for plan in plans:
        q, reqs = plan["query"], plan["constraint"]
        for k in range(1, len(reqs)):
            dropped = "\n".join(f"- {t}" for t in reqs[len(reqs) - k:])
            messages = ({"role": "user", "content": _REWRITE_USER.format(query=str(q["query"]).strip(),
                                                                         dropped=dropped)},)
            rewrites.append(AskTask(index=q["index"], model="", label=f"rewrite-drop-{k}", messages=messages,
                                    parse=parse_rewrite, version=REWRITE_VERSION, schema=REWRITE_SCHEMA,
                                    schema_name="rewrite", meta={"dropped": k}))
    rewritten = {(str(o.task.index), o.task.label): o for o in rewriter.run(rewrites) if isinstance(o.task, AskTask)}
    failures = failure_rows(rewritten.values(), judge=rewriter.backend.name, method="groups-rewrite")
    prompts: dict[tuple[str, int], str] = {}
    for plan in plans:
        q = plan["query"]
        prompts[(str(q["index"]), 0)] = str(q["query"])
        for k in range(1, len(plan["constraint"])):
            o = rewritten[(str(q["index"]), f"rewrite-drop-{k}")]
            if o.ok:
                prompts[(str(q["index"]), k)] = str(o.value)
    gen_tasks = [AskTask(index=plan["query"]["index"], model=model, label=f"generate-drop-{k}",
                         messages=tuple(generation_messages(prompts[(str(plan["query"]["index"]), k)])),
                         parse=parse_text, version="generate-v1", schema=None)
                 for plan in plans for k in range(len(plan["constraint"]))
                 if (str(plan["query"]["index"]), k) in prompts]
    generated = {(str(o.task.index), o.task.label): o for o in generator.run(gen_tasks) if isinstance(o.task, AskTask)}
    failures += failure_rows(generated.values(), judge=generator.backend.name, method="groups-generate")
    lines: list[dict[str, Any]] = []
    n_groups = 0
    for plan in plans:
        q, reqs = plan["query"], plan["constraint"]
        c = len(reqs)
        found = [generated.get((str(q["index"]), f"generate-drop-{k}")) for k in range(c)]
        outs = [o for o in found if o is not None and o.ok]
        if len(outs) < c:
            continue
        n_groups += 1
        for k, o in enumerate(outs):
            lines.append({"prompt": prompts[(str(q["index"]), k)], "chosen": o.value, "constraint": list(reqs),
                          "instruction_id_list": [f"r{i + 1}" for i in range(c - k)], "group": q["index"],
                          "index": q["index"], "model": model, "dropped": k})
    output = Path(output)
    fail_path = output.with_name(output.name + ".failures.jsonl")
    write_text_atomic(output, "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines))
    write_text_atomic(fail_path, "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in failures))
    return {"output": str(output), "groups": n_groups, "responses": len(lines), "skipped_groups": len(plans) - n_groups,
            "n_failures": len(failures), "failures": str(fail_path)}


def read_group_lines(path: str | Path, group_size: int | None) -> tuple[list[Group], dict[int, dict[str, Any]]]:
    """The groups (unscored) and the raw lines of a groups file by line number; located errors."""
    groups = read_groups(path, group_size=group_size, need_score=False)
    objs: dict[int, dict[str, Any]] = {}
    for line, obj in iter_jsonl(path):
        for fld, typ in (("prompt", str), ("chosen", str), ("constraint", list)):
            if (fld != "prompt" or fld in obj) and not isinstance(obj.get(fld), typ):
                raise InputFileError("missing or of the wrong type", path=path, line=line, field=fld)
        objs[line] = obj
    return groups, objs


def response_key(group: Group, line: int) -> tuple[str, str]:
    """The (index, model) key a groups-file response gets in scoring: (group number, ``line<N>``)."""
    return (str(group.number), f"line{line}")


def full_instruction(group: Group, objs: Mapping[int, dict[str, Any]]) -> str:
    """The prompt of the group's line that kept the most requirements (the original instruction);
    empty when the file has no ``prompt`` (WEval's own judge shows only response and requirement)."""
    best = max((objs[ln.line] for ln in group.lines), key=lambda o: len(o["instruction_id_list"]))
    return str(best.get("prompt", ""))


def requirement_tasks(groups: Sequence[Group], objs: Mapping[int, dict[str, Any]]) -> list[ScoreTask]:
    """WEval's scoring: one 1-10 call per (response, requirement of its group)."""
    tasks = []
    for g in groups:
        full = full_instruction(g, objs)
        for ln in g.lines:
            index, model = response_key(g, ln.line)
            for k, req in enumerate(objs[ln.line]["constraint"]):
                crit = Criterion(f"requirement {k + 1}", f"The response meets this requirement: {req}", _BANDS)
                tasks.append(ScoreTask(index=int(index), model=model, criterion=crit, query=full,
                                       response=str(objs[ln.line]["chosen"])))
    return tasks
