"""Anchor-indexed matching of many token patterns over a batch of docs.

spaCy's ``Matcher`` tries every pattern at every token, so a few hundred rules cost far more
than tokenizing. Most rules have a rare *anchor*: a required token whose surface forms can be
listed (``refused``/``refuses``/... for ``refuse``). Patterns are grouped by anchor form and
only tried where an anchor occurs: in C (``_cmatch.Engine``) over the batch's token columns
when the helper is built, else by the Python engine of :mod:`.fast_matcher` at positions a
numpy gate lets through. One-token rules are lookups; patterns the compiled form cannot
express fall back to small spaCy ``Matcher`` objects run on windows around their anchors.
Results equal those of one big Matcher restricted to sentences (matches never cross a
sentence boundary)."""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from spacy.attrs import SENT_START
from spacy.lang.en.stop_words import STOP_WORDS
from spacy.matcher import Matcher
from spacy.vocab import Vocab

from .batch import TokenBatch, member
from .fast_matcher import FastMatcher, Unsupported, spec_forms, triples_to_arrays

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
#: the shipped subset of the table: every form the packaged rules ask about (see
#: ``tools/build_anchor_frequency.py``), so a start with the shipped rules never reads the
#: 1.5 MB gzip table and lower-cases its 1M keys (~1 s of the first extraction)
FREQUENCY_FILE = "frequency.json"
_SHIPPED: dict[str, float] | None = None
#: forms looked up in the full table (the tool records them to build the subset)
asked: set[str] = set()


def _full_table() -> dict[str, float]:
    global _PROBS
    if _PROBS is None:
        from pathlib import Path

        import spacy_lookups_data
        import srsly

        path = Path(spacy_lookups_data.__file__).parent / "data" / "en_lexeme_prob.json.gz"
        _PROBS = {k.lower(): v for k, v in srsly.read_gzip_json(path).items()}
    return _PROBS


def log_probability(form: str) -> float:
    """log P(form) in English text: from the shipped subset when it has the form, else from
    spacy-lookups-data's full ``lexeme_prob`` table (rules a user added; -16 if unknown).
    Only the choice of anchors depends on it (their speed), never what matches."""
    global _SHIPPED
    if _SHIPPED is None:
        import json
        from importlib import resources

        from .rules import PATTERN_PACKAGE

        try:
            text = resources.files(PATTERN_PACKAGE).joinpath(FREQUENCY_FILE).read_text("utf-8")
            _SHIPPED = {str(k): float(v) for k, v in json.loads(text).items()}
        except (OSError, ValueError):  # absent or unreadable: the full table serves
            _SHIPPED = {}
    if form in _SHIPPED:
        return _SHIPPED[form]
    asked.add(form)
    return _full_table().get(form, -16.0)


@functools.lru_cache(maxsize=65536)
def _frequency(form: str) -> float:
    """Relative frequency of ``form`` in English (spacy-lookups-data lexeme_prob), with
    stop words, punctuation and clinical shorthand treated as very frequent. Cached:
    compiling the shipped rules asks ~65,000 times about ~5,000 forms."""
    if form in STOP_WORDS or not any(c.isalnum() for c in form) or form in _CLINICAL_COMMON:
        return 0.05
    return math.exp(log_probability(form))


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


