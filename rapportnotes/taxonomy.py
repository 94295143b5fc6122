"""The alliance-cue taxonomy (v1): the 33 ``category.subtype`` labels and their wording.

This module is the single in-code copy of the contract in the project's
``docs/cue-taxonomy-decisions.md`` and the upstream taxonomy: extractors, input models
(rupture markers and repair strategies) and renderers all take label names from here, so a
misspelt label fails at import or validation time instead of silently never matching.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

Category = Literal["engagement", "withdrawal", "confrontation", "repair", "attendance"]

EngagementLabel = Literal[
    "engagement.participation",
    "engagement.disclosure",
    "engagement.nonverbal",
    "engagement.collaboration",
    "engagement.homework",
]
WithdrawalMarker = Literal[
    "withdrawal.denial",
    "withdrawal.minimal_response",
    "withdrawal.abstract_communication",
    "withdrawal.shifting_topic",
    "withdrawal.deferential",
    "withdrawal.content_affect_split",
    "withdrawal.self_criticism_hopelessness",
]
ConfrontationMarker = Literal[
    "confrontation.complaint_therapist",
    "confrontation.rejects_intervention",
    "confrontation.complaint_activities",
    "confrontation.complaint_parameters",
    "confrontation.complaint_progress",
    "confrontation.defends_self",
    "confrontation.control_pressure",
]
RepairStrategy = Literal[
    "repair.clarify",
    "repair.change_task",
    "repair.rationale",
    "repair.invite_discussion",
    "repair.acknowledge_contribution",
    "repair.disclose_experience",
    "repair.link_pattern",
    "repair.validate_defense",
    "repair.redirect",
    "repair.reengaged",
]
AttendanceLabel = Literal[
    "attendance.late",
    "attendance.no_show",
    "attendance.cancellation",
    "attendance.left_early",
]
RuptureMarker = WithdrawalMarker | ConfrontationMarker
CueLabel = (
    EngagementLabel | WithdrawalMarker | ConfrontationMarker | RepairStrategy | AttendanceLabel
)

CATEGORIES: Final[tuple[str, ...]] = get_args(Category)
LABELS: Final[tuple[str, ...]] = tuple(
    label
    for group in (EngagementLabel, WithdrawalMarker, ConfrontationMarker, RepairStrategy,
                  AttendanceLabel)
    for label in get_args(group)
)

#: Short human wording used when a label is shown in a note ("withdrawal — minimal response").
DESCRIPTIONS: Final[dict[str, str]] = {
    "engagement.participation": "active participation",
    "engagement.disclosure": "personal disclosure",
    "engagement.nonverbal": "attuned nonverbal engagement",
    "engagement.collaboration": "collaboration on goals or plan",
    "engagement.homework": "between-session work completed",
    "withdrawal.denial": "denial of an evident feeling or problem",
    "withdrawal.minimal_response": "minimal response",
    "withdrawal.abstract_communication": "abstract or intellectualised communication",
    "withdrawal.shifting_topic": "shifting topic / avoidant storytelling",
    "withdrawal.deferential": "deferential, appeasing stance",
    "withdrawal.content_affect_split": "content–affect split",
    "withdrawal.self_criticism_hopelessness": "self-criticism or hopelessness",
    "confrontation.complaint_therapist": "complaint about the therapist",
    "confrontation.rejects_intervention": "rejection of an intervention",
    "confrontation.complaint_activities": "complaint about the activities of therapy",
    "confrontation.complaint_parameters": "complaint about the parameters of therapy",
    "confrontation.complaint_progress": "complaint about progress",
    "confrontation.defends_self": "defending self against the therapist",
    "confrontation.control_pressure": "attempt to control or pressure the therapist",
    "repair.clarify": "clarified a misunderstanding",
    "repair.change_task": "changed the task or goal",
    "repair.rationale": "explained the rationale",
    "repair.invite_discussion": "invited discussion of the relationship or therapy",
    "repair.acknowledge_contribution": "acknowledged own contribution",
    "repair.disclose_experience": "disclosed own in-the-moment experience",
    "repair.link_pattern": "linked the rupture to a wider relational pattern",
    "repair.validate_defense": "validated the client's defensive stance",
    "repair.redirect": "redirected to the work",
    "repair.reengaged": "client re-engaged / rupture resolved",
    "attendance.late": "arrived late",
    "attendance.no_show": "no-show",
    "attendance.cancellation": "cancelled",
    "attendance.left_early": "left early",
}


def category_of(label: str) -> str:
    """Return the category part of ``label`` (the part before the dot)."""
    return label.split(".", 1)[0]


def describe(label: str) -> str:
    """Return ``"category — wording"`` for a label, for human-facing text."""
    return f"{category_of(label)} — {DESCRIPTIONS[label]}"


if len(LABELS) != 33 or set(LABELS) != set(DESCRIPTIONS):  # pragma: no cover - import guard
    raise RuntimeError("taxonomy labels and descriptions are out of step")
