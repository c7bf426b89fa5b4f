"""Static criteria sets loaded from ``metaeval/data/criteria``.

- ``static_global.json``: ``{"en": [5 criteria], "zh": [5 criteria]}`` used for every query.
- ``static_domain.json``: ``{"<domain1>": {"en": [...], "zh": [...]}, ...}`` one set per domain.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from metaeval.criteria.schema import CriteriaError, validate_criteria
from metaeval.types import Criterion

DATA_DIR = Path(__file__).resolve().parents[1] / "data" / "criteria"
GLOBAL_FILE = "static_global.json"
DOMAIN_FILE = "static_domain.json"
LANGS = ("en", "zh")


def _read_json(path: Path) -> object:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise CriteriaError(f"{path}: criteria file not found") from exc
    except UnicodeDecodeError as exc:
        raise CriteriaError(f"{path}: not valid UTF-8 (byte {exc.start})") from None
    except OSError as exc:
        raise CriteriaError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CriteriaError(f"{path}: line {exc.lineno}: invalid JSON: {exc.msg}") from exc
    except RecursionError:
        raise CriteriaError(f"{path}: invalid JSON: nested too deeply") from None
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise CriteriaError(f"{path}: invalid JSON: {exc}") from None


@lru_cache(maxsize=8)
def _load_global(path: str) -> dict[str, list[Criterion]]:
    data = _read_json(Path(path))
    if not isinstance(data, dict):
        raise CriteriaError(f"{path}: expected an object with keys {list(LANGS)}")
    out = {}
    for lang in LANGS:
        if lang not in data:
            raise CriteriaError(f"{path}: field {lang}: missing language")
        out[lang] = validate_criteria(data[lang], where=f"{path}: {lang}")
    return out


@lru_cache(maxsize=8)
def _load_domain(path: str) -> dict[str, dict[str, list[Criterion]]]:
    data = _read_json(Path(path))
    if not isinstance(data, dict) or not data:
        raise CriteriaError(f"{path}: expected an object keyed by domain name")
    out: dict[str, dict[str, list[Criterion]]] = {}
    for domain, sets in data.items():
        if not isinstance(sets, dict):
            raise CriteriaError(f"{path}: field {domain}: expected an object with keys {list(LANGS)}")
        out[domain] = {}
        for lang in LANGS:
            if lang not in sets:
                raise CriteriaError(f"{path}: field {domain}/{lang}: missing language")
            out[domain][lang] = validate_criteria(sets[lang], where=f"{path}: {domain}/{lang}")
    return out


def load_static_global(lang: str, *, path: str | Path | None = None) -> list[Criterion]:
    """The five static global criteria in ``lang`` (``"en"`` or ``"zh"``).

    >>> len(load_static_global("en"))  # doctest: +SKIP
    5
    """
    if lang not in LANGS:
        raise CriteriaError(f"unknown language {lang!r}; expected one of {list(LANGS)}")
    return list(_load_global(str(path or DATA_DIR / GLOBAL_FILE))[lang])


def load_static_domain(domain: str, lang: str, *, path: str | Path | None = None) -> list[Criterion]:
    """The five static criteria written for ``domain`` (WritingBench ``domain1``) in ``lang``."""
    if lang not in LANGS:
        raise CriteriaError(f"unknown language {lang!r}; expected one of {list(LANGS)}")
    file = str(path or DATA_DIR / DOMAIN_FILE)
    sets = _load_domain(file)
    if domain not in sets:
        raise CriteriaError(f"{file}: no criteria for domain {domain!r}; known: {sorted(sets)}")
    return list(sets[domain][lang])
