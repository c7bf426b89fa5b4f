"""``metaeval annotators``: competence of each annotator (Dawid–Skene or MACE) with intervals and flags."""

from __future__ import annotations

import argparse
import logging
import sys

from metaeval import resources
from metaeval.io import InputFileError, read_votes, write_text_atomic
from metaeval.report.annotators import FORMATS, render_annotators
from metaeval.stats.latent_class import MODELS
from metaeval.stats.settings import COMPETENCE

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("annotators", help="competence of each annotator (Dawid–Skene / MACE)",
                              description="Fit a latent-class model of annotator reliability to the votes and "
                                          "report each person's competence (P(label = true label)) with a "
                                          "bootstrap interval over queries, and flag votes indistinguishable "
                                          "from random; votes that carry an extension's design are weighted by "
                                          "it (see docs/metaeval_statistics.md).")
    p.add_argument("--votes", required=True, help="human votes, FastChat judgment layout (JSONL)")
    p.add_argument("--model", choices=MODELS, default="dawid-skene")
    p.add_argument("--gold", metavar="FILE", help="gold pairs with their known winner (FastChat layout), "
                                                 "for gold_accuracy")
    p.add_argument("--bootstrap", type=int, default=COMPETENCE.n_resamples, metavar="N",
                   help=f"bootstrap resamples (default {COMPETENCE.n_resamples})")
    p.add_argument("--seed", type=int, default=COMPETENCE.seed, metavar="S")
    p.add_argument("--format", choices=FORMATS, default="markdown")
    p.add_argument("--output", help="write here instead of standard output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from metaeval.cli import CliError
    from metaeval.stats.agreement import votes_frame
    from metaeval.stats.annotators import annotator_competence
    from metaeval.stats.design import read_vote_design

    if args.bootstrap < 0:
        raise CliError("--bootstrap must be at least 0")
    try:
        resources.check_input_files([args.votes, *([args.gold] if args.gold else [])], command="annotators")
        votes = read_votes(args.votes)
        if not votes:
            raise InputFileError("no votes", path=args.votes)
        people = {v.judge for v in votes}  # competence, intervals, chance and excess per annotator
        resources.check_bootstrap(command="annotators", n_resamples=args.bootstrap,
                                  n_clusters=len({v.question_id for v in votes}), n_statistics=10 * len(people))
        gold = None
        if args.gold:
            g = votes_frame(read_votes(args.gold))
            gold = {(q, lo, hi): int(o) for q, lo, hi, o in zip(g["qid"], g["lo"], g["hi"], g["outcome"], strict=True)}
        design = read_vote_design(args.votes)  # None for a fixed design: every vote counts once
        result = annotator_competence(votes, model=args.model, gold=gold, n_resamples=args.bootstrap, seed=args.seed,
                                      level=COMPETENCE.level, design=design)
        log.info("annotators: estimator %s", result.settings["estimator"])
    except (InputFileError, ValueError) as exc:
        raise CliError(str(exc)) from exc
    text = render_annotators(result, fmt=args.format)
    if args.output:
        write_text_atomic(args.output, text)
    else:
        sys.stdout.write(text)
    return 0
