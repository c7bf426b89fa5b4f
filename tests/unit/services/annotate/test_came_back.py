"""The sentence on a task that came back after an approved edit names what the annotator did."""

from __future__ import annotations

from annotate.services.annotate.came_back import EarlierJudgment, came_back_notice


def test_a_pair_says_judged_and_the_choice_as_seen():
    text = came_back_notice(EarlierJudgment(7, "right", None, 2, 1))
    assert text == ("This query was changed since you judged it; your earlier judgment (B is better, on query "
                    "version 2) is kept as stale.")


def test_a_rating_says_rated_and_the_score():
    text = came_back_notice(EarlierJudgment(7, None, 4, 3, 1))
    assert text == ("This query was changed since you rated it; your earlier rating (4, on query version 3) is "
                    "kept as stale.")
