"""A fast sentence splitter giving exactly the boundaries of spaCy's ``Sentencizer``.

spaCy's ``Sentencizer`` creates a ``Token`` object per token and reads ``token.text``. This
makes the same decision over the doc's ORTH / IS_PUNCT columns (one ``doc.to_array`` call,
a loop over plain ints; for paragraph-sized docs this beats a dozen numpy calls): a *word*
token (neither ``is_punct`` nor one of the sentence-final ``punct_chars``) starts a sentence
when a sentence-final token lies between it and the previous word token (or the start of
the doc). Token 0 always starts a sentence. Clinical abbreviations ("pt.", "min.", "Dr.")
are single tokens thanks to the tokenizer's special cases, so their period never counts
as sentence-final; decimals ("2.5") are single tokens as well.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from spacy.attrs import IS_PUNCT, ORTH, SENT_START
from spacy.tokens import Doc


class SentenceSplitter:
    """Set ``SENT_START`` on a doc from its ORTH / IS_PUNCT arrays (no per-token Python)."""

    def __init__(self, punct_chars: Iterable[str]):
        self.punct_chars = sorted(set(punct_chars))
        self._hashes: frozenset[int] | None = None

    def starts(self, doc: Doc) -> Any:
        """Boolean array: which tokens start a sentence (Sentencizer semantics)."""
        return np.array(self._flags(doc) or [], dtype=bool)

    def _flags(self, doc: Doc) -> list[int]:
        """1 where a sentence starts, else -1 (one pass over two int columns)."""
        n = len(doc)
        if not n:
            return []
        if self._hashes is None:
            self._hashes = frozenset(doc.vocab.strings.add(c) for c in self.punct_chars)
        finals = self._hashes
        out = [-1] * n
        out[0] = 1
        seen = False
        for i, (orth, punct) in enumerate(doc.to_array([ORTH, IS_PUNCT]).tolist()):
            if orth in finals:
                seen = True
            elif seen and not punct:
                out[i] = 1
                seen = False
        return out

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
            values = np.array(self._flags(doc), dtype=np.int64).astype(np.uint64)
            doc.from_array([SENT_START], values.reshape(-1, 1))
        return doc

    def __getstate__(self) -> dict[str, Any]:
        return {"punct_chars": self.punct_chars, "_hashes": None}


__all__ = ["SentenceSplitter"]
