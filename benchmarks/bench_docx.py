#!/usr/bin/env python3
"""The .docx exporter against a naive python-docx writer, in the same process.

Baseline: ``Document()`` + the title + one heading per section + one paragraph per
statement + ``save`` — the least a python-docx integration does, with none of the header
table, measures tables, footer, core properties or deterministic zip. The exporter must be
faster than that (issue #12: it was 0.26x). Rounds are interleaved (baseline, exporter,
baseline, …) because this machine's speed drifts; the median ratio is reported.

Run: ``python benchmarks/bench_docx.py [ROUNDS]``.
"""

from __future__ import annotations

import io
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from docx import Document

from rapportnotes import build_note, load_history, load_session
from rapportnotes.exporters.docx import DocxExporter
from rapportnotes.notes import Note

ROOT = Path(__file__).resolve().parents[1]


def naive(note: Note) -> bytes:
    """The baseline writer: headings and paragraphs through python-docx."""
    doc = Document()
    doc.add_heading(note.title, level=0)
    for section in note.sections:
        doc.add_heading(section.title, level=1)
        for st in section.statements:
            doc.add_paragraph(f"{st.lead}: {st.text}" if st.lead else st.text)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _seconds(fn: Callable[[Note], bytes], notes: list[Note], repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        for note in notes:
            fn(note)
    return time.perf_counter() - start


def main(argv: list[str]) -> int:
    rounds = int(argv[1]) if len(argv) > 1 else 7
    notes = [build_note(load_session(p), extract=False)
             for p in sorted((ROOT / "examples" / "sessions").glob("*.json"))]
    hist = load_history(ROOT / "examples" / "history" / "drifting.json")
    with_chart = build_note(hist[-1], history=hist[:-1], extract=False)
    exporter = DocxExporter()
    export = exporter.export
    cases = {"5 example notes": notes, "history note with chart": [with_chart]}
    print(f"rapportnotes .docx benchmark — Python {platform.python_version()} "
          f"({platform.machine()}), {rounds} interleaved rounds")
    print(f"{'case':<28}{'naive ms/note':>15}{'exporter ms/note':>18}{'speed-up':>10}")
    for label, case in cases.items():
        export(case[0])  # warm-up: the template is prepared once per process
        naive(case[0])
        repeat = max(1, 40 // len(case))
        base, ours = [], []
        for _ in range(rounds):
            base.append(_seconds(naive, case, repeat))
            ours.append(_seconds(export, case, repeat))
        per = len(case) * repeat
        b, o = statistics.median(base), statistics.median(ours)
        ratios = [x / y for x, y in zip(base, ours, strict=True)]
        print(f"{label:<28}{b / per * 1000:>15.2f}{o / per * 1000:>18.2f}"
              f"{statistics.median(ratios):>9.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
