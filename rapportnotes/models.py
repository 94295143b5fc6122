"""Input records: one psychotherapy session as the clinician observed it.

These pydantic models are the vendor contract (``rapportnotes schema`` prints their JSON
Schema). Design rules, each for a clinical reason:

* Unknown keys are rejected (``extra="forbid"``): a misspelt key would otherwise vanish and
  the note would silently say "Not documented" about something that *was* documented.
* Only what a note cannot exist without is required (client id, clinician, date, start and
  end time). Everything else is optional and ``None``/empty means *not documented*; nothing
  here has a clinical default ("within normal limits", "denies SI") because a default would
  put words in the clinician's mouth.
* Free text is normalised on the way in (Unicode NFC, control characters removed, length
  capped) so every renderer and exporter downstream can trust it.
* Error messages name the field path; values are never echoed (they may be PHI).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date as Date
from datetime import datetime, timedelta
from datetime import time as Time
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    computed_field,
    model_validator,
)
from pydantic import (
    Strict as PydanticStrict,
)

from .taxonomy import RepairStrategy, RuptureMarker, category_of

SCHEMA_VERSION: Literal[1] = 1

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def clean_text(value: str) -> str:
    """Normalise free text: NFC, drop control characters and lone surrogates, strip.

    Control characters are invalid in XML (so in .docx and HTML) and invisible in print; a
    lone surrogate cannot be encoded as UTF-8. Removing them here means no exporter can be
    crashed by pasted text. Newlines and tabs are kept.
    """
    value = _SURROGATE.sub("", value)
    value = unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n"))
    return _CONTROL.sub("", value).strip()


def _drop_surrogates(value: object) -> object:
    """Remove lone surrogates before pydantic's own str check would reject the whole field.

    They come from broken copy-paste (half an emoji) and cannot be encoded as UTF-8; losing
    one invisible code unit is better than refusing the clinician's note.
    """
    return _SURROGATE.sub("", value) if isinstance(value, str) else value


def _nonblank(value: str) -> str:
    if not value:
        raise ValueError("must not be empty or only whitespace/control characters")
    return value


_CleanText = Annotated[
    str, BeforeValidator(_drop_surrogates), AfterValidator(clean_text), AfterValidator(_nonblank),
]
"""Free text as every narrative field takes it: surrogates dropped, cleaned, not blank."""

def _one_line(value: str) -> str:
    """Fold line breaks (and the spaces around them) into one space.

    A one-line value (a name, a code's description, a goal) is printed inside a header
    cell, a heading-adjacent line or a list item; a newline there could start a new
    Markdown block — a forged heading — or break the header table.
    """
    return re.sub(r"\s*\n\s*", " ", value)


ShortText = Annotated[_CleanText, AfterValidator(_one_line), StringConstraints(max_length=500)]
"""A label-like or one-line value (a name, a goal, a homework item); newlines folded."""


def _no_bool(value: object) -> object:
    """JSON ``true`` is not the number 1: a boolean where a number belongs is an error."""
    if isinstance(value, bool):
        raise ValueError("expected a number, got a boolean")
    return value


Count = Annotated[int, BeforeValidator(_no_bool), PydanticStrict()]
"""An integer field: a JSON integer only (no booleans, floats or numeric strings)."""
Number = Annotated[float, BeforeValidator(_no_bool)]
"""A number field: a JSON number only (no booleans)."""
Flag = StrictBool
"""A yes/no field: JSON true/false only (no 0/1, no "yes")."""

Text = Annotated[_CleanText, StringConstraints(max_length=20_000)]
"""A paragraph of clinical narrative."""

LongText = Annotated[_CleanText, StringConstraints(max_length=200_000)]
"""Free-text clinician notes read by the extractor (capped to keep a batch run bounded)."""

Quote = Annotated[_CleanText, StringConstraints(max_length=300)]
"""A short verbatim client quote; a progress note is summary-level, not a transcript."""

ClientId = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"),
]
CPTCode = Annotated[str, StringConstraints(pattern=r"^([0-9]{5}|[0-9]{4}[FTU]|[A-V][0-9]{4})$")]
"""A CPT code (or category II/III) or an HCPCS Level II code such as H0004 or T1017."""
ICD10Code = Annotated[str, StringConstraints(pattern=r"^[A-TV-Z][0-9][0-9AB](\.[0-9A-Z]{1,4})?$")]


class Strict(BaseModel):
    """Base for every input record: unknown keys are errors, whitespace trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


# --------------------------------------------------------------------------- who and when


class Client(Strict):
    """The client, identified pseudonymously."""

    id: ClientId = Field(description="Pseudonymous client identifier (letters, digits, . _ -).")
    name: ShortText | None = Field(None, description="Optional display name or initials.")
    age: Count | None = Field(None, ge=0, le=120, description="Age in years (selects measure "
                            "cutoffs, e.g. ORS adult vs adolescent).")


class Clinician(Strict):
    """The treating clinician who signs the note."""

    name: ShortText = Field(description="Full name as it appears on the signature.")
    credentials: ShortText | None = Field(
        None, description="Licence/credentials, e.g. 'LCSW', 'PhD, LP'.")


class Diagnosis(Strict):
    """An ICD-10-CM diagnosis."""

    code: ICD10Code = Field(description="ICD-10-CM code, e.g. 'F33.1'.")
    description: ShortText | None = None


MAX_OVERNIGHT_MINUTES = 360
"""A session whose end time is before its start time crosses midnight; longer than this it
is far more likely a typing mistake than a session, and is refused."""

Modality = Literal["in_person", "telehealth_video", "telehealth_audio"]
Setting = Literal["office", "school", "home", "outdoor", "other"]
Participants = Literal["client_only", "with_caregiver", "with_partner", "with_family", "group"]


class SessionInfo(Strict):
    """When, where and how the session took place, and how it is billed."""

    date: Date
    start_time: Time = Field(description="Local start time, HH:MM.")
    end_time: Time = Field(description="Local end time, HH:MM; after start_time, or before "
                           "it for a session that ends after midnight (next day, at most "
                           "6 hours in all).")
    number: Count | None = Field(None, ge=1, description="Session number in this episode of care.")
    modality: Modality | None = None
    setting: Setting | None = None
    setting_detail: ShortText | None = Field(
        None, description="e.g. 'walk-and-talk, riverside path' or 'school counseling office'.")
    participants: Participants | None = None
    others_present: list[ShortText] = Field(
        default_factory=list, description="Roles of others present, e.g. ['mother'].")
    cpt_code: CPTCode | None = None
    cpt_addons: list[CPTCode] = Field(default_factory=list, description="e.g. ['90785'].")
    cpt_modifiers: list[Annotated[str, StringConstraints(pattern=r"^[0-9A-Z]{2}$")]] = Field(
        default_factory=list, description="e.g. ['95'] for synchronous telehealth.")
    place_of_service: Annotated[str, StringConstraints(pattern=r"^[0-9]{2}$")] | None = Field(
        None, description="CMS place-of-service code, e.g. '11' office, '10' telehealth "
        "in the client's home, '03' school.")
    client_location: ShortText | None = Field(
        None, description="For telehealth: where the client was (verified), e.g. 'home, MN'.")
    diagnoses: list[Diagnosis] = Field(default_factory=list)

    @model_validator(mode="wrap")
    @classmethod
    def _derived_duration(cls, data: Any, handler: Any) -> SessionInfo:
        """A dumped session (``model_dump``) carries the derived ``duration_minutes``;
        reading it back must work, and must not hide a disagreement: a value that is not
        the derived one is refused, never silently replaced."""
        given = None
        if isinstance(data, dict) and "duration_minutes" in data:
            data = dict(data)
            given = data.pop("duration_minutes")
        info: SessionInfo = handler(data)
        if given is not None and (type(given) is not int or given != info.duration_minutes):
            raise ValueError("duration_minutes is derived from start_time and end_time and "
                             "does not match them; remove it or correct the times")
        return info

    @model_validator(mode="after")
    def _end_after_start(self) -> SessionInfo:
        if (self.start_time.tzinfo is None) != (self.end_time.tzinfo is None):
            raise ValueError("start_time and end_time must both carry a UTC offset or "
                             "neither")
        minutes = self.duration_minutes
        if minutes <= 0 or (minutes > MAX_OVERNIGHT_MINUTES and self.crosses_midnight):
            raise ValueError("end_time must be after start_time (a session that ends after "
                             f"midnight may last at most {MAX_OVERNIGHT_MINUTES // 60} hours)")
        return self

    @property
    def crosses_midnight(self) -> bool:
        """An end time earlier than the start time is read as the next day."""
        return self._end() < self._start()

    def _start(self) -> datetime:
        return datetime.combine(self.date, self.start_time)

    def _end(self) -> datetime:
        return datetime.combine(self.date, self.end_time)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def duration_minutes(self) -> int:
        """Derived, never entered: payers check that it matches the CPT code. A session
        from 23:30 to 00:20 lasts 50 minutes (the end is on the next day)."""
        start, end = self._start(), self._end()
        if end < start:
            end += timedelta(days=1)
        return int((end - start) / timedelta(minutes=1))


# --------------------------------------------------------------------------- S / O / A


class Subjective(Strict):
    """What the client reports."""

    report: Text | None = Field(None, description="Client's report since the last session.")
    presenting_concerns: list[ShortText] = Field(default_factory=list)
    quotes: list[Quote] = Field(default_factory=list, description="Short verbatim quotes.")


MSEDomain = Literal[
    "appearance", "behavior", "mood", "affect", "speech", "thought_process",
    "thought_content", "perception", "orientation", "memory", "attention", "insight",
    "judgment",
]
MSE_DOMAINS: tuple[str, ...] = MSEDomain.__args__  # type: ignore[attr-defined]


class Objective(Strict):
    """Mental-status examination and other observations.

    A domain in ``mental_status`` was assessed (its finding is the value); a domain in
    ``not_assessed`` was explicitly not assessed; any other domain is "not documented".
    """

    mental_status: dict[MSEDomain, ShortText] = Field(default_factory=dict)
    not_assessed: list[MSEDomain] = Field(default_factory=list)
    observations: Text | None = Field(None, description="Other observed behaviour.")

    @model_validator(mode="after")
    def _disjoint(self) -> Objective:
        both = sorted(set(self.mental_status) & set(self.not_assessed))
        if both:
            raise ValueError(f"domain(s) both assessed and not assessed: {', '.join(both)}")
        return self


class Intervention(Strict):
    """A clinical intervention used in the session and how the client responded."""

    name: ShortText = Field(description="e.g. 'Cognitive restructuring'.")
    detail: Text | None = None
    client_response: Text | None = None


ProgressStatus = Literal[
    "not_started", "regressed", "none", "minimal", "emerging", "partial", "significant", "met",
]


class GoalProgress(Strict):
    """Progress toward one treatment-plan goal."""

    goal: ShortText
    status: ProgressStatus | None = None
    detail: Text | None = None


ReportedIdeation = Literal[
    "denied", "passive", "active_without_plan", "active_with_plan", "active_with_intent",
]
"""What the client reported, in the steps clinicians screen for (C-SSRS order)."""

RiskLevel = Literal["low", "moderate", "high", "imminent"]
"""The clinician's formulation of risk in a domain (not what the client said)."""

_LEGACY_REPORTED = {"denied": "denied", "passive": "passive"}


class RiskItem(Strict):
    """One risk domain as assessed this session.

    The item itself is optional: an absent domain is *not documented*. ``assessed: false``
    records that the clinician chose not to assess it (printed "not assessed"). When
    assessed, the client's report (``reported``) and the clinician's own formulation
    (``level``) are kept apart, because an auditor reads "denies SI" and "low risk" as two
    different statements made by two different people.
    """

    assessed: Flag
    reported: ReportedIdeation | None = Field(
        None, description="What the client reported, e.g. 'denied', 'passive'.")
    level: RiskLevel | None = Field(
        None, description="The clinician's rating of risk in this domain.")
    detail: Text | None = None

    @model_validator(mode="before")
    @classmethod
    def _legacy_level(cls, data: object) -> object:
        """Schema 1 files wrote the client's report into ``level`` ('denied', 'passive');
        read them as ``reported`` so older files keep validating with the same meaning."""
        if isinstance(data, dict) and data.get("level") in _LEGACY_REPORTED \
                and "reported" not in data:
            data = dict(data)
            data["reported"] = _LEGACY_REPORTED[data.pop("level")]
        return data

    @model_validator(mode="after")
    def _content_iff_assessed(self) -> RiskItem:
        if self.assessed and self.reported is None and self.level is None:
            raise ValueError("reported or level is required when assessed is true")
        if not self.assessed and (self.reported is not None or self.level is not None):
            raise ValueError("reported and level must be omitted when assessed is false")
        return self


class RiskFormulation(Strict):
    """The clinician's overall risk formulation (acute and chronic)."""

    acute: RiskLevel | None = None
    chronic: Literal["low", "moderate", "high"] | None = None
    detail: Text | None = None


class Risk(Strict):
    """Risk assessment. Every domain is optional: absent means *not documented*."""

    suicidal_ideation: RiskItem | None = None
    homicidal_ideation: RiskItem | None = None
    self_harm: RiskItem | None = None
    substance_use: RiskItem | None = Field(
        None, description="Risk related to alcohol or drug use this session.")
    overdose: RiskItem | None = Field(None, description="Overdose risk (opioids, pills).")
    formulation: RiskFormulation | None = None
    protective_factors: list[ShortText] = Field(default_factory=list)
    safety_plan_reviewed: Flag | None = None


class Plan(Strict):
    """Plan for treatment after this session."""

    treatment: Text | None = Field(None, description="e.g. 'Continue weekly CBT.'")
    next_session_date: Date | None = None
    next_session_time: Time | None = None
    homework: list[ShortText] = Field(default_factory=list)
    referrals: list[ShortText] = Field(default_factory=list)
    coordination_of_care: Text | None = None


# --------------------------------------------------------------------------- rapport


class MeasureAdministration(Strict):
    """Raw item scores of an alliance/outcome measure (scored by ``rapportnotes.measures``)."""

    measure: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")] = Field(
        description="Registered measure name, e.g. 'srs', 'ors', 'wai-sr'.")
    items: list[Number] = Field(min_length=1, max_length=200,
                               description="Raw item scores in item order.")
    administered: Literal["start", "end"] | None = Field(
        None, description="When in the session it was given (ORS at start, SRS at end).")
    respondent: ShortText | None = Field(
        None, description="Who completed it when not the client, e.g. 'partner', 'mother'.")


