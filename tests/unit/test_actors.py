"""Who did it (failure family 1): the subject of the clause decides the actor."""

from __future__ import annotations

import pytest

from rapportnotes.actors import Roster, attribute_actor, can_carry, subject_before

ANYONE = Roster.unknown()


@pytest.mark.parametrize(("phrase", "sentence", "expected"), [
    # the therapist acting is not the client complaining
    ("Clinician cut into", "Clinician cut into the couple's escalation to slow it.",
     ("therapist", "clinician")),
    # the therapist as object: the client is the (elided) subject
    ("writer", "Told writer she is tired of being analysed.", None),
    ("lecturing", "Pt accused clinician of lecturing.", ("client", "pt")),
    # a caregiver named at the start of the clause
    ("agreed", "Grandma agreed to keep the sleep chart on the fridge.", ("role", "grandma")),
    ("pressed", "Client's father pressed writer for a diagnosis.", ("role", "father")),
    # the client after a caregiver mentioned earlier in the sentence
    ("shrugged", "Mom sat in for the last part; the boy shrugged at every question.",
     ("client", "boy")),
    # an elided subject takes the previous clause's subject
    ("changed the subject", "Teen laughed, then changed the subject.", ("client", "teen")),
    # a subordinate clause before the main one
    ("went quiet", "When the counsellor raised school, pt went quiet.", ("client", "pt")),
    ("agreed", "TH + pt agreed to fortnightly sessions.", ("client", "pt")),
    ("brightened", "She brightened after the break.", None),
])
def test_subject_of_the_clause(phrase, sentence, expected):
    assert subject_before(phrase, sentence) == expected


def test_a_brothers_reengagement_is_not_the_clients_when_he_is_not_there():
    from rapportnotes.models import SessionObservation

    obs = SessionObservation.model_validate({
        "client": {"id": "X-1"}, "clinician": {"name": "C"},
        "session": {"date": "2026-01-05", "start_time": "10:00", "end_time": "10:50",
                    "participants": "with_caregiver", "others_present": ["mother"]}})
    roster = Roster.of_session(obs)
    who = attribute_actor("repair.reengaged", "re-engaged",
                          "Her brother re-engaged with his own counsellor.", "client", roster)
    assert who.actor == "third_party" and not can_carry("repair.reengaged", who.actor)
    mum = attribute_actor("engagement.collaboration", "agreed",
                          "Mum agreed to the reward chart.", "client", roster)
    assert (mum.actor, mum.role) == ("caregiver", "mother")


def test_without_a_session_a_role_is_taken_as_taking_part():
    who = attribute_actor("engagement.disclosure", "shared",
                          "Husband shared that he feels shut out.", "client", ANYONE)
    assert (who.actor, who.role) == ("partner", "husband")


def test_repairs_stay_with_the_extractors_experiencer():
    who = attribute_actor("repair.rationale", "explained the rationale",
                          "Pt's mother asked why; writer explained the rationale.",
                          "therapist", ANYONE)
    assert who.actor == "therapist" and can_carry("repair.rationale", "therapist")
    assert not can_carry("repair.rationale", "client")
    assert not can_carry("engagement.participation", "therapist")


def test_a_participant_named_in_others_present_is_attributed_by_role():
    from rapportnotes.models import SessionObservation

    obs = SessionObservation.model_validate({
        "client": {"id": "X-2"}, "clinician": {"name": "C"},
        "session": {"date": "2026-01-05", "start_time": "10:00", "end_time": "10:50",
                    "participants": "with_partner", "others_present": ["wife (Sara)"]}})
    who = attribute_actor("engagement.disclosure", "shared",
                          "Sara shared that she feels alone at night.", "client",
                          Roster.of_session(obs))
    assert (who.actor, who.role) == ("partner", "wife")
    client = attribute_actor("engagement.disclosure", "shared",
                             "Client shared that he feels blamed.", "client",
                             Roster.of_session(obs))
    assert client.actor == "client"


