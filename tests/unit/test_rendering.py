"""Templates: built-ins, user overrides, extension, sandbox, escaping."""

from __future__ import annotations

import html.parser

import pytest

from rapportnotes.api import build_note, render
from rapportnotes.errors import TemplateError
from rapportnotes.models import SessionObservation


@pytest.fixture
def note(minimal):
    minimal["subjective"] = {"report": "Client said <script>alert(1)</script> & *laughed*.",
                             "quotes": ["I'm <fine> & | ok"]}
    minimal["rapport"] = {"ruptures": [{"kind": "confrontation",
                                        "markers": ["confrontation.complaint_therapist"],
                                        "repairs": ["repair.invite_discussion"],
                                        "resolved": "partly"}]}
    return build_note(SessionObservation.model_validate(minimal), extract=False)


def test_markdown_has_sections_and_escapes_markup(note):
    md = render(note, "md").decode()
    assert md.startswith("# Psychotherapy Progress Note — SOAP\n")
    for title in ("## Subjective", "## Objective", "## Assessment",
                  "## Rapport & Therapeutic Alliance", "## Plan"):
        assert title in md
    assert r"\*laughed\*" in md and r"\<script\>" in md
    assert "Outcome: partly resolved" in md


def test_text_is_wrapped(note):
    txt = render(note, "txt").decode()
    assert "RAPPORT & THERAPEUTIC ALLIANCE" in txt
    assert max(len(line) for line in txt.splitlines()) <= 100


class _Collector(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)


def test_html_autoescapes_client_text(note):
    out = render(note, "html").decode()
    assert "<script>alert(1)</script>" not in out
    assert "&lt;script&gt;" in out
    parser = _Collector()
    parser.feed(out)
    assert "script" not in parser.tags
    assert parser.tags.count("h2") == 5


def test_user_template_overrides_and_extends_builtin(note, tmp_path):
    (tmp_path / "note.md.j2").write_text(
        '{% extends "builtin:note.md.j2" %}'
        "{% block signature %}CLINIC FOOTER {{ note.client_id }}\n{% endblock %}",
        encoding="utf-8")
    md = render(note, "md", template_dirs=[tmp_path]).decode()
    assert md.rstrip().endswith("CLINIC FOOTER T-0001")
    assert "## Rapport & Therapeutic Alliance" in md  # inherited blocks remain


def test_format_specific_template_wins(note, tmp_path):
    (tmp_path / "soap").mkdir()
    (tmp_path / "soap" / "note.txt.j2").write_text("SOAP ONLY {{ note.format }}\n")
    (tmp_path / "note.txt.j2").write_text("GENERIC\n")
    assert render(note, "txt", template_dirs=[tmp_path]).decode() == "SOAP ONLY soap\n"


def test_sandbox_blocks_attribute_escape(note, tmp_path):
    (tmp_path / "note.md.j2").write_text(
        "{{ ''.__class__.__mro__[1].__subclasses__() }}", encoding="utf-8")
    with pytest.raises(TemplateError, match=r"sandbox|unsafe"):
        render(note, "md", template_dirs=[tmp_path])


def test_templates_get_plain_data_not_objects(note, tmp_path):
    (tmp_path / "note.md.j2").write_text("{{ note.section('plan') }}", encoding="utf-8")
    with pytest.raises(TemplateError):
        render(note, "md", template_dirs=[tmp_path])


def test_strict_undefined_names_the_template(note, tmp_path):
    (tmp_path / "note.md.j2").write_text("line one\n{{ note.no_such_field }}\n")
    with pytest.raises(TemplateError, match=r"note\.md\.j2:2|no_such_field"):
        render(note, "md", template_dirs=[tmp_path])


def test_missing_template_dir(note, tmp_path):
    with pytest.raises(TemplateError, match="does not exist"):
        render(note, "md", template_dirs=[tmp_path / "nope"])


def test_shipped_clinic_template_example(note):
    from tests.conftest import ROOT

    md = render(note, "md", template_dirs=[ROOT / "examples" / "templates" / "clinic"]).decode()
    assert md.startswith("# Riverside Counseling Collective — Psychotherapy Progress Note")
    assert "Supervisor co-signature" in md and "## Plan" in md


class _Balance(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in ("meta", "br"):
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if self.stack and self.stack[-1] == tag:
            self.stack.pop()
        else:
            self.errors.append(tag)


def test_html_lists_are_well_nested(example_paths):
    from rapportnotes.io import load_session

    for path in example_paths:
        out = render(build_note(load_session(path), extract=False), "html").decode()
        checker = _Balance()
        checker.feed(out)
        assert checker.errors == [] and checker.stack == [], path.name
