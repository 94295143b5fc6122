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


def test_workers_keep_order_sources_and_input_checks() -> None:
    """Each worker runs the whole extraction on its batches; results come back in input
    order with each text's source, and bad input fails as in one process."""
    import pytest

    ex = CueExtractor()
    texts = TEXTS * 5
    tags = [f"field[{i}]" for i in range(len(texts))]
    single = list(ex.pipe(texts, sources=tags))
    multi = list(ex.pipe(texts, sources=tags, n_process=2, batch_size=3))
    assert multi == single and [c.source for cues in multi for c in cues] == [
        c.source for cues in single for c in cues]
    assert any(c.source == "field[19]" for c in multi[19])
    with pytest.raises(TypeError, match="expected str"):
        list(ex.pipe(["ok", 3], n_process=2))  # type: ignore[list-item]
    with pytest.raises(ValueError, match="sources"):
        list(ex.pipe(texts, sources=tags[:2], n_process=2))


def test_workers_started_by_spawn_build_their_own_extractor() -> None:
    """With another thread running, forking would copy its locks: the workers are spawned
    and build the extractor from its configuration — same cues."""
    import threading

    ex = CueExtractor()
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        multi = list(ex.pipe(TEXTS, n_process=2, batch_size=2))
    finally:
        stop.set()
        thread.join()
    assert multi == list(ex.pipe(TEXTS))


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


def test_a_long_text_is_worked_through_in_parts_with_the_same_cues(monkeypatch) -> None:
    """A text of many chunks is united doc by doc and its docs let go as they are done
    (peak memory does not grow with one text's length); the cues are those of holding all
    of its docs at once."""
    import rapportnotes.extractors as extractors

    ex = CueExtractor()
    text = " ".join(TEXTS * 400)  # ~48k characters, one paragraph
    original = extractors._chunks
    monkeypatch.setattr(extractors, "_chunks", lambda t, size=2_000: original(t, size))
    monkeypatch.setattr(extractors, "HOLD_CHARS", 10**9)
    held = ex.extract(text)  # ~24 docs, all united together
    monkeypatch.setattr(extractors, "HOLD_CHARS", 5_000)
    parts = ex.extract(text)  # a few docs at a time
    assert len(held) > 1000 and parts == held
    assert [c.start_char for c in parts] == sorted(c.start_char for c in parts)
