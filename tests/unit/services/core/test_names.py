"""Names that spoof: study names, material titles and audit causes.

Each hostile name below is refused with a message naming the
character or the look-alike, and ``annotate study list`` prints one line per study even for a
name stored before these rules.
"""

from __future__ import annotations

import pytest
from sqlmodel import select

from annotate.commands.cli import main as annotate_main
from annotate.db.engine import session_scope
from annotate.db.models import MaterialDocument, Study
from annotate.services.core.errors import Conflict, InputError
from annotate.services.core.names import clean_name, skeleton
from annotate.services.judges import audit_tags
from annotate.services.refine import materials
from annotate.services.studies.design import StudyDesign, create_study
from tests.fixtures.study_factory import make_benchmark, make_users

SPEC = {("D", "S1"): {1: ["m1", "m2"], 2: ["m1", "m2"]}}

HIDDEN = [
    ("demo\u202estudy", "U+202E"),   # right-to-left override
    ("demo\u200bstudy", "U+200B"),   # zero-width space
    ("\u200b", "U+200B"),            # nothing but a zero-width space
    ("demo\nstudy", "U+000A"),       # newline
    ("demo\tstudy", "U+0009"),
    ("demo\u2066study", "U+2066"),   # left-to-right isolate
    ("demo\u00adstudy", "U+00AD"),   # soft hyphen
    ("demo\ufeffstudy", "U+FEFF"),
    ("demo\u3164study", "U+3164"),   # Hangul filler, a letter that draws nothing
]


@pytest.mark.parametrize(("raw", "code"), HIDDEN)
def test_hidden_characters_are_refused(raw, code):
    with pytest.raises(InputError, match=code.replace("+", r"\+")):
        clean_name(raw, what="study name", max_len=80)


def test_length_and_emptiness_and_nfc():
    with pytest.raises(InputError, match="10,000 characters; the limit is 80"):
        clean_name("x" * 10_000, what="study name", max_len=80)
    with pytest.raises(InputError, match="empty"):
        clean_name(" \u00a0 ", what="study name", max_len=80)
    with pytest.raises(InputError, match="letter or digit"):
        clean_name("---", what="study name", max_len=80)
    # "e" + COMBINING ACUTE ACCENT is NFC-composed to the one letter U+00E9
    assert clean_name("Cafe\u0301  study", what="study name", max_len=80) == "Caf\u00e9 study"


@pytest.mark.parametrize("spoof", [
    "d\u0435mo-study",            # Cyrillic small ie
    "dem\u043e-stud\u0443",       # Cyrillic o and small u (it looks like y)
    "dem\u03bf-study",            # Greek omicron
    "DEMO-STUDY",
    "\uff44\uff45\uff4d\uff4f-study",  # full-width letters
    "demo\u2010study",            # hyphen U+2010
])
def test_look_alikes_share_a_skeleton(spoof):
    from annotate.services.core.names import folded_skeleton

    assert skeleton(spoof) == skeleton("demo-study") or folded_skeleton(spoof) == folded_skeleton("demo-study")


def test_distinct_names_keep_distinct_skeletons():
    assert skeleton("demo-study") != skeleton("demo-study-2")
    assert skeleton("pilot") != skeleton("pilots")


@pytest.fixture()
def world(engine):
    with session_scope(engine) as s:
        make_benchmark(s, SPEC)
        people = make_users(s, ["a1", "a2"]) | make_users(s, ["res"], role="researcher")
        create_study(session=s, actor=people["res"], design=StudyDesign(
            name="demo-study", per_subdomain=1, overlap=1, annotators=["a1"], seed=1))
    return engine, people


def _design(name: str) -> StudyDesign:
    return StudyDesign(name=name, per_subdomain=1, overlap=1, annotators=["a2"], seed=2)


