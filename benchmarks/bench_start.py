#!/usr/bin/env python3
"""Cold start: a fresh process rendering one note, with and without the warm-start cache.

Each case is a new Python process, run interleaved over rounds (the machine's speed drifts),
and reported as the median wall time and as a ratio to the floor measured in the same run:
``import spacy; spacy.blank("en")`` — what any spaCy-based extraction pays before its first
rule. Cases:

- ``render --no-extract``: the CLI without extraction (no spaCy import at all);
- ``render`` with the cache warm (the state saved by an earlier run), and the same with
  spaCy's own CLI package imported as spaCy does by default (``cli/_spacy_start.py``);
- ``render`` with the cache off (every rule compiled in the process);
- the first ``extract_cues`` call in a fresh process (timed inside it), warm and cold.

Run: ``python benchmarks/bench_start.py [ROUNDS]`` (default 5).
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SESSION = ROOT / "examples" / "sessions" / "dropout-risk.json"
FIRST_CALL = (
    "import time\n"
    "from rapportnotes import extract_cues\n"
    "t = time.perf_counter()\n"
    "extract_cues('Pt arrived late, said the homework was pointless and left early.')\n"
    "print(time.perf_counter() - t)\n")


def _wall(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def _inner(env: dict[str, str]) -> float:
    out = subprocess.run([sys.executable, "-c", FIRST_CALL], env=env, check=True,
                         capture_output=True, text=True).stdout
    return float(out.strip().splitlines()[-1])


def main(argv: list[str]) -> int:
    rounds = int(argv[1]) if len(argv) > 1 else 5
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "note.md")
        warm = {**os.environ, "RAPPORTNOTES_CACHE_DIR": str(Path(tmp) / "cache")}
        cold = {**os.environ, "RAPPORTNOTES_CACHE_DIR": ""}
        render = [sys.executable, "-m", "rapportnotes", "render", str(SESSION), "--to", "md",
                  "-o", out]
        _wall(render, warm)  # fills the cache
        cases = {
            "floor: import spacy + blank('en')": lambda: _wall(
                [sys.executable, "-c", "import spacy; spacy.blank('en')"], cold),
            "render --no-extract": lambda: _wall([*render, "--no-extract"], warm),
            "render, cache warm": lambda: _wall(render, warm),
            "render, cache warm, spaCy CLI eager": lambda: _wall(
                render, {**warm, "RAPPORTNOTES_EAGER_SPACY_CLI": "1"}),
            "render, cache off": lambda: _wall(render, cold),
            "first extract_cues call, cache warm": lambda: _inner(warm),
            "first extract_cues call, cache off": lambda: _inner(cold),
        }
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(rounds):
            for name, case in cases.items():
                times[name].append(case())
    floor = statistics.median(times["floor: import spacy + blank('en')"])
    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} "
          f"cores; {rounds} rounds, interleaved; median wall (min-max), ratio to the floor")
    for name, values in times.items():
        med = statistics.median(values)
        print(f"  {name:40s} {med:6.2f} s ({min(values):.2f}-{max(values):.2f})  "
              f"{med / floor:5.2f}x floor")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
