"""A vectorised sentence splitter giving exactly the boundaries of spaCy's ``Sentencizer``.

spaCy's ``Sentencizer`` walks every ``Token`` object in Python. This does the same decision
with numpy over whole-doc attribute arrays: a *word* token (neither ``is_punct`` nor one of
the sentence-final ``punct_chars``) starts a sentence when at least one sentence-final token
lies between it and the previous word token (or the start of the doc). Token 0 always starts
a sentence. Clinical abbreviations ("pt.", "min.", "Dr.") are single tokens thanks to the
tokenizer's special cases, so their period never counts as sentence-final; decimals ("2.5")
are single tokens as well.
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
        self._hashes: Any = None

    def starts(self, doc: Doc) -> Any:
        """Boolean array: which tokens start a sentence (Sentencizer semantics)."""
        n = len(doc)
        if not n:
            return np.zeros(0, dtype=bool)
        if self._hashes is None:
            self._hashes = np.array(sorted(doc.vocab.strings.add(c) for c in self.punct_chars),
                                    dtype=np.uint64)
        arr = doc.to_array([ORTH, IS_PUNCT])
        final = np.isin(arr[:, 0], self._hashes)
        word = ~final & (arr[:, 1] == 0)
        # number of sentence-final tokens strictly before each token
        before = np.concatenate(([0], np.cumsum(final)[:-1]))
        idx = np.flatnonzero(word)
        out = np.zeros(n, dtype=bool)
        if len(idx):
            prev = np.concatenate(([0], before[idx[:-1]] + final[idx[:-1]]))
            # finals between the previous word (exclusive) and this word
            out[idx[(before[idx] - prev) > 0]] = True
        out[0] = True
        return out

    def __call__(self, doc: Doc) -> Doc:
        """Set sentence boundaries on ``doc`` (overwrites nothing already set)."""
        if len(doc) and not doc.has_annotation("SENT_START"):
            values = np.where(self.starts(doc), 1, -1).astype(np.int64).astype(np.uint64)
            doc.from_array([SENT_START], values.reshape(-1, 1))
        return doc

    def __getstate__(self) -> dict[str, Any]:
        return {"punct_chars": self.punct_chars, "_hashes": None}


__all__ = ["SentenceSplitter"]
