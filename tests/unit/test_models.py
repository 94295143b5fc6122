from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from rapportnotes.models import SessionObservation, clean_text


def test_minimal_session_validates_and_derives_duration(minimal):
    obs = SessionObservation.model_validate(minimal)
    assert obs.session.duration_minutes == 50
    assert obs.rapport.ruptures == []
    assert obs.risk.suicidal_ideation is None  # absent means "not assessed", no default


@pytest.mark.parametrize("missing", ["client", "clinician", "session"])
def test_required_blocks(minimal, missing):
    del minimal[missing]
    with pytest.raises(ValidationError) as err:
        SessionObservation.model_validate(minimal)
    assert err.value.errors()[0]["loc"] == (missing,)


def test_missing_client_id(minimal):
    minimal["client"] = {"name": "A. B."}
    with pytest.raises(ValidationError) as err:
        SessionObservation.model_validate(minimal)
    assert err.value.errors()[0]["loc"] == ("client", "id")


def test_end_before_start_is_an_error(minimal):
    minimal["session"]["end_time"] = "08:59"
    with pytest.raises(ValidationError, match="end_time must be after start_time"):
        SessionObservation.model_validate(minimal)


def test_unknown_keys_rejected_at_every_level(minimal):
    minimal["rapport"] = {"atendance": {}}
    with pytest.raises(ValidationError) as err:
        SessionObservation.model_validate(minimal)
    assert err.value.errors()[0]["type"] == "extra_forbidden"


@pytest.mark.parametrize("code,ok", [("F33.1", True), ("F43.23", True), ("Z62.820", True),
                                     ("F3", False), ("33.1", False), ("U07.1", False)])
def test_icd10_format(minimal, code, ok):
    minimal["session"]["diagnoses"] = [{"code": code}]
    if ok:
        SessionObservation.model_validate(minimal)
    else:
        with pytest.raises(ValidationError):
            SessionObservation.model_validate(minimal)


@pytest.mark.parametrize("code,ok", [("90837", True), ("0001F", True), ("9083", False),
                                     ("90837-95", False)])
def test_cpt_format(minimal, code, ok):
    minimal["session"]["cpt_code"] = code
    if ok:
        SessionObservation.model_validate(minimal)
    else:
        with pytest.raises(ValidationError):
            SessionObservation.model_validate(minimal)


def test_risk_level_required_iff_assessed(minimal):
    minimal["risk"] = {"suicidal_ideation": {"assessed": True}}
    with pytest.raises(ValidationError, match="level is required"):
        SessionObservation.model_validate(minimal)
    minimal["risk"] = {"suicidal_ideation": {"assessed": False, "level": "low"}}
    with pytest.raises(ValidationError, match="level must be omitted"):
        SessionObservation.model_validate(minimal)


def test_rupture_markers_must_match_kind(minimal):
    minimal["rapport"] = {"ruptures": [{"kind": "withdrawal",
                                        "markers": ["confrontation.complaint_progress"],
                                        "resolved": "no"}]}
    with pytest.raises(ValidationError, match="do not belong to kind"):
        SessionObservation.model_validate(minimal)


def test_rupture_marker_must_be_a_taxonomy_label(minimal):
    minimal["rapport"] = {"ruptures": [{"kind": "withdrawal", "markers": ["withdrawal.sulking"],
                                        "resolved": "no"}]}
    with pytest.raises(ValidationError):
        SessionObservation.model_validate(minimal)


def test_caregiver_alliance_requires_caregiver_participant(minimal):
    minimal["rapport"] = {"caregiver_alliance": {"caregiver": "mother"}}
    with pytest.raises(ValidationError, match="caregiver_alliance requires"):
        SessionObservation.model_validate(minimal)
    minimal["session"]["participants"] = "with_caregiver"
    SessionObservation.model_validate(minimal)


def test_mse_domain_cannot_be_both(minimal):
    minimal["objective"] = {"mental_status": {"mood": "low"}, "not_assessed": ["mood"]}
    with pytest.raises(ValidationError, match="both assessed and not assessed"):
        SessionObservation.model_validate(minimal)


def test_free_text_is_cleaned():
    assert clean_text("a\x00b\x07c\u200b\r\nd\x1b[31m") == "abc\u200b\nd[31m"
    assert clean_text("e\u0301") == "\u00e9"  # NFC
    assert clean_text("x\ud800y") == "xy"


def test_blank_text_rejected(minimal):
    minimal["clinician_notes"] = " \x00\x01 "
    with pytest.raises(ValidationError, match="must not be empty"):
        SessionObservation.model_validate(minimal)


def test_huge_notes_rejected_with_a_limit(minimal):
    minimal["clinician_notes"] = "word " * 50_000  # 250k chars
    with pytest.raises(ValidationError) as err:
        SessionObservation.model_validate(minimal)
    assert err.value.errors()[0]["loc"] == ("clinician_notes",)


def test_examples_validate(example_paths):
    for p in example_paths:
        SessionObservation.model_validate(json.loads(p.read_text(encoding="utf-8")))


def test_json_schema_is_generated_and_strict():
    schema = SessionObservation.model_json_schema()
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == {"client", "clinician", "session"}
    client = schema["$defs"]["Client"]
    assert client["required"] == ["id"]


def test_a_dumped_session_reads_back_and_a_wrong_duration_is_refused(minimal):
    """model_dump carries the derived duration; validating the dump must give the same
    session, and a duration that disagrees with the times is an error, not ignored."""
    import pydantic

    obs = SessionObservation.model_validate(minimal)
    dumped = obs.model_dump(mode="json")
    assert dumped["session"]["duration_minutes"] == 50
    assert SessionObservation.model_validate(dumped) == obs
    dumped["session"]["duration_minutes"] = 45
    with pytest.raises(pydantic.ValidationError, match="duration_minutes is derived"):
        SessionObservation.model_validate(dumped)


def test_trusted_cue_is_the_validated_cue():
    """Cue.trusted (the extractor's fast constructor) builds what validation builds: the
    same equality, hash, dump and key order; unknown or missing fields are refused."""
    from rapportnotes.cues import Cue

    values = dict(label="engagement.participation", category="engagement",
                  subtype="participation", text="joined in", start_char=3, end_char=12,
                  sentence="Pt joined in.", actor="client", is_finding=True, source="x")
    fast, checked = Cue.trusted(values), Cue(**values)
    assert fast == checked and hash(fast) == hash(checked)
    assert fast.model_dump_json() == checked.model_dump_json()
    with pytest.raises(TypeError, match="missing"):
        Cue.trusted({k: v for k, v in values.items() if k != "label"})
    with pytest.raises(TypeError, match="unknown"):
        Cue.trusted({**values, "colour": "red"})


def test_updated_sets_fields_in_place_and_refuses_unknown_ones():
    from rapportnotes.cues import Cue

    cue = Cue.trusted(dict(label="engagement.participation", category="engagement",
                           subtype="participation", text="t", start_char=0, end_char=1,
                           sentence="t", is_finding=True))
    same = cue.updated({"confidence": 0.8, "vetoed": True})
    assert same is cue and cue.confidence == 0.8 and cue.vetoed
    assert {"confidence", "vetoed"} <= cue.model_fields_set
    with pytest.raises(TypeError, match="unknown"):
        cue.updated({"colour": "red"})
