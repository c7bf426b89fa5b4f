"""Criteria methods as registered plug-ins.

The three WritingBench methods write byte-identical files to those of the hard-wired
implementation they replace. The digests below are of that implementation's output (commit
1530317, ``metaeval judge`` with the loopback FakeJudgeServer, whose scores are a hash of the
prompt) on the judge_* fixtures, perturbations drop+shuffle, bootstrap 200, seed 3.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from metaeval.cli import main
from metaeval.criteria.methods import FlatMethod, get_method, method_names, register_method
from metaeval.criteria.schema import CriteriaError
from metaeval.types import Criterion
from tests.fixtures.judge_fake_openai_server import FakeJudgeServer

FIX = Path(__file__).resolve().parents[3] / "fixtures"

BEFORE = {
    'dynamic:fake__dynamic.failures.jsonl' : 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    'dynamic:fake__dynamic.long.jsonl' : 'e1cc09c35da1095d59f3c71674cd406eaac5683d70faaa6559915136d799ca39',
    'dynamic:fake__dynamic.robustness.json' : '3bb25ec24d8a780a5bc014f3d4131979413ba091316dd2c44cdf1b5070e0677a',
    'dynamic:wb/demo-alpha__fake__dynamic.jsonl' : '3b8daac10d4a14c96bdf6b57e94fc51727177aa66547945f3b10003e347f6a77',
    'dynamic:wb/demo-beta__fake__dynamic.jsonl' : '92e45fabc52d7006199ceb063451eb7949225d9b6e7b232489027642cea4f923',
    'dynamic:wb/demo-gamma__fake__dynamic.jsonl' : '0b01ee5dacb28df498e5b325196036d3a0495150e9ab45fda0c6628e585e6634',
    'static-domain:fake__static-domain.failures.jsonl' : 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    'static-domain:fake__static-domain.long.jsonl' : 'f8c8e3dc9c53f95e71d7cba5acc3fffa9d534cfb63f5bb8b6d9cfb0e497b7f8d',
    'static-domain:fake__static-domain.robustness.json' : 'a3934e7c77b672daccfed884293cd83eeb7757047be3964098e2a8104c964abe',
    'static-domain:wb/demo-alpha__fake__static-domain.jsonl' : '16b385cb5cb765726381650a342f2afa0b888dc4c199c2a0f8720d536cf8fbad',
    'static-domain:wb/demo-beta__fake__static-domain.jsonl' : '776e138855bbd31ebd407a2455bb78fa9179b45bd4a4197b3bb7056861e4ff5c',
    'static-domain:wb/demo-gamma__fake__static-domain.jsonl' : 'c1f8b4672a2520c0fd2e1f034bc15c3d31b34d1374f8e7b1d28d5a8cc47d8584',
    'static-global:fake__static-global.failures.jsonl' : 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    'static-global:fake__static-global.long.jsonl' : '4c8d299f45ba12dfaa0c773d5841cdfc4cdd69782e81e93bd729119ec9b2f973',
    'static-global:fake__static-global.robustness.json' : 'de063c5a5468c2b419e38487d186059529e843dd16b85f5bd3034027439c7f97',
    'static-global:wb/demo-alpha__fake__static-global.jsonl' : '5887cda34e15bf269d3057578cbdb99fc118fa20e56d2a856eadc60dad7414ca',
    'static-global:wb/demo-beta__fake__static-global.jsonl' : 'a537f313592b3db09a636dab47bb1147115583da0731f79a6538a4da2080aa9e',
    'static-global:wb/demo-gamma__fake__static-global.jsonl' : '174247908c4bbe0104d25c90037197a9d7138317167ae0565422fadcb8052377',
}


@pytest.fixture()
def server():
    srv = FakeJudgeServer().start()
    yield srv
    srv.shutdown()
    srv.server_close()


def _judge(method: str, server, out: Path, *extra: str) -> int:
    return main(["judge", "--method", method, "--judge", f"fake=openai-compatible:{server.base_url}@fake",
                 "--queries", str(FIX / "judge_queries.jsonl"), "--responses", str(FIX / "judge_responses.jsonl"),
                 "--static-global", str(FIX / "judge_static_global.json"),
                 "--static-domain", str(FIX / "judge_static_domain.json"), "--output", str(out), "--no-progress",
                 *extra])


@pytest.mark.parametrize("method", ["static-global", "static-domain", "dynamic"])
def test_writingbench_methods_write_the_same_bytes(method, server, tmp_path):
    out = tmp_path / method
    assert _judge(method, server, out, "--perturb", "drop,shuffle", "--bootstrap", "200", "--seed", "3") == 0
    got = {f"{method}:{p.relative_to(out)}": hashlib.sha256(p.read_bytes()).hexdigest()
           for p in sorted(out.rglob("*.json*")) if "cache" not in p.name}
    want = {k: v for k, v in BEFORE.items() if k.startswith(f"{method}:")}
    assert got == want


def test_builtin_methods_are_registered_and_flat():
    assert set(method_names()) >= {"static-global", "static-domain", "dynamic", "tow"}
    for name in ("static-global", "static-domain", "dynamic"):
        assert get_method(name).flat
    assert not get_method("tow").flat and get_method("tow").negotiated
    with pytest.raises(CriteriaError, match="unknown method 'nope'"):
        get_method("nope")


def test_a_registered_method_is_usable_by_judge_and_grid(server, tmp_path, capsys):
    bands = {b: b for b in ("1-2", "3-4", "5-6", "7-8", "9-10")}
    two = [Criterion("Only A", "first", bands), Criterion("Only B", "second", bands)]
    register_method(FlatMethod("two-criteria", "a test method", lambda q, o, w: list(two)))
    out = tmp_path / "custom"
    assert _judge("two-criteria", server, out) == 0
    rows = [json.loads(x) for x in (out / "fake__two-criteria.long.jsonl").read_text().splitlines()]
    assert {r["criterion"] for r in rows} == {"Only A", "Only B"}
    assert len(rows) == 12 * 2  # 4 queries x 3 models x 2 criteria
    rc = main(["grid", "--votes", str(FIX / "judge_votes.jsonl"), "--queries", str(FIX / "judge_queries.jsonl"),
               "--responses", str(FIX / "judge_responses.jsonl"), "--methods", "two-criteria",
               "--judge", f"a=openai-compatible:{server.base_url}@fake", "--output", str(tmp_path / "grid"),
               "--no-progress"])
    assert rc == 0
    manifest = json.loads((tmp_path / "grid" / "grid.json").read_text())
    assert [(r["method"], r["n_verdicts"]) for r in manifest["runs"]] == [("two-criteria", 12)]


def test_unknown_method_in_grid_is_refused(server, tmp_path, capsys):
    rc = main(["grid", "--votes", str(FIX / "judge_votes.jsonl"), "--queries", str(FIX / "judge_queries.jsonl"),
               "--responses", str(FIX / "judge_responses.jsonl"), "--methods", "dynamic,bogus",
               "--judge", f"a=openai-compatible:{server.base_url}@fake", "--output", str(tmp_path / "g"),
               "--no-progress"])
    assert rc == 2
    assert "bogus" in capsys.readouterr().err
    assert not (tmp_path / "g").exists()


def test_criteria_comparison_lists_tree_methods(tmp_path):
    from annotate.db.engine import init_db, session_scope
    from annotate.services.judges.criteria_view import criteria_comparison
    from tests.fixtures.study_factory import make_benchmark, make_users

    eng = init_db(f"sqlite:///{tmp_path / 'c.db'}")
    with session_scope(eng) as session:
        make_benchmark(session, {("Education", "Lesson Plans"): {5: ["m"]}}, criteria=["A", "B", "C", "D", "E"])
        res = make_users(session, ["res"], role="researcher")["res"]
        comp = criteria_comparison(session=session, actor=res, query_index=5)
    eng.dispose()
    assert [name for name, _ in comp.sets["tow"]] == [
        "content/coherence", "content/logic", "content/richness", "content/opening-ending",
        "format/structure", "format/paragraphing", "format/formatting", "impression"]
    assert all(desc for _, desc in comp.sets["tow"])
