"""Assemble a :class:`~rapportnotes.notes.Note` from a session, its cues and its history.

Pure functions: no I/O, no spaCy, no templates. Each *block* turns one part of the input
into statements that know their sources; a format (``formats.py``) decides which blocks go
into which section. Two rules run through every block:

* Nothing is invented. Absent input reads "Not documented" (or "Not assessed" where the
  clinician said so); there is no default such as "within normal limits" or "denies SI/HI".
* Extracted cues are findings only when the extractor says so (affirmed, present, about the
  right person); they are labelled as extracted and carry a short evidence quote, and a
  structured entry (e.g. a rupture event) wins over an extracted duplicate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from .cues import Cue
from .errors import PluginError
from .formats import NoteFormat
from .models import MSE_DOMAINS, RiskItem, SessionObservation
from .notes import (
    ChartSeries,
    HeaderField,
    Note,
    NoteSection,
    Signature,
    SourceRef,
    Statement,
    Table,
)
from .taxonomy import DESCRIPTIONS, category_of

if TYPE_CHECKING:
    from .measures import MeasureScore
    from .trajectory import Trajectory

NOT_DOCUMENTED = "Not documented"
NOT_ASSESSED = "Not assessed"
EVIDENCE_CHARS = 100

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
RISK_LEVEL = {
    "denied": "denies", "passive": "passive ideation", "low": "low risk",
    "moderate": "moderate risk", "high": "high risk", "imminent": "imminent risk",
}


def _field(path: str) -> tuple[SourceRef, ...]:
    return (SourceRef(kind="field", path=path),)


def _mse_name(domain: str) -> str:
    return domain.replace("_", " ").capitalize()


def _join(items: Sequence[str]) -> str:
    return "; ".join(items)


def evidence_snippet(cue: Cue, limit: int = EVIDENCE_CHARS) -> str:
    """A short quote around the cue: its sentence, or a window of whole words around the
    matched phrase when the sentence is long.

    Progress notes are summary level; a quote longer than a line would turn the rapport
    section into a process note.
    """
    sent = " ".join(cue.sentence.split())
    if len(sent) <= limit:
        return sent
    text = " ".join(cue.text.split())
    pos = sent.find(text)
    if pos < 0:
        pos, text = 0, ""
    words: list[tuple[int, int]] = []  # (start, end) of each word in sent
    i = 0
    for word in sent.split(" "):
        words.append((i, i + len(word)))
        i += len(word) + 1
    first = next(k for k, (a, b) in enumerate(words) if b > pos)
    last = next((k for k, (a, b) in enumerate(words) if b >= pos + len(text)), len(words) - 1)
    lo, hi = first, last
    while True:  # grow the window one word at a time, alternating sides, within the limit
        grew = False
        for cand in ((lo - 1, hi), (lo, hi + 1)):
            a, b = cand
            if a >= 0 and b < len(words) and words[b][1] - words[a][0] <= limit:
                lo, hi = cand
                grew = True
        if not grew:
            break
    snippet = sent[words[lo][0]:words[hi][1]]
    return ("…" if lo > 0 else "") + snippet + ("…" if hi < len(words) - 1 else "")


@dataclass
class AssemblyContext:
    """Everything a block may read. Built once per note by :func:`assemble`."""

    obs: SessionObservation
    cues: Sequence[Cue] = ()
    history: Sequence[SessionObservation] = ()
    trajectory: Trajectory | None = None
    scores: list[tuple[int, MeasureScore]] = field(default_factory=list)
    score_errors: list[str] = field(default_factory=list)

    @property
    def findings(self) -> list[Cue]:
        return [c for c in self.cues if c.is_finding]

    def findings_by_label(self) -> dict[str, list[Cue]]:
        """Findings grouped by label, in order of first appearance."""
        out: dict[str, list[Cue]] = {}
        for cue in self.findings:
            out.setdefault(cue.label, []).append(cue)
        return out


# --------------------------------------------------------------------------- header


def build_header(obs: SessionObservation) -> tuple[HeaderField, ...]:
    """The header payers check: client, date/time/duration, session, clinician, CPT, dx."""
    s = obs.session
    client = obs.client.id + (f" ({obs.client.name})" if obs.client.name else "")
    when = (f"{s.date.isoformat()}, {s.start_time:%H:%M}–{s.end_time:%H:%M} "
            f"({s.duration_minutes} min)")
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
    if s.place_of_service:
        cpt += f" · POS {s.place_of_service}"
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
    if item is None or not item.assessed:
        return f"{name}: not assessed"
    text = f"{name}: assessed — {RISK_LEVEL[item.level or 'denied']}"
    return text + (f" ({item.detail.rstrip('.')})" if item.detail else "")


def block_risk(ctx: AssemblyContext) -> list[Statement]:
    r = ctx.obs.risk
    items = [
        _risk_text("Suicidal ideation", r.suicidal_ideation),
        _risk_text("Homicidal ideation", r.homicidal_ideation),
        _risk_text("Self-harm", r.self_harm),
    ]
    out = [Statement(lead="Risk", text=_join(items) + ".", sources=_field("risk"))]
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


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _evidence_line(label: str, cues: Sequence[Cue], *, lead: str | None = None,
                   style: Literal["bullet", "subbullet"] = "subbullet") -> Statement:
    """One extracted finding: its wording, its evidence quote, its cue spans as sources."""
    return Statement(
        lead=lead, text=_cap(DESCRIPTIONS[label]) + ".", style=style,
        sources=tuple(SourceRef(kind="cue", path=c.source or "clinician_notes", label=c.label,
                                start_char=c.start_char, end_char=c.end_char) for c in cues),
        extracted=True, evidence=(evidence_snippet(cues[0]),), cue_labels=(label,))


def _cue_statements(lead: str, cues_by_label: dict[str, list[Cue]], *,
                    style: Literal["bullet", "subbullet"] = "bullet") -> list[Statement]:
    """Extracted findings as statements that say so and carry their evidence.

    One label → one line; several → a lead line with one sub-line per label, so each
    evidence quote sits next to the finding it supports.
    """
    labels = list(cues_by_label)
    if len(labels) == 1:
        return [_evidence_line(labels[0], cues_by_label[labels[0]], lead=lead, style=style)]
    head = Statement(lead=lead, text="", style=style, extracted=True)
    return [head, *(_evidence_line(lab, cues_by_label[lab]) for lab in labels)]


def _measure_statements(ctx: AssemblyContext) -> list[Statement]:
    out: list[Statement] = []
    rap = ctx.obs.rapport
    for idx, sc in ctx.scores:
        text = sc.interpretation
        trend = _trend_text(ctx, sc.measure)
        if trend:
            text = f"{text.rstrip('.')}; {trend}"
        resp = ctx.obs.rapport.measures[idx].respondent
        lead = (sc.title or sc.measure.upper()) + (f" ({resp})" if resp else "")
        out.append(Statement(lead=lead,
                             text=_sentence(text), style="subbullet",
                             sources=(SourceRef(kind="measure", path=f"rapport.measures[{idx}]",
                                                label=sc.measure),)))
    out.extend(Statement(lead="Measure not scored", text=msg, style="subbullet",
                         sources=_field("rapport.measures"), emphasis="attention")
               for msg in ctx.score_errors)
    if rap.therapist_rating:
        tr = rap.therapist_rating
        text = f"{tr.score}/{tr.scale_max}" + (f" — {tr.comment}" if tr.comment else "")
        out.append(Statement(lead="Therapist rapport rating", text=_sentence(text),
                             style="subbullet", sources=_field("rapport.therapist_rating")))
    head = Statement(lead="Alliance measures", text="" if out else NOT_DOCUMENTED + ".",
                     style="bullet", sources=_field("rapport.measures"))
    return [head, *out]


def _trend_text(ctx: AssemblyContext, measure: str) -> str | None:
    if ctx.trajectory is None:
        return None
    return ctx.trajectory.trend_text(measure, ctx.obs.session.date)


def _ruptures(ctx: AssemblyContext, findings: dict[str, list[Cue]]) -> list[Statement]:
    rap = ctx.obs.rapport
    out: list[Statement] = []
    covered: set[str] = set()
    for i, ev in enumerate(rap.ruptures):
        markers = ", ".join(DESCRIPTIONS[m] for m in ev.markers)
        text = f"{ev.kind} — {markers}" + (f" ({ev.who})" if ev.who else "")
        text += f": {_sentence(ev.description)}" if ev.description else "."
        repairs = ("; ".join(DESCRIPTIONS[r] for r in ev.repairs) if ev.repairs
                   else "none documented")
        text += f" Repair: {repairs}. Outcome: {RESOLVED[ev.resolved]}."
        labels = [*ev.markers, *ev.repairs]
        backing = [lab for lab in labels if lab in findings]
        covered.update(labels)
        if ev.resolved != "no" and "repair.reengaged" in findings:
            backing.append("repair.reengaged")
            covered.add("repair.reengaged")
        out.append(Statement(
            lead="Rupture", text=text, style="bullet",
            sources=(SourceRef(kind="field", path=f"rapport.ruptures[{i}]"),),
            emphasis="attention" if ev.resolved == "no" else "none",
        ))
        out.extend(_evidence_line(lab, findings[lab]) for lab in backing)
    rupture_cues = {lab: cs for lab, cs in findings.items()
                    if category_of(lab) in ("withdrawal", "confrontation") and lab not in covered}
    if rupture_cues:
        out.extend(_cue_statements("Possible rupture markers (from session notes, not "
                                   "entered as a rupture event — review)", rupture_cues))
    repair_cues = {lab: cs for lab, cs in findings.items()
                   if category_of(lab) == "repair" and lab not in covered}
    if repair_cues:
        out.extend(_cue_statements("Repair noted (from session notes)", repair_cues))
    if not out:
        out.append(Statement(lead="Ruptures", text="None documented.", style="bullet",
                             sources=_field("rapport.ruptures")))
    return out


def _attendance(ctx: AssemblyContext, findings: dict[str, list[Cue]]) -> list[Statement]:
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
    out = [Statement(lead="Attendance", text=(_join(parts) + ".") if parts else NOT_DOCUMENTED
                     + ".", style="bullet", sources=_field("rapport.attendance"))]
    extra = {lab: cs for lab, cs in findings.items()
             if category_of(lab) == "attendance" and lab not in expressed}
    if extra:
        out.extend(_cue_statements("Also noted in session notes", extra, style="subbullet"))
    return out


def _alliance_plan(ctx: AssemblyContext) -> list[Statement]:
    """Specific items from this session first; the trajectory's generic actions only where
    no specific item already covers them (a plan that says the same thing twice gets
    skimmed)."""
    rap = ctx.obs.rapport
    items: list[Statement] = []
    covered: set[str] = set()
    for i, ev in enumerate(rap.ruptures):
        if ev.resolved != "yes":
            markers = ", ".join(DESCRIPTIONS[m] for m in ev.markers)
            items.append(Statement(
                text=f"Revisit the {RESOLVED[ev.resolved]} {ev.kind} rupture ({markers}) early "
                     "in the next session: acknowledge it and invite the client's view.",
                style="subbullet", sources=(SourceRef(kind="derived",
                                                      path=f"rapport.ruptures[{i}]"),)))
            covered.add("acknowledge_repair")
    if rap.fit_concern is not None:
        fc = rap.fit_concern
        text = "Discuss fit with the client"
        if fc.referral_considered:
            text += "; referral considered" + (f" ({fc.referral_to})" if fc.referral_to else "")
        items.append(Statement(text=text + ".", style="subbullet",
                               sources=(SourceRef(kind="derived", path="rapport.fit_concern"),)))
        covered.add("discuss_fit")
    for idx, sc in ctx.scores:
        if sc.kind == "alliance" and (sc.below_cutoff or sc.flags):
            items.append(Statement(
                text=f"Ask about the {sc.title or sc.measure.upper()} result and repeat it next "
                     "session; if it stays low, review goals and approach together.",
                style="subbullet", sources=(SourceRef(kind="derived",
                                                      path=f"rapport.measures[{idx}]"),)))
            covered.update(("invite_feedback", "revisit_goals"))
    traj = ctx.trajectory
    if traj is not None and traj.at_risk:
        for action in traj.suggested_actions:
            if action.code not in covered:
                items.append(Statement(text=_sentence(action.text), style="subbullet",
                                       sources=(SourceRef(kind="history", path="history",
                                                          label=action.code),)))
    head = Statement(lead="Alliance plan", style="bullet",
                     text="" if items else "No alliance concern requiring action documented.",
                     sources=(SourceRef(kind="derived", path="rapport"),))
    return [head, *_dedupe(items)]


def _dedupe(items: list[Statement]) -> list[Statement]:
    seen: set[str] = set()
    out = []
    for st in items:
        if st.text not in seen:
            seen.add(st.text)
            out.append(st)
    return out


def _at_risk(ctx: AssemblyContext) -> list[Statement]:
    traj = ctx.trajectory
    if traj is None:
        return []
    if not traj.at_risk:
        return [Statement(lead="Alliance trajectory", style="bullet",
                          text=f"not at risk across {len(ctx.history) + 1} sessions.",
                          sources=(SourceRef(kind="history", path="history"),))]
    reasons = [r.message for r in traj.reasons]
    return [Statement(lead="ALLIANCE AT RISK", style="bullet", emphasis="attention",
                      text=_join([r.rstrip(".") for r in reasons]) + ".",
                      sources=(SourceRef(kind="history", path="history"),))]


def block_rapport(ctx: AssemblyContext) -> list[Statement]:
    """The rapport & therapeutic-alliance section, summary level (a progress note)."""
    rap = ctx.obs.rapport
    findings = ctx.findings_by_label()
    out: list[Statement] = []
    out.extend(_at_risk(ctx))
    out.extend(_measure_statements(ctx))
    if rap.interventions:
        out.append(Statement(lead="Rapport-building interventions", style="bullet",
                             text=", ".join(RAPPORT_INTERVENTIONS[i] for i in rap.interventions)
                             + ".", sources=_field("rapport.interventions")))
    engagement = {lab: cs for lab, cs in findings.items() if category_of(lab) == "engagement"}
    if engagement:
        out.extend(_cue_statements("Engagement observed", engagement))
    else:
        out.append(Statement(lead="Engagement observed", style="bullet",
                             text="no engagement cues documented.",
                             sources=_field("clinician_notes")))
    out.extend(_ruptures(ctx, findings))
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
    else:
        out.append(Statement(lead="Preferences and boundaries", style="bullet",
                             text=NOT_DOCUMENTED + ".", sources=_field("rapport.preferences")))
    out.append(Statement(lead="Cultural considerations", style="bullet",
                         text=_sentence(_join(rap.cultural_considerations))
                         if rap.cultural_considerations else NOT_DOCUMENTED + ".",
                         sources=_field("rapport.cultural_considerations")))
    if rap.adaptations:
        out.append(Statement(lead="Setting and telehealth adaptations", style="bullet", text="",
                             sources=_field("rapport.adaptations")))
        out.extend(Statement(lead=ADAPTATION[a.kind], text=_sentence(a.description),
                             style="subbullet", sources=_field(f"rapport.adaptations[{i}]"))
                   for i, a in enumerate(rap.adaptations))
    else:
        out.append(Statement(lead="Setting and telehealth adaptations", style="bullet",
                             text="none documented.", sources=_field("rapport.adaptations")))
    if rap.caregiver_alliance is not None:
        ca = rap.caregiver_alliance
        text = f"{ca.caregiver}" + (f": {ca.quality}" if ca.quality else "")
        text += f" — {ca.detail}" if ca.detail else ""
        out.append(Statement(lead="Caregiver alliance", style="bullet", text=_sentence(text),
                             sources=_field("rapport.caregiver_alliance")))
    out.extend(_attendance(ctx, findings))
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
    for i, ev in enumerate(ctx.obs.rapport.ruptures):
        if ev.resolved != "yes":
            markers = ", ".join(DESCRIPTIONS[m] for m in ev.markers)
            out.append(Statement(
                lead="Alliance", emphasis="attention",
                text=f"revisit the {RESOLVED[ev.resolved]} {ev.kind} rupture ({markers}) at the "
                     "start of the next session.",
                sources=(SourceRef(kind="derived", path=f"rapport.ruptures[{i}]"),)))
    out.extend(_carried_forward(ctx))
    return out


def _carried_forward(ctx: AssemblyContext) -> list[Statement]:
    """Unresolved ruptures of the previous session: the Plan must not lose them."""
    if not ctx.history:
        return []
    prev = ctx.history[-1]
    out = []
    for i, ev in enumerate(prev.rapport.ruptures):
        if ev.resolved != "yes":
            markers = ", ".join(DESCRIPTIONS[m] for m in ev.markers)
            num = f"session {prev.session.number}" if prev.session.number else "previous session"
            out.append(Statement(
                lead="Carried forward", emphasis="attention",
                text=f"{RESOLVED[ev.resolved]} {ev.kind} rupture ({markers}) from {num} "
                     f"({prev.session.date.isoformat()}) — follow up.",
                sources=(SourceRef(kind="history", path=f"history[-1].rapport.ruptures[{i}]"),)))
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


def assemble(fmt: NoteFormat, ctx: AssemblyContext, *, generator: str) -> Note:
    """Build the note for ``fmt`` from a prepared context."""
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
        tables, chart = (_rapport_extras(ctx) if spec.key == "rapport" else ((), ()))
        sections.append(NoteSection(key=spec.key, title=spec.title,
                                    statements=tuple(statements), tables=tables, chart=chart))
    obs = ctx.obs
    return Note(
        format=fmt.name, title=fmt.title, header=build_header(obs), sections=tuple(sections),
        signature=Signature(clinician=obs.clinician.name, credentials=obs.clinician.credentials,
                            signed_at=_signed(obs)),
        client_id=obs.client.id, session_date=obs.session.date.isoformat(), generator=generator,
    )


def _signed(obs: SessionObservation) -> str | None:
    if obs.signed_at is None:
        return None
    tz = obs.signed_at.strftime(" %z") if obs.signed_at.tzinfo else ""
    return obs.signed_at.strftime("%Y-%m-%d %H:%M") + tz


def _rapport_extras(ctx: AssemblyContext) -> tuple[tuple[Table, ...], tuple[ChartSeries, ...]]:
    """Measures table (and chart series when there is a history)."""
    tables: list[Table] = []
    if ctx.scores:
        with_subscales = any(sc.subscales for _, sc in ctx.scores)
        rows = []
        for _, sc in ctx.scores:
            row = [sc.title or sc.measure.upper(), f"{_num(sc.total)}/{_num(sc.total_max)}"]
            if with_subscales:
                row.append(", ".join(f"{k} {_num(v)}" for k, v in sc.subscales.items()) or "—")
            row.append(", ".join(f"{it.label} {_num(it.raw)}" for it in sc.items))
            rows.append(tuple(row))
        columns = ("Measure", "Total", *(("Subscales",) if with_subscales else ()), "Items")
        tables.append(Table(caption="Alliance and outcome measures", columns=columns,
                            rows=tuple(rows)))
    chart: tuple[ChartSeries, ...] = ()
    traj = ctx.trajectory
    if traj is not None:
        chart = tuple(traj.chart_series())
        tables.append(traj.history_table())
    return tuple(tables), chart


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.1f}"
