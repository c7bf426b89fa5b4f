"""``annotate export votes|pairs --study NAME FILE`` and ``annotate export responses FILE``.

``votes``: a study's human votes in FastChat's layout. ``pairs``: the study's pairs before any
vote (``metaeval grid --pairs FILE``). ``responses``: every stored response with its ``model``
field (``metaeval judge|grid --responses FILE``).

The ``export`` group is shared with :mod:`annotate.commands.db` through its
``subcommand_group`` (whichever module registers first creates it);
:func:`add_export_votes` adds ``votes`` to it once.
"""

from __future__ import annotations

import argparse

from annotate.commands import command_session
from annotate.db.engine import init_db
from annotate.db.models import User
from annotate.services.core.roles import Role


def _export_votes(args: argparse.Namespace) -> int:
    from annotate.services.studies.votes_export import export_votes

    fmt = args.format or _format_from_suffix(args.file)
    with command_session(init_db(args.db)) as session:
        n = export_votes(session=session, actor=User(username="command-line", role=Role.ADMIN),
                         study_name=args.study, path=args.file, fmt=fmt, include_stale=args.include_stale)
    print(f"wrote {n} rows to {args.file}")
    return 0


def _export_pairs(args: argparse.Namespace) -> int:
    from annotate.services.studies.study_files import export_pairs

    with command_session(init_db(args.db), prefix=args.file) as session:
        n = export_pairs(session=session, actor=User(username="command-line", role=Role.ADMIN),
                         study_name=args.study, path=args.file)
    print(f"wrote {n} pairs to {args.file}")
    return 0


def _export_responses(args: argparse.Namespace) -> int:
    from annotate.services.studies.study_files import export_responses

    models = [m.strip() for m in args.models.split(",") if m.strip()] if args.models else None
    with command_session(init_db(args.db), prefix=args.file) as session:
        n = export_responses(session=session, path=args.file, models=models)
    print(f"wrote {n} responses to {args.file}")
    return 0


def _import_votes(args: argparse.Namespace) -> int:
    from annotate.services.studies.votes_import import import_votes

    with command_session(init_db(args.db)) as session:
        report = import_votes(session=session, actor=User(username="command-line", role=Role.ADMIN),
                              study_name=args.study, path=args.file, turn=args.turn)
    print(f"{args.file}: {report.summary()}")
    return 0


def _format_from_suffix(path: str) -> str:
    """``csv``/``parquet`` from the file name, else ``jsonl``.

    Example:
        >>> _format_from_suffix("v.parquet"), _format_from_suffix("v.jsonl")
        ('parquet', 'jsonl')
    """
    lower = path.lower()
    if lower.endswith(".csv"):
        return "csv"
    if lower.endswith(".parquet"):
        return "parquet"
    return "jsonl"


def add_export_votes(export_subparsers: argparse._SubParsersAction) -> None:
    """Add ``votes`` to the ``export`` group's subparsers (called by ``commands/db.py``)."""
    if "votes" in export_subparsers.choices:
        return
    votes = export_subparsers.add_parser("votes", help="a study's votes (FastChat layout) or ratings")
    votes.add_argument("--study", required=True, metavar="NAME", help="study name")
    votes.add_argument("file", metavar="FILE", help="output file")
    votes.add_argument("--format", choices=["jsonl", "csv", "parquet", "fastchat"], default=None,
                       help="default: from the file suffix, else jsonl; fastchat: one JSON array of the overall "
                            "votes with 'turn' and judges named expert_<user>, what FastChat's "
                            "compute_agreement.py reads")
    votes.add_argument("--include-stale", action="store_true",
                       help="keep votes made on a query version that has since changed")
    votes.set_defaults(func=_export_votes)

    pairs = export_subparsers.add_parser("pairs", help="a study's pairs before any vote (for metaeval grid --pairs)")
    pairs.add_argument("--study", required=True, metavar="NAME", help="study name")
    pairs.add_argument("file", metavar="FILE", help="output file (JSON Lines)")
    pairs.set_defaults(func=_export_pairs)

    responses = export_subparsers.add_parser("responses", help="the stored responses, each with its model")
    responses.add_argument("file", metavar="FILE", help="output file (JSON Lines: index, model, response)")
    responses.add_argument("--models", metavar="M1,M2", help="only these models")
    responses.set_defaults(func=_export_responses)


def register(subparsers: argparse._SubParsersAction) -> None:
    from annotate.commands.db import subcommand_group

    add_export_votes(subcommand_group(subparsers, "export", "export files"))
    imports = subcommand_group(subparsers, "import", "import WritingBench files")
    votes = imports.add_parser(
        "votes", help="human votes collected elsewhere, into a pairwise study",
        description="FastChat judgment layout (JSON Lines), FastChat's human-judgment JSON array, or CSV with "
                    "question_id, model_a, model_b, winner, judge. Each vote becomes a finished task of the "
                    "person named in 'judge' (an inactive account is made for unknown names).")
    votes.add_argument("file", metavar="FILE")
    votes.add_argument("--study", required=True, metavar="NAME", help="the pairwise study holding the pairs")
    votes.add_argument("--turn", type=int, metavar="N", help="FastChat files: the turn to import")
    votes.set_defaults(func=_import_votes)
