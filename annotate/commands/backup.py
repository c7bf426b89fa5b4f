"""``annotate backup FILE`` and ``annotate restore FILE``.

``backup`` writes FILE and its checksum FILE.sha256. ``restore`` checks the backup first (checksum,
integrity, a known revision, the schema that revision creates, no app server on the database) and
refuses with exit 2, leaving the database unchanged, when any check fails.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from annotate.commands import CliError
from annotate.db.engine import resolve_url
from annotate.services.core.backup import backup_database, restore_database
from annotate.services.core.errors import ServiceError


def _backup(args: argparse.Namespace) -> int:
    try:
        path = backup_database(resolve_url(args.db), Path(args.file))
    except ServiceError as exc:
        raise CliError(str(exc)) from exc
    print(f"backup written to {path}")
    return 0


def _restore(args: argparse.Namespace) -> int:
    if not args.yes:
        raise CliError("restore replaces every row of the database; repeat with --yes to confirm")
    try:
        restore_database(resolve_url(args.db), Path(args.file), require_checksum=not args.no_checksum)
    except ServiceError as exc:
        raise CliError(f"restore refused, the database is unchanged: {exc}") from exc
    except OSError as exc:
        raise CliError(f"restore refused, the database is unchanged: {args.file}: {exc.strerror or exc}") from exc
    print(f"database restored from {args.file}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    backup = subparsers.add_parser("backup", help="write a consistent backup of the database")
    backup.add_argument("file", help="backup file to write (SQLite copy or pg_dump archive)")
    backup.set_defaults(func=_backup)
    restore = subparsers.add_parser("restore", help="replace the database with a backup")
    restore.add_argument("file", help="backup file written by `annotate backup`")
    restore.add_argument("--yes", action="store_true", help="confirm replacing the current data")
    restore.add_argument("--no-checksum", action="store_true",
                         help="accept a backup without its FILE.sha256 (every other check still runs)")
    restore.set_defaults(func=_restore)
