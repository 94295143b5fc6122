"""The lint checks: small functions a profile's rules name and parameterise.

Each check is ``(Context, params) -> iterable of (field path, message)``. Messages name
fields and codes, never free-text values. Which checks run, with which parameters and
severity, and citing which source, is data (``profiles/*.json``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from difflib import SequenceMatcher
from typing import Any

from ..models import SessionObservation
from ..taxonomy import category_of

Result = Iterator[tuple[str, str]]
Check = Callable[["Context", dict[str, Any]], Iterable[tuple[str, str]]]
CHECKS: dict[str, Check] = {}


@dataclass(frozen=True)
class Context:
    obs: SessionObservation
    history: tuple[SessionObservation, ...] = ()


def check(name: str) -> Callable[[Check], Check]:
    def register(fn: Check) -> Check:
        CHECKS[name] = fn
        return fn
    return register


def _get(obs: SessionObservation, path: str) -> Any:
    node: Any = obs
    for part in path.split("."):
        node = getattr(node, part, None)
        if node is None:
            return None
    return node


def _empty(value: Any) -> bool:
    return value is None or value == [] or value == {} or value == ""


@check("required")
def required(ctx: Context, params: dict[str, Any]) -> Result:
    """``params.path`` must be documented (optionally only ``when`` a condition holds)."""
    when = params.get("when")
    if when == "telehealth" and ctx.obs.session.modality not in (
            "telehealth_video", "telehealth_audio"):
        return
    if _empty(_get(ctx.obs, params["path"])):
        yield params["path"], params.get("message", "not documented")


@check("interventions_response")
def interventions_response(ctx: Context, params: dict[str, Any]) -> Result:
    for i, iv in enumerate(ctx.obs.interventions):
        if not iv.client_response:
            yield f"interventions[{i}].client_response", "the client's response is not documented"


@check("cpt_time")
def cpt_time(ctx: Context, params: dict[str, Any]) -> Result:
    """The session's minutes fit the time band of its CPT code (``params.bands``)."""
    s = ctx.obs.session
    band = params["bands"].get(s.cpt_code or "")
    if band is None:
        return
    lo, hi = band
    minutes = s.duration_minutes
    if minutes < lo or (hi is not None and minutes > hi):
        span = f"{lo}+ min" if hi is None else f"{lo}–{hi} min"
        yield "session.cpt_code", (f"{s.cpt_code} requires {span}; the session lasted "
                                   f"{minutes} min")


@check("crisis_addon")
def crisis_addon(ctx: Context, params: dict[str, Any]) -> Result:
    """90840 (each further 30 min of crisis psychotherapy) needs 75+ minutes per unit."""
    s = ctx.obs.session
    units = s.cpt_addons.count("90840")
    if units and s.cpt_code != "90839":
        yield "session.cpt_addons", "90840 is an add-on to 90839 only"
    elif units:
        need = 75 + 30 * (units - 1)
        if s.duration_minutes < need:
            yield "session.cpt_addons", (f"90839 + {units} × 90840 requires {need}+ min; the "
                                         f"session lasted {s.duration_minutes} min")


@check("group_code")
def group_code(ctx: Context, params: dict[str, Any]) -> Result:
    s = ctx.obs.session
    group = s.cpt_code in params["group_codes"]
    if group and s.participants not in (None, "group"):
        yield "session.cpt_code", f"{s.cpt_code} is a group code; participants is not group"
    if s.participants == "group" and s.cpt_code and not group:
        yield "session.cpt_code", f"{s.cpt_code} is not a group code for a group session"


@check("code_set")
def code_set(ctx: Context, params: dict[str, Any]) -> Result:
    """CPT or HCPCS Level II codes the profile knows; others are flagged for a look."""
    known = set(params["known"])
    s = ctx.obs.session
    for path, code in [("session.cpt_code", s.cpt_code),
                       *((f"session.cpt_addons[{i}]", c) for i, c in enumerate(s.cpt_addons))]:
        if code and code not in known:
            yield path, f"{code} is not a psychotherapy CPT or HCPCS code this profile knows"


@check("z_code_only")
def z_code_only(ctx: Context, params: dict[str, Any]) -> Result:
    dx = ctx.obs.session.diagnoses
    if dx and all(d.code.startswith("Z") for d in dx):
        yield "session.diagnoses", "only Z codes: most payers need a diagnosis that supports "\
            "medical necessity"


