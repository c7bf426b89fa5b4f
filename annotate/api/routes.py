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
                                 (200 with created=false when the token was already recorded)
    GET  /api/v1/health         -> {"ok": true}

Every route but login and health needs ``Authorization: Bearer <token>``; the account is
reloaded on each request, so a deactivated account or a changed password stops its tokens
at once. Login failures are recorded and slowed exactly as in the app
(:func:`annotate.services.accounts.users.authenticate`, per client address and per
(address, username), the address from :mod:`annotate.api.client_address`): a slowed
attempt gets 429 with ``Retry-After``. Errors are ``{"error": message}`` with 400 (bad input), 401, 403, 404,
409 (conflict) or 429. Database work runs in Starlette's thread pool.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from annotate.api import client_address
from annotate.api.tokens import DEFAULT_TTL_S, accepts, issue_token, verify_token
from annotate.db.engine import session_scope
from annotate.db.models import User
from annotate.services.accounts import users
from annotate.services.annotate import assignments, judgments
from annotate.services.core.errors import Conflict, InputError, NotFound, PermissionDenied, ServiceError

log = logging.getLogger(__name__)

PREFIX = "/api/v1"
MAX_BODY_BYTES = 256 * 1024
STATUS = {InputError: 400, PermissionDenied: 403, NotFound: 404, Conflict: 409}


