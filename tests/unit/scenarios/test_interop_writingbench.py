"""WritingBench's own scoring reads our per-model score files unchanged.

``metaeval judge`` writes one file per response model in ``OUTPUT/wb/``. WritingBench's
``calculate_scores.py`` takes a folder of such files (the model is the file name) and the
benchmark file, and reports per model: ``Overall`` = the sum of every criterion score in the file
divided by their number, ``Count`` = the number of queries, and ``Domain1_<d>`` = the mean over
the queries of domain ``d`` of each query's mean criterion score. The functions below follow that
documented method on the raw JSON of the files (their layout, not our reader); the figures must
equal those from our long-layout output of the same run and those computed by hand from the
scores the replayed judge gave.
"""

from __future__ import annotations

import glob
import json
import os
from collections import defaultdict
from pathlib import Path

from metaeval.cli import main

DEMO = Path(__file__).resolve().parents[3] / "annotate" / "data" / "demo"
SOURCE = DEMO / "scores" / "dynamic__demo-judge.jsonl"


def writingbench_aggregate(score_dir: str, benchmark_file: str) -> dict[str, dict]:
    """WritingBench's aggregation: per file, Overall, Count and the Domain1 means."""
    domains = {}
    with open(benchmark_file, encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            domains[rec["index"]] = rec.get("domain1")
    out = {}
    for path in glob.glob(os.path.join(score_dir, "*.jsonl")):
        total, count, per_query = 0, 0, {}
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                rec = json.loads(line)
                scores = [e["score"] for evaluations in rec["scores"].values() for e in evaluations]
                total += sum(scores)
                count += len(scores)
                per_query[rec["index"]] = sum(scores) / len(scores)
        by_domain: dict[str, list[float]] = defaultdict(list)
        for index, score in per_query.items():
            if domains.get(index) is not None:
                by_domain[domains[index]].append(score)
        row = {"Overall": total / count, "Count": len(per_query)}
        row.update({f"Domain1_{d}": sum(v) / len(v) for d, v in by_domain.items()})
        out[os.path.basename(path)[: -len(".jsonl")]] = row
    return out


def test_calculate_scores_method_on_our_files_gives_our_overall(tmp_path, capsys):
    out = tmp_path / "run"
    rc = main(["judge", "--method", "dynamic", "--judge", f"demo-judge=replay:{SOURCE}",
               "--queries", str(DEMO / "queries.jsonl"), "--responses", str(DEMO / "responses.jsonl"),
               "--output", str(out), "--no-progress"])
    assert rc == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["n_failures"] == 0

    theirs = writingbench_aggregate(str(out / "wb"), str(DEMO / "queries.jsonl"))
    assert len(theirs) == 3  # demo-alpha, demo-beta, demo-gamma

    # Ours: the long-layout file of the same run, one line per criterion score.
    long_rows = [json.loads(x) for x in Path(summary["long"]).read_text(encoding="utf-8").splitlines()]
    # By hand: the scores the replayed judge gave (the demo file, read as plain JSON).
    given = [json.loads(x) for x in SOURCE.read_text(encoding="utf-8").splitlines()]
    domain1 = {json.loads(x)["index"]: json.loads(x)["domain1"]
               for x in (DEMO / "queries.jsonl").read_text(encoding="utf-8").splitlines()}
    for model in ("demo-alpha", "demo-beta", "demo-gamma"):
        row = theirs[f"{model}__demo-judge__dynamic"]
        ours = [r["score"] for r in long_rows if r["model"] == model]
        by_hand = [r["score"] for r in given if r["model"] == model]
        assert row["Overall"] == sum(ours) / len(ours) == sum(by_hand) / len(by_hand)
        assert row["Count"] == len({r["index"] for r in given if r["model"] == model})
        for d in set(domain1.values()):
            queries = sorted({r["index"] for r in given if r["model"] == model and domain1[r["index"]] == d})
            if not queries:
                continue
            means = [sum(s) / len(s) for s in ([r["score"] for r in given if r["model"] == model
                                                 and r["index"] == q] for q in queries)]
            assert abs(row[f"Domain1_{d}"] - sum(means) / len(means)) < 1e-12
