"""PDF from the note model (extra [pdf])."""

from __future__ import annotations

import sys

import pytest

from rapportnotes import build_note, load_session, parse_session, render
from rapportnotes.errors import ExportError
from tests.conftest import EXAMPLES

pytest.importorskip("fpdf")


@pytest.mark.parametrize("name", sorted(p.stem for p in EXAMPLES.glob("*.json")))
def test_every_example_exports_to_pdf_deterministically(name):
    note = build_note(load_session(EXAMPLES / f"{name}.json"), extract=False)
    data = render(note, "pdf")
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    assert render(note, "pdf") == data  # same note, same bytes


def test_draft_pdf_is_marked_and_hostile_text_stays_text():
    import json

    raw = json.loads((EXAMPLES / "dropout-risk.json").read_text())
    raw["subjective"]["report"] = "**bold?** __x__ -- <b>& ☃ 𝄞 مرحبا"
    note = build_note(parse_session(raw), draft=True, extract=False)
    data = render(note, "pdf")
    assert data.startswith(b"%PDF-") and len(data) > 5000


def test_missing_fpdf_gives_the_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "fpdf", None)
    note = build_note(load_session(EXAMPLES / "dropout-risk.json"), extract=False)
    with pytest.raises(ExportError, match=r"pip install 'rapportnotes\[pdf\]'"):
        render(note, "pdf")
