"""AppTest of the expert-refinement pages for each role: collect materials, adapt queries,
prune materials, review edits, query history, edit statistics."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from annotate.db.models import InstructionVersion, MaterialDocument, MaterialVersion, Query, User
from annotate.services.content.content import render_query_text
from annotate.services.core.taxonomy import seed_taxonomy, subdomain_index
from annotate.services.refine import instructions, materials, pruning
from tests.fixtures.apptest import button, page, page_direct, shown

PARAGRAPHS = ["第一段：河流的形成。" * 8, "第二段：与主题无关的广告。" * 6, "第三段：河流与城市。" * 8]
QUERY = "请根据以下材料写一篇关于河流的散文。材料如下：\n\n" + "\n\n".join(PARAGRAPHS)


@pytest.fixture()
def seeded(engine, db_url, monkeypatch):
    monkeypatch.setenv("ANNOTATE_DB_URL", db_url)
    with Session(engine, expire_on_commit=False) as s:
        seed_taxonomy(s)
        sub = next(iter(subdomain_index(s).values()))
        q = Query(index=900001, subdomain_id=sub, lang="zh", original_text=QUERY, needs_materials=True,
                  material_requirement="a report on river pollution")
        s.add(q)
        people = {n: User(username=n, role=r, password_hash="x") for n, r in
                  (("ann1", "annotator"), ("ann2", "annotator"), ("exp1", "expert"), ("exp2", "expert"),
                   ("res1", "researcher"), ("adm1", "admin"))}
        s.add_all(people.values())
        s.flush()
        s.add(InstructionVersion(query_id=q.id, version_no=1, text=QUERY, status="approved", reason="imported"))
        s.commit()
        ids = {n: u.id for n, u in people.items()}
        ids["query"] = q.id
    return ids


def text_of(at: AppTest) -> str:
    parts = [e.value for e in (*at.title, *at.markdown, *at.caption, *at.error, *at.info, *at.warning,
                               *at.success)]
    return shown("\n".join(str(p) for p in parts) + "\n" + "\n".join(b.label for b in at.button))


@pytest.mark.parametrize("file", ["refine/adapt_query.py", "refine/prune_materials.py", "refine/review_edits.py"])
def test_expert_pages_refuse_other_roles(seeded, file: str) -> None:
    for role in ("ann1", "res1", "adm1"):
        at = page_direct(seeded[role], file)
        assert "does not have access" in text_of(at)


def test_collect_page_refuses_researchers_and_history_refuses_annotators(seeded) -> None:
    assert "does not have access" in text_of(page_direct(seeded["res1"], "refine/collect_materials.py"))
    assert "does not have access" in text_of(page_direct(seeded["ann1"], "refine/query_history.py"))
    assert "does not have access" in text_of(page_direct(seeded["ann1"], "refine/edit_statistics.py"))


def test_split_adapt_and_review_roles(seeded, engine) -> None:
    at = page(seeded["exp1"], "refine/adapt_query.py")
    assert "Query 900001" in text_of(at)
    button(at, "Confirm split").click().run()
    assert not at.exception
    assert "Split saved" in text_of(at)
    with Session(engine) as s:
        assert render_query_text(session=s, query_id=seeded["query"]) == QUERY
        v2 = s.exec(select(InstructionVersion).where(InstructionVersion.version_no == 2)).one()
        assert v2.text == "请根据以下材料写一篇关于河流的散文。材料如下："
    # edit: a save without a reason is refused (the button stays clickable; the click checks the reason)
    area = at.text_area[0]
    area.set_value("请根据以下材料写一篇800字的关于河流的散文。材料如下：").run()
    button(at, "Save as a new version").click().run()
    assert "Write a reason for the change first" in text_of(at)
    at.text_input[0].set_value("a length makes the task realistic").run()
    button(at, "Save as a new version").click().run()
    assert "Saved version 3" in text_of(at)
    # exp1 sees the edit on Review edits but cannot approve their own edit
    review = page(seeded["exp1"], "refine/review_edits.py")
    assert "your own edit" in text_of(review)
    assert not [b for b in review.button if b.label == "Approve"]
    # exp2 approves
    review2 = page(seeded["exp2"], "refine/review_edits.py")
    button(review2, "Approve").click().run()
    assert "Approved query 900001 instruction version 3" in text_of(review2)
    with Session(engine) as s:
        assert s.get(Query, seeded["query"]).content_revision == 2
    # history shows who, why
    hist = page(seeded["res1"], "refine/query_history.py")
    labels = [e.label for e in hist.expander]
    assert any("Instruction v3 · approved · exp1, reviewed by exp2" in label for label in labels)


def test_adapt_conflict_shows_the_newer_version(seeded, engine) -> None:
    at = page(seeded["exp1"], "refine/adapt_query.py")  # exp1 starts from version 1
    with Session(engine, expire_on_commit=False) as s:
        exp2 = s.get(User, seeded["exp2"])
        instructions.propose_instruction(session=s, actor=exp2, query_id=seeded["query"], text=QUERY + "\n补充。",
                                  reason="exp2 was faster", base_version_no=1)
    at.text_area[0].set_value(QUERY.replace("散文", "诗歌")).run()
    at.text_input[0].set_value("poem instead").run()
    button(at, "Save as a new version").click().run()
    assert not at.exception
    shown = text_of(at)
    assert "Not saved: version 2 of this instruction (pending, by exp2)" in shown
    assert "**Your text** (not saved, still in the editor)" in shown
    assert at.text_area[0].value == QUERY.replace("散文", "诗歌")


def test_prune_page_preview_save_and_review(seeded, engine) -> None:
    with Session(engine, expire_on_commit=False) as s:
        exp1 = s.get(User, seeded["exp1"])
        doc = materials.confirm_split(session=s, actor=exp1, query_id=seeded["query"],
                                      boundary=QUERY.index("\n\n"), base_version_no=1).document
    at = page(seeded["exp2"], "refine/prune_materials.py")
    assert [c.label for c in at.checkbox] == ["Keep 1", "Keep 2", "Keep 3"]
    at.checkbox[1].uncheck().run()
    metrics = {m.label: m.value for m in at.metric}
    # before: 3 paragraphs + two "\n\n"; after: paragraphs 1 and 3 joined by one "\n\n"
    before = sum(len(p) for p in PARAGRAPHS) + 4
    after = len(PARAGRAPHS[0]) + len(PARAGRAPHS[2]) + 2
    assert metrics["Characters before"] == f"{before:,}" and metrics["Characters after"] == f"{after:,}"
    at.selectbox[-1].set_value("irrelevant").run()
    button(at, "Save pruning as a new version").click().run()
    assert "Saved version 2 (removed 1 irrelevant)" in text_of(at)
    # the author cannot approve; an annotator cannot open the page at all
    assert "your own edit" in text_of(page(seeded["exp2"], "refine/review_edits.py"))
    review = page(seeded["exp1"], "refine/review_edits.py")
    button(review, "Approve").click().run()
    with Session(engine) as s:
        version = s.exec(select(MaterialVersion).where(MaterialVersion.document_id == doc.id,
                                                       MaterialVersion.version_no == 2)).one()
        assert version.status == "approved" and version.removals == {"1": "irrelevant"}
        assert PARAGRAPHS[1] not in render_query_text(session=s, query_id=seeded["query"])


def test_prune_conflict_names_the_segments_each_version_keeps(seeded, engine) -> None:
    with Session(engine, expire_on_commit=False) as s:
        exp1 = s.get(User, seeded["exp1"])
        doc = materials.confirm_split(session=s, actor=exp1, query_id=seeded["query"],
                                      boundary=QUERY.index("\n\n"), base_version_no=1).document
    at = page(seeded["exp2"], "refine/prune_materials.py")  # exp2 starts from version 1 (keeps all three)
    with Session(engine, expire_on_commit=False) as s:  # meanwhile exp1 saves version 2: segments 1 and 3
        pruning.propose_pruning(session=s, actor=s.get(User, seeded["exp1"]), document_id=doc.id, kept=[0, 2],
                              removals={1: "irrelevant"}, reason="advert", base_version_no=1)
    at.checkbox[2].uncheck().run()  # exp2 keeps segments 1 and 2
    at.selectbox(key=f"why_{doc.id}_2").set_value("too long").run()
    button(at, "Save pruning as a new version").click().run()
    assert not at.exception
    assert "Version 2 keeps segments 1, 3; your choice keeps 1, 2." in text_of(at)
    assert [c.value for c in at.checkbox] == [True, True, False]  # the choice is still on screen


def test_collect_and_verify_by_a_second_annotator(seeded, engine) -> None:
    at = page(seeded["ann1"], "refine/collect_materials.py")
    at.text_input(key="collect_title").set_value("River report").run()
    at.text_input(key="collect_source").set_value("https://example.org/rivers").run()
    at.text_input(key="collect_license").set_value("CC BY 4.0").run()
    at.text_area(key="collect_text").set_value("Rivers are polluted.\n\nBuy our product!\n\nCities clean rivers.").run()
    keep_boxes = [c for c in at.checkbox if c.key.startswith("collect_keep_")]
    assert [shown(c.label) for c in keep_boxes] == ["Rivers are polluted.", "Buy our product!", "Cities clean rivers."]
    keep_boxes[1].uncheck().run()
    button(at, "Save the material").click().run()
    assert "Another person verifies it" in text_of(at)
    with Session(engine) as s:
        doc = s.exec(select(MaterialDocument)).one()
        assert doc.status == "pending"
    # the collector has nothing to verify; the second annotator verifies
    assert not [b for b in at.button if b.label == "Verify"]
    other = page(seeded["ann2"], "refine/collect_materials.py")
    button(other, "Verify").click().run()
    assert "verified" in text_of(other)
    with Session(engine) as s:
        assert render_query_text(session=s, query_id=seeded["query"]).endswith(
            "Rivers are polluted.\n\nCities clean rivers.")


def test_edit_stats_page_for_researcher_and_expert(seeded, engine) -> None:
    # no edit yet: an explanation instead of an empty chart
    at = page(seeded["exp1"], "refine/edit_statistics.py")
    assert "No query has been adapted or pruned yet" in text_of(at)
    assert not at.get("plotly_chart")
    with Session(engine) as s:
        expert = s.get(User, seeded["exp1"])
        instructions.propose_instruction(session=s, actor=expert, query_id=seeded["query"], text=QUERY + "（800字）",
                                  reason="a length makes the task realistic", base_version_no=1)
        s.commit()
    for role in ("res1", "exp1", "adm1"):
        at = page(seeded[role], "refine/edit_statistics.py")
        assert "Edit statistics" in text_of(at)
        assert at.get("plotly_chart")
    at = page(seeded["res1"], "refine/edit_statistics.py")
    button(at, "Prepare the refined export").click().run()
    assert not at.exception
    assert "0 changed queries." in text_of(at)


def test_review_page_holds_back_a_version_built_on_a_pending_one(seeded, engine) -> None:
    with Session(engine, expire_on_commit=False) as s:
        exp1 = s.get(User, seeded["exp1"])
        instructions.propose_instruction(session=s, actor=exp1, query_id=seeded["query"], text=QUERY + "\n补充一。",
                                  reason="first", base_version_no=1)
        instructions.propose_instruction(session=s, actor=exp1, query_id=seeded["query"], text=QUERY + "\n补充一。\n补充二。",
                                  reason="second", base_version_no=2)
    # exp2 reviews both: version 3 carries version 2's change, so it waits for version 2.
    review = page(seeded["exp2"], "refine/review_edits.py")
    assert "Built on version 2, which is still pending" in text_of(review)
    approve = [b for b in review.button if b.label == "Approve"]
    assert [b.disabled for b in approve] == [False, True]  # oldest first: version 2, then version 3
    reject = [b for b in review.button if b.label == "Reject"][0]
    reject.click().run()  # a rejection needs a reason: refused, nothing rejected
    assert "Write a reason first" in text_of(review)
    reject = [b for b in review.button if b.label == "Reject"][0]
    review.text_input(key=f"note_{reject.key.removeprefix('reject_')}").set_value("drops the word limit").run()
    [b for b in review.button if b.label == "Reject"][0].click().run()  # reject version 2
    assert ("Rejected query 900001 instruction version 2. Rejected with it, as they build on it: version 3."
            in text_of(review))
    assert "No edits await review." in text_of(review)  # version 3 fell with it: nothing left
    with Session(engine) as s:
        rows = s.exec(select(InstructionVersion.version_no, InstructionVersion.status)
                      .order_by(InstructionVersion.version_no)).all()
    assert rows == [(1, "approved"), (2, "rejected"), (3, "rejected")]


def test_adapt_revert_needs_a_reason_and_saves_a_pending_version(seeded, engine) -> None:
    with Session(engine, expire_on_commit=False) as s:  # exp2's version 2 adds a line to the original
        instructions.propose_instruction(session=s, actor=s.get(User, seeded["exp2"]), query_id=seeded["query"],
                                         text=QUERY + "\n补充。", reason="more", base_version_no=1)
    at = page(seeded["exp1"], "refine/adapt_query.py")
    assert "Revert to an earlier version" in [e.label for e in at.expander]
    button(at, "Propose the revert").click().run()
    assert "Write a reason for reverting first; nothing was saved." in text_of(at)
    at.text_input(key=f"revert_reason_{seeded['query']}_0").set_value("the addition is not needed").run()
    button(at, "Propose the revert").click().run()
    assert not at.exception
    assert "Revert saved as version 3 (awaiting review)." in text_of(at)
    with Session(engine) as s:
        v3 = s.exec(select(InstructionVersion).where(InstructionVersion.version_no == 3)).one()
        # version 3 has version 1's text (the original query), pending, with the reason kept
        assert (v3.text, v3.status) == (QUERY, "pending")
        assert v3.reason == "revert to version 1: the addition is not needed"


def test_prune_revert_saves_a_pending_version_keeping_all_segments_again(seeded, engine) -> None:
    with Session(engine, expire_on_commit=False) as s:
        exp1 = s.get(User, seeded["exp1"])
        doc = materials.confirm_split(session=s, actor=exp1, query_id=seeded["query"],
                                      boundary=QUERY.index("\n\n"), base_version_no=1).document
        pruning.propose_pruning(session=s, actor=exp1, document_id=doc.id, kept=[0, 2],
                                removals={1: "irrelevant"}, reason="advert", base_version_no=1)
    at = page(seeded["exp2"], "refine/prune_materials.py")
    # the only earlier version is the split's version 1, which kept all three paragraphs
    assert at.selectbox(key=f"prune_revert_{doc.id}").options == [
        "version 1 (approved, keeps 3 of 3): split from the imported query"]
    at.text_input(key=f"prune_revert_reason_{doc.id}").set_value("the advert matters here").run()
    button(at, "Propose the revert").click().run()
    assert not at.exception
    assert "Revert saved as version 3 (awaiting review)." in text_of(at)
    with Session(engine) as s:
        v3 = s.exec(select(MaterialVersion).where(MaterialVersion.document_id == doc.id,
                                                  MaterialVersion.version_no == 3)).one()
        # version 1 kept the three paragraphs (positions 0, 1, 2)
        assert (v3.kept, v3.status) == ([0, 1, 2], "pending")
