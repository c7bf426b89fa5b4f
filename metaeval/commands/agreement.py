"""``metaeval agreement``: agreement of judges with human pairwise votes (Table 4)."""

from __future__ import annotations

import argparse
import functools
import logging
import re
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from metaeval import resources
from metaeval.commands.responses_option import add_responses_args, read_named_responses
from metaeval.fastchat import is_json_array, read_fastchat_votes
from metaeval.io import (
    InputFileError,
    detect_layout,
    iter_jsonl,
    read_scores,
    read_votes_frame,
    read_votes_frame_and_columns,
    write_text_atomic,
)
from metaeval.report.agreement import FORMATS, render, write_figures
from metaeval.report.figures import PLOTLYJS
from metaeval.report.groups import add_groups_section, groups_report, read_named
from metaeval.report.paper_tables import add_sections, render_pivot
from metaeval.stats.agreement_study import JudgeVerdicts, agreement_study
from metaeval.stats.design import ESTIMATOR_POOLED, apply_design, read_vote_design
from metaeval.stats.settings import AGREEMENT
from metaeval.stats.verdicts import verdicts_from_scores

log = logging.getLogger(__name__)

_CJK = re.compile(r"[\u4e00-\u9fff]")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("agreement", help="agreement of judges with human pairwise votes",
                              description="Agreement of each judge with human votes, with clustered bootstrap "
                                          "intervals and paired tests (see docs/metaeval_statistics.md).")
    p.add_argument("--votes", required=True,
                   help="human votes, FastChat judgment layout (JSONL), or FastChat's own judgment file (a JSON "
                        "array with 'turn'; see --turn)")
    p.add_argument("--judge", action="append", required=True, metavar="NAME=FILE",
                   help="judge row: pairwise verdicts (FastChat layout, one or both orders), a long-layout score "
                        "file, a WritingBench score file whose lines carry 'model', or a folder of WritingBench "
                        "files named MODEL.jsonl. NAME may be METHOD/JUDGE. Repeatable.")
    p.add_argument("--turn", type=int, metavar="N",
                   help="FastChat files: use the votes of turn N (required when a file holds several turns)")
    p.add_argument("--queries", help="WritingBench queries (domain1, domain2, language for breakdowns)")
    add_responses_args(p, required=False, help_suffix=" (for length bias)")
    p.add_argument("--bootstrap", type=int, default=AGREEMENT.n_resamples, metavar="N",
                   help=f"bootstrap resamples (default {AGREEMENT.n_resamples})")
    p.add_argument("--seed", type=int, default=AGREEMENT.seed, metavar="S")
    p.add_argument("--tie-epsilon", type=float, default=0.0, metavar="E",
                   help="score files: a mean-score difference <= E is a tie (default 0)")
    p.add_argument("--split", choices=["tie", "drop"], default="tie", help="majority split-vote policy")
    p.add_argument("--human-label", choices=["per-vote", "majority", "dawid-skene"], default="per-vote",
                   help="compare judges with every vote (default), or with one label per pair: the majority or "
                        "the Dawid–Skene label; the human ceiling is then each vote vs the label from the others")
    p.add_argument("--test", choices=["signflip", "mcnemar"], default="signflip", help="paired test for p_value")
    p.add_argument("--breakdown", action="append", default=[],
                   choices=["domain1", "domain2", "lang", "model_pair", "subset"], help="repeatable")
    p.add_argument("--subset", action="append", default=[], metavar="NAME=FILE",
                   help="requirement subset: queries file whose indexes form subset NAME (for --breakdown subset)")
    p.add_argument("--format", choices=FORMATS, default="markdown")
    p.add_argument("--layout", choices=["long", "pivot"], default="long",
                   help="long: one row per judge with every statistic, bias and breakdowns (default); pivot: "
                        "Table 4's layout, criteria methods x judges, agreement [CI], best per judge marked")
    p.add_argument("--groups", action="append", default=[], metavar="[NAME=]FILE",
                   help="also report WEval requirement-drop groups (a file `metaeval groups score` wrote): a section "
                        "beside Table 4 with tau, tau-b, position consistency and exact match per judge/method. "
                        "NAME defaults to the lines' METHOD/JUDGE. Repeatable")
    p.add_argument("--group-size", type=int, metavar="C",
                   help="--groups: responses per group (default: from '3c'/'4c'/'5c' in the file name)")
    p.add_argument("--output", help="write here instead of standard output")
    p.add_argument("--figures", metavar="DIR", help="also write plotly figures (HTML) here")
    p.add_argument("--plotlyjs", choices=PLOTLYJS, default="directory",
                   help="figures: one shared plotly.min.js beside them (default), a <script> from the plotly CDN "
                        "(the browser then needs the internet), or a copy inlined in every file")
    p.set_defaults(func=run)


