"""Tree-of-Writing (HoWToBench, arXiv 2604.19071 §3), registered as the criteria method ``tow``.

Tree: root -> ``content`` (coherence, logic, richness, opening-ending; an LLM scores each 1-10
against a rubric), ``format`` (structure and paragraphing: an LLM gives a step score 0, 5 or 10;
formatting: a rule on headings) and ``impression`` (one LLM 1-10 leaf, the holistic judgment).
A negotiator LLM call per instruction sets the edge weights of the leaves under content and under
format; each weight lies in (-1, 1) and each group sums to 1 -- other answers are refused and asked
again (:func:`parse_weights`). The root is aggregated by :func:`metaeval.criteria.methods.aggregate`:
``root = sum_j (n_j / n) * Score(V_j)`` with n_j leaves under node j (impression counts 1).
A task type without format leaves (:data:`NO_FORMAT_TYPES`, or a query with ``"tow_format": false``)
drops the format node and n is renormalised. Rubrics and prompts are written for this project.

Example:
    >>> formatting_rule({"query": "Write a report with section headings."}, "# Title\\n## Part\\ntext")
    10
    >>> formatting_rule({"query": "Write a report with section headings."}, "# Title\\n### Part\\ntext")
    5
    >>> formatting_rule({"query": "Write a report with section headings."}, "plain text only")
    0
    >>> parse_weights('{"content": {"coherence": 0.4, "logic": 0.3, "richness": 0.2, "opening-ending": 0.1},'
    ...               ' "format": {"structure": 0.5, "paragraphing": 0.3, "formatting": 0.2}}', True)[0]["content/logic"]
    0.3
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from metaeval.criteria.methods import (
    CriteriaMethod,
    CriteriaTree,
    Leaf,
    LLMAsk,
    MethodOptions,
    register_method,
)
from metaeval.judges.parsing import ParseError, extract_json_object
from metaeval.types import Criterion

CONTENT = ("coherence", "logic", "richness", "opening-ending")
FORMAT_LLM = ("structure", "paragraphing")
FORMAT = (*FORMAT_LLM, "formatting")
LEAF_NAMES = (*(f"content/{x}" for x in CONTENT), *(f"format/{x}" for x in FORMAT), "impression")
#: Task types (WritingBench ``domain2``) judged without the format node.
NO_FORMAT_TYPES = frozenset({"Poetry", "Lyrics", "Slogans", "Couplets", "诗歌", "歌词", "标语", "对联"})
NEGOTIATION_VERSION = "tow-negotiate-v1"
STEP_VERSION = "tow-step-v1"
WEIGHT_TOLERANCE = 1e-6


def _bands(low: str, mid_low: str, mid: str, good: str, top: str) -> dict[str, str]:
    return dict(zip(("1-2", "3-4", "5-6", "7-8", "9-10"), (low, mid_low, mid, good, top), strict=True))


RUBRICS: dict[str, Criterion] = {
    "content/coherence": Criterion(
        "content/coherence", "Do sentences and paragraphs connect, so the text reads as one piece?",
        _bands("Disconnected fragments; the reader cannot follow.", "Frequent jumps and missing links.",
               "Mostly connected, with some abrupt shifts.", "Flows well, a few rough joins.",
               "Every part leads naturally to the next.")),
    "content/logic": Criterion(
        "content/logic", "Are claims, steps and events consistent and well reasoned, without contradictions?",
        _bands("Contradictory or nonsensical reasoning.", "Several gaps or contradictions.",
               "Reasoning holds in general but has weak steps.", "Sound reasoning with minor lapses.",
               "Rigorous and consistent throughout.")),
    "content/richness": Criterion(
        "content/richness", "Does the text offer enough substance: detail, examples, ideas, description?",
        _bands("Almost no substance.", "Thin and generic.", "Adequate but unremarkable detail.",
               "Substantial, specific detail.", "Rich, varied and apt detail throughout.")),
    "content/opening-ending": Criterion(
        "content/opening-ending", "Does the opening draw the reader in and the ending close the piece well?",
        _bands("No real opening or ending.", "Weak, abrupt opening or ending.",
               "Serviceable but plain opening and ending.", "Effective opening and ending.",
               "Memorable opening and a satisfying close.")),
    "impression": Criterion(
        "impression", "Your overall impression as a reader: how good is this piece of writing for its task?",
        _bands("Unacceptable.", "Poor.", "Acceptable.", "Good.", "Excellent.")),
}

STEP_RUBRICS: dict[str, str] = {
    "format/structure": ("Is the overall organisation (sections, plot or argument order) right for the task? "
                         "10: fitting and clear; 5: usable but with misplaced or missing parts; 0: no "
                         "recognisable organisation, or one unsuited to the task."),
    "format/paragraphing": ("Are paragraphs of a suitable length and is content spread sensibly across them? "
                            "10: well divided; 5: some paragraphs too long, too short or overloaded; 0: a wall "
                            "of text or a split that hinders reading."),
}

_STEP_SYSTEM = "You check the form of a piece of writing for an editor. You answer with 0, 5 or 10 only."
_STEP_USER = """\
Check one aspect of the form of the response below.

