"""``metaeval tow ablate``: Tree-of-Writing node ablation from stored leaf scores (no new calls).

For each variant (full, no-content, no-format, no-impression, content-only, format-only,
impression-only) the root is recomputed from a ``tow`` long file and written as pointwise scores
(``{item_id, system, rater, criterion, score}``, what ``metaeval correlation --judge`` reads) and,
with ``--votes``, as verdicts per study pair (what ``metaeval agreement --judge`` reads). The
agreement and correlation command lines are printed and saved in ``ablation.json``.

Example:
    metaeval tow ablate --scores runs/judge__tow.long.jsonl --votes votes.jsonl --output runs/ablation
"""

from __future__ import annotations

import argparse
import json
import shlex
from pathlib import Path

from metaeval.cli import CliError
from metaeval.io import InputFileError, write_text_atomic
from metaeval.judges.output import safe_name, verdicts_from_scores, write_verdicts
from metaeval.judges.tree_run import ABLATIONS, ablate, read_tree_long


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("tow", help="Tree-of-Writing tools (node ablation from stored leaf scores)")
    sub = p.add_subparsers(dest="tow_command", required=True)
    a = sub.add_parser("ablate", help="recompute tow roots without a node / with one node only")
    a.add_argument("--scores", required=True, metavar="FILE", help="a tow long file (criterion, score, weight per leaf)")
    a.add_argument("--votes", metavar="FILE", help="study votes: also write verdicts per pair for 'agreement'")
    a.add_argument("--name", default="tow", help="name prefix of the variants (default tow)")
    a.add_argument("--variants", default=",".join(ABLATIONS), help=f"comma list of {','.join(ABLATIONS)}")
    a.add_argument("--output", required=True, metavar="DIR")
    a.set_defaults(func=run_ablate)


def run_ablate(args: argparse.Namespace) -> int:
    from metaeval.commands.grid import study_pairs

    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in variants if v not in ABLATIONS]
    if unknown:
        raise CliError(f"--variants: unknown {unknown}; expected some of {list(ABLATIONS)}")
    try:
        leaves = read_tree_long(args.scores)
        pairs = study_pairs(args.votes) if args.votes else []
    except (InputFileError, ValueError) as exc:
        raise CliError(str(exc)) from exc
    outdir = Path(args.output)
    manifest: dict = {"scores": args.scores, "variants": {}}
    agreement = ["metaeval", "agreement", "--votes", args.votes or "VOTES"]
    correlation = ["metaeval", "correlation", "--ratings", "RATINGS"]
    for variant in variants:
        roots = ablate(leaves, ABLATIONS[variant])
        name = f"{args.name}-{variant}"
        spath = outdir / f"{safe_name(name)}.scores.jsonl"
        write_text_atomic(spath, "".join(
            json.dumps({"item_id": int(i) if i.lstrip("-").isdigit() else i, "system": m, "rater": name,
                        "criterion": "overall", "score": round(s, 6)}, ensure_ascii=False) + "\n"
            for (i, m), s in sorted(roots.items())))
        entry: dict = {"n": len(roots), "scores": str(spath)}
        correlation += ["--judge", f"{name}={spath}"]
        if pairs:
            votes, missing = verdicts_from_scores(pairs, roots, judge=name)
            entry["verdicts"] = write_verdicts(outdir / f"{safe_name(name)}.verdicts.jsonl", votes)
            entry["pairs_without_verdict"] = len(missing)
            agreement += ["--judge", f"{name}={entry['verdicts']}"]
        manifest["variants"][variant] = entry
    manifest["correlation_command"] = shlex.join(correlation)
    if pairs:
        manifest["agreement_command"] = shlex.join(agreement)
    write_text_atomic(outdir / "ablation.json", json.dumps(manifest, indent=2) + "\n")
    print(json.dumps(manifest, indent=2))
    return 0
