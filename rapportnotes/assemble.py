"""Assemble a :class:`~rapportnotes.notes.Note` from a session, its cues and its history.

Pure functions: no I/O, no spaCy, no templates. Each *block* turns one part of the input
into statements that know their sources; a format (``formats.py``) decides which blocks go
into which section. Two rules run through every block:

* Nothing is invented. Absent input reads "Not documented" (or "Not assessed" where the
  clinician said so); there is no default such as "within normal limits" or "denies SI/HI".
* Nothing machine-inferred enters the note unless the clinician accepted it. Blocks read
  only entered fields and *accepted* suggestions (``AssemblyContext.accepted``), which
  read as clinical prose with their actor named; the software writes no plan content.
* Each fact once: a measure in one line, a rupture as marker → repair → outcome; headings
  that do not apply are left out, what a payer requires stays as "Not documented".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Literal

from .errors import PluginError
from .formats import NoteFormat
from .models import MSE_DOMAINS, RiskItem, RuptureEvent, SessionObservation
from .notes import (
    ChartSeries,
    HeaderField,
    MeasureFact,
    Note,
    NoteFacts,
    NoteSection,
    RiskFact,
    RuptureFact,
    Signature,
    SourceRef,
    Statement,
    Table,
)
from .suggestions import PlanPrompt, Suggestion
from .taxonomy import DESCRIPTIONS, LABEL_INFO

if TYPE_CHECKING:
    from .measures import MeasureScore
    from .trajectory import Trajectory

NOT_DOCUMENTED = "Not documented"
NOT_ASSESSED = "Not assessed"

MODALITY = {
    "in_person": "in person",
    "telehealth_video": "telehealth (video)",
    "telehealth_audio": "telehealth (audio only)",
}
SETTING = {
    "office": "office", "school": "school", "home": "home",
    "outdoor": "outdoors (walk-and-talk)", "other": "other setting",
}
PARTICIPANTS = {
    "client_only": "individual", "with_caregiver": "with caregiver",
    "with_partner": "couple (with partner)", "with_family": "family", "group": "group",
}
RAPPORT_INTERVENTIONS = {
    "check_in": "check-in", "reflection": "reflection", "validation": "validation",
    "collaborative_goal_setting": "collaborative goal setting",
    "feedback_invited": "feedback invited", "treatment_explained": "treatment explained",
}
ADAPTATION = {
    "privacy": "Privacy", "ground_rules": "Ground rules", "setting": "Setting",
    "telehealth_setup": "Telehealth set-up",
    "scheduling": "Scheduling", "accessibility": "Accessibility",
    "language": "Language", "other": "Other",
}
RESOLVED = {"yes": "resolved", "partly": "partly resolved", "no": "unresolved"}
PROGRESS = {
    "not_started": "not started", "regressed": "regressed", "none": "no progress",
    "minimal": "minimal", "emerging": "emerging", "partial": "partial",
    "significant": "significant", "met": "goal met",
}
REPORTED = {
    "denied": "denied", "passive": "passive ideation reported",
    "active_without_plan": "active ideation without plan reported",
    "active_with_plan": "active ideation with plan reported",
    "active_with_intent": "active ideation with plan and intent reported",
}
RISK_LEVEL = {"low": "low", "moderate": "moderate", "high": "high", "imminent": "imminent"}
RISK_DOMAINS = (
    ("suicidal_ideation", "Suicidal ideation", True),
    ("homicidal_ideation", "Homicidal ideation", True),
    ("self_harm", "Self-harm", True),
    ("substance_use", "Substance-related risk", False),
    ("overdose", "Overdose risk", False),
)
"""(field, wording, payer-required): required domains print "not documented" when absent;
the substance and overdose domains are printed only when the clinician documented them."""


def _field(path: str) -> tuple[SourceRef, ...]:
    return (SourceRef(kind="field", path=path),)


def _mse_name(domain: str) -> str:
    return domain.replace("_", " ").capitalize()


def _join(items: Sequence[str]) -> str:
    return "; ".join(items)


@dataclass
class AssemblyContext:
    """Everything a block may read. Built once per note by ``api.build_note``.

    ``accepted`` holds only the suggestions the clinician (or a vendor's acceptance
    policy) accepted; pending and rejected ones never reach a block.
    """

    obs: SessionObservation
    accepted: Sequence[Suggestion] = ()
    suggestions: Sequence[Suggestion] = ()
    history: Sequence[SessionObservation] = ()
    trajectory: Trajectory | None = None
    scores: list[tuple[int, MeasureScore]] = field(default_factory=list)
    score_errors: list[str] = field(default_factory=list)

    @cached_property
    def links(self) -> RuptureLinks:
        """How accepted repairs and re-engagements relate to the entered ruptures (used by
        the rapport block, the facts and the review messages: computed once)."""
        return link_ruptures(self)

    def accepted_in(self, slot: str) -> list[Suggestion]:
        """Accepted suggestions whose label goes to ``slot`` of the note, in text order."""
        return [s for s in self.accepted if LABEL_INFO[s.label].slot == slot]


# --------------------------------------------------------------------------- header


def build_header(obs: SessionObservation) -> tuple[HeaderField, ...]:
    """The header payers check: client, date/time/duration, session, clinician, CPT, dx."""
    s = obs.session
    client = obs.client.id + (f" ({obs.client.name})" if obs.client.name else "")
    when = (f"{s.date.isoformat()}, {s.start_time:%H:%M}–{s.end_time:%H:%M}"
            + (" (next day)" if s.crosses_midnight else "") + f" ({s.duration_minutes} min)")
    parts = [f"Session {s.number}" if s.number else "Session number not documented"]
    parts.append(PARTICIPANTS[s.participants] if s.participants else "participants not documented")
    if s.others_present:
        parts[-1] += f" ({', '.join(s.others_present)} present)"
    where = [MODALITY[s.modality] if s.modality else "modality not documented"]
    if s.setting:
        where.append(SETTING[s.setting])
    if s.setting_detail:
        where.append(s.setting_detail)
    if s.client_location:
        where.append(f"client at {s.client_location}")
    parts.append(", ".join(where))
    clin = obs.clinician.name + (f", {obs.clinician.credentials}" if obs.clinician.credentials
                                 else "")
    cpt = f"CPT {s.cpt_code}" if s.cpt_code else NOT_DOCUMENTED
    if s.cpt_code and s.cpt_modifiers:
        cpt += "-" + "-".join(s.cpt_modifiers)
    if s.cpt_addons:
        cpt += " + " + ", ".join(s.cpt_addons)
    cpt += f" · POS {s.place_of_service}" if s.place_of_service else \
        " · place of service not documented"
    dx = "; ".join(d.code + (f" {d.description}" if d.description else "")
                   for d in s.diagnoses) or NOT_DOCUMENTED
    return (
        HeaderField(label="Client", value=client),
        HeaderField(label="Date / time", value=when),
        HeaderField(label="Session", value=" · ".join(parts)),
        HeaderField(label="Clinician", value=clin),
        HeaderField(label="Service", value=cpt),
        HeaderField(label="Diagnoses", value=dx),
    )


# --------------------------------------------------------------------------- S / O / A blocks


def block_subjective(ctx: AssemblyContext) -> list[Statement]:
    sub = ctx.obs.subjective
    out = [Statement(lead="Client report", text=sub.report or NOT_DOCUMENTED,
                     sources=_field("subjective.report"))]
    if sub.presenting_concerns:
        out.append(Statement(lead="Presenting concerns", text=_join(sub.presenting_concerns),
                             sources=_field("subjective.presenting_concerns")))
    for i, quote in enumerate(sub.quotes):
        out.append(Statement(lead="Client quote", text=f"“{quote}”", style="bullet",
                             sources=_field(f"subjective.quotes[{i}]")))
    return out


def block_mental_status(ctx: AssemblyContext) -> list[Statement]:
    obj = ctx.obs.objective
    parts, undocumented = [], []
    for domain in MSE_DOMAINS:
        if domain in obj.mental_status:
            parts.append(f"{_mse_name(domain)}: {obj.mental_status[domain]}")  # type: ignore[index]
        elif domain in obj.not_assessed:
            parts.append(f"{_mse_name(domain)}: not assessed")
        else:
            undocumented.append(domain.replace("_", " "))
    out = []
    if parts:
        out.append(Statement(lead="Mental status", text=". ".join(parts) + ".",
                             sources=_field("objective.mental_status")))
    else:
        out.append(Statement(lead="Mental status", text=NOT_DOCUMENTED,
                             sources=_field("objective.mental_status")))
    if parts and undocumented:
        out.append(Statement(lead="Not documented", text=", ".join(undocumented) + ".",
                             sources=_field("objective.mental_status")))
    if obj.observations:
        out.append(Statement(lead="Observations", text=obj.observations,
                             sources=_field("objective.observations")))
    return out


def block_interventions(ctx: AssemblyContext) -> list[Statement]:
    ivs = ctx.obs.interventions
    if not ivs:
        return [Statement(lead="Interventions", text=NOT_DOCUMENTED,
                          sources=_field("interventions"))]
    out = [Statement(lead="Interventions and response", text="")]
    for i, iv in enumerate(ivs):
        text = _sentence(iv.name + (f": {iv.detail}" if iv.detail else ""))
        text += " Response: " + (_sentence(iv.client_response) if iv.client_response
                                 else "not documented.")
        out.append(Statement(text=text, style="bullet",
                             sources=_field(f"interventions[{i}]")))
    return out


def _sentence(text: str) -> str:
    """End ``text`` with a full stop unless it already ends a sentence (also inside quotes)."""
    text = text.strip()
    core = text.rstrip("'\"”’)")
    return text if core.endswith((".", "!", "?", "…")) else text + "."


def block_assessment(ctx: AssemblyContext) -> list[Statement]:
    return [Statement(lead="Clinical assessment", text=ctx.obs.assessment or NOT_DOCUMENTED,
                      sources=_field("assessment"))]


def block_progress(ctx: AssemblyContext) -> list[Statement]:
    goals = ctx.obs.progress
    if not goals:
        return [Statement(lead="Progress toward goals", text=NOT_DOCUMENTED,
                          sources=_field("progress"))]
    out = [Statement(lead="Progress toward goals", text="")]
    for i, g in enumerate(goals):
        status = PROGRESS[g.status] if g.status else "status not documented"
        text = f"Goal {i + 1} ({g.goal}): {status}" + (f" — {g.detail}" if g.detail else "")
        out.append(Statement(text=_sentence(text), style="bullet",
                             sources=_field(f"progress[{i}]")))
    return out


def _risk_text(name: str, item: RiskItem | None) -> str:
    """What the clinician documented for one domain: the client's report and the
    clinician's own rating kept apart; absent → not documented (never "not assessed")."""
    if item is None:
        return f"{name}: not documented"
    if not item.assessed:
        return f"{name}: not assessed"
    parts = []
    if item.reported:
        parts.append(REPORTED[item.reported])
    if item.level:
        parts.append(f"clinician-rated {RISK_LEVEL[item.level]} risk")
    text = f"{name}: " + ", ".join(parts)
    return text + (f" ({item.detail.rstrip('.')})" if item.detail else "")


