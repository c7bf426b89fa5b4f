"""``metaeval judge``: score responses under one criteria method with one judge.

Example:
    metaeval judge --method dynamic --judge openai:gpt-4o \\
        --queries benchmark_all.jsonl --responses model1=model1.jsonl model2=model2.jsonl --output runs/gpt4o
"""

from __future__ import annotations

import argparse
import json
import logging
import random
from pathlib import Path

from metaeval.cli import CliError
from metaeval.commands.engine_options import cached_engine, named_backend
from metaeval.commands.responses_option import add_responses_args, read_named_responses
from metaeval.criteria.methods import MethodOptions, get_method, method_names
from metaeval.generate import parse_text
from metaeval.io import write_text_atomic
from metaeval.judges.cli_options import add_engine_args, make_backend, make_engine, resumable, user_errors
from metaeval.judges.engine import AskTask
from metaeval.judges.output import mean_scores, safe_name, score_records, write_score_outputs
from metaeval.judges.pipeline import build_score_tasks, read_queries
from metaeval.judges.robustness import (
    ALL_KINDS,
    GENRES,
    TRANSFER,
    TRANSFER_VERSION,
    assign_genres,
    perturb,
    score_change,
    transfer_messages,
)
from metaeval.judges.tree_run import run_tree_method, write_tree_outputs

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("judge", help="score responses with an LLM judge under a criteria method",
                              description="One call per (response, criterion); each criterion gets an integer "
                                          "1-10 and a reason. Rerun the same command to resume: finished calls "
                                          "come from the cache.")
    p.add_argument("--method", required=True, choices=method_names(),
                   help="a registered criteria method: " + ", ".join(method_names()))
    p.add_argument("--tow-trials", type=int, default=1, metavar="N",
                   help="negotiate a tree method's weights N times and report weight stability (delta, sigma)")
    p.add_argument("--judge", required=True, metavar="[NAME=]SPEC",
                   help="openai:MODEL | openai-compatible:URL@MODEL | anthropic:MODEL | local:[PATH] | replay:FILE")
    p.add_argument("--queries", required=True, metavar="FILE", help="queries in WritingBench's layout")
    add_responses_args(p)
    p.add_argument("--output", default="judgments", metavar="DIR", help="output folder (default ./judgments)")
    p.add_argument("--static-global", metavar="FILE", help="static global criteria file (default metaeval/data/criteria)")
    p.add_argument("--static-domain", metavar="FILE", help="static domain criteria file (default metaeval/data/criteria)")
    p.add_argument("--perturb", metavar="KINDS",
                   help=f"also score damaged responses and report score changes; comma list of {','.join(ALL_KINDS)}")
    p.add_argument("--genres", default=",".join(GENRES), metavar="LIST",
                   help=f"genres for --perturb transfer, cycled over responses (default {','.join(GENRES)})")
    p.add_argument("--rewriter", metavar="SPEC", help="model that rewrites responses for --perturb transfer "
                                                      "(default: the judge)")
    p.add_argument("--bootstrap", type=int, default=2000, metavar="N", help="resamples for --perturb intervals")
    add_engine_args(p)
    p.set_defaults(func=run)


@resumable
def run(args: argparse.Namespace) -> int:
    with user_errors(CliError):
        queries = read_queries(args.queries)
        responses = read_named_responses(args.responses, model=args.model)
        method = get_method(args.method)
        if args.tow_trials < 1:
            raise ValueError("--tow-trials: expected a whole number of at least 1")
        tasks = build_score_tasks(queries, responses, args.method, global_path=args.static_global,
                                  domain_path=args.static_domain, source=args.queries) if method.flat else []
        name, backend = named_backend(args.judge, args)
        outdir = Path(args.output)
        with cached_engine(backend, args, outdir, label=f"{name}/{args.method}") as engine:
            if method.flat:
                outcomes = engine.run(tasks)
                summary = write_score_outputs(outdir, outcomes, judge=name, method=args.method)
                original = mean_scores(score_records(outcomes, judge=name, method=args.method))
                n_tasks = len(outcomes)
            else:
                result = run_tree_method(engine, method, queries, responses, judge=name, options=_options(args),
                                         trials=args.tow_trials, source=args.queries)
                summary = write_tree_outputs(outdir, result, judge=name, method=args.method,
                                             trials=args.tow_trials)
                original = result.roots
                n_tasks = summary["n_tasks"]
            if args.perturb:
                summary["robustness"] = _robustness(args, engine, queries, responses, original, name, outdir)
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    if summary["n_failures"]:
        log.warning("%d of %d tasks failed; see %s", summary["n_failures"], n_tasks, summary["failures"])
    return 0