class TherapistRating(Strict):
    """The clinician's own rating of rapport this session."""

    score: Count = Field(ge=0)
    scale_max: Count = Field(5, ge=1, le=100)
    comment: Text | None = None

    @model_validator(mode="after")
    def _in_range(self) -> TherapistRating:
        if self.score > self.scale_max:
            raise ValueError("score must not exceed scale_max")
        return self


RapportIntervention = Literal[
    "check_in", "reflection", "validation", "collaborative_goal_setting", "feedback_invited",
    "treatment_explained",
]


class Preferences(Strict):
    """What the client wants and where their boundaries are."""

    ready_to_discuss: list[ShortText] = Field(default_factory=list)
    not_ready_to_discuss: list[ShortText] = Field(default_factory=list)
    other: list[ShortText] = Field(default_factory=list,
                                   description="e.g. 'prefers walking to sitting'.")


AdaptationKind = Literal[
    "privacy", "ground_rules", "setting", "scheduling", "telehealth_setup", "accessibility",
    "language",
    "other",
]


class Adaptation(Strict):
    """A setting or telehealth adaptation made for the alliance."""

    kind: AdaptationKind
    description: ShortText


class Attendance(Strict):
    """Attendance at this session and appointments missed since the previous one."""

    minutes_late: Count | None = Field(None, ge=0, le=600, description="0 = on time.")
    left_early_minutes: Count | None = Field(None, ge=0, le=600, description="0 = stayed.")
    no_shows_since_last: Count | None = Field(None, ge=0, le=100)
    cancellations_since_last: Count | None = Field(None, ge=0, le=100)


