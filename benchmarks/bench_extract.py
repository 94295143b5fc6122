#!/usr/bin/env python
"""Throughput of the default cue pipeline against spaCy's blank English tokenizer.

Both run over the same multi-paragraph clinical text (>= 50k words), in the same process, so
the ratio is comparable across machines. Floor: end-to-end extraction (rules, sentence
model, ``Cue`` objects) >= 0.12x blank tokenization on the realistic text.

Two texts are measured:

* realistic (the headline): annotated corpus sentences (tests/data, else built-in samples)
  mixed with generated neutral progress-note prose (mental status, history, symptoms,
  plans), so that roughly 25-35% of sentences carry a cue, as in real notes;
* worst case: corpus sentences only (nearly every sentence carries a cue).

    python benchmarks/bench_extract.py [--words 60000] [--rounds 7] [--cue-share 0.3]

Without the compiled helpers (``RAPPORTNOTES_PURE_PYTHON=1``) the same results come from the
pure-Python paths, several times slower.
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


# ------------------------------------------------------------- neutral progress-note prose
_WHO = ["Pt", "Client", "Cl", "Patient", "She", "He", "They"]
_MSE = [
    "{who} was alert and oriented x{n}.",
    "Appearance: casually dressed, adequately groomed, good hygiene.",
    "Speech normal in rate, rhythm and volume.",
    "Mood reported as \"{mood}\"; affect {affect}.",
    "Thought process linear and goal-directed; thought content without delusions.",
    "Insight {level}, judgment {level}.",
    "Psychomotor activity within normal limits.",
    "Memory grossly intact; concentration {level}.",
    "No perceptual disturbances noted.",
    "Cognition grossly intact for age.",
]
_HISTORY = [
    "{who} has a history of {dx} diagnosed in {year}.",
    "Family history is notable for {dx} in a maternal aunt.",
    "{who} lives with {living} in a {home} and works {work}.",
    "Medical history includes {medical}, managed by the primary care provider.",
    "{who} completed {school} and has been employed {work} since {year}.",
    "Prior treatment included {prior} in {year}.",
    "Current medications: {med} {dose} mg daily.",
    "Substance use: {substance}.",
    "{who} has two siblings and describes the household as {household}.",
]
_SYMPTOMS = [
    "{who} reported sleeping {hours} hours per night with {sleep}.",
    "Appetite {appetite}; weight stable at {weight} lbs.",
    "PHQ-9 score of {score}, GAD-7 score of {score2}.",
    "{who} described {symptom} occurring {freq} over the past {weeks} weeks.",
    "Energy {appetite} compared with the previous month.",
    "{who} rated anxiety {rating}/10 this week and {rating2}/10 at intake.",
    "Sleep onset latency about {minutes} minutes; {sleep}.",
    "Headaches {freq}, no change in frequency.",
]
_PLAN = [
    "Next appointment scheduled for {day} at {time}.",
    "Continue {modality} weekly; treatment plan reviewed on {date}.",
    "Coordinate with {provider} regarding {med} dosage.",
    "Release of information on file for {provider}.",
    "Safety plan reviewed and updated; crisis line numbers provided.",
    "Reassess PHQ-9 and GAD-7 in {weeks} weeks.",
    "Referral placed to {provider} for {medical}.",
    "Session length {minutes} minutes, CPT 90834.",
    "Diagnosis: {dx}, {severity}.",
    "Risk assessment: low acute risk; no access to firearms reported.",
]
_SLOTS = {
    "n": ["3", "4"], "mood": ["tired", "fine", "stressed", "so-so", "alright"],
    "affect": ["euthymic", "mildly anxious", "full range", "congruent with mood",
               "mildly dysphoric"],
    "level": ["fair", "good", "adequate", "intact"],
    "dx": ["major depressive disorder", "generalized anxiety disorder", "PTSD", "ADHD",
           "bipolar II disorder", "panic disorder", "OCD", "adjustment disorder"],
    "year": [str(y) for y in range(2005, 2024)],
    "living": ["her partner", "his parents", "two roommates", "a spouse and three children"],
    "home": ["rented apartment", "house", "shared flat", "duplex"],
    "work": ["part time as a cashier", "full time in IT", "as a nurse", "in construction",
             "as a teacher", "at a warehouse"],
    "medical": ["hypertension", "asthma", "type 2 diabetes", "migraines",
                "hypothyroidism", "chronic back pain"],
    "school": ["high school", "an associate degree", "a bachelor's degree", "trade school"],
    "prior": ["outpatient counseling", "an intensive outpatient program",
              "medication management", "group therapy"],
    "med": ["sertraline", "fluoxetine", "bupropion", "escitalopram", "trazodone",
            "venlafaxine"],
    "dose": ["25", "50", "100", "150", "10", "20"],
    "substance": ["denies tobacco and drug use", "alcohol 2-3 drinks per week",
                  "former smoker, quit in 2019", "occasional cannabis use"],
    "household": ["busy", "close-knit", "quiet", "supportive"],
    "hours": ["5", "6", "7", "8", "4-5", "6-7"],
    "sleep": ["frequent night waking", "early morning waking", "no daytime napping",
              "difficulty falling asleep"],
    "appetite": ["decreased", "increased", "unchanged", "variable"],
    "weight": ["142", "168", "185", "210", "127"],
    "score": [str(n) for n in range(3, 24)], "score2": [str(n) for n in range(2, 20)],
    "symptom": ["racing thoughts", "low mood", "muscle tension", "irritability",
                "intrusive memories", "restlessness", "poor concentration"],
    "freq": ["daily", "several times a week", "most evenings", "twice a week"],
    "weeks": ["2", "3", "4", "6", "8"], "rating": [str(n) for n in range(1, 10)],
    "rating2": [str(n) for n in range(3, 11)],
    "minutes": ["15", "30", "45", "53", "60"],
    "day": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"],
    "time": ["9:00", "10:30", "1:00 pm", "3:15 pm", "4:45 pm"],
    "modality": ["CBT", "individual psychotherapy", "supportive therapy", "DBT skills group"],
    "date": ["3/14", "6/2", "9/21", "11/8", "1/17"],
    "provider": ["psychiatry", "the PCP", "the school counselor", "neurology",
                 "the case manager", "sleep medicine"],
    "severity": ["moderate", "mild", "recurrent, moderate", "in partial remission"],
}


def neutral_sentence(rng: random.Random) -> str:
    """One varied neutral progress-note sentence (MSE, history, symptoms, plan)."""
    template = rng.choice(rng.choice([_MSE, _HISTORY, _SYMPTOMS, _PLAN]))
    values = {k: rng.choice(v) for k, v in _SLOTS.items()}
    values["who"] = rng.choice(_WHO)
    return template.format(**values)


def corpus_sentences() -> list[str]:
    root = Path(__file__).resolve().parent.parent
    sentences: list[str] = []
    path = root / "tests" / "data" / "cues_corpus.jsonl"
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                sentences.append(json.loads(line)["text"])
    return sentences or _SAMPLE


def realistic_text(min_words: int, cue_share: float = 0.3) -> str:
    """Paragraphs mixing corpus sentences (share ``cue_share``) with neutral prose."""
    sentences = corpus_sentences()
    rng = random.Random(29)
    paragraphs: list[str] = []
    words = 0
    while words < min_words:
        para = " ".join(rng.choice(sentences) if rng.random() < cue_share
                        else neutral_sentence(rng) for _ in range(rng.randint(4, 9)))
        paragraphs.append(para)
        words += len(para.split())
    return "\n\n".join(paragraphs)


def corpus_text(min_words: int) -> str:
    """Worst case: paragraphs of corpus sentences only."""
    sentences = corpus_sentences()
    rng = random.Random(13)
    paragraphs: list[str] = []
    words = 0
    while words < min_words:
        para = " ".join(rng.choice(sentences) for _ in range(rng.randint(3, 7)))
        paragraphs.append(para)
        words += len(para.split())
    return "\n\n".join(paragraphs)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(rules_only, nlp, blank, extractor, text: str, rounds: int) -> dict:
    """Words/s of blank tokenization, the cue pipeline and the end-to-end extractor.

    The three run interleaved, ``rounds`` times, on the same paragraphs. Like ``timeit``,
    the best (minimum) time of each is the estimate of its cost: on a shared machine the
    slower rounds measure interference, not the code. The median per-round ratio is
    reported as well.
    """
    paragraphs = text.split("\n\n")
    n_words = len(text.split())

    def tokenize() -> None:
        for _ in blank.pipe(paragraphs, batch_size=256):
            pass

    def pipeline() -> None:
        for _ in nlp.pipe(paragraphs, batch_size=256):
            pass

    def extract() -> None:
        for _ in extractor.pipe(paragraphs, batch_size=256):
            pass

    def extract_rules() -> None:
        for _ in rules_only.pipe(paragraphs, batch_size=256):
            pass

    tokenize()
    pipeline()  # first pass: new words enter the vocab and lookup caches
    extract()
    extract_rules()
    blank_t, pipe_t, extract_t, rules_t = [], [], [], []
    for _ in range(rounds):
        blank_t.append(timed(tokenize))
        pipe_t.append(timed(pipeline))
        extract_t.append(timed(extract))
        rules_t.append(timed(extract_rules))
    per_round = sorted(b / p for b, p in zip(blank_t, pipe_t, strict=True))
    sents = with_cue = 0
    for doc in nlp.pipe(paragraphs, batch_size=256):
        starts = {span.sent.start for span in doc.spans["rapport_cues"]}
        sents += sum(1 for _ in doc.sents)
        with_cue += len(starts)
    return {"words": n_words, "share": with_cue / max(sents, 1),
            "ratio": min(blank_t) / min(pipe_t), "median": per_round[len(per_round) // 2],
            "blank": n_words / min(blank_t), "pipe": n_words / min(pipe_t),
            "extract": n_words / min(extract_t),
            "extract_ratio": min(blank_t) / min(extract_t),
            "rules_ratio": min(blank_t) / min(rules_t)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--words", type=int, default=60_000)
    ap.add_argument("--rounds", type=int, default=7,
                    help="interleaved timing rounds (best time of each side is used)")
    ap.add_argument("--cue-share", type=float, default=0.3,
                    help="share of corpus sentences in the realistic text")
    args = ap.parse_args(argv)

    import spacy

    from rapportnotes.extractors import CueExtractor
    from rapportnotes.extractors._native import cmatch

    blank = spacy.blank("en")
    extractor = CueExtractor()
    rules_only = CueExtractor(model=None)
    nlp = extractor.nlp
    list(nlp.pipe(corpus_text(2000).split("\n\n")))  # warm up: compile rules, lemma table
    print(f"python {platform.python_version()} ({platform.python_implementation()}), "
          f"spaCy {spacy.__version__}, compiled helpers: {'yes' if cmatch else 'no'}")
    ratios = {}
    for name, text in (("realistic", realistic_text(args.words, args.cue_share)),
                       ("worst case (all corpus)", corpus_text(args.words))):
        m = measure(rules_only, nlp, blank, extractor, text, args.rounds)
        ratios[name] = m["extract_ratio"]
        print(f"[{name}] {m['words']} words, {m['share']:.0%} of sentences with a cue")
        print(f"  blank tokenizer : {m['blank']:12,.0f} words/s")
        print(f"  cue pipeline    : {m['pipe']:12,.0f} words/s")
        print(f"  extract_cues end to end (Cue objects): {m['extract']:,.0f} words/s")
        print(f"  ratio pipeline/blank: {m['ratio']:.3f} (best times of {args.rounds} "
              f"interleaved rounds; median per-round ratio {m['median']:.3f})")
        print(f"  ratio extraction end to end/blank (rules + sentence model, Cue objects): "
              f"{m['extract_ratio']:.3f}; rules alone end to end {m['rules_ratio']:.3f}")
    print(f"headline ratio (realistic, end to end): {ratios['realistic']:.3f} "
          "(floor >= 0.12)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
