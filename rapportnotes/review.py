"""Review: pair suggestions with the clinician's decisions; record new decisions.

Decisions are data in the session file (``review.decisions``), so the record of what the
clinician accepted travels with the session and survives re-extraction:

1. a decision matches the suggestion with the same field, span and label;
2. otherwise one with the same field, label and sentence (the sentence moved because text
   before it was edited, or a rule change shifted the span) — reported as *relocated*;
3. otherwise it is *orphaned*: reported to the clinician, never silently dropped.

An :class:`AcceptancePolicy` lets a vendor auto-accept by label and confidence for its
own workflow; it is off by default and every suggestion it accepts says so in the
provenance ("accepted by policy <name>").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from .errors import InputError
from .models import Actor, Decision, Review, SessionObservation
from .suggestions import Suggestion, statement_for
from .taxonomy import LABEL_INFO, LABELS


class AcceptancePolicy(BaseModel):
    """Auto-accept pending suggestions whose label is listed and confidence is high enough.

    ``labels`` may hold full labels or categories ("engagement"). Decisions a person made
    always win over the policy.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=80)
    labels: tuple[str, ...] = Field(min_length=1)
    min_confidence: float = Field(0.0, ge=0.0, le=1.0)

    def model_post_init(self, __context: object) -> None:
        bad = [x for x in self.labels if x not in LABELS and x not in
               {info.category for info in LABEL_INFO.values()}]
        if bad:
            raise InputError(f"acceptance policy {self.name!r}: {len(bad)} unknown label(s) "
                             "or categories")

    def accepts(self, s: Suggestion) -> bool:
        return (s.label in self.labels or s.category in self.labels) \
            and s.confidence >= self.min_confidence


@dataclass
class ReviewState:
    """Suggestions with their decisions applied, and what could not be matched."""

    suggestions: list[Suggestion]
    orphaned: list[tuple[int, Decision]] = field(default_factory=list)
    relocated: list[int] = field(default_factory=list)

    @property
    def accepted(self) -> list[Suggestion]:
        return [s for s in self.suggestions if s.status == "accepted"]

    @property
    def pending(self) -> list[Suggestion]:
        return [s for s in self.suggestions if s.status == "pending"]

    @property
    def rejected(self) -> list[Suggestion]:
        return [s for s in self.suggestions if s.status == "rejected"]

    def messages(self) -> list[str]:
        """One line per review problem, naming decision indexes (never text). A decision
        that found its sentence at a new position (``relocated``) is not a problem."""
        return [f"review.decisions[{i}] ({d.label}, {d.field}) no longer matches any "
                "suggestion: the sentence was edited or the rules changed; review again"
                for i, d in self.orphaned]


def _with_decision(s: Suggestion, d: Decision) -> Suggestion:
    actor: Actor = d.actor or s.actor
    role = d.actor_role if d.actor is not None else s.actor_role
    if actor not in LABEL_INFO[s.label].actors:  # a correction the taxonomy cannot carry
        actor, role = s.actor, s.actor_role
    return s.model_copy(update={
        "status": d.status, "actor": actor, "actor_role": role,
        "statement": statement_for(s.label, actor, role),
        "decided_by": d.by, "decided_at": d.at.isoformat(), "policy": d.policy})


def match_decisions(suggestions: Sequence[Suggestion], decisions: Sequence[Decision],
                    policy: AcceptancePolicy | None = None) -> ReviewState:
    """Apply ``decisions`` (then ``policy``, to what is still pending) to ``suggestions``."""
    out = list(suggestions)
    by_key = {s.key: i for i, s in enumerate(out)}
    used: set[int] = set()
    state = ReviewState(suggestions=out)
    later: list[tuple[int, Decision]] = []
    for di, d in enumerate(decisions):
        si = by_key.get((d.field, d.start_char, d.end_char, d.label))
        if si is None or si in used:
            later.append((di, d))
            continue
        used.add(si)
        out[si] = _with_decision(out[si], d)
    for di, d in later:
        si = next((i for i, s in enumerate(out) if i not in used and s.field == d.field
                   and s.label == d.label and s.sentence_sha == d.sentence_sha), None)
        if si is None:
            state.orphaned.append((di, d))
            continue
        used.add(si)
        out[si] = _with_decision(out[si], d)
        state.relocated.append(di)
    if policy is not None:
        for i, s in enumerate(out):
            if s.status == "pending" and policy.accepts(s):
                out[i] = s.model_copy(update={"status": "accepted", "decided_by": policy.name,
                                              "policy": policy.name})
    return state


def entered_labels(obs: SessionObservation) -> set[str]:
    """Labels the clinician already entered as structured data (so a suggestion of them
    would only repeat the note): markers and repairs of entered ruptures, and the
    attendance events the attendance fields state."""
    labels = {lab for ev in obs.rapport.ruptures for lab in (*ev.markers, *ev.repairs)}
    att = obs.rapport.attendance
    if att is not None:
        for label, value in (("attendance.late", att.minutes_late),
                             ("attendance.left_early", att.left_early_minutes),
                             ("attendance.no_show", att.no_shows_since_last),
                             ("attendance.cancellation", att.cancellations_since_last)):
            if value is not None:
                labels.add(label)
    return labels


def mark_covered(state: ReviewState, obs: SessionObservation) -> ReviewState:
    """Pending suggestions that ask nothing new become ``covered``: their label is entered
    data, or the clinician decided the same label for the same person elsewhere."""
    entered = entered_labels(obs)
    decided = {(s.label, s.actor, s.actor_role) for s in state.suggestions
               if s.status in ("accepted", "rejected")}
    for i, s in enumerate(state.suggestions):
        if s.status == "pending" and (s.label in entered
                                      or (s.label, s.actor, s.actor_role) in decided):
            state.suggestions[i] = s.model_copy(update={"status": "covered"})
    return state


def decide(s: Suggestion, status: str, *, by: str, at: datetime,
           actor: Actor | None = None, actor_role: str | None = None) -> Decision:
    """A decision record for ``s`` (``status`` 'accepted' or 'rejected')."""
    if actor is not None and actor not in LABEL_INFO[s.label].actors:
        raise InputError(f"actor {actor!r} cannot carry {s.label}")
    return Decision(field=s.field, start_char=s.start_char, end_char=s.end_char,
                    label=s.label, sentence_sha=s.sentence_sha, status=status,  # type: ignore[arg-type]
                    actor=actor, actor_role=actor_role if actor is not None else None,
                    by=by, at=at)


def apply_decisions(obs: SessionObservation, decisions: Iterable[Decision]) -> SessionObservation:
    """A copy of ``obs`` whose review holds ``decisions``, replacing any earlier decision on
    the same suggestion (same field, span and label); other decisions are kept as they are.
    """
    new = list(decisions)
    keys = {(d.field, d.start_char, d.end_char, d.label) for d in new}
    kept = [d for d in obs.review.decisions
            if (d.field, d.start_char, d.end_char, d.label) not in keys]
    return obs.model_copy(update={"review": Review(decisions=[*kept, *new])})
