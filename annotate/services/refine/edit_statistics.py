"""Edit statistics: per domain, queries edited and versions by status."""

from __future__ import annotations

from sqlmodel import Session, col, select

from annotate.db.models import Domain, InstructionVersion, MaterialDocument, MaterialVersion, Query
from annotate.services.core.statuses import VersionStatus
from annotate.services.core.taxonomy import join_taxonomy


def edit_statistics(*, session: Session) -> list[dict]:
    """Per domain: queries, queries edited, instruction and material versions by status.

    Returns one dict per domain with keys ``domain``, ``queries``, ``edited_queries``,
    ``instruction_approved``, ``instruction_pending``, ``instruction_rejected``,
    ``material_approved``, ``material_pending``, ``material_rejected``, ``split_queries``.
    Version 1 (the import) and the split's version are not counted as edits.
    """
    domain_of = dict(session.exec(join_taxonomy(select(Query.id, Domain.name))).all())
    stats: dict[str, dict] = {}
    for name in sorted(set(domain_of.values())):
        stats[name] = {"domain": name, "queries": 0, "edited_queries": 0, "split_queries": 0,
                       **{f"{k}_{s}": 0 for k in ("instruction", "material")
                          for s in (VersionStatus.APPROVED, VersionStatus.PENDING, VersionStatus.REJECTED)}}
    for domain in domain_of.values():
        stats[domain]["queries"] += 1
    edited: set[int] = set()
    split: set[int] = set()
    for query_id, status, reason in session.exec(select(
            InstructionVersion.query_id, InstructionVersion.status, InstructionVersion.reason).where(InstructionVersion.version_no > 1)):
        if reason.startswith("split:"):
            split.add(query_id)
            continue
        stats[domain_of[query_id]][f"instruction_{status}"] += 1
        edited.add(query_id)
    for query_id, status in session.exec(select(MaterialDocument.query_id, MaterialVersion.status)
                                         .join(MaterialDocument, col(MaterialDocument.id) == MaterialVersion.document_id)
                                         .where(MaterialVersion.version_no > 1)):
        stats[domain_of[query_id]][f"material_{status}"] += 1
        edited.add(query_id)
    for query_id in edited:
        stats[domain_of[query_id]]["edited_queries"] += 1
    for query_id in split:
        stats[domain_of[query_id]]["split_queries"] += 1
    return list(stats.values())
