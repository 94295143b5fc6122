"""rapportnotes — psychotherapy progress notes with a rapport & therapeutic-alliance section.

Public API (everything else is private and may change)::

    from rapportnotes import load_session, build_note, render, export, extract_cues

spaCy is not imported here: ``extract_cues``/``CueExtractor`` load it on first use, so
validating and rendering stay light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .api import __version__, build_note, export, render, session_cues
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
from .models import SessionObservation
from .notes import Note, NoteSection, SourceRef, Statement
from .taxonomy import LABELS

if TYPE_CHECKING:
    from .extractors import CueExtractor, extract_cues

__all__ = [
    "DAP",
    "LABELS",
    "SOAP",
    "Cue",
    "CueExtractor",
    "ExportError",
    "Exporter",
    "InputError",
    "MeasureError",
    "Note",
    "NoteFormat",
    "NoteSection",
    "PluginError",
    "RapportNotesError",
    "SectionSpec",
    "SessionObservation",
    "SourceRef",
    "Statement",
    "TemplateError",
    "__version__",
    "build_note",
    "export",
    "exporters",
    "extract_cues",
    "formats",
    "load_history",
    "load_session",
    "parse_session",
    "render",
    "session_cues",
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
