"""The fast sentence splitter gives exactly spaCy's Sentencizer boundaries."""

from __future__ import annotations

import pytest

spacy = pytest.importorskip("spacy")

from rapportnotes.extractors import _SENT_CHARS, build_pipeline  # noqa: E402
from rapportnotes.extractors.sentences import SentenceSplitter  # noqa: E402

TEXTS = [
    "",
    "One.",
    "Pt. arrived 10 min. late. Dr. Smith vs. writer?! Yes... 2.5 hrs.\n\nNew para",
    '"Fine." She left!! Then (quietly) returned.\n- item one\n- item two',
    "... leading dots. ??? what \n\n\n trailing",
    "Mood 'okay'; affect constricted. Sleep 6 hrs a night. Denies SI/HI.",
]


@pytest.mark.parametrize("text", TEXTS)
def test_same_boundaries_as_sentencizer(text: str) -> None:
    nlp = build_pipeline()
    ref = spacy.blank("en")
    ref.tokenizer = nlp.tokenizer
    ref.add_pipe("sentencizer", config={"punct_chars": _SENT_CHARS})
    expected = ref(text)
    doc = nlp.make_doc(text)
    SentenceSplitter(_SENT_CHARS)(doc)
    assert [t.is_sent_start for t in doc] == [t.is_sent_start for t in expected]


def test_pipeline_sets_sentences() -> None:
    doc = build_pipeline()("Client arrived late. Writer validated her frustration.")
    assert len(list(doc.sents)) == 2
