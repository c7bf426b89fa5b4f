"""The WEval requirement-drop groups report: per judge/method, the judge's order of
each group against the gold order -- Kendall tau (WEval's tie rule), tau-b (ties kept), position
consistency and exact match, each a mean over groups with a bootstrap interval -- and, for two or
more judges, paired comparisons (Holm). It renders on its own (``metaeval groups agreement``) and
as a section beside Table 4 (``metaeval agreement --groups FILE``), in every format of
:data:`metaeval.report.tables.FORMATS`.

Example (one group of three, kept 3/2/1, scores 9/9/4: tau 1 by WEval's rule, tau-b 0.8165):
    >>> from metaeval.groups import Group, Line
    >>> rep = groups_report({"m/j": [Group(0, [Line(1, 9.0, 3), Line(2, 9.0, 2), Line(3, 4.0, 1)])]},
    ...                     n_resamples=0)
    >>> section_rows(rep)[0][:4]
    ['m/j', '1', '3', '1.000']
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from metaeval import csv_safe
from metaeval.groups import METRICS, Group, compare, per_group, read_groups, summarise
from metaeval.io import iter_jsonl
from metaeval.report.tables import csv_num, html_table, latex_table, md_table, p_text

__all__ = ["GROUPS_TITLE", "TIE_SENTENCE", "SECTION_HEADER", "groups_report", "default_label", "read_named",
           "section_rows", "section_notes", "comparison_rows", "render_markdown", "render_groups", "add_groups_section"]

GROUPS_TITLE = "WEval requirement-drop groups: judge order against the gold order"
TIE_SENTENCE = "kendall_tau breaks score ties in the judge's favour (WEval's cal_corr.py); kendall_tau_b keeps them."
TIE_RULE = ("kendall_tau, position_consistency and exact_match break score ties as WEval's cal_corr.py (more kept "
            "requirements first, in the judge's favour); kendall_tau_b keeps ties")
SECTION_HEADER = ["Judge", "Groups", "C", "Kendall tau (WEval ties)", "Kendall tau-b (ties kept)",
                  "Position consistency", "Exact match"]
COMP_HEADER = ["A", "B", "Metric", "Difference", "Groups", "p", "p (Holm)"]


def default_label(path: str | Path) -> str:
    """``method/judge`` from the first line of a scored file (what ``groups score`` writes), else the
    file's stem -- so the groups rows read like Table 4's rows."""
    first = next(iter_jsonl(path), None)
    if first is not None:
        judge, method = first[1].get("judge"), first[1].get("method")
        if isinstance(judge, str) and judge and isinstance(method, str) and method:
            return f"{method}/{judge}"
    return Path(path).stem


def read_named(specs: list[str], *, group_size: int | None = None,
               label_from_lines: bool = False) -> dict[str, list[Group]]:
    """``[NAME=]FILE`` specs -> {label: groups}; InputFileError (file, line, field) for bad input,
    ValueError for a label given twice."""
    named: dict[str, list[Group]] = {}
    for value in specs:
        label, _, path = value.rpartition("=") if "=" in value else ("", "", value)
        label = label or (default_label(path) if label_from_lines else Path(path).stem)
        if label in named:
            raise ValueError(f"groups label {label!r} given twice; name the files NAME=FILE")
        named[label] = read_groups(path, group_size=group_size)
    return named


def groups_report(named: Mapping[str, list[Group]], *, n_resamples: int = 2000, seed: int = 0,
                  n_permutations: int = 10_000) -> dict[str, Any]:
    """``{"judges": {label: {metric: {value, ci}, groups, group_size}}, "comparisons": [...], "settings"}``
    (comparisons only with two or more labels; ValueError when their group counts differ)."""
    values = {k: per_group(v) for k, v in named.items()}
    report: dict[str, Any] = {"judges": {}, "settings": {"bootstrap": n_resamples, "seed": seed, "level": 0.95,
                                                         "tie_rule": TIE_RULE}}
    for label, vals in values.items():
        report["judges"][label] = {**summarise(vals, n_resamples=n_resamples, seed=seed),
                                   "groups": int(vals.shape[0]), "group_size": len(named[label][0].lines)}
    if len(values) > 1:
        report["comparisons"] = compare(values, n_permutations=n_permutations, seed=seed)
    return report


def _fmt(cell: dict) -> str:
    if cell["value"] is None:
        return "n/a"
    lo, hi = cell["ci"]
    return f"{cell['value']:.3f}" + (f" [{lo:.3f}, {hi:.3f}]" if lo is not None else "")


def render_markdown(report: dict) -> str:
    """The ``metaeval groups agreement`` Markdown table (a flat one-judge report or ``{"judges": ...}``)."""
    judges = report.get("judges") or {"judge": report}
    out = ["| judge | groups | " + " | ".join(METRICS) + " |", "|---|---|" + "---|" * len(METRICS)]
    for label, row in judges.items():
        out.append(f"| {label} | {row['groups']} | " + " | ".join(_fmt(row[m]) for m in METRICS) + " |")
    out.append("")
    out.append(TIE_SENTENCE)
    for r in report.get("comparisons", []):
        diff = "n/a" if r["difference"] is None else f"{r['difference']:+.3f}"
        p = "n/a" if r["p_holm"] is None else f"{r['p_holm']:.4f}"
        out.append(f"- {r['a']} - {r['b']} {r['metric']}: {diff} (Holm p {p}, {r['n_groups']} groups)")
    return "\n".join(out) + "\n"


def section_rows(report: dict) -> list[list[str]]:
    """One row of text cells per judge/method: label, groups, C, then the four metrics with intervals."""
    judges = report.get("judges") or {"judge": report}
    return [[label, str(row["groups"]), str(row["group_size"]), *(_fmt(row[m]) for m in METRICS)]
            for label, row in judges.items()]


def comparison_rows(report: dict) -> list[list[str]]:
    return [[r["a"], r["b"], r["metric"], "–" if r["difference"] is None else f"{r['difference']:+.3f}",
             str(r["n_groups"]), p_text(r["p"]), p_text(r["p_holm"])] for r in report.get("comparisons", [])]


def section_notes(report: dict) -> list[str]:
    s = report["settings"]
    return [TIE_SENTENCE, "Position consistency = 1 - mean |judge rank - gold rank| / (C - 1); exact match = share "
                          "of groups ordered exactly as the gold order.",
            f"Intervals: percentile bootstrap over groups, {s['bootstrap']} resamples, seed {s['seed']}."]


def _csv_rows(report: dict, header: list[str]) -> list[list[str]]:
    """Rows for a Table 4 CSV: ``row_type`` groups (when the layout has it), ``method`` =
    ``groups/<metric>``, the value in ``agreement`` with ``ci_lo``/``ci_hi``, n groups in ``n_votes``."""
    col = {name: i for i, name in enumerate(header)}
    out = []
    judges = report.get("judges") or {"judge": report}
    for label, row in judges.items():
        for m in METRICS:
            cells = [""] * len(header)
            fields = {"row_type": "groups", "judge": label, "method": f"groups/{m}", "judge_model": label,
                      "n_votes": str(row["groups"]), "agreement": csv_num(row[m]["value"]),
                      "ci_lo": csv_num(row[m]["ci"][0]), "ci_hi": csv_num(row[m]["ci"][1]), "n_unit": "groups"}
            for name, value in fields.items():
                if name in col:
                    cells[col[name]] = value
            out.append(cells)
    return out


def render_groups(report: dict, *, fmt: str = "markdown") -> str:
    """The groups report alone in ``json``, ``markdown``, ``latex``, ``csv`` or ``html``."""
    if fmt == "json":
        return json.dumps(report, indent=2) + "\n"
    if fmt == "markdown":
        return render_markdown(report)
    if fmt == "csv":
        header = ["row_type", "judge", "method", "n_votes", "agreement", "ci_lo", "ci_hi", "n_unit"]
        buf = io.StringIO()
        w = csv_safe.writer(buf, lineterminator="\n")
        w.writerow(header)
        for r in _csv_rows(report, header):
            w.writerow(r)
        return buf.getvalue()
    if fmt in ("latex", "html"):
        return add_groups_section("", report, fmt=fmt).lstrip("\n")
    raise ValueError(f"unknown format {fmt!r}")


def add_groups_section(text: str, report: dict, *, fmt: str) -> str:
    """``text`` (an agreement report in ``fmt``) with the groups section added after Table 4."""
    rows = section_rows(report)
    comps = comparison_rows(report)
    if fmt == "markdown":
        parts = [text.rstrip("\n"), "", f"## {GROUPS_TITLE}", "", md_table(SECTION_HEADER, rows), "",
                 *(f"- {line}" for line in section_notes(report))]
        if comps:
            parts += ["", "### Paired comparisons (groups, Holm)", "", md_table(COMP_HEADER, comps)]
        return "\n".join(parts) + "\n"
    if fmt == "latex":
        out = text.rstrip("\n") + "\n\n" + latex_table(SECTION_HEADER, rows, GROUPS_TITLE + ". " + " ".join(section_notes(report)))
        if comps:
            out += "\n\n" + latex_table(COMP_HEADER, comps, "Paired comparisons on the groups (Holm-adjusted).")
        return out + "\n"
    if fmt == "html":
        extra = (f"<h2>{html.escape(GROUPS_TITLE)}</h2>\n" + html_table(SECTION_HEADER, rows) + "\n<ul>"
                 + "".join(f"<li>{html.escape(x)}</li>" for x in section_notes(report)) + "</ul>")
        if comps:
            extra += "\n<h3>Paired comparisons (groups, Holm)</h3>\n" + html_table(COMP_HEADER, comps)
        if "</body></html>" in text:
            return text.replace("</body></html>", extra + "\n</body></html>", 1)
        return text + extra + "\n"
    if fmt == "csv":
        rows_in = list(csv.reader(io.StringIO(text)))
        header = rows_in[0]
        buf = io.StringIO()
        w = csv_safe.writer(buf, lineterminator="\n")
        for r in _csv_rows(report, header):
            w.writerow(r)
        return text + buf.getvalue()
    if fmt == "json":
        obj = json.loads(text)
        obj["groups"] = report
        return json.dumps(obj, indent=2, ensure_ascii=False) + "\n"
    raise ValueError(f"unknown format {fmt!r}")
