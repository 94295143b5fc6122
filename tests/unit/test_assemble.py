"""The assembler: nothing invented, cues only as findings, structured entries win."""

from __future__ import annotations

from rapportnotes.api import build_note
from rapportnotes.cues import Cue
from rapportnotes.formats import DAP, SOAP
from rapportnotes.models import SessionObservation
from rapportnotes.notes import Note


def _cue(label: str, text: str, sentence: str, *, finding: bool = True, **kw) -> Cue:
    cat, sub = label.split(".")
    start = sentence.find(text)
    return Cue(label=label, category=cat, subtype=sub, text=text, start_char=start,
               end_char=start + len(text), sentence=sentence, is_finding=finding,
               source="clinician_notes", **kw)


def _all_text(note: Note) -> str:
    parts = [f"{f.label}: {f.value}" for f in note.header]
    for sec in note.sections:
        for st in sec.statements:
            parts.append(f"{st.lead or ''}: {st.text} {' '.join(st.evidence)}")
    return "\n".join(parts)


def test_sections_in_order_for_soap_and_dap(minimal):
    obs = SessionObservation.model_validate(minimal)
    soap = build_note(obs, format="soap", extract=False)
    dap = build_note(obs, format="dap", extract=False)
    assert [s.title for s in soap.sections] == [
        "Subjective", "Objective", "Assessment", "Rapport & Therapeutic Alliance", "Plan"]
    assert [s.title for s in dap.sections] == [
        "Data", "Assessment", "Rapport & Therapeutic Alliance", "Plan"]
    assert build_note(obs, format=SOAP, extract=False) == soap
    assert build_note(obs, format=DAP, extract=False) == dap


def test_nothing_is_invented_for_a_minimal_session(minimal):
    note = build_note(SessionObservation.model_validate(minimal), extract=False)
    text = _all_text(note).lower()
    for invented in ("within normal limits", "wnl", "denies si", "denies", "unremarkable",
                     "on time", "no risk"):
        assert invented not in text, invented
    assert "suicidal ideation: not assessed" in text
    assert "self-harm: not assessed" in text
    assert "coordination of care: not documented" in text
    assert note.section("rapport").statements  # the section exists even when empty


def test_header_has_payer_fields(minimal):
    minimal["session"].update(cpt_code="90834", cpt_modifiers=["95"], place_of_service="10",
                              modality="telehealth_video", number=3,
                              diagnoses=[{"code": "F41.1", "description": "GAD"}])
    minimal["clinician"]["credentials"] = "LCSW"
    note = build_note(SessionObservation.model_validate(minimal), extract=False)
    header = {f.label: f.value for f in note.header}
    assert header["Date / time"] == "2026-05-04, 09:00–09:50 (50 min)"
    assert header["Service"] == "CPT 90834-95 · POS 10"
    assert header["Diagnoses"] == "F41.1 GAD"
    assert header["Clinician"] == "Test Clinician, LCSW"
    assert "telehealth (video)" in header["Session"]
    assert note.signature.credentials == "LCSW"


def test_mse_not_assessed_vs_not_documented(minimal):
    minimal["objective"] = {"mental_status": {"mood": "low"}, "not_assessed": ["orientation"]}
    note = build_note(SessionObservation.model_validate(minimal), extract=False)
    st = note.section("objective").statements
    assert st[0].text == "Mood: low. Orientation: not assessed."
    assert st[1].lead == "Not documented" and "orientation" not in st[1].text
    assert "appearance" in st[1].text


RUPTURE = {"kind": "withdrawal", "markers": ["withdrawal.minimal_response"],
           "repairs": ["repair.acknowledge_contribution"], "resolved": "no",
           "description": "One-word answers after the homework push"}


def test_unresolved_rupture_reaches_alliance_plan_and_plan(minimal):
    minimal["rapport"] = {"ruptures": [RUPTURE]}
    note = build_note(SessionObservation.model_validate(minimal), extract=False)
    rapport = note.section("rapport").statements
    rupture = next(s for s in rapport if s.lead == "Rupture")
    assert "withdrawal — minimal response" in rupture.text
    assert "Repair: acknowledged own contribution" in rupture.text
    assert "Outcome: unresolved" in rupture.text
    plan_idx = next(i for i, s in enumerate(rapport) if s.lead == "Alliance plan")
    assert any("Revisit the unresolved withdrawal rupture" in s.text
               for s in rapport[plan_idx + 1:])
    assert any(s.lead == "Alliance" and "revisit" in s.text
               for s in note.section("plan").statements)


def test_resolved_rupture_is_not_carried_into_plan(minimal):
    minimal["rapport"] = {"ruptures": [{**RUPTURE, "resolved": "yes"}]}
    note = build_note(SessionObservation.model_validate(minimal), extract=False)
    assert not any(s.lead == "Alliance" for s in note.section("plan").statements)


