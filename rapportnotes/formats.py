"""Note formats as data: which sections, in which order, built from which blocks.

A format is a :class:`NoteFormat` — a name, a title and ordered :class:`SectionSpec`s, each
listing *blocks*. A block is either the name of a built-in block in
:data:`rapportnotes.assemble.BLOCKS` or a callable ``(AssemblyContext) -> list[Statement]``.
SOAP, DAP, BIRP, GIRP and PIE are defined here and registered through the
``rapportnotes.formats`` entry point group exactly like a third-party format (a vendor's
house style), so there is a single path for built-ins and plugins.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .plugins import FORMATS_GROUP, Registry

if TYPE_CHECKING:
    from .assemble import AssemblyContext
    from .notes import Statement

Block = str | Callable[["AssemblyContext"], "list[Statement]"]

RAPPORT_TITLE = "Rapport & Therapeutic Alliance"


@dataclass(frozen=True)
class SectionSpec:
    """One section of a format: a stable key, a heading and the blocks that fill it.

    ``extras``: whether the measures-across-sessions table and chart go in this section;
    None means the section keyed ``rapport``.
    """

    key: str
    title: str
    blocks: tuple[Block, ...]
    extras: bool | None = None

    @property
    def has_extras(self) -> bool:
        return self.key == "rapport" if self.extras is None else self.extras


@dataclass(frozen=True)
class NoteFormat:
    """A note format plugin."""

    name: str
    title: str
    sections: tuple[SectionSpec, ...]
    description: str = ""


SOAP = NoteFormat(
    name="soap",
    title="Psychotherapy Progress Note — SOAP",
    description="Subjective, Objective, Assessment, Rapport & Therapeutic Alliance, Plan",
    sections=(
        SectionSpec("subjective", "Subjective", ("subjective",)),
        SectionSpec("objective", "Objective", ("mental_status", "interventions")),
        SectionSpec("assessment", "Assessment", ("assessment", "progress", "risk")),
        SectionSpec("rapport", RAPPORT_TITLE, ("rapport",)),
        SectionSpec("plan", "Plan", ("plan",)),
    ),
)

DAP = NoteFormat(
    name="dap",
    title="Psychotherapy Progress Note — DAP",
    description="Data, Assessment, Rapport & Therapeutic Alliance, Plan",
    sections=(
        SectionSpec("data", "Data", ("subjective", "mental_status", "interventions")),
        SectionSpec("assessment", "Assessment", ("assessment", "progress", "risk")),
        SectionSpec("rapport", RAPPORT_TITLE, ("rapport",)),
        SectionSpec("plan", "Plan", ("plan",)),
    ),
)


BIRP = NoteFormat(
    name="birp",
    title="Psychotherapy Progress Note — BIRP",
    description="Behavior, Intervention, Response, Rapport & Therapeutic Alliance, Plan",
    sections=(
        SectionSpec("behavior", "Behavior", ("subjective", "mental_status")),
        SectionSpec("intervention", "Intervention", ("interventions",)),
        SectionSpec("response", "Response", ("assessment", "progress", "risk")),
        SectionSpec("rapport", RAPPORT_TITLE, ("rapport",)),
        SectionSpec("plan", "Plan", ("plan",)),
    ),
)

GIRP = NoteFormat(
    name="girp",
    title="Psychotherapy Progress Note — GIRP",
    description="Goals, Intervention, Response, Rapport & Therapeutic Alliance, Plan",
    sections=(
        SectionSpec("goals", "Goals", ("progress",)),
        SectionSpec("intervention", "Intervention", ("interventions",)),
        SectionSpec("response", "Response",
                    ("subjective", "mental_status", "assessment", "risk")),
        SectionSpec("rapport", RAPPORT_TITLE, ("rapport",)),
        SectionSpec("plan", "Plan", ("plan",)),
    ),
)

PIE = NoteFormat(
    name="pie",
    title="Psychotherapy Progress Note — PIE",
    description="Problem, Intervention, Evaluation, Rapport & Therapeutic Alliance, Plan",
    sections=(
        SectionSpec("problem", "Problem", ("subjective", "mental_status", "risk")),
        SectionSpec("intervention", "Intervention", ("interventions",)),
        SectionSpec("evaluation", "Evaluation", ("assessment", "progress")),
        SectionSpec("rapport", RAPPORT_TITLE, ("rapport",)),
        SectionSpec("plan", "Plan", ("plan",)),
    ),
)


def _check_format(obj: object) -> NoteFormat:
    if callable(obj) and not isinstance(obj, NoteFormat):
        obj = obj()
    if not isinstance(obj, NoteFormat):
        raise TypeError(f"expected a rapportnotes.formats.NoteFormat, got {type(obj).__name__}")
    if not obj.sections:
        raise ValueError("a format needs at least one section")
    keys = [s.key for s in obj.sections]
    if len(set(keys)) != len(keys):
        raise ValueError(f"duplicate section keys in format {obj.name!r}")
    from .assemble import BLOCKS  # here, not at import: assemble imports this module

    unknown = sorted({b for s in obj.sections for b in s.blocks
                      if isinstance(b, str) and b not in BLOCKS})
    if unknown:  # checked when registered, not at the first render
        raise ValueError(f"format {obj.name!r} names unknown block(s) {', '.join(unknown)}; "
                         f"available: {', '.join(sorted(BLOCKS))}")
    return obj


formats: Registry[NoteFormat] = Registry(FORMATS_GROUP, "format", check=_check_format)
"""Registry of note formats (entry-point group ``rapportnotes.formats``)."""
