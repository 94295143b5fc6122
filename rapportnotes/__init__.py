"""rapportnotes — psychotherapy progress notes with a rapport & therapeutic-alliance section.

Public API (everything else is private and may change)::

    from rapportnotes import load_session, build_note, render, export, extract_cues

spaCy is not imported here: ``extract_cues``/``CueExtractor`` load it on first use, so
validating and rendering stay light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .api import (
    __version__,
    build_note,
    export,
    provenance,
    render,
    review_state,
    session_cues,
    suggest,
)
from .cues import Cue
from .errors import (
    ExportError,
    InputError,
    MeasureError,
    PluginError,
    RapportNotesError,
    TemplateError,
)
from .exporters import Exporter, exporters
from .formats import DAP, SOAP, NoteFormat, SectionSpec, formats
from .io import load_history, load_session, parse_session, write_atomic
from .models import Decision, SessionObservation
from .notes import Note, NoteSection, SourceRef, Statement
from .review import AcceptancePolicy, ReviewState, apply_decisions, decide
from .suggestions import PlanPrompt, Suggestion
from .taxonomy import LABELS

if TYPE_CHECKING:
    from .extractors import CueExtractor, extract_cues

__all__ = [
    "DAP",
    "LABELS",
    "SOAP",
    "AcceptancePolicy",
    "Cue",
    "CueExtractor",
    "Decision",
    "ExportError",
    "Exporter",
    "InputError",
    "MeasureError",
    "Note",
    "NoteFormat",
    "NoteSection",
    "PlanPrompt",
    "PluginError",
    "RapportNotesError",
    "ReviewState",
    "SectionSpec",
    "SessionObservation",
    "SourceRef",
    "Statement",
    "Suggestion",
    "TemplateError",
    "__version__",
    "apply_decisions",
    "build_note",
    "decide",
    "export",
    "exporters",
    "extract_cues",
    "formats",
    "load_history",
    "load_session",
    "parse_session",
    "provenance",
    "render",
    "review_state",
    "session_cues",
    "suggest",
    "write_atomic",
]

_LAZY = {"extract_cues", "CueExtractor"}


def __getattr__(name: str) -> Any:
    """Load the spaCy-backed names on first access (keeps ``import rapportnotes`` light)."""
    if name in _LAZY:
        from . import extractors

        value = getattr(extractors, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'rapportnotes' has no attribute {name!r}")
