"""Import human votes collected elsewhere into a pairwise study.

Accepted files: JSON Lines in FastChat's judgment layout (what ``export votes`` writes), FastChat's
own human-judgment JSON array (``turn`` picks one turn), and CSV with the columns
``question_id, model_a, model_b, winner, judge`` (optional ``shown_left``, ``rationale``,
``elapsed_s``, ``criterion``). Each overall vote is matched to the study's pair (query index and the
two models, whichever order the file gives them) and stored as a finished task of the person named
in ``judge``; per-criterion rows of the same person and pair become its per-criterion choices.
People without an account get an inactive annotator account (no password, cannot log in).

Everything is checked before anything is written, and the import is one transaction: a bad line
names file, line and field and leaves the study as it was. Importing the same file again stores
nothing new (a vote already stored for that person and pair is counted as unchanged).

Example:
    >>> import_votes(session=s, actor=researcher, study_name="mt-bench-humans",
    ...              path="human_judgments.json", turn=1)                 # doctest: +SKIP
    VotesImportReport(path='human_judgments.json', votes=..., ...)
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from annotate.db.models import (
    Assignment,
    Judgment,
    JudgmentRevision,
    LLMModel,
    Query,
    Response,
    StudyItem,
    User,
    id_of,
)
from annotate.services.accounts.users import normalize_username
from annotate.services.core.authz import require_role
from annotate.services.core.errors import InputError
from annotate.services.core.roles import MANAGERS, Role
from annotate.services.core.statuses import StudyKind, TaskStatus
from annotate.services.studies.lifecycle import get_study
from metaeval.io import InputFileError, votes_from_dicts
from metaeval.types import Vote

log = logging.getLogger(__name__)

_USERNAME_OK = set("abcdefghijklmnopqrstuvwxyz0123456789_.@+-")
CSV_COLUMNS = ("question_id", "model_a", "model_b", "winner", "judge")


@dataclass
class VotesImportReport:
    """What an import did: votes read, stored, already there, and accounts created."""

    path: str
    votes: int = 0
    stored: int = 0
    unchanged: int = 0
    new_accounts: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the command line."""
        made = f"; new inactive accounts: {', '.join(self.new_accounts)}" if self.new_accounts else ""
        return f"{self.votes} votes: {self.stored} stored, {self.unchanged} already there{made}"


def _vote(obj: dict[str, Any], path: Path, line: int) -> tuple[int | None, Vote, bool]:
    try:
        vote = votes_from_dicts([obj], source=str(path))[0]
    except InputFileError as exc:
        raise InputFileError(exc.message, path=path, line=line, field=exc.field) from None
    both_poor = "bothbad" in str(obj.get("winner", "")).replace(" ", "").lower()
    return line, vote, both_poor


def read_vote_file(path: str | Path, *, turn: int | None = None) -> list[tuple[int | None, Vote, bool]]:
    """(line number or None in arrays, vote, "both are poor") for each vote of a JSON Lines, FastChat
    JSON-array or CSV file."""
    from metaeval.fastchat import is_json_array, read_fastchat_votes
    from metaeval.io import iter_jsonl

    p = Path(path)
    if p.suffix.lower() == ".csv":
        with p.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise InputFileError(f"missing columns {missing}; a vote file in CSV needs {list(CSV_COLUMNS)}",
                                     path=p, line=1)
            out = []
            for n, row in enumerate(reader, start=2):
                obj: dict[str, Any] = {k: v for k, v in row.items() if k and v not in (None, "")}
                if "elapsed_s" in obj:
                    try:
                        obj["elapsed_s"] = float(obj["elapsed_s"])
                    except ValueError as exc:
                        raise InputFileError("expected a number", path=p, line=n, field="elapsed_s") from exc
                out.append(_vote(obj, p, n))
            return out
    if is_json_array(p):
        votes = read_fastchat_votes(p, turn=turn)  # validates; the raw winners say "both are poor"
        raw = [o for o in json.loads(p.read_text(encoding="utf-8-sig"))
               if turn is None or o.get("turn", 1) == turn]
        return [(None, v, "bothbad" in str(o.get("winner", "")).replace(" ", "").lower())
                for v, o in zip(votes, raw, strict=True)]
    return [_vote(obj, p, n) for n, obj in iter_jsonl(p) if turn is None or obj.get("turn", 1) == turn]


