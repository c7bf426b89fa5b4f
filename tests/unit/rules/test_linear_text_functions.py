"""Every function that runs a regular expression (or a scan) over user text is linear.

Why: the paragraph splitter's ``_PARA_SEP`` and ``plain_label``'s line-break regex
were once quadratic on ``"a" + spaces + "b"`` (a 300 KB upload froze every user for 73 s). For
each function below, each adversarial family of inputs (long whitespace runs, unmatched
fences and backtick runs, backslash runs, nested repeats, ...) is run at 100 KB and 1 MB
and the ratio of the CPU times must stay at most 20 (a linear function gives about 10, a quadratic
one about 100). No absolute time is asserted.

Each measurement runs in a forked child so that a quadratic function cannot hang the
suite: the child times a ladder of sizes (1 KB, 10 KB, 100 KB, 1 MB) and the parent waits
for each step at most ``STEP_PATIENCE`` times the previous step's wall time (at least 5 s);
a step that takes longer is itself a ratio far above 20 and fails.
"""

from __future__ import annotations

import html
import math
import multiprocessing
import random
import time
from collections.abc import Callable

import pytest

from annotate.services.content.imports import detect_language as import_language
from annotate.services.content.requirements import highlight, keywords, requirements
from annotate.services.refine.splitter import propose_split, segment_paragraphs
from annotate.services.refine.uploads import detect_encoding, normalise_text, reflow_lines
from annotate.services.refine.versions import estimate_tokens
from annotate.ui.kit.panes import demote_headings, pane_markdown
from annotate.ui.kit.safe_html import markdown_to_safe_html
from annotate.ui.kit.safe_markdown import plain_label, to_safe_markdown
from annotate.ui.kit.sanitize import sanitize_html
from metaeval.criteria.language import detect_language as criteria_language
from metaeval.judges.output import safe_name
from metaeval.judges.parsing import ParseError, extract_json_object
from metaeval.judges.robustness import paragraphs
from metaeval.redact import redact
from metaeval.strict_json import StrictJSONError, loads_line

SIZES = (1_000, 10_000, 100_000, 1_000_000)
MAX_RATIO = 20.0
STEP_PATIENCE = 40.0
REPEATS = 3
FLOOR_S = 0.002  # a baseline below 2 ms counts as 2 ms (timer noise on a busy machine)