class RuptureEvent(Strict):
    """A documented alliance rupture (3RS): its markers, the repair tried, the outcome."""

    kind: Literal["withdrawal", "confrontation"]
    markers: list[RuptureMarker] = Field(min_length=1,
                                         description="3RS markers, taxonomy labels.")
    repairs: list[RepairStrategy] = Field(default_factory=list,
                                          description="Resolution strategies tried.")
    description: Quote | None = Field(None, description="One short line, summary level.")
    who: ShortText | None = Field(
        None, description="Who showed the marker when not the client, e.g. 'mother', 'partner'.")
    resolved: Literal["yes", "partly", "no"]

    @model_validator(mode="after")
    def _markers_match_kind(self) -> RuptureEvent:
        wrong = [m for m in self.markers if category_of(m) != self.kind]
        if wrong:
            raise ValueError(f"marker(s) {', '.join(wrong)} do not belong to kind {self.kind!r}")
        return self


class CaregiverAlliance(Strict):
    """The alliance with a caregiver who takes part (parent, guardian)."""

    caregiver: ShortText = Field(description="Role, e.g. 'mother'.")
    quality: Literal["strong", "adequate", "strained", "poor"] | None = None
    detail: Text | None = None


class FitConcern(Strict):
    """A concern about client–therapist or client–treatment fit."""

    concern: Text
    discussed_with_client: Flag | None = None
    referral_considered: Flag | None = None
    referral_to: ShortText | None = None