def _study_pairs(session: Session, study_id: int) -> dict[tuple[int, str, str], tuple[StudyItem, bool]]:
    """(query index, lo model, hi model) -> (a non-gold item of that pair, whether its model_a is lo)."""
    resp_a, resp_b = aliased(Response), aliased(Response)
    model_a, model_b = aliased(LLMModel), aliased(LLMModel)
    stmt = (sa_select(StudyItem, col(Query.index), col(model_a.name), col(model_b.name))
            .join(Query, col(Query.id) == StudyItem.query_id)
            .join(resp_a, col(resp_a.id) == StudyItem.response_a_id)
            .join(resp_b, col(resp_b.id) == StudyItem.response_b_id)
            .join(model_a, col(model_a.id) == resp_a.model_id)
            .join(model_b, col(model_b.id) == resp_b.model_id)
            .where(col(StudyItem.study_id) == study_id)
            .order_by(col(StudyItem.is_gold), col(StudyItem.is_qualification), col(StudyItem.id)))
    out: dict[tuple[int, str, str], tuple[StudyItem, bool]] = {}
    for item, index, name_a, name_b in session.execute(stmt).all():
        lo, hi = sorted((name_a, name_b))
        out.setdefault((index, lo, hi), (item, name_a == lo))
    return out


def _where(path: str, line: int | None, fld: str) -> dict[str, Any]:
    return {"path": path, "line": line, "field": fld}


