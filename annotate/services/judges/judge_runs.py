"""Import judge score files into :class:`JudgeRun` / :class:`JudgeScore` rows.

Two layouts are accepted (docs/formats.md, "Judge scores"), detected from the first line:

* WritingBench's evaluation output, one file per (model, judge, criteria method):
  ``{"index": int, "scores": {"<criterion>": [{"score": 1..10, "reason": str}]}}``; the model
  comes from the caller (``model=``) or a per-line ``"model"`` field;
* the long layout: ``{"index", "model", "judge", "method", "criterion", "score", "reason"}``;
  the lines' ``judge``/``method`` must match the ones given (or be empty). Lines carrying
  ``weight`` are the leaves of a criteria tree (``metaeval judge --method tow``): the run stores
  one root score per response, recomputed from the leaves (:func:`_tree_roots`).

Scores are real numbers in 1..10 (tree leaves 0..10: a step scorer gives 0, 5 or 10); a ``tow``
root such as 7.7125 is stored as it is.

The whole file is checked first; an error names the file, the line and the field, and
nothing is written. The run is created when it does not exist. Scores already stored with
the same value and reason are counted as unchanged; a different value for the same
(run, response, criterion) is an error unless ``replace=True``. Each score pins the query's
current ``content_revision``.

Example:
    >>> rep = import_scores(session=s, path="gpt4_dynamic.jsonl", judge="gpt-4o",
    ...                     method="dynamic", model="demo-alpha")          # doctest: +SKIP
    >>> rep.inserted                                                     # doctest: +SKIP
    75
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from sqlmodel import Session, col, select

from annotate.db.engine import transaction
from annotate.db.models import JudgeRun, JudgeScore, LLMModel, Query, Response, id_of
from annotate.services.content.imports import bulk_insert
from annotate.services.core.bulk import chunked
from annotate.services.core.errors import InputError
from metaeval.criteria.methods import method_names
from metaeval.io import InputFileError, detect_layout, iter_jsonl, read_score_file, read_scores

log = logging.getLogger(__name__)

METHODS: tuple[str, ...] = method_names()
"""The registered criteria methods (metaeval.criteria.methods); other names (e.g. ``critic``) are allowed too."""
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:+@/-]*$")


@dataclass
class ScoreImportReport:
    """What :func:`import_scores` did."""

    path: str
    judge: str
    method: str
    layout: str
    records: int = 0
    inserted: int = 0
    unchanged: int = 0
    replaced: int = 0
    run_created: bool = False

    def summary(self) -> str:
        """One line for the CLI."""
        made = " (new run)" if self.run_created else ""
        return (f"{self.path}: {self.records} scores for {self.method}/{self.judge}{made}: "
                f"{self.inserted} inserted, {self.replaced} replaced, {self.unchanged} unchanged")


def _check_name(value: str, field: str, path: str) -> str:
    value = (value or "").strip()
    if not value:
        raise InputError("must not be empty", path=path, field=field)
    if len(value) > (32 if field == "method" else 200) or not _NAME.match(value):
        raise InputError(f"{value!r} is not a valid name (letters, digits, - _ . : / @ +)", path=path, field=field)
    return value


def _records(path: str, *, judge: str, method: str, model: str | None) -> tuple[str, list[tuple[int, dict]]]:
    """(layout, [(line, record dict)]) with every field checked by metaeval's readers."""
    try:
        lines = list(iter_jsonl(path))
        if not lines:
            raise InputError("the file holds no scores", path=path)
        layout = detect_layout(lines[0][1])
        line_of: list[int] = []
        if layout == "writingbench":
            for n, obj in lines:
                if "model" in obj and model is not None and obj["model"] != model:
                    raise InputError(f"the line names model {obj['model']!r} but the import is for {model!r}",
                                     path=path, line=n, field="model")
                scores = obj.get("scores")
                if not isinstance(scores, dict):
                    break  # the reader names the field
                for crit, entries in scores.items():
                    if isinstance(entries, list) and len(entries) > 1:
                        raise InputError(f"{len(entries)} scores for one criterion; keep one per criterion",
                                         path=path, line=n, field=f"scores.{crit}")
                    line_of.append(n)
            recs = read_score_file(path, model=model, judge=judge, method=method)
        elif layout == "long":
            for n, obj in lines:
                for key, want in (("judge", judge), ("method", method)):
                    got = obj.get(key, "")
                    if got not in ("", want):
                        raise InputError(f"the line is for {key} {got!r} but the import is for {want!r}",
                                         path=path, line=n, field=key)
                if model is not None and obj.get("model") != model:
                    raise InputError(f"the line names model {obj.get('model')!r} but the import is for {model!r}",
                                     path=path, line=n, field="model")
                line_of.append(n)
            recs = read_scores(path)
            if any("weight" in obj for _n, obj in lines):
                return "tree", _tree_roots(path, lines, method=method)
        else:
            raise InputError("not a judge score file (expected 'index' and 'scores', or the long layout "
                             "'index', 'model', 'criterion', 'score')", path=path, line=lines[0][0])
    except InputFileError as exc:
        raise InputError(exc.message, path=exc.path, line=exc.line, field=exc.field) from exc
    out: list[tuple[int, dict]] = []
    for n, r in zip(line_of, recs, strict=True):
        if not isinstance(r.index, int):
            raise InputError(f"expected an integer query index, got {r.index!r}", path=path, line=n, field="index")
        if not r.criterion.strip():
            raise InputError("empty criterion name", path=path, line=n, field="criterion")
        out.append((n, {"index": r.index, "model": r.model, "criterion": r.criterion, "score": r.score,
                        "reason": r.reason}))
    return layout, out


