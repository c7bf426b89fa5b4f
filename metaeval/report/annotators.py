"""Report of ``metaeval annotators``: each annotator's competence, interval, chance level and flag.

Example:
    >>> from metaeval.stats.annotators import annotator_competence
    >>> v = [{"question_id": q, "model_a": "a", "model_b": "b", "winner": "model_a", "judge": h}
    ...      for q in range(3) for h in ("h1", "h2")]
    >>> "## Annotator competence" in render_annotators(annotator_competence(v, n_resamples=5))
    True
"""

from __future__ import annotations

import html
import io
import json

from metaeval import csv_safe
from metaeval.report.tables import csv_num, html_table, md_table, num

__all__ = ["FORMATS", "HEADER", "estimator_line", "render_annotators"]

FORMATS = ("json", "markdown", "csv", "html")
HEADER = ["Annotator", "n", "Competence", "95% CI", "Chance", "Flagged", "Gold accuracy", "n gold"]


def estimator_line(settings: dict) -> str:
    """The caption's estimator sentence (with a leading space; empty when the settings name none).

    >>> estimator_line({"estimator": "pooled"})
    ' Estimator: pooled (every vote counts once).'
    """
    estimator = settings.get("estimator")
    if estimator == "design-based":
        return (" Estimator: design-based (the latent-class fit, its bootstrap refits and the signal weight "
                "every vote by the extension's design; every pair counts once in the class prior).")
    return f" Estimator: {estimator} (every vote counts once)." if estimator else ""


def render_annotators(result, *, fmt: str = "markdown") -> str:
    """Render an :class:`metaeval.stats.annotators.AnnotatorResult`."""
    data = result.to_json_dict()
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    rows = [[name, str(a["n"]), num(a["competence"]), f"[{num(a['ci'][0])}, {num(a['ci'][1])}]",
             num(a["chance"]), {True: "yes", False: "no", None: "–"}[a["flagged"]], num(a["gold_accuracy"]), str(a["gold_n"])]
            for name, a in data["annotators"].items()]
    note = (f"Model: {data['model']}; competence = P(label = true label); flagged: {data['flag_rule']}; "
            f"{data['settings']['n_resamples']} bootstrap resamples of queries, seed {data['settings']['seed']}.")
    note += estimator_line(data["settings"])
    if data.get("fit_collapsed"):
        note = (f"The {data['model']} fit collapsed: no one's competence is above chance, so the model found no "
                "signal in these votes; no one is flagged or cleared. " + note)
    if fmt == "markdown":
        return "\n".join(["## Annotator competence", "", md_table(HEADER, rows), "", f"- {note}"]) + "\n"
    if fmt == "html":
        return "\n".join(["<!DOCTYPE html>", '<html><head><meta charset="utf-8"><title>Annotators</title></head><body>',
                          "<h2>Annotator competence</h2>", html_table(HEADER, rows), f"<p>{html.escape(note)}</p>",
                          "</body></html>"]) + "\n"
    if fmt == "csv":
        buf = io.StringIO()
        w = csv_safe.writer(buf, lineterminator="\n")
        w.writerow(["annotator", "n", "competence", "ci_lo", "ci_hi", "chance", "excess_ci_lo", "flagged",
                    "gold_accuracy", "gold_n", "estimator"])
        for name, a in data["annotators"].items():
            w.writerow([name, a["n"], csv_num(a["competence"]), csv_num(a["ci"][0]), csv_num(a["ci"][1]),
                        csv_num(a["chance"]), csv_num(a["excess_ci"][0]),
                        "" if a["flagged"] is None else int(a["flagged"]),
                        csv_num(a["gold_accuracy"]), a["gold_n"], data["settings"].get("estimator", "")])
        return buf.getvalue()
    raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