class Rapport(Strict):
    """Everything the rapport & therapeutic-alliance section is built from."""

    measures: list[MeasureAdministration] = Field(default_factory=list)
    therapist_rating: TherapistRating | None = None
    interventions: list[RapportIntervention] = Field(
        default_factory=list, description="Rapport-building interventions used.")
    preferences: Preferences | None = None
    cultural_considerations: list[ShortText] = Field(default_factory=list)
    adaptations: list[Adaptation] = Field(default_factory=list)
    attendance: Attendance | None = None
    ruptures: list[RuptureEvent] = Field(default_factory=list)
    caregiver_alliance: CaregiverAlliance | None = None
    fit_concern: FitConcern | None = None
    alliance_plan: list[ShortText] = Field(
        default_factory=list,
        description="The clinician's own alliance plan items. The software never writes "
        "plan content; its prompts appear in review only.")


# --------------------------------------------------------------------------- review


Actor = Literal["client", "caregiver", "partner", "family", "therapist"]
"""Who did or showed a cue, among the people who can carry a finding (taxonomy v1.1)."""

SentenceHash = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{16}$")]


class Decision(Strict):
    """The clinician's decision on one suggestion, stored in the session file.

    Keyed by field, span and label (what the extractor found and where) plus a hash of the
    sentence, so that after a re-extraction (new rules, an edited note) a decision still
    finds its suggestion when the sentence moved, and is reported, not silently dropped,
    when the sentence itself changed.
    """

    field: Annotated[str, StringConstraints(pattern=r"^[a-z_]+(\[[0-9]+\])?(\.[a-z_]+)*$",
                                            max_length=120)] = Field(
        description="Free-text field path the suggestion came from, e.g. 'clinician_notes'.")
    start_char: Count = Field(ge=0)
    end_char: Count = Field(ge=0)
    label: str = Field(description="Taxonomy label of the suggestion.")
    sentence_sha: SentenceHash = Field(
        description="First 16 hex digits of SHA-256 of the suggestion's sentence "
        "(whitespace-normalised); lets the decision follow a sentence that moved.")
    status: Literal["accepted", "rejected"]
    actor: Actor | None = Field(None, description="Actor as corrected by the clinician.")
    actor_role: ShortText | None = Field(
        None, description="Role word for a caregiver, partner or family actor, e.g. 'mother'.")
    by: ShortText = Field(description="Who decided (the clinician, or a policy's name).")
    at: datetime = Field(description="When the decision was made.")
    policy: ShortText | None = Field(
        None, description="Set when an acceptance policy, not a person, decided.")

    @model_validator(mode="after")
    def _valid(self) -> Decision:
        from .taxonomy import LABELS

        if self.label not in LABELS:
            raise ValueError("label is not a taxonomy label")
        if self.end_char <= self.start_char:
            raise ValueError("end_char must be after start_char")
        return self


