"""``annotate users``: manage accounts from the command line.

The password is read from ``ANNOTATE_PASSWORD`` or prompted for (twice, not echoed); it is
never printed or logged.

    annotate users add USERNAME --role annotator|expert|researcher|admin [--name "Full Name"]
    annotate users list
    annotate users set-password USERNAME
    annotate users deactivate USERNAME
    annotate users activate USERNAME
"""

from __future__ import annotations

import argparse
import getpass
import os

from annotate.commands import CliError, command_session
from annotate.db.engine import init_db
from annotate.services.accounts import users as users_service
from annotate.services.core.roles import ROLES

PASSWORD_ENV = "ANNOTATE_PASSWORD"


def read_password(prompt: str = "Password: ") -> str:
    """The password from ``$ANNOTATE_PASSWORD``, else prompted twice without echo."""
    from_env = os.environ.get(PASSWORD_ENV)
    if from_env:
        return from_env
    try:
        first = getpass.getpass(prompt)
        second = getpass.getpass("Repeat the password: ")
    except (EOFError, KeyboardInterrupt) as exc:
        raise CliError(f"no password given (set {PASSWORD_ENV} or type it at the prompt)") from exc
    if first != second:
        raise CliError("the two passwords differ")
    return first


def _add(args: argparse.Namespace) -> int:
    password = read_password()
    with command_session(init_db(args.db)) as session:
        user = users_service.create_user(session=session, username=args.username, role=args.role,
                                         password=password, display_name=args.name or "")
    print(f"created {user.username} ({user.role})")
    return 0


def _list(args: argparse.Namespace) -> int:
    with command_session(init_db(args.db), errors=()) as session:
        accounts = users_service.list_users(session=session, actor=None)
    for user in accounts:
        state = "active" if user.active else "deactivated"
        print(f"{user.username}\t{user.role}\t{state}")
    return 0


def _set_password(args: argparse.Namespace) -> int:
    password = read_password("New password: ")
    with command_session(init_db(args.db)) as session:
        user = users_service.set_password(session=session, username=args.username, password=password)
    print(f"password of {user.username} changed")
    return 0


def _set_active(args: argparse.Namespace, active: bool) -> int:
    with command_session(init_db(args.db)) as session:
        user = users_service.set_active(session=session, username=args.username, active=active)
    print(f"{user.username} {'activated' if active else 'deactivated'}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("users", help="manage accounts",
                                   description=f"Manage accounts. Passwords come from ${PASSWORD_ENV} "
                                               "or a prompt, never from the command line.")
    sub = parser.add_subparsers(dest="users_command", required=True)

    add = sub.add_parser("add", help="create an account")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--name", help="display name shown in the app")
    add.set_defaults(func=_add)

    lst = sub.add_parser("list", help="list accounts")
    lst.set_defaults(func=_list)

    pw = sub.add_parser("set-password", help="set a new password (also lifts a login block)")
    pw.add_argument("username")
    pw.set_defaults(func=_set_password)

    de = sub.add_parser("deactivate", help="stop an account from logging in")
    de.add_argument("username")
    de.set_defaults(func=lambda args: _set_active(args, False))

    ac = sub.add_parser("activate", help="let a deactivated account log in again")
    ac.add_argument("username")
    ac.set_defaults(func=lambda args: _set_active(args, True))
