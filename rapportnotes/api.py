"""The one place where the steps are wired together.

observations → cues → note model → renderer/exporter. Each step lives in its own module and
knows nothing of the others; this module calls them in order. spaCy is imported only when a
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
from .errors import MeasureError
from .exporters import exporters
from .formats import NoteFormat, formats
from .io import write_atomic
from .models import SessionObservation
from .notes import Note

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


def _score_measures(ctx: AssemblyContext) -> None:
    from .measures import score

    for i, adm in enumerate(ctx.obs.rapport.measures):
        try:
            ctx.scores.append((i, score(adm.measure, adm.items, age=ctx.obs.client.age)))
        except MeasureError as exc:
            ctx.score_errors.append(f"rapport.measures[{i}]: {exc}")


def build_note(
    obs: SessionObservation,
    *,
    format: str | NoteFormat = "soap",
    history: Sequence[SessionObservation] = (),
    cues: Sequence[Cue] | None = None,
    extract: bool = True,
    extractor: CueExtractor | None = None,
    strict_measures: bool = False,
) -> Note:
    """Build the note model for one session.

    ``history`` are the client's earlier sessions (any order; sessions on or after this one
    are ignored); with it the rapport section shows trends and the alliance-at-risk flag.
    Pass ``cues`` to reuse an extraction, or ``extract=False`` to build from structured
    fields only. ``strict_measures`` raises on an unscorable measure instead of flagging it
    in the note.
    """
    fmt = formats.get(format) if isinstance(format, str) else format
    if cues is None:
        cues = session_cues(obs, extractor) if extract else []
    earlier = sorted(
        (h for h in history
         if (h.session.date, h.session.start_time) < (obs.session.date, obs.session.start_time)),
        key=lambda h: (h.session.date, h.session.start_time),
    )
    ctx = AssemblyContext(obs=obs, cues=list(cues), history=earlier)
    _score_measures(ctx)
    if strict_measures and ctx.score_errors:
        raise MeasureError(ctx.score_errors[0])
    if earlier:
        from .trajectory import build_trajectory

        series = [*earlier, obs]
        all_cues = None
        if extract or cues:
            all_cues = [session_cues(h, extractor) if extract else [] for h in earlier]
            all_cues.append(list(cues))
        ctx.trajectory = build_trajectory(series, cues=all_cues)
    return assemble(fmt, ctx, generator=f"rapportnotes {__version__}")


def render(note: Note, to: str = "md", *,
           template_dirs: Sequence[str | os.PathLike[str]] = ()) -> bytes:
    """Export ``note`` with the exporter named ``to`` (md, txt, html, docx, plugins)."""
    return exporters.get(to).export(note, template_dirs=template_dirs)


def export(note: Note, path: str | os.PathLike[str], to: str | None = None, *,
           template_dirs: Sequence[str | os.PathLike[str]] = ()) -> Path:
    """Render and write atomically; ``to`` defaults to the file's extension."""
    kind = to or Path(path).suffix.lstrip(".").lower() or "md"
    data = render(note, kind, template_dirs=template_dirs)
    return write_atomic(path, data)