class Review(Strict):
    """Review decisions on the suggestions extracted from this session's free text."""

    decisions: list[Decision] = Field(default_factory=list)


# --------------------------------------------------------------------------- the session


class SessionObservation(Strict):
    """One session, as observed and documented by the clinician."""

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, frozen=True,
        json_schema_extra={"$id": "https://rapportnotes.invalid/schema/session-v1.json"},
    )

    schema_version: Literal[1] = SCHEMA_VERSION
    client: Client
    clinician: Clinician
    session: SessionInfo
    subjective: Subjective = Field(default_factory=Subjective)
    objective: Objective = Field(default_factory=Objective)
    interventions: list[Intervention] = Field(default_factory=list)
    progress: list[GoalProgress] = Field(default_factory=list)
    risk: Risk = Field(default_factory=Risk)
    plan: Plan = Field(default_factory=Plan)
    assessment: Text | None = Field(
        None, description="Clinician's assessment / formulation of this session.")
    rapport: Rapport = Field(default_factory=Rapport)
    signed_at: datetime | None = Field(
        None, description="When the clinician signed the note; unsigned notes show a blank.")
    clinician_notes: LongText | None = Field(
        None, description="Free-text session notes; the cue extractor reads them.")
    review: Review = Field(
        default_factory=Review,
        description="The clinician's decisions on suggestions (written by `rapportnotes "
        "review`); only accepted suggestions enter the note.")

    @model_validator(mode="after")
    def _caregiver_needs_caregiver(self) -> SessionObservation:
        if self.rapport.caregiver_alliance is not None and self.session.participants not in (
            "with_caregiver", "with_family",
        ):
            raise ValueError(
                "rapport.caregiver_alliance requires session.participants to be "
                "'with_caregiver' or 'with_family'"
            )
        return self

    def free_text_fields(self) -> list[tuple[str, str]]:
        """(field path, text) for every narrative field the cue extractor should read."""
        out: list[tuple[str, str]] = []
        if self.clinician_notes:
            out.append(("clinician_notes", self.clinician_notes))
        if self.subjective.report:
            out.append(("subjective.report", self.subjective.report))
        if self.objective.observations:
            out.append(("objective.observations", self.objective.observations))
        for i, iv in enumerate(self.interventions):
            if iv.client_response:
                out.append((f"interventions[{i}].client_response", iv.client_response))
        return out
