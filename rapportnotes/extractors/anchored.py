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
            common = sum(1 for f in forms if f in STOP_WORDS or not any(c.isalnum() for c in f))
            score = len(forms) + 200 * common
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
        self._compiled = False

    def add(self, key: str, pattern: list[dict[str, Any]]) -> None:
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
        self._always_matcher = Matcher(self.vocab)
        for key, pattern in self._always:
            self._always_matcher.add(key, [pattern])
        self._compiled = True

    def anchors_in(self, lowers: Any) -> Any:
        """Boolean mask of tokens that are anchors of some pattern."""
        if not self._compiled:
            self._compile()
        return np.isin(lowers, self._anchor_array)

    @property
    def has_unanchored(self) -> bool:
        return bool(self._always)

    def __call__(self, doc: Any, lowers: Any, sent_bounds: Iterable[tuple[int, int]],
                 hits: Any = None) -> set[tuple[int, int, int]]:
        """(match_id, start, end) of all matches inside the given sentences."""
        if not self._compiled:
            self._compile()
        if hits is None:
            hits = self.anchors_in(lowers)
        out: set[tuple[int, int, int]] = set()
        for s, e in sent_bounds:
            if self._always:
                out.update((k, s + a, s + b) for k, a, b in self._always_matcher(doc[s:e]))
            idx = np.flatnonzero(hits[s:e])
            for i in idx.tolist():
                i += s
                matcher, reach = self._matchers[int(lowers[i])]
                lo, hi = max(s, i - reach + 1), min(e, i + reach)
                out.update((k, lo + a, lo + b) for k, a, b in matcher(doc[lo:hi]))
        return out

    def __getstate__(self) -> dict[str, Any]:
        return {"vocab": self.vocab, "forms_of": None, "_groups": self._groups,
                "_always": self._always, "_compiled": False}
