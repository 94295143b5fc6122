#!/usr/bin/env python3
"""Batch note throughput, as ratios against a baseline measured in the same process.

Baseline: validating the session JSON into a ``SessionObservation`` (the least any
integration must do). Each stage's notes/s is reported with its ratio to that baseline, so
the figure is comparable across machines. Run: ``python benchmarks/bench_notes.py [N]``.
"""

from __future__ import annotations

import json
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

from rapportnotes import CueExtractor, build_note, render
from rapportnotes.models import SessionObservation

ROOT = Path(__file__).resolve().parents[1]


def _rate(fn: Callable[[], object], n: int) -> float:
    fn()  # warm-up (template compilation, first spaCy call)
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return n / (time.perf_counter() - start)


def main(argv: list[str]) -> int:
    n = int(argv[1]) if len(argv) > 1 else 20
    raw = [json.loads(p.read_text(encoding="utf-8"))
           for p in sorted((ROOT / "examples" / "sessions").glob("*.json"))]
    sessions = [SessionObservation.model_validate(r) for r in raw]
    extractor = CueExtractor()

    def validate() -> None:
        for r in raw:
            SessionObservation.model_validate(r)

    def note_md() -> None:
        for s in sessions:
            render(build_note(s, extract=False), "md")

    def note_md_extract() -> None:
        for s in sessions:
            render(build_note(s, extractor=extractor), "md")

    def note_docx_extract() -> None:
        for s in sessions:
            render(build_note(s, extractor=extractor), "docx")

    k = len(sessions)
    base = _rate(validate, n) * k
    print(f"rapportnotes note benchmark — Python {platform.python_version()} "
          f"({platform.machine()}), {k} example sessions x {n} rounds")
    print(f"{'stage':<42}{'notes/s':>10}{'vs validate':>14}")
    print(f"{'validate JSON (baseline)':<42}{base:>10.1f}{1.0:>14.3f}")
    for name, fn in [("assemble + Markdown (no extraction)", note_md),
                     ("extract + assemble + Markdown", note_md_extract),
                     ("extract + assemble + .docx", note_docx_extract)]:
        rate = _rate(fn, n) * k
        print(f"{name:<42}{rate:>10.1f}{rate / base:>14.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
