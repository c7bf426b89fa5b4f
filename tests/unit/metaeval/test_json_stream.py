"""The JSON array reader decodes element by element (FastChat judgment files)."""

from __future__ import annotations

import json
import random

import pytest

from metaeval.io import InputFileError
from metaeval.json_stream import iter_json_array


@pytest.mark.parametrize("chunk", [1, 3, 17, 4096])
def test_same_elements_as_json_loads_at_any_chunk_size(tmp_path, chunk) -> None:
    rng = random.Random(7)
    data = [{"question_id": i, "s": "é€😀\\\"" * rng.randint(0, 5), "x": rng.random() * 10 ** rng.randint(0, 30),
             "l": [1, {"z": None, "t": True}], "n": -rng.randint(0, 10**12)} for i in range(300)]
    path = tmp_path / "a.json"
    path.write_text("\ufeff" + json.dumps(data, indent=rng.choice([None, 2])), encoding="utf-8")
    assert [obj for _, obj in iter_json_array(path, chunk_size=chunk)] == json.loads(path.read_text("utf-8-sig"))


def test_reads_only_as_far_as_the_element_it_yields(tmp_path) -> None:
    path = tmp_path / "big.json"
    path.write_text("[" + ",".join(json.dumps({"i": i, "pad": "x" * 100}) for i in range(20_000)) + "]")
    size = path.stat().st_size  # about 2.3 MB
    items = iter_json_array(path, chunk_size=1 << 16)
    assert next(items) == (0, {"i": 0, "pad": "x" * 100})
    # the generator's file is open at most two chunks in: the rest is not read yet
    frame = items.gi_frame
    assert frame is not None and frame.f_locals["handle"].tell() <= 2 * (1 << 16) < size
    items.close()


@pytest.mark.parametrize(("text", "where"), [
    ("", "line 1: expected a JSON array"),
    ('{"a": 1}', "line 1: expected a JSON array"),
    ("[1,\n2,\n", "line 3: invalid JSON: the array is not closed"),
    ('[{"a": 1},\n {"a": ]', "line 2, field '[1]': invalid JSON"),
    ("[1] [2]", "line 1: invalid JSON: text after the array's closing ']'"),
    ("[" * 50_000 + "]" * 50_000, "field '[0]': invalid JSON: nested too deeply"),
])
def test_errors_name_file_line_and_element(tmp_path, text, where) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputFileError) as err:
        list(iter_json_array(path, chunk_size=8))
    assert str(err.value).startswith(f"file {path}") and where in str(err.value), str(err.value)