def block_risk(ctx: AssemblyContext) -> list[Statement]:
    r = ctx.obs.risk
    items = [_risk_text(name, getattr(r, key)) for key, name, required in RISK_DOMAINS
             if required or getattr(r, key) is not None]
    out = [Statement(lead="Risk", text=_join(items) + ".", sources=_field("risk"))]
    if r.formulation is not None:
        f = r.formulation
        bits = []
        if f.acute:
            bits.append(f"acute {RISK_LEVEL[f.acute]}")
        if f.chronic:
            bits.append(f"chronic {f.chronic}")
        text = ", ".join(bits) or NOT_DOCUMENTED
        text += f" — {f.detail}" if f.detail else ""
        out.append(Statement(lead="Risk formulation", text=_sentence(text),
                             sources=_field("risk.formulation")))
    out.append(Statement(
        lead="Protective factors",
        text=(", ".join(r.protective_factors) + ".") if r.protective_factors else NOT_DOCUMENTED,
        sources=_field("risk.protective_factors")))
    if r.safety_plan_reviewed is not None:
        out.append(Statement(lead="Safety plan", text="reviewed this session."
                             if r.safety_plan_reviewed else "not reviewed this session.",
                             sources=_field("risk.safety_plan_reviewed")))
    return out


# --------------------------------------------------------------------------- rapport


