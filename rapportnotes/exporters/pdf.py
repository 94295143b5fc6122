"""PDF exporter (extra ``[pdf]``: fpdf2, a pure-Python wheel with no system libraries).

Built from the note model like the .docx: title, header table, sections with bold leads and
bullets, tables, signature, addenda; a draft carries the DRAFT mark in every page header
and its appendix on a new page. Deterministic bytes (creation date from the session, fixed
file id).

Fonts: the PDF needs a Unicode TrueType font for dashes, quotes and non-Latin names. The
first found is used: ``RAPPORTNOTES_PDF_FONT`` (a regular .ttf; a ``-Bold`` sibling is used
for bold when present), DejaVu Sans from matplotlib's data when matplotlib is installed,
DejaVu Sans from the system's font folders. Without any, the PDF core font Helvetica is
used and characters outside Latin-1 print as "?" (said in the document's keywords).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import ExportError
from ..notes import Note, Statement, Table

_SYSTEM_FONTS = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
                 "/usr/share/fonts/dejavu/DejaVuSans.ttf",
                 "/Library/Fonts/DejaVuSans.ttf")


def _font() -> tuple[Path, Path | None] | None:
    candidates: list[Path] = []
    env = os.environ.get("RAPPORTNOTES_PDF_FONT")
    if env:
        candidates.append(Path(env))
    try:
        import matplotlib

        candidates.append(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf")
    except ImportError:
        pass
    candidates.extend(Path(p) for p in _SYSTEM_FONTS)
    for regular in candidates:
        if regular.is_file():
            bold = regular.with_name(regular.stem + "-Bold" + regular.suffix)
            return regular, bold if bold.is_file() else None
    return None


class PdfExporter:
    """Export a note as PDF (US Letter)."""

    name = "pdf"
    extension = ".pdf"
    binary = True
    description = "PDF from the note model (extra [pdf]: fpdf2)"

    def export(self, note: Note, *,
               template_dirs: Sequence[str | os.PathLike[str]] = ()) -> bytes:
        try:
            from fpdf import FPDF
        except ImportError:
            raise ExportError("PDF export needs fpdf2: pip install 'rapportnotes[pdf]'") from None
        draft = note.status == "draft"

        class _Doc(FPDF):  # type: ignore[misc]
            def header(self) -> None:
                if draft:
                    self.set_font(family, "B", 10)
                    self.set_text_color(156, 0, 6)
                    self.cell(0, 6, "DRAFT — NOT FOR THE RECORD — pending clinician review",
                              align="C", new_x="LMARGIN", new_y="NEXT")
                    self.set_text_color(0, 0, 0)
                    self.ln(2)

            def footer(self) -> None:
                self.set_y(-12)
                self.set_font(family, "", 8)
                self.set_text_color(90, 90, 90)
                mark = "DRAFT — NOT FOR THE RECORD — " if draft else ""
                self.cell(0, 6, _text(self, f"{mark}Confidential — {note.client_id} — "
                                      f"{note.session_date} — Page {self.page_no()}"),
                          align="C")
                self.set_text_color(0, 0, 0)

        pdf = _Doc(format="Letter")
        found = _font()
        # whether the document's font can draw any character: read by _text
        pdf.unicode_font = found is not None
        if found is not None:
            regular, bold = found
            family = "Body"
            pdf.add_font(family, "", str(regular))
            pdf.add_font(family, "B", str(bold or regular))
        else:
            family = "Helvetica"
        pdf.set_creation_date(datetime.fromisoformat(note.session_date))
        pdf.file_id = lambda: "<00000000000000000000000000000000><00000000000000000000000000000000>"
        pdf.set_title(_text(pdf, f"{note.title} — {note.client_id} — {note.session_date}")[:255])
        pdf.set_author(_text(pdf, note.signature.clinician)[:255])
        pdf.set_creator(note.generator)
        pdf.set_producer("rapportnotes")
        if not pdf.unicode_font:
            pdf.set_keywords("core font: characters outside Latin-1 shown as ?")
        pdf.set_margins(20, 16, 20)
        pdf.set_auto_page_break(True, margin=16)
        pdf.add_page()
        _title(pdf, family, note.title)
        _header(pdf, family, note)
        for section in note.sections:
            _heading(pdf, family, section.title)
            for st in section.statements:
                _statement(pdf, family, st)
            for table in section.tables:
                _table(pdf, family, table)
        _signature(pdf, family, note)
        for i, a in enumerate(note.addenda, 1):
            _heading(pdf, family, f"Addendum {i} — {a.at} — {a.author}"
                     + (f", {a.credentials}" if a.credentials else ""))
            _statement(pdf, family, Statement(lead="Reason", text=a.reason))
            _statement(pdf, family, Statement(text=a.text))
        if draft:
            pdf.add_page()
            _heading(pdf, family, "Appendix — not part of the note: pending review")
            pending = [s for s in note.suggestions if s.status == "pending"]
            if not pending:
                _statement(pdf, family, Statement(text="No pending suggestions."))
            for i, s in enumerate(pending, 1):
                _statement(pdf, family, Statement(
                    lead=f"{i}. {s.description}", style="bullet",
                    text=f"{s.actor_role or s.actor}, confidence {s.confidence:.2f} "
                         f"({s.field}): “{s.sentence}” — would enter the note as: "
                         f"{s.statement}"))
            for prompt in note.prompts:
                _statement(pdf, family, Statement(lead="Prompt", text=prompt.text,
                                                  style="bullet"))
        return bytes(pdf.output())


def _text(pdf: Any, text: str) -> str:
    """Text the document's font can draw (Latin-1 only without a Unicode font)."""
    if pdf.unicode_font:
        return text
    table = {"—": "-", "–": "-", "“": '"', "”": '"', "‘": "'", "’": "'", "…": "...",
             "→": "->", "•": "-"}
    out = "".join(table.get(ch, ch) for ch in text)
    return out.encode("latin-1", "replace").decode("latin-1")


