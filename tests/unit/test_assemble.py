"""The assembler: nothing invented; only entered data and accepted suggestions; each fact once."""

from __future__ import annotations

from datetime import datetime

import pytest

from rapportnotes.api import build_note
from rapportnotes.cues import Cue
from rapportnotes.errors import InputError
from rapportnotes.formats import DAP, SOAP
from rapportnotes.models import SessionObservation
from rapportnotes.notes import Note
from rapportnotes.review import decide


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
            parts.append(f"{st.lead or ''}: {st.text}")
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
    assert "not assessed" not in text  # absent means not documented, never not assessed
    assert "suicidal ideation: not documented" in text
    assert "self-harm: not documented" in text
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
    minimal["session"].pop("place_of_service")
    header = {f.label: f.value for f in build_note(SessionObservation.model_validate(minimal),
                                                   extract=False).header}
    assert header["Service"] == "CPT 90834-95 · place of service not documented"
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
AT = datetime(2026, 5, 4, 10, 0)


def _accepting(minimal, cues, labels=None, **decide_kw):
    """The session with every cue (or those with ``labels``) accepted by the clinician."""
    from rapportnotes.api import suggest
    from rapportnotes.review import apply_decisions

    obs = SessionObservation.model_validate(minimal)
    chosen = [s for s in suggest(obs, cues=cues) if labels is None or s.label in labels]
    return apply_decisions(obs, [decide(s, "accepted", by="Test Clinician", at=AT, **decide_kw)
                                 for s in chosen])


def test_unresolved_rupture_is_told_once_and_the_plan_is_the_clinicians(minimal):
    minimal["rapport"] = {"ruptures": [RUPTURE]}
    note = build_note(SessionObservation.model_validate(minimal), extract=False)
    rapport = note.section("rapport").statements
    rupture = [s for s in rapport if s.lead == "Rupture"]
    assert len(rupture) == 1
    assert "withdrawal — minimal response" in rupture[0].text
    assert "Repair: acknowledged own contribution" in rupture[0].text
    assert "Outcome: unresolved" in rupture[0].text
    plan = next(s for s in rapport if s.lead == "Alliance plan")
    assert plan.text == "Not documented." and plan.emphasis == "attention"
    assert not any("rupture" in s.text.lower() for s in note.section("plan").statements)
    assert [p.code for p in note.prompts] == ["unresolved_rupture"]  # review material only
    minimal["rapport"]["alliance_plan"] = ["Name the push next session and ask how it landed"]
    note = build_note(SessionObservation.model_validate(minimal), extract=False)
    plan = next(s for s in note.section("rapport").statements if s.lead == "Alliance plan")
    assert plan.text == "Name the push next session and ask how it landed."
    assert not note.prompts


def test_no_alliance_plan_line_without_a_concern_or_an_item(minimal):
    minimal["rapport"] = {"ruptures": [{**RUPTURE, "resolved": "yes"}]}
    note = build_note(SessionObservation.model_validate(minimal), extract=False)
    assert not any(s.lead == "Alliance plan" for s in note.section("rapport").statements)


def test_pending_suggestions_stay_off_the_record(minimal):
    obs = SessionObservation.model_validate(minimal)
    s1 = "Pt disclosed the assault for the first time."
    note = build_note(obs, cues=[_cue("engagement.disclosure", "disclosed", s1)])
    assert "disclosed" not in _all_text(note).lower()
    assert [s.status for s in note.suggestions] == ["pending"]
    assert note.suggestions[0].statement == "Client disclosed personal material."
    assert note.suggestions[0].sentence == s1 and note.pending == note.suggestions


def test_accepted_suggestion_reads_as_prose_with_provenance_apart(minimal):
    s1 = "Pt disclosed the assault for the first time."
    s2 = "No signs of withdrawal; did not change the subject."
    cues = [_cue("engagement.disclosure", "disclosed", s1),
            _cue("withdrawal.shifting_topic", "change the subject", s2, finding=False,
                 negated=True)]
    obs = _accepting(minimal, cues)
    note = build_note(obs, cues=cues)
    eng = next(s for s in note.section("rapport").statements if s.lead == "Engagement")
    assert eng.text == "Client disclosed personal material."
    src = eng.sources[0]
    assert (src.kind, src.label, src.start_char) == ("suggestion", "engagement.disclosure",
                                                    s1.find("disclosed"))
    assert src.accepted_by == "Test Clinician" and src.accepted_at == AT.isoformat()
    body = _all_text(note)
    assert "assault" not in body and "engagement." not in body and "shifting" not in body
    assert len(note.suggestions) == 1  # the negated cue is never offered


