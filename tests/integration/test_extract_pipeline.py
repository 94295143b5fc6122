"""Integration: the cue pipeline as a spaCy pipeline (serialisation, multiprocessing, reuse)."""

from __future__ import annotations

import spacy

from rapportnotes.extractors import CueExtractor, build_pipeline

TEXTS = [
    "Pt arrived 15 min late and gave one-word answers. Writer explained the rationale.",
    "Hx of no-shows; today pt disclosed the assault for the first time.",
    "Mother (present) complained that sessions are too short.",
    "Will monitor for withdrawal. No signs of defensiveness.",
]


def summary(doc) -> list[tuple]:
    return [(s.start, s.end, s.label_, tuple(s._.rapport_context.items()))
            for s in doc.spans["rapport_cues"]]


def test_to_disk_and_spacy_load_round_trip(tmp_path) -> None:
    nlp = build_pipeline()
    nlp.to_disk(tmp_path / "pipe")
    loaded = spacy.load(tmp_path / "pipe")
    assert loaded.pipe_names == nlp.pipe_names
    for text in TEXTS:
        assert summary(loaded(text)) == summary(nlp(text))
    assert (tmp_path / "pipe" / "rapport_cues" / "cues.jsonl").exists()


def test_to_bytes_round_trip() -> None:
    nlp = build_pipeline()
    data = nlp.to_bytes()
    other = build_pipeline().from_bytes(data)
    assert summary(other(TEXTS[0])) == summary(nlp(TEXTS[0]))


def test_pipe_with_two_processes() -> None:
    nlp = build_pipeline()
    single = [summary(d) for d in nlp.pipe(TEXTS)]
    multi = [summary(d) for d in nlp.pipe(TEXTS, n_process=2, batch_size=2)]
    assert multi == single
    assert any(single)


def test_extractor_pipe_with_two_processes() -> None:
    ex = CueExtractor()
    single = list(ex.pipe(TEXTS))
    multi = list(ex.pipe(TEXTS, n_process=2, batch_size=1))
    assert multi == single


def test_components_work_in_any_pipeline() -> None:
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("rapport_cues")
    nlp.add_pipe("rapport_context")
    doc = nlp("Client refused the breathing exercise.")
    spans = doc.spans["rapport_cues"]
    assert [s.label_ for s in spans] == ["confrontation.rejects_intervention"]
    assert spans[0]._.rapport_context["is_finding"] is True


def test_factories_are_entry_points() -> None:
    from importlib.metadata import entry_points

    names = {ep.name for ep in entry_points(group="spacy_factories")}
    assert {"rapport_cues", "rapport_context"} <= names