def _title(pdf: Any, family: str, title: str) -> None:
    pdf.set_font(family, "B", 16)
    pdf.set_text_color(31, 56, 100)
    pdf.multi_cell(0, 8, _text(pdf, title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.ln(2)


def _header(pdf: Any, family: str, note: Note) -> None:
    with pdf.table(col_widths=(30, 146), text_align="LEFT", line_height=5,
                   first_row_as_headings=False) as table:
        for field in note.header:
            row = table.row()
            pdf.set_font(family, "B", 9.5)
            row.cell(_text(pdf, field.label))
            pdf.set_font(family, "", 9.5)
            row.cell(_text(pdf, field.value))
    pdf.ln(3)


def _heading(pdf: Any, family: str, text: str) -> None:
    pdf.ln(2)
    pdf.set_font(family, "B", 12.5)
    pdf.set_text_color(31, 56, 100)
    pdf.multi_cell(0, 7, _text(pdf, text), new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)


def _statement(pdf: Any, family: str, st: Statement) -> None:
    indent = {"paragraph": 0, "bullet": 5, "subbullet": 10}[st.style]
    pdf.set_x(pdf.l_margin + indent)
    width = pdf.w - pdf.l_margin - pdf.r_margin - indent
    bullet = "• " if st.style != "paragraph" else ""
    lead = f"**{_md(st.lead)}**" + (": " if st.text else "") if st.lead else ""
    pdf.set_font(family, "", 10)
    pdf.multi_cell(width, 5, _text(pdf, bullet) + _text(pdf, lead) + _md(_text(pdf, st.text)),
                   markdown=True, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)


def _md(text: str) -> str:
    """Neutralise fpdf2's markdown markers in field text (only our leads are bold)."""
    return text.replace("**", "*\u200b*").replace("__", "_\u200b_").replace("--", "-\u200b-")


def _table(pdf: Any, family: str, table: Table) -> None:
    pdf.ln(1)
    if table.caption:
        pdf.set_font(family, "B", 9.5)
        pdf.multi_cell(0, 5, _text(pdf, table.caption), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 9)
    with pdf.table(text_align="LEFT", line_height=4.5) as t:
        row = t.row()
        for c in table.columns:
            row.cell(_text(pdf, c))
        for values in table.rows:
            row = t.row()
            for v in values:
                row.cell(_text(pdf, v))
    pdf.ln(2)


def _signature(pdf: Any, family: str, note: Note) -> None:
    pdf.ln(6)
    sig = note.signature
    pdf.set_font(family, "B", 10)
    pdf.multi_cell(0, 5, _text(pdf, "Clinician signature: " + sig.clinician
                               + (f", {sig.credentials}" if sig.credentials else "")),
                   new_x="LMARGIN", new_y="NEXT")
    if note.status == "draft":
        text = "Not signed — draft, not for the record."
    elif sig.signed_at:
        text = f"Electronically signed: {sig.signed_at}"
    else:
        text = "Date signed: ____________________"
    pdf.multi_cell(0, 5, _text(pdf, text), new_x="LMARGIN", new_y="NEXT")
