"""Export the refined benchmark: WritingBench JSONL plus a provenance file.

The benchmark file has WritingBench's layout with ``query`` = the current approved
instruction with the kept materials (:func:`annotate.services.content.content.render_query_text`)
and the checklist and every other field unchanged (:func:`annotate.services.content.exports.query_records`).

The provenance file has one line per query, in the same order::

    {"index", "changed", "content_revision", "original_sha256", "original_query",
     "instruction": {"version_id", "version_no", "author", "reviewer", "reason", "approved_at"},
     "instruction_history": [{"version_no", "status", "author", "reason"}, ...],
     "materials": [{"document_id", "title", "origin", "source_url", "license_note", "collector",
                    "verified_by", "version_id", "version_no", "kept", "removals", "author",
                    "reviewer", "reason"}, ...]}

``original_query`` is the imported text, so the original benchmark can be rebuilt from the
two files byte for byte. Both files are written to temporary files first and only moved in
place when both are complete.

Example:
    >>> sha256_hex("abc")[:12]
    'ba7816bf8f01'
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import cast

from sqlmodel import Session, col, select

from annotate.db.models import InstructionVersion, Query, User, id_of
from annotate.services.content.content import (
    current_instruction,
    current_material_version,
    current_materials,
    render_query_text,
)
from annotate.services.content.exports import query_records, write_jsonl

log = logging.getLogger(__name__)


def sha256_hex(text: str) -> str:
    """Hex SHA-256 of the UTF-8 bytes of ``text``."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class RefinedExportReport:
    """Counts of a refined export."""

    queries: int
    changed: int
    path: str
    provenance_path: str


def _names(session: Session) -> dict[int, str]:
    # a stored user's key is never NULL (SQLModel types it int | None for unsaved rows)
    return cast(dict[int, str], dict(session.exec(select(User.id, User.username)).all()))


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def provenance_record(*, session: Session, query: Query, names: dict[int, str], text: str) -> dict:
    """The provenance line of one query (see the module docstring)."""
    def who(user_id: int | None) -> str | None:
        return None if user_id is None else names.get(user_id, str(user_id))

    query_id = id_of(query)
    current = current_instruction(session=session, query_id=query_id)
    history = session.exec(select(InstructionVersion).where(InstructionVersion.query_id == query_id)
                           .order_by(col(InstructionVersion.version_no))).all()
    materials = []
    for document, _kept_text in current_materials(session=session, query_id=query_id):
        version = current_material_version(session=session, document_id=id_of(document))
        materials.append({
            "document_id": document.id, "title": document.title, "origin": document.origin,
            "placement": document.placement, "source_url": document.source_url,
            "license_note": document.license_note, "collector": who(document.collector_id),
            "verified_by": who(document.verified_by_id),
            "version_id": None if version is None else version.id,
            "version_no": None if version is None else version.version_no,
            "kept": None if version is None else list(version.kept),
            "removals": {} if version is None else dict(version.removals or {}),
            "author": None if version is None else who(version.author_id),
            "reviewer": None if version is None else who(version.reviewer_id),
            "reason": "" if version is None else version.reason})
    return {
        "index": query.index, "changed": text != query.original_text,
        "content_revision": query.content_revision, "original_sha256": sha256_hex(query.original_text),
        "original_query": query.original_text,
        "instruction": {"version_id": current.id, "version_no": current.version_no,
                        "author": who(current.author_id), "reviewer": who(current.reviewer_id),
                        "reason": current.reason, "approved_at": _iso(current.reviewed_at)},
        "instruction_history": [{"version_no": v.version_no, "status": v.status, "author": who(v.author_id),
                                 "reason": v.reason} for v in history],
        "materials": materials,
    }


def export_refined(*, session: Session, path: str | Path, provenance_path: str | Path) -> RefinedExportReport:
    """Write the refined benchmark to ``path`` and its provenance to ``provenance_path``.

    Raises:
        ValueError: both paths name the same file.
    """
    target, prov_target = Path(path), Path(provenance_path)
    if target.resolve() == prov_target.resolve():
        raise ValueError("the benchmark and the provenance file must be different files")
    records = query_records(session=session)
    queries = {q.index: q for q in session.exec(select(Query))}
    names = _names(session)
    provenance: list[dict] = []
    changed = 0
    for index, record in records.items():
        query = queries[index]
        text = render_query_text(session=session, query_id=id_of(query))
        record["query"] = text
        entry = provenance_record(session=session, query=query, names=names, text=text)
        changed += entry["changed"]
        provenance.append(entry)
    tmp_main = target.with_name(f".{target.name}.refined-tmp")
    tmp_prov = prov_target.with_name(f".{prov_target.name}.refined-tmp")
    try:
        write_jsonl(tmp_main, records.values())
        write_jsonl(tmp_prov, provenance)
        os.replace(tmp_main, target)
        os.replace(tmp_prov, prov_target)
    finally:
        tmp_main.unlink(missing_ok=True)
        tmp_prov.unlink(missing_ok=True)
    log.info("exported %d refined queries (%d changed) to %s", len(records), changed, target)
    return RefinedExportReport(len(records), changed, str(target), str(prov_target))
