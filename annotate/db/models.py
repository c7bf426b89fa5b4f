"""All database tables of the annotate app, in one module.

The schema has four groups:

* **benchmark**: domains, subdomains, queries with their versioned instructions and
  materials, criteria sets, models and responses;
* **people**: users and login attempts;
* **studies**: pairwise and pointwise studies, their items, assignments, judgments (with
  revision history), pointwise ratings and adjudications;
* **judging and audit**: judge runs with their scores, and auditors' tags on disagreements.

Every table is created by the Alembic migrations in ``annotate/migrations``; never call
``SQLModel.metadata.create_all`` on a production database.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, Text, UniqueConstraint, event, func, select
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key
from sqlmodel import Field, SQLModel, col


def utcnow() -> datetime:
    """Current time in UTC (timezone-aware), the only clock the tables use."""
    return datetime.now(UTC)


def id_of(row: SQLModel) -> int:
    """The primary key of a stored row, as an ``int`` (a row not yet flushed has none).

    SQLModel types ``id`` as ``int | None`` because a new object has no key until it is
    flushed; code that works on stored rows uses this to say so once.

    Example: ``id_of(session.get(Query, 3))`` is ``3``; ``id_of(Query(...))`` raises
    ``ValueError`` before a flush.
    """
    value = getattr(row, "id", None)
    if value is None:
        raise ValueError(f"{type(row).__name__} has no id yet (not flushed)")
    return int(value)


def _text(nullable: bool = False) -> Any:
    return Field(default="", sa_column=Column(Text, nullable=nullable))


def _json(default_factory: Any = dict) -> Any:
    return Field(default_factory=default_factory, sa_column=Column(JSON, nullable=False))


# --------------------------------------------------------------------------- benchmark


class Domain(SQLModel, table=True):
    """One of WritingBench's six primary domains (``domain1``)."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=200)
    name_zh: str = Field(default="", max_length=200)
    description: str = Field(default="", max_length=1000)


