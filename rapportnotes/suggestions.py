"""Suggestions: what the extractor noticed, offered to the clinician, never printed unasked.

A progress note is a legal record the clinician signs, and the extractor will keep making
mistakes on text it has not seen. So extracted cues never become note text directly. Each
cue that could be a finding becomes a :class:`Suggestion` — label, actor, where it is in
which field, the sentence, a confidence, and the clinical sentence that would enter the
note if accepted. Suggestions live on the note model (``Note.suggestions``), apart from its
sections; ``review.py`` pairs them with the clinician's decisions and only accepted ones
reach ``assemble.py``.

Cues that can never be a finding are dropped here, not offered: negated, planned or
historical mentions, third parties and other group members, and an actor the taxonomy does
not allow for the label (a "therapist" engagement, a client "repair").
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .actors import NO_OTHER_ACTOR, ROLE_KIND, Attribution, Roster, attribute_actor, can_carry
from .cues import Cue
from .models import Actor, SessionObservation
from .taxonomy import LABEL_INFO

Status = Literal["pending", "accepted", "rejected", "covered"]
"""``covered``: nothing to decide — the clinician already entered it (a marker or repair of
an entered rupture, an attendance figure) or already decided the same label for the same
person from another sentence."""

#: Prior confidence of a finding when extraction ran without the sentence model (then no
#: calibrated confidence exists). Hedged mentions and actors named by a role word are
#: less certain. With the model, ``Cue.confidence`` (calibrated on the dev split) is used.
BASE_CONFIDENCE = 0.8
UNCERTAIN_FACTOR = 0.75
INFERRED_ACTOR_FACTOR = 0.85


class Suggestion(BaseModel):
    """One extracted cue offered for review."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(description="'<field>:<start>-<end>:<label>', stable for a given text.")
    label: str
    category: str
    description: str = Field(description="The label in plain words, e.g. 'minimal response'.")
    actor: Actor
    actor_role: str | None = Field(None, description="e.g. 'mother' for a caregiver actor.")
    actor_evidence: str = Field(description="Why this actor: the rule that decided it.")
    field: str = Field(description="Free-text field path, e.g. 'clinician_notes'.")
    start_char: int
    end_char: int
    text: str = Field(description="The matched phrase (free text; never printed in a note).")
    sentence: str = Field(description="Its sentence (free text; review and draft only).")
    sentence_sha: str
    confidence: float = Field(ge=0.0, le=1.0)
    uncertain: bool = False
    statement: str = Field(description="The clinical sentence that enters the note if "
                           "accepted, e.g. 'Mother collaborated on goals or plan.'")
    status: Status = "pending"
    decided_by: str | None = None
    decided_at: str | None = None
    policy: str | None = Field(None, description="Name of the acceptance policy that "
                               "accepted it, when no person did.")

    @property
    def key(self) -> tuple[str, int, int, str]:
        """What a decision is matched on first: field, span and label."""
        return (self.field, self.start_char, self.end_char, self.label)


