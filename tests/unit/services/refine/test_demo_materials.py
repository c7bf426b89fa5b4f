"""The demo's material documents: two queries get a separate, verified material each, a
rebuild adds nothing twice, and a bad line names the file, the line and the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import Session, select

from annotate.commands.serve import DEMO_DIR, build_demo
from annotate.db.engine import make_engine
from annotate.db.models import MaterialDocument, Query, User
from annotate.services.core.errors import InputError
from annotate.services.refine.demo_materials import seed_demo_materials
from annotate.services.refine.versions import collection_excluded, segments_of

pytestmark = pytest.mark.usefixtures("cheap_hashing")


def test_demo_build_adds_two_verified_materials_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    notes = build_demo(url, "demo-password")
    assert "demo materials: 2 added (materials.jsonl)" in notes
    engine = make_engine(url)
    with Session(engine) as s:
        names = {u.id: u.username for u in s.exec(select(User))}
        docs = s.exec(select(MaterialDocument, Query.index).join(Query, Query.id == MaterialDocument.query_id)
                      .order_by(Query.index)).all()
        assert [index for _d, index in docs] == [900013, 900014]
        for doc, _index in docs:
            assert (doc.status, doc.origin) == ("active", "collected")
            assert (names[doc.collector_id], names[doc.verified_by_id]) == ("annotator1", "expert2")
        # materials.jsonl leaves paragraph 4 (the canteen notice) of 900014 out at collection
        assert collection_excluded(session=s, document_id=docs[1][0].id) == {4}
        assert len(segments_of(session=s, document_id=docs[1][0].id)) == 7
    engine.dispose()
    assert "demo materials: 0 added (materials.jsonl)" in build_demo(url, "demo-password")


def test_a_bad_material_line_names_file_line_and_field(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    build_demo(url, "demo-password")
    good = json.loads((DEMO_DIR / "materials.jsonl").read_text("utf-8").splitlines()[0])
    cases = [({**good, "title": "New title", "left_out": [99]}, "left_out"),
             ({k: v for k, v in good.items() if k != "source_url"}, "source_url"),
             ({**good, "index": 12345678}, "index")]
    engine = make_engine(url)
    for record, field in cases:
        path = tmp_path / "materials.jsonl"
        path.write_text(json.dumps({**good, "title": "other"}) + "\n" + json.dumps(record) + "\n", "utf-8")
        with Session(engine) as s:
            people = {u.username: u for u in s.exec(select(User))}
            before = len(s.exec(select(MaterialDocument)).all())
            with pytest.raises(InputError) as info:
                seed_demo_materials(session=s, path=path, collector=people["annotator1"], verifier=people["expert2"])
            assert (info.value.path, info.value.line, info.value.field) == (str(path), 2, field)
            # every line is checked before any is written: line 1 (a new title) is not written either
            assert len(s.exec(select(MaterialDocument)).all()) == before
    engine.dispose()
