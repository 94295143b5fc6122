"""The alliance across sessions: measure series, ruptures, attendance and an at-risk flag.

A single session's SRS of 35 says little; the same client scoring 38, 37, 35, 33, 31 while
arriving later each week says a lot. Alliance problems predict dropout and poor outcome
(Horvath et al. 2011; Swift & Greenberg 2012), and routine feedback helps most for clients
who are "not on track" (Lambert & Shimokawa 2011). This module turns a client's history into
a :class:`Trajectory` a note or a dashboard can show: every number is recomputed from the
sessions, every threshold lives in :class:`TrajectoryConfig` with its source, and the
at-risk flag always carries the reasons (and sessions) that fired it, never a bare "yes".

The flag is a prompt for a conversation with the client, not a diagnosis.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Sequence
from datetime import date as Date
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .cues import Cue
from .errors import InputError, MeasureError, PluginError
from .measures import MeasureDefinition, get_measure, score
from .measures.scoring import fmt
from .models import SessionObservation

if TYPE_CHECKING:  # pragma: no cover
    from .notes import ChartSeries, Table

Resolved = Literal["yes", "partly", "no"]

# --------------------------------------------------------------------------- configuration


def _statuses(*values: Resolved) -> list[Resolved]:
    return list(values)


def _weights(*, yes: float, partly: float, no: float) -> dict[Resolved, float]:
    return {"yes": yes, "partly": partly, "no": no}


class TrajectoryConfig(BaseModel):
    """Every threshold the trajectory uses, with where it comes from.

    Defaults follow published guidance where there is one and are labelled as a clinic
    policy where there is not; a clinic can override any of them from a JSON file
    (:meth:`from_json_file`) without code changes.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    alliance_below_cutoff_runs: int = Field(
        2, ge=1,
        description="Fire 'alliance_below_cutoff' when the latest N administrations of an "
        "alliance measure are all below its cutoff. Source: PCOMS/FIT guidance (Duncan & "
        "Miller; Duncan 2012) — an SRS under 36 calls for a conversation; two in a row "
        "suggests a pattern rather than a bad day.")
    alliance_drop_points: float = Field(
        5, gt=0,
        description="Fire 'alliance_falling' when an alliance total falls by at least this "
        "many points from the previous administration or from the client's best so far. "
        "Source: mirrors the 5-point reliable change of the 0-40 PCOMS scales (Miller & "
        "Duncan 2004); PCOMS guidance treats any SRS decline as worth discussing.")
    drop_from_best: bool = Field(
        True, description="Also compare the latest alliance total with the best earlier one "
        "(a slow slide never drops 5 in one step).")
    outcome_deterioration: bool = Field(
        True, description="Fire 'outcome_deteriorating' when an outcome measure (ORS) is "
        "reliably worse than at the first administration (change ≤ -RCI). Source: PCOMS/FIT — "
        "reliable deterioration is a signal to discuss the alliance and fit (Duncan 2012).")
    repair_weights: dict[Resolved, float] = Field(
        default_factory=lambda: _weights(yes=1.0, partly=0.5, no=0.0),
        description="Credit per rupture outcome in the repair rate. Partial resolution counts "
        "half: Eubanks, Muran & Safran (2018) code resolution as a continuum; the 0.5 is a "
        "rapportnotes convention so partial repair is neither ignored nor over-counted.")
    carry_forward_statuses: list[Resolved] = Field(
        default_factory=lambda: _statuses("no", "partly"),
        description="Rupture outcomes carried forward into the next session's plan. "
        "Source: Safran & Muran (2000); Eubanks, Muran & Safran (2015, 2018) — an "
        "unaddressed rupture is best returned to explicitly.")
    at_risk_rupture_statuses: list[Resolved] = Field(
        default_factory=lambda: _statuses("no"),
        description="Rupture outcomes in the latest session that fire 'unresolved_rupture'. "
        "Source: Eubanks, Muran & Safran (2018): unresolved ruptures are associated with "
        "dropout; partial repair is carried forward but does not fire the flag by default.")
    miss_window: int = Field(
        4, ge=1,
        description="How many most recent appointments (attended + no-shows + cancellations) "
        "the miss rule looks at. Source: clinic attendance policy (default, adjustable).")
    miss_threshold: int = Field(
        2, ge=1,
        description="Fire 'missed_appointments' at this many misses in the window. Source: "
        "clinic attendance policy; missed sessions precede dropout (Swift & Greenberg 2012).")
    count_cancellations_as_misses: bool = Field(
        True, description="Whether late cancellations count as misses (clinic policy).")
    late_grace_minutes: int = Field(
        5, ge=0, description="Arrivals more than this many minutes late count as late "
        "(clinic policy).")
    withdrawal_trend_sessions: int = Field(
        3, ge=2,
        description="Fire 'withdrawal_rising' when withdrawal-cue counts never fall over this "
        "many latest sessions, rise overall, and the latest count reaches "
        "withdrawal_min_latest. Source: Eubanks, Muran & Safran (2015) 3RS — withdrawal "
        "ruptures are easy to miss one session at a time.")
    withdrawal_min_latest: int = Field(
        2, ge=1, description="Minimum withdrawal cues in the latest session for the trend "
        "rule (one stray cue is not a trend).")
    fit_concern_lookback: int = Field(
        3, ge=1,
        description="Fire 'fit_concern' when a fit concern is documented in any of the last "
        "N sessions. Source: Norcross & Wampold (2011/2018) on adapting to the client; "
        "PCOMS guidance to discuss fit and referral when the alliance does not improve.")

    @classmethod
    def from_json_file(cls, path: str | os.PathLike[str]) -> TrajectoryConfig:
        """Load a config; errors name the file and the field, not the value."""
        p = Path(path)
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except OSError as exc:
            raise InputError(f"{p}: cannot read config ({exc.strerror or exc})") from None
        except json.JSONDecodeError as exc:
            raise InputError(f"{p}: invalid JSON at line {exc.lineno}") from None
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(x) for x in err["loc"]) or "(top level)"
            raise InputError(f"{p}: {where}: {err['msg']}") from None