class Subdomain(SQLModel, table=True):
    """One of the 100 secondary domains (``domain2``), unique within its domain."""

    __table_args__ = (UniqueConstraint("domain_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    domain_id: int = Field(foreign_key="domain.id", index=True)
    name: str = Field(index=True, max_length=200)
    name_zh: str = Field(default="", max_length=200)
    description: str = Field(default="", max_length=1000)


class Query(SQLModel, table=True):
    """A writing query as imported. ``original_text`` is never modified (version 1).

    ``extra`` keeps every field of the source record that the schema does not know,
    so that an export writes it back unchanged.
    """

    id: int | None = Field(default=None, primary_key=True)
    index: int = Field(index=True, unique=True)
    subdomain_id: int = Field(foreign_key="subdomain.id", index=True)
    lang: str = Field(max_length=8)  # "zh" | "en"
    original_text: str = _text()
    extra: dict = _json()
    source: str = Field(default="", max_length=500)
    needs_materials: bool = Field(default=False)
    material_requirement: str = _text()
    # Bumped whenever an approved change to the instruction or the materials makes
    # earlier judgments stale; judgments pin the value they were made on.
    content_revision: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow)


class InstructionVersion(SQLModel, table=True):
    """An append-only version of a query's instruction (the text without materials).

    Version 1 is the imported text (status ``approved``). Later versions are proposed by
    an expert with a reason and become current when a second expert approves them.

    Version 1 of an imported query is stored by reference: its ``text`` column is NULL,
    meaning "the query's ``original_text``", so an import does not write every query twice.
    Objects loaded through the ORM always hold the resolved text (see
    :func:`_resolve_instruction_text`); core-level SQL that reads the column must use
    :func:`instruction_text_expression` instead.
    """

    __table_args__ = (UniqueConstraint("query_id", "version_no"),)
    id: int | None = Field(default=None, primary_key=True)
    query_id: int = Field(foreign_key="query.id")  # indexed by the unique (query_id, version_no)
    version_no: int
    base_version_no: int | None = None
    text: str = Field(default="", sa_column=Column(Text, nullable=True))  # NULL: the query's original
    status: str = Field(default="approved", max_length=16)  # pending|approved|rejected
    reason: str = _text()
    author_id: int | None = Field(default=None, foreign_key="user.id")
    reviewer_id: int | None = Field(default=None, foreign_key="user.id")
    review_note: str = _text()
    created_at: datetime = Field(default_factory=utcnow)
    reviewed_at: datetime | None = None


def instruction_text_expression() -> Any:
    """SQL for a version's text with version 1 resolved: ``COALESCE(text, original_text)``.

    Example: ``select(InstructionVersion.id, instruction_text_expression())``.
    """
    original = (select(col(Query.original_text)).where(col(Query.id) == InstructionVersion.query_id)
                .correlate(InstructionVersion).scalar_subquery())
    return func.coalesce(InstructionVersion.text, original)


def _fill_instruction_text(target: InstructionVersion, session: Any) -> None:
    if target.__dict__.get("text", "") is not None:
        return
    cached = session.identity_map.get(identity_key(Query, target.query_id)) if session is not None else None
    if cached is not None and "original_text" in cached.__dict__:
        original = cached.original_text
    else:
        original = session.connection().execute(
            select(col(Query.original_text)).where(col(Query.id) == target.query_id)).scalar_one()
    set_committed_value(target, "text", original)


@event.listens_for(InstructionVersion, "load")
def _resolve_instruction_text(target: InstructionVersion, context: Any) -> None:
    """A version stored by reference (NULL text) is loaded with its query's original text,
    set as the committed value (nothing to flush back)."""
    _fill_instruction_text(target, context.session)


@event.listens_for(InstructionVersion, "refresh")
def _resolve_refreshed_instruction_text(target: InstructionVersion, context: Any, attrs: Any) -> None:
    if attrs is None or "text" in attrs:
        _fill_instruction_text(target, context.session)


class MaterialDocument(SQLModel, table=True):
    """A reference material attached to a query, collected or split out of an import."""

    id: int | None = Field(default=None, primary_key=True)
    query_id: int = Field(foreign_key="query.id", index=True)
    title: str = Field(default="", max_length=500)
    source_url: str = Field(default="", max_length=2000)
    license_note: str = Field(default="", max_length=1000)
    origin: str = Field(default="imported", max_length=16)  # imported|collected
    collector_id: int | None = Field(default=None, foreign_key="user.id")
    verified_by_id: int | None = Field(default=None, foreign_key="user.id")
    verified_at: datetime | None = None
    status: str = Field(default="active", max_length=16)  # active|pending|rejected
    # Where the document goes relative to the instruction ("after"|"before") and the exact
    # text between them; a split import keeps the original whitespace here, so rendering
    # the unpruned split query restores the original text byte for byte.
    placement: str = Field(default="after", max_length=8)
    joiner: str = Field(default="\n\n", sa_column=Column(Text, nullable=False, server_default="\n\n"))
    created_at: datetime = Field(default_factory=utcnow)


class MaterialSegment(SQLModel, table=True):
    """An immutable paragraph of a material document; versions choose which are kept.

    ``separator`` is the exact whitespace that followed the segment in the source, so
    that joining every segment with its separator restores the document byte for byte.
    """

    __table_args__ = (UniqueConstraint("document_id", "position"),)
    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="materialdocument.id", index=True)
    position: int
    text: str = _text()
    separator: str = Field(default="", sa_column=Column(Text, nullable=False))


class MaterialVersion(SQLModel, table=True):
    """An append-only selection of kept segments of one document (pruning).

    ``kept`` lists segment positions kept; ``removals`` maps a removed position (as a
    string) to its reason (redundant, irrelevant, duplicate, too long).
    """

    __table_args__ = (UniqueConstraint("document_id", "version_no"),)
    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="materialdocument.id", index=True)
    version_no: int
    base_version_no: int | None = None
    kept: list = _json(list)
    removals: dict = _json()
    status: str = Field(default="approved", max_length=16)  # pending|approved|rejected
    reason: str = _text()
    author_id: int | None = Field(default=None, foreign_key="user.id")
    reviewer_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)
    reviewed_at: datetime | None = None
    review_note: str = _text()  # why a reviewer rejected (or approved) it


