#!/usr/bin/env python
"""Throughput of the default cue pipeline against spaCy's blank English tokenizer.

Both run over the same multi-paragraph clinical text (>= 50k words, built from the annotated
corpus in tests/data when present, else from built-in sample sentences), in the same process,
so the ratio is comparable across machines. Target: ratio >= 0.25.

    python benchmarks/bench_extract.py [--words 60000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import time
from pathlib import Path

_SAMPLE = [
    "Pt arrived 10 min late and gave one-word answers for the first half of the session.",
    "Client disclosed for the first time that she has been drinking daily since the layoff.",
    "Writer explained the rationale for exposure and the client agreed to try one step.",
    "Denies SI/HI. Mood 'okay'; affect constricted, congruent. Sleep 6 hrs a night.",
    "Pt said the worksheets are pointless; writer validated his frustration and switched "
    "to a brief check-in.",
    "Will review homework next session. Discussed work stress and upcoming court date.",
    "Client smiled while describing the accident; writer gently reflected the mismatch.",
    "Maintained good eye contact, open posture, and asked several questions about panic.",
]


def corpus_text(min_words: int) -> str:
    root = Path(__file__).resolve().parent.parent
    sentences: list[str] = []
    path = root / "tests" / "data" / "cues_corpus.jsonl"
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                sentences.append(json.loads(line)["text"])
    sentences = sentences or _SAMPLE
    rng = random.Random(13)
    paragraphs: list[str] = []
    words = 0
    while words < min_words:
        para = " ".join(rng.choice(sentences) for _ in range(rng.randint(3, 7)))
        paragraphs.append(para)
        words += len(para.split())
    return "\n\n".join(paragraphs)


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--words", type=int, default=60_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)

    import spacy

    from rapportnotes.extractors import build_pipeline

    text = corpus_text(args.words)
    paragraphs = text.split("\n\n")
    n_words = len(text.split())
    blank = spacy.blank("en")
    nlp = build_pipeline()
    list(nlp.pipe(paragraphs[:50]))  # warm up: compile rules, load lemma table

    def tokenize() -> None:
        for _ in blank.pipe(paragraphs, batch_size=256):
            pass

    def pipeline() -> None:
        for _ in nlp.pipe(paragraphs, batch_size=256):
            pass

    t_blank = best_of(tokenize, args.repeat)
    t_pipe = best_of(pipeline, args.repeat)
    wps_blank, wps_pipe = n_words / t_blank, n_words / t_pipe
    print(f"python {platform.python_version()} ({platform.python_implementation()}), "
          f"spaCy {spacy.__version__}")
    print(f"text: {n_words} words in {len(paragraphs)} paragraphs")
    print(f"blank tokenizer : {wps_blank:12,.0f} words/s")
    print(f"cue pipeline    : {wps_pipe:12,.0f} words/s")
    print(f"ratio pipeline/blank: {wps_pipe / wps_blank:.3f} (target >= 0.25)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
