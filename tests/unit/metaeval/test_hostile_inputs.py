"""Every metaeval subcommand meets hostile input with one line and exit 2, never a traceback.

Each command line below is run in-process through :func:`metaeval.cli.main` with one of its
input files (or options) replaced by a bad one: an empty file, binary junk, a single 50 MB line,
deeply nested JSON, wrong field types, a JSON array where JSON Lines are expected, numbers
beyond a float (``1e999``), ``NaN``, and absurd options (``--bootstrap 1000000000000``,
``--seed -1``). The expectation, stated by the issue and the docs (exit 2 for bad input): the
run returns 2 (or 0 where the bad thing happens to be acceptable, e.g. an empty file for a
command that then reports nothing), stderr holds no "Traceback", and an error is one line
starting ``metaeval`` (argparse's own refusals: a usage line and one error line). Large input
is refused by the memory estimate: ``METAEVAL_MEMORY_LIMIT`` is set to 64 MiB for the 50 MB
line instead of writing gigabytes.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from metaeval.cli import main

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
VOTES = FIXTURES / "stats_votes_human.jsonl"
JUDGE = FIXTURES / "stats_votes_judge1.jsonl"
QUERIES = FIXTURES / "judge_queries.jsonl"
RESPONSES = FIXTURES / "judge_responses.jsonl"
STATIC_DOMAIN = FIXTURES / "judge_static_domain.json"

# name -> bytes of the hostile file (the 50 MB line is written once per session, see ``bad``)
BAD = {
    "empty": b"",
    "binary": bytes(range(256)) * 8 + b"\x00\xff\xfe\n\x89PNG\r\n\x1a\n",
    "nested": b"[" * 100_000 + b"]" * 100_000 + b"\n",
    "nested_object": b'{"a": ' * 50_000 + b"1" + b"}" * 50_000 + b"\n",
    "wrong_types": (b'{"question_id": [1], "model_a": 5, "model_b": {"x": 1}, "winner": 7, "judge": null, '
                    b'"index": [], "model": 3, "score": "high", "item_id": {}, "system": [], "criterion": 1, '
                    b'"scores": "none", "query": 5, "checklist": "x", "response": 9}\n'),
    "array": (b'[{"question_id": 1, "model_a": "a", "model_b": "b", "winner": "model_a", "judge": "h1"},'
              b' {"question_id": 2, "model_a": "a", "model_b": "b", "winner": "tie", "judge": "h1"}]\n'),
    "huge_number": (b'{"question_id": 1e999, "model_a": "a", "model_b": "b", "winner": "model_a", "judge": "h1", '
                    b'"index": 1e999, "model": "a", "criterion": "c", "score": 1e999, "item_id": 1, "system": "a", '
                    b'"rater": "r"}\n'),
    "big_int": (b'{"question_id": ' + b"9" * 5000 + b', "model_a": "a", "model_b": "b", "winner": "model_a", '
                b'"judge": "h1", "index": 1, "model": "a", "criterion": "c", "score": ' + b"9" * 5000 + b"}\n"),
    "nan": (b'{"question_id": NaN, "model_a": "a", "model_b": "b", "winner": "model_a", "judge": "h1", '
            b'"index": NaN, "model": "a", "criterion": "c", "score": NaN, "item_id": 1, "system": "a"}\n'),
    "not_utf8": b'{"question_id": 1, "model_a": "\xff\xfe", "model_b": "b", "winner": "model_a"}\n',
    "long_line": None,  # 50 MB of one JSON string on one line, written in the fixture
}


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("hostile")
    out = {}
    for name, data in BAD.items():
        path = root / f"{name}.jsonl"
        if data is None:
            with open(path, "wb") as fh:  # one line: {"s": "xxxx...(50 MB)"}
                fh.write(b'{"s": "')
                chunk = b"x" * (1 << 20)
                for _ in range(50):
                    fh.write(chunk)
                fh.write(b'"}\n')
        else:
            path.write_bytes(data)
        out[name] = path
    ratings = root / "ratings.jsonl"
    ratings.write_text("".join(json.dumps({"item_id": i, "system": s, "rater": "r", "criterion": "c",
                                           "score": (3 * i + k) % 5 + 1}) + "\n"
                               for i in range(6) for k, s in enumerate(["s1", "s2"])), encoding="utf-8")
    scores = root / "scores.jsonl"  # long layout, for correlation and tow
    scores.write_text("".join(json.dumps({"index": i, "model": s, "judge": "j", "method": "m", "criterion": "c",
                                          "score": (2 * i + k) % 10 + 1, "weight": 0.5}) + "\n"
                              for i in range(6) for k, s in enumerate(["s1", "s2"])), encoding="utf-8")
    out["ratings"], out["scores"], out["out"] = ratings, scores, root / "out"
    return out


# Each command with ``{slot}`` marking the input that gets replaced, ``{out}`` an output path.
COMMANDS: dict[str, list[str]] = {
    "agreement-votes": ["agreement", "--votes", "{bad}", "--judge", f"j={JUDGE}", "--bootstrap", "20"],
    "agreement-judge": ["agreement", "--votes", str(VOTES), "--judge", "j={bad}", "--bootstrap", "20"],
    "agreement-queries": ["agreement", "--votes", str(VOTES), "--judge", f"j={JUDGE}", "--queries", "{bad}",
                          "--bootstrap", "20"],
    "rankings-votes": ["rankings", "--votes", "{bad}", "--bootstrap", "20"],
    "rankings-judge": ["rankings", "--votes", str(VOTES), "--judge", "j={bad}", "--bootstrap", "20"],
    "rankings-queries": ["rankings", "--votes", str(VOTES), "--queries", "{bad}", "--by", "domain", "--bootstrap", "20"],
    "annotators-votes": ["annotators", "--votes", "{bad}", "--bootstrap", "20"],
    "annotators-gold": ["annotators", "--votes", str(VOTES), "--gold", "{bad}", "--bootstrap", "20"],
    "correlation-ratings": ["correlation", "--ratings", "{bad}", "--judge", "j={scores}", "--bootstrap", "20"],
    "correlation-judge": ["correlation", "--ratings", "{ratings}", "--judge", "j={bad}", "--bootstrap", "20"],
    "criteria-show": ["criteria", "show", "--method", "static-domain", "--domain", "Education", "--file", "{bad}"],
    "criteria-generate": ["criteria", "generate", "--queries", "{bad}", "--judge", "replay:{scores}",
                          "--output", "{out}/criteria.jsonl"],
    "generate-queries": ["generate", "--queries", "{bad}", "--model", "m=replay:{scores}", "--output",
                         "{out}/responses.jsonl"],
    "judge-queries": ["judge", "--method", "static-global", "--judge", "replay:{scores}", "--queries", "{bad}",
                      "--responses", str(RESPONSES), "--output", "{out}/judge"],
    "judge-responses": ["judge", "--method", "static-global", "--judge", "replay:{scores}", "--queries", str(QUERIES),
                        "--responses", "{bad}", "--output", "{out}/judge"],
    "judge-static": ["judge", "--method", "static-domain", "--judge", "replay:{scores}", "--queries", str(QUERIES),
                     "--responses", str(RESPONSES), "--static-domain", "{bad}", "--output", "{out}/judge"],
    "grid-votes": ["grid", "--votes", "{bad}", "--queries", str(QUERIES), "--responses", str(RESPONSES),
                   "--judge", "replay:{scores}", "--output", "{out}/grid"],
    "grid-queries": ["grid", "--votes", str(VOTES), "--queries", "{bad}", "--responses", str(RESPONSES),
                     "--judge", "replay:{scores}", "--output", "{out}/grid"],
    "groups-build": ["groups", "build", "--queries", "{bad}", "--requirements", "3", "--generator", "replay:{scores}",
                     "--output", "{out}/groups.jsonl"],
    "groups-score": ["groups", "score", "--groups", "{bad}", "--judge", "replay:{scores}", "--group-size", "3",
                     "--output", "{out}/scored.jsonl"],
    "groups-agreement": ["groups", "agreement", "--scored", "{bad}", "--group-size", "3", "--bootstrap", "20",
                         "--permutations", "20"],
    "tow-scores": ["tow", "ablate", "--scores", "{bad}", "--output", "{out}/tow"],
    "tow-votes": ["tow", "ablate", "--scores", "{scores}", "--votes", "{bad}", "--output", "{out}/tow"],
}


def _run(args: list[str], capsys, caplog) -> tuple[int, str]:
    caplog.clear()
    with caplog.at_level(logging.DEBUG):
        try:
            rc = main(args)
        except SystemExit as exc:  # argparse's own refusals
            rc = int(exc.code or 0)
    err = capsys.readouterr().err
    logged = [r for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]
    assert not logged, [r.getMessage() for r in logged]
    return rc, err


def _check(rc: int, err: str) -> None:
    assert "Traceback" not in err, err
    assert rc in (0, 2), (rc, err)
    if rc == 2:
        lines = [ln for ln in err.strip().splitlines() if ln.strip()]
        if lines and lines[0].startswith("usage:"):  # argparse: usage then one error line
            assert lines[-1].startswith("metaeval") and ": error: " in lines[-1], err
        else:
            assert len(lines) == 1 and lines[0].startswith("metaeval"), err


@pytest.mark.parametrize("bad", [b for b in BAD if b != "long_line"])
@pytest.mark.parametrize("command", list(COMMANDS))
def test_bad_file_is_one_line_exit_2(command, bad, files, capsys, caplog, monkeypatch) -> None:
    monkeypatch.setenv("METAEVAL_MEMORY_LIMIT", "2G")
    subst = {"bad": str(files[bad]), "scores": str(files["scores"]), "ratings": str(files["ratings"]),
             "out": str(files["out"] / f"{command}-{bad}")}
    args = [a.format(**subst) for a in COMMANDS[command]]
    rc, err = _run(args, capsys, caplog)
    _check(rc, err)
    if rc == 2 and bad not in ("empty",):
        assert files[bad].name in err, err  # names the file


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_50_mb_line_is_refused_before_it_is_read(command, files, capsys, caplog, monkeypatch) -> None:
    monkeypatch.setenv("METAEVAL_MEMORY_LIMIT", "64M")
    subst = {"bad": str(files["long_line"]), "scores": str(files["scores"]), "ratings": str(files["ratings"]),
             "out": str(files["out"] / f"{command}-long")}
    rc, err = _run([a.format(**subst) for a in COMMANDS[command]], capsys, caplog)
    _check(rc, err)
    assert rc == 2 and "METAEVAL_MEMORY_LIMIT" in err, err


OPTIONS = {
    "bootstrap-1e12": ["agreement", "--votes", str(VOTES), "--judge", f"j={JUDGE}", "--bootstrap", "1e12"],
    "bootstrap-10**12": ["agreement", "--votes", str(VOTES), "--judge", f"j={JUDGE}", "--bootstrap", str(10**12)],
    "bootstrap-negative": ["rankings", "--votes", str(VOTES), "--bootstrap", "-5"],
    "seed-negative-agreement": ["agreement", "--votes", str(VOTES), "--judge", f"j={JUDGE}", "--bootstrap", "20",
                                "--seed", "-1"],
    "seed-negative-rankings": ["rankings", "--votes", str(VOTES), "--bootstrap", "20", "--seed", "-1"],
    "seed-negative-annotators": ["annotators", "--votes", str(VOTES), "--bootstrap", "20", "--seed", "-1"],
    "seed-negative-correlation": ["correlation", "--ratings", "{ratings}", "--judge", "j={scores}", "--bootstrap",
                                  "20", "--seed", "-1"],
    "seed-huge": ["rankings", "--votes", str(VOTES), "--bootstrap", "20", "--seed", str(10**40)],
    "tie-epsilon-nan": ["agreement", "--votes", str(VOTES), "--judge", f"j={JUDGE}", "--bootstrap", "20",
                        "--tie-epsilon", "nan"],
    "prior-inf": ["rankings", "--votes", str(VOTES), "--bootstrap", "20", "--prior", "inf"],
    "groups-bootstrap-1e12": ["groups", "agreement", "--scored", "{scores}", "--group-size", "3", "--bootstrap",
                              str(10**12)],
    "missing-file": ["rankings", "--votes", "{out}/does-not-exist.jsonl"],
    "directory": ["annotators", "--votes", "{out}"],
}


@pytest.mark.parametrize("case", list(OPTIONS))
def test_bad_options_are_one_line_exit_2(case, files, capsys, caplog, monkeypatch) -> None:
    monkeypatch.setenv("METAEVAL_MEMORY_LIMIT", "2G")
    files["out"].mkdir(exist_ok=True)
    subst = {"scores": str(files["scores"]), "ratings": str(files["ratings"]), "out": str(files["out"])}
    rc, err = _run([a.format(**subst) for a in OPTIONS[case]], capsys, caplog)
    _check(rc, err)
    if case.startswith(("bootstrap", "seed-negative", "missing", "directory", "groups-bootstrap")):
        assert rc == 2, err
