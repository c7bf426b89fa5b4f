"""Requirement sentences and criteria coverage (the highlighting in the audit detail)."""

from annotate.services.content.requirements import coverage, highlight, keywords, requirements


def test_requirements_and_coverage_by_hand():
    text = ("Write a grant abstract. It must be no longer than 250 words. Mention the budget and duration.\n"
            "Our town is small.")
    reqs = requirements(text)
    # sentence 1 has no constraint cue; sentence 4 neither
    assert [r.text for r in reqs] == ["It must be no longer than 250 words.", "Mention the budget and duration."]
    assert all(text[r.start:r.end] == r.text for r in reqs)
    crits = [("Length limit", "Stays within 250 words"), ("Budget and duration", "States the budget and the duration"),
             ("Style", "Reads fluently")]
    # shared keywords: {"250"} (a number) / {"budget", "duration"} (two words)
    assert coverage(reqs, crits) == [("Length limit",), ("Budget and duration",)]
    segs = highlight(text, crits)
    assert "".join(s.text for s in segs) == text  # nothing lost
    assert [s.criteria for s in segs if s.criteria] == [("Length limit",), ("Budget and duration",)]


def test_chinese_keywords_use_character_pairs():
    assert {"预算", "算和"} <= keywords("预算和时长")
    reqs = requirements("请写一段摘要。字数不超过300字，并说明预算。")
    assert [r.text for r in reqs] == ["请写一段摘要。", "字数不超过300字，并说明预算。"]
    # only the second sentence shares a pair ("预算") and ... "说明" -> two keywords
    assert coverage(reqs, [("预算说明", "写明项目预算")]) == [(), ("预算说明",)]
