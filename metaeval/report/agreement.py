"""Reports of agreement results: the Table 4 layout (criteria method x judge) as Markdown,
LaTeX (booktabs), HTML, CSV and JSON, and plotly figures as standalone HTML files.

All renderers are deterministic: the same result gives byte-identical text.

Example:
    >>> from metaeval.stats.agreement_study import agreement_study
    >>> v = [{"question_id": 1, "model_a": "a", "model_b": "b", "winner": "model_a", "judge": "h"}]
    >>> res = agreement_study(v, {"dyn/j": v}, n_resamples=10)
    >>> "| dyn | j |" in render(res, fmt="markdown")
    True
"""

from __future__ import annotations

import html
import io
import json
from pathlib import Path

from metaeval import csv_safe
from metaeval.report.figures import write_figure
from metaeval.report.tables import FORMATS, csv_num, html_table, latex_table, md_table, num, p_text, pct
from metaeval.stats.agreement_study import AgreementResult

__all__ = ["FORMATS", "HEADER", "COMP_HEADER", "render", "table4_rows", "write_figures"]
HEADER = ["Method", "Judge", "n", "Agreement", "95% CI", "No-tie agreement", "No-tie 95% CI", "n (no ties)",
          "Kappa", "Position consistency", "p (Holm) vs best", "n counts"]


def table4_rows(result: AgreementResult) -> list[list[str]]:
    """The Table 4 rows as text cells (percentages with one decimal), then the human ceiling row."""
    best = max((r for r in result.rows if r["agreement"] is not None), key=lambda r: r["agreement"], default=None)
    p_vs_best = {}
    for c in result.comparisons:
        if best is not None and best["judge"] in (c["a"], c["b"]):
            other = c["b"] if c["a"] == best["judge"] else c["a"]
            p_vs_best[other] = c["p_holm"]
    out = []
    for r in result.rows:
        lo, hi = r["ci"]
        out.append([r["method"] or "–", r["judge_model"], str(r["n_votes"]), pct(r["agreement"]),
                    f"[{pct(lo)}, {pct(hi)}]", pct(r["agreement_no_ties"]), _ci(r.get("ci_no_ties")),
                    str(r["n_votes_no_ties"]), num(r["kappa"]), pct(r["position_consistency"]),
                    "best" if best is not None and r["judge"] == best["judge"] else p_text(p_vs_best.get(r["judge"])),
                    r.get("n_unit", "votes")])
    hm = result.human
    lo, hi = hm["ci"]
    out.append(["human", _human_label(result), str(hm["n_vote_pairs"]), pct(hm["agreement"]),
                f"[{pct(lo)}, {pct(hi)}]", pct(hm["agreement_no_ties"]), _ci(hm.get("ci_no_ties")),
                "–", "–", "–", "–", hm.get("n_unit", "vote pairs")])
    return out


def _ci(ci) -> str:
    if not ci:
        return "–"
    return f"[{pct(ci[0])}, {pct(ci[1])}]"


def _human_label(result: AgreementResult) -> str:
    return result.human.get("label", "human–human")


def _comparison_rows(result: AgreementResult) -> list[list[str]]:
    return [[c["a"], c["b"], pct(c["difference"]), f"[{pct(c['ci'][0])}, {pct(c['ci'][1])}]", c["test"],
             p_text(c["p_value"]), p_text(c["p_holm"]), p_text(c["p_mcnemar"])] for c in result.comparisons]


COMP_HEADER = ["A", "B", "Difference", "95% CI", "Test", "p", "p (Holm)", "p (McNemar)"]


def _unit_note(result: AgreementResult) -> str:
    judge_unit = result.rows[0].get("n_unit", "votes") if result.rows else "votes"
    human_unit = result.human.get("n_unit", "vote pairs")
    what = {"vote pairs": "vote pairs (two people's votes on the same pair)",
            "votes": "votes (each vote against the label from the others)"}.get(human_unit, human_unit)
    return f"{judge_unit} in judge rows and {what} in the human row"


