"""Language of a query: Chinese or English (WritingBench has only these two)."""

from __future__ import annotations

import re

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")
#: Characters at the start of a query taken as its instruction (material usually follows it).
HEAD_CHARS = 300
#: Share of CJK "weight" above which a text counts as Chinese.
THRESHOLD = 0.2


def _cjk_share(text: str) -> float:
    """CJK share of letters, a Chinese character weighted like a 5-letter English word."""
    cjk = len(_CJK.findall(text))
    latin = len(_LATIN.findall(text))
    return cjk * 5 / (cjk * 5 + latin) if cjk + latin else 0.0


def detect_language(text: str) -> str:
    """``"zh"`` when the instruction (first 300 characters) or the whole query is Chinese, else ``"en"``.

    WritingBench's queries often quote material in the other language, so the opening (where the
    request usually is) is checked on its own as well as the whole text. On WritingBench's 1,000
    queries this gives 443 Chinese and 557 English, the published split.

    >>> detect_language("Write a cover letter for a data analyst job")
    'en'
    >>> detect_language("请帮我写一份 machine learning 课程的教学大纲")
    'zh'
    """
    if _cjk_share(text[:HEAD_CHARS]) >= THRESHOLD or _cjk_share(text) >= THRESHOLD:
        return "zh"
    return "en"
