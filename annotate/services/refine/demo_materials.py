"""Material documents for the demo project, so *Prune materials* and the materials pane have
something to show: collected by one person, verified by another, like real ones.

The file is JSON Lines, one material per line::

    {"index": 900014, "title": "...", "source_url": "...", "license_note": "...",
     "text": "paragraphs separated by blank lines", "left_out": [4]}

``left_out`` (optional) lists the paragraphs (0-based) the collector did not keep. A query
that already has a material of that title is left as it is, so a rebuilt demo adds nothing twice.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlmodel import Session, select

from annotate.db.models import MaterialDocument, User, id_of
from annotate.services.core.errors import InputError, NotFound
from annotate.services.core.jsonl import read_jsonl
from annotate.services.refine import materials
from annotate.services.refine.splitter import segment_paragraphs

log = logging.getLogger(__name__)

_REQUIRED = ("index", "title", "source_url", "license_note", "text")


def seed_demo_materials(*, session: Session, path: Path, collector: User, verifier: User) -> str:
    """Add and verify every material of ``path`` that is not there yet; a note on what happened.

    Raises:
        InputError: a line lacks a field, names an unknown query or a paragraph it does not have
            (the error names the file, the line and the field; nothing is written).
    """
    todo = []
    for line, record in read_jsonl(path, what="materials"):  # check every line before writing any
        for name in _REQUIRED:
            if not isinstance(record.get(name), int if name == "index" else str):
                raise InputError(f"{name} is missing or of the wrong type", path=str(path), line=line, field=name)
        try:
            query = materials.query_by_index(session=session, index=record["index"])
        except NotFound as exc:
            raise InputError(str(exc), path=str(path), line=line, field="index") from None
        count = len(segment_paragraphs(record["text"].strip()))
        left_out = record.get("left_out") or []
        if not isinstance(left_out, list) or any(not isinstance(p, int) or not 0 <= p < count for p in left_out):
            raise InputError(f"left_out must list paragraph numbers from 0 to {count - 1}", path=str(path),
                             line=line, field="left_out")
        todo.append((id_of(query), record, [p for p in range(count) if p not in left_out]))
    added = 0
    for query_id, record, kept in todo:
        exists = session.exec(select(MaterialDocument.id).where(
            MaterialDocument.query_id == query_id, MaterialDocument.title == record["title"])).first()
        if exists is not None:
            continue
        document = materials.add_material(
            session=session, actor=collector, query_id=query_id, title=record["title"], text=record["text"],
            source_url=record["source_url"], license_note=record["license_note"], kept=kept)
        materials.verify_material(session=session, actor=verifier, document_id=id_of(document))
        added += 1
    log.info("demo materials: %d added from %s", added, path)
    return f"demo materials: {added} added ({path.name})"
