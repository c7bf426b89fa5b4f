"""The JSON routes of the annotation API (Starlette), all through the services.

    POST /api/v1/login          {"username", "password"} -> {"token", "expires_at", "user", "role"}
    GET  /api/v1/me             -> {"user", "role"}
    GET  /api/v1/studies        -> {"studies": [{"study_id", "name", "kind", "status", "done", "total"}]}
    GET  /api/v1/tasks/next     [?study_id=N] -> {"task": {...} | null}
    GET  /api/v1/tasks/{id}     -> {"task": {...}}
    POST /api/v1/tasks/{id}/skip
    POST /api/v1/judgments      {"assignment_id", "choice", "submit_token", "instruction_version_no",
                                 "content_revision", ["both_poor", "per_criterion", "rationale",
                                 "flags", "elapsed_s"]} -> 201 {"judgment_id", "revision", "created"}
                                 (200 with created=false when the token was already recorded);
                                 "choice": "left" | "right" | "tie" | "both_poor" ("both_poor":
                                 a tie of two poor responses; "both_poor": true goes with "tie" only)
    POST /api/v1/ratings        {"assignment_id", "score", "submit_token", "instruction_version_no",
                                 "content_revision", ["error_type", "rationale", "elapsed_s", "study_id"]}
                                 -> 201 {"judgment_id", "revision", "created"} (a pointwise study's task;
                                 200 with created=false when the token was already recorded; a new
                                 token on a rated task revises it: revision + 1)
    GET  /api/v1/health         -> {"ok": true}

Every route but login and health needs ``Authorization: Bearer <token>``; the account is
reloaded on each request, so a deactivated account, a changed password or a logout of the
account in the app stops its tokens at once (and a re-activated account's old tokens stay
refused: :func:`annotate.auth.tokens.token_accepts`). Login failures are recorded and slowed exactly as in the app
(:func:`annotate.services.accounts.users.authenticate`, per client address and per
(address, username), the address from :mod:`annotate.auth.client_address`): a slowed
attempt gets 429 with ``Retry-After``. Errors are ``{"error": message}`` with 400 (bad input), 401, 403, 404,
409 (conflict), 413 (a body over
256 KiB) or 429; no input gives 500 (:mod:`annotate.api.bodies`). The bearer token is checked
before a body is read, so a bad token gets 401 whatever follows.

Database work runs in worker threads, at most :data:`DB_WORKERS` requests at once per
process plus :data:`LOGIN_WORKERS` logins (password hashing is CPU-bound); the engine's pool
holds :data:`API_CONNECTIONS`, so a request that got a worker never waits for a connection
and the others wait in the event loop, not in threads fighting over the GIL and the pool.
Every answer carries ``Server-Timing: app;dur=<ms>``, the time spent in the route (waiting
for a worker, authentication and the database work), which ``bench/stress.py`` reports.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any

import anyio
import anyio.to_thread
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from annotate.api import bodies
from annotate.api.bodies import ApiError
from annotate.auth import client_address
from annotate.auth.tokens import DEFAULT_TTL_S, issue_token, token_accepts, verify_token
from annotate.db.engine import READ_ONLY, session_scope
from annotate.db.models import User
from annotate.services.accounts import login_limits, users
from annotate.services.annotate import judgments
from annotate.services.annotate import tasks as assignments
from annotate.services.core.errors import (
    Conflict,
    InputError,
    NotFound,
    PermissionDenied,
    ServiceError,
    for_person,
)

log = logging.getLogger(__name__)

PREFIX = "/api/v1"
STATUS = {InputError: 400, PermissionDenied: 403, NotFound: 404, Conflict: 409}
DB_WORKERS = 8
"""Requests doing database work at once, per process (the rest wait in the event loop)."""
LOGIN_WORKERS = 2
"""Logins checking a password at once, per process (argon2 is CPU-bound)."""
API_CONNECTIONS = DB_WORKERS + LOGIN_WORKERS
"""Connections the API's engine pool needs (see :mod:`annotate.asgi`)."""


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _reconnecting(fn: Callable[[], Any]) -> Any:
    """``fn()``, run a second time if its database connection was found dead."""
    try:
        return fn()
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        log.warning("the database connection was lost (%s); running the request again", type(exc.orig).__name__)
        return fn()


def _timed(response: JSONResponse, start: float) -> JSONResponse:
    """``response`` with a ``Server-Timing`` header: milliseconds since ``start``."""
    response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - start) * 1000:.2f}"
    return response


