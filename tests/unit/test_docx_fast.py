"""The .docx exporter writes WordprocessingML directly: the package must stay a package.

The exporter builds the body as markup and writes its own zip (issue #12: python-docx
element insertion, re-reading the template and compressing twice made it 4x slower than a
naive writer). These tests hold what that gives up if done wrong: a well-formed, complete
package python-docx (and so Word) reads back, every relationship resolved, runs that keep
tabs, line breaks and outer spaces, the template prepared once, and a speed-up that is real.
"""

from __future__ import annotations

import io
import posixpath
import re
import time
import zipfile
from datetime import UTC, datetime

import docx
import pytest
from lxml import etree

from rapportnotes.api import build_note
from rapportnotes.exporters import docx as docx_exporter
from rapportnotes.exporters.docx import DocxExporter
from rapportnotes.io import load_history, load_session
from rapportnotes.models import SessionObservation
from rapportnotes.signing import add_addendum, sign
from tests.conftest import ROOT

_R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


def _note(name: str = "dropout-risk", **kw):
    return build_note(load_session(ROOT / "examples" / "sessions" / f"{name}.json"),
                      extract=False, **kw)


def _package_problems(data: bytes) -> list[str]:
    """What a consumer of the OPC package would trip on."""
    problems = []
    z = zipfile.ZipFile(io.BytesIO(data))
    if z.testzip() is not None:
        problems.append("bad CRC")
    names = z.namelist()
    if names[0] != "[Content_Types].xml":
        problems.append("content types not first")
    if len(set(names)) != len(names):
        problems.append("duplicate member")
    parts = {n: etree.fromstring(z.read(n)) for n in names if n.endswith((".xml", ".rels"))}
    types = parts["[Content_Types].xml"]
    defaults = {el.get("Extension") for el in types if el.tag.endswith("Default")}
    overrides = {el.get("PartName") for el in types if el.tag.endswith("Override")}
    for n in names:
        if "/" + n not in overrides and n.rsplit(".", 1)[-1] not in defaults:
            problems.append(f"no content type for {n}")
    rels = parts["word/_rels/document.xml.rels"]
    targets = {el.get("Id"): el.get("Target") for el in rels}
    for rid, target in targets.items():
        if not target.startswith("http") and posixpath.normpath("word/" + target) not in names:
            problems.append(f"{rid} points at a missing part {target}")
    used = {v for el in parts["word/document.xml"].iter() for k, v in el.attrib.items()
            if k in (_R + "id", _R + "embed")}
    problems += [f"unresolved {rid}" for rid in sorted(used - set(targets))]
    return problems


@pytest.mark.parametrize("name", ["dropout-risk", "couple-telehealth-confrontation",
                                  "walk-and-talk-outdoor"])
def test_final_and_draft_packages_are_complete(name):
    for note in (_note(name), _note(name, draft=True)):
        data = DocxExporter().export(note)
        assert _package_problems(data) == []
        names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        assert ("word/header1.xml" in names) == (note.status == "draft")
        assert not any(n.startswith("word/media/") for n in names)
        # python-docx reads it back and can write it again (Word's own check is stricter
        # about the same things: parts, types, relationships)
        d = docx.Document(io.BytesIO(data))
        d.save(io.BytesIO())
        assert d.paragraphs[0].style.name == "Title" and d.paragraphs[0].text == note.title


def test_chart_image_is_one_related_part():
    pytest.importorskip("matplotlib")
    *earlier, latest = load_history(ROOT / "examples" / "history" / "drifting.json")
    data = DocxExporter().export(build_note(latest, history=earlier, extract=False))
    assert _package_problems(data) == []
    z = zipfile.ZipFile(io.BytesIO(data))
    media = [n for n in z.namelist() if n.startswith("word/media/")]
    assert media == ["word/media/image1.png"]
    assert z.read(media[0]).startswith(b"\x89PNG")
    shape = docx.Document(io.BytesIO(data)).inline_shapes[0]
    assert shape.width == 14 * 360000 and 0 < shape.height < shape.width


def test_runs_keep_tabs_breaks_and_outer_spaces(minimal):
    minimal["subjective"] = {"report": "  lead\tcol\nnext line & <tag> \"q\"  "}
    data = DocxExporter().export(build_note(SessionObservation.model_validate(minimal),
                                            extract=False))
    d = docx.Document(io.BytesIO(data))
    texts = [p.text for p in d.paragraphs]
    assert any("lead\tcol\nnext line & <tag> \"q\"" in t for t in texts)
    xml = zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml").decode()
    assert "<w:tab/>" in xml and "<w:br/>" in xml and 'xml:space="preserve"' in xml
    assert "<tag>" not in xml  # escaped, never markup


def test_addenda_and_signature_reach_the_document():
    note = _note()
    at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    record = sign(note, signer="Dr R", credentials="PhD", at=at)
    record = add_addendum(record, author="Dr R", at=at, reason="Late entry",
                          text="Client called after the session.")
    d = docx.Document(io.BytesIO(DocxExporter().export(record.as_note())))
    texts = [p.text for p in d.paragraphs]
    assert any(t.startswith("Addendum 1 — ") for t in texts)
    assert "Reason: Late entry" in texts and "Client called after the session." in texts
    assert any(t.startswith("Electronically signed: ") for t in texts)


def test_template_is_prepared_once_per_process():
    docx_exporter._template.cache_clear()
    for name in ("dropout-risk", "adult-cbt-withdrawal-repaired"):
        DocxExporter().export(_note(name))
        DocxExporter().export(_note(name, draft=True))
    assert docx_exporter._template.cache_info().misses == 1


def test_one_compression_pass_and_fixed_zip_times():
    data = DocxExporter().export(_note())
    z = zipfile.ZipFile(io.BytesIO(data))
    for info in z.infolist():
        assert info.date_time == (1980, 1, 1, 0, 0, 0)
        assert info.compress_type == zipfile.ZIP_DEFLATED
    # the member order is fixed: content types, package rels, core props, … document
    assert re.match(r"\[Content_Types\]\.xml,_rels/\.rels,docProps/core\.xml",
                    ",".join(z.namelist()))


def _naive(note) -> bytes:
    d = docx.Document()
    d.add_heading(note.title, level=0)
    for section in note.sections:
        d.add_heading(section.title, level=1)
        for st in section.statements:
            d.add_paragraph(st.text)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def test_faster_than_a_naive_python_docx_writer():
    """The issue's bar (>= 2x the naive writer); measured ~30x, so a loaded machine passes."""
    notes = [_note(n) for n in ("dropout-risk", "couple-telehealth-confrontation")]
    export = DocxExporter().export
    export(notes[0])
    _naive(notes[0])
    ratios = []
    for _ in range(3):
        t0 = time.perf_counter()
        for n in notes:
            _naive(n)
        t1 = time.perf_counter()
        for n in notes:
            export(n)
        t2 = time.perf_counter()
        ratios.append((t1 - t0) / (t2 - t1))
    assert sorted(ratios)[1] >= 2.0
