"""The Agreement page's *WEval groups* tab: a scored requirement-drop groups file, beside Table 4.

A researcher uploads one or more files written by ``metaeval groups score`` (WEval's layout: ``prompt``,
``chosen``, ``constraint``, ``instruction_id_list``, ``group``, ``index``, ``score``); each is read
by :func:`metaeval.report.groups.read_named` and reported by
:func:`metaeval.report.groups.groups_report` -- the same numbers as ``metaeval agreement --groups``
(Kendall tau with WEval's tie rule, tau-b with ties kept, position consistency, exact match, each
with a bootstrap interval over groups; paired comparisons with Holm for two or more files). Nothing
is stored: the files are read from a private temporary folder and removed.

Limits: at most :data:`MAX_FILES` files of :data:`MAX_BYTES` each. Bad input is an
:class:`~annotate.services.core.errors.InputError` naming the uploaded file, its line and field.

Example:
    >>> view = groups_view(actor=researcher, files=[("scored_4c.jsonl", data)])   # doctest: +SKIP
    >>> view.table_header[:3]                                                    # doctest: +SKIP
    ['Judge', 'Groups', 'C']
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from annotate.db.models import User
from annotate.services.core.authz import require_role
from annotate.services.core.errors import InputError
from annotate.services.core.roles import MANAGERS
from annotate.services.judges.rankings_view import Download
from metaeval.io import InputFileError
from metaeval.report.groups import (
    COMP_HEADER,
    SECTION_HEADER,
    comparison_rows,
    default_label,
    groups_report,
    read_named,
    render_groups,
    section_notes,
    section_rows,
)

MAX_FILES = 8
MAX_BYTES = 20 * 1024 * 1024
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class GroupsView:
    """What the tab draws: the section table, its notes, paired comparisons and downloads."""

    table_header: list[str]
    table_rows: list[list[str]]
    notes: list[str]
    comparison_header: list[str]
    comparison_rows: list[list[str]]
    downloads: dict[str, Download]
    report: dict


def _safe_name(name: str, k: int) -> str:
    """A file name for the temporary copy that keeps a ``4c`` size marker and nothing dangerous."""
    base = _SAFE.sub("_", Path(name).name)[:120].strip("._") or "groups"
    return f"{k}_{base}" if base.endswith(".jsonl") else f"{k}_{base}.jsonl"


def groups_view(*, actor: User | None, files: list[tuple[str, bytes]], group_size: int | None = None,
                n_resamples: int = 1000, seed: int = 0) -> GroupsView:
    """Read the uploaded scored groups files and report them (see the module docstring).

    Raises:
        PermissionDenied: the actor is not a researcher or admin.
        InputError: no file, too many or too large files, or bad content (file, line, field named).
    """
    require_role(actor, *MANAGERS)
    if not files:
        raise InputError("upload a scored groups file (written by `metaeval groups score`)")
    if len(files) > MAX_FILES:
        raise InputError(f"{len(files)} files: at most {MAX_FILES} at a time")
    for name, data in files:
        if len(data) > MAX_BYTES:
            raise InputError(f"the file is {len(data) / 2**20:.1f} MiB; at most {MAX_BYTES // 2**20} MiB",
                             path=name)
    if group_size is not None and group_size < 2:
        raise InputError("the group size must be at least 2", field="group size")
    with tempfile.TemporaryDirectory(prefix="annotate-groups-") as tmp:
        specs, shown, seen = [], {}, set()
        try:
            for k, (name, data) in enumerate(files):
                path = Path(tmp) / _safe_name(name, k)
                path.write_bytes(data)
                shown[str(path)] = name
                label = default_label(path)
                if label == path.stem:  # the lines name no judge/method: the uploaded file's name
                    label = Path(name).stem
                if label in seen:  # two files of one judge/method: tell them apart by file name
                    label = f"{label} ({Path(name).name})"
                seen.add(label)
                specs.append(f"{label}={path}")
            named = read_named(specs, group_size=group_size)
        except InputFileError as exc:
            # the field is a key of the researcher's own file: name it in the message a person reads
            message = f"field {exc.field}: {exc.message}" if exc.field else exc.message
            raise InputError(message, path=shown.get(str(exc.path), exc.path), line=exc.line,
                             field=exc.field) from exc
        except ValueError as exc:
            raise InputError(str(exc)) from exc
    try:
        report = groups_report(named, n_resamples=n_resamples, seed=seed)
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    downloads = {fmt: Download(f"groups.{ext}", mime, render_groups(report, fmt=fmt))
                 for fmt, ext, mime in (("csv", "csv", "text/csv"), ("json", "json", "application/json"),
                                        ("markdown", "md", "text/markdown"), ("latex", "tex", "application/x-tex"))}
    return GroupsView(table_header=list(SECTION_HEADER), table_rows=section_rows(report), notes=section_notes(report),
                      comparison_header=list(COMP_HEADER), comparison_rows=comparison_rows(report), downloads=downloads,
                      report=json.loads(json.dumps(report)))
