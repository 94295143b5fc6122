"""TokenBatch, its per-form tables and the compiled helpers' input checks."""

from __future__ import annotations

import numpy as np
import pytest

spacy = pytest.importorskip("spacy")

from spacy.attrs import IS_PUNCT, LOWER, ORTH, SHAPE  # noqa: E402

from rapportnotes.extractors import _native, build_pipeline  # noqa: E402
from rapportnotes.extractors.batch import (  # noqa: E402
    LEXICAL,
    CueTable,
    FormCache,
    LexemeTable,
    TokenBatch,
)

TEXTS = ["Pt said \"fine\" (again).", "", "Writer asked; Pt declined. Writer asked again!",
         "Ünïcode dashes — and émojis 🙂 too."]


@pytest.fixture(scope="module")
def docs():
    nlp = build_pipeline()
    return [nlp(t) for t in TEXTS]


def test_columns_equal_to_array(docs) -> None:
    work = [d for d in docs if len(d)]
    batch = TokenBatch(work, ["ORTH", "LOWER", "IS_PUNCT", "SHAPE"],
                       LexemeTable(work[0].vocab, LEXICAL))
    for name, attr in (("ORTH", ORTH), ("LOWER", LOWER), ("IS_PUNCT", IS_PUNCT),
                       ("SHAPE", SHAPE)):
        expected = np.concatenate([d.to_array(attr) for d in work]).astype(np.uint64)
        assert batch.col(name).tolist() == expected.tolist(), name
    assert batch.doc_of.tolist() == [i for i, d in enumerate(work) for _ in d]


def test_unique_and_member(docs) -> None:
    work = [d for d in docs if len(d)]
    batch = TokenBatch(work, ["ORTH"])
    uniq, inverse = batch.unique("ORTH")
    assert uniq[inverse].tolist() == batch.col("ORTH").tolist()
    assert len(set(uniq.tolist())) == len(uniq)
    wanted = np.array(sorted({int(work[0][0].orth), int(work[1][-1].orth)}), dtype=np.uint64)
    expected = np.isin(batch.col("ORTH"), wanted)
    assert batch.member("ORTH", wanted).tolist() == expected.tolist()


def test_subset_matches_a_fresh_batch(docs) -> None:
    work = [d for d in docs if len(d)]
    lex = LexemeTable(work[0].vocab, LEXICAL)
    full = TokenBatch(work, ["ORTH", "SPACY"], lex)
    full.set_sentences(np.zeros(full.n, dtype=bool))
    full.set_col("LEMMA", full.col("LOWER"))
    full.cues = CueTable(np.array([0, 2]), np.array([0, 1]), np.array([1, 2]),
                         np.array([3, 4]), [11, 12], ["", "client"])
    part = full.subset([0, 2])
    fresh = TokenBatch([work[0], work[2]], ["ORTH", "SPACY"], lex)
    for name in ("ORTH", "SPACY", "LOWER", "IS_TITLE"):
        assert part.col(name).tolist() == fresh.col(name).tolist(), name
    assert part.col("LEMMA").tolist() == fresh.col("LOWER").tolist()
    assert part.starts.tolist() == [0, len(work[0])]
    assert part.cues is not None and part.cues.docs.tolist() == [0, 1]
    assert part.cues.kbs == ["", "client"]


def test_form_cache_calls_once_per_form() -> None:
    calls: list[int] = []
    cache = FormCache(lambda h: calls.append(h) or h % 7)
    forms = np.array([5, 9, 5, 12, 9], dtype=np.uint64)
    assert cache.lookup(forms).tolist() == [5, 2, 5, 5, 2]
    assert cache.lookup(forms[::-1].copy()).tolist() == [2, 5, 5, 2, 5]
    assert sorted(calls) == [5, 9, 12]


@pytest.mark.skipif(_native.cmatch is None, reason="compiled helpers not built")
def test_factorize_matches_numpy() -> None:
    values = np.array([7, 3, 7, 2**63 + 1, 3, 0], dtype=np.uint64)
    uniq_b, inverse_b = _native.cmatch.factorize(values)
    uniq = np.frombuffer(uniq_b, dtype=np.uint64)
    inverse = np.frombuffer(inverse_b, dtype=np.int64)
    assert uniq.tolist() == [7, 3, 2**63 + 1, 0]  # first-seen order
    assert uniq[inverse].tolist() == values.tolist()


