"""An anchor-indexed wrapper around spaCy's ``Matcher``.

spaCy's ``Matcher`` tries every pattern at every token, so a few hundred rules cost far more
than tokenizing. Most rules have a rare *anchor*: a required token whose surface forms can be
listed (``refused``/``refuses``/... for ``refuse``). This class groups patterns by anchor
form and, for each occurrence of an anchor in a doc (found with one vectorised ``searchsorted``
over the LOWER hashes), runs only that anchor's small matcher on a window around it. Patterns
without a usable anchor run over every sentence. Results equal those of one big Matcher
restricted to sentences (matches never cross a sentence boundary).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from spacy.attrs import IDS, LEMMA, SENT_START
from spacy.lang.en.stop_words import STOP_WORDS
from spacy.matcher import Matcher
from spacy.vocab import Vocab

from .fast_matcher import _FLAG_ATTRS as _FLAGS
from .fast_matcher import FastMatcher, Unsupported, spec_forms

_UNBOUNDED = 40  # window reach of '*' / '+' operators


def _reach(pattern: list[dict[str, Any]]) -> int:
    """Maximum number of tokens ``pattern`` can span."""
    total = 0
    for tok in pattern:
        op = str(tok.get("OP", ""))
        if op in ("*", "+"):
            total += _UNBOUNDED
        elif op.startswith("{"):
            hi = op.strip("{}").split(",")[-1]
            total += int(hi) if hi else _UNBOUNDED
        elif op != "!":
            total += 1
    return total


_PROBS: dict[str, float] | None = None


def _frequency(form: str) -> float:
    """Relative frequency of ``form`` in English (spacy-lookups-data lexeme_prob), with
    stop words, punctuation and clinical shorthand treated as very frequent."""
    global _PROBS
    if _PROBS is None:
        from pathlib import Path

        import spacy_lookups_data
        import srsly

        path = Path(spacy_lookups_data.__file__).parent / "data" / "en_lexeme_prob.json.gz"
        _PROBS = {k.lower(): v for k, v in srsly.read_gzip_json(path).items()}
    if form in STOP_WORDS or not any(c.isalnum() for c in form) or form in _CLINICAL_COMMON:
        return 0.05
    return math.exp(_PROBS.get(form, -16.0))


_CLINICAL_COMMON = frozenset({"pt", "client", "cl", "writer", "therapist", "session", "sessions",
                              "today", "said", "reported", "reports", "stated", "asked"})


def _anchor(pattern: list[dict[str, Any]], forms_of: Mapping[str, Iterable[str]]
            ) -> set[str] | None:
    """Forms of the best required token of ``pattern`` (rare content words preferred)."""
    best: tuple[float, set[str]] | None = None
    for tok in pattern:
        op = str(tok.get("OP", ""))
        if op in ("?", "*", "!") or op.startswith("{0") or op.startswith("{,"):
            continue
        for attr in ("LEMMA", "LOWER", "ORTH"):
            forms = spec_forms(attr, tok.get(attr), forms_of)
            if forms is None:
                continue
            # expected hits per word of running text: rare anchors mean few matcher calls
            score = sum(_frequency(f) for f in forms)
            if best is None or score < best[0]:
                best = (score, forms)
    return None if best is None else best[1]


def _member(values: Any, sorted_array: Any) -> Any:
    """``np.isin(values, sorted_array)`` for a pre-sorted, unique ``sorted_array`` (no
    per-call sort of the big rule-side array)."""
    if not len(sorted_array):
        return np.zeros(len(values), dtype=bool)
    idx = np.searchsorted(sorted_array, values)
    idx[idx == len(sorted_array)] = 0
    return sorted_array[idx] == values


class AnchoredMatcher:
    """Run many Matcher patterns only around their anchor words.

    Patterns go to the compiled :class:`~.fast_matcher.FastMatcher` when it supports them
    (every pattern the ``seq`` syntax produces); anything else (extension attributes, the
    ``!`` operator, patterns without an anchor) runs through a small spaCy ``Matcher`` per
    anchor form, or over every sentence when it has no anchor at all.
    """

    def __init__(self, vocab: Vocab, forms_of: Mapping[str, Iterable[str]]):
        self.vocab = vocab
        self.forms_of = forms_of
        self._fast = FastMatcher(vocab.strings, forms_of, _frequency)
        self._groups: dict[int, list[tuple[str, list[dict[str, Any]]]]] = {}
        self._always: list[tuple[str, list[dict[str, Any]]]] = []
        self._direct_lower: dict[int, list[int]] = {}
        self._direct_lemma: dict[int, list[int]] = {}
        self._compiled = False

    def add(self, key: str, pattern: list[dict[str, Any]]) -> None:
        self._compiled = False
        if len(pattern) == 1 and set(pattern[0]) <= {"LOWER", "LEMMA"} and len(pattern[0]) == 1:
            (attr, spec), = pattern[0].items()
            values = [spec] if isinstance(spec, str) else spec.get("IN") if isinstance(
                spec, dict) and set(spec) == {"IN"} else None
            if values is not None:  # one-token rule: a hash lookup, no Matcher
                table = self._direct_lower if attr == "LOWER" else self._direct_lemma
                k = self.vocab.strings.add(key)
                for value in values:
                    table.setdefault(self.vocab.strings.add(value), []).append(k)
                return
        try:
            self._fast.add(self.vocab.strings.add(key), pattern)
            return
        except Unsupported:
            pass
        forms = _anchor(pattern, self.forms_of)
        if not forms:
            self._always.append((key, pattern))
            return
        for form in forms:
            self._groups.setdefault(self.vocab.strings.add(form), []).append((key, pattern))

    def validate(self, key: str, pattern: list[dict[str, Any]]) -> None:
        """Raise spaCy's own error if ``pattern`` is invalid."""
        Matcher(self.vocab, validate=True).add(key, [pattern])

    def _compile(self) -> None:
        self._matchers: dict[int, tuple[Matcher, int]] = {}
        for form, entries in self._groups.items():
            matcher = Matcher(self.vocab)
            for key, pattern in entries:
                matcher.add(key, [pattern])
            self._matchers[form] = (matcher, max(_reach(p) for _, p in entries))
        self._slow_array = np.array(sorted(self._groups), dtype=np.uint64)
        self._fast_array = self._fast.anchor_array
        self._anchor_array = np.union1d(self._slow_array, self._fast_array).astype(np.uint64)
        self._lower_array = np.array(sorted(self._direct_lower), dtype=np.uint64)
        self._lemma_array = np.array(sorted(self._direct_lemma), dtype=np.uint64)
        self._lower_anchor_array = np.union1d(self._anchor_array, self._lower_array
                                              ).astype(np.uint64)
        self._always_matcher = Matcher(self.vocab)
        for key, pattern in self._always:
            self._always_matcher.add(key, [pattern])
        self._compiled = True

    def anchors_in(self, lowers: Any) -> Any:
        """Boolean mask of tokens that may start work (anchors or one-token rules by LOWER).

        One-token LEMMA rules are only looked up where this mask or ``has_unanchored``
        leads to a sentence; their lemmas are checked in :meth:`__call__`.
        """
        if not self._compiled:
            self._compile()
        return _member(lowers, self._lower_anchor_array)

    def lemma_hits(self, lemmas: Any) -> Any:
        """Boolean mask of tokens whose lemma is a one-token LEMMA rule."""
        if not self._compiled:
            self._compile()
        return _member(lemmas, self._lemma_array)

    @property
    def has_unanchored(self) -> bool:
        """Whether some pattern has no anchor and must run over every sentence."""
        return bool(self._always)

    def __call__(self, doc: Any, lowers: Any, sent_bounds: Iterable[tuple[int, int]],
                 hits: Any = None, lemmas: Any = None, is_start: Any = None
                 ) -> set[tuple[int, int, int]]:
        """(match_id, start, end) of all matches inside the given sentences.

        ``is_start`` (bool array of sentence starts) is needed by patterns that test
        ``IS_SENT_START``; it defaults to the doc's own annotation.
        """
        if not self._compiled:
            self._compile()
        out: set[tuple[int, int, int]] = set()
        bounds = list(sent_bounds)
        if not bounds:
            return out
        n = len(lowers)
        # per-token sentence start/end, restricted to the requested sentences
        sent_lo = np.full(n, -1, dtype=np.int64)
        sent_hi = np.zeros(n, dtype=np.int64)
        for s, e in bounds:
            sent_lo[s:e] = s
            sent_hi[s:e] = e
        inside = sent_lo >= 0
        if lemmas is None:
            lemmas = doc.to_array(LEMMA)
        # one-token rules
        for table, values, array in ((self._direct_lower, lowers, self._lower_array),
                                     (self._direct_lemma, lemmas, self._lemma_array)):
            if not len(array):
                continue
            where = np.flatnonzero(_member(values, array) & inside)
            for i, v in zip(where.tolist(), values[where].tolist(), strict=True):
                out.update((k, i, i + 1) for k in table[v])
        # compiled patterns around their anchors
        fast = np.flatnonzero(_member(lowers, self._fast_array) & inside)
        if len(fast):
            self._fast.match(fast.tolist(), self._columns(doc, lowers, lemmas, is_start),
                             zip(sent_lo[fast].tolist(), sent_hi[fast].tolist(), strict=True),
                             out)
        # fallback: spaCy Matcher
        if self._always:
            for s, e in bounds:
                out.update((k, s + a, s + b) for k, a, b in self._always_matcher(doc[s:e]))
        if len(self._slow_array):
            slow = np.flatnonzero(_member(lowers, self._slow_array) & inside)
            for i in slow.tolist():
                s, e = int(sent_lo[i]), int(sent_hi[i])
                matcher, reach = self._matchers[int(lowers[i])]
                lo, hi = max(s, i - reach + 1), min(e, i + reach)
                out.update((k, lo + a, lo + b) for k, a, b in matcher(doc[lo:hi]))
        return out

    def _columns(self, doc: Any, lowers: Any, lemmas: Any, is_start: Any) -> list[list[int]]:
        cols: list[list[int]] = []
        for name in self._fast.columns.names:
            if name == "LOWER":
                cols.append(lowers.tolist())
            elif name == "LEMMA":
                cols.append(lemmas.tolist())
            elif name == "IS_SENT_START":
                if is_start is None:
                    is_start = doc.to_array(SENT_START).astype(np.int64) == 1
                    if len(is_start):
                        is_start[0] = True
                cols.append(is_start.astype(np.int64).tolist())
            else:
                cols.append(doc.to_array(IDS[name]).astype(np.int64).tolist()
                            if name in _FLAGS else doc.to_array(IDS[name]).tolist())
        return cols

    def __getstate__(self) -> dict[str, Any]:
        return {"vocab": self.vocab, "forms_of": None, "_fast": self._fast,
                "_groups": self._groups, "_always": self._always,
                "_direct_lower": self._direct_lower, "_direct_lemma": self._direct_lemma,
                "_compiled": False}