def _tree_roots(path: str, lines: list[tuple[int, dict]], *, method: str) -> list[tuple[int, dict]]:
    """One root score per response from a criteria tree's leaf rows (``metaeval judge --method tow``).

    The leaves' mean is not the method's score, so the root is recomputed from the stored leaves and
    edge weights (``root = sum_j n_j / n * sum w * leaf``, docs/formats.md) and stored under the
    criterion named after the method, as the WritingBench-layout file ``wb/*.jsonl`` holds it.
    Every line must carry ``weight`` (a file mixing leaves and plain scores is refused).

    Example: content leaves 8 and 6 weighted 0.5/0.5 and impression 5 -> 2/3 * 7 + 1/3 * 5 = 6.333333.
    """
    from metaeval.judges.tree_run import ablate, read_tree_long

    for n, obj in lines:
        if "weight" not in obj:
            raise InputError("the file holds criteria-tree leaves (lines with 'weight'); this line has none",
                             path=path, line=n, field="weight")
        if not isinstance(obj.get("index"), int) or isinstance(obj.get("index"), bool):
            raise InputError(f"expected an integer query index, got {obj.get('index')!r}", path=path, line=n,
                             field="index")
    leaves = read_tree_long(path)
    nodes = tuple(sorted({name.split("/")[0] for per in leaves.values() for name in per}))
    roots = ablate(leaves, nodes)
    first: dict[tuple[str, str], tuple[int, dict]] = {}
    for n, obj in lines:
        first.setdefault((str(obj["index"]), str(obj["model"])), (n, obj))
    out = []
    for key, root in roots.items():
        n, obj = first[key]
        out.append((n, {"index": obj["index"], "model": obj["model"], "criterion": method, "score": round(root, 6),
                        "reason": f"{method} root score"}))
    return out


def get_or_create_run(*, session: Session, judge: str, method: str, settings: dict | None = None) -> tuple[JudgeRun, bool]:
    """The run for (judge, method), created (not committed) when missing."""
    run = session.exec(select(JudgeRun).where(JudgeRun.judge == judge, JudgeRun.method == method)).first()
    if run is not None:
        return run, False
    run = JudgeRun(judge=judge, method=method, settings=settings or {})
    session.add(run)
    session.flush()
    return run, True