class CriteriaSet(SQLModel, table=True):
    """A named set of criteria: static-global, static-domain (per domain) or dynamic.

    A dynamic set belongs to one query (its imported ``checklist`` or a generated one).
    """

    id: int | None = Field(default=None, primary_key=True)
    method: str = Field(index=True, max_length=32)  # static-global|static-domain|dynamic
    name: str = Field(max_length=200)
    lang: str = Field(default="", max_length=8)
    domain_id: int | None = Field(default=None, foreign_key="domain.id")
    query_id: int | None = Field(default=None, foreign_key="query.id", index=True)
    source: str = Field(default="", max_length=200)  # checklist|generated:<judge>|file
    created_at: datetime = Field(default_factory=utcnow)


class Criterion(SQLModel, table=True):
    """One criterion with its 1-10 rubric in five bands, in the order of its set."""

    __table_args__ = (UniqueConstraint("criteria_set_id", "position"),)
    id: int | None = Field(default=None, primary_key=True)
    criteria_set_id: int = Field(foreign_key="criteriaset.id")  # indexed by the unique (set, position)
    position: int
    name: str = _text()
    description: str = _text()
    band_1_2: str = _text()
    band_3_4: str = _text()
    band_5_6: str = _text()
    band_7_8: str = _text()
    band_9_10: str = _text()
    extra: dict = _json()


class LLMModel(SQLModel, table=True):
    """A model (system) whose responses are judged. Its name is never shown to annotators."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=200)


class Response(SQLModel, table=True):
    """One model's response to one query."""

    __table_args__ = (UniqueConstraint("query_id", "model_id"),)
    id: int | None = Field(default=None, primary_key=True)
    query_id: int = Field(foreign_key="query.id", index=True)
    model_id: int = Field(foreign_key="llmmodel.id", index=True)
    text: str = _text()
    extra: dict = _json()
    created_at: datetime = Field(default_factory=utcnow)


# --------------------------------------------------------------------------- people


class User(SQLModel, table=True):
    """An account. ``password_hash`` is an argon2 hash; the password itself is never stored."""

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(index=True, unique=True, max_length=100)
    role: str = Field(max_length=16)  # annotator|expert|researcher|admin
    password_hash: str = Field(default="", max_length=500)
    display_name: str = Field(default="", max_length=200)
    active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow)
    session_epoch: int = Field(default=0)  # raised by "Log out": the app's session cookies issued before are refused


class LoginAttempt(SQLModel, table=True):
    """A login attempt, kept to slow down repeated failures (per username and per client address)."""

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(index=True, max_length=100)
    success: bool
    client_address: str = Field(default="", index=True, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, index=True)


# --------------------------------------------------------------------------- studies


class Study(SQLModel, table=True):
    """A human study: ``kind`` is ``pairwise`` or ``pointwise``.

    ``settings`` keeps the design parameters (per-subdomain N, overlap K, seed, model
    pairs, gold rate, qualification size, per-criterion choices, error types, ...).
    """

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=200)
    kind: str = Field(default="pairwise", max_length=16)
    settings: dict = _json()
    status: str = Field(default="active", max_length=16)  # active|closed
    created_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)


class StudyItem(SQLModel, table=True):
    """A unit of a study: a pair of responses (pairwise) or one response (pointwise).

    ``response_a_id``/``response_b_id`` are in canonical order (model names sorted);
    gold items carry ``gold_winner`` (a|b|tie); qualification items come before real work.
    """

    id: int | None = Field(default=None, primary_key=True)
    study_id: int = Field(foreign_key="study.id", index=True)
    query_id: int = Field(foreign_key="query.id", index=True)
    response_a_id: int = Field(foreign_key="response.id")
    response_b_id: int | None = Field(default=None, foreign_key="response.id")
    is_gold: bool = Field(default=False)
    gold_winner: str | None = Field(default=None, max_length=8)
    is_qualification: bool = Field(default=False)


