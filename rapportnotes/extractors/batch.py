"""Token columns of many docs at once, so per-doc Python and numpy overhead is paid per batch.

spaCy hands components batches of docs (``nlp.pipe(..., batch_size=...)`` calls each
component's ``pipe``). A progress-note paragraph is ~50-100 tokens, so anything done per doc
with numpy (a call costs a few microseconds whatever the array size) costs more than the work
itself. :class:`TokenBatch` reads the attribute columns the components need with one
``Doc.to_array`` call per doc, concatenates them, and lets the components run their lookups
(lemmas, sentence starts, anchor words) as a handful of vectorised calls per batch.

Indices into a batch are *global* (token ``i`` of doc ``d`` is ``offsets[d] + i``). Sentence
boundaries always include every doc start, so a match inside one sentence never crosses docs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from spacy.attrs import IDS
from spacy.tokens import Doc


def member(values: Any, sorted_unique: Any) -> Any:
    """``np.isin(values, sorted_unique)`` for a pre-sorted, unique right-hand array.

    One ``searchsorted``; unlike ``np.isin`` it never re-sorts the (large, constant)
    rule-side array on each call.
    """
    if not len(sorted_unique) or not len(values):
        return np.zeros(len(values), dtype=bool)
    idx = np.searchsorted(sorted_unique, values)
    idx[idx == len(sorted_unique)] = 0
    return sorted_unique[idx] == values


class TokenBatch:
    """Concatenated ``doc.to_array`` columns of ``docs`` (all non-empty) plus sentences."""

    def __init__(self, docs: Sequence[Doc], attrs: Sequence[str]) -> None:
        self.docs = list(docs)
        self.attrs = list(attrs)
        ids = [IDS[a] for a in self.attrs]
        lengths = np.fromiter((len(d) for d in self.docs), dtype=np.int64,
                              count=len(self.docs))
        self.offsets = np.zeros(len(self.docs) + 1, dtype=np.int64)
        np.cumsum(lengths, out=self.offsets[1:])
        if self.docs:
            self.data = np.concatenate([d.to_array(ids) for d in self.docs]).astype(
                np.uint64, copy=False)
        else:
            self.data = np.zeros((0, len(ids)), dtype=np.uint64)
        self.n = int(self.offsets[-1])
        self._extra: dict[str, Any] = {}
        self._lists: dict[str, list[int]] = {}
        self.doc_start = np.zeros(self.n, dtype=bool)
        self.doc_start[self.offsets[:-1][lengths > 0]] = True

    # ------------------------------------------------------------------ columns
    def col(self, name: str) -> Any:
        """The column ``name`` (uint64) over the whole batch."""
        if name in self._extra:
            return self._extra[name]
        return self.data[:, self.attrs.index(name)]

    def set_col(self, name: str, values: Any) -> None:
        """Add or replace a computed column (e.g. lemmas, ``IS_SENT_START``)."""
        self._extra[name] = values
        self._extra.pop("unique:" + name, None)
        self._lists.pop(name, None)

    def unique(self, name: str) -> tuple[Any, Any]:
        """(sorted distinct values, inverse index) of a column, cached: lookups into large
        sorted tables are done once per distinct word of the batch (a few thousand) instead
        of once per token."""
        key = "unique:" + name
        cached = self._extra.get(key)
        if cached is None:
            uniq, inverse = np.unique(self.col(name), return_inverse=True)
            cached = self._extra[key] = (uniq, inverse.reshape(-1))
        return cached

    def member(self, name: str, sorted_unique: Any) -> Any:
        """``member(self.col(name), sorted_unique)`` via the column's distinct values."""
        uniq, inverse = self.unique(name)
        return member(uniq, sorted_unique)[inverse]

    def has(self, name: str) -> bool:
        return name in self._extra or name in self.attrs

    def lists(self, names: Sequence[str]) -> list[list[int]]:
        """Columns as Python lists (for per-position matching), cached per name."""
        out = []
        for name in names:
            values = self._lists.get(name)
            if values is None:
                values = self._lists[name] = self.col(name).tolist()
            out.append(values)
        return out

    # ------------------------------------------------------------------ sentences
    def set_sentences(self, is_start: Any) -> None:
        """Sentence starts (bool per token; every doc start is forced to be one)."""
        is_start = np.asarray(is_start, dtype=bool) | self.doc_start
        self.is_start = is_start
        self.starts = np.flatnonzero(is_start)
        self.ends = np.append(self.starts[1:], self.n).astype(np.int64)
        self.sent_of = np.cumsum(is_start) - 1
        self.set_col("IS_SENT_START", is_start.astype(np.uint64))

    def sent_bounds(self, positions: Any) -> tuple[Any, Any]:
        """(sentence starts, sentence ends) of the tokens at ``positions`` (int arrays)."""
        sid = self.sent_of[positions]
        return self.starts[sid], self.ends[sid]

    # ------------------------------------------------------------------ docs
    def doc_index(self, i: int) -> int:
        """Index of the doc holding global token ``i``."""
        return int(np.searchsorted(self.offsets, i, side="right")) - 1

    def split(self, items: Sequence[tuple[int, int, int]]) -> list[list[tuple[int, int, int]]]:
        """Group (key, start, end) triples (global) by doc, as doc-local triples."""
        per_doc: list[list[tuple[int, int, int]]] = [[] for _ in self.docs]
        if not items:
            return per_doc
        starts = np.fromiter((a for _, a, _ in items), dtype=np.int64, count=len(items))
        which = (np.searchsorted(self.offsets, starts, side="right") - 1).tolist()
        offsets = self.offsets.tolist()
        for (k, a, b), d in zip(items, which, strict=True):
            off = offsets[d]
            per_doc[d].append((k, a - off, b - off))
        return per_doc


__all__ = ["TokenBatch", "member"]
