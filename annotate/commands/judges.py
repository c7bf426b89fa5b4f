"""``annotate import scores FILE --judge NAME --method M [--model NAME] [--replace]``.

Imports a judge score file (WritingBench's per-(model, judge, method) evaluation output or
the long layout) into the database; see :mod:`annotate.services.judges.judge_runs`.
"""

from __future__ import annotations

import argparse
from typing import Any

from annotate.commands import command_session
from annotate.commands.db import _open, subcommand_group


def cmd_import_scores(args: argparse.Namespace) -> int:
    """Import one judge score file; prints one summary line."""
    from annotate.services.judges.judge_runs import import_scores

    with command_session(_open(args)) as session:
        report = import_scores(session=session, path=args.file, judge=args.judge, method=args.method,
                               model=args.model, replace=args.replace)
    print(report.summary())
    return 0


def register(subparsers: Any) -> None:
    """Add ``import scores`` to the shared ``import`` group."""
    imports = subcommand_group(subparsers, "import", "import WritingBench files")
    scores = imports.add_parser(
        "scores", help="import judge scores (WritingBench evaluation output or long layout)",
        description="Import a judge score file into the judge run (JUDGE, METHOD). WritingBench layout: "
                    "{index, scores: {criterion: [{score, reason}]}} per model (give --model unless lines carry "
                    "'model'); long layout: {index, model, judge, method, criterion, score, reason}.")
    scores.add_argument("file", metavar="FILE")
    scores.add_argument("--judge", required=True, metavar="NAME", help="judge name, e.g. gpt-4o or critic-7b")
    scores.add_argument("--method", required=True, metavar="M",
                        help="criteria method: static-global, static-domain, dynamic (or another name)")
    scores.add_argument("--model", metavar="NAME", default=None,
                        help="the model whose responses were scored (WritingBench layout)")
    scores.add_argument("--replace", action="store_true",
                        help="overwrite stored scores that differ (default: refuse)")
    scores.set_defaults(func=cmd_import_scores)
