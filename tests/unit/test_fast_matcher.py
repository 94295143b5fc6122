"""The compiled matcher returns exactly spaCy Matcher's matches (all of them)."""

from __future__ import annotations

import pytest

spacy = pytest.importorskip("spacy")

from spacy.matcher import Matcher  # noqa: E402

from rapportnotes.extractors.anchored import AnchoredMatcher  # noqa: E402

PATTERNS = {
    "opt": [{"LOWER": "asked"}, {"OP": "{0,2}"}, {"LOWER": {"IN": ["questions", "question"]}}],
    "neg": [{"LOWER": "refused"}, {"LOWER": {"NOT_IN": ["not", "."]}, "OP": "{0,3}"},
            {"LOWER": "to"}, {"LOWER": {"IN": ["try", "do"]}}],
    "star": [{"LOWER": "very", "OP": "*"}, {"LOWER": "late"}, {"LOWER": "again", "OP": "?"}],
    "plus": [{"LOWER": "no"}, {"ORTH": {"IN": ["-", "–"]}, "OP": "?"}, {"LOWER": "show"},
             {"IS_PUNCT": True, "OP": "+"}],
    "num": [{"LIKE_NUM": True}, {"LOWER": {"REGEX": "^min"}}, {"LOWER": "late"}],
    "sent": [{"IS_SENT_START": True, "LOWER": {"IN": ["cancelled", "canceled"]}}],
    "lemma": [{"LEMMA": "agree"}, {"LOWER": "to", "OP": "?"}, {"OP": "?"}],
}
TEXTS = [
    "Pt asked two questions and asked a question. Asked questions questions.",
    "She refused, quietly, to try. He refused to do it; refused not to try.",
    "Very very late again. Late. very late",
    "Another no-show!! no show. no - show ... ok",
    "Arrived 10 minutes late and twenty min late.",
    "Cancelled again. She cancelled. canceled",
]


@pytest.mark.parametrize("text", TEXTS)
def test_same_matches_as_spacy_matcher(text: str) -> None:
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    doc = nlp(text)
    for tok in doc:
        tok.lemma_ = {"agreed": "agree", "agrees": "agree"}.get(tok.lower_, tok.lower_)
    fast = AnchoredMatcher(nlp.vocab, {"agree": {"agreed", "agrees"}})
    ref = Matcher(nlp.vocab)
    for key, pattern in PATTERNS.items():
        fast.add(key, pattern)
        ref.add(key, [pattern])
    assert fast._fast._groups  # the compiled engine is used, not the fallback
    lowers = doc.to_array("LOWER")
    lemmas = doc.to_array("LEMMA")
    bounds = [(s.start, s.end) for s in doc.sents]
    got = fast(doc, lowers, bounds, lemmas=lemmas)
    want = {(k, s + a, s + b) for s, e in bounds for k, a, b in ref(doc[s:e])}
    assert got == want


def test_unsupported_patterns_fall_back_to_spacy() -> None:
    nlp = spacy.blank("en")
    matcher = AnchoredMatcher(nlp.vocab, {})
    matcher.add("len", [{"LOWER": "late"}, {"LENGTH": {">=": 3}}])
    doc = nlp("very late today")
    got = matcher(doc, doc.to_array("LOWER"), [(0, 3)], lemmas=doc.to_array("LOWER"))
    assert got == {(nlp.vocab.strings["len"], 1, 3)}
