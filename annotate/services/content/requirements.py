"""Find a query's requirements and which criteria mention them (plain text matching).

A *requirement* is a sentence of the instruction that states a constraint (``must``,
``no more than``, a number, ``请``/``要求``/``不超过`` ...). A criterion *covers* a
requirement when they share at least two keywords, or one number (``250`` in "no longer
than 250 words" and in "stays within the 250-word limit"), or a topic: a length, format,
perspective, audience or style requirement is covered by a criterion that says it checks length,
format, perspective, audience or style ("respect every constraint on length and format").
Reference material pasted after the instruction ("Reference material:" ...) is not read. Keywords are lower-cased Latin
words of four or more letters without common stop words (crudely stemmed), numbers, and
Chinese character pairs. This is a reading aid for auditors, not a statistic.

Example:
    >>> reqs = requirements("Write an abstract. It must be under 250 words. Mention the budget.")
    >>> [r.text for r in reqs]
    ['It must be under 250 words.', 'Mention the budget.']
    >>> covers("Word limit", "Stays within the 250-word limit", reqs[0].text)
    True
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

# A sentence ends at CJK/; punctuation, a newline, or . ! ? followed by a space and not by a
# lower-case letter, digit or bracket (so "3.5", "e.g. a" and "(pop. 11,400)" stay whole).
# The first alternative takes a whole run of ordinary characters per repetition (not one
# character each), so the matcher's work stays linear on long runs; the matches are the same.
_SENTENCE = re.compile(r"(?:[^.!?。！？；;\n]+|[.!?](?=[^\s.!?])|[.!?]\s+(?=[a-z0-9(]))+[.!?。！？；;]?")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]{3,}")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
_CUES_EN = re.compile(
    r"\b(must|should|need|needs|required?|requirements?|include|including|mention|avoid|do not|don't|"
    r"no more than|no longer than|at least|at most|within|limit|ensure|make sure|please|use|keep|"
    r"format|tone|style|words?|paragraphs?|sections?|bullet|title|audience|length)\b", re.IGNORECASE)
_CUES_ZH = re.compile(r"要求|需要|必须|应该|应当|请|不超过|不少于|字|包括|包含|避免|不要|不得|确保|格式|语气|风格|段")
_STOP = {"this", "that", "with", "from", "have", "will", "your", "their", "there", "which", "about", "should",
         "must", "would", "could", "into", "than", "then", "them", "they", "what", "when", "where", "while",
         "whether", "each", "also", "more", "most", "some", "such", "only", "other", "very", "well", "being",
         "been", "does", "make", "sure", "please", "write", "response", "responses", "text", "content", "clear",
         "clearly", "good", "appropriate", "overall", "quality", "score", "provide", "provided", "include",
         "includes", "including", "using", "used", "user", "users", "need", "needs", "required", "requirement",
         "requirements", "ensure", "criteria", "criterion", "fully", "completely", "whole", "within"}
MAX_REQUIREMENTS = 15
# Possessive runs (``*+``) and a digit run that starts only at its first digit keep these linear on
# long runs of blanks or digits (the same matches as without them).
# Reference material pasted into a query starts at a line like "Reference material:" / "参考资料："; its
# sentences (fund numbers, a bio, keywords) are not requirements of the instruction.
_MATERIAL_START = re.compile(
    r"^[ \t]*+(?:#++[ \t]*+)?(?:\*\*)?(?:reference|background|source|supporting|attached|provided)?[ \t]*+"
    r"(?:materials?|documents?|information|notes|data)(?:\*\*)?[ \t]*[:：]"
    r"|^[ \t]*(?:参考资料|参考材料|背景资料|背景材料|相关资料|附件|材料)[ \t]*[:：]",
    re.IGNORECASE | re.MULTILINE)
# What a requirement is about, and the words by which a criterion says it checks that (either language).
_TOPICS: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] = {
    "length": (re.compile(r"\b(?:\d+[ -]?(?:words?|characters?|pages?|sentences?)|no (?:longer|more) than|"
                          r"at (?:most|least) \d+|word (?:count|limit)|length)\b|(?<!\d)\d++\s*+字|字数|篇幅|不超过|不少于",
                          re.IGNORECASE),
               re.compile(r"\blength\b|word (?:count|limit)|篇幅|字数|长度", re.IGNORECASE)),
    "format": (re.compile(r"\b(?:format|bullet(?: points?)?|single paragraph|paragraphs?|headings?|table|"
                          r"numbered|sections?)\b|格式|段落|分段|标题|表格|分点", re.IGNORECASE),
               re.compile(r"\bformat(?:ting)?\b|\blayout\b|格式", re.IGNORECASE)),
    "perspective": (re.compile(r"\b(?:first|second|third)[ -]person\b|第[一二三]人称", re.IGNORECASE),
                    re.compile(r"\bperspective\b|point of view|视角|人称", re.IGNORECASE)),
    "audience": (re.compile(r"\baudience\b|\breaders?\b|受众|读者", re.IGNORECASE),
                 re.compile(r"\baudience\b|受众|读者", re.IGNORECASE)),
    "style": (re.compile(r"\b(?:tone|style|formal|informal)\b|语气|风格|正式", re.IGNORECASE),
              re.compile(r"\b(?:tone|style)\b|语气|风格", re.IGNORECASE)),
}


@dataclass(frozen=True)
class Requirement:
    """A requirement sentence with its character span in the instruction."""

    number: int
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Segment:
    """A piece of the instruction; ``criteria`` names the criteria that cover it (empty: plain)."""

    text: str
    criteria: tuple[str, ...] = field(default=())


def _stem(word: str) -> str:
    w = word.lower().strip("'-")
    for suffix in ("ings", "ing", "ies", "ed", "es", "s"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 4:
            return w[: -len(suffix)]
    return w


def keywords(text: str) -> set[str]:
    """Keywords of ``text``: stemmed words, numbers and Chinese character pairs.

    Example:
        >>> sorted(keywords("Mentions the budgets, 250 words; 预算"))
        ['250', 'budget', 'mention', 'word', '预算']
    """
    out = {_stem(w) for w in _WORD.findall(text) if w.lower() not in _STOP}
    out = {w for w in out if w not in _STOP and len(w) >= 4}
    out |= {n.replace(",", "") for n in _NUMBER.findall(text)}
    for run in _CJK_RUN.findall(text):
        out |= {run[i:i + 2] for i in range(len(run) - 1)}
    return out


def topics(requirement: str, criterion: str) -> set[str]:
    """The topics (length, format, perspective, audience, style) the requirement states and the criterion checks.

    Example:
        >>> sorted(topics("No longer than 250 words, no bullet points.", "Respect every constraint on length and format"))
        ['format', 'length']
    """
    return {t for t, (req, crit) in _TOPICS.items() if req.search(requirement) and crit.search(criterion)}


def covers(name: str, description: str, requirement: str) -> bool:
    """Whether a criterion (name, description) mentions the requirement (see module docstring)."""
    shared = keywords(f"{name} {description}") & keywords(requirement)
    return len(shared) >= 2 or any(s[0].isdigit() for s in shared) or bool(topics(requirement, f"{name} {description}"))


def instruction_part(text: str) -> str:
    """``text`` up to the reference material pasted into it (a line like "Reference material:"), if any.

    Example:
        >>> instruction_part("Write a summary.\\n\\nReference material:\\nFund no. 12-345.")
        'Write a summary.\\n\\n'
    """
    m = _MATERIAL_START.search(text)
    return text if m is None else text[:m.start()]


def _sentences(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in _SENTENCE.finditer(text) if m.group().strip()]


def requirements(text: str) -> list[Requirement]:
    """The requirement sentences of an instruction, in order (at most 15); reference material pasted
    after the instruction (see :func:`instruction_part`) is not read."""
    out: list[Requirement] = []
    text = instruction_part(text)
    for start, end in _sentences(text):
        sentence = text[start:end]
        stripped = sentence.strip()
        if len(stripped) < 4:
            continue
        if _CUES_EN.search(sentence) or _CUES_ZH.search(sentence) or _NUMBER.search(sentence):
            lead = len(sentence) - len(sentence.lstrip())
            out.append(Requirement(len(out) + 1, stripped, start + lead, start + lead + len(stripped)))
        if len(out) >= MAX_REQUIREMENTS:
            break
    return out


def coverage(reqs: Sequence[Requirement], criteria: Sequence[tuple[str, str]]) -> list[tuple[str, ...]]:
    """For each requirement, the names of the criteria (name, description) that cover it."""
    crit_kw = [(name, keywords(f"{name} {desc}")) for name, desc in criteria]
    out = []
    for req in reqs:
        rk = keywords(req.text)
        out.append(tuple(name for (name, ck), (_n, desc) in zip(crit_kw, criteria, strict=True)
                         if len(ck & rk) >= 2 or any(s[0].isdigit() for s in ck & rk)
                         or topics(req.text, f"{name} {desc}")))
    return out


def highlight(text: str, criteria: Sequence[tuple[str, str]]) -> list[Segment]:
    """Split ``text`` into segments; requirement sentences covered by a criterion carry its names.

    Example:
        >>> segs = highlight("Intro. Keep it under 200 words.", [("Length", "At most 200 words")])
        >>> [(s.text, s.criteria) for s in segs]
        [('Intro. ', ()), ('Keep it under 200 words.', ('Length',))]
    """
    reqs = requirements(text)
    cov = coverage(reqs, criteria)
    segments: list[Segment] = []
    pos = 0
    for req, names in zip(reqs, cov, strict=True):
        if not names:
            continue
        if req.start > pos:
            segments.append(Segment(text[pos:req.start]))
        segments.append(Segment(text[req.start:req.end], names))
        pos = req.end
    if pos < len(text):
        segments.append(Segment(text[pos:]))
    return segments