def _csr(table: dict[int, list[int]]) -> tuple[Any, Any]:
    """(row pointers, flat values) of ``table`` in sorted-key order."""
    ptr = [0]
    flat: list[int] = []
    for value in sorted(table):
        flat.extend(table[value])
        ptr.append(len(flat))
    return np.array(ptr, dtype=np.int64), np.array(flat, dtype=np.uint64)


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
                if attr == "LOWER":  # the compiled engine looks these up itself
                    self._fast.add_single(k, [self.vocab.strings.add(v) for v in values])
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
        self._lower_array = np.array(sorted(self._direct_lower), dtype=np.uint64)
        self._lemma_array = np.array(sorted(self._direct_lemma), dtype=np.uint64)
        self._lower_csr = _csr(self._direct_lower)
        self._lemma_csr = _csr(self._direct_lemma)
        self._always_matcher = Matcher(self.vocab)
        for key, pattern in self._always:
            self._always_matcher.add(key, [pattern])
        self._compiled = True

    @property
    def attrs(self) -> list[str]:
        """``Doc.to_array`` attributes a :class:`~.batch.TokenBatch` needs for this matcher
        (``IS_SENT_START`` is computed by the batch, not read)."""
        names = ["LOWER", "LEMMA", *self._fast.columns.names]
        return [n for i, n in enumerate(names) if n not in names[:i] and n != "IS_SENT_START"]

    @property
    def has_unanchored(self) -> bool:
        """Whether some pattern has no anchor and must run over every sentence."""
        return bool(self._always)

    def match_batch(self, batch: TokenBatch, inside: Any = None) -> set[tuple[int, int, int]]:
        """(match_id, start, end) of all matches in ``batch``, as a set (see
        :meth:`match_arrays`)."""
        keys, starts, ends = self.match_arrays(batch, inside)
        return set(zip(keys.tolist(), starts.tolist(), ends.tolist(), strict=True))

    def match_arrays(self, batch: TokenBatch, inside: Any = None) -> tuple[Any, Any, Any]:
        """All matches in ``batch`` (global token indices) as three arrays (match ids
        uint64, starts, ends), without duplicates, sorted by (start, end, id).

        ``batch`` must carry :attr:`attrs` and sentences; ``inside`` (bool per token)
        restricts matching to the sentences it marks (whole sentences only).
        """
        if not self._compiled:
            self._compile()
        parts: list[tuple[Any, Any, Any]] = []
        if not batch.n:
            return triples_to_arrays(())
        # one-token rules: value -> rule ids as a CSR table, expanded with numpy (the C
        # engine matches the LOWER ones itself)
        use_c = self._fast.has_c_engine
        for name, array, (ptr, flat) in (("LOWER", self._lower_array, self._lower_csr),
                                         ("LEMMA", self._lemma_array, self._lemma_csr)):
            if not len(array) or (use_c and name == "LOWER"):
                continue
            found = batch.member(name, array)
            if inside is not None:
                found &= inside
            where = np.flatnonzero(found)
            if not len(where):
                continue
            j = np.searchsorted(array, batch.col(name)[where])
            counts = ptr[j + 1] - ptr[j]
            pos = np.repeat(where, counts)
            first = np.repeat(ptr[j] - (np.cumsum(counts) - counts), counts)
            keys = flat[first + np.arange(len(pos))]
            parts.append((keys, pos, pos + 1))
        # compiled patterns around their anchors: the C engine looks every token up in its
        # own hash table; the Python engine gets only positions that pass the numpy gate
        if use_c:
            fast = np.flatnonzero(inside) if inside is not None else np.arange(batch.n)
        else:
            gate = self._fast.gate(batch)
            if inside is not None:
                gate &= inside
            fast = np.flatnonzero(gate)
        if len(fast):
            parts.append(self._fast.match_arrays(batch, fast))
        # fallback: spaCy's Matcher on the docs themselves
        if self._always or len(self._slow_array):
            out: set[tuple[int, int, int]] = set()
            self._fallback(batch, inside, out)
            parts.append(triples_to_arrays(out))
        if not parts:
            return triples_to_arrays(())
        keys = np.concatenate([p[0] for p in parts]).astype(np.uint64, copy=False)
        starts = np.concatenate([p[1] for p in parts]).astype(np.int64, copy=False)
        ends = np.concatenate([p[2] for p in parts]).astype(np.int64, copy=False)
        order = np.lexsort((keys, ends, starts))
        keys, starts, ends = keys[order], starts[order], ends[order]
        if len(keys) > 1:
            new = np.ones(len(keys), dtype=bool)
            new[1:] = ((keys[1:] != keys[:-1]) | (starts[1:] != starts[:-1])
                       | (ends[1:] != ends[:-1]))
            keys, starts, ends = keys[new], starts[new], ends[new]
        return keys, starts, ends

    def _fallback(self, batch: TokenBatch, inside: Any, out: set[tuple[int, int, int]]
                  ) -> None:
        offsets = batch.offsets.tolist()
        if self._always:
            sents: Iterable[int] = range(len(batch.starts))
            if inside is not None:
                sents = np.flatnonzero(inside[batch.starts]).tolist()
            for k in sents:
                s, e = int(batch.starts[k]), int(batch.ends[k])
                d = batch.doc_index(s)
                off = offsets[d]
                span = batch.docs[d][s - off:e - off]
                out.update((key, s + a, s + b) for key, a, b in self._always_matcher(span))
        if len(self._slow_array):
            lowers = batch.col("LOWER")
            found = member(lowers, self._slow_array)
            if inside is not None:
                found &= inside
            slow = np.flatnonzero(found)
            if not len(slow):
                return
            s_lo, s_hi = batch.sent_bounds(slow)
            for i, s, e in zip(slow.tolist(), s_lo, s_hi, strict=True):
                matcher, reach = self._matchers[int(lowers[i])]
                lo, hi = max(s, i - reach + 1), min(e, i + reach)
                d = batch.doc_index(i)
                off = offsets[d]
                span = batch.docs[d][lo - off:hi - off]
                out.update((k, lo + a, lo + b) for k, a, b in matcher(span))

    def __call__(self, doc: Any, lowers: Any, sent_bounds: Iterable[tuple[int, int]], *,
                 lemmas: Any = None, is_start: Any = None) -> set[tuple[int, int, int]]:
        """(match_id, start, end) of all matches inside the given sentences of one doc.

        A one-doc convenience over :meth:`match_batch`; ``is_start`` (bool array of
        sentence starts) feeds patterns that test ``IS_SENT_START`` and defaults to the
        doc's own annotation.
        """
        bounds = list(sent_bounds)
        if not bounds or not len(doc):
            return set()
        batch = TokenBatch([doc], self.attrs)
        batch.set_col("LOWER", np.asarray(lowers, dtype=np.uint64))
        if lemmas is not None:
            batch.set_col("LEMMA", np.asarray(lemmas, dtype=np.uint64))
        marks = np.zeros(len(doc), dtype=bool)
        inside = np.zeros(len(doc), dtype=bool)
        for s, e in bounds:
            marks[s] = True
            if e < len(doc):
                marks[e] = True
            inside[s:e] = True
        batch.set_sentences(marks)
        if is_start is None:
            is_start = doc.to_array(SENT_START).astype(np.int64) == 1
        starts = np.asarray(is_start, dtype=bool).copy()
        starts[0] = True
        batch.set_col("IS_SENT_START", starts.astype(np.uint64))
        return self.match_batch(batch, inside)

    def __getstate__(self) -> dict[str, Any]:
        return {"vocab": self.vocab, "forms_of": None, "_fast": self._fast,
                "_groups": self._groups, "_always": self._always,
                "_direct_lower": self._direct_lower, "_direct_lemma": self._direct_lemma,
                "_compiled": False}
