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

import copy
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from spacy.attrs import IDS
from spacy.tokens import Doc

from ._native import cmatch


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


#: lexeme attributes (functions of the word form alone) and the ``Lexeme`` property of each
#: (LENGTH is the length of ``orth_``)
LEXICAL = {"LOWER": "lower", "NORM": "norm", "SHAPE": "shape", "PREFIX": "prefix",
           "SUFFIX": "suffix", "LENGTH": "orth_", "IS_ALPHA": "is_alpha",
           "IS_ASCII": "is_ascii", "IS_DIGIT": "is_digit", "IS_LOWER": "is_lower",
           "IS_PUNCT": "is_punct", "IS_SPACE": "is_space", "IS_TITLE": "is_title",
           "IS_UPPER": "is_upper", "LIKE_URL": "like_url", "LIKE_NUM": "like_num",
           "LIKE_EMAIL": "like_email", "IS_STOP": "is_stop", "IS_BRACKET": "is_bracket",
           "IS_QUOTE": "is_quote", "IS_LEFT_PUNCT": "is_left_punct",
           "IS_RIGHT_PUNCT": "is_right_punct", "IS_CURRENCY": "is_currency"}


class FormCache:
    """uint64 -> row of ints for per-word-form values computed by a Python function,
    held as sorted arrays: one ``searchsorted`` per batch over the distinct forms, the
    function called only for forms never seen before.

    ``compute(form_hash)`` returns an int (``width`` 0: :meth:`lookup` gives a 1-d array) or
    a tuple of ``width`` ints (a 2-d array).
    """

    MAX_FORMS = 1_000_000

    def __init__(self, compute: Any, width: int = 0) -> None:
        self.compute = compute
        self.width = width
        self._keys = np.zeros(0, dtype=np.uint64)
        self._values = np.zeros((0, width) if width else 0, dtype=np.uint64)

    def lookup(self, forms: Any) -> Any:
        """Values for an array of form hashes (any order, repeats allowed)."""
        keys = self._keys
        idx = np.searchsorted(keys, forms)
        idx[idx == len(keys)] = 0
        found = keys[idx] == forms if len(keys) else np.zeros(len(forms), dtype=bool)
        if not found.all():
            missing = np.unique(forms[~found])
            shape = (len(missing), self.width) if self.width else (len(missing),)
            values = np.array([self.compute(int(f)) for f in missing.tolist()],
                              dtype=np.uint64).reshape(shape)
            if len(keys) + len(missing) > self.MAX_FORMS:
                keys, old = keys[:0], self._values[:0]
            else:
                old = self._values
            keys = np.concatenate([keys, missing])
            merged = np.concatenate([old, values])
            order = np.argsort(keys, kind="stable")
            self._keys, self._values = keys[order], merged[order]
            idx = np.searchsorted(self._keys, forms)
        return self._values[idx]

    def __getstate__(self) -> dict[str, Any]:
        return {"compute": self.compute, "width": self.width}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["compute"], state["width"])  # type: ignore[misc]


class LexemeTable:
    """Lexical attributes per word form (ORTH hash), read from the vocab once per form.

    ``Doc.to_array`` reads every attribute of every token (~30 ns each); lexical attributes
    only depend on the word form, so a batch reads ORTH per token and looks its few thousand
    distinct forms up here (a :class:`FormCache` of ``Lexeme`` attributes). NORM is
    excluded: a token may override its norm.
    """

    def __init__(self, vocab: Any, attrs: Iterable[str]) -> None:
        self.vocab = vocab
        self.attrs = [a for a in attrs if a in LEXICAL and a != "NORM"]
        self._props = [LEXICAL[a] for a in self.attrs]
        self._cache = FormCache(self._read, width=len(self.attrs))

    def _read(self, orth: int) -> tuple[int, ...]:
        lex = self.vocab[orth]
        return tuple(len(lex.orth_) if p == "orth_" else int(getattr(lex, p))
                     for p in self._props)

    def rows(self, uniq: Any) -> Any:
        """uint64 array (len(uniq), len(attrs)) for distinct ORTH hashes."""
        return self._cache.lookup(uniq)

    def __getstate__(self) -> dict[str, Any]:
        return {"vocab": self.vocab, "attrs": self.attrs}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["vocab"], state["attrs"])  # type: ignore[misc]