class Assignment(SQLModel, table=True):
    """One annotator's task on one study item (the app, the API and ``services/annotate/tasks.py``
    call it a *task*; the table keeps its first name, as renaming it needs a migration).

    ``shown_left`` is ``a`` or ``b``: which canonical response was on the left.
    ``position`` orders an annotator's queue. A re-queued task points at the one it replaces.
    """

    id: int | None = Field(default=None, primary_key=True)
    study_id: int = Field(foreign_key="study.id", index=True)
    item_id: int = Field(foreign_key="studyitem.id", index=True)
    annotator_id: int = Field(foreign_key="user.id", index=True)
    shown_left: str = Field(default="a", max_length=1)
    position: int = Field(default=0)
    status: str = Field(default="pending", max_length=16)  # pending|skipped|done|superseded
    requeued_from_id: int | None = Field(default=None, foreign_key="assignment.id")
    created_at: datetime = Field(default_factory=utcnow)


class Judgment(SQLModel, table=True):
    """A pairwise judgment: at most one per assignment (unique), revised in place.

    ``winner`` is in canonical terms (a|b|tie), never left/right. Each revision is also
    appended to :class:`JudgmentRevision`. ``per_criterion`` maps criterion name to a|b|tie.
    ``instruction_version_no`` and ``content_revision`` pin what the annotator saw.
    """

    id: int | None = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="assignment.id", unique=True, index=True)
    winner: str = Field(max_length=8)
    both_poor: bool = Field(default=False)
    per_criterion: dict = _json()
    rationale: str = _text()
    flags: list = _json(list)
    elapsed_s: float | None = None
    active_s: float | None = None  # active seconds of the showing this revision came from (TaskShowing)
    instruction_version_no: int = Field(default=1)
    content_revision: int = Field(default=1)
    stale: bool = Field(default=False, index=True)
    revision: int = Field(default=1)
    # Token of the latest submit; every token is also on its JudgmentRevision (exactly once).
    submit_token: str | None = Field(default=None, max_length=100)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class JudgmentRevision(SQLModel, table=True):
    """The full history of a judgment: one row per submitted revision."""

    __table_args__ = (UniqueConstraint("judgment_id", "revision"),)
    id: int | None = Field(default=None, primary_key=True)
    judgment_id: int = Field(foreign_key="judgment.id", index=True)
    revision: int
    winner: str = Field(max_length=8)
    both_poor: bool = Field(default=False)
    per_criterion: dict = _json()
    rationale: str = _text()
    flags: list = _json(list)
    elapsed_s: float | None = None
    active_s: float | None = None  # active seconds of the showing this revision came from (TaskShowing)
    instruction_version_no: int = Field(default=1)
    content_revision: int = Field(default=1)
    # The page's token for this submit: a token seen before means "already stored".
    submit_token: str | None = Field(default=None, max_length=100, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow)


class PointwiseRating(SQLModel, table=True):
    """A pointwise rating (1-5) of one response; low ratings carry an error type."""

    id: int | None = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="assignment.id", unique=True, index=True)
    score: int
    error_type: str = Field(default="", max_length=100)
    rationale: str = _text()
    elapsed_s: float | None = None
    active_s: float | None = None  # active seconds of the showing this revision came from (TaskShowing)
    instruction_version_no: int = Field(default=1)
    content_revision: int = Field(default=1)
    stale: bool = Field(default=False)
    revision: int = Field(default=1)
    submit_token: str | None = Field(default=None, max_length=100)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class PointwiseRatingRevision(SQLModel, table=True):
    """The full history of a pointwise rating: one row per submitted revision."""

    __table_args__ = (UniqueConstraint("rating_id", "revision"),)
    id: int | None = Field(default=None, primary_key=True)
    rating_id: int = Field(foreign_key="pointwiserating.id")  # indexed by the unique (rating, revision)
    revision: int
    score: int
    error_type: str = Field(default="", max_length=100)
    rationale: str = _text()
    elapsed_s: float | None = None
    active_s: float | None = None  # active seconds of the showing this revision came from (TaskShowing)
    instruction_version_no: int = Field(default=1)
    content_revision: int = Field(default=1)
    # The page's token for this submit: a token seen before means "already stored".
    submit_token: str | None = Field(default=None, max_length=100, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow)


