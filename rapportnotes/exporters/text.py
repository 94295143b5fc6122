"""Markdown, plain-text and HTML exporters: thin wrappers over the template renderer."""

from __future__ import annotations

import os
from collections.abc import Sequence

from ..notes import Note
from ..rendering import render_text


class _TemplateExporter:
    name = ""
    extension = ""
    description = ""
    binary = False

    def export(self, note: Note, *,
               template_dirs: Sequence[str | os.PathLike[str]] = ()) -> bytes:
        text = render_text(note, self.name, template_dirs=template_dirs)
        # Normalise blank-line runs left by template control flow; output stays deterministic.
        lines = text.splitlines()
        out: list[str] = []
        for line in lines:
            line = line.rstrip()
            if line == "" and out and out[-1] == "":
                continue
            out.append(line)
        return ("\n".join(out).strip() + "\n").encode("utf-8")


class MarkdownExporter(_TemplateExporter):
    name = "md"
    extension = ".md"
    description = "Markdown (templates/note.md.j2)"


class TextExporter(_TemplateExporter):
    name = "txt"
    extension = ".txt"
    description = "Plain text, wrapped at 92 columns (templates/note.txt.j2)"


class HtmlExporter(_TemplateExporter):
    name = "html"
    extension = ".html"
    description = "Standalone HTML, autoescaped (templates/note.html.j2)"
