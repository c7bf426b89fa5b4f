"""``annotate study create|extend|judge|list|gold``: design studies from the command line.

``study judge`` scores a study's pairs with a judge under criteria methods (``metaeval grid`` on
the study's pairs, queries and responses, written to ``--output``) and stores the scores in the
database as the judge runs (JUDGE, METHOD), so ``study extend`` and the researcher pages see them.

``study create`` prints the plan's counts first and then creates the study (unless
``--dry-run``). The command line is a trusted local caller (it has the database in hand);
``--as USERNAME`` records a researcher or admin account as the study's creator.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from annotate.commands import CliError, command_session
from annotate.db.engine import init_db
from annotate.db.models import User
from annotate.services.core.roles import Role

if TYPE_CHECKING:
    from sqlmodel import Session


def _csv_list(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [part.strip() for part in text.split(",") if part.strip()]


def parse_model_pairs(text: str | None) -> list[tuple[str, str]] | None:
    """``"m1:m2,m3:m4"`` -> ``[("m1", "m2"), ("m3", "m4")]``.

    Example:
        >>> parse_model_pairs("gpt:claude, qwen:llama")
        [('gpt', 'claude'), ('qwen', 'llama')]
    """
    if text is None:
        return None
    pairs = []
    for part in _csv_list(text) or []:
        names = [n.strip() for n in part.split(":")]
        if len(names) != 2 or not all(names):
            raise CliError(f"--model-pairs: {part!r} is not MODEL1:MODEL2")
        pairs.append((names[0], names[1]))
    return pairs


def _actor(session: Session, username: str | None) -> User:
    from sqlmodel import col, select

    if username is None:
        return User(username="command-line", role=Role.ADMIN)
    user = session.exec(select(User).where(col(User.username) == username.strip().lower())).first()
    if user is None:
        raise CliError(f"--as: no user {username!r}")
    return user


def _create(args: argparse.Namespace) -> int:
    from annotate.services.studies.design import StudyDesign, create_study, plan_study

    design = StudyDesign(
        name=args.name, kind=args.kind, per_subdomain=args.per_subdomain, overlap=args.overlap,
        annotators=_csv_list(args.annotators) or [], models=_csv_list(args.models),
        model_pairs=parse_model_pairs(args.model_pairs), seed=args.seed, gold_rate=args.gold_rate,
        qualification_items=args.qualification, per_criterion=args.per_criterion,
        error_types=_csv_list(args.error_types), subdomains=_csv_list(args.subdomains),
    )
    with command_session(init_db(args.db)) as session:
        plan = plan_study(session=session, design=design)
        print(f"study {design.name!r} ({design.kind}), seed {design.seed}")
        for line in plan.summary_lines():
            print(f"  {line}")
        if args.dry_run:
            print("dry run: nothing created")
            return 0
        study = create_study(session=session, actor=_actor(session, args.as_user), design=design)
        print(f"created study {study.name!r} (id {study.id})")
    return 0


def _extend(args: argparse.Namespace) -> int:
    from annotate.services.studies.extend import extend_study, plan_extension

    with command_session(init_db(args.db)) as session:
        kwargs = {"study_name": args.name, "n": args.votes, "strategy": args.strategy, "target": args.target,
                  "seed": args.seed, "annotators": _csv_list(args.annotators)}
        plan = plan_extension(session=session, **kwargs)
        print(f"study {args.name!r}: {args.votes} more votes ({args.strategy}), seed {args.seed}")
        for line in plan.summary_lines():
            print(f"  {line}")
        if args.dry_run:
            print("dry run: nothing added")
            return 0
        extend_study(session=session, actor=_actor(session, args.as_user), **kwargs)
        print(f"added {len(plan.new)} assignments to {args.name!r}")
    return 0


def _judge(args: argparse.Namespace) -> int:
    """Write the study's files, run ``metaeval grid`` on them and import every score file it wrote."""
    import json
    from pathlib import Path

    from annotate.services.content.exports import export_queries
    from annotate.services.judges.judge_runs import import_scores
    from annotate.services.studies.study_files import export_pairs, export_responses
    from metaeval.cli import build_parser
    from metaeval.commands import CliError as MetaevalCliError
    from metaeval.commands.grid import run as run_grid

    out = Path(args.output)
    engine = init_db(args.db)
    with command_session(engine) as session:
        actor = _actor(session, args.as_user)
        n_pairs = export_pairs(session=session, actor=actor, study_name=args.name, path=out / "pairs.jsonl")
        if n_pairs == 0:
            raise CliError(f"study {args.name!r} has no pairs to judge")
        export_queries(session=session, path=out / "queries.jsonl", current=True)
        export_responses(session=session, path=out / "responses.jsonl")
    argv = ["grid", "--pairs", str(out / "pairs.jsonl"), "--queries", str(out / "queries.jsonl"),
            "--responses", str(out / "responses.jsonl"), "--methods", args.methods, "--output", str(out)]
    for spec in args.judge:
        argv += ["--judge", spec]
    grid_args = build_parser().parse_args(argv)
    for key in _engine_keys():
        setattr(grid_args, key, getattr(args, key))
    try:
        status = run_grid(grid_args)
    except MetaevalCliError as exc:
        raise CliError(str(exc)) from exc
    if status:
        return status
    manifest = json.loads((out / "grid.json").read_text(encoding="utf-8"))
    with command_session(init_db(args.db)) as session:
        for run in manifest["runs"]:
            if "long" not in run:
                continue  # a direct pairwise comparison has verdicts, not scores
            report = import_scores(session=session, path=run["long"], judge=run["judge"], method=run["method"],
                                   replace=args.replace)
            print(f"{args.name}: {run['method']}/{run['judge']}: {report.summary()}")
    return 0


