"""A BIRP format (Behavior, Intervention, Response, Plan) built from rapportnotes blocks,
plus one block of its own, to show that format plugins can add content."""

from rapportnotes.assemble import AssemblyContext
from rapportnotes.formats import RAPPORT_TITLE, NoteFormat, SectionSpec
from rapportnotes.notes import SourceRef, Statement


def response_block(ctx: AssemblyContext) -> list[Statement]:
    responses = [iv.client_response for iv in ctx.obs.interventions if iv.client_response]
    return [Statement(lead="Client response", text=" ".join(responses) or "Not documented",
                      sources=(SourceRef(kind="field", path="interventions"),))]


BIRP = NoteFormat(
    name="birp-house",
    title="Progress Note — BIRP (house style)",
    description="Behavior, Intervention, Response, Rapport, Plan (test plugin)",
    sections=(
        SectionSpec("behavior", "Behavior", ("subjective", "mental_status")),
        SectionSpec("intervention", "Intervention", ("interventions",)),
        SectionSpec("response", "Response", (response_block, "progress")),
        SectionSpec("rapport", RAPPORT_TITLE, ("rapport",)),
        SectionSpec("plan", "Plan", ("risk", "plan")),
    ),
)
