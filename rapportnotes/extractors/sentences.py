"""A fast sentence splitter giving exactly the boundaries of spaCy's ``Sentencizer``.

spaCy's ``Sentencizer`` creates a ``Token`` object per token and reads ``token.text``. This
makes the same decision over the ORTH / IS_PUNCT columns of a whole batch of docs (a few
numpy calls per batch, see :mod:`.batch`): a *word* token (neither ``is_punct`` nor one of
the sentence-final ``punct_chars``) starts a sentence when a sentence-final token lies
between it and the previous word token (or the start of the doc). Token 0 always starts a
sentence. Clinical abbreviations ("pt.", "min.", "Dr.") are single tokens thanks to the
tokenizer's special cases, so their period never counts as sentence-final; decimals ("2.5")
are single tokens as well.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from spacy.attrs import SENT_START
from spacy.tokens import Doc


class SentenceSplitter:
    """Sentence starts from ORTH / IS_PUNCT columns (no per-token Python)."""

    def __init__(self, punct_chars: Iterable[str]):
        self.punct_chars = sorted(set(punct_chars))
        self._hashes: frozenset[int] | None = None

    def starts(self, doc: Doc) -> Any:
        """Boolean array: which tokens of ``doc`` start a sentence (Sentencizer semantics)."""
        from .batch import TokenBatch

        if not len(doc):
            return np.zeros(0, dtype=bool)
        return self.batch_starts(TokenBatch([doc], ["ORTH", "IS_PUNCT"]))

    def batch_starts(self, batch: Any) -> Any:
        """Sentence starts (bool per token) over a :class:`~.batch.TokenBatch` carrying
        ORTH and IS_PUNCT, for all its docs in a few vectorised calls.

        A word token starts a sentence when a sentence-final token lies between it and the
        previous word token of the same doc (or the doc start); every doc start is a start.
        """
        if self._hashes is None:
            strings = batch.docs[0].vocab.strings if batch.docs else None
            if strings is None:
                return np.zeros(0, dtype=bool)
            self._hashes = frozenset(strings.add(c) for c in self.punct_chars)
        finals_array = np.array(sorted(self._hashes), dtype=np.uint64)
        final = batch.member("ORTH", finals_array)
        word = ~final & (batch.col("IS_PUNCT") == 0)
        # before[j] = number of sentence-final tokens at positions < j
        before = np.zeros(batch.n + 1, dtype=np.int64)
        np.cumsum(final, out=before[1:])
        words = np.flatnonzero(word)
        prev_word = np.empty_like(words)
        if len(words):
            prev_word[0] = -1
            prev_word[1:] = words[:-1]
        # do not look back past the start of the word's own doc
        doc_first = batch.offsets[batch.doc_of[words]]
        lower_bound = np.maximum(prev_word + 1, doc_first)
        starts = np.zeros(batch.n, dtype=bool)
        starts[words[before[words] - before[lower_bound] > 0]] = True
        starts |= batch.doc_start
        return starts

    def __call__(self, doc: Doc) -> Doc:
        """Set sentence boundaries on ``doc`` (overwrites nothing already set)."""
        if len(doc) and not doc.has_annotation("SENT_START"):
            values = np.where(self.starts(doc), 1, -1).astype(np.int64).astype(np.uint64)
            doc.from_array([SENT_START], values.reshape(-1, 1))
        return doc

    def __getstate__(self) -> dict[str, Any]:
        return {"punct_chars": self.punct_chars, "_hashes": None}


__all__ = ["SentenceSplitter"]