<task>
{query}
</task>

<response>
{response}
</response>

Aspect: {name}
{rubric}

Answer with one JSON object and nothing else:
{{"score": 0 | 5 | 10, "reason": "<what you saw>"}}"""

_NEGOTIATE_SYSTEM = ("You plan how a writing task should be graded. You decide how much each aspect matters "
                     "for this particular task, its genre and its requirements.")
_NEGOTIATE_USER = """\
Read the writing task below and decide the weight of each grading aspect.

<task>
{query}
</task>

Content aspects: coherence (parts connect), logic (sound, consistent reasoning), richness (substance \
and detail), opening-ending (how the piece starts and closes).
{format_block}
Give each aspect a weight strictly between -1 and 1; the weights of each group must add up to exactly 1.

Answer with one JSON object and nothing else:
{answer}"""
_FORMAT_BLOCK = ("Format aspects: structure (organisation suits the task), paragraphing (sensible paragraphs), "
                 "formatting (headings used where asked, levels nested properly).\n")

STEP_SCHEMA: dict = {
    "type": "object",
    "properties": {"score": {"type": "integer", "enum": [0, 5, 10]}, "reason": {"type": "string"}},
    "required": ["score", "reason"], "additionalProperties": False,
}


def _group_schema(names: tuple[str, ...]) -> dict:
    return {"type": "object", "properties": {n: {"type": "number"} for n in names}, "required": list(names),
            "additionalProperties": False}


NEGOTIATION_SCHEMA: dict = {
    "type": "object",
    "properties": {"content": _group_schema(CONTENT), "format": _group_schema(FORMAT)},
    "required": ["content", "format"], "additionalProperties": False,
}
NEGOTIATION_SCHEMA_NO_FORMAT: dict = {
    "type": "object", "properties": {"content": _group_schema(CONTENT)}, "required": ["content"],
    "additionalProperties": False,
}


def has_format(query: Mapping[str, Any]) -> bool:
    """Whether the query's task type is judged with the format node."""
    flag = query.get("tow_format")
    if isinstance(flag, bool):
        return flag
    return str(query.get("domain2", "")) not in NO_FORMAT_TYPES


_HEADING_ASKED = re.compile(r"\b(headings?|headers?|sections?|subheadings?|titled?|titles?)\b|标题|小节|章节",
                            re.IGNORECASE)
_MD_HEADING = re.compile(r"^(#{1,6})\s+\S", re.MULTILINE)


def heading_levels(text: str) -> list[int]:
    """Markdown ATX heading levels in order (``# A`` -> 1).

    >>> heading_levels("# A\\ntext\\n## B\\n#### C")
    [1, 2, 4]
    """
    return [len(m.group(1)) for m in _MD_HEADING.finditer(text)]


def formatting_rule(query: Mapping[str, Any], response: str) -> int:
    """The ``format/formatting`` step score: 0 when the instruction asks for headings and the response
    has none; 5 when a heading level skips (a level deeper than one below the previous heading, or a
    first heading deeper than the shallowest one used); 10 otherwise."""
    levels = heading_levels(response)
    if not levels:
        return 0 if _HEADING_ASKED.search(str(query.get("query", ""))) else 10
    top = min(levels)
    if levels[0] != top:
        return 5
    for prev, cur in zip(levels, levels[1:], strict=False):
        if cur > prev + 1:
            return 5
    return 10


def parse_step(text: str) -> tuple[int, str]:
    """Validate ``{"score": 0|5|10, "reason": str}``.

    >>> parse_step('{"score": 5, "reason": "long paragraphs"}')
    (5, 'long paragraphs')
    """
    obj = extract_json_object(text)
    score = obj.get("score")
    if isinstance(score, bool) or not isinstance(score, int | float) or float(score) not in (0.0, 5.0, 10.0):
        raise ParseError(f"the score {score!r} is not 0, 5 or 10")
    reason = obj.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise ParseError("the reason is missing or empty")
    return int(score), reason.strip()


