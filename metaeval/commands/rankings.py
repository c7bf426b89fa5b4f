"""``metaeval rankings``: the people's ranking of the models vs each judge's (Bradley–Terry)."""

from __future__ import annotations

import argparse
import logging
import sys
import warnings

from metaeval import resources
from metaeval.io import InputFileError, read_votes, write_text_atomic
from metaeval.report.figures import PLOTLYJS
from metaeval.report.paper_tables import MAX_COLUMNS, render_rankings_compact
from metaeval.report.rankings import FORMATS, render_rankings, write_ranking_figures
from metaeval.stats.settings import RANKINGS

log = logging.getLogger(__name__)

#: ``--by`` name -> vote / query field.
BY_FIELDS = {"domain": "domain1", "subdomain": "domain2", "lang": "lang"}


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("rankings", help="Bradley–Terry rankings of the models by people and by judges",
                              description="Rank the models from the people's votes and from each judge's verdicts "
                                          "(Bradley–Terry strengths, bootstrap intervals over queries, rank "
                                          "intervals, Kendall tau-b / Spearman / pair-order agreement of each judge "
                                          "with the people; see docs/metaeval_statistics.md).")
    p.add_argument("--votes", required=True, help="human votes, FastChat judgment layout (JSONL)")
    p.add_argument("--judge", action="append", default=[], metavar="NAME=FILE",
                   help="judge verdicts or scores, as for 'metaeval agreement'. Repeatable.")
    p.add_argument("--queries", help="WritingBench queries (domain1, domain2, language for --by)")
    p.add_argument("--bootstrap", type=int, default=RANKINGS.n_resamples, metavar="N",
                   help=f"bootstrap resamples (default {RANKINGS.n_resamples})")
    p.add_argument("--seed", type=int, default=RANKINGS.seed, metavar="S")
    p.add_argument("--by", choices=sorted(BY_FIELDS), help="also rank within each domain, subdomain or language")
    p.add_argument("--prior", type=float, default=1.0, metavar="K",
                   help="where the MLE is not finite (a model only won or only lost), fit with K virtual ties of "
                        "each model against a reference of strength 0 (default 1; 0 = fail instead)")
    p.add_argument("--tie-epsilon", type=float, default=0.0, metavar="E",
                   help="score files: a mean-score difference <= E is a tie (default 0)")
    p.add_argument("--format", choices=FORMATS, default="markdown")
    p.add_argument("--table", choices=["auto", "compact", "full"], default="auto",
                   help="markdown/LaTeX/HTML: full = one table with strength, rank, Elo and n per source; compact = "
                        "tables of at most 10 columns (strength and rank per source); auto (default) = full when it "
                        "fits in 10 columns, else compact. CSV and JSON always hold everything")
    p.add_argument("--output", help="write here instead of standard output")
    p.add_argument("--figures", metavar="DIR", help="also write the forest plot (rankings.html) here")
    p.add_argument("--plotlyjs", choices=PLOTLYJS, default="directory",
                   help="figures: one shared plotly.min.js beside them (default), the CDN, or inlined in each")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from metaeval.cli import CliError
    from metaeval.commands.agreement import _query_keys, _split_spec, load_judge
    from metaeval.stats.agreement import votes_frame
    from metaeval.stats.design import read_vote_design
    from metaeval.stats.rankings import rankings_study

    if args.bootstrap < 0:
        raise CliError("--bootstrap must be at least 0")
    if args.prior < 0:
        raise CliError("--prior must be at least 0")
    try:
        resources.check_input_files([args.votes, *(s.partition("=")[2] for s in args.judge)], command="rankings")
        votes = read_votes(args.votes)
        if not votes:
            raise InputFileError("no votes", path=args.votes)
        hf = votes_frame(votes)
        human_pairs = hf[["qid", "lo", "hi"]].drop_duplicates()
        judges = {}
        for spec in args.judge:
            name, path = _split_spec(spec, "--judge")
            if name in judges or name == "human":
                raise CliError(f"--judge name {name!r} given twice or reserved")
            judges[name] = load_judge(path, human_pairs, epsilon=args.tie_epsilon)
        resources.check_rankings(n_resamples=args.bootstrap, n_queries=hf["qid"].nunique(),
                                 n_models=len(set(hf["lo"]) | set(hf["hi"])), n_sources=1 + len(judges))
        by_keys = None
        by = BY_FIELDS[args.by] if args.by else None
        if by is not None:
            from_votes = {str(q): v for q, v in zip(hf["qid"], hf[by], strict=True) if isinstance(v, str)}
            by_keys = {**(_query_keys(args.queries)[by] if args.queries else {}), **from_votes}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = rankings_study(votes, judges, n_resamples=args.bootstrap, seed=args.seed, prior=args.prior,
                                    by=args.by, by_keys=by_keys, design=read_vote_design(args.votes))
        for w in caught:
            log.warning("%s", w.message)
    except (InputFileError, ValueError) as exc:
        raise CliError(str(exc)) from exc
    wide = 1 + 4 * (1 + len(args.judge)) > MAX_COLUMNS  # the full table: the model, 4 columns per source
    if args.format in ("markdown", "latex", "html") and (args.table == "compact" or (args.table == "auto" and wide)):
        text = render_rankings_compact(result, fmt=args.format)
    else:
        text = render_rankings(result, fmt=args.format)
    if args.output:
        write_text_atomic(args.output, text)
    else:
        sys.stdout.write(text)
    if args.figures:
        for written in write_ranking_figures(result, args.figures, plotlyjs=args.plotlyjs):
            log.info("wrote %s", written)
    return 0
