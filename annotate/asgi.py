"""The app server: the Streamlit app plus the JSON API, as one ASGI application.

``annotate serve`` runs ``streamlit run annotate/asgi.py``; Streamlit sees the ``st.App``
below and serves it with uvicorn, so the same port carries the UI (``/``), its websocket,
the API (``/api/v1/...``, see :mod:`annotate.api.routes`; routed past Streamlit's middleware
by :mod:`annotate.api.direct_route`) and the login form's routes
(``/session/...``, see :mod:`annotate.api.web_login`) and the task pages' heartbeats
(``/session/active``, :mod:`annotate.api.active_beats`). It can also be run by any
ASGI server: ``uvicorn annotate.asgi:app --port 8501 --no-proxy-headers`` (from the repository
root; without ``--no-proxy-headers`` uvicorn would let a loopback client's ``X-Forwarded-For``
choose its address, see :mod:`annotate.auth.client_address`).

The API uses its own engine on ``ANNOTATE_DB_URL`` and (like the session cookie) the signing secret from
``ANNOTATE_SECRET_KEY``, else ``annotate_secret_key`` in Streamlit secrets, else a key file
generated once per deployment (:func:`annotate.auth.tokens.resolve_secret`).

In front of everything, :class:`annotate.auth.origin.OriginCheck` refuses a websocket
upgrade, and any POST/PUT/PATCH/DELETE, sent by a page of another origin than the app's
(``ANNOTATE_PUBLIC_URL``, default the address the server listens on), before Streamlit or a
route sees it.

At startup (the ASGI lifespan, after Streamlit has bound the port and before the first
connection is accepted) Nagle's algorithm is turned off on the listening socket
(:mod:`annotate.api.listeners`): without it every API answer waited ~40 ms for the client's
delayed ACK.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware

from annotate.api.active_beats import ActiveBeats
from annotate.api.direct_route import DirectApiRoute
from annotate.api.listeners import set_nodelay_on_listeners
from annotate.api.routes import API_CONNECTIONS, Api
from annotate.api.web_login import WebLogin
from annotate.auth.origin import OriginCheck
from annotate.db.engine import make_engine, resolve_url
from annotate.ui.session import app_secret

APP_SCRIPT = Path(__file__).resolve().parent / "streamlit_app.py"


@asynccontextmanager
async def _lifespan(_app: st.App) -> AsyncIterator[None]:
    set_nodelay_on_listeners()
    yield


api = Api(lambda: make_engine(resolve_url(None), pool_size=API_CONNECTIONS, max_overflow=0, pre_ping=False),
          app_secret)
app = st.App(APP_SCRIPT, routes=[*WebLogin(api).routes(), *ActiveBeats(api).routes()], lifespan=_lifespan,
             middleware=[Middleware(OriginCheck), Middleware(DirectApiRoute, routes=api.routes())])
