"""``metaeval correlation``: correlation of judge scores with human pointwise ratings."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import pandas as pd

from metaeval import resources
from metaeval.io import (
    InputFileError,
    detect_layout,
    iter_jsonl,
    read_ratings,
    read_scores,
    write_text_atomic,
)
from metaeval.report.paper_tables import degenerate_correlation_warnings, render_correlation_report
from metaeval.report.tables import FORMATS
from metaeval.stats.correlation import LEVELS, correlation_table

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("correlation", help="correlation of judge scores with human ratings",
                              description="Pearson, Spearman and Kendall tau-b between judge and human scores "
                                          "at item, system and global level, with bootstrap intervals over items.")
    p.add_argument("--ratings", required=True, help="human ratings: item_id, system, rater, criterion, score")
    p.add_argument("--judge", action="append", required=True, metavar="NAME=FILE",
                   help="judge scores: ratings layout, long score layout, or WritingBench layout with 'model' "
                        "per line (item_id = index, system = model). Repeatable.")
    p.add_argument("--level", action="append", choices=LEVELS, help="repeatable; default all three")
    p.add_argument("--bootstrap", type=int, default=1000, metavar="N")
    p.add_argument("--seed", type=int, default=0, metavar="S")
    p.add_argument("--format", choices=FORMATS, default="markdown")
    p.add_argument("--output")
    p.set_defaults(func=run)


def _frame_ratings(path: str) -> pd.DataFrame:
    rs = read_ratings(path)
    return pd.DataFrame([(r.item_id, r.system, r.criterion, r.score) for r in rs],
                        columns=["item_id", "system", "criterion", "score"])


def human_ceiling(path: str) -> dict:
    """Agreement between people: mean over every two raters of Pearson's r and Cohen's kappa
    (unweighted, on the score values) over the (item, system, criterion) both rated.

    Example (r1: 1 2 3 4, r2: 1 2 4 4 -> kappa (0.75 - 0.25) / 0.75, r = 5.5 / sqrt(5 * 6.75)):
        >>> import tempfile, pathlib, json
        >>> f = pathlib.Path(tempfile.mkdtemp()) / "h.jsonl"
        >>> rows = [{"item_id": i, "system": "s", "rater": r, "criterion": "c", "score": v}
        ...         for r, vs in (("r1", (1, 2, 3, 4)), ("r2", (1, 2, 4, 4))) for i, v in enumerate(vs)]
        >>> _ = f.write_text("".join(json.dumps(x) + "\\n" for x in rows))
        >>> c = human_ceiling(str(f))
        >>> round(c["cohen_kappa"], 4), round(c["pearson"], 4), c["n_rater_pairs"]
        (0.6667, 0.9467, 1)
    """
    import itertools

    import numpy as np

    frame = pd.DataFrame([(str(r.item_id), r.system, r.criterion, r.rater, r.score) for r in read_ratings(path)],
                         columns=["item_id", "system", "criterion", "rater", "score"])
    wide = frame.pivot_table(index=["item_id", "system", "criterion"], columns="rater", values="score",
                             aggfunc="mean")
    kappas, rs, shared = [], [], []
    for a, b in itertools.combinations(wide.columns, 2):
        both = wide[[a, b]].dropna()
        if len(both) < 2:
            continue
        x, y = both[a].to_numpy(dtype=float), both[b].to_numpy(dtype=float)
        cats = np.union1d(x, y)
        po = float(np.mean(x == y))
        pe = float(sum(np.mean(x == k) * np.mean(y == k) for k in cats))
        kappas.append((po - pe) / (1 - pe) if pe < 1 else float("nan"))
        rs.append(float(np.corrcoef(x, y)[0, 1]) if x.std() > 0 and y.std() > 0 else float("nan"))
        shared.append(len(both))

    def mean(v: list[float]) -> float | None:
        good = [t for t in v if not np.isnan(t)]
        return float(np.mean(good)) if good else None

    return {"n_raters": int(len(wide.columns)), "n_rater_pairs": len(kappas), "n_shared": int(sum(shared)),
            "cohen_kappa": mean(kappas), "pearson": mean(rs)}


def load_judge_scores(path: str) -> pd.DataFrame:
    """Judge scores as item_id, system, criterion, score (layout detected by content)."""
    first = next(iter_jsonl(path), None)
    if first is None:
        raise InputFileError("file is empty", path=Path(path))
    layout = detect_layout(first[1])
    if layout == "ratings":
        return _frame_ratings(path)
    if layout in ("writingbench", "long"):
        recs = read_scores(path)
        return pd.DataFrame([(r.index, r.model, r.criterion, r.score) for r in recs],
                            columns=["item_id", "system", "criterion", "score"])
    raise InputFileError("expected ratings or judge scores", path=path, line=first[0])


def run(args: argparse.Namespace) -> int:
    from metaeval.cli import CliError

    try:
        resources.check_input_files([args.ratings, *(s.partition("=")[2] for s in args.judge)], command="correlation")
        human = _frame_ratings(args.ratings)
        if human.empty:
            raise InputFileError("no ratings", path=args.ratings)
        judges = {}
        for spec in args.judge:
            name, sep, path = spec.partition("=")
            if not sep or not name or not path:
                raise CliError(f"--judge expects NAME=FILE, got {spec!r}")
            judges[name] = load_judge_scores(path)
        resources.check_bootstrap(command="correlation", n_resamples=args.bootstrap,
                                  n_clusters=human["item_id"].nunique(), n_statistics=9 * len(judges),
                                  chunked=False)
        rows = correlation_table(human, judges, levels=args.level or LEVELS, n_resamples=args.bootstrap,
                                 seed=args.seed)
    except (InputFileError, ValueError) as exc:
        raise CliError(str(exc)) from exc
    settings = {"n_resamples": args.bootstrap, "seed": args.seed, "level": 0.95,
                "levels": list(args.level or LEVELS)}
    notes = degenerate_correlation_warnings(human, settings["levels"])
    for note in notes:
        log.warning("%s", note)
    ceiling = human_ceiling(args.ratings)
    text = render_correlation_report(rows, settings, fmt=args.format, warnings=notes, human=ceiling)
    if args.output:
        write_text_atomic(args.output, text)
    else:
        sys.stdout.write(text)
    return 0
