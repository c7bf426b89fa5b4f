"""Which pages exist and which roles may open them: the single registry the app builds
its ``st.navigation`` from, and that each page and the tests consult for role checks
(a page's allowed roles are written here only). The roles themselves and their groups
belong to the domain (:mod:`annotate.services.core.roles`); services never import this module.

Add a page by appending a :class:`PageSpec`; the file lives in ``annotate/app_pages/<section>/``,
named after its URL path (``judge-pairs`` -> ``annotate/judge_pairs.py``).
No Streamlit import here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from annotate.services.core.roles import (
    ANNOTATORS_AND_MANAGERS,
    COLLECTORS,
    EDITORS,
    EXPERTS_AND_MANAGERS,
    MANAGERS,
    ROLES,
    Role,
)

PAGES_DIR = Path(__file__).resolve().parent / "app_pages"


@dataclass(frozen=True)
class PageSpec:
    """A page of the app.

    Attributes:
        file: path inside ``annotate/app_pages`` (``<section>/<url_path>.py``).
        title: title in the navigation menu.
        icon: a Material icon like ``":material/home:"``.
        roles: roles that may open the page.
        section: the navigation section it is listed under.
        url_path: stable URL path (used by browser tests).
    """

    file: str
    title: str
    icon: str
    roles: frozenset[str]
    section: str
    url_path: str


def _roles(*names: str) -> frozenset[str]:
    unknown = set(names) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")
    return frozenset(names)


ALL = _roles(*ROLES)

PAGES: list[PageSpec] = [
    PageSpec("project/home.py", "Home", ":material/home:", ALL, "Project", "home"),
    PageSpec("admin/accounts.py", "Accounts", ":material/manage_accounts:", _roles(Role.ADMIN), "Admin",
             "accounts"),
    PageSpec("annotate/judge_pairs.py", "Judge pairs", ":material/compare:", _roles(Role.ANNOTATOR), "Annotate",
             "judge-pairs"),
    PageSpec("annotate/rate_responses.py", "Rate responses", ":material/star_rate:", _roles(Role.ANNOTATOR), "Annotate",
             "rate-responses"),
    PageSpec("annotate/guidelines.py", "Guidelines", ":material/menu_book:", _roles(*ANNOTATORS_AND_MANAGERS),
             "Annotate", "guidelines"),
    PageSpec("studies/study_design.py", "Design a study", ":material/science:", _roles(*MANAGERS),
             "Studies", "study-design"),
    PageSpec("studies/study_dashboard.py", "Study dashboard", ":material/monitoring:", _roles(*MANAGERS),
             "Studies", "study-dashboard"),
    # expert refinement
    PageSpec("refine/collect_materials.py", "Collect materials", ":material/library_add:", _roles(*COLLECTORS),
             "Refine", "collect-materials"),
    PageSpec("refine/adapt_query.py", "Adapt queries", ":material/edit_note:", _roles(*EDITORS), "Refine",
             "adapt-query"),
    PageSpec("refine/prune_materials.py", "Prune materials", ":material/content_cut:", _roles(*EDITORS), "Refine",
             "prune-materials"),
    PageSpec("refine/review_edits.py", "Review edits", ":material/fact_check:", _roles(*EDITORS), "Refine",
             "review-edits"),
    PageSpec("refine/flags.py", "Flags", ":material/flag:", _roles(*EDITORS), "Refine", "flags"),
    PageSpec("refine/query_history.py", "Query history", ":material/history:", _roles(*EXPERTS_AND_MANAGERS),
             "Refine", "query-history"),
    PageSpec("refine/edit_statistics.py", "Edit statistics", ":material/bar_chart:", _roles(*EXPERTS_AND_MANAGERS),
             "Refine", "edit-statistics"),
    # researcher pages: agreement and audit
    PageSpec("judges/agreement.py", "Agreement", ":material/balance:", _roles(*MANAGERS), "Judges",
             "agreement"),
    PageSpec("judges/audit.py", "Disagreement audit", ":material/rule:", _roles(*MANAGERS), "Judges",
             "audit"),
    PageSpec("judges/criteria_comparison.py", "Criteria comparison", ":material/checklist:", _roles(*MANAGERS),
             "Judges", "criteria-comparison"),
]


def pages_for(role: str) -> list[PageSpec]:
    """Pages a role may open, in registry order.

    Example:
        >>> [p.title for p in pages_for("annotator")][:1]
        ['Home']
    """
    return [p for p in PAGES if role in p.roles]


def page_of_file(path: str | Path) -> PageSpec:
    """The registered page whose script is ``path`` (a page passes its ``__file__``).

    Raises:
        LookupError: ``path`` is not a registered page of ``annotate/app_pages``.

    Example:
        >>> page_of_file(PAGES_DIR / "admin" / "accounts.py").url_path
        'accounts'
    """
    resolved = Path(path).resolve()
    for spec in PAGES:
        if (PAGES_DIR / spec.file).resolve() == resolved:
            return spec
    raise LookupError(f"{path} is not a page registered in annotate/navigation.py")


def may_open(role: str, url_path: str) -> bool:
    """Whether ``role`` may open the page at ``url_path``."""
    return any(p.url_path == url_path and role in p.roles for p in PAGES)
