"""The one place where the steps are wired together.

observations → cues → suggestions → review decisions → note model → renderer/exporter.
Each step lives in its own module and knows nothing of the others; this module calls them
in order. spaCy is imported only when a
note actually needs extraction, so ``import rapportnotes`` stays fast for vendors that only
validate or render.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING

from .assemble import AssemblyContext, assemble
from .cues import Cue
from .errors import InputError, MeasureError, PluginError
from .exporters import exporters
from .formats import NoteFormat, formats
from .io import write_atomic
from .models import SessionObservation
from .notes import Note
from .review import AcceptancePolicy, ReviewState, mark_covered, match_decisions
from .suggestions import Suggestion, plan_prompts, suggestions_from_cues
from .taxonomy import category_of

if TYPE_CHECKING:
    from .extractors import CueExtractor

try:
    __version__ = version("rapportnotes")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"


def session_cues(obs: SessionObservation, extractor: CueExtractor | None = None) -> list[Cue]:
    """Extract cues from every free-text field of ``obs``, each tagged with its field path."""
    fields = obs.free_text_fields()
    if not fields:
        return []
    if extractor is None:
        from .extractors import _default_extractor

        extractor = _default_extractor()
    paths = [path for path, _ in fields]
    texts = [text for _, text in fields]
    # one batched pass over all fields (the components work per batch, not per text)
    return [cue for cues in extractor.pipe(texts, sources=paths) for cue in cues]


def suggest(obs: SessionObservation, *, cues: Sequence[Cue] | None = None,
            extractor: CueExtractor | None = None) -> list[Suggestion]:
    """The suggestions extracted from ``obs``'s free text, all pending (no decisions)."""
    if cues is None:
        cues = session_cues(obs, extractor)
    return suggestions_from_cues(obs, cues)


def review_state(obs: SessionObservation, *, cues: Sequence[Cue] | None = None,
                 extractor: CueExtractor | None = None,
                 policy: AcceptancePolicy | None = None) -> ReviewState:
    """Suggestions of ``obs`` with the decisions stored in its ``review`` applied."""
    return mark_covered(match_decisions(suggest(obs, cues=cues, extractor=extractor),
                                        obs.review.decisions, policy), obs)


def _score_measures(ctx: AssemblyContext) -> None:
    from .measures import score

    for i, adm in enumerate(ctx.obs.rapport.measures):
        try:
            ctx.scores.append((i, score(adm.measure, adm.items, age=ctx.obs.client.age)))
        except MeasureError as exc:
            ctx.score_errors.append(f"rapport.measures[{i}]: {exc}")
        except PluginError:  # an unregistered measure name: the note says so, and goes on
            ctx.score_errors.append(f"rapport.measures[{i}]: not a registered measure "
                                    "(installed measures: rapportnotes score --help)")


def check_history(obs: SessionObservation, history: Sequence[SessionObservation]) -> None:
    """Refuse a history of another client, or sessions on or after this one.

    Another client's measures, ruptures or at-risk reasons in this client's chart would be
    a privacy incident and a false record, so this is an error, never a silent filter.
    """
    when = (obs.session.date, obs.session.start_time)
    for i, h in enumerate(history):
        if h.client.id != obs.client.id:
            raise InputError(f"history[{i}]: client.id differs from the session's client.id; "
                             "a history must hold the same client's earlier sessions only")
        if (h.session.date, h.session.start_time) >= when:
            raise InputError(f"history[{i}]: session is not earlier than the one being "
                             "documented; a history holds earlier sessions only")


def _accepted_withdrawal(obs: SessionObservation) -> int:
    return sum(1 for d in obs.review.decisions
               if d.status == "accepted" and category_of(d.label) == "withdrawal")