def _suggestion_source(s: Suggestion) -> SourceRef:
    return SourceRef(kind="suggestion", path=s.field, label=s.label, start_char=s.start_char,
                     end_char=s.end_char, accepted_by=s.decided_by, accepted_at=s.decided_at,
                     policy=s.policy)


def _sources(items: Sequence[Suggestion]) -> tuple[SourceRef, ...]:
    return tuple(_suggestion_source(s) for s in items)


def _statements_text(items: Sequence[Suggestion]) -> str:
    """Accepted suggestions as prose: one sentence per actor, each distinct predicate once
    ("Client completed between-session work and participated actively.")."""
    by_subject: dict[str, list[str]] = {}
    for s in items:
        subject, _, predicate = s.statement.partition(" ")
        preds = by_subject.setdefault(subject, [])
        predicate = predicate.rstrip(".")
        if predicate not in preds:
            preds.append(predicate)
    sentences = []
    for subject, preds in by_subject.items():
        joined = preds[0] if len(preds) == 1 else ", ".join(preds[:-1]) + " and " + preds[-1]
        sentences.append(f"{subject} {joined}.")
    return " ".join(sentences)


def _measure_line(ctx: AssemblyContext) -> list[Statement]:
    """Each measure once, with its meaning and (with a history) its trend."""
    parts: list[str] = []
    sources: list[SourceRef] = []
    for idx, sc in ctx.scores:
        resp = ctx.obs.rapport.measures[idx].respondent
        name = (sc.title or sc.measure.upper()) + (f" ({resp})" if resp else "")
        text = f"{name} {sc.interpretation}"
        trend = _trend_text(ctx, sc.measure)
        if trend:
            text = f"{text}; {trend}"
        parts.append(text)
        sources.append(SourceRef(kind="measure", path=f"rapport.measures[{idx}]",
                                 label=sc.measure))
    out: list[Statement] = []
    if parts:
        out.append(Statement(lead="Alliance measures", style="bullet",
                             text=_sentence(_join(parts)), sources=tuple(sources)))
    out.extend(Statement(lead="Measure not scored", text=msg, style="bullet",
                         sources=_field("rapport.measures"), emphasis="attention")
               for msg in ctx.score_errors)
    rap = ctx.obs.rapport
    if rap.therapist_rating:
        tr = rap.therapist_rating
        text = f"{tr.score}/{tr.scale_max}" + (f" — {tr.comment}" if tr.comment else "")
        out.append(Statement(lead="Therapist rapport rating", text=_sentence(text),
                             style="bullet", sources=_field("rapport.therapist_rating")))
    if not out:
        out.append(Statement(lead="Alliance measures", text=NOT_DOCUMENTED + ".",
                             style="bullet", sources=_field("rapport.measures")))
    return out