def import_votes(*, session: Session, actor: User | None, study_name: str, path: str | Path,
                 turn: int | None = None) -> VotesImportReport:
    """Import the votes of ``path`` into the pairwise study ``study_name`` in one transaction.

    Raises:
        PermissionDenied: the actor is not a researcher or admin.
        NotFound: no such study.
        InputError: a bad line (file, line and field named), a pair the study does not hold, a
            pointwise study, or the same person voting twice on a pair with different winners.
    """
    require_role(actor, *MANAGERS)
    name = str(path)
    study = get_study(session=session, name=study_name)
    if study.kind != StudyKind.PAIRWISE:
        raise InputError(f"study {study_name!r} is {study.kind}; votes go into a pairwise study", field="study")
    try:
        votes = read_vote_file(path, turn=turn)
    except InputFileError as exc:
        raise InputError(exc.message, path=exc.path, line=exc.line, field=exc.field) from exc
    if not votes:
        raise InputError("no votes in the file" + (f" for turn {turn}" if turn is not None else ""), path=name)
    pairs = _study_pairs(session, id_of(study))
    plan: dict[tuple[str, int], dict[str, Any]] = {}  # (username, item id) -> overall vote and criteria
    for line, vote, both_poor in votes:
        user = normalize_username(vote.judge or "")
        if not user or set(user) - _USERNAME_OK or len(user) > 100 or not user[0].isalnum():
            raise InputError(f"{vote.judge!r} is not a usable account name (letters, digits, _ . @ + -)",
                             **_where(name, line, "judge"))
        try:
            index = int(vote.question_id)
        except (TypeError, ValueError) as exc:
            raise InputError(f"question_id {vote.question_id!r} is not a query index",
                             **_where(name, line, "question_id")) from exc
        lo, hi = sorted((vote.model_a, vote.model_b))
        found = pairs.get((index, lo, hi))
        if found is None:
            raise InputError(f"study {study_name!r} has no pair of query {index} with models {lo!r} and {hi!r}",
                             **_where(name, line, "question_id"))
        item, a_is_lo = found
        # the vote's winner in the item's canonical terms (a = the item's response_a)
        winner_model = {"model_a": vote.model_a, "model_b": vote.model_b}.get(vote.winner)
        side = "tie" if winner_model is None else ("a" if (winner_model == lo) == a_is_lo else "b")
        entry = plan.setdefault((user, id_of(item)), {"line": line, "overall": None, "criteria": {}, "vote": vote})
        if vote.criterion:
            entry["criteria"][vote.criterion] = side
            continue
        if entry["overall"] is not None and entry["overall"] != side:
            raise InputError(f"{user} votes twice on this pair with different winners",
                             **_where(name, line, "winner"))
        entry["overall"] = side
        entry["vote"], entry["line"] = vote, line
        entry["shown_left"] = vote.shown_left
        entry["both_poor"] = both_poor
    missing = [(u, e["line"]) for (u, _i), e in plan.items() if e["overall"] is None]
    if missing:
        user, line = missing[0]
        raise InputError(f"{user} has per-criterion choices but no overall vote on this pair",
                         **_where(name, line, "criterion"))

    report = VotesImportReport(path=name, votes=len(plan))
    users = {u.username: u for u in session.exec(select(User).where(col(User.username).in_(
        sorted({u for u, _ in plan}))))}
    for username in sorted({u for u, _ in plan} - set(users)):
        account = User(username=username, role=Role.ANNOTATOR, active=False, display_name=username)
        session.add(account)
        users[username] = account
        report.new_accounts.append(username)
    session.flush()
    queries = {id_of(q): q for q in session.exec(select(Query).where(col(Query.id).in_(
        sorted({item_query for item_query in _item_queries(session, [i for _u, i in plan])}))))}
    items = {id_of(i): i for i in session.exec(select(StudyItem).where(col(StudyItem.id).in_(
        sorted({i for _u, i in plan}))))}
    for (username, item_id), entry in sorted(plan.items()):
        voter = users[username]
        existing = session.exec(select(Assignment, Judgment).join(Judgment, col(Judgment.assignment_id) == Assignment.id,
                                                                  isouter=True)
                                .where(Assignment.item_id == item_id, Assignment.annotator_id == id_of(voter),
                                       col(Assignment.status) != TaskStatus.SUPERSEDED)).first()
        if existing is not None and existing[1] is not None:
            if existing[1].winner != entry["overall"]:
                raise InputError(f"{username} already has a different vote on this pair in the study",
                                 **_where(name, entry["line"], "winner"))
            report.unchanged += 1
            continue
        shown = entry.get("shown_left")
        a_is_lo = pairs[_pair_key(entry["vote"])][1]
        if shown in ("model_a", "model_b"):
            shown_model = entry["vote"].model_a if shown == "model_a" else entry["vote"].model_b
            lo = min(entry["vote"].model_a, entry["vote"].model_b)
            shown_left = "a" if (shown_model == lo) == a_is_lo else "b"
        else:
            shown_left = "a"
        if existing is not None:
            assignment = existing[0]
            assignment.status = TaskStatus.DONE
        else:
            assignment = Assignment(study_id=id_of(study), item_id=item_id, annotator_id=id_of(voter),
                                    shown_left=shown_left, status=TaskStatus.DONE)
        session.add(assignment)
        session.flush()
        query = queries[items[item_id].query_id]
        vote = entry["vote"]
        extra = dict(vote.extra)
        elapsed = extra.get("elapsed_s")
        token = "import:" + hashlib.sha256(f"{id_of(study)}:{username}:{item_id}".encode()).hexdigest()[:40]
        fields = dict(winner=entry["overall"], both_poor=bool(entry["both_poor"] and entry["overall"] == "tie"),
                      per_criterion=dict(entry["criteria"]), rationale=str(extra.get("rationale") or ""),
                      flags=[], elapsed_s=float(elapsed) if isinstance(elapsed, (int, float)) else None,
                      instruction_version_no=1, content_revision=query.content_revision, submit_token=token)
        judgment = Judgment(assignment_id=id_of(assignment), revision=1, **fields)
        session.add(judgment)
        session.flush()
        session.add(JudgmentRevision(judgment_id=id_of(judgment), revision=1, **fields))
        report.stored += 1
    session.commit()
    log.info("imported %d votes into study %s from %s (%d unchanged)", report.stored, study_name, name,
             report.unchanged)
    return report


def _pair_key(vote: Vote) -> tuple[int, str, str]:
    lo, hi = sorted((vote.model_a, vote.model_b))
    return int(vote.question_id), lo, hi


def _item_queries(session: Session, item_ids: list[int]) -> list[int]:
    return list(session.exec(select(StudyItem.query_id).where(col(StudyItem.id).in_(sorted(set(item_ids))))))
