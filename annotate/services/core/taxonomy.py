"""WritingBench's taxonomy (6 domains, 100 subdomains): load it from ``annotate/data/taxonomy.json``
and seed the ``Domain`` / ``Subdomain`` tables.

Seeding is idempotent: rows are matched by name, missing ones are inserted and the
Chinese name and description of existing ones are refreshed; nothing is deleted.

Example:
    >>> from annotate.db.engine import make_engine, upgrade, session_scope
    >>> engine = make_engine("sqlite:///:memory:")
    >>> upgrade(engine)
    >>> with session_scope(engine) as session:
    ...     seed_taxonomy(session)
    ...     seed_taxonomy(session)
    106
    0
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy.sql import Select
from sqlmodel import Session, col, select

from annotate.db.models import Domain, Query, Subdomain, id_of

log = logging.getLogger(__name__)

TAXONOMY_PATH = Path(__file__).resolve().parents[2] / "data" / "taxonomy.json"

SelectT = TypeVar("SelectT", bound=Select)


def load_taxonomy(path: str | Path | None = None) -> list[dict[str, Any]]:
    """Return the list of domains of ``path`` (default ``annotate/data/taxonomy.json``).

    Each domain is ``{"name", "name_zh", "description", "subdomains": [{"name",
    "name_zh", "description"}, ...]}``.

    Raises:
        ValueError: the file does not have that shape.
    """
    file = Path(path) if path is not None else TAXONOMY_PATH
    data = json.loads(file.read_text(encoding="utf-8-sig"))
    domains = data.get("domains") if isinstance(data, dict) else None
    if not isinstance(domains, list) or not domains:
        raise ValueError(f"{file}: expected an object with a non-empty 'domains' list")
    for i, domain in enumerate(domains):
        if not isinstance(domain, dict) or not isinstance(domain.get("name"), str):
            raise ValueError(f"{file}: domain #{i + 1} has no 'name'")
        subs = domain.get("subdomains")
        if not isinstance(subs, list) or not all(
                isinstance(s, dict) and isinstance(s.get("name"), str) for s in subs):
            raise ValueError(f"{file}: domain {domain['name']!r} needs a 'subdomains' list with names")
    return domains


def seed_taxonomy(session: Session, *, path: str | Path | None = None, commit: bool = True) -> int:
    """Insert the taxonomy's domains and subdomains that are missing; return how many were added.

    Existing rows (matched by name, subdomains within their domain) get the file's
    ``name_zh`` and ``description``. With ``commit=False`` the caller owns the transaction.
    """
    domains = load_taxonomy(path)
    existing = {d.name: d for d in session.exec(select(Domain)).all()}
    existing_subs = {(s.domain_id, s.name): s for s in session.exec(select(Subdomain)).all()}
    added = 0
    for entry in domains:
        domain = existing.get(entry["name"])
        if domain is None:
            domain = Domain(name=entry["name"])
            added += 1
        domain.name_zh = entry.get("name_zh", "")
        domain.description = entry.get("description", "")
        session.add(domain)
        session.flush()
        domain_id = id_of(domain)
        for sub_entry in entry["subdomains"]:
            sub = existing_subs.get((domain_id, sub_entry["name"]))
            if sub is None:
                sub = Subdomain(domain_id=domain_id, name=sub_entry["name"])
                added += 1
            sub.name_zh = sub_entry.get("name_zh", "")
            sub.description = sub_entry.get("description", "")
            session.add(sub)
    session.flush()
    if commit:
        session.commit()
    log.info("taxonomy seeded: %d new rows", added)
    return added


def subdomain_index(session: Session) -> dict[tuple[str, str], int]:
    """Map ``(domain1, domain2)`` names to the subdomain id, from the database."""
    rows = session.exec(
        select(Domain.name, Subdomain.name, Subdomain.id).join(Subdomain, col(Subdomain.domain_id) == Domain.id)
    ).all()
    # a stored row's primary key is never NULL (SQLModel types it int | None for unsaved rows)
    return {(d, s): cast(int, sid) for d, s, sid in rows}


def join_taxonomy(stmt: SelectT) -> SelectT:
    """``stmt`` joined from ``Query`` to its ``Subdomain`` (domain2) and that one's ``Domain`` (domain1).

    ``stmt`` must already have ``Query`` in its FROM clause; select ``Subdomain.name`` and
    ``Domain.name`` to get a query's domain2 and domain1.

    Example:
        >>> stmt = join_taxonomy(select(Query.index, Subdomain.name, Domain.name))
        >>> print(" ".join(str(stmt).split("FROM")[1].split()).replace(" JOIN", "\\nJOIN"))
        query
        JOIN subdomain ON subdomain.id = query.subdomain_id
        JOIN domain ON domain.id = subdomain.domain_id
    """
    return (stmt.join(Subdomain, col(Subdomain.id) == Query.subdomain_id)
            .join(Domain, col(Domain.id) == Subdomain.domain_id))