def _human_lines(result: AgreementResult) -> list[str]:
    h = result.human
    return [f"Human votes: {h['n_votes']} on {h['n_pairs']} pairs ({h['n_queries']} queries, {h['n_annotators']} annotators).",
            f"Each annotator vs majority of the others: {pct(h['vs_majority_of_others'])}%; "
            f"Krippendorff's alpha nominal {num(h['alpha']['nominal'])}, ordinal {num(h['alpha']['ordinal'])}; "
            f"Fleiss' kappa {num(h['fleiss_kappa'])}.",
            f"n counts {_unit_note(result)}.",
            f"Bootstrap: {result.settings['n_resamples']} resamples of queries, seed {result.settings['seed']}; "
            f"split votes -> {result.settings['split']}; p-values from {result.settings['test']}.",
            *_estimator_line(result)]


def _estimator_line(result: AgreementResult) -> list[str]:
    """The caption line naming the estimator (design-based when the votes carry their design)."""
    estimator = result.settings.get("estimator")
    if estimator == "design-based":
        return [f"Estimator: design-based ({result.settings.get('design_method')}; each pair weighted by its "
                "inclusion in the adaptive design); rows and differences have normal intervals."
                + "".join(f" {n}." for n in result.settings.get("design_notes", []))]
    return [f"Estimator: {estimator} (every vote counts once)."] if estimator else []


def render(result: AgreementResult, *, fmt: str = "markdown") -> str:
    """Render an agreement result in one of :data:`FORMATS`."""
    rows = table4_rows(result)
    if fmt == "json":
        return json.dumps(result.to_json_dict(), indent=2, ensure_ascii=False, sort_keys=False) + "\n"
    if fmt == "markdown":
        parts = ["## Agreement with human preferences (%)", "", md_table(HEADER, rows), "",
                 *(f"- {line}" for line in _human_lines(result))]
        if result.comparisons:
            parts += ["", "## Paired comparisons (percentage points)", "", md_table(COMP_HEADER, _comparison_rows(result))]
        return "\n".join(parts) + "\n"
    if fmt == "latex":
        text = latex_table(HEADER, rows, "Agreement with human preferences (%). " + " ".join(_human_lines(result)),
                           rule_before_last=True)
        if result.comparisons:
            text += "\n\n" + latex_table(COMP_HEADER, _comparison_rows(result), "Paired comparisons (percentage points).")
        return text + "\n"
    if fmt == "html":
        parts = ["<!DOCTYPE html>", '<html><head><meta charset="utf-8"><title>Agreement</title>',
                 "<style>table{border-collapse:collapse}td,th{border:1px solid #999;padding:2px 6px}</style>",
                 "</head><body>", "<h2>Agreement with human preferences (%)</h2>", html_table(HEADER, rows),
                 "<ul>" + "".join(f"<li>{html.escape(x)}</li>" for x in _human_lines(result)) + "</ul>"]
        if result.comparisons:
            parts += ["<h2>Paired comparisons (percentage points)</h2>", html_table(COMP_HEADER, _comparison_rows(result))]
        return "\n".join(parts + ["</body></html>"]) + "\n"
    if fmt == "csv":
        buf = io.StringIO()
        w = csv_safe.writer(buf, lineterminator="\n")
        w.writerow(["row_type", "judge", "method", "judge_model", "n_votes", "agreement", "ci_lo", "ci_hi",
                    "n_votes_no_ties", "agreement_no_ties", "ci_no_ties_lo", "ci_no_ties_hi", "kappa",
                    "position_consistency", "agreement_both_orders", "n_vote_pairs", "n_unit"])
        for r in result.rows:
            nt = r.get("ci_no_ties") or [None, None]
            w.writerow(["judge", r["judge"], r["method"], r["judge_model"], r["n_votes"], csv_num(r["agreement"]),
                        csv_num(r["ci"][0]), csv_num(r["ci"][1]), r["n_votes_no_ties"], csv_num(r["agreement_no_ties"]),
                        csv_num(nt[0]), csv_num(nt[1]), csv_num(r["kappa"]), csv_num(r["position_consistency"]),
                        csv_num(r["agreement_both_orders"]), "", r.get("n_unit", "votes")])
        hm = result.human
        nt = hm.get("ci_no_ties") or [None, None]
        # the human ceiling: n_votes = the people's votes, n_vote_pairs = the comparisons behind "agreement"
        w.writerow(["human_ceiling", _human_label(result), "human", _human_label(result), hm["n_votes"],
                    csv_num(hm["agreement"]), csv_num(hm["ci"][0]), csv_num(hm["ci"][1]), "",
                    csv_num(hm["agreement_no_ties"]), csv_num(nt[0]), csv_num(nt[1]), "", "", "", hm["n_vote_pairs"],
                    hm.get("n_unit", "vote pairs")])
        return buf.getvalue()
    raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")


