#!/usr/bin/env python3
"""Cost of a client history: a note with 200 earlier sessions against the same note alone.

History sessions are not re-extracted (the at-risk trend reads the withdrawal suggestions
the clinician accepted in each), so a history costs its scoring and trajectory only.
Reported as the ratio of per-note times measured in the same run, interleaved over rounds
(the machine's speed drifts); best time of each side. Run:
``python benchmarks/bench_history.py [SESSIONS] [ROUNDS]``.
"""

from __future__ import annotations

import platform
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from rapportnotes import CueExtractor, build_note, load_session, render

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str]) -> int:
    n = int(argv[1]) if len(argv) > 1 else 200
    rounds = int(argv[2]) if len(argv) > 2 else 5
    base = load_session(ROOT / "examples" / "sessions" / "dropout-risk.json")
    start = base.session.date - timedelta(days=7 * n)
    history = [base.model_copy(update={"session": base.session.model_copy(
        update={"date": start + timedelta(days=7 * i), "number": i + 1})})
        for i in range(n)]
    latest = base.model_copy(update={"session": base.session.model_copy(
        update={"date": date.fromordinal(start.toordinal() + 7 * n), "number": n + 1})})
    extractor = CueExtractor()

    def alone() -> None:
        render(build_note(latest, extractor=extractor), "md")

    def with_history() -> None:
        render(build_note(latest, history=history, extractor=extractor), "md")

    alone()
    with_history()
    t_alone, t_hist = [], []
    for _ in range(rounds):
        for fn, out in ((alone, t_alone), (with_history, t_hist)):
            t0 = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t0)
    print(f"Python {platform.python_version()}: note alone {min(t_alone) * 1000:.1f} ms; "
          f"with {n} earlier sessions {min(t_hist) * 1000:.1f} ms; "
          f"ratio {min(t_hist) / min(t_alone):.2f}x (target <= 3x)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