def _engine_keys() -> tuple[str, ...]:
    from metaeval.judges.cli_options import add_engine_args

    probe = argparse.ArgumentParser()
    add_engine_args(probe)
    return tuple(a.dest for a in probe._actions if a.dest != "help")



def _list(args: argparse.Namespace) -> int:
    from annotate.services.core.names import shown_name
    from annotate.services.studies.lifecycle import list_studies

    with command_session(init_db(args.db), errors=()) as session:
        for study in list_studies(session=session, actor=User(username="command-line", role=Role.ADMIN)):
            print(f"{study.id}\t{shown_name(study.name)}\t{study.kind}\t{study.status}")  # one line per study
    return 0


def _gold(args: argparse.Namespace) -> int:
    from annotate.services.studies.design import set_gold_answer

    with command_session(init_db(args.db)) as session:
        item = set_gold_answer(session=session, actor=_actor(session, args.as_user),
                               item_id=args.item_id, winner=args.winner)
        print(f"item {item.id}: gold answer {item.gold_winner}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    study = subparsers.add_parser("study", help="design and list human studies")
    sub = study.add_subparsers(dest="study_command", required=True)

    create = sub.add_parser("create", help="plan and create a study (prints the counts first)")
    create.add_argument("name", help="unique study name")
    create.add_argument("--per-subdomain", type=int, required=True, metavar="N", help="queries per subdomain")
    create.add_argument("--overlap", type=int, required=True, metavar="K", help="annotators per item")
    create.add_argument("--annotators", required=True, metavar="A,B,C", help="usernames, comma-separated")
    create.add_argument("--models", metavar="M1,M2", help="only responses of these models")
    create.add_argument("--model-pairs", metavar="M1:M2,M3:M4", help="draw each pair among these pairs")
    create.add_argument("--seed", type=int, default=0, help="random seed (same seed, same study)")
    create.add_argument("--gold-rate", type=float, default=0.0, metavar="R",
                        help="share of items that are gold pairs (0 <= R < 1)")
    create.add_argument("--qualification", type=int, default=0, metavar="N",
                        help="qualification items every annotator judges first")
    create.add_argument("--per-criterion", action="store_true", help="also ask per dynamic criterion")
    create.add_argument("--kind", choices=["pairwise", "pointwise"], default="pairwise")
    create.add_argument("--error-types", metavar="T1,T2", help="pointwise error types (default list otherwise)")
    create.add_argument("--subdomains", metavar="S1,S2", help="only these subdomains (domain2 names)")
    create.add_argument("--as", dest="as_user", metavar="USERNAME", help="researcher/admin recorded as creator")
    create.add_argument("--dry-run", action="store_true", help="print the plan, create nothing")
    create.set_defaults(func=_create)

    ext = sub.add_parser("extend", help="add votes where they shrink the interval of a judge difference most")
    ext.add_argument("name", help="the study")
    ext.add_argument("--votes", type=int, required=True, metavar="N", help="assignments to add")
    ext.add_argument("--strategy", choices=["uniform", "adaptive"], default="adaptive")
    ext.add_argument("--target", metavar="METHOD/JUDGE-METHOD/JUDGE",
                     help="the difference to sharpen (default: the best judge row against the next)")
    ext.add_argument("--seed", type=int, default=0, help="random seed (same seed, same extension)")
    ext.add_argument("--annotators", metavar="A,B", help="more people who may take the new votes")
    ext.add_argument("--as", dest="as_user", metavar="USERNAME", help="researcher/admin doing it")
    ext.add_argument("--dry-run", action="store_true", help="print the plan, add nothing")
    ext.set_defaults(func=_extend)

    from metaeval.judges.cli_options import add_engine_args
    from metaeval.judges.pipeline import METHODS

    judge = sub.add_parser("judge", help="score the study's pairs with a judge and store the scores in the study",
                           description="Runs metaeval grid on the study's pairs (written with its queries and "
                                       "responses to --output) and imports every score file as the judge run "
                                       "(JUDGE, METHOD). Rerun to resume: finished calls are cached.")
    judge.add_argument("name", help="the study (pairwise)")
    judge.add_argument("--judge", required=True, action="append", metavar="[NAME=]SPEC",
                       help="openai:MODEL | openai-compatible:URL@MODEL | anthropic:MODEL | local:[PATH] | "
                            "replay:FILE; repeat for each judge")
    judge.add_argument("--methods", default=",".join(METHODS), metavar="M1,M2",
                       help=f"criteria methods (default {','.join(METHODS)})")
    judge.add_argument("--output", default="study-judge", metavar="DIR",
                       help="folder for the study's files, the scores, verdicts and cache (default ./study-judge)")
    judge.add_argument("--replace", action="store_true", help="overwrite stored scores that differ")
    judge.add_argument("--as", dest="as_user", metavar="USERNAME", help="researcher/admin doing it")
    add_engine_args(judge)
    judge.set_defaults(func=_judge)

    listing = sub.add_parser("list", help="list studies")
    listing.set_defaults(func=_list)

    gold = sub.add_parser("gold", help="set the known answer of a gold or qualification item")
    gold.add_argument("item_id", type=int)
    gold.add_argument("winner", choices=["a", "b", "tie"])
    gold.add_argument("--as", dest="as_user", metavar="USERNAME")
    gold.set_defaults(func=_gold)