@dataclass
class CueTable:
    """The cue spans of a batch as arrays, in ``doc.spans`` order: doc index in the batch,
    doc-local token start/end, taxonomy label index, label hash, and the experiencer a rule
    names for its own cue ("" if none)."""

    docs: Any
    starts: Any
    ends: Any
    labels: Any
    label_hashes: list[int]
    kbs: list[str]

    def subset(self, keep: Sequence[int], n_docs: int) -> CueTable:
        """The rows of the docs at indices ``keep`` (of ``n_docs``), renumbered to their
        positions in ``keep``."""
        new_index = np.full(n_docs, -1, dtype=np.int64)
        new_index[np.asarray(list(keep), dtype=np.int64)] = np.arange(len(keep))
        rows = np.flatnonzero(new_index[self.docs] >= 0)
        picked = rows.tolist()
        return CueTable(new_index[self.docs[rows]], self.starts[rows], self.ends[rows],
                        self.labels[rows], [self.label_hashes[i] for i in picked],
                        [self.kbs[i] for i in picked])


class TokenBatch:
    """Concatenated ``doc.to_array`` columns of ``docs`` (all non-empty) plus sentences.

    With a :class:`LexemeTable`, lexical attributes are not read per token: they are kept
    per distinct word form (``form_col``) and spread to tokens only when a caller asks for
    the token column.
    """

    def __init__(self, docs: Sequence[Doc], attrs: Sequence[str],
                 lexemes: LexemeTable | None = None) -> None:
        self.docs = list(docs)
        lexical = [a for a in attrs if lexemes is not None and a in lexemes.attrs]
        self.attrs = list(dict.fromkeys(
            ["ORTH", *(a for a in attrs if a not in lexical)] if lexemes is not None
            else attrs))
        ids = [IDS[a] for a in self.attrs]
        lengths = np.fromiter((len(d) for d in self.docs), dtype=np.int64,
                              count=len(self.docs))
        self.offsets = np.zeros(len(self.docs) + 1, dtype=np.int64)
        np.cumsum(lengths, out=self.offsets[1:])
        if self.docs:
            self.data = np.concatenate([d.to_array(ids) for d in self.docs]).astype(
                np.uint64, copy=False).reshape(-1, len(ids))
        else:
            self.data = np.zeros((0, len(ids)), dtype=np.uint64)
        self.n = int(self.offsets[-1])
        self._extra: dict[str, Any] = {}
        self._forms: dict[str, Any] = {}
        if lexemes is not None and self.n:
            # every lexical attribute per form (the table has them all); a token column is
            # only materialised when asked for
            table = lexemes.rows(self.unique("ORTH")[0])
            for j, name in enumerate(lexemes.attrs):
                self._forms[name] = table[:, j]
        self._lists: dict[str, list[int]] = {}
        self.doc_start = np.zeros(self.n, dtype=bool)
        self.doc_start[self.offsets[:-1][lengths > 0]] = True
        #: the cue spans found in this batch (set by rapport_cues for rapport_context)
        self.cues: CueTable | None = None

    @property
    def doc_of(self) -> Any:
        """Index of the doc of each token (int64 array, computed once)."""
        values = self._extra.get("doc_of")
        if values is None:
            values = self._extra["doc_of"] = np.repeat(
                np.arange(len(self.docs), dtype=np.int64), np.diff(self.offsets))
        return values

    def form_col(self, name: str) -> Any | None:
        """A lexical column per distinct form (aligned with ``unique("ORTH")``), or None."""
        return self._forms.get(name)

    # ------------------------------------------------------------------ columns
    def col(self, name: str) -> Any:
        """The column ``name`` (uint64) over the whole batch."""
        if name in self._extra:
            return self._extra[name]
        forms = self._forms.get(name)
        if forms is not None:
            values = self._extra[name] = forms[self.unique("ORTH")[1]]
            return values
        return self.data[:, self.attrs.index(name)]

    def set_col(self, name: str, values: Any) -> None:
        """Add or replace a computed column (e.g. lemmas, ``IS_SENT_START``)."""
        self._forms.pop(name, None)
        self._extra[name] = values
        self._extra.pop("unique:" + name, None)
        self._lists.pop(name, None)

    def unique(self, name: str) -> tuple[Any, Any]:
        """(distinct values, inverse index) of a column, cached: lookups into large sorted
        tables are done once per distinct word of the batch (a few thousand) instead of
        once per token. The order of the distinct values is unspecified (first-seen with
        the compiled helper, sorted without)."""
        key = "unique:" + name
        cached = self._extra.get(key)
        if cached is None:
            values = np.ascontiguousarray(self.col(name), dtype=np.uint64)
            if cmatch is not None:
                uniq_b, inverse_b = cmatch.factorize(values)
                cached = (np.frombuffer(uniq_b, dtype=np.uint64),
                          np.frombuffer(inverse_b, dtype=np.int64))
            else:
                uniq, inverse = np.unique(values, return_inverse=True)
                cached = (uniq, inverse.reshape(-1))
            self._extra[key] = cached
        return cached

    def member(self, name: str, sorted_unique: Any) -> Any:
        """``member(self.col(name), sorted_unique)`` via the column's distinct values."""
        forms = self._forms.get(name)
        if forms is not None:
            return member(forms, sorted_unique)[self.unique("ORTH")[1]]
        uniq, inverse = self.unique(name)
        return member(uniq, sorted_unique)[inverse]

    def has(self, name: str) -> bool:
        return name in self._extra or name in self._forms or name in self.attrs

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

    def subset(self, keep: Sequence[int]) -> TokenBatch:
        """The batch restricted to the docs at (increasing) indices ``keep``: same columns,
        per-form tables and sentences, no ``Doc.to_array`` call."""
        lengths = np.diff(self.offsets)
        doc_mask = np.zeros(len(self.docs), dtype=bool)
        doc_mask[list(keep)] = True
        tokens = np.repeat(doc_mask, lengths)
        view = copy.copy(self)
        view.docs = [self.docs[i] for i in keep]
        view.offsets = np.zeros(len(view.docs) + 1, dtype=np.int64)
        np.cumsum(lengths[doc_mask], out=view.offsets[1:])
        view.data = self.data[tokens]
        view.n = int(view.offsets[-1])
        view._extra = {}
        for name, values in self._extra.items():
            if name == "unique:ORTH":
                view._extra[name] = (values[0], values[1][tokens])
            elif not name.startswith("unique:") and name not in ("IS_SENT_START", "doc_of"):
                view._extra[name] = values[tokens]
        view._lists = {}
        view.doc_start = np.zeros(view.n, dtype=bool)
        view.doc_start[view.offsets[:-1][lengths[doc_mask] > 0]] = True
        view.set_sentences(self.is_start[tokens])
        view.cues = (self.cues.subset(keep, len(self.docs)) if self.cues is not None
                     else None)
        return view

    def with_doc_sentences(self) -> TokenBatch:
        """A view of this batch (same columns) whose "sentences" are the whole docs, for
        rules that may match anywhere in a doc."""
        view = copy.copy(self)
        view._extra = {k: v for k, v in self._extra.items() if k != "IS_SENT_START"}
        view._lists = {k: v for k, v in self._lists.items() if k != "IS_SENT_START"}
        view.set_sentences(self.doc_start)
        return view

    def sent_bounds(self, positions: Any) -> tuple[Any, Any]:
        """(sentence starts, sentence ends) of the tokens at ``positions`` (int arrays)."""
        sid = self.sent_of[positions]
        return self.starts[sid], self.ends[sid]

    # ------------------------------------------------------------------ docs
    def doc_index(self, i: int) -> int:
        """Index of the doc holding global token ``i``."""
        return int(np.searchsorted(self.offsets, i, side="right")) - 1


__all__ = ["CueTable", "FormCache", "LexemeTable", "TokenBatch", "member"]