@check("interactive_complexity")
def interactive_complexity(ctx: Context, params: dict[str, Any]) -> Result:
    obs = ctx.obs
    if "90785" not in obs.session.cpt_addons:
        return
    text = " ".join(t for _, t in obs.free_text_fields())
    if not re.search(params["pattern"], text, re.IGNORECASE):
        yield "session.cpt_addons", "90785 without an interactive-complexity factor " \
            "documented in the notes"


@check("telehealth")
def telehealth(ctx: Context, params: dict[str, Any]) -> Result:
    s = ctx.obs.session
    tele = s.modality in ("telehealth_video", "telehealth_audio")
    pos_tele = set(params["pos"])
    if tele and s.place_of_service and s.place_of_service not in pos_tele:
        yield "session.place_of_service", (f"POS {s.place_of_service} is not a telehealth "
                                           f"POS ({'/'.join(sorted(pos_tele))})")
    if not tele and s.place_of_service in pos_tele and s.modality:
        yield "session.place_of_service", (f"POS {s.place_of_service} is a telehealth POS for "
                                           "an in-person session")


@check("telehealth_modifier")
def telehealth_modifier(ctx: Context, params: dict[str, Any]) -> Result:
    s = ctx.obs.session
    mods = set(s.cpt_modifiers)
    if s.modality == "telehealth_video" and not mods & set(params["video"]):
        yield "session.cpt_modifiers", f"video telehealth without modifier {params['video'][0]}"
    if s.modality == "telehealth_video" and mods & set(params["audio"]):
        yield "session.cpt_modifiers", "an audio-only modifier on a video session"
    if s.modality == "telehealth_audio" and not mods & set(params["audio"]):
        yield "session.cpt_modifiers", ("audio-only telehealth without modifier "
                                        f"{' or '.join(params['audio'])}")
    if s.modality == "telehealth_audio" and mods & set(params["video"]):
        yield "session.cpt_modifiers", "modifier 95 (video) on an audio-only session"


@check("safety_plan")
def safety_plan(ctx: Context, params: dict[str, Any]) -> Result:
    si = ctx.obs.risk.suicidal_ideation
    if si is None or not si.assessed:
        return
    high = (si.level in params["levels"]) or (si.reported in params["reported"])
    if high and ctx.obs.risk.safety_plan_reviewed is not True:
        yield "risk.safety_plan_reviewed", "suicide risk documented without a safety plan " \
            "reviewed this session"


_RISK_WORDS: dict[str, re.Pattern[str]] = {
    "suicidal_ideation": re.compile(
        r"\b(?:SI|suicid\w*|safety[- ]plan\w*|kill (?:my|him|her|them)sel(?:f|ves)|"
        r"end(?:ing)? (?:it all|my life|his life|her life))\b", re.IGNORECASE),
    "homicidal_ideation": re.compile(r"\b(?:HI|homicid\w*)\b", re.IGNORECASE),
    "self_harm": re.compile(r"\b(?:SIB|NSSI|self[- ]?harm\w*|self[- ]injur\w*|cutting)\b",
                            re.IGNORECASE),
    "overdose": re.compile(r"\boverdos\w*", re.IGNORECASE),
}


@check("risk_mentioned")
def risk_mentioned(ctx: Context, params: dict[str, Any]) -> Result:
    """Free text talks about a risk domain whose structured field is empty."""
    texts = ctx.obs.free_text_fields()
    for domain, pattern in _RISK_WORDS.items():
        if getattr(ctx.obs.risk, domain) is None:
            where = [path for path, text in texts if pattern.search(text)]
            if where:
                yield f"risk.{domain}", (f"{', '.join(where)} mention(s) "
                                         f"{domain.replace('_', ' ')} but the field is empty "
                                         "(the note prints 'not documented')")


@check("signature_time")
def signature_time(ctx: Context, params: dict[str, Any]) -> Result:
    obs = ctx.obs
    if obs.signed_at is None:
        return
    s = obs.session
    end = datetime.combine(s.date, s.end_time.replace(tzinfo=None))
    if s.crosses_midnight:
        end += timedelta(days=1)
    signed = obs.signed_at.replace(tzinfo=None)
    if signed < end:
        yield "signed_at", "signed before the session ended"
    elif signed - end > timedelta(days=int(params["max_days"])):
        yield "signed_at", f"signed more than {params['max_days']} days after the session"


