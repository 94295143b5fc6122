"""An anchor-indexed wrapper around spaCy's ``Matcher``.

spaCy's ``Matcher`` tries every pattern at every token, so a few hundred rules cost far more
than tokenizing. Most rules have a rare *anchor*: a required token whose surface forms can be
listed (``refused``/``refuses``/... for ``refuse``). This class groups patterns by anchor
form and, for each occurrence of an anchor in a doc (found with one vectorised ``numpy.isin``
over the LOWER hashes), runs only that anchor's small matcher on a window around it. Patterns
without a usable anchor run over every sentence. Results equal those of one big Matcher
restricted to sentences (matches never cross a sentence boundary).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from spacy.lang.en.stop_words import STOP_WORDS
from spacy.matcher import Matcher
from spacy.vocab import Vocab

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
            spec = tok.get(attr)
            if isinstance(spec, str):
                values = [spec]
            elif isinstance(spec, dict) and set(spec) == {"IN"}:
                values = list(spec["IN"])
            else:
                continue
            forms: set[str] = set()
            for value in values:
                forms.add(value.lower())
                if attr == "LEMMA":
                    forms.update(forms_of.get(value, ()))
            # expected hits per word of running text: rare anchors mean few matcher calls
            score = sum(_frequency(f) for f in forms)
            if best is None or score < best[0]:
                best = (score, forms)
    return None if best is None else best[1]


class AnchoredMatcher:
    """Run many Matcher patterns only around their anchor words."""

    def __init__(self, vocab: Vocab, forms_of: Mapping[str, Iterable[str]]):
        self.vocab = vocab
        self.forms_of = forms_of
        self._groups: dict[int, list[tuple[str, list[dict[str, Any]]]]] = {}
        self._always: list[tuple[str, list[dict[str, Any]]]] = []
        self._direct_lower: dict[int, list[int]] = {}
        self._direct_lemma: dict[int, list[int]] = {}
        self._compiled = False

    def add(self, key: str, pattern: list[dict[str, Any]]) -> None:
        if len(pattern) == 1 and set(pattern[0]) <= {"LOWER", "LEMMA"} and len(pattern[0]) == 1:
            (attr, spec), = pattern[0].items()
            values = [spec] if isinstance(spec, str) else spec.get("IN") if isinstance(
                spec, dict) and set(spec) == {"IN"} else None
            if values is not None:  # one-token rule: a hash lookup, no Matcher
                table = self._direct_lower if attr == "LOWER" else self._direct_lemma
                k = self.vocab.strings.add(key)
                for value in values:
                    table.setdefault(self.vocab.strings.add(value), []).append(k)
                self._compiled = False
                return
        forms = _anchor(pattern, self.forms_of)
        if not forms:
            self._always.append((key, pattern))
            return
        for form in forms:
            self._groups.setdefault(self.vocab.strings.add(form), []).append((key, pattern))
        self._compiled = False

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
        self._anchor_array = np.array(sorted(self._groups), dtype=np.uint64)
        self._lower_array = np.array(sorted(self._direct_lower), dtype=np.uint64)
        self._lemma_array = np.array(sorted(self._direct_lemma), dtype=np.uint64)
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
        return np.isin(lowers, self._anchor_array) | np.isin(lowers, self._lower_array)

    def lemma_hits(self, lemmas: Any) -> Any:
        """Boolean mask of tokens whose lemma is a one-token LEMMA rule."""
        if not self._compiled:
            self._compile()
        return np.isin(lemmas, self._lemma_array)

    @property
    def has_unanchored(self) -> bool:
        """Whether some pattern has no anchor and must run over every sentence."""
        return bool(self._always)

    def __call__(self, doc: Any, lowers: Any, sent_bounds: Iterable[tuple[int, int]],
                 hits: Any = None, lemmas: Any = None) -> set[tuple[int, int, int]]:
        """(match_id, start, end) of all matches inside the given sentences."""
        if not self._compiled:
            self._compile()
        out: set[tuple[int, int, int]] = set()
        anchored = np.isin(lowers, self._anchor_array)
        direct_lower = np.isin(lowers, self._lower_array)
        direct_lemma = (np.isin(lemmas, self._lemma_array) if lemmas is not None
                        and len(self._lemma_array) else None)
        for s, e in sent_bounds:
            if self._always:
                out.update((k, s + a, s + b) for k, a, b in self._always_matcher(doc[s:e]))
            for i in np.flatnonzero(direct_lower[s:e]).tolist():
                i += s
                out.update((k, i, i + 1) for k in self._direct_lower[int(lowers[i])])
            if direct_lemma is not None:
                for i in np.flatnonzero(direct_lemma[s:e]).tolist():
                    i += s
                    out.update((k, i, i + 1) for k in self._direct_lemma[int(lemmas[i])])
            for i in np.flatnonzero(anchored[s:e]).tolist():
                i += s
                matcher, reach = self._matchers[int(lowers[i])]
                lo, hi = max(s, i - reach + 1), min(e, i + reach)
                out.update((k, lo + a, lo + b) for k, a, b in matcher(doc[lo:hi]))
        return out

    def __getstate__(self) -> dict[str, Any]:
        return {"vocab": self.vocab, "forms_of": None, "_groups": self._groups,
                "_always": self._always, "_direct_lower": self._direct_lower,
                "_direct_lemma": self._direct_lemma, "_compiled": False}
