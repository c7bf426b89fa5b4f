"""Errors raised by the service layer.

The CLI shows ``str(exc)``, which names the file, line and field at fault; pages and the API
show :func:`for_person` (the same words without the internal field name). Every subclass
says what went wrong in one line.

Example:
    >>> str(InputError("not valid JSON", path="q.jsonl", line=3, field="query"))
    'q.jsonl, line 3, field query: not valid JSON'
"""

from __future__ import annotations


class ServiceError(Exception):
    """Base class of every error a service raises on purpose."""


class PermissionDenied(ServiceError):
    """The acting user's role does not allow the action."""


class NotFound(ServiceError):
    """A referenced row does not exist."""


class Conflict(ServiceError):
    """The action clashes with the current state (duplicate, already done, ...)."""


class InputError(ServiceError):
    """Bad input; for files, names the file, the line and the field.

    Attributes:
        message: what is wrong.
        path: the file, if the input came from one.
        line: 1-based line number in that file.
        field: the field (JSON key) at fault.
    """

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 field: str | None = None) -> None:
        self.message = message
        self.path = None if path is None else str(path)
        self.line = line
        self.field = field
        super().__init__(message)

    def __str__(self) -> str:
        where = []
        if self.path is not None:
            where.append(self.path)
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.field is not None:
            where.append(f"field {self.field}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


def for_person(exc: Exception) -> str:
    """What a person reads when something is refused: the error in plain words, an
    input error without the internal name of its field (a JSON key the reader never saw).

    Used by every page and by the API; the CLI keeps ``str(exc)``.

    Example:
        >>> for_person(InputError("choose Equivalent", field="both_poor"))
        'choose Equivalent'
        >>> for_person(InputError("bad line", path="q.jsonl", line=3, field="query"))
        'q.jsonl, line 3: bad line'
        >>> for_person(NotFound("no study named 'x'"))
        "no study named 'x'"
    """
    if isinstance(exc, InputError):
        return str(InputError(exc.message, path=exc.path, line=exc.line))
    return str(exc)