def test_subject_found_past_the_first_words_read():
    """The subject scan reads a clause's first 16 words; a clause that opens with more
    skipped words than that is read whole, with the same answer."""
    from rapportnotes.actors import _LOOK, _subject_of

    lead = " ".join(["then"] * (_LOOK + 3))
    assert _subject_of(f"{lead} mother joined the session") == ("role", "mother")
    assert _subject_of(f"{lead} pt agreed") == ("client", "pt")
    assert _subject_of(" ".join(["the"] * (_LOOK - 2)) + " writer and pt reviewed it") == (
        "client", "pt")


# --- names a note gives its participants, and pronouns that stand for them (2026-12-04)
def test_a_note_can_name_its_participants() -> None:
    from rapportnotes.actors import FOCUS_CLIENT, participant_names

    assert participant_names("Joint session: IC is Priya, husband Arjun attending.") == {
        "priya": FOCUS_CLIENT, "arjun": "husband"}
    assert participant_names("Gemma (client's sister) sat in; Partner (Luis) joined later.") \
        == {"gemma": "sister", "luis": "partner"}
    assert participant_names("Seen with her mother on Tuesday.") == {}


def test_a_named_participant_acts_for_themself() -> None:
    from rapportnotes import extract_cues

    text = ("IC is Priya; husband Arjun attending. Arjun said the evening slot is impossible "
            "with his shifts.")
    (cue,) = [c for c in extract_cues(text) if c.label == "confrontation.complaint_parameters"]
    assert (cue.actor, cue.actor_role, cue.is_finding) == ("partner", "husband", True)


def test_a_pronoun_stands_for_the_participant_named_just_before() -> None:
    from rapportnotes.actors import Roster, attribute_actor

    anyone = Roster.unknown()
    label = "confrontation.complaint_parameters"
    sentence = "She said the Thursday slot clashes with school pickup."
    who = attribute_actor(label, "Thursday slot clashes", sentence, "client", anyone,
                          "Grandmother came in with him today.")
    assert who.actor == "caregiver"
    # a pronoun that cannot be that person, or after the writer, stays the client's
    for before in ("Grandfather came in with him today.", "Writer asked about the times."):
        who = attribute_actor(label, "Thursday slot clashes", sentence, "client", anyone,
                              before)
        assert who.actor == "client", before


@pytest.mark.parametrize(("clause", "expected"), [
    ("S: Grandmother said she is fine", ("role", "grandmother")),      # a SOAP header first
    ("- Dad tearful, spoke about the move", ("role", "dad")),          # a bullet
    ("By the end her aunt's voice had eased", ("role", "aunt")),       # a leading time phrase
    ("His younger brother kept interrupting", ("role", "brother")),    # a role word's modifier
    ("Ayo's stepmother refused the genogram", ("role", "stepmother")),  # a named possessor
    ("Mrs Okafor raised the fees again", None),                         # a title, a name
])
def test_the_subject_behind_headers_time_phrases_and_modifiers(clause, expected):
    from rapportnotes.actors import _subject_of

    assert _subject_of(clause) == expected


def test_a_relative_the_note_says_was_absent_is_a_third_party() -> None:
    from rapportnotes.actors import absent_roles

    assert absent_roles("Husband at work, not present. Pt tearful.") == {"husband"}
    assert absent_roles("Her nan was unable to attend; mum came instead.") == {"grandmother"}
    assert absent_roles("Mother joined late and stayed.") == set()
    roster = Roster.unknown()
    import dataclasses

    without_dad = dataclasses.replace(roster, absent=frozenset({"father"}))
    who = attribute_actor("confrontation.complaint_parameters", "the times are impossible",
                          "Dad said the times are impossible.", "client", without_dad)
    assert who.actor == "third_party"
    who = attribute_actor("confrontation.complaint_parameters", "the times are impossible",
                          "Dad said the times are impossible.", "client", roster)
    assert who.actor == "caregiver"
