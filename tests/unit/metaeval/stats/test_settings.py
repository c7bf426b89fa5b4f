"""One set of bootstrap settings per statistic: the command line and every page use the same one."""

from __future__ import annotations

import argparse
import inspect

from metaeval.stats.settings import AGREEMENT, COMPETENCE, RANKINGS


def _cli_defaults(command: str) -> dict:
    from metaeval.commands import agreement, annotators, rankings

    module = {"agreement": agreement, "annotators": annotators, "rankings": rankings}[command]
    parser = argparse.ArgumentParser()
    module.register(parser.add_subparsers())
    sub = parser._subparsers._group_actions[0].choices[command]  # type: ignore[union-attr]
    return {a.dest: a.default for a in sub._actions if a.dest in ("bootstrap", "seed")}


def _defaults(func) -> dict:
    params = inspect.signature(func).parameters
    return {k: params[k].default for k in ("n_resamples", "seed") if k in params}


def test_competence_has_one_setting_in_the_cli_the_agreement_tab_and_the_dashboard():
    from annotate.services.judges.rankings_view import annotators_view
    from annotate.services.studies import dashboard
    from annotate.services.studies.competence import study_competence

    want = {"n_resamples": COMPETENCE.n_resamples, "seed": COMPETENCE.seed}
    assert _cli_defaults("annotators") == {"bootstrap": want["n_resamples"], "seed": want["seed"]}
    assert _defaults(study_competence) == want
    assert _defaults(annotators_view) == want
    assert COMPETENCE.n_resamples == dashboard.COMPETENCE_RESAMPLES


def test_agreement_and_rankings_cli_defaults_come_from_their_settings():
    assert _cli_defaults("agreement") == {"bootstrap": AGREEMENT.n_resamples, "seed": AGREEMENT.seed}
    assert _cli_defaults("rankings") == {"bootstrap": RANKINGS.n_resamples, "seed": RANKINGS.seed}


def test_settings_are_described_in_words():
    assert COMPETENCE.describe() == "1000 bootstrap resamples of queries, seed 0, 95% intervals"
