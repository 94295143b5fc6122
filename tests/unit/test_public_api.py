"""The public surface is deliberate: names don't drift, and importing stays light."""

from __future__ import annotations

import subprocess
import sys

import rapportnotes

EXPECTED = {
    "DAP", "LABELS", "SOAP", "Cue", "CueExtractor", "ExportError", "Exporter", "InputError",
    "MeasureError", "Note", "NoteFormat", "NoteSection", "PluginError", "RapportNotesError",
    "SectionSpec", "SessionObservation", "SourceRef", "Statement", "TemplateError",
    "__version__", "build_note", "export", "exporters", "extract_cues", "formats",
    "load_history", "load_session", "parse_session", "render", "session_cues", "write_atomic",
    "AcceptancePolicy", "Decision", "PlanPrompt", "ReviewState", "Suggestion",
    "apply_decisions", "decide", "provenance", "review_state", "suggest",
}


def test_all_is_stable():
    assert len(rapportnotes.__all__) == len(set(rapportnotes.__all__))
    assert set(rapportnotes.__all__) == EXPECTED
    for name in EXPECTED:
        assert getattr(rapportnotes, name) is not None


def test_version_comes_from_metadata():
    from importlib.metadata import version

    assert rapportnotes.__version__ == version("rapportnotes")


def test_rendering_path_never_imports_spacy(tmp_path):
    """Validate + assemble + export without extraction must not pay spaCy's import cost."""
    code = (
        "import sys, rapportnotes as r;"
        "from tests.conftest import EXAMPLES;"
        "obs = r.load_session(sorted(EXAMPLES.glob('*.json'))[0]);"
        "r.render(r.build_note(obs, extract=False), 'docx');"
        "print(sorted(m for m in sys.modules if m == 'spacy' or m.startswith('spacy.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=str(__import__("tests.conftest").conftest.ROOT))
    assert out.stdout.strip() == "[]"


def test_unknown_attribute_raises_attribute_error():
    try:
        rapportnotes.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("expected AttributeError")