def test_rejected_suggestion_is_remembered_and_not_printed(minimal):
    from rapportnotes.api import suggest
    from rapportnotes.review import apply_decisions

    s1 = "Pt disclosed the assault for the first time."
    cues = [_cue("engagement.disclosure", "disclosed", s1)]
    obs = SessionObservation.model_validate(minimal)
    (sug,) = suggest(obs, cues=cues)
    obs = apply_decisions(obs, [decide(sug, "rejected", by="TC", at=AT)])
    note = build_note(obs, cues=cues)
    assert [s.status for s in note.suggestions] == ["rejected"] and not note.pending
    assert not any(s.lead == "Engagement" for s in note.section("rapport").statements)


def test_caregiver_actor_is_named_by_role(minimal):
    minimal["session"].update(participants="with_caregiver", others_present=["mother"])
    sent = "Mother agreed to try the feelings check at home."
    cue = _cue("engagement.collaboration", "agreed", sent, experiencer="caregiver")
    note = build_note(_accepting(minimal, [cue]), cues=[cue])
    eng = next(s for s in note.section("rapport").statements if s.lead == "Engagement")
    assert eng.text == "Mother collaborated on goals or plan."


def test_accepted_repair_attaches_to_the_entered_rupture_only_in_order(minimal):
    minimal["rapport"] = {"ruptures": [{**RUPTURE, "repairs": [], "resolved": "yes"}]}
    sent = "Gave one-word answers; writer explained the rationale; pt re-engaged."
    cues = [_cue("withdrawal.minimal_response", "one-word answers", sent),
            _cue("repair.rationale", "explained the rationale", sent, experiencer="therapist"),
            _cue("repair.reengaged", "re-engaged", sent)]
    note = build_note(_accepting(minimal, cues), cues=cues)
    rapport = note.section("rapport").statements
    (rupture,) = [s for s in rapport if s.lead == "Rupture"]
    assert "Repair: explained the rationale. Outcome: resolved." in rupture.text
    assert not note.review_messages
    assert not any(s.lead in ("Engagement", "Alliance repair") for s in rapport)


def test_reengagement_never_contradicts_an_unresolved_rupture(minimal):
    minimal["rapport"] = {"ruptures": [RUPTURE]}
    sent = "Gave one-word answers; by the end pt re-engaged, then left 13 min early."
    cues = [_cue("withdrawal.minimal_response", "one-word answers", sent),
            _cue("repair.reengaged", "re-engaged", sent)]
    note = build_note(_accepting(minimal, cues), cues=cues)
    body = _all_text(note).lower()
    assert "re-engaged" not in body and "Outcome: unresolved" in _all_text(note)
    assert any("contradicts rapport.ruptures[0].resolved" in m for m in note.review_messages)


def test_reengagement_before_any_marker_does_not_attach(minimal):
    minimal["rapport"] = {"ruptures": [{**RUPTURE, "resolved": "partly"}]}
    sent = "Pt re-engaged with the plan early on; later gave one-word answers."
    cues = [_cue("repair.reengaged", "re-engaged", sent),
            _cue("withdrawal.minimal_response", "one-word answers", sent)]
    note = build_note(_accepting(minimal, cues, labels={"repair.reengaged"}), cues=cues)
    assert any("does not follow a marker" in m for m in note.review_messages)
    assert "re-engaged" not in _all_text(note).lower()


def test_accepted_rupture_markers_without_an_entered_event_read_once(minimal):
    sent = "Pt said therapy is going nowhere; writer invited feedback on sessions."
    cues = [_cue("confrontation.complaint_progress", "going nowhere", sent),
            _cue("repair.invite_discussion", "invited feedback", sent, experiencer="therapist")]
    note = build_note(_accepting(minimal, cues), cues=cues)
    (st,) = [s for s in note.section("rapport").statements if s.lead == "Rupture"]
    assert st.text == ("confrontation — Client said therapy is not helping. Repair: "
                       "Therapist invited feedback on the therapy. Outcome: not documented.")
    assert {src.label for src in st.sources} == {"confrontation.complaint_progress",
                                                  "repair.invite_discussion"}


