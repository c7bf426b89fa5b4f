"""Counts for the home page: the project's queries per domain and subdomain.

Example:
    >>> from annotate.db.engine import make_engine, upgrade, session_scope
    >>> engine = make_engine("sqlite:///:memory:"); upgrade(engine)
    >>> with session_scope(engine) as s:
    ...     query_counts(session=s), totals(session=s)["queries"]
    ([], 0)
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from annotate.db.models import Domain, LLMModel, Query, Response, Subdomain
from annotate.services.core.taxonomy import join_taxonomy


@dataclass(frozen=True)
class SubdomainCount:
    """Queries of one subdomain, split by language."""

    domain: str
    subdomain: str
    en: int
    zh: int

    @property
    def total(self) -> int:
        return self.en + self.zh


def query_counts(*, session: Session) -> list[SubdomainCount]:
    """Subdomains that have queries, with their English and Chinese counts.

    Ordered by domain name, then subdomain name. Languages other than en/zh count as en
    only if labelled ``en``; they are otherwise ignored (the importer allows only en/zh).
    """
    rows = session.exec(
        join_taxonomy(select(Domain.name, Subdomain.name, Query.lang, func.count(col(Query.id))).select_from(Query))
        .group_by(Domain.name, Subdomain.name, Query.lang)
    ).all()
    acc: dict[tuple[str, str], dict[str, int]] = {}
    for domain, subdomain, lang, n in rows:
        acc.setdefault((domain, subdomain), {"en": 0, "zh": 0})
        if lang in ("en", "zh"):
            acc[(domain, subdomain)][lang] += int(n)
    return [SubdomainCount(d, s, c["en"], c["zh"]) for (d, s), c in sorted(acc.items())]


def totals(*, session: Session) -> dict[str, int]:
    """Project-wide counts: queries, responses, models, domains and subdomains in use
    (``domains``, ``subdomains``) and in the taxonomy (``domains_total``, ``subdomains_total``)."""
    counts = query_counts(session=session)
    return {
        "domains_total": int(session.exec(select(func.count(col(Domain.id)))).one()),
        "subdomains_total": int(session.exec(select(func.count(col(Subdomain.id)))).one()),
        "queries": int(session.exec(select(func.count(col(Query.id)))).one()),
        "responses": int(session.exec(select(func.count(col(Response.id)))).one()),
        "models": int(session.exec(select(func.count(col(LLMModel.id)))).one()),
        "domains": len({c.domain for c in counts}),
        "subdomains": len(counts),
    }