def test_create_study_refuses_spoofs_and_hidden_characters(world):
    engine, people = world
    with session_scope(engine) as s:
        with pytest.raises(Conflict, match="looks the same as the existing study 'demo-study'"):
            create_study(session=s, actor=people["res"], design=_design("d\u0435mo-stud\u0443"))
        with pytest.raises(InputError, match="U\\+202E"):
            create_study(session=s, actor=people["res"], design=_design("demo\u202eyduts"))
        create_study(session=s, actor=people["res"], design=_design("  second  study "))
        assert sorted(s.exec(select(Study.name)).all()) == ["demo-study", "second study"]


def test_cli_refuses_a_spoofed_study_name(world, db_url, capsys):
    args = ["--db", db_url, "study", "create", "DEMO-STUDY", "--per-subdomain", "1", "--overlap", "1",
            "--annotators", "a2"]
    assert annotate_main(args) == 2
    assert "looks the same" in capsys.readouterr().err


def test_study_list_prints_one_line_per_study_for_old_odd_names(world, db_url, capsys):
    engine, _people = world
    with session_scope(engine) as s:  # stored before the rules existed
        s.add(Study(name="old\nname\u202e", kind="pairwise", settings={}))
        s.commit()
    assert annotate_main(["--db", db_url, "study", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and any("\told\\u000aname\\u202e\t" in line for line in lines)


def test_audit_causes(world):
    engine, people = world
    with session_scope(engine) as s:
        with pytest.raises(Conflict, match="'length bias'"):
            audit_tags.add_cause(session=s, actor=people["res"], name="l\u0435ngth bias")  # Cyrillic e
        with pytest.raises(InputError, match="U\\+200B"):
            audit_tags.add_cause(session=s, actor=people["res"], name="odd\u200b")
        assert audit_tags.add_cause(session=s, actor=people["res"], name="verbosity").name == "verbosity"


def test_material_titles(world):
    engine, people = world
    with session_scope(engine) as s:
        qid = s.exec(select(MaterialDocument.query_id)).first() or 1
        kwargs = {"session": s, "actor": people["a1"], "query_id": qid, "text": "Some source text.",
                  "source_url": "https://example.org/report", "license_note": "CC BY"}
        materials.add_material(title="Annual report", **kwargs)
        with pytest.raises(Conflict, match="looks the same"):
            materials.add_material(title="Annu\u0430l rep\u043ert", **kwargs)
        with pytest.raises(InputError, match="U\\+202E"):
            materials.add_material(title="\u202etroper", **kwargs)
        with pytest.raises(InputError, match="the limit is 200"):
            materials.add_material(title="t" * 201, **kwargs)


def test_split_material_title(world):
    engine, _people = world
    with session_scope(engine) as s:
        expert = make_users(s, ["exp"], role="expert")["exp"]
        qid = s.exec(select(MaterialDocument.query_id)).first() or 1
        with pytest.raises(InputError, match="U\\+200B"):
            materials.confirm_split(session=s, actor=expert, query_id=qid, boundary=5, base_version_no=1,
                                    title="\u200b")
        assert s.exec(select(MaterialDocument)).all() == []


def test_study_list_caps_a_10000_character_old_name(world, db_url, capsys):
    """A 10,000-character name stored before the cap is listed on one short line, cut with "…"."""
    engine, _people = world
    with session_scope(engine) as s:
        s.add(Study(name="L" * 10_000, kind="pairwise", settings={}))
        s.commit()
    assert annotate_main(["--db", db_url, "study", "list"]) == 0
    line = next(ln for ln in capsys.readouterr().out.splitlines() if "\tLLL" in ln)
    name = line.split("\t")[1]
    assert name == "L" * 79 + "…"  # 80 characters shown (names.SHOWN_MAX), the last one the ellipsis


def test_shown_names_tell_look_alikes_apart():
    from annotate.services.core.names import shown_names

    shown = shown_names({1: "demo-study", 2: "d\u0435mo-study", 3: "DEMO-STUDY", 4: "pilot", 5: "a\u200b",
                         6: "demo\u202e-study"})
    assert shown[4] == "pilot" and shown[5] == "a\\u200b"
    assert [shown[i] for i in (1, 2, 3, 6)] == ["demo-study (study #1)", "d\u0435mo-study (study #2)",
                                                "DEMO-STUDY (study #3)", "demo\\u202e-study (study #6)"]