@pytest.mark.skipif(_native.cmatch is None, reason="compiled helpers not built")
def test_compiled_helpers_reject_inconsistent_input() -> None:
    """Bad buffers raise ValueError (never read out of bounds)."""
    cm = _native.cmatch
    empty = np.zeros(0, dtype=np.int64)
    with pytest.raises(ValueError):
        cm.resolve(np.array([1, 0]), np.array([0, 0]), np.array([1, 1]), np.array([0, 0]),
                   np.array([0]), np.array([0]), np.array([0], dtype=np.uint64),
                   np.array([0]))  # docs not grouped
    with pytest.raises(ValueError):
        cm.resolve(np.array([0]), np.array([0]), np.array([1]), np.array([5]),
                   np.array([0]), np.array([0]), np.array([0], dtype=np.uint64),
                   np.array([0]))  # unknown rule
    flags = np.zeros(3, dtype=np.uint64)
    rules = np.zeros(5, dtype=np.int64)
    applies = np.zeros(1, dtype=np.uint64)
    repair = np.zeros(1, dtype=np.uint64)
    bad_cue = np.array([0, 9, 0, 0, 0, 3, 3], dtype=np.int64)  # ends past the sentence
    with pytest.raises(ValueError):
        cm.context(flags, rules, applies, bad_cue, np.array([0, 1, 0, 0]), empty, repair,
                   True)
    bad_hit = np.array([0, 2, 1], dtype=np.int64)  # start after end
    cue = np.array([0, 1, 0, 0, 0, 3, 3], dtype=np.int64)
    with pytest.raises(ValueError):
        cm.context(flags, rules, applies, cue, np.array([0, 1, 0, 1]), bad_hit, repair, True)


def test_annotation_flags_match_doc_has_annotation() -> None:
    from rapportnotes.extractors.cue_ruler import annotated

    nlp = build_pipeline()
    texts = ["One", "Hello there. Ok then.", "x y z", "a b", "Dr. Smith arrived late."]
    docs = [nlp.make_doc(t) for t in texts]
    docs[2][1].is_sent_start = True            # one boundary set by hand
    docs[3][0].is_sent_start = True            # only the first token: not annotated
    docs[4][3].lemma_ = "arrive"               # one lemma
    docs[1].user_hooks["sents"] = lambda doc: iter([doc[:]])
    batch = TokenBatch(docs, ["ORTH", "SENT_START", "LEMMA"])
    has_sents, has_lemmas = annotated(batch)
    assert has_sents.tolist() == [d.has_annotation("SENT_START") for d in docs]
    assert has_lemmas.tolist() == [d.has_annotation("LEMMA") for d in docs]
    assert has_sents.tolist() == [True, True, True, False, False]
    assert has_lemmas.tolist() == [False, False, False, False, True]


@pytest.mark.skipif(_native.cmatch is None, reason="compiled helpers not built")
def test_context_helper_rejects_triggers_outside_their_sentence() -> None:
    cm = _native.cmatch
    flags = np.zeros(6, dtype=np.uint64)
    rules = np.zeros(5, dtype=np.int64)
    applies = np.zeros(1, dtype=np.uint64)
    repair = np.zeros(1, dtype=np.uint64)
    cue = np.array([3, 4, 0, 0, 3, 6, 6], dtype=np.int64)  # sentence 3..6
    outside = np.array([0, 0, 1], dtype=np.int64)          # trigger at token 0
    with pytest.raises(ValueError, match="outside"):
        cm.context(flags, rules, applies, cue, np.array([0, 1, 0, 1]), outside, repair, True)
    inside = np.array([0, 4, 5], dtype=np.int64)
    out = np.frombuffer(cm.context(flags, rules, applies, cue, np.array([0, 1, 0, 1]), inside,
                                   repair, True), dtype=np.int64)
    assert out.shape == (6,)
