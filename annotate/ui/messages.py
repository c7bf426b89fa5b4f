"""What a person reads when a service refuses something.

Services name the field at fault (``field both_poor: ...``) for the CLI and the API, whose
readers know the JSON keys; a person on a page gets the sentence alone.
"""

from __future__ import annotations

from annotate.services.core.errors import InputError, ServiceError


def user_message(exc: ServiceError) -> str:
    """``exc`` in plain words: an input error without its internal field name.

    Example:
        >>> user_message(InputError("choose Equivalent", field="both_poor"))
        'choose Equivalent'
        >>> user_message(InputError("bad line", path="q.jsonl", line=3))
        'q.jsonl, line 3: bad line'
    """
    if isinstance(exc, InputError):
        return str(InputError(exc.message, path=exc.path, line=exc.line))
    return str(exc)
