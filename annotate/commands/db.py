"""``annotate init``, ``annotate import queries|responses FILE`` and ``annotate export queries FILE``.

``init`` creates the database (or upgrades it to the newest schema) and seeds the
taxonomy. Imports and exports do the same first, so they also work on a new database.
Bad input is reported as one line naming the file, line and field (exit status 2).

Other modules that add a subcommand under ``import`` or ``export`` (e.g. ``export votes``)
get the shared group with :func:`subcommand_group`.
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

from annotate.commands import CliError, command_session
from annotate.db.engine import init_db, resolve_url, session_scope
from annotate.services.core.errors import ServiceError

log = logging.getLogger(__name__)

def subcommand_group(subparsers: Any, name: str, help_text: str) -> Any:
    """The sub-subparsers of the command group ``name`` (``import``, ``export``), created once.

    Works whichever module registers the group first: an existing parser of that name
    is reused with its own sub-subparsers.

    Example:
        >>> parser = argparse.ArgumentParser()
        >>> top = parser.add_subparsers()
        >>> subcommand_group(top, "export", "write files") is subcommand_group(top, "export", "")
        True
    """
    parser = subparsers.choices.get(name)
    if parser is None:
        parser = subparsers.add_parser(name, help=help_text)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    return parser.add_subparsers(dest=f"{name}_command", required=True, metavar="WHAT")


def _open(args: argparse.Namespace) -> Any:
    """Create/upgrade the database of ``--db`` / ``$ANNOTATE_DB_URL`` and seed the taxonomy."""
    from annotate.services.core.taxonomy import seed_taxonomy

    url = resolve_url(getattr(args, "db", None))
    try:
        engine = init_db(url)
        with session_scope(engine) as session:
            seed_taxonomy(session)
    except Exception as exc:  # a broken URL or an unreachable server: one line for people
        raise CliError(f"cannot open the database {url!r}: {exc}") from exc
    return engine


def cmd_init(args: argparse.Namespace) -> int:
    """Create or upgrade the database and seed the taxonomy."""
    from sqlmodel import func, select

    from annotate.db.engine import current_revisions
    from annotate.db.models import Domain, Subdomain

    engine = _open(args)
    with session_scope(engine) as session:
        domains = session.exec(select(func.count()).select_from(Domain)).one()
        subdomains = session.exec(select(func.count()).select_from(Subdomain)).one()
    revision = ",".join(sorted(current_revisions(engine)))
    print(f"database ready: {engine.url.render_as_string(hide_password=True)} "
          f"(schema {revision}; {domains} domains, {subdomains} subdomains)")
    engine.dispose()
    return 0


def cmd_import_queries(args: argparse.Namespace) -> int:
    """Import a WritingBench query file."""
    from annotate.services.content.imports import import_queries

    with command_session(_open(args)) as session:
        report = import_queries(session=session, path=args.file, requirement=args.requirement)
    print(f"{args.file}: {report.summary()}")
    return 0


def cmd_import_responses(args: argparse.Namespace) -> int:
    """Import a response file."""
    from annotate.services.content.imports import import_responses

    with command_session(_open(args)) as session:
        report = import_responses(session=session, path=args.file, model=args.model)
    print(f"{args.file}: {report.summary()}")
    return 0


def cmd_export_queries(args: argparse.Namespace) -> int:
    """Export the queries to a WritingBench JSONL file."""
    from annotate.services.content.exports import export_queries

    with command_session(_open(args), errors=(ServiceError, OSError), prefix=args.file) as session:
        count = export_queries(session=session, path=args.file, requirement=args.requirement,
                               current=args.current)
    print(f"{args.file}: {count} queries written")
    return 0


def register(subparsers: Any) -> None:
    """Add ``init``, ``import queries|responses`` and ``export queries``."""
    init = subparsers.add_parser("init", help="create or upgrade the database and seed the taxonomy")
    init.set_defaults(func=cmd_init)

    imports = subcommand_group(subparsers, "import", "import WritingBench files")
    queries = imports.add_parser("queries", help="import a WritingBench query file (JSONL)")
    queries.add_argument("file", metavar="FILE")
    queries.add_argument("--requirement", metavar="NAME", default=None,
                         help="the file is a requirement subset (e.g. length): import its checklists "
                              "(1-5 criteria) as the queries' NAME requirement checklists")
    queries.set_defaults(func=cmd_import_queries)
    responses = imports.add_parser("responses", help="import model responses (JSONL)")
    responses.add_argument("file", metavar="FILE")
    responses.add_argument("--model", metavar="NAME", default=None,
                           help="the model that wrote them (for files without a 'model' field)")
    responses.set_defaults(func=cmd_import_responses)

    exports = subcommand_group(subparsers, "export", "export files")
    out = exports.add_parser("queries", help="export the queries as WritingBench JSONL")
    out.add_argument("file", metavar="FILE")
    out.add_argument("--requirement", metavar="NAME", default=None,
                     help="write the NAME requirement checklists instead of the main checklists")
    out.add_argument("--current", action="store_true",
                     help="write each query's current text (approved edits, kept materials)")
    out.set_defaults(func=cmd_export_queries)
