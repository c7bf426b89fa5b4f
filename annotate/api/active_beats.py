"""The heartbeat route of the task pages (beside the login routes, on the app's own server).

    POST /session/active   {"assignment_id", "revision", "active_s"} -> 204
                           400 bad body, 401 not logged in, 403 someone else's task,
                           404 no such task, 409 the showing has ended, 413 body over 1 KiB

The judging and rating pages send one while the person works on a task (tab visible, input
within the last N seconds; :mod:`annotate.ui.annotate.active_clock`), with the seconds of
active time counted since the previous one. The person is the one of the session cookie
(HttpOnly, sent by the browser with the page's ``fetch``); a POST from a page of another
site is refused before it gets here (:class:`annotate.auth.origin.OriginCheck`). What a
heartbeat adds is bounded in :mod:`annotate.services.annotate.active_time`.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from annotate.api.bodies import ApiError, read_body
from annotate.auth.session_cookie import COOKIE_NAME, read_session, session_accepts
from annotate.db.engine import session_scope
from annotate.services.accounts import users
from annotate.services.annotate import active_time
from annotate.services.core.errors import (
    Conflict,
    InputError,
    NotFound,
    PermissionDenied,
    ServiceError,
    for_person,
)

log = logging.getLogger(__name__)

ACTIVE_PATH = "/session/active"
MAX_BEAT_BYTES = 1024
STATUS = {InputError: 400, PermissionDenied: 403, NotFound: 404, Conflict: 409}


def beat_fields(raw: bytes) -> dict[str, Any]:
    """The heartbeat's fields from its body.

    Example:
        >>> beat_fields(b'{"assignment_id": 4, "revision": 1, "active_s": 5}')
        {'assignment_id': 4, 'revision': 1, 'active_s': 5.0}
        >>> beat_fields(b'{"assignment_id": "4"}')
        Traceback (most recent call last):
        ...
        annotate.api.bodies.ApiError: the heartbeat needs whole numbers assignment_id, revision and a number active_s
    """
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ApiError(400, "the heartbeat must be a JSON object") from None
    if not isinstance(body, dict):
        raise ApiError(400, "the heartbeat must be a JSON object")
    aid, revision, seconds = body.get("assignment_id"), body.get("revision"), body.get("active_s")
    whole = all(isinstance(v, int) and not isinstance(v, bool) for v in (aid, revision))
    number = isinstance(seconds, int | float) and not isinstance(seconds, bool) and math.isfinite(seconds)
    if not (whole and number):
        raise ApiError(400, "the heartbeat needs whole numbers assignment_id, revision and a number active_s")
    return {"assignment_id": aid, "revision": revision, "active_s": float(seconds)}  # type: ignore[arg-type]


class ActiveBeats:
    """The heartbeat route, bound to the API object's engine and secret (made on first use)."""

    def __init__(self, api: Any, *, now: Callable[[], float] = time.time) -> None:
        self.api, self.now = api, now

    async def beat(self, request: Request) -> Response:
        value = request.cookies.get(COOKIE_NAME)
        if not value:
            return JSONResponse({"error": "log in first"}, status_code=401)
        try:
            fields = beat_fields(await read_body(request, MAX_BEAT_BYTES))
        except ApiError as exc:
            return JSONResponse({"error": exc.message}, status_code=exc.status)

        def work() -> Response:
            now = self.now()
            claims = read_session(self.api.secret, value, now=now)
            if claims is None:
                return JSONResponse({"error": "log in first"}, status_code=401)
            with session_scope(self.api.engine) as session:
                user = users.get_user(session=session, user_id=claims.user_id)
                if user is None or not session_accepts(claims, user):
                    return JSONResponse({"error": "log in first"}, status_code=401)
                try:
                    active_time.record_beat(session=session, actor=user, now=now, **fields)
                except ServiceError as exc:
                    session.rollback()
                    return JSONResponse({"error": for_person(exc)}, status_code=STATUS.get(type(exc), 400))
            return Response(status_code=204, headers={"Cache-Control": "no-store"})

        return await run_in_threadpool(work)

    def routes(self) -> list[Route]:
        """The route to mount beside the login routes."""
        return [Route(ACTIVE_PATH, self.beat, methods=["POST"])]
