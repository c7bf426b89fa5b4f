"""``annotate export votes --study NAME FILE``: a study's human votes in FastChat's layout.

The ``export`` group is shared with :mod:`annotate.commands.db` through its
``subcommand_group`` (whichever module registers first creates it);
:func:`add_export_votes` adds ``votes`` to it once.
"""

from __future__ import annotations

import argparse

from annotate.commands import command_session
from annotate.db.engine import init_db
from annotate.db.models import User


def _export_votes(args: argparse.Namespace) -> int:
    from annotate.services.studies.votes_export import export_votes

    fmt = args.format or _format_from_suffix(args.file)
    with command_session(init_db(args.db)) as session:
        n = export_votes(session=session, actor=User(username="command-line", role="admin"),
                         study_name=args.study, path=args.file, fmt=fmt, include_stale=args.include_stale)
    print(f"wrote {n} rows to {args.file}")
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


def register(subparsers: argparse._SubParsersAction) -> None:
    from annotate.commands.db import subcommand_group

    add_export_votes(subcommand_group(subparsers, "export", "export files"))