def write_figures(result: AgreementResult, directory: str | Path, *, plotlyjs: str = "directory") -> list[Path]:
    """Write plotly HTML figures: agreement with intervals (both with and without ties),
    confusion matrices, and a per-domain heatmap when a domain breakdown exists. Div ids are fixed
    so the files are reproducible. ``plotlyjs`` is one of :data:`PLOTLYJS` (see
    :func:`write_figure`)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    written = []
    fig = go.Figure()
    for key, ci_key, label in (("agreement", "ci", "with ties"), ("agreement_no_ties", "ci_no_ties", "without ties")):
        rows = [r for r in result.rows if r[key] is not None]
        cis = [r.get(ci_key) or [None, None] for r in rows]
        fig.add_trace(go.Scatter(
            x=[r[key] for r in rows], y=[r["judge"] for r in rows], mode="markers", name=label,
            error_x={"type": "data", "symmetric": False,
                     "array": [(c[1] if c[1] is not None else r[key]) - r[key] for r, c in zip(rows, cis, strict=True)],
                     "arrayminus": [r[key] - (c[0] if c[0] is not None else r[key])
                                    for r, c in zip(rows, cis, strict=True)]}))
    if result.human["agreement"] is not None:
        fig.add_vline(x=result.human["agreement"], line_dash="dash", annotation_text=_human_label(result))
    fig.update_layout(title="Agreement with human votes (95% CI)", xaxis_title="agreement", template="plotly_white")
    written.append(_write(fig, d / "agreement.html", "agreement", plotlyjs))

    names = list(result.confusion)
    if names:
        cm = make_subplots(rows=1, cols=len(names), subplot_titles=names)
        labels = ["A better", "tie", "B better"]
        for k, n in enumerate(names, start=1):
            cm.add_trace(go.Heatmap(z=result.confusion[n], x=labels, y=labels, coloraxis="coloraxis",
                                    text=result.confusion[n], texttemplate="%{text}"), row=1, col=k)
        cm.update_layout(title="Human vote (rows) vs judge verdict (columns)", coloraxis={"colorscale": "Blues"})
        written.append(_write(cm, d / "confusion.html", "confusion", plotlyjs))
    for key in ("domain1", "domain2"):
        if key in result.breakdowns and not result.breakdowns[key].empty:
            b = result.breakdowns[key].pivot(index="column", columns="group", values="agreement")
            hm = go.Figure(go.Heatmap(z=b.to_numpy(), x=list(b.columns), y=list(b.index), colorscale="Viridis"))
            hm.update_layout(title=f"Agreement by {key}")
            written.append(_write(hm, d / f"heatmap_{key}.html", f"heatmap_{key}", plotlyjs))
    return written


def _write(fig, path: Path, div_id: str, plotlyjs: str) -> Path:
    return write_figure(fig, path, div_id, plotlyjs=plotlyjs)
