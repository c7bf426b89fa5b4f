"""``metaeval correlation``: correlation of judge scores with human pointwise ratings."""

from __future__ import annotations

import argparse
import json
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
from metaeval.report.correlation import pointwise_sections
from metaeval.report.paper_tables import degenerate_correlation_warnings, render_correlation_report
from metaeval.report.tables import FORMATS
from metaeval.stats.correlation import (
    LEVELS,
    METHODS,
    correlation_breakdown,
    correlation_table,
    paired_correlation_tests,
    rater_ceiling,
)
from metaeval.stats.jsonable import json_ready

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
    p.add_argument("--compare-on", choices=METHODS, default="pearson",
                   help="the correlation the paired comparisons of judges use (default pearson); with two or "
                        "more --judge, every two are compared at each level, Holm-adjusted")
    p.add_argument("--by", action="append", choices=BREAKDOWN_FIELDS, metavar="FIELD",
                   help="also report the correlations per group of items: domain1, domain2 or lang (fields of the "
                        "ratings file); repeatable")
    p.add_argument("--bootstrap", type=int, default=1000, metavar="N")
    p.add_argument("--seed", type=int, default=0, metavar="S")
    p.add_argument("--format", choices=FORMATS, default="markdown")
    p.add_argument("--output")
    p.set_defaults(func=run)


def _frame_ratings(path: str) -> pd.DataFrame:
    rs = read_ratings(path)
    return pd.DataFrame([(r.item_id, r.system, r.criterion, r.score) for r in rs],
                        columns=["item_id", "system", "criterion", "score"])


BREAKDOWN_FIELDS = ("domain1", "domain2", "lang")


def human_ceiling(path: str, *, n_resamples: int = 1000, seed: int = 0) -> dict:
    """Agreement between people (:func:`metaeval.stats.correlation.rater_ceiling`) on a ratings file.

    Example (r1: 1 2 3 4, r2: 1 2 4 4 -> kappa (0.75 - 0.25) / 0.75, r = 5.5 / sqrt(5 * 6.75)):
        >>> import tempfile, pathlib, json
        >>> f = pathlib.Path(tempfile.mkdtemp()) / "h.jsonl"
        >>> rows = [{"item_id": i, "system": "s", "rater": r, "criterion": "c", "score": v}
        ...         for r, vs in (("r1", (1, 2, 3, 4)), ("r2", (1, 2, 4, 4))) for i, v in enumerate(vs)]
        >>> _ = f.write_text("".join(json.dumps(x) + "\\n" for x in rows))
        >>> c = human_ceiling(str(f), n_resamples=20)
        >>> round(c["cohen_kappa"], 4), round(c["pearson"], 4), c["n_rater_pairs"]
        (0.6667, 0.9467, 1)
    """
    frame = pd.DataFrame([(str(r.item_id), r.system, r.criterion, r.rater, r.score) for r in read_ratings(path)],
                         columns=["item_id", "system", "criterion", "rater", "score"])
    return rater_ceiling(frame, n_resamples=n_resamples, seed=seed)


def item_fields(path: str) -> pd.DataFrame:
    """Each item's ``domain1``, ``domain2`` and ``lang`` as the ratings file gives them (the first
    non-empty value per item; None where no line of the item has it), indexed by item_id as text."""
    seen: dict[str, dict] = {}
    for n, obj in iter_jsonl(path):
        key = str(obj.get("item_id"))
        rec = seen.setdefault(key, dict.fromkeys(BREAKDOWN_FIELDS))
        for f in BREAKDOWN_FIELDS:
            val = obj.get(f)
            if val is not None and not isinstance(val, str):
                raise InputFileError("expected str", path=path, line=n, field=f)
            if rec[f] is None and val:
                rec[f] = val
    return pd.DataFrame.from_dict(seen, orient="index", columns=list(BREAKDOWN_FIELDS))


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
        levels = args.level or LEVELS
        rows = correlation_table(human, judges, levels=levels, n_resamples=args.bootstrap, seed=args.seed)
        comparisons = (paired_correlation_tests(human, judges, levels=levels, method=args.compare_on,
                                                n_resamples=args.bootstrap, seed=args.seed)
                       if len(judges) > 1 else [])
        breakdowns: list[dict] = []
        if args.by:
            fields = item_fields(args.ratings)
            with_fields = human.join(fields, on=human["item_id"].astype(str))
            for field in args.by:
                breakdowns += correlation_breakdown(with_fields, judges, by=field, levels=levels,
                                                    n_resamples=args.bootstrap, seed=args.seed)
    except (InputFileError, ValueError) as exc:
        raise CliError(str(exc)) from exc
    settings = {"n_resamples": args.bootstrap, "seed": args.seed, "level": 0.95,
                "levels": list(args.level or LEVELS)}
    notes = degenerate_correlation_warnings(human, settings["levels"])
    for note in notes:
        log.warning("%s", note)
    if comparisons:
        settings["compare_on"] = args.compare_on
    ceiling = human_ceiling(args.ratings, n_resamples=args.bootstrap, seed=args.seed)
    text = render_correlation_report(rows, settings, fmt=args.format, warnings=notes, human=ceiling)
    if args.format == "json":
        data = json.loads(text)
        data["comparisons"], data["breakdowns"] = json_ready(comparisons), json_ready(breakdowns)
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    elif args.format != "csv":
        extra = pointwise_sections(comparisons, breakdowns, fmt=args.format)
        if extra and args.format == "html":
            text = text.replace("</body></html>", extra + "</body></html>")
        elif extra:
            text += "\n" + extra
    if args.output:
        write_text_atomic(args.output, text)
    else:
        sys.stdout.write(text)
    return 0