class PlanPrompt(BaseModel):
    """Something the clinician may want to put in their own plan (never printed as plan).

    Trajectory actions ("revisit goals together") and measure follow-ups are advice; the
    clinician writes the plan. Prompts are shown in review and in a draft's appendix only.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    text: str
    because: tuple[str, ...] = ()
    source: str | None = Field(None, description="Literature or rule behind the prompt.")


def sentence_hash(sentence: str) -> str:
    """First 16 hex digits of SHA-256 of the whitespace-normalised sentence."""
    return hashlib.sha256(" ".join(sentence.split()).encode("utf-8")).hexdigest()[:16]


# --------------------------------------------------------------------------- actors


def attribute(cue: Cue, obs: SessionObservation, roster: Roster | None = None
              ) -> tuple[Actor, str | None, str] | None:
    """The actor of ``cue`` in this session, or None when it can never be a finding here.

    The same attribution as at extraction (``actors.attribute``), now with the session's
    roster: a role word for someone the session does not list as present is a third party.
    ``roster`` is ``Roster.of_session(obs)``, passed in when attributing many cues (it reads
    every free-text field for the names and absences the notes declare).
    """
    if roster is None:
        roster = Roster.of_session(obs)
    who = attribute_actor(cue.label, cue.text, cue.sentence, cue.experiencer, roster)
    if who.evidence == NO_OTHER_ACTOR and cue.actor in ("caregiver", "partner", "family") \
            and cue.actor_role in ROLE_KIND:
        # extraction read the participant from the sentence before ("Mother joined. She
        # said…"), which the cue does not carry: keep that person, if the session has them
        role = cue.actor_role
        who = Attribution(ROLE_KIND[role], role, "the participant of the sentence before") \
            if roster.has(role) else Attribution("third_party", role, "not listed as present")
    if not can_carry(cue.label, who.actor):
        return None
    return who.actor, who.role, who.evidence  # type: ignore[return-value]


def _subject_word(actor: Actor, role: str | None) -> str:
    if actor == "client":
        return "Client"
    if actor == "therapist":
        return "Therapist"
    return (role or actor).capitalize()


def statement_for(label: str, actor: Actor, role: str | None) -> str:
    """The clinical sentence an accepted suggestion becomes ("Mother re-engaged.")."""
    return LABEL_INFO[label].statement.format(S=_subject_word(actor, role), T="Therapist")


# --------------------------------------------------------------------------- building


def suggestions_from_cues(obs: SessionObservation, cues: Sequence[Cue]) -> list[Suggestion]:
    """Turn a session's extracted cues into suggestions (pending), in text order.

    Only findings become suggestions; a label seen twice in one sentence is offered once.
    One exception: a rule finding the sentence model vetoed (``Cue.vetoed``) stays a
    suggestion when the session's review already holds a decision on it (same field and
    span, or same field and sentence, and label). The clinician decided on that mention
    when an earlier extractor offered it; a later model's disagreement decides what is
    *offered*, not what the clinician already accepted or rejected. Mentions the rules
    themselves rule out (negated, historical, someone else's) are never brought back.
    """
    out: list[Suggestion] = []
    seen: set[tuple[str, str, str]] = set()
    roster = Roster.of_session(obs)
    decided_spans = {(d.field, d.start_char, d.end_char, d.label) for d in obs.review.decisions}
    decided_sentences = {(d.field, d.label, d.sentence_sha) for d in obs.review.decisions}
    for cue in cues:
        if cue.label not in LABEL_INFO or not (cue.is_finding or cue.vetoed):
            continue
        field = cue.source or "clinician_notes"
        sha = sentence_hash(cue.sentence)
        if not cue.is_finding and (field, cue.start_char, cue.end_char, cue.label) \
                not in decided_spans and (field, cue.label, sha) not in decided_sentences:
            continue  # vetoed, and nobody decided on it
        who = attribute(cue, obs, roster)
        if who is None:
            continue
        actor, role, why = who
        if (field, cue.label, sha) in seen:
            continue
        seen.add((field, cue.label, sha))
        if cue.confidence is not None:  # calibrated on the dev split (classifier.py)
            confidence = cue.confidence
        else:  # rules alone: an uncalibrated prior
            confidence = BASE_CONFIDENCE
            if cue.uncertain:
                confidence *= UNCERTAIN_FACTOR
            if role is not None:
                confidence *= INFERRED_ACTOR_FACTOR
        out.append(Suggestion(
            id=f"{field}:{cue.start_char}-{cue.end_char}:{cue.label}",
            label=cue.label, category=cue.category,
            description=LABEL_INFO[cue.label].description, actor=actor, actor_role=role,
            actor_evidence=why, field=field, start_char=cue.start_char, end_char=cue.end_char,
            text=cue.text, sentence=" ".join(cue.sentence.split()), sentence_sha=sha,
            confidence=round(confidence, 2), uncertain=cue.uncertain,
            statement=statement_for(cue.label, actor, role)))
    order = {path: i for i, (path, _) in enumerate(obs.free_text_fields())}
    out.sort(key=lambda s: (order.get(s.field, len(order)), s.start_char, s.label))
    return out


# --------------------------------------------------------------------------- plan prompts


def plan_prompts(obs: SessionObservation, *, alliance_low: Sequence[str] = (),
                 actions: Sequence[tuple[str, str, tuple[str, ...], str | None]] = (),
                 ) -> list[PlanPrompt]:
    """Prompts for the clinician's own plan: unresolved ruptures without an alliance plan
    item, alliance measures below their cutoff (``alliance_low``: measure names) and the
    trajectory's suggested actions (code, text, because, source). Review material only."""
    out: list[PlanPrompt] = []
    rap = obs.rapport
    if not rap.alliance_plan:
        for i, ev in enumerate(rap.ruptures):
            if ev.resolved != "yes":
                out.append(PlanPrompt(
                    code="unresolved_rupture", because=(f"rapport.ruptures[{i}]",),
                    text=f"The {ev.kind} rupture is not resolved and rapport.alliance_plan "
                         "is empty: add how you will follow it up."))
    for name in alliance_low:
        out.append(PlanPrompt(code="alliance_below_cutoff", because=(name,),
                              text=f"{name} is below its cutoff: consider discussing the result "
                                   "with the client and repeating it."))
    out.extend(PlanPrompt(code=code, text=text, because=because, source=source)
               for code, text, because, source in actions)
    return out