def _transfer(args, engine, queries, responses, outdir) -> dict[tuple[str, str], str]:
    """Each response rewritten into a genre (cycled); failed rewrites are left out (logged)."""
    genres = [g.strip() for g in args.genres.split(",") if g.strip()]
    chosen = assign_genres(list(responses), genres)
    rewriter = engine
    if args.rewriter:
        rewriter = make_engine(make_backend(args.rewriter, args), args, engine.cache, label="transfer/rewrite")
    tasks = [AskTask(index=queries[key[0]]["index"] if key[0] in queries else key[0], model=key[1],
                     label=f"transfer:{chosen[key]}", messages=tuple(transfer_messages(text, chosen[key])),
                     parse=parse_text, version=TRANSFER_VERSION, schema=None)
             for key, text in sorted(responses.items())]
    label, rewriter.label = rewriter.label, "transfer/rewrite"
    outcomes = rewriter.run(tasks)
    rewriter.label = label
    out = {(str(o.task.index), o.task.model): str(o.value) for o in outcomes if o.ok and isinstance(o.task, AskTask)}
    if len(out) < len(tasks):
        log.warning("--perturb transfer: %d of %d rewrites failed; those responses are left out",
                    len(tasks) - len(out), len(tasks))
    return out


def _options(args: argparse.Namespace) -> MethodOptions:
    return MethodOptions(global_path=args.static_global, domain_path=args.static_domain)


def response_scores(engine, method_name: str, queries, responses, *, judge: str, args: argparse.Namespace,
                    source: str) -> dict[tuple[str, str], float]:
    """Response scores under any registered method (flat: mean criterion score; tree: root)."""
    method = get_method(method_name)
    if method.flat:
        tasks = build_score_tasks(queries, responses, method_name, global_path=args.static_global,
                                  domain_path=args.static_domain, source=source)
        return mean_scores(score_records(engine.run(tasks), judge=judge, method=method_name))
    return run_tree_method(engine, method, queries, responses, judge=judge, options=_options(args),
                           source=source).roots


def _robustness(args, engine, queries, responses, original, name, outdir) -> str:
    kinds = [k.strip() for k in args.perturb.split(",") if k.strip()]
    bad = [k for k in kinds if k not in ALL_KINDS]
    if bad:
        raise ValueError(f"--perturb: unknown kinds {bad}; expected {list(ALL_KINDS)}")
    rows = []
    for kind in kinds:
        rng = random.Random(f"{args.seed or 0}:{kind}")
        damaged = {}
        if kind == TRANSFER:
            damaged = _transfer(args, engine, queries, responses, outdir)
        for key, text in sorted(responses.items()) if kind != TRANSFER else ():
            try:
                damaged[key] = perturb(text, kind, rng)
            except ValueError:
                continue  # fewer than two paragraphs: nothing to perturb
        engine.label = f"{name}/{args.method}/{kind}"
        changed = response_scores(engine, args.method, queries, damaged, judge=name, args=args, source=args.queries)
        rows.append(score_change(original, changed, kind=kind, n_resamples=args.bootstrap,
                                 seed=args.seed or 0).to_dict())
    for row in rows:
        log.info("%s %s: mean change %.3f [%.3f, %.3f] over %d responses%s", name, row["kind"], row["mean_change"],
                 row["ci"][0], row["ci"][1], row["n"], "  FLAGGED: score does not drop" if row["flagged"] else "")
    path = outdir / f"{safe_name(name)}__{safe_name(args.method)}.robustness.json"
    write_text_atomic(path, json.dumps({"judge": name, "method": args.method, "rows": rows}, indent=2) + "\n")
    return str(path)
