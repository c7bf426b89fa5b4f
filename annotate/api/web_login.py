"""The login form's routes on the app's own server (beside ``/api/v1``).

    POST /session/login    form fields username, password, next
                           -> 303 to ``next`` with the session cookie set
                           -> 303 back to the form with ``login_error=wrong`` (or ``slowed``
                              and ``wait=<seconds>``) when the login fails
    GET  /session/refresh  -> 204; renews a valid session cookie (an active page calls it
                              every few minutes) up to the login's absolute lifetime,
                              deletes an invalid one
    POST /session/logout   -> 303 to ``/`` with the cookie deleted; the account's cookies on
                              every device and its API tokens end (its session epoch is raised)

The form is a plain HTML ``<form>`` (see :func:`annotate.streamlit_app.login_page`), so a
password manager fills and saves it like any other login form. The cookie is HttpOnly (no
script can read it), SameSite=Lax and, when the page was served over HTTPS, Secure; its
value is explained in :mod:`annotate.auth.session_cookie`. Failed logins are limited like
the API's (:func:`annotate.services.accounts.users.authenticate`), per client address
(:mod:`annotate.auth.client_address`).

A login or logout form posted from another site (its ``Origin`` is not one of the app's,
:mod:`annotate.auth.origin`) is refused, so a page elsewhere can neither log a visitor into
an account of its choosing nor log them out. Logging out is a POST only: opening an address
never logs anyone out.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from annotate.api.bodies import ApiError, read_body
from annotate.auth import client_address
from annotate.auth.origin import request_from_own_page
from annotate.auth.session_cookie import (
    COOKIE_NAME,
    cookie_lifetime_s,
    idle_limit_s,
    issue_session,
    login_max_age_s,
    read_session,
    safe_next,
    session_accepts,
)
from annotate.db.engine import session_scope
from annotate.services.accounts import login_limits, users

log = logging.getLogger(__name__)

LOGIN_PATH = "/session/login"
REFRESH_PATH = "/session/refresh"
LOGOUT_PATH = "/session/logout"
MAX_FORM_BYTES = 8 * 1024


def request_address(request: Request) -> str:
    """The client address of ``request`` (socket, or the configured trusted proxy header)."""
    peer = request.client.host if request.client else None
    return client_address.resolve(peer, request.headers)


def _back_to_form(next_path: str, **params: Any) -> str:
    """``next_path`` with the login error parameters added to its query."""
    parts = urlsplit(next_path)
    query = {k: v for k, v in parse_qs(parts.query).items() if k not in ("login_error", "wait")}
    query.update({k: [str(v)] for k, v in params.items()})
    return parts.path + "?" + urlencode(query, doseq=True)


class WebLogin:
    """The login routes, bound to the API object's engine and secret (made on first use)."""

    def __init__(self, api: Any, *, now: Callable[[], float] = time.time) -> None:
        self.api, self.now = api, now

    def _set_cookie(self, response: Response, request: Request, value: str, max_age: int) -> None:
        response.set_cookie(COOKIE_NAME, value, max_age=max_age, path="/", httponly=True,
                            samesite="lax", secure=request.url.scheme == "https" or client_address.forwarded_https(
                                request.client.host if request.client else None, request.headers))

    async def login(self, request: Request) -> Response:
        if not request_from_own_page(request.scope):
            return PlainTextResponse("This login form was sent from another site.", status_code=403)
        try:
            body = await read_body(request, MAX_FORM_BYTES)  # stops at the limit
        except ApiError:
            return PlainTextResponse("The login form sent too much data.", status_code=413)
        form = parse_qs(body.decode("utf-8", errors="replace"), max_num_fields=10)
        username = (form.get("username") or [""])[0]
        password = (form.get("password") or [""])[0]
        next_path = safe_next((form.get("next") or ["/"])[0])
        address = request_address(request)

        def check() -> tuple[str | None, float]:
            with session_scope(self.api.engine) as session:
                user = users.authenticate(session=session, username=username, password=password,
                                          client_address=address)
                if user is None:
                    return None, login_limits.seconds_until_allowed(session=session, username=username,
                                                                    client_address=address)
                return issue_session(self.api.secret, user, now=self.now()), 0.0

        cookie, wait = await run_in_threadpool(check)
        if cookie is None:
            params = {"login_error": "slowed", "wait": math.ceil(wait)} if wait > 0 else {"login_error": "wrong"}
            return RedirectResponse(_back_to_form(next_path, **params), status_code=303)
        response = RedirectResponse(next_path, status_code=303)
        self._set_cookie(response, request, cookie, int(min(idle_limit_s(), login_max_age_s())))
        return response

    async def refresh(self, request: Request) -> Response:
        value = request.cookies.get(COOKIE_NAME)
        response = Response(status_code=204, headers={"Cache-Control": "no-store"})
        if not value:
            return response

        def check() -> tuple[str, int] | None:
            now = self.now()
            claims = read_session(self.api.secret, value, now=now)
            if claims is None:
                return None
            with session_scope(self.api.engine) as session:
                user = users.get_user(session=session, user_id=claims.user_id)
                if user is None or not session_accepts(claims, user):
                    return None
                # renewed for activity, never past the login's absolute lifetime
                return (issue_session(self.api.secret, user, now=now, logged_in_at=claims.logged_in_at),
                        cookie_lifetime_s(claims, now))

        renewed = await run_in_threadpool(check)
        if renewed is None:
            response.delete_cookie(COOKIE_NAME, path="/")
        else:
            self._set_cookie(response, request, *renewed)
        return response

    async def logout(self, request: Request) -> Response:
        if not request_from_own_page(request.scope):
            return PlainTextResponse("This logout form was sent from another site.", status_code=403)
        value = request.cookies.get(COOKIE_NAME)

        def end() -> None:
            claims = read_session(self.api.secret, value, now=self.now())
            if claims is None:
                return
            with session_scope(self.api.engine) as session:
                user = users.get_user(session=session, user_id=claims.user_id)
                if user is not None and session_accepts(claims, user):
                    users.end_sessions(session=session, user_id=claims.user_id)

        if value:
            await run_in_threadpool(end)
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(COOKIE_NAME, path="/")
        return response

    def routes(self) -> list[Route]:
        """The routes to mount beside the API's."""
        return [Route(LOGIN_PATH, self.login, methods=["POST"]),
                Route(REFRESH_PATH, self.refresh, methods=["GET"]),
                Route(LOGOUT_PATH, self.logout, methods=["POST"])]