# --------------------------------------------------------------------------- result models


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class SessionRef(_Out):
    """Which session: position in the history (0-based), number and date."""

    index: int
    number: int | None = None
    date: Date

    def label(self) -> str:
        """'#3 (2026-02-10)' or just the date."""
        return f"#{self.number} ({self.date})" if self.number else str(self.date)


class SeriesPoint(_Out):
    """One administration of a measure in the series."""

    session: SessionRef
    total: float
    change_from_first: float
    change_from_previous: float | None = None
    reliable_change: bool | None = Field(
        None, description="|change from first| ≥ the measure's RCI; None when it has none.")
    below_cutoff: bool | None = None
    cutoff: float | None = None
    flags: list[str] = Field(default_factory=list, description="Flag codes of this score.")


class MeasureSeries(_Out):
    """A measure across the sessions where it was given."""

    measure: str
    short_name: str
    title: str
    kind: str
    total_min: float
    total_max: float
    reliable_change_index: float | None = None
    points: list[SeriesPoint]

    @property
    def best(self) -> float:
        """Highest total so far (every built-in measure is higher-is-better)."""
        return max(p.total for p in self.points)


class RuptureRecord(_Out):
    """A rupture as documented in one session."""

    session: SessionRef
    kind: str
    markers: list[str]
    repairs: list[str]
    resolved: Resolved


class RuptureSummary(_Out):
    """Ruptures by type and marker, repair rate, and what is still open."""

    total: int = 0
    by_kind: dict[str, int] = Field(default_factory=dict)
    by_marker: dict[str, int] = Field(default_factory=dict)
    by_outcome: dict[str, int] = Field(default_factory=dict)
    repair_rate: float | None = Field(
        None, description="Mean repair credit (yes 1, partly 0.5, no 0 by default); None "
        "when no rupture was documented.")
    unresolved_latest: list[RuptureRecord] = Field(
        default_factory=list, description="Ruptures of the latest session to carry forward.")
    earlier_unresolved: list[RuptureRecord] = Field(
        default_factory=list,
        description="Earlier ruptures documented as not (fully) resolved. Ruptures carry no "
        "id across sessions, so a later repair cannot be linked to them: they are listed "
        "for review, not assumed still open.")


