"""The command line: every example renders; every user mistake is one line, exit 2, no file."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import docx
import pytest

from rapportnotes.cli import main
from tests.conftest import EXAMPLES, MINIMAL, write_json

SECTIONS = {
    "soap": ["Subjective", "Objective", "Assessment", "Rapport & Therapeutic Alliance", "Plan"],
    "dap": ["Data", "Assessment", "Rapport & Therapeutic Alliance", "Plan"],
}


def _run(argv, capsys):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("fmt", ["soap", "dap"])
@pytest.mark.parametrize("session", sorted(p.name for p in EXAMPLES.glob("*.json")))
def test_every_example_exports_docx(tmp_path, capsys, session, fmt):
    out = tmp_path / f"{fmt}.docx"
    code, _, err = _run(["render", EXAMPLES / session, "--format", fmt, "--to", "docx",
                         "-o", out], capsys)
    assert code == 0, err
    d = docx.Document(str(out))
    heads = [p.text for p in d.paragraphs if p.style.name == "Heading 1"]
    assert heads == SECTIONS[fmt]
    texts = [p.text for p in d.paragraphs]
    i = texts.index("Rapport & Therapeutic Alliance")
    j = texts.index("Plan")
    assert len([t for t in texts[i + 1:j] if t.strip()]) >= 5


def test_markdown_to_stdout(capsys):
    code, out, _ = _run(["render", EXAMPLES / "walk-and-talk-outdoor.json", "--no-extract"],
                        capsys)
    assert code == 0 and out.startswith("# Psychotherapy Progress Note — SOAP")


def _bad(tmp_path, name, data=None, raw=None):
    p = tmp_path / name
    if raw is not None:
        p.write_bytes(raw)
    else:
        write_json(p, data)
    return p


def _with(**changes):
    d = json.loads(json.dumps(MINIMAL))
    for dotted, value in changes.items():
        node = d
        *parents, leaf = dotted.split("__")
        for part in parents:
            node = node[part]
        if value is None:
            del node[leaf]
        else:
            node[leaf] = value
    return d


BAD_INPUTS = {
    "not-json": (None, b"this is not json", "line 1 column 1: not valid JSON"),
    "wrong-type": (_with(session__number="seven"), None, "session.number"),
    "no-client-id": (_with(client__id=None), None, "client.id: required field is missing"),
    "end-before-start": (_with(session__end_time="08:00"), None,
                         "end_time must be after start_time"),
    "unknown-key": (_with(rapport={"rupturez": []}), None, "rapport.<key>: unknown field"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_one_line_exit_2_no_file(tmp_path, capsys, case):
    data, raw, expected = BAD_INPUTS[case]
    src = _bad(tmp_path, f"{case}.json", data, raw)
    out = tmp_path / "out.docx"
    code, _stdout, err = _run(["render", src, "--to", "docx", "-o", out], capsys)
    assert code == 2
    assert expected in err and str(src) in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()
    assert sorted(x.name for x in tmp_path.iterdir()) == [src.name]


def test_unknown_format_and_exporter(tmp_path, capsys):
    src = write_json(tmp_path / "s.json", MINIMAL)
    code, _, err = _run(["render", src, "--format", "birq", "-o", tmp_path / "x.md"], capsys)
    assert code == 2 and "unknown format 'birq'; available: birp, dap, girp, pie, soap" in err
    code, _, err = _run(["render", src, "--to", "rtf", "-o", tmp_path / "x.rtf"], capsys)
    assert code == 2 and "unknown exporter 'rtf'" in err
    assert sorted(x.name for x in tmp_path.iterdir()) == ["s.json"]


def test_output_into_missing_directory(tmp_path, capsys):
    src = write_json(tmp_path / "s.json", MINIMAL)
    target = tmp_path / "nope" / "note.docx"
    code, _, err = _run(["render", src, "-o", target], capsys)
    assert code == 2 and "does not exist" in err and err.count("\n") == 1
    assert not target.parent.exists()


def test_docx_to_stdout_is_refused(tmp_path, capsys):
    src = write_json(tmp_path / "s.json", MINIMAL)
    code, _, err = _run(["render", src, "--to", "docx"], capsys)
    assert code == 2 and "give an output file with -o" in err


def test_usage_error_is_one_line(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["render"])
    assert exc.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_validate_and_schema(tmp_path, capsys):
    code, out, _ = _run(["validate", *sorted(EXAMPLES.glob("*.json"))], capsys)
    assert code == 0 and out.count(": schema ok (") == len(list(EXAMPLES.glob("*.json")))
    code, out, _ = _run(["schema"], capsys)
    schema = json.loads(out)
    assert code == 0 and schema["title"] == "SessionObservation"


def test_formats_lists_formats_and_exporters(capsys):
    code, out, _ = _run(["formats"], capsys)
    assert code == 0
    for name in ("soap", "dap", "md", "txt", "html", "docx"):
        assert f"  {name} " in out


def test_extract_prints_json_lines(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(
        b"Pt no-showed last week. Today she disclosed the affair.")))
    code, out, _ = _run(["extract", "-"], capsys)
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert {"attendance.no_show", "engagement.disclosure"} <= {r["label"] for r in rows}


def test_console_script_installed_and_no_traceback(tmp_path):
    exe = Path(sys.executable).with_name("rapportnotes")
    assert exe.exists()
    res = subprocess.run([str(exe), "validate", str(tmp_path / "missing.json")],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 2
    assert res.stderr == f"rapportnotes: error: {tmp_path / 'missing.json'}: file not found\n"


def test_extract_user_errors_are_one_line(tmp_path, monkeypatch, capsys):
    code, _, err = _run(["extract", tmp_path / "missing.txt"], capsys)
    assert code == 2 and err == f"rapportnotes: error: {tmp_path / 'missing.txt'}: file not found\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"caf\xe9 late")))
    code, _, err = _run(["extract", "-"], capsys)
    assert code == 2 and "<stdin>: not UTF-8 text (invalid byte at offset 3)" in err


def test_hostile_text_renders_every_kind(tmp_path, capsys):
    data = json.loads(json.dumps(MINIMAL))
    data["clinician_notes"] = ("Pt \x00gave one-word answers\x07; \u202eRTL\u202c 𝄞 émoji 😶 "
                               "<script>x</script> & 'quotes' \ud83d. " * 200)
    data["subjective"] = {"quotes": ["a\x1b[31m red"]}
    src = write_json(tmp_path / "s.json", data)
    for kind in ("md", "txt", "html", "docx"):
        out = tmp_path / f"note.{kind}"
        code, _, err = _run(["render", src, "-o", out], capsys)
        assert code == 0, err
        assert out.stat().st_size > 0
    html = (tmp_path / "note.html").read_text(encoding="utf-8")
    assert "<script>x</script>" not in html and "\x00" not in html
