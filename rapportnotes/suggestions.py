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
import re
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .cues import Cue
from .models import Actor, SessionObservation
from .taxonomy import LABEL_INFO

Status = Literal["pending", "accepted", "rejected"]

#: Prior confidence of an extracted finding before modifiers (not yet calibrated on a blind
#: split; see docs/review-and-suggestions.md). Hedged mentions and actors inferred from a
#: role word are less certain.
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

_ROLE_KIND: dict[str, str] = {}
for _kind, _words in {
    "caregiver": "mother mom mum mommy mama father dad daddy papa parent parents stepmother "
                 "stepmom stepfather stepdad grandmother grandma granny grandfather grandpa "
                 "guardian caregiver carer foster",
    "partner": "partner wife husband spouse boyfriend girlfriend fiance fiancé fiancee fiancée",
    "family": "brother sister sibling son daughter cousin aunt uncle niece nephew",
}.items():
    for _w in _words.split():
        _ROLE_KIND[_w] = _kind

_CANONICAL = {"mom": "mother", "mum": "mother", "mommy": "mother", "mama": "mother",
              "dad": "father", "daddy": "father", "papa": "father", "grandma": "grandmother",
              "granny": "grandmother", "grandpa": "grandfather", "stepmom": "stepmother",
              "stepdad": "stepfather", "parents": "parent", "carer": "caregiver"}
_THERAPIST_WORDS = frozenset({"writer", "therapist", "clinician", "th", "counselor",
                              "counsellor", "facilitator", "co-facilitator", "cofacilitator",
                              "psychologist", "provider", "tx"})
_PERCEPTION = frozenset({"noted", "noticed", "observed", "saw", "sensed", "felt", "thought",
                         "wondered", "heard", "documented", "reported", "was", "is"})
_WORD = re.compile(r"[A-Za-zÀ-ÿ]+(?:-[A-Za-z]+)?(?:['’]s)?")
_CLIENT_WORDS = frozenset({"client", "pt", "patient", "cl", "clt", "child", "teen", "youth",
                           "student", "adolescent", "veteran", "member"})
_POSSESSIVE = frozenset({"her", "his", "their", "my", "your", "our"})
_CLAUSE_BREAK = re.compile(r"[;:]|[.!?](?:\s|$)|\bbut\b|\bwhile\b|\bthen\b|,\s*and\b",
                           re.IGNORECASE)
_KIND_FOR_PARTICIPANTS = {
    "with_caregiver": {"caregiver"},
    "with_partner": {"partner"},
    "with_family": {"caregiver", "family", "partner"},
}


def _present_roles(obs: SessionObservation) -> dict[str, str]:
    """Role words of the people the session says took part, with their actor kind."""
    present: dict[str, str] = {}
    for other in obs.session.others_present:
        for m in _WORD.finditer(other.lower()):
            word = m.group(0).removesuffix("'s").removesuffix("’s")
            if word in _ROLE_KIND:
                present.setdefault(word, _ROLE_KIND[word])
    return present


def _is_present(word: str, present: dict[str, str], kinds: set[str]) -> bool:
    """Whether a role word names someone taking part: listed in others_present (mom =
    mother), the one partner of a couple session, or — when nobody is listed — a person of
    the kind the session's participants imply."""
    kind = _ROLE_KIND[word]
    if present:
        names = {_CANONICAL.get(w, w) for w in present}
        return _CANONICAL.get(word, word) in names or (kind == "partner" and
                                                         "partner" in present.values())
    return kind in kinds


def _present_kinds(obs: SessionObservation) -> set[str]:
    kinds = set(_present_roles(obs).values())
    kinds |= _KIND_FOR_PARTICIPANTS.get(obs.session.participants or "", set())
    return kinds


_SENTENCE_BREAK = re.compile(r"[.!?](?:\s|$)")


