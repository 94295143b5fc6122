"""The documentation lint: one fixture per rule (a session that triggers it, one that does
not), tried as an auditor would on one example with one element removed or wrong."""

from __future__ import annotations

import json

import pytest

from rapportnotes.cli import main
from rapportnotes.lint import lint, profiles, resolve
from rapportnotes.models import SessionObservation
from tests.conftest import EXAMPLES, ROOT

BASE = json.loads((EXAMPLES / "adult-cbt-withdrawal-repaired.json").read_text())


def _obs(mutate=None) -> SessionObservation:
    data = json.loads(json.dumps(BASE))
    if mutate:
        mutate(data)
    return SessionObservation.model_validate(data)


def _pop(*path):
    def mutate(d):
        node = d
        for key in path[:-1]:
            node = node[key]
        node.pop(path[-1])
    return mutate


def _set(value, *path):
    def mutate(d):
        node = d
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return mutate


def _chain(*fns):
    def mutate(d):
        for fn in fns:
            fn(d)
    return mutate


VIDEO = _chain(_set("telehealth_video", "session", "modality"),
               _set("10", "session", "place_of_service"), _set(["95"], "session", "cpt_modifiers"),
               _set("home, MN", "session", "client_location"))
AUDIO = _chain(VIDEO, _set("telehealth_audio", "session", "modality"),
               _set(["93"], "session", "cpt_modifiers"))

CASES = {
    # omissions
    "no CPT code": (_pop("session", "cpt_code"), "RN-DOC-001"),
    "no diagnosis": (_set([], "session", "diagnoses"), "RN-DOC-002"),
    "no modality": (_pop("session", "modality"), "RN-DOC-003"),
    "no place of service": (_pop("session", "place_of_service"), "RN-DOC-004"),
    "no credentials": (_pop("clinician", "credentials"), "RN-DOC-005"),
    "no signature": (_pop("signed_at"), "RN-DOC-006"),
    "no risk": (_set({}, "risk"), "RN-DOC-007"),
    "no goals": (_set([], "progress"), "RN-DOC-008"),
    "no interventions": (_set([], "interventions"), "RN-DOC-009"),
    "no client response": (lambda d: d["interventions"][0].pop("client_response"), "RN-DOC-010"),
    "no plan": (_pop("plan", "treatment"), "RN-DOC-011"),
    "no assessment": (_pop("assessment"), "RN-DOC-012"),
    "no mental status": (_set({}, "objective", "mental_status"), "RN-DOC-013"),
    "telehealth, no client location": (_chain(VIDEO, _pop("session", "client_location")),
                                       "RN-TELE-006"),
    "telehealth, no modifier": (_chain(VIDEO, _set([], "session", "cpt_modifiers")),
                                "RN-TELE-002"),
    "90785 with no factor": (_set(["90785"], "session", "cpt_addons"), "RN-CODE-003"),
    "moderate SI, no safety plan": (_set({"suicidal_ideation": {"assessed": True,
                                                                 "reported": "passive",
                                                                 "level": "moderate"}},
                                         "risk"), "RN-RISK-001"),
    # mismatches
    "90837 for 45 minutes": (_set("10:40", "session", "end_time"), "RN-TIME-001"),
    "90839 for 25 minutes": (_chain(_set("90839", "session", "cpt_code"),
                                    _set("10:10", "session", "end_time")), "RN-TIME-001"),
    "90839 + 90840 for 55 minutes": (_chain(_set("90839", "session", "cpt_code"),
                                            _set(["90840"], "session", "cpt_addons")),
                                     "RN-TIME-002"),
    "group code, individual session": (_set("90853", "session", "cpt_code"), "RN-TIME-003"),
    "unknown code": (_set("99213", "session", "cpt_code"), "RN-CODE-001"),
    "Z codes only": (_set([{"code": "Z63.0"}], "session", "diagnoses"), "RN-CODE-002"),
    "office POS on telehealth": (_chain(VIDEO, _set("11", "session", "place_of_service")),
                                 "RN-TELE-001"),
    "telehealth POS in person": (_set("10", "session", "place_of_service"), "RN-TELE-001"),
    "95 on audio-only": (_chain(AUDIO, _set(["95"], "session", "cpt_modifiers")),
                         "RN-TELE-002"),
    "93 on video": (_chain(VIDEO, _set(["93"], "session", "cpt_modifiers")), "RN-TELE-002"),
    "risk in free text, field empty": (_set({"protective_factors": ["sister"]}, "risk"),
                                       "RN-RISK-002"),
    "signed before the session": (_set("2026-03-17T08:00:00", "signed_at"), "RN-SIGN-001"),
    "signed months later": (_set("2026-07-30T09:00:00", "signed_at"), "RN-SIGN-001"),
    "unresolved rupture, no alliance plan": (
        _chain(lambda d: d["rapport"]["ruptures"][0].update(resolved="no"),
               _set([], "rapport", "alliance_plan")), "RN-ALLY-001"),
    "markers accepted, no rupture entered": (
        _chain(_set([], "rapport", "ruptures"), lambda d: d["review"]["decisions"].append({
            "field": "clinician_notes", "start_char": 0, "end_char": 5,
            "label": "withdrawal.minimal_response", "sentence_sha": "0" * 16,
            "status": "accepted", "by": "x", "at": "2026-03-17T13:00:00"})), "RN-ALLY-002"),
    "SRS 38 with a confrontation": (
        _chain(_set([{"kind": "confrontation", "resolved": "yes",
                      "markers": ["confrontation.complaint_therapist"]}], "rapport", "ruptures"),
               _set([{"measure": "srs", "items": [9.5, 9.5, 9.5, 9.5]}], "rapport",
                    "measures")), "RN-ALLY-003"),
    "caregiver in text, client only": (
        _chain(_set("client_only", "session", "participants"),
               _set("Her mother joined for the last ten minutes.", "objective",
                    "observations")), "RN-PART-001"),
    "others, none listed": (_chain(_set("with_caregiver", "session", "participants"),
                                   _set([], "session", "others_present")), "RN-PART-001"),
    "measure item out of range": (_set([{"measure": "srs", "items": [9, 9, 11, 9]}],
                                       "rapport", "measures"), "RN-MEAS-001"),
    "measure item missing": (_set([{"measure": "srs", "items": [9, 9, 9]}],
                                  "rapport", "measures"), "RN-MEAS-001"),
}