class ApiError(Exception):
    """An HTTP error with a JSON message."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


async def _json_body(request: Request) -> dict[str, Any]:
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise ApiError(413, f"request body over {MAX_BODY_BYTES} bytes")
    try:
        import json

        data = json.loads(body or b"{}")
    except ValueError as exc:
        raise ApiError(400, f"the body is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ApiError(400, "the body must be a JSON object")
    return data


def _task_json(task: assignments.TaskView | None) -> dict[str, Any] | None:
    return None if task is None else dataclasses.asdict(task)


class Api:
    """The API's routes bound to one engine and one signing secret."""

    def __init__(self, engine: Engine | Callable[[], Engine], secret: bytes | Callable[[], bytes], *,
                 token_ttl_s: float = DEFAULT_TTL_S) -> None:
        self._engine, self._secret, self.token_ttl_s = engine, secret, token_ttl_s
        self._lock = threading.Lock()  # the engine and secret are made once, on first use

    @property
    def engine(self) -> Engine:
        with self._lock:
            if callable(self._engine) and not isinstance(self._engine, Engine):
                self._engine = self._engine()
            return self._engine  # type: ignore[return-value]

    @property
    def secret(self) -> bytes:
        with self._lock:
            if callable(self._secret):
                self._secret = self._secret()
            return self._secret  # type: ignore[return-value]

    # ------------------------------------------------------------------ plumbing

    def _actor(self, session, request: Request) -> User:  # type: ignore[no-untyped-def]
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise ApiError(401, "log in first (Authorization: Bearer <token>)",
                           {"WWW-Authenticate": "Bearer"})
        claims = verify_token(self.secret, token.strip())
        user = None if claims is None else users.get_user(session=session, user_id=claims.user_id)
        if claims is None or not accepts(user, claims.password_fingerprint):
            raise ApiError(401, "the token is invalid or expired; log in again",
                           {"WWW-Authenticate": "Bearer"})
        return user

    async def _run(self, request: Request, work: Callable[..., Any], status: int = 200) -> JSONResponse:
        """Authenticate, then run ``work(session, actor)`` in the thread pool; map errors."""

        def call() -> Any:
            with session_scope(self.engine) as session:
                return work(session, self._actor(session, request))

        try:
            result = await run_in_threadpool(call)
        except ApiError as exc:
            return _error(exc.status, exc.message, exc.headers)
        except ServiceError as exc:
            return _error(STATUS.get(type(exc), 400), str(exc))
        if isinstance(result, JSONResponse):
            return result
        return JSONResponse(result, status_code=status)

    # ------------------------------------------------------------------ routes

    async def health(self, request: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    async def login(self, request: Request) -> JSONResponse:
        try:
            data = await _json_body(request)
        except ApiError as exc:
            return _error(exc.status, exc.message)
        username, password = data.get("username"), data.get("password")
        if not isinstance(username, str) or not isinstance(password, str):
            return _error(400, "username and password (strings) are required")

        address = client_address.resolve(request.client.host if request.client else None, request.headers)

        def check() -> JSONResponse:
            with session_scope(self.engine) as session:
                user = users.authenticate(session=session, username=username, password=password,
                                          client_address=address)
                if user is None:
                    wait = users.seconds_until_allowed(session=session, username=username,
                                                       client_address=address)
                    if wait > 0:
                        return _error(429, f"too many failed logins; try again in {math.ceil(wait)} seconds",
                                      {"Retry-After": str(math.ceil(wait))})
                    return _error(401, "wrong username or password")
                token = issue_token(self.secret, user_id=user.id, password_hash=user.password_hash,
                                    ttl_s=self.token_ttl_s)
                return JSONResponse({"token": token, "token_type": "bearer", "expires_in": self.token_ttl_s,
                                     "user": user.username, "role": user.role})

        return await run_in_threadpool(check)

    async def me(self, request: Request) -> JSONResponse:
        return await self._run(request, lambda s, actor: {"user": actor.username, "role": actor.role})

    async def studies(self, request: Request) -> JSONResponse:
        def work(session, actor):  # type: ignore[no-untyped-def]
            return {"studies": [dataclasses.asdict(x) for x in assignments.my_studies(session=session, actor=actor)]}

        return await self._run(request, work)

    async def next_task(self, request: Request) -> JSONResponse:
        raw = request.query_params.get("study_id")
        if raw is not None and not raw.isdigit():
            return _error(400, "study_id must be an integer")
        study_id = int(raw) if raw is not None else None
        return await self._run(request, lambda s, actor: {
            "task": _task_json(assignments.next_task(session=s, actor=actor, study_id=study_id))})

    async def get_task(self, request: Request) -> JSONResponse:
        aid = request.path_params["assignment_id"]
        raw = request.query_params.get("study_id")
        if raw is not None and not raw.isdigit():
            return _error(400, "study_id must be an integer")
        study_id = int(raw) if raw is not None else None
        return await self._run(request, lambda s, actor: {
            "task": _task_json(assignments.get_task(session=s, actor=actor, assignment_id=aid,
                                                    study_id=study_id))})

    async def skip_task(self, request: Request) -> JSONResponse:
        aid = request.path_params["assignment_id"]

        def work(session, actor):  # type: ignore[no-untyped-def]
            assignments.skip_task(session=session, actor=actor, assignment_id=aid)
            return {"skipped": aid}

        return await self._run(request, work)

    async def submit(self, request: Request) -> JSONResponse:
        try:
            data = await _json_body(request)
            fields = _submit_fields(data)
        except ApiError as exc:
            return _error(exc.status, exc.message)

        def work(session, actor):  # type: ignore[no-untyped-def]
            result = judgments.submit_judgment(session=session, actor=actor, **fields)
            body = dataclasses.asdict(result)
            return JSONResponse(body, status_code=201 if result.created else 200)

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
        ]


_REQUIRED = {"assignment_id": int, "choice": str, "submit_token": str, "instruction_version_no": int,
             "content_revision": int}
_OPTIONAL = {"both_poor": bool, "per_criterion": dict, "rationale": str, "flags": list,
             "elapsed_s": (int, float), "study_id": int}


def _submit_fields(data: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments of ``submit_judgment`` from a request body (types checked)."""
    unknown = sorted(set(data) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        raise ApiError(400, f"unknown fields {unknown}")
    fields: dict[str, Any] = {}
    for name, kind in _REQUIRED.items():
        value = data.get(name)
        if value is None or isinstance(value, bool) or not isinstance(value, kind):
            raise ApiError(400, f"field {name!r} is required ({kind.__name__})")
        fields[name] = value
    for name, kind in _OPTIONAL.items():
        if name in data and data[name] is not None:
            value = data[name]
            if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
                raise ApiError(400, f"field {name!r} has the wrong type")
            fields[name] = value
    return fields
