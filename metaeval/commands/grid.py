"""``metaeval grid``: the Table 4 grid -- every criteria method x every judge -- for a study's pairs.

For each pair in the votes file (or, before anyone votes, in the study's pairs file written by
``annotate export pairs --study NAME FILE``) both responses are scored under each method; the response with
the higher mean criterion score wins (equal means tie). One verdict file per (judge, method) is
written in FastChat's layout, named ``METHOD/JUDGE``, ready for
``metaeval agreement --votes VOTES --judge NAME=FILE ...`` (the command line is printed and saved in
``grid.json``). ``--pairwise`` adds a direct comparison asked in both orders.

Example:
    metaeval grid --votes study_votes.jsonl --queries benchmark_all.jsonl --responses responses.jsonl \\
        --judge gpt4o=openai:gpt-4o --judge critic=openai-compatible:http://127.0.0.1:8000/v1@critic
"""

from __future__ import annotations

import argparse
import json
import logging
import shlex
from pathlib import Path

from metaeval.cli import CliError
from metaeval.commands.engine_options import named_backend
from metaeval.commands.responses_option import add_responses_args, read_named_responses
from metaeval.criteria.methods import MethodOptions, get_method, method_names
from metaeval.io import InputFileError, iter_jsonl, read_votes, write_text_atomic
from metaeval.judges.cli_options import add_engine_args, make_engine, open_cache, resumable, user_errors
from metaeval.judges.engine import PairTask
from metaeval.judges.output import (
    failure_rows,
    mean_scores,
    pairwise_votes,
    safe_name,
    score_records,
    verdicts_from_scores,
    write_score_outputs,
    write_verdicts,
)
from metaeval.judges.pipeline import METHODS, build_score_tasks, read_queries
from metaeval.judges.tree_run import run_tree_method, write_tree_outputs

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("grid", help="run 3 criteria methods x judges on a study's pairs",
                              description=__doc__.split("\n\n")[1] if __doc__ else None)
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--votes", metavar="FILE", help="the study's votes (FastChat layout)")
    source.add_argument("--pairs", metavar="FILE",
                        help="the study's pairs before any vote: {question_id, model_a, model_b} lines "
                             "(annotate export pairs --study NAME FILE)")
    p.add_argument("--queries", required=True, metavar="FILE")
    add_responses_args(p)
    p.add_argument("--judge", required=True, action="append", metavar="[NAME=]SPEC", help="repeat for each judge")
    p.add_argument("--methods", default=",".join(METHODS),
                   help=f"comma list of registered methods ({', '.join(method_names())}; default {','.join(METHODS)})")
    p.add_argument("--pairwise", action="store_true", help="also ask each judge to compare the pair directly")
    p.add_argument("--output", default="grid", metavar="DIR")
    p.add_argument("--static-global", metavar="FILE")
    p.add_argument("--static-domain", metavar="FILE")
    add_engine_args(p)
    p.set_defaults(func=run)


def study_pairs(votes_path: str) -> list[tuple[object, str, str]]:
    """Distinct (question_id, model_a, model_b) pairs, models sorted by name, in first-seen order."""
    seen: dict[tuple[str, str, str], tuple[object, str, str]] = {}
    for v in read_votes(votes_path):
        c = v.canonical()
        seen.setdefault((str(c.question_id), c.model_a, c.model_b), (c.question_id, c.model_a, c.model_b))
    return list(seen.values())


def read_pairs(path: str) -> list[tuple[object, str, str]]:
    """Distinct pairs of a pairs file (``{question_id, model_a, model_b}`` lines; a ``winner`` is ignored),
    models sorted by name, in first-seen order.

    Example:
        >>> import tempfile, pathlib
        >>> f = pathlib.Path(tempfile.mkdtemp()) / "pairs.jsonl"
        >>> _ = f.write_text('{"question_id": 7, "model_a": "b", "model_b": "a"}\\n')
        >>> read_pairs(str(f))
        [(7, 'a', 'b')]
    """
    seen: dict[tuple[str, str, str], tuple[object, str, str]] = {}
    for line, obj in iter_jsonl(path):
        for field in ("question_id", "model_a", "model_b"):
            if field not in obj:
                raise InputFileError("missing", path=path, line=line, field=field)
        for field in ("model_a", "model_b"):
            if not isinstance(obj[field], str) or not obj[field]:
                raise InputFileError("expected a non-empty string", path=path, line=line, field=field)
        if obj["model_a"] == obj["model_b"]:
            raise InputFileError("a pair needs two different models", path=path, line=line, field="model_b")
        lo, hi = sorted((obj["model_a"], obj["model_b"]))
        seen.setdefault((str(obj["question_id"]), lo, hi), (obj["question_id"], lo, hi))
    return list(seen.values())


