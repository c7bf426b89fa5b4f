"""Parsing and validating judge answers: nothing is ever defaulted."""

from __future__ import annotations

import pytest

from metaeval.judges.parsing import ParseError, parse_pairwise, parse_score, strip_reasoning


@pytest.mark.parametrize("text, expected", [
    ('{"score": 7, "reason": "Good structure."}', (7, "Good structure.")),
    ('<think>I think {"score": 2}</think>\n{"score": 9, "reason": "Vivid."}', (9, "Vivid.")),
    ('```json\n{"score": 1, "reason": "Off topic."}\n```', (1, "Off topic.")),
    ('Here is my verdict: {"score": 10, "reason": "Flawless."} Thanks!', (10, "Flawless.")),
    ('{"score": 6.0, "reason": "ok"}', (6, "ok")),  # integral float
    ('{"reason": "  padded  ", "score": 3}', (3, "padded")),
])
def test_valid_answers(text, expected):
    assert parse_score(text) == expected


@pytest.mark.parametrize("text, message", [
    ('{"score": 11, "reason": "x"}', "outside 1-10"),
    ('{"score": 0, "reason": "x"}', "outside 1-10"),
    ('{"score": 7.5, "reason": "x"}', "not a whole number"),
    ('{"score": "7", "reason": "x"}', "not a whole number"),
    ('{"score": true, "reason": "x"}', "not a whole number"),
    ('{"score": 7}', "reason is missing"),
    ('{"score": 7, "reason": "   "}', "reason is missing"),
    ('{"reason": "no score"}', "score is missing"),
    ('{"score": 7, "reason": "cut', "not a JSON object"),
    ("<think>long musing without an answer</think>", "empty"),
    ("[1, 2]", "not a JSON object"),
])
def test_invalid_answers_raise(text, message):
    with pytest.raises(ParseError, match=message):
        parse_score(text)


def test_strip_reasoning_uses_last_closing_tag():
    assert strip_reasoning("<think>a</think>b</think> c ") == "c"
    assert strip_reasoning("  plain ") == "plain"


def test_pairwise_answers():
    assert parse_pairwise('{"winner": "A", "reason": "clearer"}') == ("A", "clearer")
    assert parse_pairwise('{"winner": "TIE", "reason": "same"}') == ("tie", "same")
    with pytest.raises(ParseError, match="not A, B or tie"):
        parse_pairwise('{"winner": "C", "reason": "?"}')
    with pytest.raises(ParseError, match="reason"):
        parse_pairwise('{"winner": "B"}')
