"""Sign, verify, amend: a signed record is immutable, an addendum chains to it."""

from __future__ import annotations

import io
import json
from datetime import datetime

import docx

from rapportnotes import build_note, load_session, render
from rapportnotes.cli import main
from rapportnotes.signing import add_addendum, sign, verify
from tests.conftest import EXAMPLES

SESSION = EXAMPLES / "adult-cbt-withdrawal-repaired.json"


def _record():
    obs = load_session(SESSION)
    note = build_note(obs, extract=False)
    return note, sign(note, signer=obs.clinician.name, credentials=obs.clinician.credentials,
                      at=obs.signed_at)


def test_sign_then_verify_and_render_byte_for_byte():
    note, record = _record()
    assert verify(record) == []
    for kind in ("md", "txt", "html", "docx"):
        assert render(record.as_note(), kind) == render(note, kind)  # as signed


def test_a_one_byte_change_fails_verification():
    _, record = _record()
    data = json.loads(json.dumps(record.note))
    data["sections"][0]["statements"][0]["text"] += "."
    assert "changed after signing" in verify(record.model_copy(update={"note": data}))[0]


def test_an_addendum_keeps_the_original_verifiable_and_renders_everywhere():
    _, record = _record()
    amended = add_addendum(record, author="Priya Raman", credentials="PsyD",
                           at=datetime(2026, 3, 18, 9, 0), reason="Late entry",
                           text="Client called to confirm the smaller target <ok> & fine.")
    assert verify(amended) == [] and amended.note_sha256 == record.note_sha256
    assert amended.addenda[0].prev_sha256 == record.note_sha256
    shown = amended.as_note()
    for kind in ("md", "txt", "html"):
        text = render(shown, kind).decode()
        assert "Addendum 1" in text.replace("ADDENDUM", "Addendum")
        assert "2026-03-18 09:00" in text and "Late entry" in text
    assert "&lt;ok&gt; &amp; fine" in render(shown, "html").decode()
    d = docx.Document(io.BytesIO(render(shown, "docx")))
    assert any(p.text.startswith("Addendum 1 — 2026-03-18 09:00") for p in d.paragraphs)
    tampered = amended.model_copy(update={"addenda": (amended.addenda[0].model_copy(
        update={"text": "changed"}),)})
    assert verify(tampered) == ["addenda[0] does not match its SHA-256"]
    again = add_addendum(amended, author="P", at=datetime(2026, 3, 19), reason="r", text="t")
    assert again.addenda[1].prev_sha256 == amended.addenda[0].sha256 and verify(again) == []


def test_a_draft_cannot_be_signed():
    import pytest

    from rapportnotes.errors import InputError

    obs = load_session(SESSION)
    with pytest.raises(InputError, match="draft"):
        sign(build_note(obs, extract=False, draft=True), signer="x", credentials=None,
             at=datetime(2026, 3, 17))


def test_cli_sign_verify_addendum_render(tmp_path, capsys):
    rec = tmp_path / "record.json"
    assert main(["sign", str(SESSION), "--no-extract", "-o", str(rec)]) == 0
    assert main(["verify", str(rec)]) == 0
    assert main(["addendum", str(rec), "--author", "Priya Raman", "--reason", "Correction",
                 "--text", "Session number is 7, not 6."]) == 0
    assert main(["verify", str(rec)]) == 0
    out = tmp_path / "note.md"
    assert main(["render", str(rec), "-o", str(out)]) == 0
    first = out.read_bytes()
    assert main(["render", str(rec), "-o", str(out)]) == 0
    assert out.read_bytes() == first and b"Correction" in first
    data = json.loads(rec.read_text())
    data["note"]["client_id"] = "R-9999"
    rec.write_text(json.dumps(data))
    capsys.readouterr()
    assert main(["verify", str(rec)]) == 1
    assert "changed after signing" in capsys.readouterr().out
