"""Unit tests of the rapport_cues matcher and the public extraction API."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import pytest

from rapportnotes.cues import Cue
from rapportnotes.errors import RapportNotesError
from rapportnotes.extractors import (
    BasePipelineNotFoundError,
    CueExtractor,
    build_pipeline,
    extract_cues,
    iter_cue_json_lines,
)
from rapportnotes.extractors.rules import RuleFileError
from rapportnotes.taxonomy import LABELS


def findings(text: str) -> set[str]:
    return {c.label for c in extract_cues(text) if c.is_finding}


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Pt arrived 20 minutes late.", "attendance.late"),
        ("Client arrives 5 min late again.", "attendance.late"),
        ("Cl refused to try the breathing exercise.", "confrontation.rejects_intervention"),
        ("Pt refuses the grounding exercise.", "confrontation.rejects_intervention"),
        ("Brought completed HW.", "engagement.homework"),
        ("Pt completing thought records daily.", "engagement.homework"),
        ("Pt c/o the parking fees at the clinic.", "confrontation.complaint_parameters"),
        ("Pt no-showed; called later.", "attendance.no_show"),
        ("Cancelled appt by text.", "attendance.cancellation"),
        ("Guarded. Monosyllabic.", "withdrawal.minimal_response"),
        ("Said 'nothing will ever help me, I'm broken'.",
         "withdrawal.self_criticism_hopelessness"),
        ("Stated writer 'doesn't get it'.", "confrontation.complaint_therapist"),
        ("Pt co-developed tx plan w/ writer.", "engagement.collaboration"),
        ("Redirected pt to the agenda.", "repair.redirect"),
        ("Explained the rationale for the thought record.", "repair.rationale"),
        ("Intellectualized when asked how she felt.", "withdrawal.abstract_communication"),
    ],
)
def test_matcher_inflections_abbreviations_fragments(text: str, label: str) -> None:
    assert label in findings(text)


def test_every_label_has_rules() -> None:
    from rapportnotes.extractors.rules import CueRule, packaged_text, read_jsonl

    rules = read_jsonl(packaged_text("cues.jsonl"), CueRule, "cues.jsonl")
    assert {r.label for r in rules if r.label} == set(LABELS)


def test_results_in_span_group_not_ents() -> None:
    nlp = build_pipeline()
    doc = nlp("Pt gave one-word answers.")
    assert [s.label_ for s in doc.spans["rapport_cues"]] == ["withdrawal.minimal_response"]
    assert not doc.ents
    assert doc[1].lemma_ == "give"


def test_cue_records_offsets_and_sorted() -> None:
    text = "Left 15 minutes early. Earlier, arrived 10 min late."
    cues = extract_cues(text, source="session.notes")
    assert [c.start_char for c in cues] == sorted(c.start_char for c in cues)
    for cue in cues:
        assert isinstance(cue, Cue)
        assert text[cue.start_char:cue.end_char] == cue.text
        assert cue.text in cue.sentence
        assert cue.source == "session.notes"
        assert cue.category == cue.label.split(".")[0]


@pytest.mark.parametrize(
    ("text", "not_label"),
    [
        ("Pt's late mother's estate is in probate.", "attendance.late"),
        ("Hx of alcohol withdrawal seizures.", "withdrawal.minimal_response"),
        ("Client engaged to be married in June.", "engagement.participation"),
        ("Reports minimal side effects from sertraline.", "withdrawal.minimal_response"),
        ("Pt withdrew money from savings.", "withdrawal.minimal_response"),
        ("Late to work 3x this week.", "attendance.late"),
        ("Teacher reports student left class early.", "attendance.left_early"),
        ("Denies SI/HI.", "withdrawal.denial"),
        ("HW assigned: daily thought log.", "engagement.homework"),
    ],
)
def test_special_cases_are_not_findings(text: str, not_label: str) -> None:
    assert not_label not in findings(text)


def test_trigger_words_inside_cue_phrases() -> None:
    assert "attendance.no_show" in findings("No-show today.")
    assert "attendance.no_show" in findings("Pt did not attend today's session.")
    assert "withdrawal.minimal_response" in findings("Teen would not respond to questions.")
    guarded = [c for c in extract_cues("Pt no longer guarded; talked freely.")
               if c.label == "engagement.participation"]
    assert guarded and not any(c.negated for c in guarded)  # "no longer" is no negation
    cues = extract_cues("Pt didn't complete HW this week.")
    hw = [c for c in cues if c.label == "engagement.homework"]
    assert hw and all(c.negated and not c.is_finding for c in hw)
    not_engaged = [c for c in extract_cues("Pt was not engaged.")
                   if c.label == "engagement.participation"]
    assert not_engaged and not_engaged[0].negated


def test_denial_marker_needs_visible_feeling() -> None:
    assert "withdrawal.denial" in findings("Denied being upset although tearful.")
    assert "withdrawal.denial" not in findings("Denied being upset; affect congruent.")


@pytest.mark.parametrize(
    "text",
    ["", " ", "\x00\x01\x02", "\ud800 lone surrogate", "🙂 émoji ｆｕｌｌ width", "\n\n\n",
     "'" * 50, "((((", "late " * 1000],
)
def test_weird_input_does_not_crash(text: str) -> None:
    cues = extract_cues(text)
    assert isinstance(cues, list)


def test_large_text_is_chunked() -> None:
    para = "Pt arrived 10 min late and gave one-word answers. " * 40 + "\n\n"
    text = para * 550  # > 1 MB
    assert len(text) > 1_000_000
    cues = CueExtractor().extract(text)
    assert len(cues) >= 2 * 40 * 550 * 0.99
    assert all(text[c.start_char:c.end_char] == c.text for c in cues[:: 997])


def test_no_logging_of_text(caplog: pytest.LogCaptureFixture) -> None:
    secret = "Zyxwvut disclosed the assault to writer."
    with caplog.at_level(logging.DEBUG):
        extract_cues(secret)
    assert "Zyxwvut" not in caplog.text


def test_iter_cue_json_lines() -> None:
    lines = list(iter_cue_json_lines("Arrived 20 minutes late."))
    assert lines
    record = json.loads(lines[0])
    assert record["label"] == "attendance.late"
    assert record["is_finding"] is True


def test_pipe_keeps_order_and_empty_texts() -> None:
    ex = CueExtractor()
    out = list(ex.pipe(["Arrived 5 min late.", "", "Left early.", "Nothing here."]))
    assert [len(c) > 0 for c in out] == [True, False, True, False]


def test_unknown_base_pipeline_is_clear_error() -> None:
    with pytest.raises(BasePipelineNotFoundError) as info:
        build_pipeline(base="en_core_web_not_installed")
    assert isinstance(info.value, RapportNotesError)


def test_bad_rule_line_names_file_and_line() -> None:
    from rapportnotes.extractors.rules import CueRule, read_jsonl

    good = '{"id": "a", "label": "attendance.late", "seq": "late"}'
    with pytest.raises(RuleFileError, match=r"cues\.jsonl, line 2: not valid JSON"):
        read_jsonl(good + "\n{oops", CueRule, "cues.jsonl")
    with pytest.raises(RuleFileError, match=r"line 3: label"):
        read_jsonl(good + "\n\n" + '{"id": "b", "label": "no.such", "seq": "x"}', CueRule,
                   "cues.jsonl")
    with pytest.raises(RuleFileError, match="line 1"):
        read_jsonl('{"id": "c", "label": "attendance.late", "seq": "x", "extra": 1}',
                   CueRule, "cues.jsonl")


def test_bad_rule_text_fails_on_compile() -> None:
    from rapportnotes.extractors.cue_ruler import CueRuler

    nlp = build_pipeline()
    ruler = CueRuler(nlp, cue_rules='{"id": "x", "label": "attendance.late", "seq": "@nope"}')
    with pytest.raises(RuleFileError, match="unknown lexicon entry"):
        ruler(nlp.make_doc("late"))


def test_import_rapportnotes_does_not_import_spacy() -> None:
    code = ("import sys, rapportnotes; "
            "bad = [m for m in sys.modules if m == 'spacy' or m.startswith('spacy.') "
            "or m.startswith('rapportnotes.extractors')]; print(bad); assert not bad")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("text", "label"),
    [("Said she was frightened of ending up like her mother.", "engagement.disclosure"),
     ("Explained that he drinks before bed so he won't feel the panic.",
      "engagement.disclosure"),
     ("Stood up and went back to the ward twenty minutes before we were done.",
      "attendance.left_early"),
     ("Following my apology she nodded and started describing the fight.",
      "repair.reengaged"),
     ("Said this group is the only thing that keeps her going.", "engagement.collaboration"),
     ("Called himself 'worthless' and too far gone for therapy to help.",
          "withdrawal.self_criticism_hopelessness"),
     ("Said she felt grilled by me about the relapse.", "confrontation.complaint_therapist"),
     ("Said I always take her sister's side.", "confrontation.complaint_therapist"),
     ("I ditched the chain analysis and we just talked.", "repair.change_task"),
     ("I wondered with her whether it's hard to disagree with me.",
      "repair.invite_discussion"),
     ("Checked in about how the session was landing.", "repair.invite_discussion"),
     ("We went back to the coping plan.", "repair.redirect"),
     ("Affirmed that staying guarded has protected her.", "repair.validate_defense"),
     ("Wouldn't go near the breathing exercise.", "confrontation.rejects_intervention"),
     ("Answers were 'fine' and 'whatever' all hour.", "withdrawal.minimal_response"),
     ("Kept everything at arm's length.", "withdrawal.abstract_communication"),
     ("Each time I raised his dad he started talking about fishing.",
      "withdrawal.shifting_topic"),
     ("Chuckling while telling me about the eviction.", "withdrawal.content_affect_split"),
     ("Said the office won't do Saturday sessions.", "confrontation.complaint_parameters")],
)
def test_round2_families(text: str, label: str) -> None:
    assert label in findings(text)


@pytest.mark.parametrize(
    ("text", "label"),
    [("Insisted I tell her sister she is wrong.", "withdrawal.self_criticism_hopelessness"),
     ("Demanded more respect from me.", "repair.validate_defense"),
     ("Went silent whenever I asked about his job.", "withdrawal.shifting_topic"),
     ("Shut down when I brought up the exposure.", "confrontation.rejects_intervention"),
     ("Did not come to the scheduled session.", "confrontation.complaint_progress"),
     ("Refused to do the exposure.", "engagement.homework"),
     ("I acknowledged that keeping quiet has kept him safe.",
      "repair.acknowledge_contribution")],
)
def test_round2_precision(text: str, label: str) -> None:
    assert label not in findings(text)


@pytest.mark.parametrize(
    ("text", "label"),
    [("Laughed while recalling the night he was choked by a stranger.",
      "withdrawal.content_affect_split"),
     ("Says she's tired of talking about emotions in here.",
      "confrontation.complaint_activities"),
     ("Called the body scan touchy-feely stuff.", "confrontation.complaint_activities"),
     ("Said the waitlist situation is absurd.", "confrontation.complaint_parameters"),
     ("Protested the no-show fee.", "confrontation.complaint_parameters"),
     ("Refused to do the genogram.", "confrontation.rejects_intervention"),
     ("Said nothing we try in therapy helps.", "confrontation.complaint_progress"),
     pytest.param("Mom said the counselor is way too lenient with him.",
                  "confrontation.complaint_therapist", marks=pytest.mark.xfail(
                      strict=True, reason="known miss since 2026-12-04 (third round): the "
                      "model vetoes it (p 0.14)")),
     ("Wondered whether these feelings of being overlooked come up with her coworkers.",
      "repair.link_pattern"),
     ("Walked out of the session after 25 minutes.", "attendance.left_early"),
     pytest.param("Let her pick the game.", "repair.change_task", marks=pytest.mark.xfail(
         strict=True, reason="known miss since 2026-12-06 (fifth round): the model vetoes "
         "the rule finding (p 0.11 < 0.2)")),
     pytest.param("Invited writer to join his play.", "engagement.participation",
                  marks=pytest.mark.xfail(strict=True, reason="known miss since 2026-12-06 "
                                          "(fifth round): the model vetoes it (p 0.10)")),
     ("Volunteered to lead the check-in.", "engagement.participation")],
)
def test_round3_families(text: str, label: str) -> None:
    assert label in findings(text)


@pytest.mark.parametrize(
    ("text", "label"),
    [("Her brother's engagement fell through.", "engagement.participation"),
     ("Responsive to questions, speech clear.", "engagement.participation"),
     ("Described feeling fairly calm lately.", "engagement.disclosure"),
     ("Said she'd forgotten about group until staff knocked.", "engagement.disclosure"),
     ("Pt to complete the craving log before the next visit.", "engagement.homework"),
     ("Coach says he refuses to run drills.", "confrontation.rejects_intervention"),
     ("Felt relieved to have told someone.", "repair.reengaged"),
     ("Switched to psychoeducation about sleep.", "repair.rationale"),
     ("Asked if we could meet less often because of the copay.",
      "repair.invite_discussion")],
)
def test_round3_precision(text: str, label: str) -> None:
    assert label not in findings(text)


@pytest.mark.parametrize("text", [
    "Acknowledged drinking has increased; not interested in changing it.",
    "Pt admitted her cannabis use is daily again.",
])
def test_client_owning_own_behaviour_is_not_therapist_acknowledgment(text):
    from rapportnotes.extractors import extract_cues

    assert not [c for c in extract_cues(text)
                if c.label == "repair.acknowledge_contribution" and c.is_finding]


def test_therapist_acknowledgment_still_found():
    from rapportnotes.extractors import extract_cues

    cues = extract_cues("Writer acknowledged pushing the pace too quickly.")
    assert [c.label for c in cues if c.is_finding] == ["repair.acknowledge_contribution"]


def test_therapist_acknowledging_own_time_allocation_still_found():
    from rapportnotes.extractors import extract_cues

    cues = extract_cues("Writer acknowledged spending more time on the partner's account.")
    assert "repair.acknowledge_contribution" in {c.label for c in cues if c.is_finding}


@pytest.mark.parametrize(
    ("text", "label"),
    [
        pytest.param("Participation: good.", "engagement.participation",
                     marks=pytest.mark.xfail(strict=True, reason="known miss since 2026-12-06 "
                                             "(fifth round): the model vetoes it (p 0.15)")),
        # known misses from 2026-12-04 to the model of 2026-12-06
        ("Patient engagement: strong this visit.", "engagement.participation"),
        ("In group, pt passed on his turn twice.", "withdrawal.minimal_response"),
        ("Pt agreed with plan to increase the dose.", "engagement.collaboration"),
        pytest.param("Member yelled at the facilitator during check-in.",
                     "confrontation.complaint_therapist", marks=pytest.mark.xfail(
                         strict=True, reason="known miss since 2026-12-03: the sentence model "
                         "vetoes this rule finding (p 0.04); see docs/extractor-rounds.md")),
    ],
)
def test_round4_families(text: str, label: str) -> None:
    assert label in findings(text)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Participation: limited.", "engagement.participation"),
        ("Pt asked for more frequent appointments.", "engagement.participation"),
        ("Several group members left early for a bus.", "attendance.left_early"),
        ("Other members complained the worksheets were boring.",
         "confrontation.complaint_activities"),
        ("Her sister's engagement was called off.", "engagement.participation"),
    ],
)
def test_round4_precision(text: str, label: str) -> None:
    assert label not in findings(text)


def test_pipe_tags_each_text_with_its_source() -> None:
    from rapportnotes.extractors import CueExtractor

    ex = CueExtractor()
    texts = ["Pt arrived 20 min late.", "", "Writer validated her frustration."]
    out = list(ex.pipe(texts, sources=["a.notes", "b", "c.notes"]))
    assert [c.source for c in out[0]] == ["a.notes"] * len(out[0]) and out[0]
    assert out[1] == []
    assert out[2] and {c.source for c in out[2]} == {"c.notes"}
    assert out == [ex.extract(t, source=s)
                   for t, s in zip(texts, ["a.notes", "b", "c.notes"], strict=True)]
    import pytest

    with pytest.raises(ValueError, match="sources"):
        list(ex.pipe(texts, sources=["only-one"]))