class AttendanceSummary(_Out):
    """Attendance over the whole history and in the latest appointments."""

    sessions_attended: int
    no_shows: int
    cancellations: int
    late_count: int
    late_sessions: list[SessionRef] = Field(default_factory=list)
    left_early_count: int
    max_consecutive_misses: int
    appointments: int = Field(description="Attended + no-shows + cancellations.")
    window: int
    misses_in_window: int
    appointments_in_window: int


class RiskReason(_Out):
    """One rule that fired, in words, with the sessions that show it."""

    code: str
    message: str
    sessions: list[SessionRef] = Field(default_factory=list)

    def __str__(self) -> str:
        return self.message


class SuggestedAction(_Out):
    """An action from the rapport literature and the reasons that call for it."""

    code: str
    text: str
    source: str
    because: list[str] = Field(description="Codes of the reasons that suggested it.")

    def __str__(self) -> str:
        return self.text


class Trajectory(_Out):
    """Everything derived from a client's history (JSON: ``model_dump(mode='json')``)."""

    client_id: str | None = None
    sessions: list[SessionRef]
    measures: dict[str, MeasureSeries] = Field(
        default_factory=dict, description="Series by key: the measure name for the client's "
        "own ratings, 'name (respondent)' for a caregiver's or partner's.")
    ruptures: RuptureSummary
    attendance: AttendanceSummary
    withdrawal_cues: list[int] | None = Field(
        None, description="Withdrawal-cue findings per session, when cues were given.")
    at_risk: bool
    reasons: list[RiskReason] = Field(default_factory=list)
    suggested_actions: list[SuggestedAction] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list,
                             description="Things skipped or assumed while building.")
    config: TrajectoryConfig

    # -- queries the note assembler uses -------------------------------------------------

    def _index_for(self, at: int | Date | None) -> int | None:
        """Session index for ``at``: an index, a date (last on/before it) or None (latest)."""
        if not self.sessions:
            return None
        if at is None:
            return len(self.sessions) - 1
        if isinstance(at, int):
            return at if 0 <= at < len(self.sessions) else None
        candidates = [s.index for s in self.sessions if s.date <= at]
        return candidates[-1] if candidates else None

    def previous_session_unresolved(self, current: int | Date | None = None) -> list[RuptureRecord]:
        """Ruptures left open in the session before ``current``.

        ``current`` is a session index or the date of the session being written up (the
        latest session strictly before that date is "previous"); None means the latest
        session in the history is current. These belong in that note's Plan.
        """
        if isinstance(current, Date):
            before = [s.index for s in self.sessions if s.date < current]
            prev = before[-1] if before else None
        else:
            idx = self._index_for(current)
            prev = None if idx is None or idx == 0 else idx - 1
        if prev is None:
            return []
        return [r for r in self._all_ruptures() if r.session.index == prev
                and r.resolved in self.config.carry_forward_statuses]

    def _all_ruptures(self) -> list[RuptureRecord]:
        return [*self.ruptures.earlier_unresolved, *self.ruptures.unresolved_latest]

    def trend_text(self, measure: str, at: int | Date | None = None) -> str | None:
        """The trend of ``measure`` at a session, e.g. "SRS 37 → 34, falling 3".

        ``at`` is a session index or date (the last administration on or before it); None
        means the latest. Returns None when the measure was not given by then.
        """
        series = self.measures.get(measure)
        idx = self._index_for(at)
        if series is None or idx is None:
            return None
        points = [p for p in series.points if p.session.index <= idx]
        if not points:
            return None
        cur = points[-1]
        if len(points) == 1:
            return f"{series.short_name} {fmt(cur.total)} (first administration)"
        prev = points[-2]
        delta = cur.total - prev.total
        rci = series.reliable_change_index
        if delta == 0:
            text = f"{series.short_name} {fmt(prev.total)} → {fmt(cur.total)}, unchanged"
        else:
            word = "rising" if delta > 0 else "falling"
            text = (f"{series.short_name} {fmt(prev.total)} → {fmt(cur.total)}, "
                    f"{word} {fmt(abs(delta))}")
            if rci is not None:  # a change below the RCI is not called a change
                text += " (reliable change)" if abs(delta) >= rci else " (no reliable change)"
        if rci is not None and len(points) > 2 and abs(cur.change_from_first) >= rci:
            way = "better" if cur.change_from_first > 0 else "worse"
            text += f"; reliably {way} than first ({round(cur.change_from_first, 2):+g})"
        return text

    def trend(self, measure: str, at: int | Date | None = None) -> str | None:
        """Alias of :meth:`trend_text`."""
        return self.trend_text(measure, at)

    def chart_series(self) -> list[ChartSeries]:
        """Series for the note's optional chart (one per measure, 'cutoff' = first applied)."""
        from .notes import ChartPoint, ChartSeries

        out = []
        for s in self.measures.values():
            cutoff = next((p.cutoff for p in reversed(s.points) if p.cutoff is not None), None)
            out.append(ChartSeries(
                measure=s.short_name, cutoff=cutoff, maximum=s.total_max,
                points=tuple(ChartPoint(session=p.session.label(), value=p.total)
                             for p in s.points)))
        return out

    def history_table(self) -> Table:
        """A session-by-measure table of totals for exporters without images."""
        from .notes import Table

        names = list(self.measures)
        rows = []
        for ref in self.sessions:
            cells = [ref.label()]
            for name in names:
                point = next((p for p in self.measures[name].points
                              if p.session.index == ref.index), None)
                cells.append("—" if point is None else fmt(point.total))
            rows.append(tuple(cells))
        return Table(caption="Measures across sessions",
                     columns=("Session", *(self.measures[n].short_name for n in names)),
                     rows=tuple(rows))