def _trend_text(ctx: AssemblyContext, measure: str) -> str | None:
    if ctx.trajectory is None:
        return None
    return ctx.trajectory.trend_text(measure, ctx.obs.session.date)


@dataclass
class RuptureLinks:
    """How accepted repair and re-engagement suggestions relate to the entered ruptures.

    A repair attaches to an entered rupture only when a marker of that rupture comes before
    it in the same field (order fits); a re-engagement only when, in addition, its actor is
    the one who showed the rupture, and never against the entered outcome.
    """

    extra_repairs: dict[int, list[Suggestion]] = field(default_factory=dict)
    markers: list[Suggestion] = field(default_factory=list)  # accepted, no entered rupture
    repairs: list[Suggestion] = field(default_factory=list)  # accepted, attached to nothing
    outcomes: list[Suggestion] = field(default_factory=list)  # re-engaged, no entered rupture
    conflicts: list[str] = field(default_factory=list)


def _who_matches(ev: RuptureEvent, s: Suggestion) -> bool:
    if ev.who is None:
        return s.actor == "client"
    who = ev.who.lower()
    return (s.actor != "client" and (s.actor_role or s.actor) in who) or s.actor in who


def link_ruptures(ctx: AssemblyContext) -> RuptureLinks:
    """Relate accepted repair/outcome suggestions to the entered rupture events."""
    links = RuptureLinks()
    events = list(ctx.obs.rapport.ruptures)
    entered_markers = {m for ev in events for m in ev.markers}

    def event_before(s: Suggestion) -> int | None:
        best: tuple[int, int] | None = None  # (marker start, event index)
        for t in ctx.suggestions:
            if t.field != s.field or t.start_char >= s.start_char:
                continue
            for i, ev in enumerate(events):
                if t.label in ev.markers and (best is None or t.start_char > best[0]):
                    best = (t.start_char, i)
        return None if best is None else best[1]

    for s in ctx.accepted_in("rupture"):
        if s.label not in entered_markers:
            links.markers.append(s)
    for s in ctx.accepted_in("repair"):
        if any(s.label in ev.repairs for ev in events):
            continue
        i = event_before(s)
        if i is None:
            links.repairs.append(s)
        else:
            links.extra_repairs.setdefault(i, []).append(s)
    for s in ctx.accepted_in("outcome"):
        i = event_before(s)
        if i is None:
            if events:
                links.conflicts.append(
                    f"accepted re-engagement ({s.field}) does not follow a marker of an "
                    "entered rupture; it is left out of the note")
            else:
                links.outcomes.append(s)
            continue
        ev = events[i]
        if ev.resolved == "no":
            links.conflicts.append(
                f"accepted re-engagement ({s.field}) contradicts rapport.ruptures[{i}]."
                "resolved = no; it is left out of the note")
        elif not _who_matches(ev, s):
            links.conflicts.append(
                f"accepted re-engagement ({s.field}) is by a different person than "
                f"rapport.ruptures[{i}]; it is left out of the note")
    return links