def _repeat(unit: str, size: int, head: str = "", tail: str = "") -> str:
    body = (unit * (size // max(1, len(unit)) + 1))[: max(0, size - len(head) - len(tail))]
    return head + body + tail


def _ticks(size: int) -> str:
    """Backtick runs of lengths 1, 2, 3, ... on one line: no run ever closes."""
    out, k, total = [], 1, 0
    while total < size:
        out.append("`" * k + "a")
        total += k + 1
        k += 1
    return "".join(out)[:size]


def _mixed(size: int) -> str:
    rng = random.Random(21)
    bag = [" ", "  ", "\t", "\n", "\r\n", "`", "``", "\\", "<", "$", "![", "](", ":", ".", "a", "##",
           "```", "~~~", "<pre>", "{", "}", "\u3000", "。", "authorization", "bearer "]
    out: list[str] = []
    total = 0
    while total < size:
        piece = rng.choice(bag)
        out.append(piece)
        total += len(piece)
    return "".join(out)[:size]


FAMILIES: dict[str, Callable[[int], str]] = {
    "spaces between letters": lambda n: _repeat(" ", n, "a", "b"),
    "tabs and ideographic spaces": lambda n: _repeat("\t\u3000 \u00a0", n, "a", "b"),
    "newline then spaces": lambda n: _repeat(" ", n, "a\n", "b"),
    "spaces then carriage returns": lambda n: _repeat(" \r", n, "a", "b"),
    "fence then spaces": lambda n: _repeat(" ", n, "```json", "x"),
    "backslash run": lambda n: _repeat("\\", n, "a", "a"),
    "unclosed backtick runs": _ticks,
    "unclosed pre": lambda n: _repeat("<pre>", n),
    "full stop then spaces": lambda n: _repeat(" ", n, "word.", "A"),
    "sentence repeats": lambda n: _repeat("a. ", n),
    "image and link openers": lambda n: _repeat("![](<", n),
    "header name then spaces": lambda n: _repeat(" ", n, "authorization", "x"),
    "bearer repeats": lambda n: _repeat("bearer ", n),
    "headings": lambda n: _repeat("#", n),
    "lead-in repeats": lambda n: _repeat("text: ", n),
    "mixed specials": _mixed,
    "ampersands and no-break spaces": lambda n: _repeat("&\u00a0", n),
}


def _quiet(function: Callable[[str], object], *errors: type[BaseException]) -> Callable[[str], object]:
    def call(text: str) -> object:
        try:
            return function(text)
        except errors:
            return None
    return call


FUNCTIONS: dict[str, Callable[[str], object]] = {
    "splitter.segment_paragraphs": segment_paragraphs,
    "splitter.propose_split": propose_split,
    "safe_markdown.plain_label": plain_label,
    "safe_markdown.to_safe_markdown": to_safe_markdown.__wrapped__,
    # sanitize_html is given HTML that our renderers escaped (no bare "&"): escape first
    "sanitize.sanitize_html": lambda t: sanitize_html(html.escape(t, quote=False)),
    "safe_html.markdown_to_safe_html": markdown_to_safe_html.__wrapped__,
    "panes.pane_markdown": pane_markdown,
    "panes.demote_headings": demote_headings,
    "requirements.requirements": requirements,
    "requirements.keywords": keywords,
    "requirements.highlight": lambda t: highlight(t, [("Length", "at most 500 words")]),
    "imports.detect_language": import_language,
    "edits.estimate_tokens": estimate_tokens,
    "parsing.extract_json_object": _quiet(extract_json_object, ParseError),
    "robustness.paragraphs": paragraphs,
    "redact.redact": redact,
    "criteria.detect_language": criteria_language,
    "output.safe_name": safe_name,
    "strict_json.loads_line": _quiet(loads_line, StrictJSONError, ValueError),
    "uploads.normalise_text": normalise_text,
    "uploads.reflow_lines": lambda t: reflow_lines(t.split("\n")),
    "uploads.detect_encoding": lambda t: detect_encoding(t.encode("utf-16")),
}


def _ladder(function: Callable[[str], object], family: Callable[[int], str], conn) -> None:  # type: ignore[no-untyped-def]
    for size in SIZES:
        text = family(size)
        best = float("inf")
        for _ in range(REPEATS):
            start = time.process_time()  # CPU time: other processes on a busy machine do not count
            function(text)
            best = min(best, time.process_time() - start)
        conn.send(best)


def _measure(function: Callable[[str], object], family: Callable[[int], str]) -> tuple[float, float]:
    """(seconds at 100 KB, seconds at 1 MB); 1 MB is ``inf`` when a step ran out of patience."""
    context = multiprocessing.get_context("fork")
    parent, child = context.Pipe(duplex=False)
    process = context.Process(target=_ladder, args=(function, family, child), daemon=True)
    process.start()
    times: list[float] = []
    step_wall = 0.0
    try:
        for _ in SIZES:
            # wall-clock patience: 40 times the previous step's wall time (at least 5 s)
            patience = max(5.0, STEP_PATIENCE * step_wall)
            began = time.monotonic()
            if not parent.poll(patience):
                times.extend([math.inf] * (len(SIZES) - len(times)))
                break
            times.append(parent.recv())
            step_wall = time.monotonic() - began
    finally:
        process.kill()
        process.join()
    return times[-2], times[-1]


def _ratio(small: float, large: float) -> float:
    return large / max(small, FLOOR_S) if math.isfinite(large) else math.inf


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_time_grows_linearly_on_adversarial_text(name: str) -> None:
    function = FUNCTIONS[name]
    failures = []
    for family_name, family in FAMILIES.items():
        ratio = _ratio(*_measure(function, family))
        for _ in range(2):  # retries: one slow step on a shared machine is not a quadratic regex
            if ratio <= MAX_RATIO:
                break
            ratio = min(ratio, _ratio(*_measure(function, family)))
        if ratio > MAX_RATIO:
            failures.append(f"{family_name}: 1 MB / 100 KB = {ratio:.0f}")
    assert not failures, f"{name} is not linear: " + "; ".join(failures)
