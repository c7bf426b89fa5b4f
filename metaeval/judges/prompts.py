"""Judge prompts (written for this project), versioned so the cache never mixes prompt wordings.

Changing any wording below must change the matching ``*_VERSION``: the version is part of every
cache key, so old answers are not reused for a new prompt.

Example:
    >>> from metaeval.types import Criterion
    >>> c = Criterion("Clarity", "Is the text easy to follow?", {b: b for b in ("1-2", "3-4", "5-6", "7-8", "9-10")})
    >>> msgs = score_messages("Write a haiku.", "Leaves fall...", c)
    >>> [m["role"] for m in msgs], "Clarity" in msgs[1]["content"]
    (['system', 'user'], True)
"""

from __future__ import annotations

from functools import lru_cache

from metaeval.types import BANDS, Criterion

SCORE_PROMPT_VERSION = "score-v1"
PAIRWISE_PROMPT_VERSION = "pairwise-v1"

SCORE_SCHEMA: dict = {
    "type": "object",
    "properties": {
        "score": {"type": "integer", "enum": list(range(1, 11))},
        "reason": {"type": "string"},
    },
    "required": ["score", "reason"],
    "additionalProperties": False,
}

PAIRWISE_SCHEMA: dict = {
    "type": "object",
    "properties": {
        "winner": {"type": "string", "enum": ["A", "B", "tie"]},
        "reason": {"type": "string"},
    },
    "required": ["winner", "reason"],
    "additionalProperties": False,
}

_SCORE_SYSTEM = (
    "You review writing the way an experienced editor in the relevant field would: carefully, "
    "fairly and without being swayed by length or confident tone. You judge one response against "
    "one criterion at a time and back every judgement with concrete evidence from the text."
)

_SCORE_USER = """\
A writer was given the task below and produced the response that follows it. Judge the response \
on the single criterion described at the end, and on nothing else.

<task>
{query}
</task>

<response>
{response}
</response>

Criterion: {name}
What it covers: {description}
How to place the score:
{bands}

Instructions:
- Read the whole response before deciding. Check it against the task's explicit requirements \
that bear on this criterion.
- Choose one whole number from 1 to 10, using the bands above as anchors.
- In the reason, point to specific passages or omissions that justify the score. Write the reason \
in the language of the task.

Answer with one JSON object and nothing else:
{{"score": <integer 1-10>, "reason": "<your justification>"}}"""

_PAIRWISE_SYSTEM = (
    "You compare two responses to the same writing task as a careful, impartial editor. The order in "
    "which the responses are shown says nothing about their quality, and neither does their length."
)

_PAIRWISE_USER = """\
Two writers were given the same task. Decide which response fulfils it better overall, taking \
into account how well each meets the task's requirements{criteria_clause}.

<task>
{query}
</task>

<response_A>
{response_a}
</response_A>

<response_B>
{response_b}
</response_B>
{criteria_block}
Answer with one JSON object and nothing else:
{{"winner": "A" | "B" | "tie", "reason": "<the decisive differences>"}}
Use "tie" only when neither response is clearly better."""

_RETRY_USER = (
    "Your previous answer could not be used: {error}. Reply again with only the JSON object in the "
    "requested form."
)


def format_bands(criterion: Criterion) -> str:
    """The rubric bands as ``- 1-2: ...`` lines (missing bands are skipped)."""
    return _format_bands(tuple((band, criterion.bands.get(band, "")) for band in BANDS))


@lru_cache(maxsize=4096)
def _format_bands(bands: tuple[tuple[str, str], ...]) -> str:
    return "\n".join(f"- {band}: {text}" for band, text in bands if text)


def score_messages(query: str, response: str, criterion: Criterion) -> list[dict[str, str]]:
    """Messages asking for one criterion's score of one response."""
    user = _SCORE_USER.format(query=query.strip(), response=response.strip(), name=criterion.name,
                              description=criterion.description, bands=format_bands(criterion))
    return [{"role": "system", "content": _SCORE_SYSTEM}, {"role": "user", "content": user}]


def pairwise_messages(query: str, response_a: str, response_b: str,
                      criteria: list[Criterion] | None = None) -> list[dict[str, str]]:
    """Messages asking which of two responses is better (optionally with criteria to weigh)."""
    if criteria:
        block = "\nCriteria to weigh:\n" + "\n".join(f"- {c.name}: {c.description}" for c in criteria) + "\n\n"
        clause = " and the criteria listed after the responses"
    else:
        block, clause = "\n", ""
    user = _PAIRWISE_USER.format(query=query.strip(), response_a=response_a.strip(),
                                 response_b=response_b.strip(), criteria_block=block, criteria_clause=clause)
    return [{"role": "system", "content": _PAIRWISE_SYSTEM}, {"role": "user", "content": user}]


def retry_messages(messages: list[dict[str, str]], raw: str, error: str) -> list[dict[str, str]]:
    """The conversation extended with the unusable answer and a request to answer again."""
    return [*messages, {"role": "assistant", "content": raw},
            {"role": "user", "content": _RETRY_USER.format(error=error)}]