def _ruptures(ctx: AssemblyContext, links: RuptureLinks) -> list[Statement]:
    out: list[Statement] = []
    for i, ev in enumerate(ctx.obs.rapport.ruptures):
        markers = ", ".join(DESCRIPTIONS[m] for m in ev.markers)
        text = f"{ev.kind} — {markers}" + (f" ({ev.who})" if ev.who else "")
        text += f": {_sentence(ev.description)}" if ev.description else "."
        repairs = [DESCRIPTIONS[r] for r in ev.repairs]
        extra = links.extra_repairs.get(i, [])
        repairs += [DESCRIPTIONS[s.label] for s in extra
                    if DESCRIPTIONS[s.label] not in repairs]
        text += f" Repair: {'; '.join(repairs) if repairs else 'none documented'}."
        text += f" Outcome: {RESOLVED[ev.resolved]}."
        out.append(Statement(
            lead="Rupture", text=text, style="bullet",
            sources=(SourceRef(kind="field", path=f"rapport.ruptures[{i}]"),
                     *_sources(extra)),
            emphasis="attention" if ev.resolved == "no" else "none"))
    if links.markers:
        kinds = sorted({s.category for s in links.markers})
        text = f"{' and '.join(kinds)} — {_statements_text(links.markers)}"
        if links.repairs:
            text += f" Repair: {_statements_text(links.repairs)}"
        text += (f" Outcome: {_statements_text(links.outcomes)}" if links.outcomes
                 else " Outcome: not documented.")
        out.append(Statement(lead="Rupture", text=text, style="bullet",
                             sources=_sources([*links.markers, *links.repairs,
                                               *links.outcomes])))
    elif links.repairs or links.outcomes:
        items = [*links.repairs, *links.outcomes]
        out.append(Statement(lead="Alliance repair", text=_statements_text(items),
                             style="bullet", sources=_sources(items)))
    if not out:
        out.append(Statement(lead="Ruptures", text=NOT_DOCUMENTED + ".", style="bullet",
                             sources=_field("rapport.ruptures")))
    return out


def _attendance(ctx: AssemblyContext) -> list[Statement]:
    att = ctx.obs.rapport.attendance
    parts: list[str] = []
    expressed: set[str] = set()
    if att is not None:
        if att.minutes_late is not None:
            parts.append("on time" if att.minutes_late == 0 else f"{att.minutes_late} min late")
            expressed.add("attendance.late")
        if att.left_early_minutes is not None:
            parts.append("stayed for the full session" if att.left_early_minutes == 0
                         else f"left {att.left_early_minutes} min early")
            expressed.add("attendance.left_early")
        if att.no_shows_since_last == 0 and att.cancellations_since_last == 0:
            parts.append("no missed appointments since the last session")
            expressed.update(("attendance.no_show", "attendance.cancellation"))
        elif att.no_shows_since_last is not None:
            n = att.no_shows_since_last
            parts.append(f"{n or 'no'} no-show{'s' if n != 1 else ''} since the last session")
            expressed.add("attendance.no_show")
        if att.cancellations_since_last is not None and "attendance.cancellation" not in expressed:
            n = att.cancellations_since_last
            parts.append(f"{n or 'no'} cancellation{'s' if n != 1 else ''} since the last "
                         "session")
            expressed.add("attendance.cancellation")
    accepted = [s for s in ctx.accepted_in("attendance") if s.label not in expressed]
    text = (_join(parts) + ".") if parts else ""
    if accepted:
        text = (text + " " if text else "") + _statements_text(accepted)
    sources = (*_field("rapport.attendance"), *_sources(accepted))
    return [Statement(lead="Attendance", text=text or NOT_DOCUMENTED + ".", style="bullet",
                      sources=sources)]