def _task_json(task: assignments.TaskView | None) -> dict[str, Any] | None:
    return None if task is None else dataclasses.asdict(task)


class Api:
    """The API's routes bound to one engine and one signing secret."""

    def __init__(self, engine: Engine | Callable[[], Engine], secret: bytes | Callable[[], bytes], *,
                 token_ttl_s: float = DEFAULT_TTL_S, workers: int = DB_WORKERS,
                 login_workers: int = LOGIN_WORKERS) -> None:
        self._engine, self._secret, self.token_ttl_s = engine, secret, token_ttl_s
        self._lock = threading.Lock()  # the engine and secret are made once, on first use
        self._sizes = {"db": workers, "login": login_workers}
        self._limiters: dict[str, anyio.CapacityLimiter] = {}

    async def _in_worker(self, kind: str, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` in a worker thread, at most ``workers`` (``kind="db"``) or
        ``login_workers`` (``"login"``) at once; callers beyond that wait here.

        ``fn`` is run once more when its database connection turned out to be dead (the
        server restarted since it was pooled): the API's engine does not ping connections
        before use. Every route may be repeated: a submit is recorded once per token.
        """
        limiter = self._limiters.get(kind)
        if limiter is None:  # made in the event loop, on first use
            limiter = self._limiters[kind] = anyio.CapacityLimiter(self._sizes[kind])
        return await anyio.to_thread.run_sync(_reconnecting, fn, limiter=limiter)

    @property
    def engine(self) -> Engine:
        with self._lock:
            if callable(self._engine) and not isinstance(self._engine, Engine):
                self._engine = self._engine()
            return self._engine

    @property
    def secret(self) -> bytes:
        with self._lock:
            if callable(self._secret):
                self._secret = self._secret()
            return self._secret

    # ------------------------------------------------------------------ plumbing

    def _actor(self, session: Session, request: Request) -> User:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise ApiError(401, "log in first (Authorization: Bearer <token>)",
                           {"WWW-Authenticate": "Bearer"})
        claims = verify_token(self.secret, token.strip())
        user = None if claims is None else users.account_snapshot(session=session, user_id=claims.user_id)
        if claims is None or user is None or not token_accepts(claims, user):
            raise ApiError(401, "the token is invalid or expired; log in again",
                           {"WWW-Authenticate": "Bearer"})
        return user

    async def _run(self, request: Request, work: Callable[..., Any], status: int = 200, *,
                   read_only: bool = False) -> JSONResponse:
        """Authenticate, then run ``work(session, actor)`` in a worker thread; map errors.

        One session, one pooled connection and (on PostgreSQL) one transaction for the
        account look-up and the work. ``read_only`` routes begin it as a read (on SQLite a
        plain ``BEGIN``, which does not wait for writers); the others as a write.
        """
        start = time.perf_counter()

        def call() -> Any:
            with session_scope(self.engine) as session:
                if read_only:
                    session.connection(execution_options={READ_ONLY: True})
                return work(session, self._actor(session, request))

        try:
            result = await self._in_worker("db", call)
        except ApiError as exc:
            return _timed(_error(exc.status, exc.message, exc.headers), start)
        except ServiceError as exc:
            return _timed(_error(STATUS.get(type(exc), 400), for_person(exc)), start)
        if isinstance(result, JSONResponse):
            return _timed(result, start)
        return _timed(JSONResponse(result, status_code=status), start)

    def _unsigned(self, request: Request) -> JSONResponse | None:
        """401 for a missing, forged or expired bearer token (checked without the database)."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return _error(401, "log in first (Authorization: Bearer <token>)", {"WWW-Authenticate": "Bearer"})
        if verify_token(self.secret, token.strip()) is None:
            return _error(401, "the token is invalid or expired; log in again", {"WWW-Authenticate": "Bearer"})
        return None

    # ------------------------------------------------------------------ routes

    async def health(self, request: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    async def login(self, request: Request) -> JSONResponse:
        try:
            username, password = bodies.login_fields(await bodies.read_json_object(request))
        except ApiError as exc:
            return _error(exc.status, exc.message)

        address = client_address.resolve(request.client.host if request.client else None, request.headers)

        def check() -> JSONResponse:
            with session_scope(self.engine) as session:
                user = users.authenticate(session=session, username=username, password=password,
                                          client_address=address)
                if user is None:
                    wait = login_limits.seconds_until_allowed(session=session, username=username,
                                                              client_address=address)
                    if wait > 0:
                        return _error(429, f"too many failed logins; try again in {math.ceil(wait)} seconds",
                                      {"Retry-After": str(math.ceil(wait))})
                    return _error(401, "wrong username or password")
                token = issue_token(self.secret, user_id=int(user.id or 0), password_hash=user.password_hash,
                                    epoch=int(user.session_epoch or 0), ttl_s=self.token_ttl_s)
                return JSONResponse({"token": token, "token_type": "bearer", "expires_in": self.token_ttl_s,
                                     "user": user.username, "role": user.role})

        start = time.perf_counter()
        return _timed(await self._in_worker("login", check), start)

    async def me(self, request: Request) -> JSONResponse:
        return await self._run(request, lambda s, actor: {"user": actor.username, "role": actor.role},
                               read_only=True)

    async def studies(self, request: Request) -> JSONResponse:
        def work(session: Session, actor: User) -> Any:
            return {"studies": [dataclasses.asdict(x) for x in assignments.my_studies(session=session, actor=actor)]}

        return await self._run(request, work, read_only=True)

    async def next_task(self, request: Request) -> JSONResponse:
        try:
            study_id = bodies.query_id(request, "study_id")
        except ApiError as exc:
            return _error(exc.status, exc.message)
        return await self._run(request, lambda s, actor: {
            "task": _task_json(assignments.next_task(session=s, actor=actor, study_id=study_id))},
            read_only=True)

    async def get_task(self, request: Request) -> JSONResponse:
        try:
            aid = bodies.path_id(request)
        except ApiError as exc:
            return _error(exc.status, exc.message)
        try:
            study_id = bodies.query_id(request, "study_id")
        except ApiError as exc:
            return _error(exc.status, exc.message)
        return await self._run(request, lambda s, actor: {
            "task": _task_json(assignments.get_task(session=s, actor=actor, assignment_id=aid,
                                                    study_id=study_id))}, read_only=True)

    async def skip_task(self, request: Request) -> JSONResponse:
        try:
            aid = bodies.path_id(request)
        except ApiError as exc:
            return _error(exc.status, exc.message)

        def work(session: Session, actor: User) -> Any:
            assignments.skip_task(session=session, actor=actor, assignment_id=aid)
            return {"skipped": aid}

        return await self._run(request, work)

    async def submit(self, request: Request) -> JSONResponse:
        return await self._submit_answer(request, bodies.submit_fields, judgments.submit_judgment)

    async def submit_rating(self, request: Request) -> JSONResponse:
        return await self._submit_answer(request, bodies.rating_fields, judgments.submit_rating)

    async def _submit_answer(self, request: Request, parse: Callable[[dict], dict],
                             store: Callable[..., Any]) -> JSONResponse:
        """A judgment or rating: body read by ``parse``, stored by ``store``; 201 when created,
        200 when the submit token was already stored."""
        refused = self._unsigned(request)  # a bad token is answered before the body is read
        if refused is not None:
            return refused
        try:
            fields, bad = parse(await bodies.read_json_object(request)), None
        except ApiError as exc:
            fields, bad = {}, exc

        def work(session: Session, actor: User) -> Any:
            if bad is not None:  # told only once the account behind the token checked out
                raise bad
            result = store(session=session, actor=actor, **fields)
            return JSONResponse(dataclasses.asdict(result), status_code=201 if result.created else 200)

        return await self._run(request, work)

    def routes(self) -> list[Route]:
        """The routes to mount (all under ``/api/v1``)."""
        return [
            Route(f"{PREFIX}/health", self.health, methods=["GET"]),
            Route(f"{PREFIX}/login", self.login, methods=["POST"]),
            Route(f"{PREFIX}/me", self.me, methods=["GET"]),
            Route(f"{PREFIX}/studies", self.studies, methods=["GET"]),
            Route(f"{PREFIX}/tasks/next", self.next_task, methods=["GET"]),
            Route(PREFIX + "/tasks/{assignment_id:int}", self.get_task, methods=["GET"]),
            Route(PREFIX + "/tasks/{assignment_id:int}/skip", self.skip_task, methods=["POST"]),
            Route(f"{PREFIX}/judgments", self.submit, methods=["POST"]),
            Route(f"{PREFIX}/ratings", self.submit_rating, methods=["POST"]),
        ]

