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
