"""``annotate serve`` and ``annotate demo``: start the Streamlit app.

    annotate [--db URL] serve [--port P] [--address HOST]
    annotate [--db URL] demo [--port P] [--no-serve]

``serve`` upgrades the database in place, then runs ``streamlit run annotate/asgi.py``
headless with ``ANNOTATE_DB_URL`` set, in place of this process (exec: signals reach the server,
and the port is free once it stops); a port already taken is a one-line error (exit 2) before
anything is printed as served: the ``st.App`` there serves the same Streamlit UI
plus the JSON API under ``/api/v1`` (:mod:`annotate.api.routes`) on one port, with uvicorn. ``demo`` first builds
(or refreshes) ``var/demo.db``: taxonomy, the demo queries and responses of ``annotate/data/demo``,
demo accounts sharing one password (``$ANNOTATE_DEMO_PASSWORD``, default
``demo-password``; for the demo only, never for real data), a small demo study and judge
runs for the researcher pages. Like every other command, ``demo`` honours ``--db`` and
``$ANNOTATE_DB_URL``; without either it uses ``var/demo.db``.
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url

from annotate.auth.origin import public_origins
from annotate.commands import CliError, command_session
from annotate.db.engine import ENV_VAR, init_db, resolve_url
from annotate.db.models import User
from annotate.services.accounts import users as users_service
from annotate.services.content.imports import import_queries, import_responses
from annotate.services.core.errors import Conflict, ServiceError
from annotate.services.core.roles import Role
from annotate.services.core.server_registry import register_server
from annotate.services.core.taxonomy import seed_taxonomy
from annotate.services.judges.demo_judging import seed_demo_judging
from annotate.services.refine.demo_materials import seed_demo_materials
from annotate.services.studies.design import StudyDesign, create_study

if TYPE_CHECKING:
    from sqlmodel import Session

log = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parent.parent
REPO_ROOT = PACKAGE_DIR.parent
APP_PATH = PACKAGE_DIR / "asgi.py"
DEMO_DIR = PACKAGE_DIR / "data" / "demo"
DEMO_DB = Path("var") / "demo.db"
DEMO_PASSWORD_ENV = "ANNOTATE_DEMO_PASSWORD"
DEFAULT_DEMO_PASSWORD = "demo-password"
DEMO_ACCOUNTS: list[tuple[str, Role]] = [
    ("annotator1", Role.ANNOTATOR), ("annotator2", Role.ANNOTATOR),
    ("expert1", Role.EXPERT), ("expert2", Role.EXPERT),
    ("researcher1", Role.RESEARCHER), ("admin1", Role.ADMIN),
]
DEMO_STUDY = "demo-study"


def absolute_sqlite_url(url: str) -> str:
    """``url`` with a relative SQLite path made absolute (the server may run elsewhere).

    Example:
        >>> absolute_sqlite_url("postgresql://db/x")
        'postgresql://db/x'
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return url
    path = Path(parsed.database).expanduser()
    if path.is_absolute():
        return url
    return parsed.set(database=str(path.resolve())).render_as_string(hide_password=False)


def streamlit_command(port: int, address: str | None = None) -> list[str]:
    """The ``streamlit run`` command line for the app server (UI and API), headless and
    without usage stats or external look-ups."""
    # hideWelcomeMessage: a headless server otherwise looks up its external IP at
    # checkip.amazonaws.com to print it; we print our own URL instead.
    cmd = [sys.executable, "-m", "streamlit", "run", str(APP_PATH),
           "--server.port", str(port), "--server.headless", "true",
           "--browser.gatherUsageStats", "false", "--logger.hideWelcomeMessage", "true"]
    if address:
        cmd += ["--server.address", address]
    return cmd


def check_port_free(port: int, address: str | None = None) -> None:
    """Raise :class:`CliError` when ``port`` cannot be bound (another server holds it).

    Binds the way the server will (``SO_REUSEADDR``, so a port in TIME_WAIT counts as free) and
    lets go at once.
    """
    host = address or ""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            where = f"{address}:{port}" if address else f"port {port}"
            reason = "is already in use (is another server running?)" if exc.errno == errno.EADDRINUSE \
                else f"cannot be opened ({exc.strerror})"
            raise CliError(f"{where} {reason}; stop that server or choose another --port") from None


