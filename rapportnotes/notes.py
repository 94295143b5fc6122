"""The note model: what a finished progress note says, before any layout.

A :class:`Note` is ordered sections of :class:`Statement` objects. Every statement carries
its sources (the input field paths, or the accepted suggestion and who accepted it) so an
auditor can trace each sentence back to what the clinician entered or confirmed.
Renderers and exporters only lay this model out; they never decide content.

The record and its provenance are kept apart: statements hold clinical prose only (no cue
labels, no verbatim free text beyond the clinician's ``quotes``), while sources, the
suggestions and the plan prompts are fields of the model that exporters do not print in a
final note (a draft prints the pending suggestions in a separate appendix).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .suggestions import PlanPrompt, Suggestion


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SourceRef(_Frozen):
    """Where a statement came from."""

    kind: Literal["field", "suggestion", "measure", "history", "derived"]
    path: str = Field(description="Input field path, or the free-text field a suggestion "
                      "came from.")
    label: str | None = Field(None, description="Cue label or measure name, when relevant.")
    start_char: int | None = None
    end_char: int | None = None
    accepted_by: str | None = Field(None, description="Who accepted the suggestion.")
    accepted_at: str | None = None
    policy: str | None = Field(None, description="Acceptance policy, when no person did.")


class Statement(_Frozen):
    """One sentence or bullet of the note."""

    text: str
    lead: str | None = Field(None, description="Bold lead-in, e.g. 'Attendance'.")
    style: Literal["paragraph", "bullet", "subbullet"] = "paragraph"
    sources: tuple[SourceRef, ...] = ()
    emphasis: Literal["none", "attention"] = Field(
        "none", description="'attention' for items a reader must not miss (at-risk flag).")


class Table(_Frozen):
    """A small table (alliance measures, trends)."""

    caption: str | None = None
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


class ChartPoint(_Frozen):
    session: str
    value: float


class ChartSeries(_Frozen):
    measure: str
    points: tuple[ChartPoint, ...]
    cutoff: float | None = None
    maximum: float = 40


class NoteSection(_Frozen):
    """A titled section: statements, then tables."""

    key: str
    title: str
    statements: tuple[Statement, ...] = ()
    tables: tuple[Table, ...] = ()
    chart: tuple[ChartSeries, ...] = Field(
        (), description="Series for an optional chart; exporters without images use tables.")


class HeaderField(_Frozen):
    label: str
    value: str


class Signature(_Frozen):
    clinician: str
    credentials: str | None = None
    signed_at: str | None = Field(None, description="ISO time the clinician signed, if given.")


class MeasureFact(_Frozen):
    """A scored measure as values (exporters such as FHIR read these, not display text)."""

    measure: str
    title: str
    kind: str
    total: float
    total_max: float
    subscales: dict[str, float] = Field(default_factory=dict)
    items: tuple[tuple[str, float, float], ...] = Field(
        (), description="(label, raw score, item maximum) in item order.")
    cutoff: float | None = None
    cutoff_direction: Literal["below", "at_or_below", "above", "at_or_above"] | None = Field(
        None, description="On which side of ``cutoff`` the flagged range lies.")
    cutoff_meaning: str | None = Field(None, description="e.g. 'possible alliance concern'.")
    interpretation: Literal["below_cutoff", "above_cutoff", "no_cutoff"] = Field(
        description="'below_cutoff': the total is in the flagged range of its cutoff "
        "(whatever the cutoff's direction); 'above_cutoff': not flagged.")
    respondent: str | None = None
    source: str = Field(description="Input path, e.g. 'rapport.measures[0]'.")


class RiskFact(_Frozen):
    domain: str
    assessed: bool | None = Field(None, description="None: not documented.")
    reported: str | None = None
    level: str | None = None


class RuptureFact(_Frozen):
    kind: str
    markers: tuple[str, ...]
    repairs: tuple[str, ...]
    outcome: Literal["yes", "partly", "no"]
    who: str | None = None
    source: str


class NoteFacts(_Frozen):
    """The note's facts as values, beside its prose: times, codes, measures, risk,
    ruptures, attendance. Only entered data (and nothing pending) is here."""

    date: str
    start_time: str
    end_time: str
    duration_minutes: int
    crosses_midnight: bool = False
    modality: str | None = None
    place_of_service: str | None = None
    cpt_code: str | None = None
    cpt_modifiers: tuple[str, ...] = ()
    cpt_addons: tuple[str, ...] = ()
    diagnoses: tuple[str, ...] = ()
    measures: tuple[MeasureFact, ...] = ()
    risk: tuple[RiskFact, ...] = ()
    risk_acute: str | None = None
    risk_chronic: str | None = None
    safety_plan_reviewed: bool | None = None
    ruptures: tuple[RuptureFact, ...] = ()
    minutes_late: int | None = None
    left_early_minutes: int | None = None
    no_shows_since_last: int | None = None
    cancellations_since_last: int | None = None


class Addendum(_Frozen):
    """A dated addendum to a signed note, chained to the hash before it."""

    author: str = Field(min_length=1, max_length=500)
    credentials: str | None = Field(None, max_length=500)
    at: str = Field(description="ISO 8601 time of the addendum.")
    reason: str = Field(min_length=1, max_length=500)
    text: str = Field(min_length=1, max_length=20_000)
    prev_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class Note(_Frozen):
    """A complete progress note."""

    format: str = Field(description="Format plugin name, e.g. 'soap'.")
    title: str
    header: tuple[HeaderField, ...]
    sections: tuple[NoteSection, ...]
    signature: Signature
    client_id: str
    session_date: str
    generator: str = Field(description="'rapportnotes <version>' for provenance.")
    status: Literal["final", "draft"] = Field(
        "final", description="A draft is marked DRAFT — NOT FOR THE RECORD on every page "
        "and lists pending suggestions in an appendix.")
    suggestions: tuple[Suggestion, ...] = Field(
        (), description="Every suggestion with its review status; never part of the body.")
    prompts: tuple[PlanPrompt, ...] = Field(
        (), description="Plan prompts for the clinician (review only; never plan text).")
    review_messages: tuple[str, ...] = Field(
        (), description="Decisions that no longer match, conflicts with entered data.")
    addenda: tuple[Addendum, ...] = Field(
        (), description="Addenda of a signed record, printed after the signature.")
    facts: NoteFacts | None = Field(None, description="The note's facts as values.")

    @property
    def pending(self) -> tuple[Suggestion, ...]:
        """Suggestions nobody has accepted or rejected yet."""
        return tuple(s for s in self.suggestions if s.status == "pending")

    def section(self, key: str) -> NoteSection:
        """Return the section with ``key`` (KeyError if the format has none)."""
        for sec in self.sections:
            if sec.key == key:
                return sec
        raise KeyError(key)