def _needs_alliance_plan(ctx: AssemblyContext) -> bool:
    """An alliance concern the clinician's plan should speak to."""
    rap = ctx.obs.rapport
    return (any(ev.resolved != "yes" for ev in rap.ruptures) or rap.fit_concern is not None
            or any(sc.kind == "alliance" and sc.below_cutoff for _, sc in ctx.scores)
            or (ctx.trajectory is not None and ctx.trajectory.at_risk))


def _alliance_plan(ctx: AssemblyContext) -> list[Statement]:
    """The clinician's own alliance plan items; the software adds none (its prompts are
    review material). With a concern and no item, the gap stays visible."""
    items = ctx.obs.rapport.alliance_plan
    if items:
        return [Statement(lead="Alliance plan", style="bullet", text=_sentence(_join(items)),
                          sources=_field("rapport.alliance_plan"))]
    if _needs_alliance_plan(ctx):
        return [Statement(lead="Alliance plan", style="bullet", text=NOT_DOCUMENTED + ".",
                          sources=_field("rapport.alliance_plan"), emphasis="attention")]
    return []


def _at_risk(ctx: AssemblyContext) -> list[Statement]:
    traj = ctx.trajectory
    if traj is None:
        return []
    if not traj.at_risk:
        return [Statement(lead="Alliance trajectory", style="bullet",
                          text=f"not at risk across {len(ctx.history) + 1} sessions.",
                          sources=(SourceRef(kind="history", path="history"),))]
    reasons = [r.message for r in traj.reasons]
    return [Statement(lead="Alliance at risk", style="bullet", emphasis="attention",
                      text=_join([r.rstrip(".") for r in reasons]) + ".",
                      sources=(SourceRef(kind="history", path="history"),))]


def _previous_unresolved(ctx: AssemblyContext) -> list[Statement]:
    """Unresolved ruptures of the previous session (the clinician's own record of it)."""
    if not ctx.history:
        return []
    prev = ctx.history[-1]
    bits = []
    for ev in prev.rapport.ruptures:
        if ev.resolved != "yes":
            markers = ", ".join(DESCRIPTIONS[m] for m in ev.markers)
            bits.append(f"{RESOLVED[ev.resolved]} {ev.kind} rupture ({markers})")
    if not bits:
        return []
    when = (f"session {prev.session.number}, " if prev.session.number else "") + \
        prev.session.date.isoformat()
    return [Statement(lead="Previous session", style="bullet", emphasis="attention",
                      text=f"{_join(bits)} ({when}).",
                      sources=(SourceRef(kind="history", path="history[-1].rapport.ruptures"),))]


