"""Expert refinement on the real 1,000 WritingBench queries: the splitter on every query, split,
adapt, approve, prune, revert, history, export and re-import.

The editing rules themselves (conflicts, pending chains, version numbers) run on the demo queries
in ``test_instructions.py`` and ``test_pruning.py``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import Session, select

from annotate.commands.cli import main as cli_main
from annotate.db.engine import init_db
from annotate.db.models import InstructionVersion, Query
from annotate.services.content.content import current_instruction, render_query_text
from annotate.services.content.imports import import_queries
from annotate.services.core.errors import InputError, PermissionDenied
from annotate.services.refine import edit_statistics, instructions, pruning, review
from annotate.services.refine.history import query_history
from annotate.services.refine.refined_export import export_refined, sha256_hex
from annotate.services.refine.splitter import propose_split, segment_paragraphs, split_at
from annotate.services.refine.versions import segments_of
from tests.unit.services.refine.refine_helpers import query_id, split_query, users

pytestmark = pytest.mark.shared


@pytest.fixture(scope="module")
def bench_file(shared_data_dir: Path) -> Path:
    return shared_data_dir / "benchmark_all.jsonl"


@pytest.fixture(scope="module")
def originals(bench_file: Path) -> dict[int, dict]:
    return {r["index"]: r for r in (json.loads(line) for line in bench_file.read_text("utf-8").splitlines())}


# --------------------------------------------------------------------------- splitter


def test_every_proposal_on_the_real_file_loses_no_character(originals: dict[int, dict]) -> None:
    proposed = 0
    for record in originals.values():
        text = record["query"]
        p = propose_split(text)
        assert "".join(a + b for a, b in segment_paragraphs(text)) == text
        if p.method == "none":
            assert p.boundary == len(text)
            continue
        proposed += 1
        parts = split_at(text, p.boundary, material_first=p.material_first)
        assert parts.rejoin() == text
        assert parts.joiner.strip() == ""
        assert "".join(a + b for a, b in segment_paragraphs(parts.material)) == parts.material
    # most WritingBench queries paste material; a proposal for well over half of them
    assert proposed > 500


def test_proposals_for_hand_checked_queries(originals: dict[int, dict]) -> None:
    # Index 1 (zh): the request ends with "可以参考以下范文素材。" and the pasted paper follows.
    q1 = originals[1]["query"]
    p1 = propose_split(q1)
    assert q1[:p1.boundary].endswith("可以参考以下范文素材。") and not p1.material_first
    assert q1[p1.boundary:].startswith("基于深度学习的机械智能制造质量控制")
    # Index 98 (zh): the lead-in "- 供参考的政府文件:" ends the instruction.
    q98 = originals[98]["query"]
    assert q98[:propose_split(q98).boundary].endswith("供参考的政府文件:")
    # Index 389 (zh): an essay first, the request (a 读后感 for a 初三 student) at the end.
    q389 = originals[389]["query"]
    p389 = propose_split(q389)
    assert p389.material_first and q389[p389.boundary:].strip().startswith("我是初三学生")
    # A short English request with no material gets no proposal (index 195).
    assert propose_split(originals[195]["query"]).method == "none"


# --------------------------------------------------------------------------- split records


def test_split_keeps_the_original_and_renders_it_byte_for_byte(session: Session, originals, tmp_path: Path,
                                                               bench_file: Path) -> None:
    people = users(session)
    split_indexes = []
    for index, record in originals.items():
        if propose_split(record["query"]).method != "none":
            split_indexes.append(index)
    split_indexes = split_indexes[::6]  # about a hundred, Chinese and English, both orientations
    assert len(split_indexes) > 80
    for index in split_indexes:
        result = split_query(session, index, people["exp1"])
        assert not result.content_changed
    q1 = session.exec(select(Query).where(Query.index == split_indexes[0])).one()
    versions = session.exec(select(InstructionVersion).where(InstructionVersion.query_id == q1.id)
                            .order_by(InstructionVersion.version_no)).all()
    assert [v.version_no for v in versions] == [1, 2]
    assert versions[0].text == originals[q1.index]["query"] == q1.original_text
    assert len(versions[1].text) < len(versions[0].text)
    for index in split_indexes:
        assert render_query_text(session=session, query_id=query_id(session, index)) == originals[index]["query"]
    # the refined export of split-but-unedited queries is the original file, byte for byte
    out, prov = tmp_path / "refined.jsonl", tmp_path / "prov.jsonl"
    report = export_refined(session=session, path=out, provenance_path=prov)
    assert report.queries == 1000 and report.changed == 0
    assert out.read_bytes() == bench_file.read_bytes()
    # a second split of the same query is refused
    with pytest.raises(Exception, match="already split|version"):
        split_query(session, split_indexes[0], people["exp2"])


# --------------------------------------------------------------------------- adapt, approve, prune, export


def test_adapt_approve_prune_export_and_reimport(session: Session, originals, tmp_path: Path,
                                                 bench_file: Path) -> None:
    people = users(session)
    index = 98
    original = originals[index]["query"]
    qid = query_id(session, index)
    split = split_query(session, index, people["exp1"])
    v2 = split.instruction
    # adapt: the bank's risk officer asks for a shorter plan (an expert's rewrite, with a reason)
    new_text = v2.text.replace("撰写一份", "撰写一份不超过3000字的")
    assert new_text != v2.text
    with pytest.raises(InputError, match="reason"):
        instructions.propose_instruction(session=session, actor=people["exp1"], query_id=qid, text=new_text,
                                  reason="  ", base_version_no=2)
    with pytest.raises(PermissionDenied):
        instructions.propose_instruction(session=session, actor=people["ann1"], query_id=qid, text=new_text,
                                  reason="length", base_version_no=2)
    v3 = instructions.propose_instruction(session=session, actor=people["exp1"], query_id=qid, text=new_text,
                                   reason="real plans have a length limit", base_version_no=2)
    assert v3.version_no == 3 and v3.status == "pending"
    assert current_instruction(session=session, query_id=qid).version_no == 2  # pending is not current
    with pytest.raises(PermissionDenied, match="own edit"):
        review.review_edit(session=session, actor=people["exp1"], kind="instruction", version_id=v3.id, approve=True)
    with pytest.raises(PermissionDenied):
        review.review_edit(session=session, actor=people["ann1"], kind="instruction", version_id=v3.id, approve=True)
    review.review_edit(session=session, actor=people["exp2"], kind="instruction", version_id=v3.id, approve=True,
                      note="fine")
    assert current_instruction(session=session, query_id=qid).text == new_text
    assert session.get(Query, qid).content_revision == 2

    # prune: drop the heading "四、深化信用数据开发利用" as irrelevant (found in the original by hand)
    doc = split.document
    segments = segments_of(session=session, document_id=doc.id)
    target = next(s for s in segments if s.text == "四、深化信用数据开发利用")
    kept = [s.position for s in segments if s.position != target.position]
    preview = pruning.preview_pruning(session=session, document_id=doc.id, kept=kept)
    removed_chars = len("四、深化信用数据开发利用") + len(target.separator)
    assert preview.chars_before - preview.chars_after == removed_chars
    assert preview.tokens_before - preview.tokens_after == 12  # 11 CJK characters + "、" as one word
    with pytest.raises(InputError, match="reason must be one of"):
        pruning.propose_pruning(session=session, actor=people["exp2"], document_id=doc.id, kept=kept,
                              removals={target.position: "boring"}, base_version_no=1)
    with pytest.raises(InputError, match="keep or remove"):
        pruning.propose_pruning(session=session, actor=people["exp2"], document_id=doc.id, kept=kept[1:],
                              removals={target.position: "irrelevant"}, base_version_no=1)
    m2 = pruning.propose_pruning(session=session, actor=people["exp2"], document_id=doc.id, kept=kept,
                               removals={target.position: "irrelevant"}, base_version_no=1)
    assert m2.reason == "removed 1 irrelevant"
    review.review_edit(session=session, actor=people["exp1"], kind="material", version_id=m2.id, approve=True)

    # expected text built from the original with plain string operations
    boundary = original.index("供参考的政府文件:") + len("供参考的政府文件:")
    material = original[boundary:]
    heading = "四、深化信用数据开发利用" + target.separator
    assert material.count(heading) == 1
    expected = new_text + material.replace(heading, "")
    assert render_query_text(session=session, query_id=qid) == expected
    assert session.get(Query, qid).content_revision == 3

    # export, then re-import into a fresh database
    out, prov = tmp_path / "refined.jsonl", tmp_path / "prov.jsonl"
    report = export_refined(session=session, path=out, provenance_path=prov)
    assert (report.queries, report.changed) == (1000, 1)
    lines = out.read_text("utf-8").splitlines()
    source_lines = bench_file.read_text("utf-8").splitlines()
    changed = [i for i, (a, b) in enumerate(zip(lines, source_lines, strict=True)) if a != b]
    assert len(changed) == 1
    record = json.loads(lines[changed[0]])
    assert record["index"] == index and record["query"] == expected
    assert record["checklist"] == originals[index]["checklist"]
    provenance = [json.loads(line) for line in prov.read_text("utf-8").splitlines()]
    entry = next(p for p in provenance if p["index"] == index)
    assert entry["changed"] and entry["instruction"]["version_no"] == 3
    assert entry["instruction"]["author"] == "exp1" and entry["instruction"]["reviewer"] == "exp2"
    assert entry["instruction"]["reason"] == "real plans have a length limit"
    assert entry["materials"][0]["removals"] == {str(target.position): "irrelevant"}
    assert entry["materials"][0]["author"] == "exp2" and entry["materials"][0]["reviewer"] == "exp1"
    # the original benchmark is recoverable byte for byte from the provenance file
    rebuilt = []
    for line, p in zip(lines, provenance, strict=True):
        rec = json.loads(line)
        assert sha256_hex(p["original_query"]) == p["original_sha256"]
        rec["query"] = p["original_query"]
        rebuilt.append(json.dumps(rec, ensure_ascii=False))
    assert "\n".join(rebuilt) + "\n" == bench_file.read_text("utf-8")
    fresh = init_db(f"sqlite:///{tmp_path / 'reimport.db'}")
    with Session(fresh) as s2:
        rep = import_queries(session=s2, path=out)
        assert rep.inserted == 1000
        assert s2.exec(select(Query.original_text).where(Query.index == index)).one() == expected
    fresh.dispose()

    # history: who, when, why and a diff for each version
    history = query_history(session=session, query_id=qid)
    inst = [h for h in history if h.kind == "instruction"]
    assert [h.version_no for h in inst] == [1, 2, 3]
    assert inst[2].author == "exp1" and inst[2].reviewer == "exp2" and inst[2].reason.startswith("real plans")
    assert "+" in inst[2].diff and "不超过3000字" in inst[2].diff
    mat = [h for h in history if h.kind == "material"]
    assert [h.version_no for h in mat] == [1, 2] and "-四、深化信用数据开发利用" in mat[1].diff

    # revert both to their split versions (new versions, approved by the other expert) -> original again
    r_inst = instructions.revert_instruction(session=session, actor=people["exp2"], query_id=qid, to_version_no=2,
                                      reason="the limit was not in the brief", base_version_no=3)
    r_mat = pruning.revert_material(session=session, actor=people["exp2"], document_id=doc.id, to_version_no=1,
                                  reason="keep the full document", base_version_no=2)
    assert (r_inst.version_no, r_mat.version_no) == (4, 3)
    for kind, v in (("instruction", r_inst), ("material", r_mat)):
        review.review_edit(session=session, actor=people["exp1"], kind=kind, version_id=v.id, approve=True)
    assert render_query_text(session=session, query_id=qid) == original

    stats = {row["domain"]: row for row in edit_statistics.edit_statistics(session=session)}
    domain = originals[index]["domain1"]
    assert stats[domain]["instruction_approved"] == 2 and stats[domain]["material_approved"] == 2
    assert stats[domain]["edited_queries"] == 1 and stats[domain]["split_queries"] == 1
    assert sum(row["queries"] for row in stats.values()) == 1000


def test_cli_export_refined(session: Session, tmp_path: Path, bench_file: Path, capsys) -> None:
    url = str(session.get_bind().url)
    out, prov = tmp_path / "cli.jsonl", tmp_path / "cli_prov.jsonl"
    assert cli_main(["--db", url, "export", "refined", str(out), "--provenance", str(prov)]) == 0
    assert "1000 queries (0 changed)" in capsys.readouterr().out
    assert out.read_bytes() == bench_file.read_bytes()
    assert len(prov.read_text("utf-8").splitlines()) == 1000
    assert cli_main(["--db", url, "export", "refined", str(out), "--provenance", str(out)]) == 2