# --------------------------------------------------------------------------- actions

_ACTIONS: dict[str, tuple[str, str]] = {
    "invite_feedback": (
        "Invite explicit feedback on the session and the relationship (go through the "
        "alliance measure with the client and ask what would make sessions better).",
        "Duncan & Miller PCOMS/FIT; Lambert & Shimokawa (2011) collecting client feedback"),
    "revisit_goals": (
        "Revisit goals, tasks and the plan together and agree on what to work on next.",
        "Bordin (1979) goals/tasks/bond; Tryon & Winograd (2011) goal consensus and "
        "collaboration"),
    "acknowledge_repair": (
        "Acknowledge and repair the rupture: name it, invite the client's experience of it "
        "and acknowledge your own contribution (metacommunication).",
        "Safran & Muran (2000); Eubanks, Muran & Safran (2015, 2018)"),
    "adapt_setting": (
        "Review practical barriers to attending and adapt the setting, schedule or "
        "telehealth set-up.",
        "Clinic attendance policy; Swift & Greenberg (2012) premature termination"),
    "discuss_fit": (
        "Discuss fit openly and consider a change of approach or a referral if the client "
        "prefers.",
        "Norcross & Wampold (2018) adapting to the client; Swift et al. (2018) client "
        "preferences; PCOMS/FIT guidance"),
}

_ACTIONS_FOR_REASON: dict[str, tuple[str, ...]] = {
    "alliance_below_cutoff": ("invite_feedback", "revisit_goals"),
    "alliance_falling": ("invite_feedback", "revisit_goals"),
    "outcome_deteriorating": ("revisit_goals", "discuss_fit"),
    "unresolved_rupture": ("acknowledge_repair", "invite_feedback"),
    "missed_appointments": ("adapt_setting", "invite_feedback"),
    "withdrawal_rising": ("acknowledge_repair", "invite_feedback"),
    "fit_concern": ("discuss_fit", "revisit_goals"),
}


def _actions(reasons: list[RiskReason]) -> list[SuggestedAction]:
    because: dict[str, list[str]] = {}
    for r in reasons:
        for code in _ACTIONS_FOR_REASON.get(r.code, ()):
            lst = because.setdefault(code, [])
            if r.code not in lst:
                lst.append(r.code)
    return [SuggestedAction(code=code, text=_ACTIONS[code][0], source=_ACTIONS[code][1],
                            because=because[code])
            for code in _ACTIONS if code in because]


