"""Criteria sets for judging: static global, static per domain, and dynamic per query.

Example:
    >>> from metaeval.criteria import detect_language
    >>> detect_language("请写一封信")
    'zh'
"""

from metaeval.criteria.dynamic import criteria_from_checklist, generate_criteria
from metaeval.criteria.language import detect_language
from metaeval.criteria.schema import CriteriaError, validate_criteria
from metaeval.criteria.static import load_static_domain, load_static_global

__all__ = [
    "CriteriaError",
    "criteria_from_checklist",
    "detect_language",
    "generate_criteria",
    "load_static_domain",
    "load_static_global",
    "validate_criteria",
]
