"""``metaeval groups build|score|agreement``: WEval-style requirement-drop groups.

Example:
    metaeval groups build --queries queries.jsonl --requirements 4 --generator gen=local: --output groups_4c.jsonl
    metaeval groups score --groups groups_4c.jsonl --judge openai:gpt-4o --output scored_4c.jsonl
    metaeval groups agreement --scored scored_4c.jsonl --format json
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from metaeval.cli import CliError
from metaeval.criteria.methods import method_names
from metaeval.groups_run import (
    build_groups,
    full_instruction,
    plan_groups,
    read_group_lines,
    requirement_tasks,
    response_key,
)
from metaeval.io import InputFileError, write_text_atomic
from metaeval.judges.cli_options import (
    add_engine_args,
    default_judge_name,
    make_backend,
    make_engine,
    open_cache,
    resumable,
    split_judge,
    user_errors,
)
from metaeval.judges.output import mean_scores, score_records
from metaeval.report.groups import groups_report, read_named, render_groups
from metaeval.report.tables import FORMATS

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("groups", help="WEval requirement-drop groups: build, score, agreement")
    sub = p.add_subparsers(dest="groups_command", required=True)
    b = sub.add_parser("build", help="rewrite instructions without 0..C-1 requirements and generate responses")
    b.add_argument("--queries", required=True, metavar="FILE", help="queries in WritingBench's layout (with checklist)")
    b.add_argument("--requirements", required=True, type=int, metavar="C", help="requirements per group (group size)")
    b.add_argument("--generator", required=True, metavar="[NAME=]SPEC", help="the model that writes the responses")
    b.add_argument("--rewriter", metavar="[NAME=]SPEC", help="the model that rewrites instructions (default: generator)")
    b.add_argument("--output", required=True, metavar="FILE")
    add_engine_args(b)
    b.set_defaults(func=run_build, max_tokens=4096)
    s = sub.add_parser("score", help="score every response of a groups file")
    s.add_argument("--groups", required=True, metavar="FILE")
    s.add_argument("--judge", required=True, metavar="[NAME=]SPEC")
    s.add_argument("--method", choices=method_names(),
                   help="a registered criteria method (default: WEval's mean over the group's requirements)")
    s.add_argument("--group-size", type=int, metavar="C", help="default: from '3c'/'4c'/'5c' in the file name")
    s.add_argument("--output", required=True, metavar="FILE")
    s.add_argument("--static-global", metavar="FILE")
    s.add_argument("--static-domain", metavar="FILE")
    add_engine_args(s)
    s.set_defaults(func=run_score)
    a = sub.add_parser("agreement", help="judge order vs gold order per group (tau, tau-b, position, exact match)")
    a.add_argument("--scored", required=True, nargs="+", metavar="[NAME=]FILE",
                   help="scored groups files; several: paired comparison (Holm)")
    a.add_argument("--group-size", type=int, metavar="C", help="default: from '3c'/'4c'/'5c' in each file name")
    a.add_argument("--bootstrap", type=int, default=2000, metavar="N")
    a.add_argument("--permutations", type=int, default=10000, metavar="N", help="for the paired comparison")
    a.add_argument("--seed", type=int, default=0, metavar="S")
    a.add_argument("--format", choices=FORMATS, default="markdown")
    a.add_argument("--output", metavar="FILE")
    a.set_defaults(func=run_agreement)


@resumable
def run_build(args: argparse.Namespace) -> int:
    from metaeval.judges.pipeline import read_queries

    with user_errors(CliError):
        if args.requirements < 2:
            raise ValueError("--requirements: expected at least 2")
        queries = read_queries(args.queries)
        plans = plan_groups(queries, args.requirements, seed=args.seed or 0, source=args.queries)
        gname, gspec = split_judge(args.generator)
        generator = make_backend(gspec, args)
        gname = gname or default_judge_name(generator)
        rspec = split_judge(args.rewriter)[1] if args.rewriter else gspec
        rewriter = make_backend(rspec, args)
        output = Path(args.output)
        cache = open_cache(args, output.parent)
        summary = build_groups(make_engine(rewriter, args, cache, label="groups/rewrite"),
                               make_engine(generator, args, cache, label=f"groups/generate/{gname}"), plans,
                               model=gname, output=output)
        summary["queries_with_too_few_requirements"] = len(queries) - len(plans)
        cache.close()
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    return 0


@resumable
def run_score(args: argparse.Namespace) -> int:
    from metaeval.commands.judge import response_scores

    with user_errors(CliError):
        groups, objs = read_group_lines(args.groups, args.group_size)
        name, spec = split_judge(args.judge)
        backend = make_backend(spec, args)
        name = name or default_judge_name(backend)
        output = Path(args.output)
        cache = open_cache(args, output.parent)
        engine = make_engine(backend, args, cache, label=f"groups/{name}/{args.method or 'requirements'}")
        if args.method is None:
            outcomes = engine.run(requirement_tasks(groups, objs))
            scores = mean_scores(score_records(outcomes, judge=name, method="requirements"))
        else:
            for line, obj in objs.items():
                if not isinstance(obj.get("prompt"), str):
                    raise InputFileError(f"needed by --method {args.method}", path=args.groups, line=line,
                                         field="prompt")
            queries = {str(g.number): {"index": g.number, "query": full_instruction(g, objs),
                                       "_line": g.lines[0].line} for g in groups}
            responses = {response_key(g, ln.line): str(objs[ln.line]["chosen"]) for g in groups for ln in g.lines}
            scores = response_scores(engine, args.method, queries, responses, judge=name, args=args,
                                     source=args.groups)
        cache.close()
        lines, dropped = [], 0
        for g in groups:
            keys = [response_key(g, ln.line) for ln in g.lines]
            if any(k not in scores for k in keys):
                dropped += 1
                continue
            for ln, k in zip(g.lines, keys, strict=True):
                lines.append({**objs[ln.line], "score": round(scores[k], 6), "judge": name,
                              "method": args.method or "requirements"})
        write_text_atomic(output, "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines))
    summary = {"output": str(output), "groups": len(groups) - dropped, "groups_without_all_scores": dropped}
    print(json.dumps(summary, indent=2))
    if dropped:
        log.warning("%d groups left out: a response of theirs has no score", dropped)
    return 0


def run_agreement(args: argparse.Namespace) -> int:
    try:
        named = read_named(args.scored, group_size=args.group_size)
        report = groups_report(named, n_resamples=args.bootstrap, seed=args.seed, n_permutations=args.permutations)
    except InputFileError as exc:
        raise CliError(str(exc)) from exc
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    if len(named) == 1:
        report = {**next(iter(report["judges"].values())), "settings": report["settings"]}
    text = render_groups(report, fmt=args.format)
    if args.output:
        write_text_atomic(args.output, text)
    print(text, end="")
    return 0
