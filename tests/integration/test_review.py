"""Review: suggestions are reviewed before anything machine-inferred enters the note.

Fixture sessions in tests/data/review/ carry the failure families of the note issue in the
project's own words (a caregiver's, a partner's and a group member's actions, a past
therapist, a walk-out, a suicidal statement, a broken tablet, "no complaints toward
writer"): the final note states none of them, and each suggestion has the right actor.
"""

from __future__ import annotations

import json
import shutil
import sys
from datetime import datetime

import pytest

from rapportnotes import build_note, load_session, render
from rapportnotes.api import provenance, suggest
from rapportnotes.cli import main
from rapportnotes.cues import Cue
from rapportnotes.models import SessionObservation
from rapportnotes.review import AcceptancePolicy, apply_decisions, decide, match_decisions
from tests.conftest import ROOT

REVIEW = ROOT / "tests" / "data" / "review"

EXPECTED = {
    "family-caregiver.json": {("engagement.collaboration", "caregiver", "mother"),
                              ("confrontation.complaint_parameters", "caregiver", "mother"),
                              ("repair.rationale", "therapist", None)},
    "couple-partner.json": {("confrontation.complaint_activities", "client", None)},
    "group-member.json": {("engagement.disclosure", "client", None),
                          ("engagement.participation", "client", None),
                          ("repair.invite_discussion", "therapist", None)},
    "individual-risk.json": {("attendance.late", "client", None),
                             ("attendance.left_early", "client", None)},
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_failure_family_sessions_suggest_with_the_right_actor(name):
    obs = load_session(REVIEW / name)
    got = {(s.label, s.actor, s.actor_role) for s in suggest(obs)}
    assert got == EXPECTED[name]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_failure_family_sessions_render_a_final_note_stating_none_of_it(name):
    obs = load_session(REVIEW / name)
    md = render(build_note(obs), "md").decode()
    body = md.lower()
    for sentence in obs.clinician_notes.split(". "):
        assert sentence.lower().rstrip(".") not in body
    for word in ("overdose", "previous therapist", "ending it", "tablet", "complain",
                 "father", "re-engaged", "one-word", "[cue"):
        assert word not in body, word


def _cue(label, text, sentence, start_offset=0, **kw):
    cat, sub = label.split(".")
    start = sentence.find(text) + start_offset
    kw.setdefault("is_finding", True)
    return Cue(label=label, category=cat, subtype=sub, text=text, start_char=start,
               end_char=start + len(text), sentence=sentence, source="clinician_notes",
               **kw)


def test_decisions_survive_a_re_extraction_or_are_reported(minimal):
    obs = SessionObservation.model_validate(minimal)
    s1, s2 = "Pt disclosed the affair.", "Pt gave one-word answers."
    first = [_cue("engagement.disclosure", "disclosed", s1),
             _cue("withdrawal.minimal_response", "one-word answers", s2, 30)]
    at = datetime(2026, 5, 4, 10)
    obs = apply_decisions(obs, [decide(s, "accepted", by="TC", at=at)
                                for s in suggest(obs, cues=first)])
    # new rules: the first span grew, the second sentence was edited away
    second = [_cue("engagement.disclosure", "disclosed the affair", s1),
              _cue("withdrawal.minimal_response", "one-word", "Pt gave one-word replies.", 30)]
    state = match_decisions(suggest(obs, cues=second), obs.review.decisions)
    assert [s.status for s in state.suggestions] == ["accepted", "pending"]
    assert state.relocated == [0]
    assert [i for i, _ in state.orphaned] == [1]
    note = build_note(obs, cues=second)
    assert any("review.decisions[1]" in m and "no longer matches" in m
               for m in note.review_messages)


def test_a_decided_mention_a_later_model_vetoes_keeps_its_decision(minimal):
    """A retrained model may veto a rule hit the clinician already accepted; the
    acceptance stands (the clinician decided on that mention). A vetoed mention nobody
    decided on is not offered, and a mention the rules rule out is never brought back."""
    obs = SessionObservation.model_validate(minimal)
    s1, s2 = "Pt kept good eye contact at the bench.", "Pt disclosed the affair."
    first = [_cue("engagement.nonverbal", "eye contact", s1)]
    at = datetime(2026, 5, 4, 10)
    obs = apply_decisions(obs, [decide(s, "accepted", by="TC", at=at)
                                for s in suggest(obs, cues=first)])
    later = [_cue("engagement.nonverbal", "eye contact", s1, is_finding=False, vetoed=True),
             _cue("engagement.disclosure", "disclosed", s2, 40, is_finding=False,
                  vetoed=True)]
    state = match_decisions(suggest(obs, cues=later), obs.review.decisions)
    assert [(s.label, s.status) for s in state.suggestions] == [
        ("engagement.nonverbal", "accepted")]
    assert not state.orphaned
    negated = [_cue("engagement.nonverbal", "eye contact", s1, is_finding=False,
                    negated=True)]
    state = match_decisions(suggest(obs, cues=negated), obs.review.decisions)
    assert not state.suggestions and [i for i, _ in state.orphaned] == [0]


def test_actor_correction_is_kept_and_worded(minimal):
    minimal["session"].update(participants="with_caregiver", others_present=["grandmother"])
    obs = SessionObservation.model_validate(minimal)
    cue = _cue("engagement.collaboration", "Agreed", "Agreed to the sticker chart.")
    (s,) = suggest(obs, cues=[cue])
    assert s.actor == "client"
    obs = apply_decisions(obs, [decide(s, "accepted", by="TC", at=datetime(2026, 5, 4),
                                       actor="caregiver", actor_role="grandmother")])
    note = build_note(obs, cues=[cue])
    eng = next(st for st in note.section("rapport").statements if st.lead == "Engagement")
    assert eng.text == "Grandmother collaborated on goals or plan."


def test_acceptance_policy_is_off_by_default_and_recorded(minimal):
    obs = SessionObservation.model_validate(minimal)
    cues = [_cue("engagement.disclosure", "disclosed", "Pt disclosed the affair."),
            _cue("withdrawal.minimal_response", "one-word", "Pt gave one-word answers.", 30)]
    assert build_note(obs, cues=cues).section("rapport").statements[0].lead != "Engagement"
    policy = AcceptancePolicy(name="vendor-engagement", labels=("engagement",),
                              min_confidence=0.5)
    note = build_note(obs, cues=cues, policy=policy)
    eng = next(st for st in note.section("rapport").statements if st.lead == "Engagement")
    assert eng.sources[0].policy == "vendor-engagement"
    assert [s.status for s in note.suggestions] == ["accepted", "pending"]
    strict = AcceptancePolicy(name="strict", labels=("engagement",), min_confidence=0.9)
    assert not any(s.status == "accepted"
                   for s in build_note(obs, cues=cues, policy=strict).suggestions)


def _copy(tmp_path, name="family-caregiver.json"):
    dst = tmp_path / name
    shutil.copy(REVIEW / name, dst)
    return dst


def test_review_flags_write_only_the_decisions(tmp_path, capsys):
    path = _copy(tmp_path)
    before = json.loads(path.read_text())
    assert main(["review", str(path), "--accept", "engagement", "--reject",
                 "confrontation.complaint_parameters"]) == 0
    after = json.loads(path.read_text())
    decisions = after.pop("review")["decisions"]
    assert after == before  # nothing else in the file changed
    assert list(after) == list(before)  # nor its key order
    assert sorted((d["label"], d["status"]) for d in decisions) == [
        ("confrontation.complaint_parameters", "rejected"), ("engagement.collaboration",
                                                             "accepted")]
    load_session(path)  # still a valid session
    capsys.readouterr()
    assert main(["review", str(path), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [s["status"] for s in listed["suggestions"]] == ["accepted", "rejected", "pending"]
    assert main(["review", str(path), "--reject-all"]) == 0
    assert main(["review", str(path), "--list"]) == 0
    out = capsys.readouterr().out
    assert "0 pending" in out and "repair.rationale" in out


def test_review_of_an_unknown_label_is_a_user_error(tmp_path, capsys):
    path = _copy(tmp_path)
    before = path.read_bytes()
    assert main(["review", str(path), "--accept", "engagement.typo"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "engagement.typo" not in err
    assert path.read_bytes() == before


def test_render_reports_pending_and_writes_provenance(tmp_path, capsys):
    path = _copy(tmp_path)
    out, prov = tmp_path / "note.md", tmp_path / "prov.json"
    assert main(["render", str(path), "-o", str(out), "--provenance", str(prov)]) == 0
    err = capsys.readouterr().err
    assert "3 suggestions from the session notes are not in this note" in err
    assert f"rapportnotes review {path}" in err
    assert "Mother" not in out.read_text()
    main(["review", str(path), "--accept", "engagement.collaboration"])
    capsys.readouterr()
    assert main(["render", str(path), "-o", str(out), "--provenance", str(prov)]) == 0
    assert "Mother collaborated on goals or plan." in out.read_text()
    data = json.loads(prov.read_text())
    (st,) = [s for s in data["statements"] if s["lead"] == "Engagement"]
    assert st["sources"][0]["kind"] == "suggestion"
    assert st["sources"][0]["accepted_by"] == "Casey Morgan"


def test_draft_is_marked_and_keeps_pending_apart(tmp_path):
    obs = load_session(REVIEW / "family-caregiver.json")
    final = render(build_note(obs), "md").decode()
    draft = render(build_note(obs, draft=True), "md").decode()
    assert "DRAFT" not in final and "Appendix" not in final
    assert draft.count("DRAFT — NOT FOR THE RECORD") >= 2
    body, appendix = draft.split("## Appendix — not part of the note")
    assert "Mother agreed" not in body and "Mother agreed to try the bedtime" in appendix
    txt = render(build_note(obs, draft=True), "txt").decode()
    assert "APPENDIX — NOT PART OF THE NOTE" in txt
    html = render(build_note(obs, draft=True), "html").decode()
    assert 'class="draft-mark"' in html and 'id="pending-review"' in html


def test_draft_docx_has_the_mark_in_every_page_header():
    import io

    import docx

    obs = load_session(REVIEW / "family-caregiver.json")
    d = docx.Document(io.BytesIO(render(build_note(obs, draft=True), "docx")))
    assert "DRAFT — NOT FOR THE RECORD" in d.sections[0].header.paragraphs[0].text
    texts = [p.text for p in d.paragraphs]
    assert "Appendix — not part of the note: pending review" in texts
    final = docx.Document(io.BytesIO(render(build_note(obs), "docx")))
    assert not final.sections[0].header.paragraphs[0].text
    assert not any("Appendix" in p.text for p in final.paragraphs)


def test_history_of_another_client_is_exit_2_with_no_file(tmp_path, capsys):
    session = _copy(tmp_path)
    other = json.loads((REVIEW / "couple-partner.json").read_text())
    other["session"]["date"] = "2026-05-01"
    hist = tmp_path / "hist.json"
    hist.write_text(json.dumps([other]))
    out = tmp_path / "note.md"
    assert main(["render", str(session), "--history", str(hist), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "client.id differs" in err
    assert not out.exists()


def test_interactive_review_in_a_pseudo_terminal(tmp_path):
    pexpect = pytest.importorskip("pexpect")
    path = _copy(tmp_path)
    child = pexpect.spawn(sys.executable, ["-m", "rapportnotes", "review", str(path)],
                          encoding="utf-8", timeout=60, cwd=str(ROOT),
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    child.expect(r"3 suggestion\(s\) to review")
    child.expect(r"collaboration on goals or plan \(engagement\)")
    child.expect("Actor: mother")
    child.expect(r"\[q\]uit and save: ")
    child.sendline("a")
    child.expect(r"complaint about the parameters of therapy")
    child.expect(r"\[q\]uit and save: ")
    child.sendline("x")  # not an answer: asked again
    child.expect("Please answer")
    child.sendline("c")
    child.expect(r"Actor \(client/caregiver/partner/family\): ")
    child.sendline("caregiver")
    child.expect("Role word")
    child.sendline("stepmother")
    child.expect("Accepted as: stepmother")
    child.expect(r"explained the rationale")
    child.expect(r"\[q\]uit and save: ")
    child.sendline("r")
    child.expect(r"2 accepted, 1 rejected; 0 still pending")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    obs = load_session(path)
    got = sorted((d.label, d.status, d.actor_role) for d in obs.review.decisions)
    assert got == [("confrontation.complaint_parameters", "accepted", "stepmother"),
                   ("engagement.collaboration", "accepted", None),
                   ("repair.rationale", "rejected", None)]
    note = build_note(obs)
    rapport = {s.lead: s.text for s in note.section("rapport").statements}
    assert rapport["Engagement"] == "Mother collaborated on goals or plan."
    assert "Stepmother raised concerns about session arrangements." in rapport["Rupture"]
    assert provenance(note)["suggestions"][2]["status"] == "rejected"


def test_suggestions_of_entered_facts_or_decided_labels_are_covered(minimal):
    minimal["rapport"] = {"ruptures": [{"kind": "withdrawal", "resolved": "yes",
                                        "markers": ["withdrawal.minimal_response"]}],
                          "attendance": {"minutes_late": 0}}
    obs = SessionObservation.model_validate(minimal)
    s1, s2, s3 = ("Pt gave one-word answers.", "Pt disclosed the affair.",
                  "Later she disclosed the loss.")
    cues = [_cue("withdrawal.minimal_response", "one-word answers", s1),
            _cue("attendance.late", "answers", s1),
            _cue("engagement.disclosure", "disclosed", s2, 30),
            _cue("engagement.disclosure", "disclosed", s3, 60)]
    (first, *_) = [s for s in suggest(obs, cues=cues) if s.label == "engagement.disclosure"]
    obs = apply_decisions(obs, [decide(first, "accepted", by="TC", at=datetime(2026, 5, 4))])
    note = build_note(obs, cues=cues)
    status = {(s.label, s.start_char): s.status for s in note.suggestions}
    assert status[("withdrawal.minimal_response", s1.find("one-word answers"))] == "covered"
    assert [s.status for s in note.suggestions if s.label == "attendance.late"] == ["covered"]
    assert [s.status for s in note.suggestions if s.label == "engagement.disclosure"] == [
        "accepted", "covered"]  # the same label for the same person was already decided
    assert not note.pending


def test_a_draft_is_never_shown_signed(minimal):
    minimal["signed_at"] = "2026-05-04T10:30:00"
    obs = SessionObservation.model_validate(minimal)
    final = render(build_note(obs, extract=False), "md").decode()
    draft = render(build_note(obs, extract=False, draft=True), "md").decode()
    assert "Electronically signed:** 2026-05-04 10:30" in final
    assert "Electronically signed" not in draft and "Not signed — draft" in draft