def import_scores(*, session: Session, path: str | Path, judge: str, method: str, model: str | None = None,
                  replace: bool = False, settings: dict | None = None,
                  keep_existing: bool = False) -> ScoreImportReport:
    """Import one judge score file in one transaction (see the module docstring).

    Args:
        session: database session; this function commits, or rolls back on error.
        path: the ``.jsonl`` file.
        judge: judge name (e.g. ``gpt-4o``, ``critic-7b``).
        method: criteria method (``static-global``, ``static-domain``, ``dynamic`` or another name).
        model: the model whose responses were scored (WritingBench layout without ``"model"``).
        replace: overwrite stored scores that differ instead of refusing.
        keep_existing: leave every stored score as it is (counted unchanged) and add only the
            missing ones; the demo uses it, so a restart keeps stale scores of edited queries.
        settings: stored on a newly created run (e.g. temperature, prompt version).

    Raises:
        InputError: bad input (file, line and field named); nothing was written.
    """
    name = str(path)
    judge = _check_name(judge, "judge", name)
    method = _check_name(method, "method", name)
    if model is not None:
        model = _check_name(model, "model", name)
    layout, records = _records(name, judge=judge, method=method, model=model)
    report = ScoreImportReport(path=name, judge=judge, method=method, layout=layout, records=len(records))
    with transaction(session):
        # ------------------------------------------------ resolve responses
        # A stored row's primary key is never NULL (SQLModel types it int | None for unsaved rows).
        models = {mname: cast(int, mid) for mname, mid in session.exec(select(LLMModel.name, LLMModel.id)).all()}
        indexes = sorted({r["index"] for _n, r in records})
        queries: dict[int, tuple[int, int]] = {}
        for chunk in chunked(indexes):
            for idx, qid, rev in session.exec(select(Query.index, Query.id, Query.content_revision).where(
                    col(Query.index).in_(chunk))).all():
                queries[idx] = (cast(int, qid), rev)
        responses: dict[tuple[int, int], int] = {}
        qids = [q for q, _r in queries.values()]
        for chunk in chunked(qids):
            for rid, qid, mid in session.exec(select(Response.id, Response.query_id, Response.model_id).where(
                    col(Response.query_id).in_(chunk))).all():
                responses[(qid, mid)] = cast(int, rid)
        seen: dict[tuple[int, str], tuple[int, dict]] = {}
        position: dict[int, int] = {}
        rows: list[dict] = []
        for n, rec in records:
            if rec["index"] not in queries:
                raise InputError(f"no query with index {rec['index']} in the database", path=name, line=n,
                                 field="index")
            if rec["model"] not in models:
                raise InputError(f"no model named {rec['model']!r} in the database (import its responses first)",
                                 path=name, line=n, field="model")
            qid, rev = queries[rec["index"]]
            rid = responses.get((qid, models[rec["model"]]))
            if rid is None:
                raise InputError(f"model {rec['model']!r} has no response to query {rec['index']}",
                                 path=name, line=n, field="index")
            key = (rid, rec["criterion"])
            if key in seen:
                if (seen[key][1]["score"], seen[key][1]["reason"]) != (rec["score"], rec["reason"]):
                    raise InputError(f"criterion {rec['criterion']!r} of model {rec['model']!r} on query "
                                     f"{rec['index']} already scored differently on line {seen[key][0]}",
                                     path=name, line=n, field="criterion" if layout == "long" else "scores")
                report.unchanged += 1
                continue
            seen[key] = (n, rec)
            pos = position.get(rid, 0)
            position[rid] = pos + 1
            rows.append({"response_id": rid, "criterion": rec["criterion"], "position": pos,
                         "score": rec["score"], "reason": rec["reason"], "content_revision": rev, "stale": False,
                         "_line": n})

        # ------------------------------------------------ compare with what is stored
        run, report.run_created = get_or_create_run(session=session, judge=judge, method=method, settings=settings)
        existing: dict[tuple[int, str], JudgeScore] = {}
        rids = sorted({r["response_id"] for r in rows})
        for chunk in chunked(rids):
            for js in session.exec(select(JudgeScore).where(
                    JudgeScore.run_id == run.id,
                    col(JudgeScore.response_id).in_(chunk))):
                existing[(js.response_id, js.criterion)] = js
        new_rows = []
        for row in rows:
            line = row.pop("_line")
            old = existing.get((row["response_id"], row["criterion"]))
            if old is None:
                new_rows.append({"run_id": run.id, **row})
            elif keep_existing or (old.score, old.reason, old.content_revision, old.stale) == (row["score"], row["reason"],
                                                                              row["content_revision"], False):
                report.unchanged += 1
            elif not replace:
                raise InputError(f"a different score for criterion {row['criterion']!r} is already stored for "
                                 f"this response in run {method}/{judge} (use replace to overwrite)",
                                 path=name, line=line, field="score")
            else:
                old.score, old.reason = row["score"], row["reason"]
                old.content_revision, old.stale, old.position = row["content_revision"], False, row["position"]
                session.add(old)
                report.replaced += 1
        bulk_insert(session.connection(), JudgeScore, new_rows)
        report.inserted = len(new_rows)
    log.info("%s", report.summary())
    return report


@dataclass(frozen=True)
class RunSummary:
    """A judge run with its size, for pickers."""

    run_id: int
    judge: str
    method: str
    n_scores: int | None
    n_responses: int | None

    @property
    def label(self) -> str:
        """``method/judge``, the row name used in agreement tables."""
        return f"{self.method}/{self.judge}"


def list_runs(*, session: Session, with_counts: bool = True) -> list[RunSummary]:
    """Every judge run with its number of scores and scored responses, sorted by method, judge.

    ``with_counts=False`` skips counting the scores (a scan of every score row) for callers
    that only need the runs' names; ``n_scores`` and ``n_responses`` are then ``None``.
    """
    from sqlalchemy import func

    counts: dict = {}
    if with_counts:
        counts = {rid: (n, r) for rid, n, r in session.exec(
            select(JudgeScore.run_id, func.count(col(JudgeScore.id)), func.count(func.distinct(JudgeScore.response_id)))
            .group_by(col(JudgeScore.run_id))).all()}
    runs = session.exec(select(JudgeRun)).all()
    missing = (0, 0) if with_counts else (None, None)
    out = [RunSummary(id_of(run), run.judge, run.method, *counts.get(run.id, missing)) for run in runs]
    return sorted(out, key=lambda r: (r.method, r.judge))


