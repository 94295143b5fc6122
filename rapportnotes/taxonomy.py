"""The alliance-cue taxonomy (v1.1): the 33 ``category.subtype`` labels and their data.

The label table (description, who can carry the finding, where an accepted suggestion goes
in the note, the clinical sentence it becomes) is data in ``data/labels.jsonl``. The
``Literal`` types below exist for static typing and the JSON Schema of the input models;
an import-time check keeps them and the data file identical, so a misspelt label fails at
import instead of silently never matching.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
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

@dataclass(frozen=True)
class LabelInfo:
    """One row of ``data/labels.jsonl``: what a label means and where it goes in a note."""

    label: str
    category: str
    description: str
    actors: tuple[str, ...]
    slot: str
    statement: str


_SLOTS = frozenset({"engagement", "rupture", "repair", "outcome", "attendance"})


def _load_labels() -> dict[str, LabelInfo]:
    """Read the label table shipped with the package (works from a wheel or a zip)."""
    text = resources.files(__package__).joinpath("data/labels.jsonl").read_text("utf-8")
    out: dict[str, LabelInfo] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("//"):
            continue
        row = json.loads(line)
        info = LabelInfo(label=row["label"], category=row["category"],
                         description=row["description"], actors=tuple(row["actors"]),
                         slot=row["slot"], statement=row["statement"])
        if info.category not in CATEGORIES or info.slot not in _SLOTS \
                or category_of(info.label) != info.category:
            raise RuntimeError(f"data/labels.jsonl line {lineno}: bad category or slot")
        out[info.label] = info
    return out


def category_of(label: str) -> str:
    """Return the category part of ``label`` (the part before the dot)."""
    return label.split(".", 1)[0]


LABEL_INFO: Final[dict[str, LabelInfo]] = _load_labels()
"""Per-label data: description, actors that can carry it, note slot, statement wording."""

#: Short human wording used when a label is shown to a person ("minimal response").
DESCRIPTIONS: Final[dict[str, str]] = {k: v.description for k, v in LABEL_INFO.items()}


def describe(label: str) -> str:
    """Return ``"category — wording"`` for a label, for human-facing text."""
    return f"{category_of(label)} — {DESCRIPTIONS[label]}"


if len(LABELS) != 33 or set(LABELS) != set(LABEL_INFO):  # pragma: no cover - import guard
    raise RuntimeError("taxonomy labels and descriptions are out of step")