def test_extracted_findings_carry_evidence_and_non_findings_never_appear(minimal):
    obs = SessionObservation.model_validate(minimal)
    s1 = "Pt disclosed the assault for the first time."
    s2 = "No signs of withdrawal; did not change the subject."
    cues = [
        _cue("engagement.disclosure", "disclosed", s1),
        _cue("withdrawal.shifting_topic", "change the subject", s2, finding=False, negated=True),
    ]
    note = build_note(obs, cues=cues)
    rapport = note.section("rapport").statements
    eng = next(s for s in rapport if s.lead == "Engagement observed")
    assert eng.extracted and eng.cue_labels == ("engagement.disclosure",)
    assert eng.evidence == (s1,)
    assert eng.sources[0].kind == "cue" and eng.sources[0].start_char == s1.find("disclosed")
    assert "shifting" not in _all_text(note) and "change the subject" not in _all_text(note)


def test_structured_rupture_wins_over_extracted_duplicate(minimal):
    minimal["rapport"] = {"ruptures": [{**RUPTURE, "resolved": "yes"}]}
    obs = SessionObservation.model_validate(minimal)
    sent = "Gave one-word answers; writer apologized for pushing; pt re-engaged."
    cues = [_cue("withdrawal.minimal_response", "one-word answers", sent),
            _cue("repair.acknowledge_contribution", "apologized", sent, experiencer="therapist"),
            _cue("repair.reengaged", "re-engaged", sent)]
    rapport = build_note(obs, cues=cues).section("rapport").statements
    ruptures = [i for i, s in enumerate(rapport) if s.lead == "Rupture"]
    assert len(ruptures) == 1
    evidence = rapport[ruptures[0] + 1:ruptures[0] + 4]
    assert all(s.style == "subbullet" and s.extracted for s in evidence)
    assert {s.cue_labels[0] for s in evidence} == {
        "withdrawal.minimal_response", "repair.acknowledge_contribution", "repair.reengaged"}
    assert all(s.evidence == (sent,) for s in evidence)
    assert not any((s.lead or "").startswith(("Possible rupture", "Repair noted"))
                   for s in rapport)


def test_extracted_rupture_without_structured_event_is_flagged_for_review(minimal):
    obs = SessionObservation.model_validate(minimal)
    sent = "Pt said therapy is going nowhere."
    note = build_note(obs, cues=[_cue("confrontation.complaint_progress", "going nowhere", sent)])
    st = next(s for s in note.section("rapport").statements
              if (s.lead or "").startswith("Possible rupture markers"))
    assert "review" in st.lead and st.extracted


def test_attendance_structured_wins_and_extra_cues_are_added(minimal):
    minimal["rapport"] = {"attendance": {"minutes_late": 15, "left_early_minutes": 0}}
    obs = SessionObservation.model_validate(minimal)
    sent = "Arrived 15 min late; cancelled last week's session."
    cues = [_cue("attendance.late", "late", sent),
            _cue("attendance.cancellation", "cancelled", sent)]
    rapport = build_note(obs, cues=cues).section("rapport").statements
    att = next(s for s in rapport if s.lead == "Attendance")
    assert att.text == "15 min late; stayed for the full session."
    extra = next(s for s in rapport if s.lead == "Also noted in session notes")
    assert extra.cue_labels == ("attendance.cancellation",)


def test_evidence_is_summary_length(minimal):
    long_sentence = ("Pt talked at length about " + "many unrelated details " * 20
                     + "and then disclosed the affair " + "with more words " * 20 + ".")
    cue = _cue("engagement.disclosure", "disclosed the affair", long_sentence)
    note = build_note(SessionObservation.model_validate(minimal), cues=[cue])
    eng = next(s for s in note.section("rapport").statements if s.lead == "Engagement observed")
    assert len(eng.evidence[0]) <= 102 and "disclosed the affair" in eng.evidence[0]
    assert eng.evidence[0].startswith("…") and eng.evidence[0].endswith("…")
    assert " many unrelated" not in eng.evidence[0][:3]


def test_unscorable_measure_is_shown_not_dropped(minimal):
    minimal["rapport"] = {"measures": [{"measure": "srs", "items": [9, 9, 11, 9]}]}
    note = build_note(SessionObservation.model_validate(minimal), extract=False)
    st = next(s for s in note.section("rapport").statements if s.lead == "Measure not scored")
    assert "rapport.measures[0]" in st.text and st.emphasis == "attention"


def test_carried_forward_from_previous_session(minimal):
    prev = {**minimal, "session": {**minimal["session"], "date": "2026-04-27", "number": 1},
            "rapport": {"ruptures": [RUPTURE]}}
    obs = SessionObservation.model_validate(minimal)
    note = build_note(obs, history=[SessionObservation.model_validate(prev)], extract=False)
    carried = [s for s in note.section("plan").statements if s.lead == "Carried forward"]
    assert len(carried) == 1 and "from session 1 (2026-04-27)" in carried[0].text


def test_build_is_deterministic(example_paths):
    from rapportnotes.io import load_session

    obs = load_session(example_paths[0])
    assert build_note(obs, extract=False) == build_note(obs, extract=False)
