from __future__ import annotations

from rapportnotes.checks import consistency_warnings
from rapportnotes.models import SessionObservation


def _obs(minimal, **session):
    minimal["session"].update(session)
    return SessionObservation.model_validate(minimal)


def test_cpt_time_rules(minimal):
    # minimal session lasts 50 minutes
    assert consistency_warnings(_obs(minimal, cpt_code="90834")) == []
    assert consistency_warnings(_obs(minimal, cpt_code="90837")) == [
        "session.cpt_code 90837 expects 53+ min; session lasted 50 min"]
    assert consistency_warnings(_obs(minimal, cpt_code="90832")) == [
        "session.cpt_code 90832 expects 16–37 min; session lasted 50 min"]


def test_telehealth_place_of_service(minimal):
    w = consistency_warnings(_obs(minimal, modality="telehealth_video", place_of_service="11"))
    assert w == ["session.place_of_service 11 is not a telehealth POS (02 or 10) for a "
                 "telehealth session"]
    w = consistency_warnings(_obs(minimal, modality="in_person", place_of_service="10"))
    assert len(w) == 1 and "is a telehealth POS" in w[0]


def test_examples_have_no_warnings(example_paths):
    from rapportnotes.io import load_session

    for p in example_paths:
        assert consistency_warnings(load_session(p)) == [], p.name


def test_free_text_risk_mention_without_a_risk_field_warns(minimal):
    from rapportnotes.checks import consistency_warnings
    from rapportnotes.models import SessionObservation

    minimal["clinician_notes"] = "Denies SI/HI; safety plan on file."
    warnings = consistency_warnings(SessionObservation.model_validate(minimal))
    (w,) = [w for w in warnings if "mention(s) suicidal ideation" in w]
    assert w.startswith("clinician_notes mention(s) suicidal ideation but risk.suicidal_ideation")
    assert any("risk.homicidal_ideation is not documented" in x for x in warnings)
    assert "Denies" not in w  # never a field value
    minimal["risk"] = {"suicidal_ideation": {"assessed": True, "reported": "denied"},
                       "homicidal_ideation": {"assessed": True, "reported": "denied"},
                       "self_harm": {"assessed": False}}
    assert not [w for w in consistency_warnings(SessionObservation.model_validate(minimal))
                if "mention(s) risk" in w]


def test_unresolved_rupture_without_alliance_plan_warns(minimal):
    from rapportnotes.checks import consistency_warnings
    from rapportnotes.models import SessionObservation

    minimal["rapport"] = {"ruptures": [{"kind": "withdrawal", "resolved": "no",
                                        "markers": ["withdrawal.minimal_response"]}]}
    assert any("alliance_plan is empty" in w
               for w in consistency_warnings(SessionObservation.model_validate(minimal)))
