"""``annotate users ...`` and ``annotate demo --no-serve`` from the command line (in process)."""

from __future__ import annotations

import getpass
import sys

import pytest

from annotate.commands import serve
from annotate.commands.cli import main
from annotate.db.engine import make_engine, session_scope
from annotate.services.accounts import users

SECRET = "cli-secret-password"


pytestmark = pytest.mark.usefixtures("cheap_hashing")  # fast argon2 (tests/conftest.py)


def login(db_url, name, password):
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as session:
            return users.authenticate(session=session, username=name, password=password)
    finally:
        engine.dispose()


def test_add_user_with_password_from_environment(db_url, monkeypatch, capsys, caplog):
    monkeypatch.setenv("ANNOTATE_PASSWORD", SECRET)
    assert main(["--db", db_url, "users", "add", "Olga", "--role", "expert"]) == 0
    out = capsys.readouterr()
    assert "created olga (expert)" in out.out
    assert SECRET not in out.out + out.err + caplog.text  # never echoed or logged
    assert login(db_url, "olga", SECRET).role == "expert"


def test_add_user_prompts_twice_without_echo(db_url, monkeypatch, capsys):
    monkeypatch.delenv("ANNOTATE_PASSWORD", raising=False)
    answers = iter([SECRET, SECRET])
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": next(answers))
    assert main(["--db", db_url, "users", "add", "pat", "--role", "annotator"]) == 0
    assert login(db_url, "pat", SECRET) is not None
    answers = iter([SECRET, SECRET + "typo"])
    assert main(["--db", db_url, "users", "add", "quinn", "--role", "annotator"]) == 2
    assert "differ" in capsys.readouterr().err
    assert login(db_url, "quinn", SECRET) is None


def test_cli_errors_are_one_line(db_url, monkeypatch, capsys):
    monkeypatch.setenv("ANNOTATE_PASSWORD", "short")
    assert main(["--db", db_url, "users", "add", "rita", "--role", "admin"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("annotate: error:") and "password" in err and "short" not in err.split(":", 2)[2]
    monkeypatch.setenv("ANNOTATE_PASSWORD", SECRET)
    assert main(["--db", db_url, "users", "add", "rita", "--role", "admin"]) == 0
    assert main(["--db", db_url, "users", "add", "RITA", "--role", "admin"]) == 2
    assert "taken" in capsys.readouterr().err


def test_list_deactivate_and_set_password(db_url, monkeypatch, capsys):
    monkeypatch.setenv("ANNOTATE_PASSWORD", SECRET)
    main(["--db", db_url, "users", "add", "sam", "--role", "annotator"])
    main(["--db", db_url, "users", "add", "root", "--role", "admin"])
    assert main(["--db", db_url, "users", "deactivate", "sam"]) == 0
    capsys.readouterr()
    assert main(["--db", db_url, "users", "list"]) == 0
    assert capsys.readouterr().out.splitlines() == ["root\tadmin\tactive", "sam\tannotator\tdeactivated"]
    assert login(db_url, "sam", SECRET) is None
    main(["--db", db_url, "users", "activate", "sam"])
    monkeypatch.setenv("ANNOTATE_PASSWORD", "another-password")
    assert main(["--db", db_url, "users", "set-password", "sam"]) == 0
    assert login(db_url, "sam", "another-password") is not None


def test_streamlit_command_is_headless_without_usage_stats():
    cmd = serve.streamlit_command(8765)
    assert cmd[:4] == [sys.executable, "-m", "streamlit", "run"]
    assert cmd[4].endswith("annotate/asgi.py")  # st.App: the UI plus the JSON API
    joined = " ".join(cmd)
    assert "--server.port 8765" in joined and "--server.headless true" in joined
    assert "--browser.gatherUsageStats false" in joined


def test_relative_sqlite_url_made_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert serve.absolute_sqlite_url("sqlite:///var/x.db") == f"sqlite:///{tmp_path}/var/x.db"
    assert serve.absolute_sqlite_url("sqlite:////abs/x.db") == "sqlite:////abs/x.db"


def test_demo_builds_accounts_and_is_repeatable(db_url, monkeypatch, capsys):
    if not (serve.DEMO_DIR / "queries.jsonl").is_file():
        pytest.skip("annotate/data/demo/queries.jsonl not written yet")
    monkeypatch.setenv("ANNOTATE_DEMO_PASSWORD", "demo-test-password")
    for _ in range(2):  # a second run refreshes instead of failing
        assert main(["--db", db_url, "demo", "--no-serve"]) == 0
    out = capsys.readouterr().out
    assert "demo-test-password" in out  # the demo password is printed on purpose
    for name, role in serve.DEMO_ACCOUNTS:
        assert name in out
        assert login(db_url, name, "demo-test-password").role == role
