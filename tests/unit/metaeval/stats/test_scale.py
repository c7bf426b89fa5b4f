"""Large inputs: the streamed vote reader and the chunked bootstrap give exactly what the
straightforward paths give; chunking never changes the random stream."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from metaeval.io import InputFileError, read_votes, read_votes_frame
from metaeval.stats import bootstrap, paired
from metaeval.stats.agreement import votes_frame


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _mixed_votes(n: int = 300) -> list[dict]:
    rng = np.random.default_rng(0)
    rows = []
    for i in range(n):
        row = {"question_id": int(rng.integers(0, 30)) if i % 2 else str(rng.integers(0, 30)),
               "model_a": str(rng.choice(["zeta", "alpha", "Mid"])), "model_b": "omega",
               "winner": str(rng.choice(["model_a", "model_b", "tie", "tie (bothbad)", " model_a "])),
               "judge": str(rng.choice(["h1", "h2"])) if i % 5 else 7}
        if i % 3 == 0:
            row["order"] = str(rng.choice(["ab", "ba"]))
        if i % 7 == 0:
            row["shown_left"] = "model_b"
        if i % 4 == 0:
            row["domain1"] = "D"
        if i % 11 == 0:
            row["stale"] = True
        if i % 13 == 0:
            row["criterion"] = "clarity"
        if i % 2 == 0:
            row["turn"] = 2
        rows.append(row)
    return rows


@pytest.mark.parametrize("turn", [None, 1, 2])
def test_streamed_frame_equals_the_frame_built_from_vote_objects(tmp_path: Path, turn: int | None) -> None:
    p = _write(tmp_path / "v.jsonl", _mixed_votes())
    expected = votes_frame(read_votes(p))
    if turn is not None:
        expected = votes_frame([v for v in read_votes(p) if dict(v.extra).get("turn", 1) == turn])
    pd.testing.assert_frame_equal(read_votes_frame(p, turn=turn), expected)


def test_streamed_frame_of_plain_votes(tmp_path: Path) -> None:
    # by hand: "z" vs "a" with model_a winning is, on the pair sorted by name (a, z), a win of the second
    p = _write(tmp_path / "v.jsonl", [{"question_id": 4, "model_a": "z", "model_b": "a", "winner": "model_a",
                                       "judge": "h"}])
    f = read_votes_frame(p)
    assert f.loc[0, ["qid", "lo", "hi", "rater"]].tolist() == ["4", "a", "z", "h"]
    assert int(f.loc[0, "outcome"]) == -1 and np.isnan(f.loc[0, "first_lo"]) and f.loc[0, "criterion"] is None


@pytest.mark.parametrize("bad", [
    {"question_id": 1, "model_a": "a", "model_b": "a", "winner": "tie"},
    {"question_id": 1.5, "model_a": "a", "model_b": "b", "winner": "tie"},
    {"question_id": 1, "model_a": "a", "model_b": "b", "winner": ["model_a"]},
    {"question_id": 1, "model_a": "a", "model_b": "b", "winner": "maybe"},
    {"question_id": 1, "model_a": "a", "model_b": "b", "winner": "tie", "judge": True},
    {"model_a": "a", "model_b": "b", "winner": "tie"},
    {"question_id": 1, "model_a": "a", "model_b": "b", "winner": "tie", "stale": 1},
])
def test_streamed_reader_names_file_line_and_field_like_read_votes(tmp_path: Path, bad: dict) -> None:
    p = _write(tmp_path / "v.jsonl", [{"question_id": 0, "model_a": "a", "model_b": "b", "winner": "tie"}, bad])
    with pytest.raises(InputFileError) as want:
        read_votes(p)
    with pytest.raises(InputFileError) as got:
        read_votes_frame(p)
    assert str(got.value) == str(want.value) and got.value.line == 2


def _reference_bootstrap(num: np.ndarray, den: np.ndarray, n_resamples: int, seed: int) -> np.ndarray:
    """Resample clusters one resample at a time with 64-bit draws and sum the drawn rows."""
    rng = np.random.default_rng(seed)
    q = num.shape[0]
    out = np.empty((n_resamples, num.shape[1]))
    for b in range(n_resamples):
        idx = rng.integers(0, q, size=q)
        out[b] = num[idx].sum(axis=0) / den[idx].sum(axis=0)
    return out


def test_chunked_bootstrap_equals_one_resample_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    q = 1001  # odd, and several chunks below
    # sums that are not integers (design weights): each resample draws the clusters themselves
    num = rng.integers(0, 4, size=(q, 3)) * 0.5 + 0.25
    den = num + rng.integers(1, 3, size=(q, 3))
    den[:, 2] = den[:, 1]  # a repeated denominator
    monkeypatch.setattr(bootstrap, "_RATIO_CHUNK_CELLS", 3 * q + 7)
    got = bootstrap.bootstrap_ratio(num, den, n_resamples=10, rng=np.random.default_rng(11))
    np.testing.assert_allclose(got, _reference_bootstrap(num, den, 10, 11), rtol=1e-12)


def test_per_kind_resamples_do_not_depend_on_the_chunk_size(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(4)
    num = rng.integers(0, 3, size=(2000, 2)).astype(float)  # counts: the per-kind path
    den = num + 1
    whole = bootstrap.bootstrap_ratio(num, den, n_resamples=50, rng=np.random.default_rng(2))
    monkeypatch.setattr(bootstrap, "_RATIO_CHUNK_CELLS", 7)  # one resample per chunk
    np.testing.assert_array_equal(bootstrap.bootstrap_ratio(num, den, n_resamples=50, rng=np.random.default_rng(2)),
                                  whole)


def test_sign_flip_in_blocks_equals_one_product(monkeypatch: pytest.MonkeyPatch) -> None:
    d = np.random.default_rng(2).integers(-2, 3, size=(501, 2)) * 0.5 + 0.125  # not integers: one sign per cluster
    whole = paired.sign_flip_test(d, n_permutations=40, rng=np.random.default_rng(5))
    monkeypatch.setattr(paired, "_BLOCK_CELLS", 3 * 501)
    blocks = paired.sign_flip_test(d, n_permutations=40, rng=np.random.default_rng(5))
    # by hand for the reference: the same draws, one product
    rng = np.random.default_rng(5)
    signs = rng.integers(0, 2, size=(40, 501), dtype=np.int8).astype(float) * 2 - 1
    hits = (np.abs(signs @ d) >= np.abs(d.sum(axis=0)) - 1e-9).sum(axis=0)
    np.testing.assert_array_equal(blocks, whole)
    np.testing.assert_array_equal(whole, (1 + hits) / 41)


def test_per_kind_sign_flips_do_not_depend_on_the_chunk_size(monkeypatch: pytest.MonkeyPatch) -> None:
    d = np.random.default_rng(3).integers(-2, 3, size=(3000, 2)).astype(float)
    whole = paired.sign_flip_test(d, n_permutations=60, rng=np.random.default_rng(8))
    monkeypatch.setattr(paired, "_CHUNK_CELLS", 5)
    np.testing.assert_array_equal(paired.sign_flip_test(d, n_permutations=60, rng=np.random.default_rng(8)), whole)
