"""``metaeval criteria``: generate query-dependent criteria, or show/check the static sets.

Examples:
    metaeval criteria generate --queries q.jsonl --judge openai:gpt-4o --output q_with_criteria.jsonl
    metaeval criteria show --method static-domain --domain "Education" --lang zh
    metaeval criteria show --list
    metaeval criteria show --method tow
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from metaeval.cli import CliError
from metaeval.criteria import load_static_domain, load_static_global
from metaeval.criteria.generation import generate_criteria
from metaeval.criteria.methods import MethodOptions, get_method, method_names
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

    s = sub.add_parser("show", help="list the registered criteria methods, or print one method's criteria as JSON")
    s.add_argument("--method", choices=method_names(),
                   help="a registered criteria method; without it (or with --list) the methods are listed")
    s.add_argument("--list", action="store_true", help="list every registered method with its description")
    s.add_argument("--domain", help="domain1 name (static-domain)")
    s.add_argument("--lang", choices=("en", "zh"), default="en")
    s.add_argument("--file", metavar="FILE", help="criteria file (default metaeval/data/criteria)")
    s.add_argument("--queries", metavar="FILE",
                   help="queries file: show the tree a query gets (needed by dynamic; tow drops format for poems...)")
    s.add_argument("--index", metavar="N", help="the query's index in --queries (default: its first query)")
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


def method_list() -> list[dict]:
    """Every registered criteria method: name, description and whether its weights are negotiated.

    >>> [m["name"] for m in method_list()][:4]
    ['static-global', 'static-domain', 'dynamic', 'tow']
    """
    out = []
    for name in method_names():
        m = get_method(name)
        out.append({"name": name, "description": m.description, "flat": m.flat, "negotiated": m.negotiated})
    return out


def _pick_query(args: argparse.Namespace) -> dict | None:
    if not args.queries:
        return None
    queries = read_queries(args.queries)
    if not queries:
        raise CliError(f"{args.queries}: no queries")
    if args.index is None:
        return next(iter(queries.values()))
    if str(args.index) not in {str(k) for k in queries}:
        raise CliError(f"{args.queries}: no query with index {args.index}")
    return next(q for k, q in queries.items() if str(k) == str(args.index))


def _tree_json(name: str, query: dict | None, args: argparse.Namespace) -> dict:
    """A method's criteria tree as JSON: nodes, leaves (scorer, description, bands) and the aggregation."""
    method = get_method(name)
    q = query if query is not None else {"index": "-", "query": ""}
    where = f"{args.queries}: query {q.get('index')}" if query is not None else f"method {name}"
    tree = method.tree(q, options=MethodOptions(), where=where)
    by_name = {leaf.name: leaf for leaf in tree.leaves}
    nodes = []
    for node, names in tree.groups:
        leaves = []
        for leaf_name in names:
            leaf = by_name[leaf_name]
            item: dict = {"name": leaf.name, "scorer": leaf.scorer, "description": leaf.description}
            if leaf.criterion is not None and leaf.criterion.bands:
                item["bands"] = dict(leaf.criterion.bands)
            leaves.append(item)
        nodes.append({"node": node, "leaves": leaves})
    return {"method": name, "description": method.description, "negotiated": method.negotiated,
            "query": None if query is None else query.get("index"), "nodes": nodes,
            "aggregation": "Score(node) = sum of w * Score(leaf) over its leaves (w = 1/n_j unless negotiated); "
                           "root = sum over nodes of (n_j / n) * Score(node)"}


def run_show(args: argparse.Namespace) -> int:
    if args.list or args.method is None:
        print(json.dumps(method_list(), ensure_ascii=False, indent=2))
        return 0
    if args.method not in ("static-global", "static-domain"):
        with user_errors(CliError):
            query = _pick_query(args)
            if args.method == "dynamic" and query is None:
                raise CliError("--method dynamic: each query has its own checklist; pass --queries FILE "
                               "[--index N]")
            shown = _tree_json(args.method, query, args)
        print(json.dumps(shown, ensure_ascii=False, indent=2))
        return 0
    with user_errors(CliError):
        if args.method == "static-global":
            crits = load_static_global(args.lang, path=args.file)
        else:
            if not args.domain:
                raise CliError("--domain is required with --method static-domain")
            crits = load_static_domain(args.domain, args.lang, path=args.file)
    print(json.dumps([c.to_checklist() for c in crits], ensure_ascii=False, indent=2))
    return 0