def test_attendance_structured_wins_and_accepted_extra_is_added(minimal):
    minimal["rapport"] = {"attendance": {"minutes_late": 15, "left_early_minutes": 0}}
    sent = "Arrived 15 min late; cancelled last week's session."
    cues = [_cue("attendance.late", "late", sent),
            _cue("attendance.cancellation", "cancelled", sent)]
    rapport = build_note(_accepting(minimal, cues), cues=cues).section("rapport").statements
    (att,) = [s for s in rapport if s.lead == "Attendance"]
    assert att.text == "15 min late; stayed for the full session. Client cancelled a session."


def test_unscorable_measure_is_shown_not_dropped(minimal):
    minimal["rapport"] = {"measures": [{"measure": "srs", "items": [9, 9, 11, 9]}]}
    note = build_note(SessionObservation.model_validate(minimal), extract=False)
    st = next(s for s in note.section("rapport").statements if s.lead == "Measure not scored")
    assert "rapport.measures[0]" in st.text and st.emphasis == "attention"


def test_previous_unresolved_rupture_is_a_fact_not_a_plan_line(minimal):
    prev = {**minimal, "session": {**minimal["session"], "date": "2026-04-27", "number": 1},
            "rapport": {"ruptures": [RUPTURE]}}
    obs = SessionObservation.model_validate(minimal)
    note = build_note(obs, history=[SessionObservation.model_validate(prev)], extract=False)
    (prev_line,) = [s for s in note.section("rapport").statements
                    if s.lead == "Previous session"]
    assert "unresolved withdrawal rupture (minimal response) (session 1, 2026-04-27)" \
        in prev_line.text
    assert not any(s.lead in ("Carried forward", "Alliance")
                   for s in note.section("plan").statements)


def test_history_of_another_client_is_refused(minimal):
    other = {**minimal, "client": {"id": "T-9999"},
             "session": {**minimal["session"], "date": "2026-04-27"}}
    with pytest.raises(InputError, match=r"history\[0\]: client.id differs"):
        build_note(SessionObservation.model_validate(minimal),
                   history=[SessionObservation.model_validate(other)], extract=False)


def test_history_must_be_earlier(minimal):
    same_day = {**minimal, "session": {**minimal["session"]}}
    with pytest.raises(InputError, match="not earlier"):
        build_note(SessionObservation.model_validate(minimal),
                   history=[SessionObservation.model_validate(same_day)], extract=False)


def test_risk_keeps_report_and_formulation_apart(minimal):
    minimal["risk"] = {
        "suicidal_ideation": {"assessed": True, "reported": "passive", "level": "low"},
        "homicidal_ideation": {"assessed": False},
        "overdose": {"assessed": True, "level": "moderate", "detail": "uses alone"},
        "formulation": {"acute": "low", "chronic": "moderate"}}
    note = build_note(SessionObservation.model_validate(minimal), extract=False)
    risk = {s.lead: s.text for s in note.section("assessment").statements}
    assert risk["Risk"] == ("Suicidal ideation: passive ideation reported, clinician-rated low "
                            "risk; Homicidal ideation: not assessed; Self-harm: not documented; "
                            "Overdose risk: clinician-rated moderate risk (uses alone).")
    assert risk["Risk formulation"] == "acute low, chronic moderate."


def test_legacy_risk_level_reads_as_the_clients_report(minimal):
    minimal["risk"] = {"suicidal_ideation": {"assessed": True, "level": "denied"}}
    obs = SessionObservation.model_validate(minimal)
    assert obs.risk.suicidal_ideation.reported == "denied"
    assert obs.risk.suicidal_ideation.level is None


def test_draft_status_and_final_default(minimal):
    obs = SessionObservation.model_validate(minimal)
    assert build_note(obs, extract=False).status == "final"
    assert build_note(obs, extract=False, draft=True).status == "draft"


def test_build_is_deterministic(example_paths):
    from rapportnotes.io import load_session

    obs = load_session(example_paths[0])
    assert build_note(obs, extract=False) == build_note(obs, extract=False)
