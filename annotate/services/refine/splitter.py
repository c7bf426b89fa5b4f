"""Propose where an imported query's instruction ends and its pasted material begins.

WritingBench queries often carry their reference material inside the query text: a short
instruction, a lead-in such as "可以参考以下范文素材" or "Reference material:", then a long
pasted passage; sometimes the passage comes first and the instruction follows it. This
module only *proposes* a boundary (a character offset into the original text); an expert
confirms or corrects it, and :mod:`annotate.services.refine.materials` records the split.

Nothing is ever dropped: :func:`split_at` returns the instruction, the whitespace
``joiner`` found at the boundary and the material, and::

    instruction + joiner + material == text          # instruction first
    material + joiner + instruction == text          # material first

Paragraph segmentation (:func:`segment_paragraphs`) keeps every separator too, so
``"".join(text + sep for text, sep in segments) == material``.

How a boundary is found, in order:

1. **Lead-in phrase** (``method="marker"``): the earliest phrase from :data:`ZH_MARKERS` or
   :data:`EN_MARKERS` that is followed by at least :data:`MIN_MATERIAL_CHARS` characters;
   the boundary goes after the end of the phrase's clause (the next colon, full stop or
   line break within :data:`CLAUSE_WINDOW` characters).
2. **Layout** (``method="layout"``): in a long text (at least :data:`MIN_LAYOUT_CHARS`),
   a short opening block that reads like a request (see :data:`REQUEST_CUES`) followed by
   a line break and a much longer remainder; or the mirror image, a long passage whose
   last paragraph is a short request (``material_first=True``).
3. Otherwise no proposal (``method="none"``, boundary at the end: all instruction).

Example:
    >>> p = propose_split("请根据以下材料写一篇评论。材料如下：\\n\\n" + "春天来了。" * 60)
    >>> p.method, p.text_before_boundary[-5:]
    ('marker', '材料如下：')
    >>> parts = split_at("Write a summary.\\n\\nHere is the text: ...", 16)
    >>> parts.instruction, repr(parts.joiner), parts.material
    ('Write a summary.', "'\\\\n\\\\n'", 'Here is the text: ...')
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MIN_MATERIAL_CHARS = 200
"""A lead-in must be followed by at least this many characters to count as material."""
MIN_LAYOUT_CHARS = 1500
"""Only texts at least this long are split by layout alone."""
MAX_REQUEST_CHARS = 1500
"""The request block found by layout is at most this long."""
CLAUSE_WINDOW = 80
"""How far after a lead-in phrase the end of its clause is looked for."""
LONG_SEGMENT_CHARS = 1200
"""Paragraphs longer than this are further split at runs of two or more spaces."""

ZH_MARKERS: tuple[str, ...] = (
    "参考以下", "可以参考", "可参考", "请参考", "供参考", "参考文件", "参考素材", "参考资料", "参考材料", "参考案例", "参考文章",
    "参考内容", "参考范文", "参考文本", "参考数据", "参考信息", "素材如下", "材料如下", "资料如下", "内容如下",
    "原文如下", "文章如下", "数据如下", "信息如下", "案例如下", "如下：", "以下是", "以下为", "附件", "原文：",
    "材料：", "素材：", "资料：", "背景材料", "背景资料", "背景信息：",
)
EN_MARKERS: tuple[str, ...] = (
    "reference material", "reference materials", "reference text", "reference document", "reference:",
    "references:", "for reference", "here is", "here are", "below is", "below are", "the following is",
    "the following are", "attached is", "attached are", "source material", "source text", "materials:",
    "material:", "background information:", "background material", "original text:", "text:",
    "document:", "article:", "data:",
)
REQUEST_CUES: tuple[str, ...] = (
    "请", "帮我", "帮忙", "撰写", "写一", "起草", "我想", "please", "write", "draft", "help me",
    "compose", "i need", "i want",
)

_MARKER_RE = re.compile(
    "|".join([re.escape(m) for m in sorted(ZH_MARKERS, key=len, reverse=True)]
             + [r"(?<![A-Za-z])" + re.escape(m) for m in sorted(EN_MARKERS, key=len, reverse=True)]),
    re.IGNORECASE)
_LIST_START = re.compile(r"\s*(?:[-*•]|\d+[.)、）]|[（(]\d+[)）]|[一二三四五六七八九十]+、|#)")
_CLAUSE_END = re.compile(r"[:：。！？!?\n]|\.(?=\s)")
_WS = " \t\r\n\f\v\u3000\u00a0\u2002\u2003\u2009"
_BLANK = r"[ \t\r\f\v\u3000\u00a0\u2002\u2003\u2009]"
# A separator starts only at the first blank of a run (the look-behind): without it every
# blank of a long run with no line break after it is retried to the end of the run, which
# is quadratic ("a" + 300 KB of spaces + "b" took 73 s). The matches are the same.
_PARA_SEP = re.compile(rf"(?<!{_BLANK}){_BLANK}*\n[\s\u3000\u00a0\u2002\u2003\u2009]*")
_SPACE_SEP = re.compile(r"[ \u3000\u00a0\u2002\u2003]{2,}")


@dataclass(frozen=True)
class SplitProposal:
    """A proposed boundary.

    Attributes:
        boundary: character offset into the text where the first part ends.
        material_first: whether the material comes before the instruction.
        method: ``marker``, ``layout`` or ``none``.
        reason: one line saying why, for the expert.
        text_before_boundary: the first part (for display).
    """

    boundary: int
    material_first: bool
    method: str
    reason: str
    text_before_boundary: str


@dataclass(frozen=True)
class SplitParts:
    """The three parts of a split text; see the module docstring for how they rejoin."""

    instruction: str
    joiner: str
    material: str
    material_first: bool

    def rejoin(self) -> str:
        """The original text, byte for byte."""
        if self.material_first:
            return self.material + self.joiner + self.instruction
        return self.instruction + self.joiner + self.material


def _is_request(text: str) -> bool:
    lowered = text.lower()
    return any(cue in lowered for cue in REQUEST_CUES)


def _clause_end(text: str, start: int) -> int:
    """Offset just after the clause that a lead-in starting before ``start`` belongs to."""
    match = _CLAUSE_END.search(text, start, min(len(text), start + CLAUSE_WINDOW))
    return start if match is None else match.end()


def _marker_proposal(text: str) -> SplitProposal | None:
    for match in _MARKER_RE.finditer(text):
        end = _clause_end(text, match.end())
        rest = text[end:].strip(_WS)
        before = text[:match.start()]
        if len(rest) < MIN_MATERIAL_CHARS or not before.strip(_WS):
            continue
        # a lead-in belongs to the request; the passage after it must be the longer part
        if len(rest) < len(text[:end]):
            continue
        return SplitProposal(end, False, "marker",
                             f"lead-in phrase {match.group(0)!r} at character {match.start()}", text[:end])
    return None


def _layout_proposal(text: str) -> SplitProposal | None:
    if len(text) < MIN_LAYOUT_CHARS:
        return None
    breaks = [m for m in _PARA_SEP.finditer(text)]
    for m in breaks:
        head = text[:m.start()]
        if len(head) > MAX_REQUEST_CHARS:
            break
        following = text[m.end():m.end() + 600]
        if head.strip(_WS) and _is_request(head) and len(text) - m.end() >= 2 * len(head) \
                and not _is_request(following) and not _LIST_START.match(following):
            return SplitProposal(m.start(), False, "layout",
                                 f"a request of {len(head)} characters followed by a longer passage",
                                 head)
    if breaks:
        last = breaks[-1]
        tail = text[last.end():]
        if tail.strip(_WS) and len(tail) <= MAX_REQUEST_CHARS and _is_request(tail) \
                and last.start() >= 2 * len(tail):
            return SplitProposal(last.start(), True, "layout",
                                 f"a passage followed by a final request of {len(tail)} characters",
                                 text[:last.start()])
    return None


def propose_split(text: str) -> SplitProposal:
    """Propose an instruction/material boundary for ``text`` (see the module docstring)."""
    proposal = _marker_proposal(text) or _layout_proposal(text)
    if proposal is not None:
        return proposal
    return SplitProposal(len(text), False, "none", "no lead-in phrase or pasted passage found", text)


def split_at(text: str, boundary: int, *, material_first: bool = False) -> SplitParts:
    """Cut ``text`` at ``boundary``; the whitespace around the cut becomes the joiner.

    Raises:
        ValueError: the boundary is outside the text, or one side would be blank.
    """
    if not 0 < boundary < len(text):
        raise ValueError(f"the boundary must be inside the text (1..{len(text) - 1}), got {boundary}")
    first, second = text[:boundary], text[boundary:]
    first_core = first.rstrip(_WS)
    second_core = second.lstrip(_WS)
    if not first_core.strip(_WS) or not second_core.strip(_WS):
        raise ValueError("both the instruction and the material must contain text")
    joiner = first[len(first_core):] + second[:len(second) - len(second_core)]
    if material_first:
        return SplitParts(instruction=second_core, joiner=joiner, material=first_core, material_first=True)
    return SplitParts(instruction=first_core, joiner=joiner, material=second_core, material_first=False)


def segment_paragraphs(text: str) -> list[tuple[str, str]]:
    """Split ``text`` into ``(paragraph, separator)`` pairs that rejoin to ``text`` exactly.

    A separator is a run of whitespace containing a line break; paragraphs longer than
    :data:`LONG_SEGMENT_CHARS` without line breaks (PDF pastes) are further cut at runs of
    two or more spaces. Leading whitespace stays at the start of the first paragraph; the
    trailing whitespace is the last separator.

    Example:
        >>> segment_paragraphs("One.\\n\\nTwo.\\nThree. ")
        [('One.', '\\n\\n'), ('Two.', '\\n'), ('Three.', ' ')]
    """
    if not text:
        return []
    pieces: list[tuple[str, str]] = []
    pos = 0
    for match in _PARA_SEP.finditer(text):
        if match.start() == 0:
            continue  # leading whitespace belongs to the first paragraph
        pieces.append((text[pos:match.start()], match.group(0)))
        pos = match.end()
    if pos < len(text):
        body = text[pos:]
        core = body.rstrip(_WS)
        pieces.append((core, body[len(core):]))
    result: list[tuple[str, str]] = []
    for para, sep in pieces:
        if len(para) <= LONG_SEGMENT_CHARS:
            result.append((para, sep))
            continue
        start = 0
        for match in _SPACE_SEP.finditer(para):
            if match.start() - start >= 200 and match.start() > 0:
                result.append((para[start:match.start()], match.group(0)))
                start = match.end()
        result.append((para[start:], sep))
    # an empty first paragraph can only come from an all-whitespace text
    return [(p, s) for p, s in result if p or s]
