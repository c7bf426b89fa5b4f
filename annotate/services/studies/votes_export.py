"""Export a study's human votes (FastChat layout) or ratings (pointwise layout) to a file.

Formats: JSON Lines (overall rows have no ``criterion`` key), CSV and Parquet (an empty
``criterion`` column on overall rows), and ``fastchat``: one JSON array of the overall votes in
the layout FastChat's ``compute_agreement.py`` reads (:func:`metaeval.fastchat.fastchat_rows`). The file is written to a temporary file beside the
target and moved into place, so a failed export leaves nothing half-written.

Every pairwise vote carries the annotator's ``flags`` (a list of flag names; see
:data:`FLAGS_FIELD`) and its design (:data:`DESIGN_FIELDS`, in every format): the allocation
round (0: the study's own fixed design; ``k``: the ``k``-th ``annotate study extend``), the
round's strategy and, for an extension, ``design_expected`` = ``e_i``, the expected number of the
round's votes on that pair (the Horvitz–Thompson weight of one such vote is ``1 / e_i``), and the
round's planned number of votes; ``design_last_expected`` is the pair's ``e_i`` in the study's last
extension round on every vote of the pair (a pair that round drew no vote for still has one). :mod:`metaeval.stats.design` estimates from these fields.

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

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from annotate.db.models import Assignment, FlagResolution, Judgment, Study, User, id_of
from annotate.services.core.authz import require_role
from annotate.services.core.bulk import chunked
from annotate.services.core.errors import InputError
from annotate.services.core.roles import MANAGERS
from annotate.services.core.statuses import FlagStatus, StudyKind
from annotate.services.judges.bridge import (
    HISTORY_FIELDS,
    RATING_FIELDS,
    VOTE_FIELDS,
    ratings_for_study,
    votes_for_study,
)
from annotate.services.studies.lifecycle import get_study
from metaeval import csv_safe
from metaeval.fastchat import fastchat_rows

log = logging.getLogger(__name__)

FORMATS = ("jsonl", "csv", "parquet", "fastchat")
DESIGN_FIELDS = ("design_round", "design_strategy", "design_expected", "design_round_votes", "design_last_expected")
"""The design of each exported pairwise vote (see the module docstring)."""
FLAG_RESOLUTIONS_FIELD = "flag_resolutions"
"""Each flag's state on the expert queue, one object per flag of ``flags`` (see :func:`_flag_states`);
in CSV and Parquet the list as JSON text."""
FLAGS_FIELD = "flags"
"""The annotator's flags on each pairwise vote: a list of flag names (``query_problem``,
``response_cut_off``, ``needs_expert``, ``needs_materials``), empty when none; in CSV the names joined by ``;``."""


def _flag_states(session: Session, judgment_flags: dict[int, list[str]]) -> dict[int, list[dict]]:
    """Judgment id -> one entry per flag it carries: the flag's current state on the expert
    queue (:mod:`annotate.services.refine.flags`): ``{"flag", "status", "note", "expert",
    "decided_at", "version"}``; ``version`` counts the decisions so far (0 and ``open``: none yet)."""
    decided: dict[tuple[int, str], list[tuple[FlagResolution, str]]] = {}
    ids = [jid for jid, flags in judgment_flags.items() if flags]
    for part in chunked(ids):
        rows = session.exec(select(FlagResolution, User.username)
                            .join(User, col(User.id) == FlagResolution.expert_id)
                            .where(col(FlagResolution.judgment_id).in_(part))).all()
        for row, name in rows:
            decided.setdefault((row.judgment_id, row.flag), []).append((row, str(name)))
    out: dict[int, list[dict]] = {}
    for jid, flags in judgment_flags.items():
        states = []
        for flag in flags:
            history = sorted(decided.get((jid, flag), []), key=lambda d: id_of(d[0]))
            last, expert = history[-1] if history else (None, "")
            states.append({"flag": flag, "status": last.status if last else FlagStatus.OPEN.value,
                           "note": last.note if last else "", "expert": expert,
                           "decided_at": last.created_at.isoformat() if last else None, "version": len(history)})
        out[jid] = states
    return out


def _vote_designs(session: Session, study: Study) -> dict[int, dict]:
    """Task (assignment) id -> the vote's ``flags``, ``flag_resolutions`` and design fields."""
    extensions = list((study.settings or {}).get("extensions", []))
    stmt = (sa_select(col(Assignment.id), col(Assignment.item_id), col(Judgment.id), col(Judgment.flags))
            .join(Judgment, col(Judgment.assignment_id) == Assignment.id)
            .where(col(Assignment.study_id) == id_of(study))
            .order_by(col(Assignment.id)))
    rows = session.execute(stmt).all()
    states = _flag_states(session, {jid: [str(f) for f in (flags or [])] for _, _, jid, flags in rows})
    out: dict[int, dict] = {}
    final = extensions[-1] if extensions else None
    for aid, item_id, jid, flags in rows:
        # the pair's expected count in the last round, on every vote of the pair: a pair the last
        # round drew no vote for still needs its e_i (the estimator's planned variance uses it)
        last_e = float(final.get("expected", {}).get(str(item_id), 0.0)) if final else None
        design: dict = {"design_round": 0, "design_strategy": "fixed", "design_expected": None,
                        "design_round_votes": None, "design_last_expected": last_e}
        for k, rec in enumerate(extensions, start=1):
            first, last = rec.get("assignment_ids") or (0, -1)
            if first <= aid <= last:
                design = {"design_round": k, "design_strategy": rec.get("strategy"),
                          "design_expected": float(rec.get("expected", {}).get(str(item_id), 0.0)),
                          "design_round_votes": int(rec.get("n", 0)), "design_last_expected": last_e}
                break
        out[aid] = {FLAGS_FIELD: [str(f) for f in (flags or [])], FLAG_RESOLUTIONS_FIELD: states.get(jid, []),
                    **design}
    return out