# --------------------------------------------------------------------------- building


def _ref(i: int, s: SessionObservation) -> SessionRef:
    return SessionRef(index=i, number=s.session.number, date=s.session.date)


def _series(
    sessions: list[SessionObservation], notes: list[str]
) -> tuple[dict[str, MeasureSeries], dict[str, MeasureDefinition]]:
    raw: dict[str, list[SeriesPoint]] = {}
    defs: dict[str, MeasureDefinition] = {}
    names: dict[str, str] = {}  # series key -> measure name
    for i, s in enumerate(sessions):
        latest: dict[str, tuple[str, Any]] = {}
        for k, adm in enumerate(s.rapport.measures):
            if adm.measure not in defs:
                try:
                    defs[adm.measure] = get_measure(adm.measure)
                except PluginError:
                    notes.append(f"session {_ref(i, s).label()}: measure {adm.measure!r} is "
                                 "not registered; not included in the trajectory")
                    continue
            # a caregiver's or partner's ratings form their own series, never the client's
            key = adm.measure if adm.respondent is None else f"{adm.measure} ({adm.respondent})"
            try:
                # the later administration wins if a measure was given twice in a session
                latest[key] = (adm.measure, score(defs[adm.measure], adm.items,
                                                  age=s.client.age))
            except MeasureError as exc:
                raise MeasureError(
                    f"session {_ref(i, s).label()} rapport.measures[{k}]: {exc}") from None
        for key, (name, sc) in latest.items():
            names[key] = name
            pts = raw.setdefault(key, [])
            first = pts[0].total if pts else sc.total
            prev = pts[-1].total if pts else None
            rci = defs[name].reliable_change
            change = round(sc.total - first, 6)
            applied = sc.cutoffs[0] if sc.cutoffs else None
            pts.append(SeriesPoint(
                session=_ref(i, s), total=sc.total, change_from_first=change,
                change_from_previous=None if prev is None else round(sc.total - prev, 6),
                reliable_change=None if rci is None else abs(change) >= rci.points,
                below_cutoff=sc.below_cutoff, cutoff=applied.value if applied else None,
                flags=[f.code for f in sc.flags]))
    series: dict[str, MeasureSeries] = {}
    for key, pts in sorted(raw.items()):
        d = defs[names[key]]
        suffix = key[len(d.name):]
        series[key] = MeasureSeries(
            measure=d.name, short_name=d.short_name + suffix, title=d.title + suffix,
            kind=d.kind, total_min=d.total_min, total_max=d.total_max,
            reliable_change_index=d.reliable_change.points if d.reliable_change else None,
            points=pts)
    return series, defs


def _ruptures(sessions: list[SessionObservation], cfg: TrajectoryConfig) -> RuptureSummary:
    records: list[RuptureRecord] = []
    for i, s in enumerate(sessions):
        for ev in s.rapport.ruptures:
            records.append(RuptureRecord(session=_ref(i, s), kind=ev.kind,
                                         markers=list(ev.markers), repairs=list(ev.repairs),
                                         resolved=ev.resolved))
    if not records:
        return RuptureSummary()
    last = len(sessions) - 1
    open_ = [r for r in records if r.resolved in cfg.carry_forward_statuses]
    return RuptureSummary(
        total=len(records),
        by_kind=dict(sorted(Counter(r.kind for r in records).items())),
        by_marker=dict(sorted(Counter(m for r in records for m in r.markers).items())),
        by_outcome=dict(sorted(Counter(r.resolved for r in records).items())),
        repair_rate=round(sum(cfg.repair_weights[r.resolved] for r in records) / len(records),
                          4),
        unresolved_latest=[r for r in open_ if r.session.index == last],
        earlier_unresolved=[r for r in open_ if r.session.index != last],
    )


