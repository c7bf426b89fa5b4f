"""Export a study's human votes (FastChat layout) or ratings (pointwise layout) to a file.

Formats: JSON Lines (overall rows have no ``criterion`` key), CSV and Parquet (an empty
``criterion`` column on overall rows), and ``fastchat``: one JSON array of the overall votes in
the layout FastChat's ``compute_agreement.py`` reads (:func:`metaeval.fastchat.fastchat_rows`). The file is written to a temporary file beside the
target and moved into place, so a failed export leaves nothing half-written.

Example:
    >>> export_votes(session=s, actor=researcher, study_name="pilot",
    ...              path="votes.jsonl")                      # doctest: +SKIP
    1500
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path

from sqlmodel import Session

from annotate.db.models import User
from annotate.services.core.authz import require_role
from annotate.services.core.errors import InputError
from annotate.services.core.roles import MANAGERS
from annotate.services.judges.bridge import RATING_FIELDS, VOTE_FIELDS, ratings_for_study, votes_for_study
from annotate.services.studies.lifecycle import get_study
from metaeval import csv_safe
from metaeval.fastchat import fastchat_rows

log = logging.getLogger(__name__)

FORMATS = ("jsonl", "csv", "parquet", "fastchat")


def _write_rows(rows: list[dict], columns: list[str], tmp: Path, fmt: str) -> None:
    if fmt == "fastchat":
        tmp.write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    elif fmt == "jsonl":
        with tmp.open("w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    elif fmt == "csv":
        with tmp.open("w", encoding="utf-8", newline="") as fh:
            writer = csv_safe.DictWriter(fh, fieldnames=columns)
            writer.writeheader()
            for row in rows:
                writer.writerow({c: ("" if row.get(c) is None else row.get(c)) for c in columns})
    else:
        import pandas as pd

        frame = pd.DataFrame([{c: row.get(c) for c in columns} for row in rows], columns=columns)
        frame.to_parquet(tmp, index=False)


def export_votes(*, session: Session, actor: User | None, study_name: str, path: str | Path,
                 fmt: str = "jsonl", include_stale: bool = False) -> int:
    """Write the study's votes (pairwise) or ratings (pointwise) to ``path``; return the row count.

    Raises:
        PermissionDenied: the actor is not a researcher or admin.
        NotFound: no such study.
        InputError: unknown format, or ``fastchat`` for a pointwise study.
    """
    require_role(actor, *MANAGERS)
    if fmt not in FORMATS:
        raise InputError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}", field="format")
    study = get_study(session=session, name=study_name)
    if study.kind == "pointwise" and fmt == "fastchat":
        raise InputError(f"study {study_name!r} is pointwise; the fastchat format holds pairwise votes only",
                         field="format")
    if study.kind == "pointwise":
        rows = ratings_for_study(session=session, study_name=study_name, include_stale=include_stale)
        columns = list(RATING_FIELDS)
    else:
        rows = votes_for_study(session=session, study_name=study_name, include_stale=include_stale)
        columns = [*VOTE_FIELDS, "criterion"]
        if fmt == "fastchat":
            rows = fastchat_rows(rows)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        _write_rows(rows, columns, tmp, fmt)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    log.info("exported %d rows of study %s to %s", len(rows), study_name, target)
    return len(rows)