def build_note(
    obs: SessionObservation,
    *,
    format: str | NoteFormat = "soap",
    history: Sequence[SessionObservation] = (),
    cues: Sequence[Cue] | None = None,
    extract: bool = True,
    extractor: CueExtractor | None = None,
    strict_measures: bool = False,
    policy: AcceptancePolicy | None = None,
    draft: bool = False,
) -> Note:
    """Build the note model for one session.

    Only entered fields and *accepted* suggestions reach the note: the decisions stored in
    ``obs.review`` (and, when a vendor sets one, an acceptance ``policy``) decide which
    extracted cues the clinician confirmed. All suggestions ride on ``Note.suggestions``.
    ``draft=True`` marks the note DRAFT — NOT FOR THE RECORD and lists pending suggestions
    in an appendix. ``history`` holds the client's earlier sessions (same client id,
    earlier than ``obs``; anything else is an ``InputError``); history sessions are never
    re-extracted — their accepted decisions are read instead. Pass ``cues`` to reuse an
    extraction, or ``extract=False`` to build from structured fields only.
    ``strict_measures`` raises on an unscorable measure instead of flagging it.
    """
    fmt = formats.get(format) if isinstance(format, str) else format
    check_history(obs, history)
    extraction_off = cues is None and not extract
    if cues is None:
        cues = session_cues(obs, extractor) if extract else []
    state = mark_covered(match_decisions(suggestions_from_cues(obs, cues),
                                         obs.review.decisions, policy), obs)
    earlier = sorted(history, key=lambda h: (h.session.date, h.session.start_time))
    ctx = AssemblyContext(obs=obs, accepted=state.accepted, suggestions=state.suggestions,
                          history=earlier)
    _score_measures(ctx)
    if strict_measures and ctx.score_errors:
        raise MeasureError(ctx.score_errors[0])
    if earlier:
        from .trajectory import build_trajectory

        counts = [_accepted_withdrawal(h) for h in earlier]
        counts.append(sum(1 for s in state.accepted if s.category == "withdrawal"))
        ctx.trajectory = build_trajectory([*earlier, obs], withdrawal=counts)
    traj = ctx.trajectory
    actions = [(a.code, a.text, tuple(a.because), a.source)
               for a in (traj.suggested_actions if traj is not None and traj.at_risk else ())]
    low = [sc.short_name for _, sc in ctx.scores if sc.kind == "alliance" and sc.below_cutoff]
    prompts = plan_prompts(obs, alliance_low=low, actions=actions)
    review_messages = state.messages()
    decisions = obs.review.decisions
    if extraction_off and decisions:
        # without extraction no decision can match: one honest line, not one "stale"
        # warning per decision
        accepted = sum(1 for d in decisions if d.status == "accepted")
        review_messages = [
            f"cue extraction is off: the session's {len(decisions)} review decision(s) were "
            f"not applied; {accepted} accepted suggestion(s) are not in this note"]
    messages = [*review_messages, *ctx.links.conflicts]
    return assemble(fmt, ctx, generator=f"rapportnotes {__version__}",
                    status="draft" if draft else "final", prompts=prompts, messages=messages)


def provenance(note: Note) -> dict[str, object]:
    """Where every statement of ``note`` came from, for an auditor (``--provenance``).

    Statement text with its sources (entered field paths; accepted suggestions with who
    accepted them, when, or which policy), then every suggestion and its status. Holds
    the note's own text and the suggestions' sentences: it is PHI like the note.
    """
    return {
        "client_id": note.client_id, "session_date": note.session_date,
        "generator": note.generator, "status": note.status,
        "statements": [
            {"section": sec.key, "index": i, "lead": st.lead, "text": st.text,
             "sources": [src.model_dump(mode="json", exclude_none=True) for src in st.sources]}
            for sec in note.sections for i, st in enumerate(sec.statements)],
        "suggestions": [s.model_dump(mode="json") for s in note.suggestions],
        "review_messages": list(note.review_messages),
    }


def render(note: Note, to: str = "md", *,
           template_dirs: Sequence[str | os.PathLike[str]] = ()) -> bytes:
    """Export ``note`` with the exporter named ``to`` (md, txt, html, docx, plugins)."""
    return exporters.get(to).export(note, template_dirs=template_dirs)


def export(note: Note, path: str | os.PathLike[str], to: str | None = None, *,
           template_dirs: Sequence[str | os.PathLike[str]] = ()) -> Path:
    """Render and write atomically; ``to`` defaults to the file's extension."""
    from .exporters import exporter_for_extension

    suffix = Path(path).suffix.lstrip(".").lower()
    kind = to or (exporter_for_extension(suffix) or suffix if suffix else "md")
    data = render(note, kind, template_dirs=template_dirs)
    return write_atomic(path, data)

