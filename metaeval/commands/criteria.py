"""``metaeval criteria``: generate query-dependent criteria, or show/check the static sets.

Examples:
    metaeval criteria generate --queries q.jsonl --judge openai:gpt-4o --output q_with_criteria.jsonl
    metaeval criteria show --method static-domain --domain "Education" --lang zh
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from metaeval.cli import CliError
from metaeval.criteria import load_static_domain, load_static_global
from metaeval.criteria.generation import generate_criteria
from metaeval.io import write_text_atomic
from metaeval.judges.cli_options import (
    add_engine_args,
    default_judge_name,
    make_backend,
    make_engine,
    open_cache,
    split_judge,
    user_errors,
)
from metaeval.judges.pipeline import read_queries

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("criteria", help="generate dynamic criteria or show static ones")
    sub = p.add_subparsers(dest="criteria_command", required=True)

    g = sub.add_parser("generate", help="write five criteria per query with an LLM (WritingBench's method)")
    g.add_argument("--queries", required=True, metavar="FILE")
    g.add_argument("--judge", required=True, metavar="[NAME=]SPEC")
    g.add_argument("--output", required=True, metavar="FILE",
                   help="queries with generated checklists (WritingBench layout); failures go to FILE.failures.jsonl")
    g.add_argument("--keep-existing", action="store_true", help="keep a query's checklist when it already has one")
    add_engine_args(g)
    g.set_defaults(func=run_generate, max_tokens=2048)

    s = sub.add_parser("show", help="print a static criteria set as JSON")
    s.add_argument("--method", choices=("static-global", "static-domain"), required=True)
    s.add_argument("--domain", help="domain1 name (static-domain)")
    s.add_argument("--lang", choices=("en", "zh"), default="en")
    s.add_argument("--file", metavar="FILE", help="criteria file (default metaeval/data/criteria)")
    s.set_defaults(func=run_show)


def run_generate(args: argparse.Namespace) -> int:
    with user_errors(CliError):
        name, spec = split_judge(args.judge)
        queries = list(read_queries(args.queries).values())
        todo = [q for q in queries if not (args.keep_existing and q.get("checklist"))]
        backend = make_backend(spec, args)
        out = Path(args.output)
        cache = open_cache(args, out.parent)
        engine = make_engine(backend, args, cache, label=f"criteria {name or default_judge_name(backend)}")
        # one outcome per query, in the order given
        outcomes = {str(q["index"]): o for q, o in zip(todo, generate_criteria(todo, engine), strict=True)}
        cache.close()
        kept, failures = [], []
        for q in queries:
            row = {k: v for k, v in q.items() if k != "_line"}
            o = outcomes.get(str(q["index"]))
            if o is not None:
                if not o.ok:
                    failures.append({"index": q["index"], "error": o.error, "raw": o.raw})
                    continue
                criteria = o.value if isinstance(o.value, list) else []  # a valid outcome holds five
                row["checklist"] = [c.to_checklist() for c in criteria]
            kept.append(row)
        write_text_atomic(out, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in kept))
        fail_path = out.with_name(out.name + ".failures.jsonl")
        write_text_atomic(fail_path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in failures))
    print(json.dumps({"output": str(out), "queries": len(kept), "failures": len(failures),
                      "failures_file": str(fail_path)}, indent=2))
    if failures:
        log.warning("%d queries got no valid criteria; they are left out of %s", len(failures), out)
        return 1
    return 0


def run_show(args: argparse.Namespace) -> int:
    with user_errors(CliError):
        if args.method == "static-global":
            crits = load_static_global(args.lang, path=args.file)
        else:
            if not args.domain:
                raise CliError("--domain is required with --method static-domain")
            crits = load_static_domain(args.domain, args.lang, path=args.file)
    print(json.dumps([c.to_checklist() for c in crits], ensure_ascii=False, indent=2))
    return 0
