"""The .docx exporter: real structure, metadata, determinism, hostile text."""

from __future__ import annotations

import io
import zipfile

import docx
import pytest

from rapportnotes.api import build_note, render
from rapportnotes.io import load_session
from rapportnotes.models import SessionObservation
from rapportnotes.notes import Statement
from tests.conftest import ROOT


@pytest.fixture
def docx_bytes(example_paths):
    obs = load_session(next(p for p in example_paths if "dropout" in p.name))
    return render(build_note(obs, extract=False), "docx")


def _headings(d):
    return [(p.style.name, p.text) for p in d.paragraphs if p.style.name.startswith(
        ("Heading", "Title"))]


def test_structure(docx_bytes):
    d = docx.Document(io.BytesIO(docx_bytes))
    heads = _headings(d)
    assert heads[0] == ("Title", "Psychotherapy Progress Note — SOAP")
    assert [t for s, t in heads if s == "Heading 1"] == [
        "Subjective", "Objective", "Assessment", "Rapport & Therapeutic Alliance", "Plan"]
    header = d.tables[0]
    labels = [row.cells[0].text for row in header.rows]
    assert labels == ["Client", "Date / time", "Session", "Clinician", "Service", "Diagnoses"]
    assert len(d.tables) == 1  # no history: each measure is told once, in its line
    assert any(p.text.startswith("Alliance measures: ") for p in d.paragraphs)
    bullets = [p for p in d.paragraphs if p.style.name in ("List Bullet", "List Bullet 2")]
    assert len(bullets) > 5


def test_rapport_section_is_not_empty(docx_bytes):
    d = docx.Document(io.BytesIO(docx_bytes))
    texts = [p.text for p in d.paragraphs]
    start = texts.index("Rapport & Therapeutic Alliance")
    end = texts.index("Plan")
    body = [t for t in texts[start + 1:end] if t.strip()]
    assert any(t.startswith("Rupture:") for t in body)
    assert any(t.startswith("Alliance plan") for t in body)


def test_core_properties_and_footer(docx_bytes):
    d = docx.Document(io.BytesIO(docx_bytes))
    cp = d.core_properties
    assert cp.author == "Rachel Feldman"
    assert cp.title.startswith("Psychotherapy Progress Note — SOAP — R-1459")
    footer_xml = d.sections[0].footer._element.xml
    assert "PAGE" in footer_xml and "NUMPAGES" in footer_xml
    sig = [p.text for p in d.paragraphs if p.text.startswith("Clinician signature")]
    assert sig == ["Clinician signature: Rachel Feldman, LPC"]


def test_output_is_byte_identical_across_runs(example_paths):
    obs = load_session(example_paths[0])
    a = render(build_note(obs, extract=False), "docx")
    b = render(build_note(obs, extract=False), "docx")
    assert a == b
    assert zipfile.ZipFile(io.BytesIO(a)).testzip() is None


def test_hostile_text_does_not_break_the_document(minimal):
    minimal["subjective"] = {"report": "Tab\there <b>&amp; ☃ 𝄞 مرحبا \u202e reversed"}
    note = build_note(SessionObservation.model_validate(minimal), extract=False)
    # A plugin could inject raw control characters after validation; the exporter copes.
    sec = note.sections[0]
    bad = sec.model_copy(update={"statements": (*sec.statements,
                                                Statement(text="ctrl\x00\x07\x1b chars"))})
    note = note.model_copy(update={"sections": (bad, *note.sections[1:])})
    d = docx.Document(io.BytesIO(render(note, "docx")))
    text = "\n".join(p.text for p in d.paragraphs)
    assert "<b>&amp; ☃ 𝄞 مرحبا" in text
    assert "ctrl chars" in text


def test_history_note_embeds_chart_and_at_risk_reasons():
    pytest.importorskip("matplotlib")
    from rapportnotes.io import load_history
    from tests.conftest import ROOT

    *earlier, latest = load_history(ROOT / "examples" / "history" / "drifting.json")
    d = docx.Document(io.BytesIO(render(build_note(latest, history=earlier, extract=False),
                                        "docx")))
    assert len(d.inline_shapes) == 1
    at_risk = [p.text for p in d.paragraphs if p.text.startswith("Alliance at risk")]
    assert len(at_risk) == 1 and "below the 36 cutoff" in at_risk[0]
    assert any(t.rows[0].cells[0].text == "Session" for t in d.tables[1:])
    captions = [t.rows[0].cells[0].text for t in d.tables]
    assert "Session" in captions  # the trend table travels with the chart


def test_steady_history_is_not_flagged():
    from rapportnotes.io import load_history
    from tests.conftest import ROOT

    *earlier, latest = load_history(ROOT / "examples" / "history" / "steady.json")
    note = build_note(latest, history=earlier, extract=False)
    leads = [s.lead for s in note.section("rapport").statements]
    assert "ALLIANCE AT RISK" not in leads and "Alliance trajectory" in leads


def test_note_facts_carry_values_not_display_strings():
    from rapportnotes import build_note, load_session

    note = build_note(load_session(ROOT / "examples" / "sessions" / "dropout-risk.json"),
                      extract=False)
    f = note.facts
    srs = next(m for m in f.measures if m.measure == "srs")
    assert (srs.total, srs.total_max, srs.cutoff, srs.interpretation) == (
        23.7, 40.0, 36.0, "below_cutoff")
    assert srs.items[2] == ("Approach or Method", 4.8, 10.0)
    assert f.cpt_code == "90834" and f.duration_minutes == 40 and f.place_of_service == "53"
    si = next(r for r in f.risk if r.domain == "suicidal_ideation")
    assert (si.assessed, si.reported) == (True, "passive")
    assert [r.outcome for r in f.ruptures] == ["no", "no"]
    assert f.minutes_late == 18


def test_exporters_are_found_by_declared_extension(tmp_path):
    from rapportnotes.cli import main
    from rapportnotes.exporters import exporter_for_extension, exporters

    class Fancy:
        name, extension, binary, description = "fancy", ".fnc", False, "test"

        def export(self, note, *, template_dirs=()):
            return b"fancy " + note.client_id.encode()

    exporters.register("fancy", Fancy())
    try:
        assert exporter_for_extension("fnc") == "fancy"
        assert exporter_for_extension(".docx") == "docx"
        out = tmp_path / "note.fnc"
        assert main(["render", str(ROOT / "examples" / "sessions" / "dropout-risk.json"),
                     "--no-extract", "-o", str(out)]) == 0
        assert out.read_bytes() == b"fancy R-1459"
    finally:
        exporters.unregister("fancy")
