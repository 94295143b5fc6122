"""The ``rapport_context`` component: ConText-style modifiers for each cue mention.

In the spirit of ConText (Harkema et al., 2009): trigger phrases (``patterns/context.jsonl``)
open a scope forward, backward or both; a scope ends at the sentence end, at a terminator
("but", "however", "although", ";", "today", "this session", ...), or after ``max_scope``
tokens. Pseudo-triggers ("no change", "not only", "no longer") cancel the triggers they
contain. Triggers inside a cue's own phrase belong to the cue ("did not attend",
"would not respond") and never modify it. A trigger inside quoted client speech only scopes
over the quotation.

The experiencer is the nearest *actor* (client, caregiver, therapist, third party) standing
in a subject position before the cue in its sentence (after the sentence start, punctuation
or a clause boundary such as "and", "when", "said"), outside quotations. Without one, the
cue belongs to the client, or, for repair strategies, to the therapist.

Results are stored in ``doc.user_data`` (so they survive ``Doc.to_bytes`` and
``nlp.pipe(n_process=...)``) and read through ``span._.rapport_context``, a dict with the
keys ``negated, hypothetical, historical, uncertain, experiencer, is_finding``.
The work done is proportional to the number of cues: only sentences holding a cue are
matched against the context rules.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import srsly
from spacy.attrs import IS_PUNCT, IS_TITLE, LEMMA, LENGTH, LOWER, ORTH, SENT_START, SPACY
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span
from spacy.util import ensure_path

from .anchored import AnchoredMatcher
from .cue_ruler import SPANS_KEY
from .rules import (
    CONTEXT_FILE,
    LEXICON_FILE,
    Compiler,
    ContextRule,
    RuleFileError,
    load_lexicon,
    packaged_text,
    read_jsonl,
)

MODIFIERS = ("negated", "hypothetical", "historical", "uncertain")
_QUOTES = frozenset({"'", '"', "“", "”", "‘", "’", "``", "''"})
_USER_KEY = "rapport_context"
_DETERMINERS = frozenset({"the", "this", "a", "an", "both", "our"})
_NOT_NAMES = frozenset({
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december", "monday", "tuesday", "wednesday", "thursday",
    "friday", "saturday", "sunday", "today", "writer", "therapist", "client", "when",
    "then", "during", "after", "before", "while", "telehealth", "session", "later"})
_SUBJECT_PRONOUNS = frozenset({"he", "she", "they", "i"})


def expected_experiencers(label: str) -> frozenset[str]:
    """Who a cue with ``label`` must be about to count as a finding (taxonomy rule)."""
    if label.startswith("repair.") and label != "repair.reengaged":
        return frozenset({"therapist"})
    return frozenset({"client", "caregiver"})


def default_experiencer(label: str) -> str:
    return "therapist" if "therapist" in expected_experiencers(label) else "client"


def is_finding(label: str, ctx: dict[str, Any]) -> bool:
    """Affirmed, present, and about the right person; uncertain mentions still count."""
    return (not ctx["negated"] and not ctx["hypothetical"] and not ctx["historical"]
            and ctx["experiencer"] in expected_experiencers(label))


def _get_context(span: Span) -> dict[str, Any] | None:
    value = span.doc.user_data.get((_USER_KEY, span.start_char, span.end_char, span.label_))
    if value is None:
        return None
    ctx = dict(zip((*MODIFIERS, "experiencer"), value, strict=True))
    ctx["is_finding"] = is_finding(span.label_, ctx)
    return ctx


if not Span.has_extension("rapport_context"):
    Span.set_extension("rapport_context", getter=_get_context)


@dataclass(frozen=True)
class _Hit:
    start: int
    end: int
    rule: ContextRule


class ContextAnnotator:
    """Assign negated / hypothetical / historical / uncertain / experiencer to cue spans."""

    def __init__(self, nlp: Language, name: str = "rapport_context", *,
                 spans_key: str = SPANS_KEY, context_rules: str | None = None,
                 lexicon: str | None = None, implicit_subject: bool = True) -> None:
        self.nlp = nlp
        self.implicit_subject = implicit_subject
        self.name = name
        self.spans_key = spans_key
        self._rules_text = context_rules if context_rules is not None else packaged_text(
            CONTEXT_FILE)
        self._lexicon_text = lexicon if lexicon is not None else packaged_text(LEXICON_FILE)
        self._compiled = False
        self._arr: _DocArrays | None = None

    def _compile(self) -> None:
        from .cue_ruler import _cached_lemma_table

        rules: list[ContextRule] = read_jsonl(self._rules_text, ContextRule, CONTEXT_FILE)
        compiler = Compiler(load_lexicon(self._lexicon_text), _cached_lemma_table())
        table = _cached_lemma_table()
        self._known_words = frozenset(table) | frozenset(table.values()) | _NOT_NAMES
        from .cue_ruler import LemmaLookup

        validator = Matcher(self.nlp.vocab, validate=True)
        self.matcher = AnchoredMatcher(self.nlp.vocab, LemmaLookup(table).forms_of)
        self.couples_matcher = Matcher(self.nlp.vocab, validate=True)
        self.rules: dict[int, ContextRule] = {}
        seen: set[str] = set()
        for rule in rules:
            if rule.id in seen:
                raise RuleFileError(f"{CONTEXT_FILE}: duplicate rule id {rule.id!r}")
            seen.add(rule.id)
            pattern = compiler.pattern_of(rule, CONTEXT_FILE, rule.id)
            try:
                validator.add(rule.id, [pattern])
            except Exception as exc:
                raise RuleFileError(f"{CONTEXT_FILE}, rule {rule.id!r}: {exc}") from None
            if rule.category == "couples":
                self.couples_matcher.add(rule.id, [pattern])
            else:
                self.matcher.add(rule.id, pattern)
            self.rules[self.nlp.vocab.strings.add(rule.id)] = rule
        self._compiled = True

    # ------------------------------------------------------------------ running
    def __call__(self, doc: Doc) -> Doc:
        if not self._compiled:
            self._compile()
        cues = doc.spans.get(self.spans_key, [])
        if not len(cues):
            return doc
        # one vectorised pass over the doc; everything after works on the cues' sentences
        cols = doc.to_array([LOWER, LEMMA, ORTH, IS_PUNCT, IS_TITLE, LENGTH, SPACY])
        lowers, lemmas = cols[:, 0], cols[:, 1]
        self._arr = _DocArrays(doc, cols)
        if doc.has_annotation("SENT_START"):
            is_start = doc.to_array(SENT_START).astype(np.int64) == 1
            is_start[0] = True
            starts = np.flatnonzero(is_start)
        else:
            starts = np.zeros(1, dtype=np.int64)
        ends = np.append(starts[1:], len(doc))
        by_sent: dict[tuple[int, int], list[Span]] = {}
        for cue in cues:
            k = int(np.searchsorted(starts, cue.start, side="right")) - 1
            by_sent.setdefault((int(starts[k]), int(ends[k])), []).append(cue)
        raw = self.matcher(doc, lowers, list(by_sent), None, lemmas)
        per_sent: dict[tuple[int, int], list[tuple[int, int, int]]] = {b: [] for b in by_sent}
        bounds = sorted(by_sent)
        b_starts = np.array([b[0] for b in bounds])
        for k, a, b in raw:
            i = int(np.searchsorted(b_starts, a, side="right")) - 1
            if i >= 0 and a < bounds[i][1]:
                per_sent[bounds[i]].append((k, a, b))
        for (s, e), sent_cues in by_sent.items():
            hits = self._hits(doc, s, e, per_sent[(s, e)])
            for cue in sent_cues:
                flags = self._modifiers(doc, s, e, cue, hits)
                exp = self._experiencer(doc, s, e, cue, hits, sent_cues)
                doc.user_data[(_USER_KEY, cue.start_char, cue.end_char, cue.label_)] = [
                    *flags, exp]
        self._arr = None
        return doc

    def _hits(self, doc: Doc, s: int, e: int, matches: list[tuple[int, int, int]]
              ) -> dict[str, list[_Hit]]:
        raw = [_Hit(a, b, self.rules[k]) for k, a, b in matches]
        # longest first, no overlaps within one category
        raw.sort(key=lambda h: (h.start - h.end, h.start))
        out: dict[str, list[_Hit]] = {}
        for hit in raw:
            same = out.setdefault(hit.rule.category, [])
            if any(o.start < hit.end and hit.start < o.end for o in same):
                continue
            same.append(hit)
        pseudo = out.pop("pseudo", [])
        if pseudo:
            for cat in MODIFIERS:
                if cat in out:
                    out[cat] = [h for h in out[cat] if not any(
                        p.start <= h.start and h.end <= p.end
                        and (p.rule.cancels is None or cat in p.rule.cancels)
                        for p in pseudo)]
        arr = self._arr
        orth = arr.orth[s:e]
        quotes = []
        for i in (np.flatnonzero(np.isin(orth, arr.quote_ids)) + s).tolist():
            if (arr.orth[i] in arr.apostrophes and i > s and arr.last_char_s(i - 1)
                    and i + 1 < e and not arr.punct[i + 1] and not arr.space[i - 1]):
                continue  # a possessive apostrophe ("Jones' car"), not a quotation mark
            quotes.append(i)
        regions = [(quotes[i], quotes[i + 1]) for i in range(0, len(quotes) - 1, 2)]
        out["_quotes"] = [_Hit(a, b + 1, _QUOTE_RULE) for a, b in regions]
        parens, stack = [], []
        for i in (np.flatnonzero(np.isin(orth, arr.paren_ids)) + s).tolist():
            if arr.orth[i] == arr.open_paren:
                stack.append(i)
            elif stack:
                parens.append(_Hit(stack.pop(), i + 1, _QUOTE_RULE))
        out["_regions"] = out["_quotes"] + parens
        return out

    @staticmethod
    def _region(pos: int, hits: dict[str, list[_Hit]], key: str = "_quotes"
                ) -> tuple[int, int] | None:
        """The quotation (or, with key="_regions", quotation/parenthesis) holding ``pos``."""
        for q in hits[key]:
            if q.start <= pos < q.end:
                return q.start, q.end
        return None

    def _modifiers(self, doc: Doc, s: int, e: int, cue: Span,
                   hits: dict[str, list[_Hit]]) -> list[bool]:
        terms = sorted(h.start for h in hits.get("terminate", ()))
        term_ends = sorted(h.end for h in hits.get("terminate", ()))
        flags = []
        cue_region = self._region(cue.start, hits, "_regions")
        for cat in MODIFIERS:
            found = False
            for trig in hits.get(cat, ()):
                if not trig.rule.applies(cue.label_):
                    continue
                if trig.start < cue.end and cue.start < trig.end:
                    continue  # the cue's own words ("did not attend")
                lo, hi = s, e
                region = self._region(trig.start, hits, "_regions")
                if region is not None:
                    lo, hi = region
                    if cue_region != region:
                        continue
                scope = trig.rule.max_scope
                if trig.end <= cue.start and trig.rule.direction in ("forward", "both"):
                    end = min([t for t in terms if t >= trig.end] + [hi])
                    if scope:
                        end = min(end, trig.end + scope)
                    found = cue.start < end
                elif cue.end <= trig.start and trig.rule.direction in ("backward", "both"):
                    start = max([t for t in term_ends if t <= trig.start] + [lo])
                    if scope:
                        start = max(start, trig.start - scope)
                    found = cue.end > start
                if found:
                    break
            flags.append(found)
        return flags

    def _experiencer(self, doc: Doc, s: int, e: int, cue: Span,
                     hits: dict[str, list[_Hit]], sent_cues: list[Span]) -> str:
        """Who the cue is about; None when the sentence names nobody before it."""
        if cue.kb_id_:  # the cue phrase names its own subject ("tension eased")
            return cue.kb_id_
        rule = self._agent_after(doc, e, cue, hits) or self._actor_before(doc, s, cue, hits)
        if rule is None:
            return self._implicit_subject(doc, s, cue, hits, sent_cues)
        if rule.couples_experiencer and self._couples(doc):
            return rule.couples_experiencer
        return rule.experiencer or "client"

    def _actor_before(self, doc: Doc, s: int, cue: Span,
                      hits: dict[str, list[_Hit]]) -> ContextRule | None:
        """The nearest actor before the cue that stands where a subject can stand."""
        bounds = hits.get("boundary", ())
        boundary_ends = {h.end for h in bounds} | {h.end for h in hits.get("terminate", ())}
        report_ends = {h.end for h in bounds if h.rule.id.startswith("bd-report")}
        quotes = hits["_quotes"]
        best: _Hit | None = None
        for actor in hits.get("actor", ()):
            if actor.end > cue.start or self._region(actor.start, hits) is not None:
                continue
            if actor.end < len(doc) and doc[actor.end].lower_ in ("'s", "’s", "'"):
                continue  # a possessor ("her sister's death"), not a subject
            first = actor.start
            if first > s and doc[first - 1].lower_ in _DETERMINERS:
                first -= 1  # "the client", "this writer"
            subject = (first == s or first in boundary_ends or doc[first - 1].is_punct
                       or doc[actor.start].lower_ in _SUBJECT_PRONOUNS
                       or actor.end == cue.start)
            if not subject:
                continue
            if first in report_ends and actor.end != cue.start and any(
                    actor.end <= q.start and q.end <= cue.start for q in quotes):
                continue  # subject of reported speech ('said writer "doesn't get it" and left')
            if best is None or actor.end > best.end:
                best = actor
        lo = best.end if best is not None else s
        arr = self._arr
        for i in range(cue.start - 1, lo - 1, -1):  # a client's name ("..., Kayla steered")
            if (i > s and arr.title[i] and arr.length[i] > 2
                    and (arr.punct[i - 1] or i in boundary_ends)):
                tok = doc[i]
                if tok.is_alpha and tok.lower_ not in self._known_words:
                    return _NAME_RULE
        return best.rule if best is not None else None

    @staticmethod
    def _agent_after(doc: Doc, e: int, cue: Span,
                     hits: dict[str, list[_Hit]]) -> ContextRule | None:
        """A passive agent or outside setting right after the cue ("cancelled by clinician",
        "quiet at her family reunion", "short answers to her supervisor")."""
        terms = [h.start for h in hits.get("terminate", ())]
        for agent in hits.get("agent", ()):
            if not agent.rule.applies(cue.label_):
                continue
            if agent.end < len(doc) and doc[agent.end].lower_ in ("'s", "’s"):
                continue  # "to his daughter's soccer season": a possessor, not a person
            limit = agent.rule.max_scope or 4
            if cue.start < agent.start <= cue.end + limit and agent.end > cue.end and not any(
                    cue.end <= t < agent.start for t in terms):
                return agent.rule
        return None

    def _implicit_subject(self, doc: Doc, s: int, cue: Span, hits: dict[str, list[_Hit]],
                          sent_cues: list[Span]) -> str:
        """Telegraphic notes drop the subject: a subjectless sentence is about whoever its
        first subjectless cue is about by default (a client behaviour or a therapist
        strategy), so "Arrived late ... and apologized" stays the client's apology."""
        if not self.implicit_subject:
            return default_experiencer(cue.label_)
        earlier = [o for o in sent_cues if o.start < cue.start
                   and self._actor_before(doc, s, o, hits) is None]
        first = min(earlier, default=cue,
                    key=lambda o: (o.start, not o.label_.startswith("repair.")))
        return default_experiencer(first.label_)

    def _couples(self, doc: Doc) -> bool:
        """Whether the note is about a couples/family session (cached per doc)."""
        key = (_USER_KEY, "couples")
        if key not in doc.user_data:
            found = False
            paired: set[int] = set()
            for k, a, _ in self.couples_matcher(doc):
                if not self.rules[k].pair:
                    found = True
                    break
                paired.add(doc[a].lemma or doc[a].lower)
            doc.user_data[key] = found or len(paired) > 1
        return bool(doc.user_data[key])

    # ------------------------------------------------------------------ serialisation
    def to_bytes(self, *, exclude: Iterable[str] = ()) -> bytes:
        return srsly.msgpack_dumps({"spans_key": self.spans_key, "rules": self._rules_text,
                                    "lexicon": self._lexicon_text})

    def from_bytes(self, data: bytes, *, exclude: Iterable[str] = ()) -> ContextAnnotator:
        msg = srsly.msgpack_loads(data)
        self._load(msg["spans_key"], msg["rules"], msg["lexicon"])
        return self

    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> None:
        path = ensure_path(path)
        path.mkdir(parents=True, exist_ok=True)
        srsly.write_json(path / "cfg.json", {"spans_key": self.spans_key})
        (path / CONTEXT_FILE).write_text(self._rules_text, encoding="utf-8")
        (path / LEXICON_FILE).write_text(self._lexicon_text, encoding="utf-8")

    def from_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> ContextAnnotator:
        path = ensure_path(path)
        self._load(srsly.read_json(path / "cfg.json")["spans_key"],
                   (path / CONTEXT_FILE).read_text(encoding="utf-8"),
                   (path / LEXICON_FILE).read_text(encoding="utf-8"))
        return self

    def _load(self, spans_key: str, rules: str, lexicon: str) -> None:
        self.spans_key, self._rules_text, self._lexicon_text = spans_key, rules, lexicon
        self._compile()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        for attr in ("matcher", "couples_matcher", "rules", "_known_words", "_arr"):
            state.pop(attr, None)
        state["_compiled"] = False
        return state


