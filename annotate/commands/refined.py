"""``annotate export refined FILE --provenance FILE``: the refined benchmark and its provenance.

The ``export`` group is created by :mod:`annotate.commands.db`
(:func:`annotate.commands.db.subcommand_group`); this module adds ``refined`` to it.
"""

from __future__ import annotations

import argparse
from typing import Any

from annotate.commands import command_session
from annotate.db.engine import init_db


def cmd_export_refined(args: argparse.Namespace) -> int:
    """Write the refined benchmark and the provenance file; print one summary line."""
    from annotate.services.refine.refined_export import export_refined

    with command_session(init_db(args.db), errors=(ValueError, OSError)) as session:
        report = export_refined(session=session, path=args.file, provenance_path=args.provenance)
    print(f"wrote {report.queries} queries ({report.changed} changed) to {report.path}; "
          f"provenance in {report.provenance_path}")
    return 0


def register(subparsers: Any) -> None:
    """Add ``export refined`` to the ``export`` group."""
    from annotate.commands.db import subcommand_group

    exports = subcommand_group(subparsers, "export", "export files")
    out = exports.add_parser("refined", help="export the refined benchmark (approved edits, kept materials)")
    out.add_argument("file", help="output JSONL in WritingBench's layout")
    out.add_argument("--provenance", required=True, metavar="FILE",
                     help="output JSONL with version ids, editors and reasons per query")
    out.set_defaults(func=cmd_export_refined)