def _split_spec(spec: str, option: str) -> tuple[str, str]:
    from metaeval.cli import CliError

    name, sep, path = spec.partition("=")
    if not sep or not name or not path:
        raise CliError(f"{option} expects NAME=FILE, got {spec!r}")
    return name, path


def load_judge(path: str, human_pairs: pd.DataFrame | Callable[[], pd.DataFrame], *, epsilon: float,
               turn: int | None = None) -> JudgeVerdicts:
    """Judge verdicts from a file or folder, detecting the layout by content. ``human_pairs``: the
    voted pairs (qid, lo, hi) that score files are compared on, or a function giving them (called
    only for a score file)."""
    def pairs() -> pd.DataFrame:
        return human_pairs() if callable(human_pairs) else human_pairs

    p = Path(path)
    if p.is_file() and is_json_array(p):
        return JudgeVerdicts.from_votes(read_fastchat_votes(p, turn=turn))
    if p.is_dir():
        frames = []
        for f in sorted(p.glob("*.jsonl")):
            recs = read_scores(f, model=_folder_model(f, next((o for _n, o in iter_jsonl(f)), None)))
            frames.append(pd.DataFrame([(r.index, r.model, r.score) for r in recs], columns=["index", "model", "score"]))
        if not frames:
            raise InputFileError(f"the folder holds no *.jsonl score files; expected {SCORE_FOLDER_FILES}", path=p)
        return JudgeVerdicts(pairs=verdicts_from_scores(pd.concat(frames), pairs(), epsilon=epsilon))
    first = next(iter_jsonl(p), None)
    if first is None:
        raise InputFileError("file is empty", path=p)
    layout = detect_layout(first[1])
    if layout == "votes":
        return JudgeVerdicts.from_votes(read_votes_frame(p, turn=turn))
    if layout in ("writingbench", "long"):
        recs = read_scores(p)
        df = pd.DataFrame([(r.index, r.model, r.score) for r in recs], columns=["index", "model", "score"])
        return JudgeVerdicts(pairs=verdicts_from_scores(df, pairs(), epsilon=epsilon))
    raise InputFileError("cannot tell the layout: expected pairwise verdicts (model_a, model_b, winner) or judge "
                         "scores (index, scores / index, model, criterion, score)", path=p, line=first[0])


def _query_keys(path: str) -> dict[str, dict[str, str]]:
    keys: dict[str, dict[str, str]] = {"domain1": {}, "domain2": {}, "lang": {}}
    for n, obj in iter_jsonl(path):
        if "index" not in obj:
            raise InputFileError("missing", path=path, line=n, field="index")
        q = str(obj["index"])
        for k in ("domain1", "domain2"):
            if isinstance(obj.get(k), str):
                keys[k][q] = obj[k]
        lang = obj.get("lang")
        keys["lang"][q] = lang if isinstance(lang, str) else ("zh" if _CJK.search(str(obj.get("query", ""))) else "en")
    return keys


def _lengths(values: list[str], model: str | None) -> dict[tuple[str, str], int]:
    """Response length in characters per (index as text, model), models named as in ``--responses``."""
    return {key: len(text) for key, text in read_named_responses(values, model=model).items()}


SCORE_FOLDER_FILES = ("MODEL.jsonl files in WritingBench's score layout ({index, scores}), one per model and "
                      "named after the model as the votes name it, or long-layout files "
                      "({index, model, judge, method, criterion, score})")


def _folder_model(path: Path, first: dict | None) -> str | None:
    """The model of a WritingBench score file in a folder: its lines' ``model`` field, else the file stem."""
    if first is not None and isinstance(first.get("model"), str):
        return None  # the lines name their models
    return path.stem