def block_rapport(ctx: AssemblyContext) -> list[Statement]:
    """The rapport & therapeutic-alliance section, summary level (a progress note).

    Built from entered fields and accepted suggestions only; each fact once; lines with
    nothing to say are left out except attendance and ruptures, which auditors look for.
    """
    rap = ctx.obs.rapport
    links = ctx.links
    out: list[Statement] = []
    out.extend(_measure_line(ctx))
    out.extend(_at_risk(ctx))
    if rap.interventions:
        out.append(Statement(lead="Rapport-building interventions", style="bullet",
                             text=", ".join(RAPPORT_INTERVENTIONS[i] for i in rap.interventions)
                             + ".", sources=_field("rapport.interventions")))
    engagement = ctx.accepted_in("engagement")
    if engagement:
        out.append(Statement(lead="Engagement", style="bullet",
                             text=_statements_text(engagement), sources=_sources(engagement)))
    out.extend(_previous_unresolved(ctx))
    out.extend(_ruptures(ctx, links))
    prefs = rap.preferences
    if prefs is not None and (prefs.ready_to_discuss or prefs.not_ready_to_discuss or prefs.other):
        bits = []
        if prefs.not_ready_to_discuss:
            bits.append("not yet ready to discuss " + ", ".join(prefs.not_ready_to_discuss))
        if prefs.ready_to_discuss:
            bits.append("ready to discuss " + ", ".join(prefs.ready_to_discuss))
        bits.extend(prefs.other)
        out.append(Statement(lead="Preferences and boundaries", style="bullet",
                             text=_sentence(_join(bits)), sources=_field("rapport.preferences")))
    if rap.cultural_considerations:
        out.append(Statement(lead="Cultural considerations", style="bullet",
                             text=_sentence(_join(rap.cultural_considerations)),
                             sources=_field("rapport.cultural_considerations")))
    if rap.adaptations:
        text = _join(f"{ADAPTATION[a.kind].lower()}: {a.description.rstrip('.')}"
                     for a in rap.adaptations)
        out.append(Statement(lead="Adaptations", style="bullet", text=_sentence(text),
                             sources=_field("rapport.adaptations")))
    if rap.caregiver_alliance is not None:
        ca = rap.caregiver_alliance
        text = f"{ca.caregiver}" + (f": {ca.quality}" if ca.quality else "")
        text += f" — {ca.detail}" if ca.detail else ""
        out.append(Statement(lead="Caregiver alliance", style="bullet", text=_sentence(text),
                             sources=_field("rapport.caregiver_alliance")))
    out.extend(_attendance(ctx))
    if rap.fit_concern is not None:
        fc = rap.fit_concern
        text = fc.concern.rstrip(".")
        if fc.discussed_with_client is not None:
            text += "; discussed with client" if fc.discussed_with_client else \
                "; not yet discussed with client"
        if fc.referral_considered:
            text += "; referral considered" + (f" ({fc.referral_to})" if fc.referral_to else "")
        out.append(Statement(lead="Fit concern", style="bullet", text=text + ".",
                             emphasis="attention", sources=_field("rapport.fit_concern")))
    out.extend(_alliance_plan(ctx))
    return out


# --------------------------------------------------------------------------- plan


def block_plan(ctx: AssemblyContext) -> list[Statement]:
    """The clinician's plan, as entered: the software adds no plan line."""
    p = ctx.obs.plan
    out = [Statement(lead="Treatment", text=p.treatment or NOT_DOCUMENTED,
                     sources=_field("plan.treatment"))]
    if p.next_session_date:
        nxt = p.next_session_date.isoformat() + (f" {p.next_session_time:%H:%M}"
                                                 if p.next_session_time else "")
    else:
        nxt = NOT_DOCUMENTED
    out.append(Statement(lead="Next session", text=nxt, sources=_field("plan.next_session_date")))
    out.append(Statement(lead="Homework", text=_join(p.homework) if p.homework else
                         NOT_DOCUMENTED, sources=_field("plan.homework")))
    out.append(Statement(lead="Referrals", text=_join(p.referrals) if p.referrals else
                         NOT_DOCUMENTED, sources=_field("plan.referrals")))
    out.append(Statement(lead="Coordination of care", text=p.coordination_of_care or
                         NOT_DOCUMENTED, sources=_field("plan.coordination_of_care")))
    return out


BLOCKS: dict[str, Callable[[AssemblyContext], list[Statement]]] = {
    "subjective": block_subjective,
    "mental_status": block_mental_status,
    "interventions": block_interventions,
    "assessment": block_assessment,
    "progress": block_progress,
    "risk": block_risk,
    "rapport": block_rapport,
    "plan": block_plan,
}
"""Built-in blocks a format can name."""


def assemble(fmt: NoteFormat, ctx: AssemblyContext, *, generator: str,
             status: Literal["final", "draft"] = "final",
             prompts: Sequence[PlanPrompt] = (), messages: Sequence[str] = ()) -> Note:
    """Build the note for ``fmt`` from a prepared context.

    The suggestions, prompts and review messages ride on the note model, outside its
    sections: exporters print them only in a draft's appendix, never in the record.
    """
    sections = []
    for spec in fmt.sections:
        statements: list[Statement] = []
        for block in spec.blocks:
            if isinstance(block, str):
                fn = BLOCKS.get(block)
                if fn is None:
                    raise PluginError(f"format {fmt.name!r} names unknown block {block!r}; "
                                      f"available: {', '.join(sorted(BLOCKS))}")
            else:
                fn = block
            statements.extend(fn(ctx))
        tables, chart = (_rapport_extras(ctx) if spec.has_extras else ((), ()))
        sections.append(NoteSection(key=spec.key, title=spec.title,
                                    statements=tuple(statements), tables=tables, chart=chart))
    obs = ctx.obs
    return Note(
        format=fmt.name, title=fmt.title, header=build_header(obs), sections=tuple(sections),
        signature=Signature(clinician=obs.clinician.name, credentials=obs.clinician.credentials,
                            signed_at=_signed(obs)),
        client_id=obs.client.id, session_date=obs.session.date.isoformat(), generator=generator,
        status=status, suggestions=tuple(ctx.suggestions), prompts=tuple(prompts),
        review_messages=tuple(messages), facts=build_facts(ctx),
    )


