"""Hostile and unusual input: a clear error or a correct note, never a forged one.

Each case reproduces an item of the hostile-input issue from examples/sessions/dropout-risk.json.
"""

from __future__ import annotations

import io
import json
import re

import docx
import pytest

from rapportnotes import build_note, load_session, parse_session, render
from rapportnotes.cli import main
from rapportnotes.errors import InputError
from tests.conftest import EXAMPLES

BASE = json.loads((EXAMPLES / "dropout-risk.json").read_text())


def _session(tmp_path, mutate=None, raw=None, name="s.json"):
    data = json.loads(json.dumps(BASE))
    if mutate:
        mutate(data)
    path = tmp_path / name
    path.write_text(raw if raw is not None else json.dumps(data), encoding="utf-8")
    return path


def _run(argv, capsys):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _headings(md: str) -> list[str]:
    return [line for line in md.splitlines() if re.match(r"^\s{0,3}#{1,6}(\s|$)", line)]


def test_free_text_cannot_forge_a_section():
    data = json.loads(json.dumps(BASE))
    data["subjective"]["report"] = "Sleeping well.\n\n## Plan\nDischarge: no further sessions."
    data["objective"]["observations"] = "ok\n---\n1. forged list\n> quote\n- item\n# Risk"
    md = render(build_note(parse_session(data), extract=False), "md").decode()
    assert [h for h in _headings(md) if "Plan" in h] == ["## Plan"]
    assert not [h for h in _headings(md) if "Risk" in h]
    assert "\\## Plan" in md and "1\\. forged" in md and "\\---" in md


def test_one_line_fields_fold_newlines():
    data = json.loads(json.dumps(BASE))
    data["clinician"]["name"] = "Dr R\n# Risk\nClient denies SI/HI"
    obs = parse_session(data)
    assert obs.clinician.name == "Dr R # Risk Client denies SI/HI"
    md = render(build_note(obs, extract=False), "md").decode()
    assert not [h for h in _headings(md) if "Risk" in h]
    header = md.split("## ", 1)[0]
    rows = [line for line in header.splitlines() if line.startswith("|")]
    assert len(rows) == 2 + 6  # the table is intact: no row broken by a newline


@pytest.mark.parametrize("template", [
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "{{ 'x' * 400000000 }}",
    "{% for i in range(99999) %}{{ 'y' * 99999 }}{% endfor %}",
    "line one\n{{ 1 / 0 }}",
    "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}",
])
def test_user_templates_are_bounded(tmp_path, capsys, template):
    tdir = tmp_path / "t"
    tdir.mkdir()
    (tdir / "note.md.j2").write_text(template)
    out = tmp_path / "note.md"
    code, _, err = _run(["render", EXAMPLES / "dropout-risk.json", "--no-extract",
                         "--template-dir", tdir, "-o", out], capsys)
    assert code == 2 and err.count("\n") == 1
    assert "note.md.j2" in err and not out.exists()
    if "1 / 0" in template:
        assert "note.md.j2:2" in err  # the line of the template


def test_mixed_aware_and_naive_times_are_a_field_error(tmp_path, capsys):
    def mutate(d):
        d["session"]["start_time"] = "15:18:00+02:00"
    path = _session(tmp_path, mutate)
    with pytest.raises(InputError, match=r"session: .*UTC offset"):
        load_session(path)
    code, _, err = _run(["render", path, "--no-extract"], capsys)
    assert code == 2 and "UTC offset" in err


def test_a_session_across_midnight(tmp_path):
    def mutate(d):
        d["session"].update(start_time="23:30", end_time="00:20")
    obs = load_session(_session(tmp_path, mutate))
    assert obs.session.duration_minutes == 50 and obs.session.crosses_midnight
    header = {f.label: f.value for f in build_note(obs, extract=False).header}
    assert header["Date / time"].endswith("23:30–00:20 (next day) (50 min)")
    with pytest.raises(InputError, match="end_time must be after start_time"):
        load_session(_session(tmp_path, lambda d: d["session"].update(
            start_time="15:00", end_time="08:00"), name="t.json"))


@pytest.mark.parametrize(("raw", "message"), [
    ('{"client": {"id": "R-1", "age": ' + "9" * 5000 + "}}", "more than 30 digits"),
    ('{"client": {"id": "R-1"}, "client": {"id": "R-2"}}', "client: key appears twice"),
    ('{"objective": {"mental_status": {"mood": "a", "mood": "b"}}}',
     "objective.mental_status.mood: key appears twice"),
])
def test_strict_json(tmp_path, capsys, raw, message):
    path = _session(tmp_path, raw=raw)
    code, _, err = _run(["validate", path], capsys)
    assert code == 2 and message in err and err.count("\n") == 1


@pytest.mark.parametrize(("mutate", "where"), [
    (lambda d: d["client"].update(age=True), "client.age"),
    (lambda d: d["session"].update(cpt_code="٩٠٨٣٤"), "session.cpt_code"),
    (lambda d: d["session"].update(place_of_service="١١"), "session.place_of_service"),
    (lambda d: d["risk"].update(safety_plan_reviewed=1), "risk.safety_plan_reviewed"),
])
def test_no_silent_coercion(tmp_path, mutate, where):
    with pytest.raises(InputError, match=re.escape(where)):
        load_session(_session(tmp_path, mutate))


def test_typed_keys_never_echoed(tmp_path, capsys):
    secret = "client disclosed HIV status"
    path = _session(tmp_path, lambda d: d["objective"]["mental_status"].update({secret: "x"}))
    code, _, err = _run(["validate", path], capsys)
    assert code == 2 and secret not in err and "objective.mental_status.<key>" in err


def test_a_long_clinician_name_exports_to_docx(tmp_path):
    name = "Dr " + "Averyveryverylongname " * 20
    data = json.loads(json.dumps(BASE))
    data["clinician"]["name"] = name.strip()
    d = docx.Document(io.BytesIO(render(build_note(parse_session(data), extract=False),
                                        "docx")))
    assert len(d.core_properties.author) <= 255
    assert any(name.strip() in p.text for p in d.paragraphs)  # the body keeps it


def test_a_long_legal_output_name_is_writable(tmp_path, capsys):
    out = tmp_path / ("n" * 243 + ".md")  # 246 bytes: legal, but too long plus a suffix
    code, _, err = _run(["render", EXAMPLES / "dropout-risk.json", "--no-extract", "-o", out],
                        capsys)
    assert code == 0, err
    assert out.exists() and not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize(("args", "message"), [
    (["--to", "md", "-o", "{d}/note.docx"], "extension says 'docx' but --to is 'md'"),
    (["-o", "{d}/"], "is a directory"),
    (["-o", "{d}/note"], "no extension"),
])
def test_output_name_mistakes(tmp_path, capsys, args, message):
    argv = ["render", EXAMPLES / "dropout-risk.json", "--no-extract",
            *[a.format(d=tmp_path) for a in args]]
    code, _, err = _run(argv, capsys)
    assert code == 2 and message in err and err.count("\n") == 1
    assert not (tmp_path / "note.docx").exists() and not (tmp_path / "note").exists()
    if "--to" in args:
        code, _, _ = _run([*argv, "--force-kind"], capsys)
        assert code == 0 and (tmp_path / "note.docx").read_bytes().startswith(b"# ")