SCORE_COLUMNS = ["run_id", "response_id", "index", "model", "criterion", "position", "score"]
MEAN_COLUMNS = ["run_id", "index", "model", "score", "n_scores"]


def _placeholders(session: Session, n: int) -> str:
    mark = "?" if session.connection().dialect.paramstyle == "qmark" else "%s"
    return ", ".join(mark for _ in range(n))


def load_scores(*, session: Session, run_ids: list[int] | None = None, include_stale: bool = False):  # noqa: ANN201
    """Judge scores as a DataFrame (one row per criterion score), without reasons.

    Columns: run_id, response_id, index (query index), model, criterion, position, score.
    A score is stale when it was marked so or the query changed after it was made; stale
    scores are left out unless ``include_stale``.
    """
    import pandas as pd

    sql = ('SELECT s.run_id, s.response_id, q."index", m.name, s.criterion, s.position, s.score, '
           's.stale, s.content_revision, q.content_revision FROM judgescore s '
           'JOIN response r ON r.id = s.response_id JOIN query q ON q.id = r.query_id '
           'JOIN llmmodel m ON m.id = r.model_id')
    params: tuple = ()
    if run_ids is not None:
        if not run_ids:
            return pd.DataFrame(columns=SCORE_COLUMNS)
        sql += f" WHERE s.run_id IN ({_placeholders(session, len(run_ids))})"
        params = tuple(int(r) for r in run_ids)
    # Plain tuples: pandas builds a frame from SQLAlchemy Row objects many times slower.
    rows = [tuple(r) for r in session.connection().exec_driver_sql(sql, params).all()]
    df = pd.DataFrame(rows, columns=[*SCORE_COLUMNS, "stale", "rev", "qrev"])
    if not include_stale and len(df):
        df = df[~(df["stale"].astype(bool) | (df["rev"] < df["qrev"]))]
    return df[SCORE_COLUMNS].reset_index(drop=True)


def load_score_means(*, session: Session, run_ids: list[int] | None = None, include_stale: bool = False):  # noqa: ANN201
    """Per run and response: the sum and number of its criterion scores, summed in the database.

    Columns: run_id, index (query index), model, score (the mean: sum / count, computed here
    from the two integers, so exactly what a mean over :func:`load_scores` rows gives), n_scores.
    Staleness as in :func:`load_scores`. One row per (run, query, model) instead of one per
    criterion: what verdicts need, at a fifth of the rows.

    Example:
        >>> load_score_means(session=s, run_ids=[1]).iloc[0].to_dict()   # doctest: +SKIP
        {'run_id': 1, 'index': 900001, 'model': 'demo-alpha', 'score': 7.4, 'n_scores': 5}
    """
    import numpy as np
    import pandas as pd

    where: list[str] = []
    params: tuple = ()
    if run_ids is not None:
        if not run_ids:
            return pd.DataFrame(columns=MEAN_COLUMNS)
        where.append(f"s.run_id IN ({_placeholders(session, len(run_ids))})")
        params = tuple(int(r) for r in run_ids)
    if not include_stale:
        where.append("NOT s.stale AND s.content_revision >= q.content_revision")
    # Sum per (run, response) first - the unique (run_id, response_id, criterion) index gives
    # that order without sorting - then name the 21,000 sums instead of 105,000 scores. A
    # response is one (query, model) (unique), so this equals grouping by query index and model.
    sql = ('SELECT a.run_id, q."index", m.name, a.total, a.n FROM ('
           'SELECT s.run_id AS run_id, s.response_id AS response_id, SUM(s.score) AS total, COUNT(*) AS n '
           'FROM judgescore s JOIN response r ON r.id = s.response_id JOIN query q ON q.id = r.query_id'
           + (" WHERE " + " AND ".join(where) if where else "")
           + ' GROUP BY s.run_id, s.response_id) a JOIN response r ON r.id = a.response_id '
           'JOIN query q ON q.id = r.query_id JOIN llmmodel m ON m.id = r.model_id')
    rows = session.connection().exec_driver_sql(sql, params).all()
    if not rows:
        return pd.DataFrame(columns=MEAN_COLUMNS)
    run, index, model, total, count = (list(c) for c in zip(*rows, strict=True))
    totals, counts = np.asarray(total, dtype=float), np.asarray(count, dtype=np.int64)
    return pd.DataFrame({"run_id": run, "index": index, "model": model, "score": totals / counts,
                         "n_scores": counts})
