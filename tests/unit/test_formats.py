"""Formats as data: BIRP, GIRP and PIE built in; block names checked at registration;
the format decides where the measures table and chart go."""

from __future__ import annotations

import pytest

from rapportnotes import build_note, load_history
from rapportnotes.errors import PluginError
from rapportnotes.formats import RAPPORT_TITLE, NoteFormat, SectionSpec, formats
from tests.conftest import ROOT


@pytest.mark.parametrize(("name", "titles"), [
    ("birp", ["Behavior", "Intervention", "Response", RAPPORT_TITLE, "Plan"]),
    ("girp", ["Goals", "Intervention", "Response", RAPPORT_TITLE, "Plan"]),
    ("pie", ["Problem", "Intervention", "Evaluation", RAPPORT_TITLE, "Plan"]),
])
def test_builtin_formats(name, titles, example_paths):
    from rapportnotes.io import load_session

    note = build_note(load_session(example_paths[0]), format=name, extract=False)
    assert [s.title for s in note.sections] == titles
    leads = {st.lead for s in note.sections for st in s.statements}
    assert {"Risk", "Treatment", "Clinical assessment"} <= leads  # payer content kept


def test_unknown_block_is_refused_at_registration():
    bad = NoteFormat(name="bad", title="Bad", sections=(SectionSpec("x", "X", ("nope",)),))
    with pytest.raises((PluginError, ValueError), match="unknown block"):
        formats.register("bad-format", bad)
    assert "bad-format" not in formats.names()


def test_the_format_places_the_measures_table():
    *earlier, latest = load_history(ROOT / "examples" / "history" / "drifting.json")
    fmt = NoteFormat(name="tables-in-plan", title="T", sections=(
        SectionSpec("rapport", RAPPORT_TITLE, ("rapport",), extras=False),
        SectionSpec("plan", "Plan", ("plan",), extras=True)))
    note = build_note(latest, history=earlier, format=fmt, extract=False)
    assert not note.section("rapport").tables and note.section("plan").tables
    assert note.section("plan").chart
