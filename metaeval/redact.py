"""One redaction function for every string metaeval writes: files, log records, error lines.

Some providers echo the API key in their error messages (``Incorrect API key provided: sk-...``),
and a proxy may echo the request's headers. :func:`redact` replaces

- every configured key value: the keys the backends read (:func:`register_secret`, called by
  :func:`metaeval.judges.base.read_key`) and the values of environment variables whose names end
  in ``API_KEY``, ``_TOKEN`` or ``_SECRET``;
- the value after ``Authorization``, ``x-api-key`` / ``api-key`` / ``api_key``, and a token after
  ``Bearer`` (8 or more token characters with a digit, so "Bearer of bad news" stays).

It is applied where text leaves the program: :func:`metaeval.io.write_text_atomic` (every output
file), the log filter :func:`install_log_redaction`, the CLI's one-line error, the failure text
of a judge call, and the traceback of an unexpected error (:func:`install_excepthook`).

Example:
    >>> register_secret("sk-test-0123456789abcdef")
    >>> redact("401: Incorrect API key provided: sk-test-0123456789abcdef.")
    '401: Incorrect API key provided: [REDACTED].'
    >>> redact("echo: {'authorization': 'Bearer abc.def-123'}")
    "echo: {'authorization': '[REDACTED]'}"
    >>> redact("x-api-key: k-999 and more")
    'x-api-key: [REDACTED] and more'
"""

from __future__ import annotations

import logging
import os
import re
import sys
import traceback
from types import TracebackType

__all__ = ["MASK", "install_excepthook", "install_log_redaction", "redact", "register_secret"]

MASK = "[REDACTED]"
_MIN_SECRET = 6  # shorter values would mask ordinary words
_ENV_SUFFIXES = ("API_KEY", "_TOKEN", "_SECRET")
_SECRETS: set[str] = set()
# Header names with their value (quoted or up to a delimiter), and bare bearer tokens.
_PATTERNS = re.compile(
    r"""(?ix)
    (?P<head>\b(?:authorization|proxy-authorization|x-api-key|api[-_]key)\b["']?\s*[:=]\s*["']?)
        (?!(?:(?:bearer|basic|token)\s+)?\[REDACTED\])  # a key value already masked
        (?:(?:bearer|basic|token)\s+)?[^\s"',;}\]]+
    | (?P<bearer>\bbearer\s+)(?=[A-Za-z._~+/=-]*\d)[A-Za-z0-9._~+/=-]{8,}
    """)


def register_secret(value: str | None) -> None:
    """Remember a key value so that :func:`redact` masks it wherever it appears."""
    if value and len(value) >= _MIN_SECRET:
        _SECRETS.add(value)


def _configured() -> list[str]:
    found = set(_SECRETS)
    for name, value in os.environ.items():
        if name.upper().endswith(_ENV_SUFFIXES) and len(value) >= _MIN_SECRET:
            found.add(value)
    return sorted(found, key=len, reverse=True)  # longest first: a key containing another


def _mask(match: re.Match[str]) -> str:
    return (match.group("head") or match.group("bearer")) + MASK


def redact(text: str) -> str:
    """``text`` with key values and credential headers replaced by ``[REDACTED]``."""
    for secret in _configured():
        if secret in text:
            text = text.replace(secret, MASK)
    if ("uthoriz" in text or "UTHORIZ" in text or "earer" in text or "EARER" in text
            or "key" in text.lower()):
        text = _PATTERNS.sub(_mask, text)
    return text


class _RedactingFilter(logging.Filter):
    """Rewrites each record's message through :func:`redact` (arguments are merged first)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


_FILTER = _RedactingFilter()


def install_log_redaction() -> None:
    """Attach the redacting filter to every handler of the root logger (idempotent).

    Example:
        >>> install_log_redaction(); install_log_redaction()
    """
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig()
    for handler in root.handlers:
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)


def _redacting_hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
    sys.stderr.write(redact("".join(traceback.format_exception(kind, value, tb))))


def install_excepthook() -> None:
    """Print an unexpected exception's traceback through :func:`redact` (a bug must not leak a key).

    Example:
        >>> install_excepthook(); sys.excepthook is _redacting_hook
        True
    """
    sys.excepthook = _redacting_hook