def server_environment(url: str, environ: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of the server process: ours, with the database URL, and uvicorn's
    proxy-header rewriting turned off.

    uvicorn believes ``X-Forwarded-For`` and ``X-Forwarded-Proto`` from the peers in
    ``FORWARDED_ALLOW_IPS`` (loopback by default), so any local client could choose the
    address the login limits count. An empty list trusts no peer; the app reads the one header
    its settings name, from the proxies they name (:mod:`annotate.auth.client_address`).

    Example:
        >>> server_environment("sqlite:///x.db", {"FORWARDED_ALLOW_IPS": "*"})["FORWARDED_ALLOW_IPS"]
        ''
    """
    return dict(os.environ if environ is None else environ, ANNOTATE_DB_URL=url, FORWARDED_ALLOW_IPS="")


def run_app(url: str, port: int, address: str | None = None) -> int:
    """Replace this process with the Streamlit server for ``url`` (never returns on success).

    The server takes this process's id, so a SIGTERM or Ctrl-C sent to ``annotate serve`` reaches
    it directly and it frees the port; no wrapper is left to die alone with its child running.
    """
    env = server_environment(url)
    # Run from the repository when it has the committed .streamlit/config.toml (theme etc.).
    cwd = REPO_ROOT if (REPO_ROOT / ".streamlit").is_dir() else Path.cwd()
    command = streamlit_command(port, address)
    register_server(url)  # held by the server until it exits: `annotate restore` refuses meanwhile
    sys.stdout.flush()
    sys.stderr.flush()
    os.chdir(cwd)
    os.execve(command[0], command, env)
    return 0  # pragma: no cover - execve does not return


def check_public_url() -> None:
    """Raise :class:`CliError` when ``$ANNOTATE_PUBLIC_URL`` is malformed (before serving)."""
    try:
        public_origins()
    except ValueError as exc:
        raise CliError(str(exc)) from None


def _serve(args: argparse.Namespace) -> int:
    url = absolute_sqlite_url(resolve_url(args.db))
    check_public_url()
    check_port_free(args.port, args.address)
    init_db(url).dispose()
    print(f"annotate: serving {make_url(url).render_as_string(hide_password=True)} "
          f"at http://localhost:{args.port}", flush=True)
    return run_app(url, args.port, args.address)


def _demo_study(session: Session, researcher: User | None) -> str:
    """Create the small pairwise demo study; a note on what happened."""
    design = StudyDesign(name=DEMO_STUDY, per_subdomain=1, overlap=2,
                         annotators=["annotator1", "annotator2"], seed=7)
    try:
        create_study(session=session, actor=researcher, design=design)
    except Conflict:
        return f"demo study {DEMO_STUDY!r} kept as it was"
    except ServiceError as exc:
        return f"demo study not created: {exc}"
    return f"demo study {DEMO_STUDY!r} created for annotator1 and annotator2"


def build_demo(url: str, password: str) -> list[str]:
    """Create or refresh the demo database at ``url``; returns notes to print."""
    queries = DEMO_DIR / "queries.jsonl"
    responses = DEMO_DIR / "responses.jsonl"
    if not queries.is_file():
        raise CliError(f"{queries}: demo queries not found")
    try:
        users_service.validate_password(password)
    except ServiceError as exc:
        raise CliError(f"${DEMO_PASSWORD_ENV}: {exc}") from exc
    notes: list[str] = []
    with command_session(init_db(url)) as session:
        seed_taxonomy(session)
        import_queries(session=session, path=queries)
        if responses.is_file():
            import_responses(session=session, path=responses)
        researcher = None
        accounts: dict[str, User] = {}
        for username, role in DEMO_ACCOUNTS:
            user = users_service.get_user_by_username(session=session, username=username)
            if user is None:
                user = users_service.create_user(session=session, username=username, role=role,
                                                 password=password)
            else:  # keep the printed password true on a re-run
                users_service.set_password(session=session, username=username, password=password)
            accounts[username] = user
            if role == Role.RESEARCHER:
                researcher = user
        if (DEMO_DIR / "materials.jsonl").is_file():  # before the study: its judgments see the materials
            notes.append(seed_demo_materials(session=session, path=DEMO_DIR / "materials.jsonl",
                                             collector=accounts["annotator1"], verifier=accounts["expert2"]))
        notes.append(_demo_study(session, researcher))
        if researcher is not None:  # judge runs and an already-judged study for the researcher pages
            notes.append(seed_demo_judging(session=session, researcher=researcher,
                                           annotators=["annotator1", "annotator2"]))
    return notes


def _demo(args: argparse.Namespace) -> int:
    url = absolute_sqlite_url(args.db or os.environ.get(ENV_VAR) or f"sqlite:///{DEMO_DB}")
    password = os.environ.get(DEMO_PASSWORD_ENV) or DEFAULT_DEMO_PASSWORD
    notes = build_demo(url, password)
    print(f"Demo database: {make_url(url).render_as_string(hide_password=True)}")
    for note in notes:
        print(f"  note: {note}")
    print(f"Demo accounts (password for all: {password!r}; for the demo only):")
    for username, role in DEMO_ACCOUNTS:
        print(f"  {username:<12} {role}")
    if args.no_serve:
        return 0
    check_public_url()
    check_port_free(args.port, args.address)
    print(f"Open http://localhost:{args.port} (Ctrl+C stops the app)", flush=True)
    return run_app(url, args.port, args.address)


def register(subparsers: argparse._SubParsersAction) -> None:
    serve = subparsers.add_parser("serve", help="start the Streamlit app",
                                  description="Upgrade the database and start the app (headless).")
    serve.add_argument("--port", type=int, default=8501, help="port to listen on (default 8501)")
    serve.add_argument("--address", default=None, help="address to bind (default: Streamlit's)")
    serve.set_defaults(func=_serve)

    demo = subparsers.add_parser(
        "demo", help="build the demo database and start the app on it",
        description=f"Build or refresh var/demo.db (or --db) with the demo project and accounts, then "
                    f"start the app. Demo password: ${DEMO_PASSWORD_ENV} or {DEFAULT_DEMO_PASSWORD!r}.")
    demo.add_argument("--port", type=int, default=8501, help="port to listen on (default 8501)")
    demo.add_argument("--address", default=None, help="address to bind (default: Streamlit's)")
    demo.add_argument("--no-serve", action="store_true", help="build the database only")
    demo.set_defaults(func=_demo)