def _attendance(sessions: list[SessionObservation], cfg: TrajectoryConfig) -> AttendanceSummary:
    # Appointment sequence: misses reported "since last" come before the session reporting
    # them. Their order among themselves is unknown and does not affect the counts.
    appointments: list[bool] = []  # True = missed
    no_shows = cancels = late = left = 0
    late_refs: list[SessionRef] = []
    max_run = run = 0
    for i, s in enumerate(sessions):
        att = s.rapport.attendance
        ns = (att.no_shows_since_last or 0) if att else 0
        cx = (att.cancellations_since_last or 0) if att else 0
        no_shows += ns
        cancels += cx
        misses = ns + (cx if cfg.count_cancellations_as_misses else 0)
        appointments.extend([True] * misses)
        if not cfg.count_cancellations_as_misses:
            appointments.extend([False] * cx)
        run += misses
        max_run = max(max_run, run)
        run = 0
        appointments.append(False)
        if att and att.minutes_late is not None and att.minutes_late > cfg.late_grace_minutes:
            late += 1
            late_refs.append(_ref(i, s))
        if att and att.left_early_minutes:
            left += 1
    window = appointments[-cfg.miss_window:]
    return AttendanceSummary(
        sessions_attended=len(sessions), no_shows=no_shows, cancellations=cancels,
        late_count=late, late_sessions=late_refs, left_early_count=left,
        max_consecutive_misses=max_run, appointments=len(appointments), window=cfg.miss_window,
        misses_in_window=sum(window), appointments_in_window=len(window))


def _withdrawal_counts(cues: Sequence[Sequence[Cue]]) -> list[int]:
    return [sum(1 for c in session if c.is_finding and c.category == "withdrawal")
            for session in cues]


def _reasons(
    sessions: list[SessionObservation],
    series: dict[str, MeasureSeries],
    ruptures: RuptureSummary,
    attendance: AttendanceSummary,
    withdrawal: list[int] | None,
    cfg: TrajectoryConfig,
) -> list[RiskReason]:
    reasons: list[RiskReason] = []
    for s in series.values():
        pts = s.points
        if s.kind == "alliance":
            run = 0
            for p in reversed(pts):
                if not p.below_cutoff:
                    break
                run += 1
            if run >= cfg.alliance_below_cutoff_runs:
                tail = pts[-run:]
                reasons.append(RiskReason(
                    code="alliance_below_cutoff", sessions=[p.session for p in tail],
                    message=f"{s.short_name} below the {fmt(tail[-1].cutoff or 0)} cutoff in "
                    f"the last {run} administrations ("
                    + ", ".join(fmt(p.total) for p in tail) + ")"))
            if len(pts) >= 2:
                cur, prev = pts[-1], pts[-2]
                best = max(pts[:-1], key=lambda p: p.total)
                if prev.total - cur.total >= cfg.alliance_drop_points:
                    reasons.append(RiskReason(
                        code="alliance_falling", sessions=[prev.session, cur.session],
                        message=f"{s.short_name} fell {fmt(prev.total - cur.total)} points "
                        f"since the previous session ({fmt(prev.total)} → {fmt(cur.total)})"))
                elif cfg.drop_from_best and best.total - cur.total >= cfg.alliance_drop_points:
                    reasons.append(RiskReason(
                        code="alliance_falling", sessions=[best.session, cur.session],
                        message=f"{s.short_name} is {fmt(best.total - cur.total)} points below "
                        f"the client's best ({fmt(best.total)} at session "
                        f"{best.session.label()} → {fmt(cur.total)})"))
        elif s.kind == "outcome" and cfg.outcome_deterioration and len(pts) >= 2:
            cur = pts[-1]
            rci = s.reliable_change_index
            if rci is not None and cur.change_from_first <= -rci:
                reasons.append(RiskReason(
                    code="outcome_deteriorating", sessions=[pts[0].session, cur.session],
                    message=f"{s.short_name} reliably worse than at the first session "
                    f"({fmt(pts[0].total)} → {fmt(cur.total)}, RCI {fmt(rci)})"))
    flagged = [r for r in ruptures.unresolved_latest
               if r.resolved in cfg.at_risk_rupture_statuses]
    if flagged:
        kinds = ", ".join(sorted({r.kind for r in flagged}))
        reasons.append(RiskReason(
            code="unresolved_rupture", sessions=[flagged[0].session],
            message=f"unresolved {kinds} rupture in the latest session"))
    if attendance.misses_in_window >= cfg.miss_threshold:
        missed_refs = [_ref(i, s) for i, s in enumerate(sessions)
                       if s.rapport.attendance and (s.rapport.attendance.no_shows_since_last
                                                    or s.rapport.attendance
                                                    .cancellations_since_last)]
        reasons.append(RiskReason(
            code="missed_appointments", sessions=missed_refs,
            message=f"{attendance.misses_in_window} of the last "
            f"{attendance.appointments_in_window} appointments missed (no-shows or "
            "cancellations)"))
    n = cfg.withdrawal_trend_sessions
    if withdrawal is not None and len(withdrawal) >= n:
        counts = withdrawal[-n:]
        if (all(b >= a for a, b in pairwise(counts)) and counts[-1] > counts[0]
                and counts[-1] >= cfg.withdrawal_min_latest):
            reasons.append(RiskReason(
                code="withdrawal_rising",
                sessions=[_ref(i, sessions[i]) for i in range(len(sessions) - n, len(sessions))],
                message=f"withdrawal cues rising over the last {n} sessions ("
                + " → ".join(str(c) for c in counts) + ")"))
    recent = range(max(0, len(sessions) - cfg.fit_concern_lookback), len(sessions))
    fit = [_ref(i, sessions[i]) for i in recent if sessions[i].rapport.fit_concern is not None]
    if fit:
        reasons.append(RiskReason(
            code="fit_concern", sessions=fit,
            message="fit concern documented in session "
            + ", ".join(r.label() for r in fit)))
    return reasons


