"""`metaeval judge --perturb transfer`: genre rewrites scored like drop/repeat/shuffle."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from metaeval.cli import main
from tests.fixtures.scripted_openai_server import ScriptedServer

FIX = Path(__file__).resolve().parents[3] / "fixtures"


def _script(drops: bool):
    def answer(messages):
        user = next(m["content"] for m in messages if m["role"] == "user")
        if user.startswith("Rewrite the text below as a"):
            genre = re.match(r"Rewrite the text below as a (.+?)\. Keep", user).group(1)
            return f"[{genre.upper()}] rewritten"
        if not drops:
            return json.dumps({"score": 8, "reason": "same"})
        return json.dumps({"score": 3 if "rewritten" in user else 8, "reason": "genre"})
    return answer


@pytest.mark.parametrize("drops", [True, False])
def test_transfer_rows_and_flag(tmp_path, capsys, drops):
    srv = ScriptedServer(_script(drops)).start()
    try:
        rc = main(["judge", "--method", "static-global", "--judge", f"j=openai-compatible:{srv.base_url}@j",
                   "--queries", str(FIX / "judge_queries.jsonl"), "--responses", str(FIX / "judge_responses.jsonl"),
                   "--static-global", str(FIX / "judge_static_global.json"), "--output", str(tmp_path / "o"),
                   "--perturb", "transfer", "--genres", "poem,letter", "--bootstrap", "200", "--no-progress"])
    finally:
        srv.stop()
    assert rc == 0
    rewrites = [u for u in srv.first_users() if u.startswith("Rewrite the text below")]
    assert len(rewrites) == 12  # 4 queries x 3 models, genres cycled
    assert sum("as a poem." in u for u in rewrites) == 6 and sum("as a letter." in u for u in rewrites) == 6
    rows = json.loads((tmp_path / "o" / "j__static-global.robustness.json").read_text())["rows"]
    assert [r["kind"] for r in rows] == ["transfer"]
    # By hand: every criterion scores 8 on the original and 3 on a rewrite (or 8 when the judge ignores
    # the genre): mean change -5 (0) over 12 responses; a judge whose score does not drop is flagged.
    assert rows[0]["n"] == 12
    assert rows[0]["mean_change"] == pytest.approx(-5.0 if drops else 0.0)
    assert rows[0]["flagged"] is (not drops)
