"""The agreement bootstrap on per-query sufficient statistics and the sign-flip test on integer
differences draw per kind of query (multinomial counts of kinds; binomial counts of kept signs)
instead of per query. The draws differ from drawing queries one by one, their distribution does
not: checked against the previous code, kept here as the reference (one draw per query), and
against what the bootstrap variance and the sign-flip p-value are by hand."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from annotate.commands.cli import main as annotate_main
from metaeval.cli import main
from metaeval.stats import agreement_study as study_module
from metaeval.stats import bootstrap
from metaeval.stats.bootstrap import bootstrap_ratio, unique_columns
from metaeval.stats.paired import sign_flip_test


# ------------------------------------------------------------------ the previous code, kept here as the reference
def _old_cluster_weights(n_clusters: int, n_resamples: int, *, rng: np.random.Generator) -> np.ndarray:
    small = n_resamples * n_clusters < 2**31
    idx = rng.integers(0, n_clusters, size=(n_resamples, n_clusters), dtype=np.int32 if small else np.int64)
    idx += (np.arange(n_resamples, dtype=idx.dtype) * n_clusters)[:, None]
    return np.bincount(idx.ravel(), minlength=n_resamples * n_clusters).reshape(n_resamples, n_clusters)


def _old_bootstrap_ratio(num, den, *, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    num = np.atleast_2d(np.asarray(num, dtype=float).T).T
    den = np.atleast_2d(np.asarray(den, dtype=float).T).T
    q = num.shape[0]
    stacked, inverse = unique_columns(np.concatenate([num, den], axis=1))
    out = np.empty((n_resamples, stacked.shape[1]))
    chunk = max(1, 2_000_000 // max(q, 1))
    for start in range(0, n_resamples, chunk):
        stop = min(n_resamples, start + chunk)
        out[start:stop] = _old_cluster_weights(q, stop - start, rng=rng).astype(float) @ stacked
    out = out[:, inverse.ravel()]
    k = num.shape[1]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(out[:, k:] != 0, out[:, :k] / np.where(out[:, k:] != 0, out[:, k:], 1), np.nan)


def _old_sign_flip_test(differences, *, n_permutations: int, rng: np.random.Generator) -> np.ndarray:
    d = np.asarray(differences, dtype=float)
    d = d[:, None] if d.ndim == 1 else d
    q = d.shape[0]
    t_obs = np.abs(d.sum(axis=0))
    hits = np.zeros(d.shape[1])
    chunk, block = max(1, 20_000_000 // max(q, 1)), max(1, 2_000_000 // max(q, 1))
    for start in range(0, n_permutations, chunk):
        m = min(chunk, n_permutations - start)
        bits = rng.integers(0, 2, size=(m, q), dtype=np.int8)
        for b in range(0, m, block):
            hits += (np.abs((bits[b:b + block].astype(float) * 2.0 - 1.0) @ d) >= t_obs - 1e-9).sum(axis=0)
    return (1.0 + hits) / (1.0 + n_permutations)


@pytest.fixture()
def kinds_used(monkeypatch) -> list[int]:
    """Number of kinds each time the per-kind path is taken."""
    used: list[int] = []
    original = bootstrap.cluster_kinds

    def spy(stacked):
        out = original(stacked)
        if out is not None:
            used.append(len(out[0]))
        return out

    monkeypatch.setattr(bootstrap, "cluster_kinds", spy)
    return used


# ------------------------------------------------------------------ unit level
def test_counts_per_kind_are_distributed_like_query_draws(kinds_used):
    rng = np.random.default_rng(5)
    q = 3000  # counts of votes: few distinct rows
    num = rng.integers(0, 4, size=(q, 3)).astype(float)
    den = num + rng.integers(0, 2, size=(q, 3))
    new = bootstrap_ratio(num, den, n_resamples=4000, rng=np.random.default_rng(9))
    old = _old_bootstrap_ratio(num, den, n_resamples=4000, rng=np.random.default_rng(19))
    assert kinds_used, "integer sums with repeated rows should take the per-kind path"
    # the same distribution: means within 4 standard errors, spreads within 8% (4000 draws each:
    # a standard deviation is estimated to about 1.1%), the same correlation between columns
    se = old.std(axis=0) / np.sqrt(4000)
    assert np.all(np.abs(new.mean(axis=0) - old.mean(axis=0)) < 4 * np.sqrt(2) * se)
    np.testing.assert_allclose(new.std(axis=0), old.std(axis=0), rtol=0.08)
    np.testing.assert_allclose(np.corrcoef(new.T), np.corrcoef(old.T), atol=0.06)


def test_per_kind_variance_of_a_mean_is_the_bootstrap_variance_by_hand(kinds_used):
    # by hand: a mean over q clusters (denominator 1 each) has bootstrap variance s2 / q, where s2 is
    # the clusters' variance with divisor q. Values 0, 1, 2, 3 equally often: s2 = 1.25; q = 400:
    # variance 0.003125, standard deviation 0.0559
    values = np.tile([0.0, 1.0, 2.0, 3.0], 100)
    r = bootstrap_ratio(values[:, None], np.ones((400, 1)), n_resamples=20000, rng=np.random.default_rng(3))
    assert kinds_used == [4]
    assert abs(r.mean() - 1.5) < 4 * 0.0559 / np.sqrt(20000)
    assert r.std() == pytest.approx(np.sqrt(1.25 / 400), rel=0.03)


def test_weighted_sums_keep_the_full_weights(kinds_used):
    rng = np.random.default_rng(6)
    num = rng.integers(0, 3, size=(500, 2)) * 0.37  # design weights: not integers
    den = num + 0.5
    new = bootstrap_ratio(num, den, n_resamples=300, rng=np.random.default_rng(1))
    assert not kinds_used
    np.testing.assert_array_equal(new, _old_bootstrap_ratio(num, den, n_resamples=300, rng=np.random.default_rng(1)))


def test_every_resample_of_identical_queries_gives_the_same_ratio(kinds_used):
    # by hand: 8 queries each with 1 match of 2 votes: any resample has 8 matches of 16 votes = 0.5
    r = bootstrap_ratio(np.ones((8, 1)), np.full((8, 1), 2.0), n_resamples=50, rng=np.random.default_rng(0))
    assert kinds_used == [1] and r.ravel().tolist() == [0.5] * 50


def test_sign_flip_on_integer_differences_has_the_p_values_of_one_sign_per_query():
    rng = np.random.default_rng(2)
    d = rng.integers(-3, 4, size=(4000, 3)).astype(float)
    d[:, 1] += (rng.random(4000) < 0.03)  # a small shift: p well inside (0, 1)
    d[:, 2] = 0.0  # by hand: all zero, every sign pattern reaches |T| = 0, p = (1 + 4000) / (1 + 4000) = 1
    new = sign_flip_test(d, n_permutations=4000, rng=np.random.default_rng(4))
    old = _old_sign_flip_test(d, n_permutations=4000, rng=np.random.default_rng(14))
    # two Monte Carlo estimates of the same p: within 4 binomial standard errors of each other
    se = np.sqrt(np.maximum(old * (1 - old), 1e-4) / 4000)
    assert np.all(np.abs(new - old) <= 4 * np.sqrt(2) * se)
    assert new[2] == 1.0


def test_sign_flip_per_kind_by_hand():
    # by hand: 8 queries with difference +1 and 992 with 0. T = 8; T* = 2B - 8 with B ~ Binomial(8, 1/2);
    # |T*| >= 8 only for B = 0 or 8: probability 2 / 256 = 0.0078125
    d = np.zeros(1000)
    d[:8] = 1.0
    p = sign_flip_test(d, n_permutations=40000, rng=np.random.default_rng(0))[0]
    assert abs(p - 2 / 256) < 4 * np.sqrt(2 / 256 * (1 - 2 / 256) / 40000)


def test_sign_flip_on_non_integer_differences_equals_the_float64_product():
    d = np.random.default_rng(2).integers(-3, 4, size=(4000, 3)) * 0.25
    new = sign_flip_test(d, n_permutations=700, rng=np.random.default_rng(4))
    np.testing.assert_array_equal(new, _old_sign_flip_test(d, n_permutations=700, rng=np.random.default_rng(4)))


# ------------------------------------------------------------------ metaeval agreement, end to end
def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _agreement(votes: Path, judges: dict[str, Path], out: Path, *extra: str) -> str:
    args = ["agreement", "--votes", str(votes), "--bootstrap", "3000", "--seed", "3", "--format", "json",
            "--output", str(out), *extra]
    for name, path in judges.items():
        args += ["--judge", f"m/{name}={path}"]
    assert main(args) == 0
    return out.read_text(encoding="utf-8")


def _new_and_old(monkeypatch, votes: Path, judges: dict[str, Path], tmp_path: Path, *extra: str) -> tuple[dict, dict]:
    new = _agreement(votes, judges, tmp_path / "new.json", *extra)
    monkeypatch.setattr(study_module, "bootstrap_stacked",
                        lambda stacked, k, **kw: _old_bootstrap_ratio(stacked[:, :k], stacked[:, k:], **kw))
    monkeypatch.setattr(study_module, "sign_flip_test", _old_sign_flip_test)
    old = _agreement(votes, judges, tmp_path / "old.json", *extra)
    return json.loads(new), json.loads(old)


def _same_up_to_monte_carlo(new, old, path: str = "") -> None:
    """Counts and point estimates equal; interval ends within 0.02 and p-values within 0.03 (3,000
    resamples each way: Monte Carlo error well below both)."""
    if isinstance(new, dict):
        assert new.keys() == old.keys(), path
        for key in new:
            _same_up_to_monte_carlo(new[key], old[key], f"{path}.{key}")
    elif isinstance(new, list) and path.split(".")[-1] in ("ci", "ci_no_ties", "vs_majority_of_others_ci"):
        assert new == pytest.approx(old, abs=0.02, nan_ok=True), path
    elif isinstance(new, list):
        assert len(new) == len(old), path
        for i, (a, b) in enumerate(zip(new, old, strict=True)):
            _same_up_to_monte_carlo(a, b, f"{path}[{i}]")
    elif path.split(".")[-1] in ("p_value", "p_holm", "p_signflip"):
        assert new == pytest.approx(old, abs=0.03), path
    else:
        assert new == old, path


def _study(n_q: int, seed: int = 1, *, design: bool) -> tuple[list[dict], dict[str, list[dict]]]:
    """Votes with ties, votes without a judge field, stale and per-criterion votes, optionally an
    adaptive round with design weights; three judges, one without a verdict on every 7th query."""
    rng = np.random.default_rng(seed)
    models = ["m-a", "m-b", "m-c"]
    votes: list[dict] = []
    judges: dict[str, list[dict]] = {"j1": [], "j2": [], "j3": []}
    for q in range(n_q):
        a, b = rng.choice(3, 2, replace=False)
        truth = rng.choice(["model_a", "model_b", "tie"], p=[0.45, 0.4, 0.15])
        for r in range(3 + int(rng.integers(0, 2))):
            w = truth if rng.random() < 0.7 else str(rng.choice(["model_a", "model_b", "tie"]))
            row: dict = {"question_id": q, "model_a": models[a], "model_b": models[b], "winner": w}
            if r != 1 or q % 5:
                row["judge"] = f"p{r}"
            if design:
                rnd = 1 if r >= 3 else 0
                row |= {"design_round": rnd, "design_strategy": "adaptive" if rnd else "fixed",
                        "design_expected": 1.5 if rnd else None, "design_round_votes": 20 if rnd else None,
                        "design_last_expected": 1.5}
            if q % 13 == 0 and r == 0:
                row["criterion"] = "clarity"
            if q % 11 == 0 and r == 2:
                row["stale"] = True
            votes.append(row)
        for k, j in enumerate(judges):
            if j == "j3" and q % 7 == 0:
                continue  # a judge missing some pairs
            w = truth if rng.random() < 0.6 + 0.1 * k else str(rng.choice(["model_a", "model_b", "tie"]))
            judges[j].append({"question_id": q, "model_a": models[a], "model_b": models[b], "winner": w, "judge": j})
    return votes, judges


@pytest.mark.parametrize("design", [False, True])
def test_generated_study_gives_the_same_figures(tmp_path, monkeypatch, kinds_used, design):
    votes, judges = _study(3000, design=design)
    vp = _write(tmp_path / "votes.jsonl", votes)
    jp = {name: _write(tmp_path / f"{name}.jsonl", rows) for name, rows in judges.items()}
    new, old = _new_and_old(monkeypatch, vp, jp, tmp_path)
    assert kinds_used, "the study's per-query counts should take the per-kind path"
    _same_up_to_monte_carlo(new, old)
    res = new
    assert res["settings"]["estimator"] == ("design-based" if design else "pooled")
    # hand check (pooled): j3 has no verdict on queries 0, 7, ..., 2996 (429 of 3000), so its row
    # counts the votes of the other 2571 queries only
    if not design:
        n_j3 = sum(1 for v in votes if v["question_id"] % 7 and "criterion" not in v and not v.get("stale"))
        assert next(r for r in res["rows"] if r["judge"] == "m/j3")["n_votes"] == n_j3


@pytest.mark.usefixtures("cheap_hashing")
def test_demo_gives_the_same_figures(tmp_path, monkeypatch):
    monkeypatch.setenv("ANNOTATE_DEMO_PASSWORD", "demo-test-password")
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    assert annotate_main(["--db", db, "demo", "--no-serve"]) == 0
    vp = tmp_path / "v.jsonl"
    assert annotate_main(["--db", db, "export", "votes", "--study", "demo-audit", str(vp)]) == 0
    pairs = sorted({(r["question_id"], r["model_a"], r["model_b"]) for r in map(json.loads, vp.read_text().splitlines())})
    jp = {f"j{k}": _write(tmp_path / f"j{k}.jsonl", [
        {"question_id": q, "model_a": a, "model_b": b, "winner": ["tie", "model_a", "model_b"][(i + k) % 3],
         "judge": f"j{k}"} for i, (q, a, b) in enumerate(pairs)]) for k in range(2)}
    new, old = _new_and_old(monkeypatch, vp, jp, tmp_path)
    _same_up_to_monte_carlo(new, old)