def test_the_base_session_is_clean():
    assert [f.rule for f in lint(_obs())] == []


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_omission_and_mismatch_is_caught_with_its_rule(case):
    mutate, rule = CASES[case]
    findings = lint(_obs(mutate))
    assert rule in {f.rule for f in findings}, [f.rule for f in findings]
    for f in findings:
        assert f.source and f.path and "\n" not in f.message


def test_hcpcs_codes_are_accepted_and_known():
    obs = _obs(_set("H0004", "session", "cpt_code"))
    assert "RN-CODE-001" not in {f.rule for f in lint(obs)}


def test_copy_forward_warns_on_a_cloned_section():
    prev = _obs(_chain(_set("2026-03-10", "session", "date"), _pop("signed_at")))
    findings = lint(_obs(), history=[prev])
    assert {f.path for f in findings if f.rule == "RN-COPY-001"} >= {"subjective.report"}
    edited = _obs(_set("Different report entirely; slept better, two walks, fewer "
                       "arguments with her manager this week and no missed meals.",
                       "subjective", "report"))
    assert "subjective.report" not in {f.path for f in lint(edited, history=[prev])
                                       if f.rule == "RN-COPY-001"}


def test_every_example_has_no_error(example_paths):
    from rapportnotes.io import load_history, load_session

    for p in example_paths:
        assert not [f for f in lint(load_session(p)) if f.severity == "error"], p.name
    for name in ("drifting", "steady"):
        *earlier, latest = load_history(ROOT / "examples" / "history" / f"{name}.json")
        assert not [f for f in lint(latest, history=earlier) if f.severity == "error"], name


def test_profiles_are_data_and_commercial_extends_medicare():
    medicare = {r.id: r for r in resolve("medicare")}
    commercial = {r.id: r for r in resolve("commercial")}
    assert set(medicare) == set(commercial)
    assert medicare["RN-SIGN-001"].params["max_days"] == 30
    assert commercial["RN-SIGN-001"].params["max_days"] == 14
    assert commercial["RN-DOC-003"].severity == "warning"
    assert {"medicare", "commercial"} <= set(profiles.names())


def test_a_clinics_profile_file_switches_rules_off(tmp_path, capsys):
    prof = tmp_path / "clinic.json"
    rule = next(r for r in resolve("medicare") if r.id == "RN-DOC-006").model_dump()
    prof.write_text(json.dumps({"name": "clinic", "extends": "medicare",
                                "rules": [{**rule, "enabled": False}]}))
    session = tmp_path / "s.json"
    data = json.loads(json.dumps(BASE))
    data.pop("signed_at")
    session.write_text(json.dumps(data))
    assert main(["validate", str(session)]) == 0
    assert "RN-DOC-006" in capsys.readouterr().out
    assert main(["validate", str(session), "--profile-file", str(prof)]) == 0
    assert "RN-DOC-006" not in capsys.readouterr().out
    assert main(["validate", str(session), "--strict"]) == 1


def test_validate_exit_codes_and_json(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    data = json.loads(json.dumps(BASE))
    data["session"].pop("cpt_code")
    bad.write_text(json.dumps(data))
    assert main(["validate", str(bad), "--json"]) == 1
    (report,) = json.loads(capsys.readouterr().out)
    assert {f["rule"] for f in report["findings"]} == {"RN-DOC-001"}
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    assert main(["validate", str(broken)]) == 2


def test_render_require_clean_writes_nothing_on_errors(tmp_path, capsys):
    src = tmp_path / "s.json"
    data = json.loads(json.dumps(BASE))
    data["session"].pop("cpt_code")
    src.write_text(json.dumps(data))
    out = tmp_path / "note.md"
    assert main(["render", str(src), "--no-extract", "-o", str(out)]) == 0
    assert "RN-DOC-001" in capsys.readouterr().err and out.exists()
    out.unlink()
    assert main(["render", str(src), "--no-extract", "--require-clean", "-o", str(out)]) == 1
    assert not out.exists()


def test_the_rules_table_in_the_docs_lists_every_rule():
    doc = (ROOT / "docs" / "lint-rules.md").read_text()
    for rule in resolve("medicare"):
        assert f"| {rule.id} |" in doc


def test_every_rule_has_a_fixture():
    covered = {rule for _, rule in CASES.values()} | {"RN-COPY-001"}
    assert {r.id for r in resolve("medicare")} <= covered
