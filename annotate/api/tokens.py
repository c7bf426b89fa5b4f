"""Signed, expiring bearer tokens for the HTTP API, and the per-deployment signing secret.

A token is ``<payload>.<signature>``: the payload is URL-safe base64 of a small JSON object
``{"uid": user id, "exp": unix expiry, "pwf": password fingerprint}`` and the signature is
HMAC-SHA256 of the payload with the deployment's secret. The password fingerprint (a hash
of the stored password hash) makes every token of an account invalid once its password
changes; a deactivated account is refused when the token is used. Nothing about a token
is stored in the database.

The secret comes from ``$ANNOTATE_SECRET_KEY``, else from a secret the caller passes (the
app passes ``annotate_secret_key`` from Streamlit secrets), else from a key file
(``$ANNOTATE_SECRET_FILE``, default ``var/secret_key``) that is generated once with mode
0600. Several replicas must share one secret (set the variable on all of them).

Example:
    >>> secret = b"k" * 32
    >>> tok = issue_token(secret, user_id=7, password_hash="h", ttl_s=60, now=1000.0)
    >>> verify_token(secret, tok, now=1030.0).user_id
    7
    >>> verify_token(secret, tok, now=2000.0) is None      # expired
    True
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

SECRET_ENV = "ANNOTATE_SECRET_KEY"
SECRET_FILE_ENV = "ANNOTATE_SECRET_FILE"
DEFAULT_SECRET_FILE = Path("var") / "secret_key"
DEFAULT_TTL_S = 8 * 3600
MIN_SECRET_BYTES = 16


@dataclass(frozen=True)
class TokenClaims:
    """What a valid token says: whose it is, until when, and for which password."""

    user_id: int
    expires_at: float
    password_fingerprint: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def password_fingerprint(password_hash: str) -> str:
    """A short digest of the stored password hash (changes when the password changes).

    Example:
        >>> len(password_fingerprint("$argon2id$..."))
        16
    """
    return hashlib.sha256(("annotate-token:" + password_hash).encode()).hexdigest()[:16]


def _sign(secret: bytes, payload: str) -> str:
    return _b64(hmac.new(secret, payload.encode("ascii"), hashlib.sha256).digest())


def issue_token(secret: bytes, *, user_id: int, password_hash: str, ttl_s: float = DEFAULT_TTL_S,
                now: float | None = None) -> str:
    """A token for ``user_id`` valid for ``ttl_s`` seconds."""
    expires = (time.time() if now is None else now) + ttl_s
    body = {"uid": int(user_id), "exp": round(expires, 3), "pwf": password_fingerprint(password_hash)}
    payload = _b64(json.dumps(body, separators=(",", ":")).encode())
    return f"{payload}.{_sign(secret, payload)}"


def verify_token(secret: bytes, token: str, *, now: float | None = None) -> TokenClaims | None:
    """The claims of ``token`` if its signature is right and it has not expired, else None."""
    if not isinstance(token, str) or token.count(".") != 1 or len(token) > 1000:
        return None
    payload, signature = token.split(".")
    if not hmac.compare_digest(_sign(secret, payload), signature):
        return None
    try:
        body = json.loads(_unb64(payload))
        claims = TokenClaims(int(body["uid"]), float(body["exp"]), str(body["pwf"]))
    except (ValueError, KeyError, TypeError):
        return None
    if claims.expires_at <= (time.time() if now is None else now):
        return None
    return claims


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