@check("alliance_plan")
def alliance_plan(ctx: Context, params: dict[str, Any]) -> Result:
    rap = ctx.obs.rapport
    if any(ev.resolved != "yes" for ev in rap.ruptures) and not rap.alliance_plan:
        yield "rapport.alliance_plan", "an unresolved rupture without an alliance plan item"


def _accepted(obs: SessionObservation) -> list[str]:
    return [d.label for d in obs.review.decisions if d.status == "accepted"]


@check("rupture_not_entered")
def rupture_not_entered(ctx: Context, params: dict[str, Any]) -> Result:
    markers = [lab for lab in _accepted(ctx.obs)
               if category_of(lab) in ("withdrawal", "confrontation")]
    if markers and not ctx.obs.rapport.ruptures:
        yield "rapport.ruptures", ("rupture markers accepted in review but no rupture entered "
                                   "(marker → repair → outcome)")


@check("srs_vs_confrontation")
def srs_vs_confrontation(ctx: Context, params: dict[str, Any]) -> Result:
    from ..errors import RapportNotesError
    from ..measures import score

    confronting = any(category_of(lab) == "confrontation" for lab in _accepted(ctx.obs)) \
        or any(ev.kind == "confrontation" for ev in ctx.obs.rapport.ruptures)
    if not confronting:
        return
    for i, adm in enumerate(ctx.obs.rapport.measures):
        if adm.measure != "srs":
            continue
        try:
            total = score(adm.measure, adm.items, age=ctx.obs.client.age).total
        except RapportNotesError:
            continue
        if total >= params["threshold"]:
            yield f"rapport.measures[{i}]", (f"SRS {total:g} at or above {params['threshold']} "
                                             "with a confrontation documented: worth a word "
                                             "with the client")


_PRESENT = re.compile(r"\b(mother|mom|mum|father|dad|parent|parents|grandmother|grandfather|"
                      r"guardian|caregiver|partner|wife|husband|spouse)\b[^.;]{0,20}\b"
                      r"(joined|present|attended|sat in|came in)\b", re.IGNORECASE)


@check("participants")
def participants(ctx: Context, params: dict[str, Any]) -> Result:
    s = ctx.obs.session
    if s.participants in ("with_caregiver", "with_family", "with_partner") and \
            not s.others_present:
        yield "session.others_present", "participants names others but others_present is empty"
    if s.participants in (None, "client_only"):
        where = [p for p, t in ctx.obs.free_text_fields() if _PRESENT.search(t)]
        if where:
            yield "session.participants", (f"{', '.join(where)} describe(s) someone else taking "
                                           "part, but participants is client only")


@check("measures")
def measures(ctx: Context, params: dict[str, Any]) -> Result:
    from ..errors import RapportNotesError
    from ..measures import score

    for i, adm in enumerate(ctx.obs.rapport.measures):
        try:
            score(adm.measure, adm.items, age=ctx.obs.client.age)
        except RapportNotesError as exc:
            yield f"rapport.measures[{i}]", f"cannot be scored: {exc}"
        if adm.measure == "csrs" and ctx.obs.client.age is not None and ctx.obs.client.age > 12:
            yield f"rapport.measures[{i}]", "CSRS is normed for ages 6–12"


_COPY_FIELDS = (("subjective.report", lambda o: o.subjective.report),
                ("assessment", lambda o: o.assessment),
                ("plan.treatment", lambda o: o.plan.treatment),
                ("objective.observations", lambda o: o.objective.observations))


@check("copy_forward")
def copy_forward(ctx: Context, params: dict[str, Any]) -> Result:
    """A section identical or nearly so to the previous session's: cloned documentation.

    Similarity is difflib's ratio on whitespace-normalised text (1.0 = identical); short
    texts ("Continue weekly CBT.") are skipped — repeating them is normal."""
    if not ctx.history:
        return
    prev = max(ctx.history, key=lambda h: (h.session.date, h.session.start_time))
    for path, get in _COPY_FIELDS:
        a, b = get(ctx.obs), get(prev)
        if not a or not b or len(a.split()) < params["min_words"]:
            continue
        ratio = SequenceMatcher(None, " ".join(a.split()), " ".join(b.split())).ratio()
        if ratio >= params["threshold"]:
            yield path, (f"{round(100 * ratio)}% the same as the previous session "
                         f"({prev.session.date.isoformat()}): copied forward?")