class TaskShowing(SQLModel, table=True):
    """Active time on one showing of a task: the annotator's work towards one revision of its
    answer (``revision`` = the revision a submit will store), summed over reloads.

    The browser reports active time (tab visible, input within the last N seconds) in
    heartbeats; ``active_s`` sums the credited seconds, ``last_beat_at`` (epoch seconds)
    bounds the next credit. ``submitted_at`` is set when the revision is stored; the showing
    takes no more time then (:mod:`annotate.services.annotate.active_time`).
    """

    __table_args__ = (UniqueConstraint("assignment_id", "revision"),)
    id: int | None = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="assignment.id")  # indexed by the unique (assignment, revision)
    revision: int
    active_s: float = Field(default=0.0)
    last_beat_at: float | None = None
    submitted_at: float | None = None
    created_at: datetime = Field(default_factory=utcnow)


class Adjudication(SQLModel, table=True):
    """A researcher's resolved label for a split pair, kept apart from the votes."""

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="studyitem.id", unique=True, index=True)
    winner: str = Field(max_length=8)
    note: str = _text()
    researcher_id: int = Field(foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)


class FlagResolution(SQLModel, table=True):
    """An expert's decision on one flag of a judgment ("Problem with the query", ...), append-only.

    Each row is a version: ``status`` ``resolved`` (with the expert's required ``note``) or
    ``open`` (reopened, with why). The newest row of a ``(judgment_id, flag)`` is its state; a
    flag with no row is open.
    """

    id: int | None = Field(default=None, primary_key=True)
    judgment_id: int = Field(foreign_key="judgment.id", index=True)
    flag: str = Field(max_length=32)
    status: str = Field(max_length=16)  # resolved|open
    note: str = _text()
    expert_id: int = Field(foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)


# --------------------------------------------------------------------------- judging and audit


class JudgeRun(SQLModel, table=True):
    """A set of judge scores imported into the database: one (judge, criteria method)."""

    __table_args__ = (UniqueConstraint("judge", "method"),)
    id: int | None = Field(default=None, primary_key=True)
    judge: str = Field(max_length=200)
    method: str = Field(max_length=32)
    settings: dict = _json()
    created_at: datetime = Field(default_factory=utcnow)


class JudgeScore(SQLModel, table=True):
    """One criterion score (1-10 with a reason) of one response by one judge run.

    ``score`` is a real number: WritingBench's scores are whole numbers, a ``tow`` run stores one
    weighted root score per response (migration 0010).
    """

    __table_args__ = (UniqueConstraint("run_id", "response_id", "criterion"),)
    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="judgerun.id", index=True)
    response_id: int = Field(foreign_key="response.id", index=True)
    criterion: str = _text()
    position: int = Field(default=0)
    score: float
    reason: str = _text()
    content_revision: int = Field(default=1)
    stale: bool = Field(default=False)


class AuditCause(SQLModel, table=True):
    """An entry of the editable list of disagreement causes."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=100)
    active: bool = Field(default=True)


class AuditTag(SQLModel, table=True):
    """An auditor's tag on one disagreement (a study item under one judge and method)."""

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="studyitem.id", index=True)
    judge: str = Field(max_length=200)
    method: str = Field(max_length=32)
    cause: str = Field(max_length=100)
    note: str = _text()
    author_id: int = Field(foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)