def _with_design(rows: list[dict], designs: dict[int, dict]) -> list[dict]:
    """Each vote row (of ``votes_for_study(history=True)``) with its flags and design fields
    appended, and its internal ``task`` key dropped."""
    fixed = {FLAGS_FIELD: [], FLAG_RESOLUTIONS_FIELD: [], "design_round": 0, "design_strategy": "fixed",
             "design_expected": None, "design_round_votes": None, "design_last_expected": None}
    return [{**{k: v for k, v in r.items() if k != "task"}, **designs.get(int(r.get("task") or 0), fixed)}
            for r in rows]


def _csv_cell(value: object) -> object:
    """A CSV cell: empty for ``None``; a list (``flags``) as its items joined by ``;``.

    Example:
        >>> _csv_cell(None), _csv_cell(["query_problem", "needs_expert"]), _csv_cell([]), _csv_cell(3)
        ('', 'query_problem;needs_expert', '', 3)
    """
    if value is None:
        return ""
    if isinstance(value, list) and any(isinstance(v, dict) for v in value):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return value


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
                writer.writerow({c: _csv_cell(row.get(c)) for c in columns})
    else:
        import pandas as pd

        frame = pd.DataFrame([{c: (json.dumps(row.get(c), ensure_ascii=False) if c == FLAG_RESOLUTIONS_FIELD
                                   else row.get(c)) for c in columns} for row in rows], columns=columns)
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
    if study.kind == StudyKind.POINTWISE and fmt == "fastchat":
        raise InputError(f"study {study_name!r} is pointwise; the fastchat format holds pairwise votes only",
                         field="format")
    if study.kind == StudyKind.POINTWISE:
        rows = [{k: v for k, v in r.items() if k != "task"}
                for r in ratings_for_study(session=session, study_name=study_name, include_stale=include_stale,
                                           history=True)]
        columns = [*RATING_FIELDS, *HISTORY_FIELDS]
    else:
        rows = _with_design(votes_for_study(session=session, study_name=study_name, include_stale=include_stale,
                                            history=True),
                            _vote_designs(session, study))
        columns = [*VOTE_FIELDS, *HISTORY_FIELDS, "criterion", FLAGS_FIELD, FLAG_RESOLUTIONS_FIELD, *DESIGN_FIELDS]
        if fmt == "fastchat":
            overall = [r for r in rows if not r.get("criterion")]
            extra = (*HISTORY_FIELDS, FLAGS_FIELD, FLAG_RESOLUTIONS_FIELD, *DESIGN_FIELDS)
            rows = [{**f, **{k: r[k] for k in extra}} for f, r in zip(fastchat_rows(overall), overall, strict=True)]
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
