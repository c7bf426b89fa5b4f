"""JSON schema of a criteria set and its validation.

A criteria set is a JSON array of exactly five criteria in WritingBench's checklist layout:
``{"name", "criteria_description", "1-2", "3-4", "5-6", "7-8", "9-10"}``, all non-empty strings.
"""

from __future__ import annotations

from typing import Any

import jsonschema

from metaeval.types import BANDS, Criterion

N_CRITERIA = 5

CRITERION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "criteria_description": {"type": "string", "minLength": 1},
        **{band: {"type": "string", "minLength": 1} for band in BANDS},
    },
    "required": ["name", "criteria_description", *BANDS],
}

CRITERIA_SET_SCHEMA: dict[str, Any] = {
    "type": "array",
    "items": CRITERION_SCHEMA,
    "minItems": N_CRITERIA,
    "maxItems": N_CRITERIA,
}

#: The object form used when a server can only constrain output to an object.
CRITERIA_OBJECT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"criteria": CRITERIA_SET_SCHEMA},
    "required": ["criteria"],
}


class CriteriaError(ValueError):
    """A criteria set that does not match the schema; the message names where."""


def validate_criteria(obj: Any, *, where: str = "criteria") -> list[Criterion]:
    """Validate a five-criterion set and return it as :class:`Criterion` objects.

    Names must also be distinct, since scores are keyed by criterion name.

    >>> item = {"name": "Clarity", "criteria_description": "d", "1-2": "a", "3-4": "b",
    ...         "5-6": "c", "7-8": "d", "9-10": "e"}
    >>> [c.name for c in validate_criteria([dict(item, name=f"C{i}") for i in range(5)])]
    ['C0', 'C1', 'C2', 'C3', 'C4']
    """
    if isinstance(obj, dict) and "criteria" in obj:
        obj = obj["criteria"]
    validator = jsonschema.Draft202012Validator(CRITERIA_SET_SCHEMA)
    errors = sorted(validator.iter_errors(obj), key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        path = "/".join(str(p) for p in err.absolute_path) or "(top level)"
        raise CriteriaError(f"{where}: field {path}: {err.message}")
    names = [item["name"].strip() for item in obj]
    if len(set(names)) != len(names):
        raise CriteriaError(f"{where}: field name: criterion names must be distinct, got {names}")
    return [Criterion.from_checklist(item) for item in obj]
