"""FHIR export (issue #13): document Bundles that validate with fhir.resources, R4B and R5.

Validation is real (fhir.resources' pydantic models), the Bundle is read back for values,
and the exporter's choices (section codes, Observations per measure, Provenance for the
signature, addenda as appended sections, no invented time zone) are asserted from data.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from datetime import UTC, datetime

import pytest
from lxml import etree

from rapportnotes.api import build_note
from rapportnotes.cli import main
from rapportnotes.errors import ExportError
from rapportnotes.exporters.fhir import SECTION_SYSTEM, FhirExporter
from rapportnotes.io import load_session
from rapportnotes.models import SessionObservation
from rapportnotes.signing import add_addendum, dump_record, sign
from tests.conftest import EXAMPLES, write_json

LOINC = "http://loinc.org"


def _resources(bundle, kind):
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def _validate(bundle, version):
    if version == "R4B":
        from fhir.resources.R4B.bundle import Bundle
    else:
        from fhir.resources.bundle import Bundle
    return Bundle.model_validate(bundle)


def _codes(concept):
    return {(c["system"], c["code"]) for c in concept["coding"]}


@pytest.mark.parametrize("version", ["R4B", "R5"])
@pytest.mark.parametrize("fmt", ["soap", "dap", "birp"])
@pytest.mark.parametrize("session", sorted(p.name for p in EXAMPLES.glob("*.json")))
def test_every_example_is_a_valid_document_bundle(session, fmt, version):
    note = build_note(load_session(EXAMPLES / session), format=fmt, extract=False)
    bundle = FhirExporter(version, timezone="America/Chicago").bundle(note)
    _validate(bundle, version)  # the exporter validated too; this is the consumer's check
    assert bundle["type"] == "document"
    composition = bundle["entry"][0]["resource"]
    assert composition["resourceType"] == "Composition"  # a document starts with it
    assert _codes(composition["type"]) == {(LOINC, "11506-3")}
    keys = [sec.key for sec in note.sections]
    got = [next(c["code"] for c in s["code"]["coding"] if c["system"] == SECTION_SYSTEM)
           for s in composition["section"]]
    assert got == keys
    loinc = {s["title"]: {c["code"] for c in s["code"]["coding"] if c["system"] == LOINC}
             for s in composition["section"]}
    if fmt == "soap":
        assert loinc["Subjective"] == {"61150-9"} and loinc["Objective"] == {"61149-1"}
        assert loinc["Assessment"] == {"51848-0"} and loinc["Plan"] == {"18776-5"}
    assert loinc["Rapport & Therapeutic Alliance"] == set()  # project code only
    for sec in composition["section"]:  # narrative is well-formed XHTML, no attributes
        if "text" in sec:
            div = etree.fromstring(sec["text"]["div"])
            assert div.tag == "{http://www.w3.org/1999/xhtml}div"
            assert all(not el.attrib for el in div.iter() if el is not div)
    # every reference inside the Bundle resolves to an entry
    urls = {e["fullUrl"] for e in bundle["entry"]}
    refs = {v for e in bundle["entry"] for v in _walk_refs(e["resource"])}
    assert {r for r in refs if r.startswith("urn:uuid:")} <= urls
    # times carry the zone they were given (Chicago: -05:00 or -06:00), never invented
    start = composition["event"][0]["period"]["start"]
    assert start.endswith(("-05:00", "-06:00"))
    assert start.startswith(note.session_date)


def _walk_refs(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "reference" and isinstance(v, str):
                yield v
            else:
                yield from _walk_refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from _walk_refs(v)


def test_measures_become_observations_with_values_and_components():
    note = build_note(load_session(EXAMPLES / "dropout-risk.json"), extract=False)
    assert note.facts is not None and note.facts.measures
    bundle = FhirExporter("R5", timezone="UTC").bundle(note)
    observations = _resources(bundle, "Observation")
    assert len(observations) == len(note.facts.measures)
    for fact, obs in zip(note.facts.measures, observations, strict=True):
        assert obs["valueQuantity"]["value"] == fact.total
        assert obs["valueQuantity"]["code"] == "{score}"
        items = [c for c in obs.get("component", []) if ".item." in c["code"]["coding"][0]["code"]]
        assert [c["valueQuantity"]["value"] for c in items] == [v for _, v, _ in fact.items]
        if fact.interpretation != "no_cutoff":
            code = obs["interpretation"][0]["coding"][0]["code"]
            assert code == ("A" if fact.interpretation == "below_cutoff" else "N")
            assert "referenceRange" in obs
    rapport = next(s for s in bundle["entry"][0]["resource"]["section"]
                   if s["title"] == "Rapport & Therapeutic Alliance")
    assert [e["reference"] for e in rapport["entry"]] == [
        e["fullUrl"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation"]


def test_narrative_escapes_markup(minimal):
    minimal["subjective"] = {"report": "<script>alert(1)</script> & <b>bold</b> ☃"}
    note = build_note(SessionObservation.model_validate(minimal), extract=False)
    bundle = FhirExporter(timezone="+05:30").bundle(note)
    div = bundle["entry"][0]["resource"]["section"][0]["text"]["div"]
    assert div.startswith('<div xmlns="http://www.w3.org/1999/xhtml">')
    assert "<script>" not in div and "&lt;script&gt;" in div and "&amp;" in div
    assert "<b>bold</b>" not in div and "☃" in div
    assert bundle["entry"][0]["resource"]["event"][0]["period"]["start"].endswith("+05:30")


def test_same_note_gives_the_same_bytes_and_composition_id_survives_edits():
    obs = load_session(EXAMPLES / "adult-cbt-withdrawal-repaired.json")
    exporter = FhirExporter(timezone="UTC")
    a = exporter.export(build_note(obs, extract=False))
    assert a == exporter.export(build_note(obs, extract=False))
    raw = obs.model_dump(mode="json")
    raw["subjective"]["report"] = (raw["subjective"].get("report") or "") + " Edited."
    b = exporter.export(build_note(SessionObservation.model_validate(raw), extract=False))
    ja, jb = json.loads(a), json.loads(b)
    assert ja["entry"][0]["fullUrl"] == jb["entry"][0]["fullUrl"]  # the same document
    assert ja["id"] != jb["id"]  # a new Bundle for new content


def test_signed_and_amended_record():
    note = build_note(load_session(EXAMPLES / "dropout-risk.json"), extract=False)
    at = datetime(2026, 3, 5, 17, 30, tzinfo=UTC)
    record = sign(note, signer="Dr R", credentials="PhD", at=at)
    record = add_addendum(record, author="Dr R", at=datetime(2026, 3, 6, 9, 0, tzinfo=UTC),
                          reason="Late entry", text="Client called <after> the session.")
    for version in ("R4B", "R5"):
        bundle = FhirExporter(version, timezone="UTC").bundle(record.as_note())
        _validate(bundle, version)
        comp = bundle["entry"][0]["resource"]
        assert comp["status"] == "amended"
        assert comp["attester"][0]["time"] == "2026-03-05T17:30:00Z"
        last = comp["section"][-1]
        assert _codes(last["code"]) == {(SECTION_SYSTEM, "addendum")}
        assert "Client called &lt;after&gt; the session." in last["text"]["div"]
        assert record.addenda[0].sha256 in last["text"]["div"]
        (prov,) = _resources(bundle, "Provenance")
        assert prov["recorded"] == "2026-03-05T17:30:00Z"
        assert prov["target"][0]["reference"] == bundle["entry"][0]["fullUrl"]
        (doc,) = _resources(bundle, "DocumentReference")
        assert doc["docStatus"] == "amended"
    # an unsigned note has neither attester nor Provenance
    bundle = FhirExporter(timezone="UTC").bundle(note)
    assert "attester" not in bundle["entry"][0]["resource"]
    assert _resources(bundle, "Provenance") == []


def test_vendor_references_replace_contained_resources():
    note = build_note(load_session(EXAMPLES / "dropout-risk.json"), extract=False)
    bundle = FhirExporter("R4B", timezone="UTC", patient_reference="Patient/ehr-42",
                          practitioner_reference="Practitioner/dr.7").bundle(note)
    assert _resources(bundle, "Patient") == [] and _resources(bundle, "Practitioner") == []
    comp = bundle["entry"][0]["resource"]
    assert comp["subject"] == {"reference": "Patient/ehr-42"}
    assert comp["author"][0]["reference"] == "Practitioner/dr.7"
    with pytest.raises(ExportError, match="patient_reference"):
        FhirExporter(patient_reference="Practitioner/1")


def test_attachment_is_the_rendered_note_with_size_and_hash():
    from rapportnotes.api import render

    note = build_note(load_session(EXAMPLES / "dropout-risk.json"), extract=False)
    bundle = FhirExporter("R4B", timezone="UTC", attachment="md").bundle(note)
    (doc,) = _resources(bundle, "DocumentReference")
    att = doc["content"][0]["attachment"]
    data = base64.b64decode(att["data"])
    assert data == render(note, "md")
    assert att["size"] == len(data)
    assert base64.b64decode(att["hash"]) == hashlib.sha1(data).digest()
    assert _codes(doc["category"][0]) == {
        ("http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category",
         "clinical-note")}


def test_naive_times_need_a_zone_and_bad_options_are_named():
    note = build_note(load_session(EXAMPLES / "dropout-risk.json"), extract=False)
    with pytest.raises(ExportError, match="start time") as err:
        FhirExporter().bundle(note)
    assert "timezone" in str(err.value)
    with pytest.raises(ExportError, match="R4B or R5"):
        FhirExporter("R6")
    with pytest.raises(ExportError, match="timezone"):
        FhirExporter(timezone="Nowhere/Land")


def test_cli_writes_fhir_and_refuses_mistakes_in_one_line(tmp_path, capsys):
    out = tmp_path / "note.json"
    session = EXAMPLES / "couple-telehealth-confrontation.json"
    code = main(["render", str(session), "--no-extract", "--to", "fhir", "--fhir-version",
                 "R5", "--timezone", "UTC", "--fhir-document-type", "34904-3", "-o", str(out)])
    assert code == 0
    bundle = json.loads(out.read_text(encoding="utf-8"))
    _validate(bundle, "R5")
    assert _codes(bundle["entry"][0]["resource"]["type"]) == {(LOINC, "34904-3")}
    capsys.readouterr()
    # -o note.json means FHIR by its extension; no zone: exit 2, one line, no file
    missing = tmp_path / "nozone.json"
    code = main(["render", str(session), "--no-extract", "-o", str(missing)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and not missing.exists()
    assert len(err) == 1 and "--timezone" in err[0]
    # a FHIR option with another kind is a mistake, not ignored
    code = main(["render", str(session), "--no-extract", "--to", "md", "--timezone", "UTC"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err == ["rapportnotes: error: --timezone only applies to --to fhir"]


def test_signed_record_file_exports_to_fhir(tmp_path, capsys):
    note = build_note(load_session(EXAMPLES / "dropout-risk.json"), extract=False)
    record = sign(note, signer="Dr R", credentials=None,
                  at=datetime(2026, 3, 5, 17, 30, tzinfo=UTC))
    rec = tmp_path / "signed.json"
    rec.write_text(dump_record(record), encoding="utf-8")
    out = tmp_path / "bundle.json"
    assert main(["render", str(rec), "--to", "fhir", "--timezone", "UTC", "-o", str(out)]) == 0
    bundle = json.loads(out.read_text(encoding="utf-8"))
    assert bundle["entry"][0]["resource"]["status"] == "final"
    assert len(_resources(bundle, "Provenance")) == 1


def test_aware_session_times_need_no_zone(minimal, tmp_path):
    raw = copy.deepcopy(minimal)
    raw["session"].update(start_time="09:00:00+02:00", end_time="09:50:00+02:00")
    path = write_json(tmp_path / "s.json", raw)
    note = build_note(load_session(path), extract=False)
    bundle = FhirExporter("R5").bundle(note)
    assert bundle["entry"][0]["resource"]["event"][0]["period"]["start"] == (
        "2026-05-04T09:00:00+02:00")


def test_missing_extra_gives_the_install_hint(monkeypatch):
    import builtins

    real = builtins.__import__

    def no_fhir(name, *args, **kwargs):
        if name.startswith("fhir.resources"):
            raise ImportError(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_fhir)
    note = build_note(load_session(EXAMPLES / "dropout-risk.json"), extract=False)
    with pytest.raises(ExportError, match=r"pip install 'rapportnotes\[fhir\]'"):
        FhirExporter(timezone="UTC").export(note)