class _DocArrays:
    """Per-doc token attributes as numpy arrays, computed once per call."""

    def __init__(self, doc: Doc, cols: Any) -> None:
        strings = doc.vocab.strings
        self.doc = doc
        self.orth, self.punct, self.title = cols[:, 2], cols[:, 3], cols[:, 4]
        self.length, self.space = cols[:, 5], cols[:, 6]
        self.quote_ids = np.array([strings.add(q) for q in _QUOTES], dtype=cols.dtype)
        self.apostrophes = {int(strings.add("'")), int(strings.add("’"))}
        self.open_paren = int(strings.add("("))
        self.paren_ids = np.array([self.open_paren, strings.add(")")], dtype=cols.dtype)

    def last_char_s(self, i: int) -> bool:
        return self.doc[i].text[-1:] in "sS"


_QUOTE_RULE = ContextRule(id="_quote", category="boundary", seq="_")
_NAME_RULE = ContextRule(id="_name", category="actor", experiencer="client", seq="_")


@Language.factory("rapport_context", default_config={"spans_key": SPANS_KEY},
                  requires=["doc.spans"])
def make_context(nlp: Language, name: str, spans_key: str) -> ContextAnnotator:
    """Factory of the ``rapport_context`` component (entry point ``spacy_factories``)."""
    return ContextAnnotator(nlp, name, spans_key=spans_key)


__all__ = ["MODIFIERS", "ContextAnnotator", "default_experiencer", "expected_experiencers",
           "is_finding", "make_context"]