def _nearest_actor(text: str) -> tuple[str, str] | None:
    words = [m.group(0) for m in _WORD.finditer(text)]
    for i in range(len(words) - 1, -1, -1):
        word = words[i].lower()
        possessive_form = word.endswith(("'s", "’s"))
        base = word.removesuffix("'s").removesuffix("’s")
        after_possessive = i > 0 and (words[i - 1].lower() in _POSSESSIVE
                                      or words[i - 1].lower().endswith(("'s", "’s")))
        if base in _ROLE_KIND and not possessive_form and not after_possessive:
            return ("role", base)
        if base in _CLIENT_WORDS:
            return ("client", base)
        if base in _THERAPIST_WORDS and not possessive_form and not (
                i + 1 < len(words) and words[i + 1].lower() in _PERCEPTION):
            # "writer interrupted the cycle" is the therapist acting; "writer noticed she
            # withdrew" is the therapist observing someone else, so keep looking
            return ("therapist", base)
    return None


def _subject_before(cue: Cue) -> tuple[str, str] | None:
    """The nearest actor word before the cue: ('role', word) or ('client', word).

    Looked for in the cue's clause first, then (a clause with an elided subject: "pt gave
    brief answers and changed the subject") back to the start of its sentence. A role word
    right after a possessive ("her mother", "his wife's") names someone talked about, not
    the subject, and is skipped.
    """
    pos = cue.sentence.find(cue.text)
    prefix = cue.sentence[:pos] if pos >= 0 else cue.sentence
    breaks = list(_SENTENCE_BREAK.finditer(prefix))
    sentence = prefix[breaks[-1].end():] if breaks else prefix
    clauses = list(_CLAUSE_BREAK.finditer(sentence))
    clause = sentence[clauses[-1].end():] if clauses else sentence
    found = _nearest_actor(clause) or _nearest_actor(sentence)
    if found is None:  # the matched phrase may itself start with its subject
        first = _WORD.match(cue.text.lstrip())
        if first and first.group(0).lower() in _THERAPIST_WORDS:
            return ("therapist", first.group(0).lower())
    return found


def attribute(cue: Cue, obs: SessionObservation) -> tuple[Actor, str | None, str] | None:
    """The actor of ``cue`` in this session, or None when it can never be a finding.

    Returns (actor, role word, evidence). The extractor's experiencer decides therapist vs
    client side vs third party; the session's participants decide whether a role word
    names someone taking part (a finding, attributed by role) or someone outside it.
    """
    allowed = LABEL_INFO[cue.label].actors
    if cue.experiencer == "therapist":
        return ("therapist", None, "therapist reference") if "therapist" in allowed else None
    if cue.experiencer == "third_party" or "client" not in allowed:
        return None
    present = _present_roles(obs)
    kinds = _present_kinds(obs)
    subject = _subject_before(cue)
    if subject is not None and subject[0] == "therapist":
        return None  # the therapist did it: not the client's engagement or rupture
    if subject is not None and subject[0] == "role":
        word = subject[1]
        if _is_present(word, present, kinds):
            return (_ROLE_KIND[word], _CANONICAL.get(word, word),  # type: ignore[return-value]
                    f"subject '{word}' of the clause, present in session")
        return None  # someone the session does not list as present: a third party
    if cue.experiencer == "caregiver" and subject is not None and subject[0] == "client":
        # the clause names the client as its subject ("mother joined. Pt gave one-word
        # answers"): a caregiver mentioned earlier does not make it the caregiver's
        return ("client", None, f"subject '{subject[1]}' of the clause")
    if cue.experiencer == "caregiver":
        if len(present) == 1:
            word, kind = next(iter(present.items()))
            return (kind, word, "the one caregiver listed as present")  # type: ignore[return-value]
        kind = next(iter(sorted(kinds)), "caregiver")
        return (kind, None, "caregiver reference")  # type: ignore[return-value]
    if subject is not None:
        return ("client", None, f"subject '{subject[1]}' of the clause")
    return ("client", None, "no other actor in the clause")


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
    """
    out: list[Suggestion] = []
    seen: set[tuple[str, str, str]] = set()
    for cue in cues:
        if not cue.is_finding or cue.label not in LABEL_INFO:
            continue
        who = attribute(cue, obs)
        if who is None:
            continue
        actor, role, why = who
        field = cue.source or "clinician_notes"
        sha = sentence_hash(cue.sentence)
        if (field, cue.label, sha) in seen:
            continue
        seen.add((field, cue.label, sha))
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
