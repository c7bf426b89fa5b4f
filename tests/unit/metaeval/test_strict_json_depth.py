"""The nesting walk is skipped only where it cannot find anything: a line with at most 64
opening brackets cannot nest 65 deep."""

from __future__ import annotations

import pytest

from metaeval.io import InputFileError, iter_jsonl
from metaeval.strict_json import StrictJSONError, loads_line


def _nested(lists: int) -> str:
    # the object is level 1, each list one more: 63 lists -> 64 levels (the limit), 64 -> 65
    return '{"a": ' + "[" * lists + "]" * lists + "}"


def _depth(value) -> int:
    return 1 + max((_depth(v) for v in (value.values() if isinstance(value, dict) else value)), default=0) \
        if isinstance(value, dict | list) else 0


@pytest.mark.parametrize("shallow", [None, False])
def test_sixty_four_levels_pass(shallow):
    text = _nested(63)  # 64 opening brackets: the walk is skipped unless told the line is deep
    assert _depth(loads_line(text, shallow=shallow)) == 64


def test_sixty_five_levels_fail_on_every_path(tmp_path):
    text = _nested(64)  # 65 opening brackets: more than 64, so the walk runs
    with pytest.raises(StrictJSONError, match="deeper than 64"):
        loads_line(text)
    p = tmp_path / "a.jsonl"
    p.write_text('{"a": 1}\n' + text + "\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="line 2.*deeper than 64"):
        list(iter_jsonl(p))


def test_brackets_inside_strings_only_make_the_walk_run(tmp_path):
    text = '{"a": "' + "[" * 100 + '", "b": [[1]]}'
    assert loads_line(text) == {"a": "[" * 100, "b": [[1]]}
