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
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from annotate.db.models import Assignment, Judgment, LLMModel, Query, Response, Study, StudyItem, User, id_of
from annotate.services.core.authz import require_role
from annotate.services.core.errors import InputError
from annotate.services.core.roles import MANAGERS
from annotate.services.judges.bridge import RATING_FIELDS, VOTE_FIELDS, ratings_for_study, votes_for_study
from annotate.services.studies.lifecycle import get_study
from metaeval import csv_safe
from metaeval.fastchat import fastchat_rows

log = logging.getLogger(__name__)

FORMATS = ("jsonl", "csv", "parquet", "fastchat")
DESIGN_FIELDS = ("design_round", "design_strategy", "design_expected", "design_round_votes", "design_last_expected")
"""The design of each exported pairwise vote (see the module docstring)."""
FLAGS_FIELD = "flags"
"""The annotator's flags on each pairwise vote: a list of flag names (``query_problem``,
``response_cut_off``, ``needs_expert``), empty when none; in CSV the names joined by ``;``."""


def _vote_designs(session: Session, study: Study) -> dict[tuple[str, str, str, str], dict]:
    """``(question id, model_a, model_b, username)`` (canonical model order) -> the vote's ``flags``
    and design fields.

    No one judges a pair twice, so the key names one assignment.
    """
    extensions = list((study.settings or {}).get("extensions", []))
    resp_a, resp_b = aliased(Response), aliased(Response)
    model_a, model_b = aliased(LLMModel), aliased(LLMModel)
    stmt = (sa_select(col(Assignment.id), col(Assignment.item_id), col(User.username), col(Query.index),
                      col(model_a.name), col(model_b.name), col(Judgment.flags))
            .join(User, col(User.id) == Assignment.annotator_id)
            .join(StudyItem, col(StudyItem.id) == Assignment.item_id)
            .join(Query, col(Query.id) == StudyItem.query_id)
            .join(resp_a, col(resp_a.id) == StudyItem.response_a_id)
            .join(resp_b, col(resp_b.id) == StudyItem.response_b_id)
            .join(model_a, col(model_a.id) == resp_a.model_id)
            .join(model_b, col(model_b.id) == resp_b.model_id)
            .outerjoin(Judgment, col(Judgment.assignment_id) == Assignment.id)
            .where(col(Assignment.study_id) == id_of(study))
            .order_by(col(Assignment.id)))
    out: dict[tuple[str, str, str, str], dict] = {}
    final = extensions[-1] if extensions else None
    for aid, item_id, username, index, name_a, name_b, flags in session.execute(stmt).all():
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
        lo, hi = sorted((str(name_a), str(name_b)))
        key = (str(index), lo, hi, str(username))
        # a re-queued task shares its key with the task it replaced: the newest judgment's flags
        # win, and a task not judged yet (no judgment row: flags None) keeps the earlier ones
        known = out[key]["flags"] if key in out else []
        out[key] = {"flags": known if flags is None else [str(f) for f in flags], **design}
    return out


def _with_design(rows: list[dict], designs: dict[tuple[str, str, str, str], dict]) -> list[dict]:
    """Each vote row with its flags and design fields appended (a vote of no known assignment:
    no flags, round 0)."""
    fixed = {"flags": [], "design_round": 0, "design_strategy": "fixed", "design_expected": None, "design_round_votes": None,
             "design_last_expected": None}
    return [{**r, **designs.get((str(r["question_id"]), r["model_a"], r["model_b"], str(r.get("judge"))), fixed)}
            for r in rows]


def _csv_cell(value: object) -> object:
    """A CSV cell: empty for ``None``; a list (``flags``) as its items joined by ``;``.

    Example:
        >>> _csv_cell(None), _csv_cell(["query_problem", "needs_expert"]), _csv_cell([]), _csv_cell(3)
        ('', 'query_problem;needs_expert', '', 3)
    """
    if value is None:
        return ""
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
        rows = _with_design(votes_for_study(session=session, study_name=study_name, include_stale=include_stale),
                            _vote_designs(session, study))
        columns = [*VOTE_FIELDS, "criterion", FLAGS_FIELD, *DESIGN_FIELDS]
        if fmt == "fastchat":
            overall = [r for r in rows if not r.get("criterion")]
            rows = [{**f, **{k: r[k] for k in (FLAGS_FIELD, *DESIGN_FIELDS)}}
                    for f, r in zip(fastchat_rows(overall), overall, strict=True)]
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