def build_facts(ctx: AssemblyContext) -> NoteFacts:
    """The values behind the prose, from entered data (accepted repairs included in the
    rupture they attach to)."""
    obs = ctx.obs
    s = obs.session
    measures = []
    for idx, sc in ctx.scores:
        cutoff = sc.cutoffs[0].value if sc.cutoffs else None
        code = ("no_cutoff" if not sc.cutoffs else
                "below_cutoff" if sc.below_cutoff else "above_cutoff")
        measures.append(MeasureFact(
            measure=sc.measure, title=sc.title or sc.short_name, kind=sc.kind,
            total=sc.total, total_max=sc.total_max, subscales=dict(sc.subscales),
            items=tuple((it.label, it.raw, it.max) for it in sc.items), cutoff=cutoff,
            cutoff_direction=sc.cutoffs[0].direction if sc.cutoffs else None,
            cutoff_meaning=sc.cutoffs[0].meaning if sc.cutoffs else None,
            interpretation=code, respondent=obs.rapport.measures[idx].respondent,  # type: ignore[arg-type]
            source=f"rapport.measures[{idx}]"))
    risk = []
    for key, _, _ in RISK_DOMAINS:
        item = getattr(obs.risk, key)
        risk.append(RiskFact(domain=key, assessed=None if item is None else item.assessed,
                             reported=getattr(item, "reported", None),
                             level=getattr(item, "level", None)))
    links = ctx.links
    ruptures = tuple(RuptureFact(
        kind=ev.kind, markers=tuple(ev.markers),
        repairs=tuple(dict.fromkeys([*ev.repairs,
                                     *(x.label for x in links.extra_repairs.get(i, []))])),
        outcome=ev.resolved, who=ev.who, source=f"rapport.ruptures[{i}]")
        for i, ev in enumerate(obs.rapport.ruptures))
    att = obs.rapport.attendance
    f = obs.risk.formulation
    return NoteFacts(
        date=s.date.isoformat(), start_time=s.start_time.isoformat(),
        end_time=s.end_time.isoformat(), duration_minutes=s.duration_minutes,
        crosses_midnight=s.crosses_midnight, modality=s.modality,
        place_of_service=s.place_of_service, cpt_code=s.cpt_code,
        cpt_modifiers=tuple(s.cpt_modifiers), cpt_addons=tuple(s.cpt_addons),
        diagnoses=tuple(d.code for d in s.diagnoses), measures=tuple(measures),
        risk=tuple(risk), risk_acute=f.acute if f else None,
        risk_chronic=f.chronic if f else None,
        safety_plan_reviewed=obs.risk.safety_plan_reviewed, ruptures=ruptures,
        minutes_late=att.minutes_late if att else None,
        left_early_minutes=att.left_early_minutes if att else None,
        no_shows_since_last=att.no_shows_since_last if att else None,
        cancellations_since_last=att.cancellations_since_last if att else None)


def _signed(obs: SessionObservation) -> str | None:
    if obs.signed_at is None:
        return None
    tz = obs.signed_at.strftime(" %z") if obs.signed_at.tzinfo else ""
    return obs.signed_at.strftime("%Y-%m-%d %H:%M") + tz


def _rapport_extras(ctx: AssemblyContext) -> tuple[tuple[Table, ...], tuple[ChartSeries, ...]]:
    """With a history: the series across sessions, as chart data and as a table for
    exporters without images. (This session's scores are told once, in the measure line.)"""
    traj = ctx.trajectory
    if traj is None or not traj.measures:
        return (), ()
    return (traj.history_table(),), tuple(traj.chart_series())


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.1f}"
