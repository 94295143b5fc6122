#!/usr/bin/env python3
"""Worker processes and long texts (issue #12), ratios within one run.

1. ``CueExtractor.pipe(n_process=2)`` against ``n_process=1`` on the same ~200k words of
   paragraphs, interleaved rounds (the machine's speed drifts), pool start-up included.
2. Peak memory of extracting one text of N words against the same words as paragraphs,
   both holding all their cues at the end (the same output), each in a fresh process
   (``ru_maxrss`` of the child), so one does not inherit the other's heap.

Run: ``python benchmarks/bench_workers.py [--words 200000] [--rounds 3] [--long-words 2000000]``
(``--long-words 0`` skips the memory part).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_extract import realistic_text  # noqa: E402

_CHILD = """
import resource, sys
sys.path.insert(0, {here!r})
from bench_extract import realistic_text
from rapportnotes.extractors import CueExtractor
ex = CueExtractor()
ex.extract("warm up: client engaged.")
text = realistic_text({words})
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
if {one!r}:
    cues = ex.extract(text)
else:
    cues = [c for cs in ex.pipe(text.split(chr(10) * 2)) for c in cs]
n = len(cues)  # both hold their whole result: the same output, compared like for like
del text
print(n, base, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _peak(words: int, one: bool) -> tuple[int, int, int]:
    out = subprocess.run([sys.executable, "-c", _CHILD.format(here=str(HERE), words=words,
                                                              one=one)],
                         capture_output=True, text=True, check=True).stdout.split()
    return int(out[0]), int(out[1]), int(out[2])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--words", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--long-words", type=int, default=2_000_000)
    args = ap.parse_args(argv)
    from rapportnotes.extractors import CueExtractor

    paragraphs = realistic_text(args.words).split("\n\n")
    ex = CueExtractor()
    list(ex.pipe(paragraphs[:50]))
    print(f"rapportnotes workers benchmark — Python {platform.python_version()} "
          f"({platform.machine()}), {args.words:,} words in {len(paragraphs):,} paragraphs")
    one, two = [], []
    cues1 = cues2 = None
    for _ in range(args.rounds):
        t = time.perf_counter()
        cues1 = list(ex.pipe(paragraphs))
        one.append(time.perf_counter() - t)
        t = time.perf_counter()
        cues2 = list(ex.pipe(paragraphs, n_process=2))
        two.append(time.perf_counter() - t)
    assert cues1 == cues2, "n_process=2 gave other cues"
    ratios = [a / b for a, b in zip(one, two, strict=True)]
    print(f"  n_process=1: {min(one):.2f} s   n_process=2: {min(two):.2f} s   "
          f"speed-up {statistics.median(ratios):.2f}x (median of {args.rounds}; "
          f"same {sum(map(len, cues1)):,} cues)")
    if args.long_words:
        n_one, base_one, peak_one = _peak(args.long_words, True)
        n_par, base_par, peak_par = _peak(args.long_words, False)
        print(f"  {args.long_words:,} words: one text peak {peak_one / 1024:.0f} MiB "
              f"({n_one:,} cues), paragraphs peak {peak_par / 1024:.0f} MiB ({n_par:,} cues)"
              f" -> {peak_one / peak_par:.2f}x; above the loaded extractor "
              f"{(peak_one - base_one) / 1024:.0f} vs {(peak_par - base_par) / 1024:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