@resumable
def run(args: argparse.Namespace) -> int:
    with user_errors(CliError):
        methods = [m.strip() for m in args.methods.split(",") if m.strip()]
        unknown = [m for m in methods if m not in method_names()]
        if unknown:
            raise CliError(f"--methods: unknown {unknown}; expected some of {list(method_names())}")
        tree_methods = [m for m in methods if not get_method(m).flat]
        methods = [m for m in methods if m not in tree_methods]
        source = args.votes or args.pairs
        pairs = study_pairs(args.votes) if args.votes else read_pairs(args.pairs)
        if not pairs:
            raise CliError(f"{source}: no pairs to judge (the file holds no "
                           f"{'votes' if args.votes else 'pairs'})")
        queries = read_queries(args.queries)
        responses = read_named_responses(args.responses, model=args.model)
        wanted = sorted({(str(q), m) for q, a, b in pairs for m in (a, b)})
        outdir = Path(args.output)
        cache = open_cache(args, outdir)
        task_sets = {m: build_score_tasks(queries, responses, m, wanted=wanted, global_path=args.static_global,
                                          domain_path=args.static_domain, source=args.queries) for m in methods}
        judges: dict[str, str] = {}
        manifest: dict = {"votes": args.votes, "pairs_file": args.pairs, "pairs": len(pairs), "runs": []}
        for value in args.judge:
            name, backend = named_backend(value, args)
            engine = make_engine(backend, args, cache, label=name)
            # One engine run per judge over all methods keeps the backend busy across methods.
            all_tasks = [t for m in methods for t in task_sets[m]]
            outcomes = engine.run(all_tasks)
            start = 0
            for m in methods:
                part = outcomes[start:start + len(task_sets[m])]
                start += len(task_sets[m])
                files = write_score_outputs(outdir / "scores", part, judge=name, method=m)
                verdicts, missing = verdicts_from_scores(
                    pairs, mean_scores(score_records(part, judge=name, method=m)), judge=f"{m}/{name}")
                vpath = write_verdicts(outdir / "verdicts" / f"{safe_name(name)}__{m}.jsonl", verdicts)
                judges[f"{m}/{name}"] = vpath
                manifest["runs"].append({"judge": name, "method": m, "verdicts": vpath, "n_verdicts": len(verdicts),
                                         "pairs_without_verdict": len(missing), **files})
            for m in tree_methods:
                engine.label = f"{name}/{m}"
                result = run_tree_method(engine, get_method(m), queries, responses, judge=name, wanted=wanted,
                                         options=MethodOptions(args.static_global, args.static_domain),
                                         source=args.queries)
                files = write_tree_outputs(outdir / "scores", result, judge=name, method=m)
                verdicts, missing = verdicts_from_scores(pairs, result.roots, judge=f"{m}/{name}")
                vpath = write_verdicts(outdir / "verdicts" / f"{safe_name(name)}__{m}.jsonl", verdicts)
                judges[f"{m}/{name}"] = vpath
                manifest["runs"].append({"judge": name, "method": m, "verdicts": vpath, "n_verdicts": len(verdicts),
                                         "pairs_without_verdict": len(missing), **files})
            if args.pairwise:
                ptasks = [PairTask(index=queries[str(q)]["index"], model_a=a, model_b=b,
                                   query=str(queries[str(q)]["query"]), response_a=responses[(str(q), a)],
                                   response_b=responses[(str(q), b)], order=order)
                          for q, a, b in pairs for order in ("ab", "ba")]
                engine.label = f"pairwise/{name}"
                pout = engine.run(ptasks)
                votes = pairwise_votes(pout, judge=f"pairwise/{name}")
                fails = failure_rows(pout, judge=name, method="pairwise")
                write_text_atomic(outdir / "scores" / f"{safe_name(name)}__pairwise.failures.jsonl",
                                  "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in fails))
                vpath = write_verdicts(outdir / "verdicts" / f"{safe_name(name)}__pairwise.jsonl", votes)
                judges[f"pairwise/{name}"] = vpath
                manifest["runs"].append({"judge": name, "method": "pairwise", "verdicts": vpath,
                                         "n_verdicts": len(votes), "n_failures": len(fails)})
        cache.close()
        # before people vote, the command names the votes file the study's export will write
        command = ["metaeval", "agreement", "--votes", args.votes or "votes.jsonl"]
        for jname, path in judges.items():
            command += ["--judge", f"{jname}={path}"]
        manifest["agreement_command"] = shlex.join(command)
        write_text_atomic(outdir / "grid.json", json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
    print(manifest["agreement_command"])
    return 0
