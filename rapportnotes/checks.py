"""Consistency checks a biller or supervisor would raise — warnings, not validation errors.

A session can be valid and still be likely to bounce: a 45-minute session billed as 90837,
a telehealth session billed with an office place of service. These are reported by
``rapportnotes validate`` so they are fixed before the note is filed; they never block
rendering, because the clinician may know something the rules do not.
"""

from __future__ import annotations

import re

from .models import SessionObservation

_RISK_WORDS: dict[str, re.Pattern[str]] = {
    "suicidal_ideation": re.compile(
        r"\b(?:SI|suicid\w*|safety[- ]plan\w*|kill (?:my|him|her|them)sel(?:f|ves)|"
        r"end(?:ing)? (?:it all|my life|his life|her life))\b", re.IGNORECASE),
    "homicidal_ideation": re.compile(r"\b(?:HI|homicid\w*)\b", re.IGNORECASE),
    "self_harm": re.compile(r"\b(?:SIB|NSSI|self[- ]?harm\w*|self[- ]injur\w*|cutting)\b",
                            re.IGNORECASE),
    "overdose": re.compile(r"\boverdos\w*", re.IGNORECASE),
}
"""Words in free text that mean a risk domain was talked about (case-insensitive; 'SI' and
'HI' only as whole words)."""

# Psychotherapy time rules (CPT 2024 psychotherapy codes, "time-based" rule: a code is met
# once its midpoint is passed).
_TIME_RANGES: dict[str, tuple[int, int | None]] = {
    "90832": (16, 37),
    "90834": (38, 52),
    "90837": (53, None),
    "90846": (26, None),
    "90847": (26, None),
}
_TELEHEALTH_POS = {"02", "10"}


def consistency_warnings(obs: SessionObservation) -> list[str]:
    """Human-readable warnings, each naming the fields involved (never free-text values)."""
    s = obs.session
    out: list[str] = []
    if s.cpt_code in _TIME_RANGES:
        lo, hi = _TIME_RANGES[s.cpt_code]
        minutes = s.duration_minutes
        if minutes < lo or (hi is not None and minutes > hi):
            span = f"{lo}+ min" if hi is None else f"{lo}–{hi} min"
            out.append(f"session.cpt_code {s.cpt_code} expects {span}; session lasted "
                       f"{minutes} min")
    if s.modality in ("telehealth_video", "telehealth_audio"):
        if s.place_of_service is not None and s.place_of_service not in _TELEHEALTH_POS:
            out.append(f"session.place_of_service {s.place_of_service} is not a telehealth "
                       "POS (02 or 10) for a telehealth session")
    elif s.place_of_service in _TELEHEALTH_POS:
        out.append(f"session.place_of_service {s.place_of_service} is a telehealth POS but "
                   "session.modality is not telehealth")
    if s.participants in ("with_caregiver", "with_family", "with_partner") and \
            not s.others_present:
        out.append("session.participants names others but session.others_present is empty")
    r = obs.risk
    texts = obs.free_text_fields()
    for domain, pattern in _RISK_WORDS.items():
        if getattr(r, domain) is None:
            mentions = [path for path, text in texts if pattern.search(text)]
            if mentions:
                out.append(f"{', '.join(mentions)} mention(s) {domain.replace('_', ' ')} but "
                           f"risk.{domain} is not documented; enter what was assessed (the "
                           "note prints 'not documented', never 'not assessed')")
    if any(ev.resolved != "yes" for ev in obs.rapport.ruptures) and not obs.rapport.alliance_plan:
        out.append("rapport.ruptures has an unresolved rupture but rapport.alliance_plan is "
                   "empty")
    for i, adm in enumerate(obs.rapport.measures):
        if adm.measure == "csrs" and obs.client.age is not None and obs.client.age > 12:
            out.append(f"rapport.measures[{i}]: CSRS is normed for ages 6–12; client is "
                       f"{obs.client.age}")
    return out
