"""Collect materials: the query picked stays picked after a material is saved for it (its
counts change, its index does not), the bug class of a widget whose options change under it."""

from __future__ import annotations

from sqlmodel import Session, select

from annotate.db.models import MaterialDocument, Query, User
from annotate.services.core.taxonomy import seed_taxonomy, subdomain_index
from tests.fixtures.apptest import button, page


def test_the_picked_query_stays_after_saving(engine, db_url, monkeypatch) -> None:
    monkeypatch.setenv("ANNOTATE_DB_URL", db_url)
    with Session(engine, expire_on_commit=False) as s:
        seed_taxonomy(s)
        sub = next(iter(subdomain_index(s).values()))
        for index in (900001, 900002):
            s.add(Query(index=index, subdomain_id=sub, lang="en", original_text=f"Query {index}.",
                        needs_materials=True, material_requirement=f"a report for {index}"))
        ann = User(username="ann1", role="annotator", password_hash="x")
        s.add(ann)
        s.commit()
    at = page(ann.id, "refine/collect_materials.py")
    at.selectbox(key="collect_query").select(900002).run()
    at.text_input(key="collect_title").set_value("Report").run()
    at.text_input(key="collect_source").set_value("https://example.org").run()
    at.text_input(key="collect_license").set_value("CC BY 4.0").run()
    at.text_area(key="collect_text").set_value("One.\n\nTwo.").run()
    button(at, "Save the material").click().run()
    assert not at.exception
    assert at.selectbox(key="collect_query").value == 900002
    with Session(engine) as s:
        doc = s.exec(select(MaterialDocument)).one()
        assert s.get(Query, doc.query_id).index == 900002
