"""Signed, expiring bearer tokens for the HTTP API, and the per-deployment signing secret.

Tokens are made and checked by itsdangerous (a maintained signer, installed with
Streamlit): a :class:`itsdangerous.URLSafeSerializer` with its own salt and HMAC-SHA256
signs a small JSON object ``{"uid": user id, "exp": unix expiry, "pwf": password
fingerprint, "ep": session epoch}``. The password fingerprint (a hash of the stored password
hash) makes every token of an account invalid once its password changes; a deactivated
account is refused when the token is used (:func:`accepts`); the account's session epoch,
raised by a logout and by a deactivation, ends every token issued before, so a web logout
ends the person's tokens too and a re-activated account starts with no valid credential
(:func:`token_accepts`). Nothing about a token is stored in the database.

The secret comes from ``$ANNOTATE_SECRET_KEY``, else from a secret the caller passes (the
app passes ``annotate_secret_key`` from Streamlit secrets), else from a key file
(``$ANNOTATE_SECRET_FILE``, default ``var/secret_key``) that is generated once with mode
0600. Several replicas must share one secret (set the variable on all of them).

Example:
    >>> secret = b"k" * 32
    >>> tok = issue_token(secret, user_id=7, password_hash="h", epoch=0, ttl_s=60, now=1000.0)
    >>> verify_token(secret, tok, now=1030.0).user_id
    7
    >>> verify_token(secret, tok, now=2000.0) is None      # expired
    True
    >>> verify_token(b"another-secret-0123", tok, now=1030.0) is None   # not ours
    True
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from itsdangerous import BadData, URLSafeSerializer

log = logging.getLogger(__name__)

SECRET_ENV = "ANNOTATE_SECRET_KEY"
SECRET_FILE_ENV = "ANNOTATE_SECRET_FILE"
DEFAULT_SECRET_FILE = Path("var") / "secret_key"
DEFAULT_TTL_S = 8 * 3600
MIN_SECRET_BYTES = 16
MAX_TOKEN_CHARS = 1000
API_TOKEN_SALT = "annotate-api-token"


@dataclass(frozen=True)
class TokenClaims:
    """What a valid token says: whose it is, until when, and for which password."""

    user_id: int
    expires_at: float
    password_fingerprint: str
    epoch: int


def password_fingerprint(password_hash: str) -> str:
    """A short digest of the stored password hash (changes when the password changes).

    Example:
        >>> len(password_fingerprint("$argon2id$..."))
        16
    """
    return hashlib.sha256(("annotate-token:" + password_hash).encode()).hexdigest()[:16]


def serializer(secret: bytes, salt: str) -> URLSafeSerializer:
    """An itsdangerous serializer signing with HMAC-SHA256 under ``salt`` (one per purpose,
    so an API token is never accepted as a session cookie or the other way round)."""
    return URLSafeSerializer(secret, salt=salt, signer_kwargs={"digest_method": hashlib.sha256})


def load_signed(secret: bytes, salt: str, value: object) -> dict[str, Any] | None:
    """The JSON object signed in ``value``, or ``None`` when it is not one we signed."""
    if not isinstance(value, str) or not value or len(value) > MAX_TOKEN_CHARS:
        return None
    try:
        body = serializer(secret, salt).loads(value)
    except (BadData, ValueError, TypeError):
        return None
    return body if isinstance(body, dict) else None


def issue_token(secret: bytes, *, user_id: int, password_hash: str, epoch: int = 0, ttl_s: float = DEFAULT_TTL_S,
                now: float | None = None) -> str:
    """A token for ``user_id`` (whose password hash and session epoch are these) valid for
    ``ttl_s`` seconds."""
    expires = (time.time() if now is None else now) + ttl_s
    body = {"uid": int(user_id), "exp": round(expires, 3), "pwf": password_fingerprint(password_hash),
            "ep": int(epoch)}
    return str(serializer(secret, API_TOKEN_SALT).dumps(body))


def verify_token(secret: bytes, token: str, *, now: float | None = None) -> TokenClaims | None:
    """The claims of ``token`` if its signature is right and it has not expired, else None."""
    body = load_signed(secret, API_TOKEN_SALT, token)
    if body is None:
        return None
    try:
        claims = TokenClaims(int(body["uid"]), float(body["exp"]), str(body["pwf"]), int(body["ep"]))
    except (ValueError, KeyError, TypeError, OverflowError):
        return None
    if claims.expires_at <= (time.time() if now is None else now):
        return None
    return claims


def accepts(user: Any, fingerprint: str) -> bool:
    """The revocation rule shared by API tokens and session cookies: the account still
    exists, is active, and its password is the one the credential was issued for.

    Example:
        >>> from types import SimpleNamespace
        >>> ada = SimpleNamespace(active=True, password_hash="h1")
        >>> accepts(ada, password_fingerprint("h1")), accepts(ada, password_fingerprint("h2"))
        (True, False)
        >>> accepts(None, password_fingerprint("h1"))
        False
    """
    return (user is not None and bool(user.active)
            and password_fingerprint(user.password_hash) == fingerprint)


def token_accepts(claims: TokenClaims, user: Any) -> bool:
    """Whether the account still honours an API token: :func:`accepts`, and no logout or
    deactivation since it was issued (the same session epoch).

    Example:
        >>> from types import SimpleNamespace
        >>> ada = SimpleNamespace(active=True, password_hash="h", session_epoch=2)
        >>> claims = TokenClaims(7, 2000.0, password_fingerprint("h"), 2)
        >>> token_accepts(claims, ada)
        True
        >>> ada.session_epoch = 3          # logged out, or deactivated and re-activated, since
        >>> token_accepts(claims, ada)
        False
    """
    return accepts(user, claims.password_fingerprint) and int(user.session_epoch or 0) == claims.epoch


def resolve_secret(configured: str | None = None, *, key_file: Path | None = None) -> bytes:
    """The signing secret: ``$ANNOTATE_SECRET_KEY``, else ``configured``, else the key file
    (created with a fresh random key, readable by the owner only, if missing).

    Raises:
        ValueError: a configured secret is shorter than 16 bytes.
    """
    value = os.environ.get(SECRET_ENV) or configured
    if value:
        raw = value.encode()
        if len(raw) < MIN_SECRET_BYTES:
            raise ValueError(f"the API secret must be at least {MIN_SECRET_BYTES} characters")
        return raw
    path = key_file or Path(os.environ.get(SECRET_FILE_ENV) or DEFAULT_SECRET_FILE)
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
            log.info("generated a new API signing key in %s", path)
    raw = b""
    for _ in range(50):  # another process may be writing it this very moment
        raw = path.read_text().strip().encode()
        if raw:
            break
        time.sleep(0.05)
    if len(raw) < MIN_SECRET_BYTES:
        raise ValueError(f"{path}: the API key file holds fewer than {MIN_SECRET_BYTES} characters")
    return raw
