"""``metaeval generate``: a response to every query from any backend, in the responses layout.

Example:
    metaeval generate --queries queries.jsonl --model small=local: --output responses_small.jsonl
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from metaeval.cli import CliError
from metaeval.commands.engine_options import cached_engine, named_backend
from metaeval.generate import generate, generation_tasks, read_materials
from metaeval.judges.cli_options import add_engine_args, resumable, user_errors
from metaeval.judges.pipeline import read_queries

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("generate", help="write a response to every query with any model backend",
                              description="One call per query through the judge engine (concurrency, cache, "
                                          "retries, progress). Rerun the same command to resume. Output lines "
                                          "{index, model, response} are what 'annotate import responses' reads.")
    p.add_argument("--queries", required=True, metavar="FILE", help="queries in WritingBench's layout")
    p.add_argument("--model", required=True, metavar="NAME=SPEC",
                   help="response model: NAME=openai:MODEL | openai-compatible:URL@MODEL | anthropic:MODEL | local:")
    p.add_argument("--with-materials", nargs="?", const="", default=None, metavar="FILE",
                   help="send materials after the query: from FILE ({index, text} lines) or, without FILE, "
                        "from each query's 'materials' field")
    p.add_argument("--output", required=True, metavar="FILE", help="responses file to write (JSONL)")
    add_engine_args(p)
    p.set_defaults(func=run, max_tokens=4096)


@resumable
def run(args: argparse.Namespace) -> int:
    with user_errors(CliError):
        queries = read_queries(args.queries)
        materials = read_materials(args.with_materials) if args.with_materials else None
        name, backend = named_backend(args.model, args)
        tasks = generation_tasks(queries, name, with_materials=args.with_materials is not None,
                                 materials=materials, source=args.queries)
        output = Path(args.output)
        with cached_engine(backend, args, output.parent, label=f"generate/{name}") as engine:
            summary = generate(engine, tasks, output)
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    if summary["n_failures"]:
        log.warning("%d of %d queries got no response; see %s", summary["n_failures"], len(tasks),
                    summary["failures"])
    return 0