def build_trajectory(
    sessions: Sequence[SessionObservation],
    *,
    cues: Sequence[Sequence[Cue]] | None = None,
    withdrawal: Sequence[int] | None = None,
    config: TrajectoryConfig | None = None,
) -> Trajectory:
    """Build the trajectory of one client's sessions.

    Sessions may come in any order; they are sorted by date, start time and number (with
    their ``cues`` or ``withdrawal`` counts, which must align one per session). Notes pass
    ``withdrawal``: the withdrawal suggestions the clinician *accepted* in each session,
    so the at-risk flag rests on confirmed findings and no history is re-extracted.
    Measures are scored with each session's client age. A measure that is not registered
    is skipped with a note; an unscorable administration raises ``MeasureError`` naming
    the session.
    """
    cfg = config or TrajectoryConfig()
    if not sessions:
        raise InputError("a trajectory needs at least one session")
    if cues is not None and len(cues) != len(sessions):
        raise InputError(f"cues: got {len(cues)} lists for {len(sessions)} sessions; "
                         "give one list per session (empty when none)")
    order = sorted(range(len(sessions)), key=lambda i: (
        sessions[i].session.date, sessions[i].session.start_time,
        sessions[i].session.number or 0, i))
    ordered = [sessions[i] for i in order]
    ids = sorted({s.client.id for s in ordered})
    notes: list[str] = []
    if len(ids) > 1:
        notes.append(f"history mixes {len(ids)} client ids")
    series, _ = _series(ordered, notes)
    ruptures = _ruptures(ordered, cfg)
    attendance = _attendance(ordered, cfg)
    if withdrawal is not None:
        if len(withdrawal) != len(sessions):
            raise InputError(f"withdrawal: got {len(withdrawal)} counts for {len(sessions)} "
                             "sessions")
        counts: list[int] | None = [int(withdrawal[i]) for i in order]
    else:
        counts = None if cues is None else _withdrawal_counts([cues[i] for i in order])
    reasons = _reasons(ordered, series, ruptures, attendance, counts, cfg)
    return Trajectory(
        client_id=ids[0] if len(ids) == 1 else None,
        sessions=[_ref(i, s) for i, s in enumerate(ordered)],
        measures=series, ruptures=ruptures, attendance=attendance,
        withdrawal_cues=counts, at_risk=bool(reasons), reasons=reasons,
        suggested_actions=_actions(reasons), notes=notes, config=cfg)