def check_judge_matches(name: str, path: str, verdicts: JudgeVerdicts) -> None:
    """A judge row with no verdict on any voted pair is an error naming the file (or folder) and what it needs.

    Raises:
        InputFileError: no verdict of ``path`` falls on a pair the people voted on.
    """
    if len(verdicts.pairs):
        return
    p = Path(path)
    if p.is_dir():
        found = ", ".join(sorted(f.name for f in p.iterdir())[:8]) or "nothing"
        raise InputFileError(f"--judge {name}: the folder gives no score for any voted pair; expected "
                             f"{SCORE_FOLDER_FILES}; found: {found}", path=p)
    raise InputFileError(f"--judge {name}: no verdict or score in this file falls on a pair the people voted on "
                         "(check question ids and model names against the votes)", path=p)


def run(args: argparse.Namespace) -> int:
    from metaeval.cli import CliError

    if args.bootstrap < 1:
        raise CliError("--bootstrap must be at least 1")
    try:
        resources.check_input_files([args.votes, *(s.partition("=")[2] for s in args.judge)], command="agreement")
        # read into columns (pyarrow's reader, else line by line), no object per vote
        hf, vote_columns = read_votes_frame_and_columns(args.votes, turn=args.turn)
        if hf.empty:
            raise InputFileError("no votes", path=args.votes)
        design = read_vote_design(args.votes, columns=vote_columns) if args.human_label == "per-vote" else None
        del vote_columns  # (read once: the study holds the frame)
        resources.release_freed_memory()

        @functools.cache
        def human_pairs() -> pd.DataFrame:  # the voted pairs, found once and only for a score file
            return hf[["qid", "lo", "hi"]].drop_duplicates()
        judges = {}
        for spec in args.judge:
            name, path = _split_spec(spec, "--judge")
            if name in judges:
                raise CliError(f"--judge name {name!r} given twice")
            judges[name] = load_judge(path, human_pairs, epsilon=args.tie_epsilon, turn=args.turn).for_agreement()
            check_judge_matches(name, path, judges[name])
            resources.release_freed_memory()  # what reading the file took beyond its verdicts
        keys: dict[str, dict[str, str]] = {}
        if args.queries:
            q = _query_keys(args.queries)
            for k in ("domain1", "domain2", "lang"):
                # the queries file fills in what the votes do not carry
                from_votes = {str(qid): v for qid, v in zip(hf["qid"], hf[k], strict=True) if isinstance(v, str)}
                keys[k] = {**q[k], **from_votes}
        subset: dict[str, str] = {}
        for spec in args.subset:
            name, path = _split_spec(spec, "--subset")
            for n, obj in iter_jsonl(path):
                if "index" not in obj:
                    raise InputFileError("missing", path=path, line=n, field="index")
                subset[str(obj["index"])] = name
        if subset:
            keys["subset"] = subset
        if "subset" in args.breakdown and not subset:
            raise CliError("--breakdown subset needs at least one --subset NAME=FILE")
        lengths = _lengths(args.responses, args.model) if args.responses else None
        n_j = len(judges)  # rows, no-tie rows, paired differences, per breakdown group (at most ~100)
        resources.check_bootstrap(command="agreement", n_resamples=args.bootstrap, n_clusters=hf["qid"].nunique(),
                                  n_statistics=(8 + 6 * n_j + n_j * n_j) * (1 + 100 * len(args.breakdown)))
        result = agreement_study(hf, judges, n_resamples=args.bootstrap, seed=args.seed, split=args.split,
                                 test=args.test, lengths=lengths, breakdown_keys=keys or None,
                                 breakdown_by=args.breakdown, human_label=args.human_label)
        if design is not None:  # votes from an adaptive/uniform extension: weight by the design
            apply_design(result, design, {name: j.pairs for name, j in judges.items()})
        else:
            result.settings["estimator"] = ESTIMATOR_POOLED
        groups = None
        if args.groups:  # WEval groups beside Table 4
            groups = groups_report(read_named(args.groups, group_size=args.group_size, label_from_lines=True),
                                   n_resamples=args.bootstrap, seed=args.seed)
    except InputFileError as exc:
        raise CliError(str(exc)) from exc
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    if args.layout == "pivot":
        text = render_pivot(result, fmt=args.format)
    else:
        text = render(result, fmt=args.format)
        if args.format != "json":  # JSON carries bias and breakdowns already
            text = add_sections(text, result, fmt=args.format)
    if groups is not None:
        text = add_groups_section(text, groups, fmt=args.format)
    if args.output:
        write_text_atomic(args.output, text)
    else:
        sys.stdout.write(text)
    if args.figures:
        for written in write_figures(result, args.figures, plotlyjs=args.plotlyjs):
            log.info("wrote %s", written)
    return 0