def parse_weights(text: str, with_format: bool) -> tuple[dict[str, float], str]:
    """Validate the negotiator's answer; returns ({leaf name: weight}, raw JSON) or raises ParseError.

    Each weight must be a number in (-1, 1); each group must sum to 1 (within 1e-6).
    """
    obj = extract_json_object(text)
    groups = [("content", CONTENT)] + ([("format", FORMAT)] if with_format else [])
    out: dict[str, float] = {}
    for node, names in groups:
        part = obj.get(node)
        if not isinstance(part, dict):
            raise ParseError(f"the {node!r} weights are missing")
        missing = [n for n in names if n not in part]
        if missing:
            raise ParseError(f"the {node!r} weights lack {missing}")
        total = 0.0
        for name in names:
            w = part[name]
            if isinstance(w, bool) or not isinstance(w, int | float) or not math.isfinite(float(w)):
                raise ParseError(f"weight {node}/{name} is not a number")
            if not -1.0 < float(w) < 1.0:
                raise ParseError(f"weight {node}/{name} = {w} is outside (-1, 1)")
            out[f"{node}/{name}"] = float(w)
            total += float(w)
        if abs(total - 1.0) > WEIGHT_TOLERANCE:
            raise ParseError(f"the {node!r} weights sum to {total:g}, not 1")
    return out, json.dumps(obj, sort_keys=True)


def negotiation_messages(query: str, with_format: bool, trial: int = 1) -> list[dict[str, str]]:
    """The negotiator's messages; trials after the first carry a trial marker (so they are new calls)."""
    example: dict[str, Any] = {"content": {n: "<w>" for n in CONTENT}}
    if with_format:
        example["format"] = {n: "<w>" for n in FORMAT}
    user = _NEGOTIATE_USER.format(query=query.strip(), format_block=_FORMAT_BLOCK if with_format else "",
                                  answer=json.dumps(example).replace('"<w>"', "<weight>"))
    if trial > 1:
        user += f"\n\n(Independent planning run {trial}.)"
    return [{"role": "system", "content": _NEGOTIATE_SYSTEM}, {"role": "user", "content": user}]


def step_messages(query: str, response: str, leaf: str) -> list[dict[str, str]]:
    """Messages asking for one format leaf's step score."""
    user = _STEP_USER.format(query=query.strip(), response=response.strip(), name=leaf.split("/")[-1],
                             rubric=STEP_RUBRICS[leaf])
    return [{"role": "system", "content": _STEP_SYSTEM}, {"role": "user", "content": user}]


class TreeOfWriting(CriteriaMethod):
    """The ``tow`` method: content / format / impression with negotiated leaf weights."""

    name = "tow"
    description = "Tree-of-Writing: content, format and impression nodes with negotiated leaf weights"
    negotiated = True

    def tree(self, query: Mapping[str, Any], *, options: MethodOptions, where: str) -> CriteriaTree:
        leaves = [Leaf(f"content/{x}", RUBRICS[f"content/{x}"], "llm") for x in CONTENT]
        groups: list[tuple[str, tuple[str, ...]]] = [("content", tuple(f"content/{x}" for x in CONTENT))]
        if has_format(query):
            leaves += [Leaf(f"format/{x}", None, "llm-step", note=STEP_RUBRICS[f"format/{x}"]) for x in FORMAT_LLM]
            leaves.append(Leaf("format/formatting", None, "rule", formatting_rule,
                               note="Headings where the instruction asks for them; heading levels nest without "
                                    "skipping a level."))
            groups.append(("format", tuple(f"format/{x}" for x in FORMAT)))
        leaves.append(Leaf("impression", RUBRICS["impression"], "llm"))
        groups.append(("impression", ("impression",)))
        return CriteriaTree(leaves=tuple(leaves), groups=tuple(groups))

    def negotiation(self, query: Mapping[str, Any], tree: CriteriaTree, trial: int) -> LLMAsk:
        with_format = any(node == "format" for node, _ in tree.groups)
        return LLMAsk(messages=tuple(negotiation_messages(str(query["query"]), with_format, trial)),
                      parse=lambda text: parse_weights(text, with_format), version=NEGOTIATION_VERSION,
                      schema=NEGOTIATION_SCHEMA if with_format else NEGOTIATION_SCHEMA_NO_FORMAT,
                      schema_name="tow_weights")

    def step_request(self, query: Mapping[str, Any], response: str, leaf: Leaf) -> LLMAsk:
        return LLMAsk(messages=tuple(step_messages(str(query["query"]), response, leaf.name)), parse=parse_step,
                      version=STEP_VERSION, schema=STEP_SCHEMA, schema_name="step_score")


register_method(TreeOfWriting())
