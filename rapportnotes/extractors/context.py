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

Results are stored in ``doc.user_data`` as one list of plain rows per doc (so they survive
``Doc.to_bytes`` and ``nlp.pipe(n_process=...)``) and read through
``span._.rapport_context``, a dict with the keys ``negated, hypothetical, historical,
uncertain, experiencer, is_finding``. Only sentences holding a cue are matched against the
context rules; the per-sentence logic runs in the optional C helper (``_cmatch.context``)
when it is built, with the Python methods below as the reference implementation.
"""

from __future__ import annotations

import weakref
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import srsly
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span
from spacy.util import ensure_path, minibatch

from ..taxonomy import LABELS
from ._native import cmatch as _cmatch
from .anchored import AnchoredMatcher
from .batch import LEXICAL, CueTable, FormCache, LexemeTable, TokenBatch
from .compiled import CompiledComponent
from .cue_ruler import SPANS_KEY
from .rules import (
    CONTEXT_FILE,
    LEXICON_FILE,
    Compiler,
    ContextRule,
    RuleFileError,
    is_packaged,
    load_lexicon,
    packaged_text,
    read_jsonl,
)

MODIFIERS = ("negated", "hypothetical", "historical", "uncertain")
_LABEL_INDEX = {label: i for i, label in enumerate(LABELS)}
_CATEGORY_CODE = {"negated": 0, "hypothetical": 1, "historical": 2, "uncertain": 3,
                  "terminate": 4, "pseudo": 5, "actor": 6, "boundary": 7, "agent": 8}
_DIRECTION_CODE = {"forward": 1, "backward": 2, "both": 3}
#: up to this many docs (and tokens) per batch needing the couples check, it runs per doc
#: (spaCy's Matcher makes a Token object per token: fine for a few short notes, not for
#: one long text cut into chunks)
_COUPLES_PER_DOC_MAX = 24
_COUPLES_PER_DOC_TOKENS = 4000
# token flags shared with _cmatch.c (F_*)
_F_PUNCT, _F_TITLE, _F_SPACE, _F_POSS, _F_APOS_S, _F_DET, _F_SUBJ = 1, 2, 4, 8, 16, 32, 64
_F_QUOTE, _F_APOS, _F_OPEN, _F_CLOSE, _F_LAST_S, _F_NAME, _F_LONG = (
    128, 256, 512, 1024, 2048, 4096, 8192)
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


_DEFAULT_EXPERIENCER = {label: default_experiencer(label) for label in LABELS}
#: the experiencers rules can name (rules.Experiencer), in a fixed order for result codes
_EXPERIENCERS = ("client", "caregiver", "therapist", "third_party")


def is_finding(label: str, ctx: dict[str, Any]) -> bool:
    """Affirmed, present, and about the right person; uncertain mentions still count."""
    return (not ctx["negated"] and not ctx["hypothetical"] and not ctx["historical"]
            and ctx["experiencer"] in expected_experiencers(label))


#: doc.user_data key of a doc's context results: one row per cue span,
#: [token start, token end, label hash, modifier bits (negated=1, hypothetical=2,
#: historical=4, uncertain=8), experiencer] -- plain ints and strings, so the results
#: survive ``Doc.to_bytes`` and worker processes
_ROWS_KEY = (_USER_KEY, "spans")
_INDEX: weakref.WeakKeyDictionary[Doc, tuple[Any, dict[tuple[int, int, int], Any]]] = (
    weakref.WeakKeyDictionary())


def context_of(doc: Doc, start: int, end: int, label: int) -> dict[str, Any] | None:
    """The context of the cue span (token ``start``..``end``, label id ``label``) of ``doc``
    (a shared dict: read, never change it); None when the component did not see it. The
    extractor reads it here directly: ``span._.rapport_context`` builds an Underscore
    object per access, which costs more than the lookup."""
    rows = doc.user_data.get(_ROWS_KEY)
    if rows is None:
        return None
    cached = _INDEX.get(doc)
    if cached is None or cached[0] is not rows:
        cached = _INDEX[doc] = (rows, {(r[0], r[1], r[2]): r for r in rows})
    row = cached[1].get((start, end, label))
    if row is None:
        return None
    key = (row[3], row[4], label)
    ctx = _CONTEXTS.get(key)
    if ctx is None:
        bits = row[3]
        ctx = {name: bool(bits >> i & 1) for i, name in enumerate(MODIFIERS)}
        ctx["experiencer"] = row[4]
        ctx["is_finding"] = is_finding(doc.vocab.strings[label], ctx)
        if len(_CONTEXTS) < 65536:
            _CONTEXTS[key] = ctx
    return ctx


_CONTEXTS: dict[tuple[int, str, int], dict[str, Any]] = {}
"""Context dicts by (modifier bits, experiencer, label id): a few hundred distinct ones.
Shared, so read-only: :func:`context_of`'s callers must not change them."""


def _get_context(span: Span) -> dict[str, Any] | None:
    ctx = context_of(span.doc, span.start, span.end, span.label)
    return None if ctx is None else dict(ctx)  # the user's own copy


if not Span.has_extension("rapport_context"):
    Span.set_extension("rapport_context", getter=_get_context)


class _Hit(NamedTuple):
    """A matched trigger (token span) in a cue's sentence."""

    start: int
    end: int
    rule: ContextRule


class _Cue(NamedTuple):
    """The fields of a cue span the context logic reads (Span attributes are slow)."""

    start: int
    end: int
    label_: str
    kb_id_: str
    label: int


def _table_of(views: list[list[_Cue]]) -> CueTable:
    """A :class:`CueTable` of cue views (docs in order, cues in span-group order)."""
    flat = [cue for cues in views for cue in cues]
    n = len(flat)
    return CueTable(
        np.repeat(np.arange(len(views)), [len(cues) for cues in views]),
        np.fromiter((c.start for c in flat), dtype=np.int64, count=n),
        np.fromiter((c.end for c in flat), dtype=np.int64, count=n),
        np.fromiter((_LABEL_INDEX[c.label_] for c in flat), dtype=np.int64, count=n),
        [c.label for c in flat], [c.kb_id_ for c in flat])


class ContextAnnotator(CompiledComponent):
    """Assign negated / hypothetical / historical / uncertain / experiencer to cue spans."""

    def __init__(self, nlp: Language, name: str = "rapport_context", *,
                 spans_key: str = SPANS_KEY, context_rules: str | None = None,
                 lexicon: str | None = None, implicit_subject: bool = True) -> None:
        self.nlp = nlp
        self.implicit_subject = implicit_subject
        #: run the per-sentence logic in C (``_cmatch``) when it is importable
        self.prefer_c = True
        self.name = name
        self.spans_key = spans_key
        self._rules_text = context_rules if context_rules is not None else packaged_text(
            CONTEXT_FILE)
        self._lexicon_text = lexicon if lexicon is not None else packaged_text(LEXICON_FILE)
        #: skip spaCy's validation of the shipped rule files (validated by the tests)
        self.trust_packaged = True
        self._compiled = False
        self._arr: _DocArrays | None = None

    def _compile(self) -> None:
        from .cue_ruler import _cached_lemma_table

        rules: list[ContextRule] = read_jsonl(self._rules_text, ContextRule, CONTEXT_FILE)
        compiler = Compiler(load_lexicon(self._lexicon_text), _cached_lemma_table())
        table = _cached_lemma_table()
        self._known_words = frozenset(table) | frozenset(table.values()) | _NOT_NAMES
        from .cue_ruler import LemmaLookup

        validator = None if self.trust_packaged and is_packaged(self._rules_text, CONTEXT_FILE) \
            and is_packaged(self._lexicon_text, LEXICON_FILE) \
            else Matcher(self.nlp.vocab, validate=True)
        self.matcher = AnchoredMatcher(self.nlp.vocab, LemmaLookup(table).forms_of)
        self.couples_matcher = Matcher(self.nlp.vocab, validate=True)
        self.couples_fast = AnchoredMatcher(self.nlp.vocab, LemmaLookup(table).forms_of)
        self.rules: dict[int, ContextRule] = {}
        self._order: dict[int, int] = {}  # rule hash -> line order (deterministic ties)
        seen: set[str] = set()
        for rule in rules:
            if rule.id in seen:
                raise RuleFileError(f"{CONTEXT_FILE}: duplicate rule id {rule.id!r}")
            seen.add(rule.id)
            pattern = compiler.pattern_of(rule, CONTEXT_FILE, rule.id)
            try:
                if validator is not None:
                    validator.add(rule.id, [pattern])
            except Exception as exc:
                raise RuleFileError(f"{CONTEXT_FILE}, rule {rule.id!r}: {exc}") from None
            if rule.category == "couples":
                self.couples_matcher.add(rule.id, [pattern])
                self.couples_fast.add(rule.id, pattern)
            else:
                self.matcher.add(rule.id, pattern)
            key = self.nlp.vocab.strings.add(rule.id)
            self.rules[key] = rule
            self._order[key] = len(self._order)
        self._ids = _Ids(self.nlp.vocab.strings)
        self._applies_cache: dict[tuple[str, str], bool] = {}
        self._rules_by_index = sorted(self.rules.values(),
                                      key=lambda r: self._order.get(
                                          self.nlp.vocab.strings[r.id], 1 << 30))
        self._tables: tuple[Any, Any, Any] | None = None
        self._key_order: tuple[Any, Any] | None = None
        self._names: dict[int, str] = {}
        self._exp_codes: tuple[Any, Any] | None = None
        self._form_flags: FormCache | None = None
        self._lexemes = LexemeTable(self.nlp.vocab, LEXICAL)
        self._compiled = True

    # ------------------------------------------------------------------ running
    def __call__(self, doc: Doc) -> Doc:
        self._process([doc])
        return doc

    def pipe(self, stream: Iterable[Doc], *, batch_size: int = 128) -> Iterator[Doc]:
        """Process docs in batches (trigger lookups run once per batch, see :mod:`.batch`)."""
        for docs in minibatch(stream, size=batch_size):
            self._process(docs)
            yield from docs

    def _process(self, docs: list[Doc]) -> None:
        if not self._compiled:
            self._compile()
        key = self.spans_key
        work = [d for d in docs if key in d.spans and len(d.spans[key])]
        if not work:
            return
        batch = self._shared_batch(work)
        if batch is None:
            attrs = list(dict.fromkeys([*self.matcher.attrs, *_COLUMNS, "SENT_START"]))
            batch = TokenBatch(work, attrs, self._lexemes)
            batch.set_sentences(batch.col("SENT_START") == 1)
        offsets = batch.offsets.tolist()
        # the cues: from rapport_cues' own arrays when it just ran, else from the spans
        table = batch.cues
        views: list[list[_Cue]] | None = None
        if table is None:
            views = [self._views(doc.spans[key]) for doc in work]
            if self.prefer_c and _cmatch is not None and all(
                    cue.label_ in _LABEL_INDEX for cues in views for cue in cues):
                table = _table_of(views)
        use_c = table is not None and self.prefer_c and _cmatch is not None
        if use_c:
            assert table is not None
            cue_starts = batch.offsets[table.docs] + table.starts
        else:
            if views is None:
                views = [self._views(doc.spans[key]) for doc in work]
            cue_starts = np.fromiter(
                (offsets[d] + cue.start for d, cues in enumerate(views) for cue in cues),
                dtype=np.int64)
        # the sentences holding a cue: only they are matched against the context rules
        cue_sents = batch.sent_of[cue_starts].tolist()
        has_cue = np.zeros(len(batch.starts), dtype=bool)
        has_cue[cue_sents] = True
        keys, hit_starts, hit_ends = self.matcher.match_arrays(batch, has_cue[batch.sent_of])
        if use_c:
            assert table is not None
            self._process_c(batch, work, table, cue_sents, (keys, hit_starts, hit_ends))
            return
        assert views is not None
        per_sent: dict[int, list[tuple[int, int, int]]] = {}
        sids = batch.sent_of[hit_starts].tolist()
        for sid, triple in zip(sids, zip(keys.tolist(), hit_starts.tolist(), hit_ends.tolist(),
                                         strict=True), strict=True):
            per_sent.setdefault(sid, []).append(triple)
        columns = batch.lists(_COLUMNS)
        starts, ends = batch.starts.tolist(), batch.ends.tolist()
        # quotation marks and parentheses (rare): their positions, to skip most sentences
        special = np.flatnonzero(batch.member("ORTH", self._ids.special_array)).tolist()
        k = 0
        for d, doc in enumerate(work):
            off = offsets[d]
            self._arr = _DocArrays(doc, [c[off:offsets[d + 1]] for c in columns])
            results: list[tuple[int, int, int, int, str]] = []
            by_sent: dict[int, list[_Cue]] = {}
            for cue in views[d]:
                by_sent.setdefault(cue_sents[k], []).append(cue)
                k += 1
            for sid, sent_cues in by_sent.items():
                s, e = starts[sid] - off, ends[sid] - off
                local = [(m, a - off, b - off) for m, a, b in per_sent.get(sid, ())]
                lo = bisect_left(special, starts[sid])
                marks = special[lo:bisect_left(special, ends[sid], lo)]
                hits = self._hits(doc, s, e, local, [i - off for i in marks])
                for cue in sent_cues:
                    flags = self._modifiers(doc, s, e, cue, hits)
                    exp = self._experiencer(doc, s, e, cue, hits, sent_cues)
                    bits = sum(1 << i for i, on in enumerate(flags) if on)
                    results.append((cue.start, cue.end, cue.label, bits, exp))
            doc.user_data[_ROWS_KEY] = results
        self._arr = None

    def _shared_batch(self, work: list[Doc]) -> TokenBatch | None:
        """The token columns of ``work`` from the ``rapport_cues`` component that ran right
        before this one in the same ``nlp.pipe`` batch, or None.

        Used only when that component is this one's immediate predecessor in the pipeline
        (nothing in between could have changed the docs), writes this component's span
        group, and its current batch holds every doc of ``work`` (same objects, same
        lengths); otherwise the docs are read again.
        """
        from .cue_ruler import CueRuler

        names = [proc for _, proc in self.nlp.pipeline]
        here = next((i for i, proc in enumerate(names) if proc is self), None)
        if not here:
            return None
        source = names[here - 1]
        if not isinstance(source, CueRuler) or source.spans_key != self.spans_key:
            return None
        shared = source.shared_batch
        if shared is None:
            return None
        position = {id(doc): i for i, doc in enumerate(shared.docs)}
        lengths = np.diff(shared.offsets).tolist()
        keep = []
        for doc in work:
            i = position.get(id(doc))
            if i is None or shared.docs[i] is not doc or lengths[i] != len(doc):
                return None
            keep.append(i)
        needs = [*self.matcher.attrs, *_COLUMNS]
        if keep != sorted(keep) or not all(shared.has(a) for a in needs):
            return None
        return shared.subset(keep)

    def _views(self, spans: Iterable[Span]) -> list[_Cue]:
        """Cue views of ``spans``, label strings looked up once per label."""
        names = self._names
        strings = self.nlp.vocab.strings
        out = []
        for span in spans:
            label, kb = span.label, span.kb_id
            label_ = names.get(label)
            if label_ is None:
                label_ = names[label] = strings[label]
            kb_ = names.get(kb)
            if kb_ is None:
                kb_ = names[kb] = strings[kb] if kb else ""
            out.append(_Cue(span.start, span.end, label_, kb_, label))
        return out

    def _process_c(self, batch: TokenBatch, work: list[Doc], table: CueTable,
                   cue_sents: list[int], matches: tuple[Any, Any, Any]) -> None:
        """The per-sentence logic below (``_hits``, ``_modifiers``, ``_experiencer``) run
        by the compiled ``_cmatch.context`` over flat tables; same results (see tests)."""
        # cues, grouped by sentence (a stable sort keeps each sentence's cues in order)
        n = len(table.kbs)
        order = np.argsort(np.array(cue_sents, dtype=np.int64), kind="stable")
        picked = order.tolist()
        doc_of = table.docs[order]
        sids = np.array(cue_sents, dtype=np.int64)[order]
        offsets = batch.offsets
        local_starts, local_ends, labels = (table.starts[order], table.ends[order],
                                            table.labels[order])
        kbs = [table.kbs[i] for i in picked]
        label_hashes = [table.label_hashes[i] for i in picked]
        own = np.fromiter((1 if kb else 0 for kb in kbs), dtype=np.int64, count=n)
        cue_rows = np.column_stack([local_starts + offsets[doc_of], local_ends + offsets[doc_of],
                                    labels, own, batch.starts[sids], batch.ends[sids],
                                    offsets[doc_of + 1]])
        first = np.flatnonzero(np.concatenate([[True], sids[1:] != sids[:-1]]))
        counts = np.diff(np.append(first, n))
        # trigger matches grouped by sentence: rows (rule index, start, end)
        keys, hit_starts, hit_ends = matches
        hit_sents = batch.sent_of[hit_starts]
        by_sent = np.argsort(hit_sents, kind="stable")
        hit_sents = hit_sents[by_sent]
        hit_rows = np.column_stack([self._rule_index_of(keys[by_sent]), hit_starts[by_sent],
                                    hit_ends[by_sent]])
        lo = np.searchsorted(hit_sents, sids[first], side="left")
        hi = np.searchsorted(hit_sents, sids[first], side="right")
        groups = np.column_stack([first, counts, lo, hi - lo])
        tables = self._c_tables()
        result = _cmatch.context(
            self._token_flags(batch), tables[0], tables[1],
            np.ascontiguousarray(cue_rows, dtype=np.int64).reshape(-1),
            np.ascontiguousarray(groups, dtype=np.int64).reshape(-1),
            np.ascontiguousarray(hit_rows, dtype=np.int64).reshape(-1), tables[2],
            self.implicit_subject)
        out = np.frombuffer(result, dtype=np.int64).reshape(-1, 6)
        bits = (out[:, 0] | out[:, 1] << 1 | out[:, 2] << 2 | out[:, 3] << 3).tolist()
        exps = self._experiencers(batch, work, kbs, doc_of, labels, out[:, 4], out[:, 5])
        rows = list(zip(local_starts.tolist(), local_ends.tolist(), label_hashes, bits, exps,
                        strict=True))
        # one list of rows per doc (cues stay grouped by doc: sentences follow doc order)
        bounds = np.flatnonzero(np.concatenate([[True], doc_of[1:] != doc_of[:-1], [True]]))
        for lo_, hi_ in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
            work[int(doc_of[lo_])].user_data[_ROWS_KEY] = rows[lo_:hi_]

    def _experiencers(self, batch: TokenBatch, work: list[Doc], kbs: list[str],
                      doc_of: Any, labels: Any, kinds: Any, values: Any) -> list[str]:
        """Experiencer of each cue from the C result codes (see ``_cmatch.context``)."""
        names = list(_EXPERIENCERS)
        code = {name: i for i, name in enumerate(names)}

        def code_of(name: str) -> int:
            if name not in code:  # an experiencer another component put on its spans
                code[name] = len(names)
                names.append(name)
            return code[name]

        rules = self._rules_by_index
        if self._exp_codes is None:
            self._exp_codes = (
                np.array([code[r.experiencer or "client"] for r in rules], dtype=np.int64),
                np.array([code[_DEFAULT_EXPERIENCER[label]] for label in LABELS],
                         dtype=np.int64))
        rule_code, label_code = self._exp_codes
        result = np.zeros(len(kbs), dtype=np.int64)  # kind 2: a name, the client
        own = np.flatnonzero(kinds == 0)
        result[own] = [code_of(kbs[i]) for i in own.tolist()]
        by_rule = np.flatnonzero(kinds == 1)
        result[by_rule] = rule_code[values[by_rule]]
        implicit = np.flatnonzero(kinds == 3)
        result[implicit] = label_code[labels[values[implicit]]]
        # couples sessions: spouses/partners are clients. Whether a doc is one is decided
        # per doc (spaCy Matcher) when few docs ask, else for the whole batch at once
        asking = [i for i in by_rule.tolist() if rules[int(values[i])].couples_experiencer]
        flag_key = (_USER_KEY, "couples")
        pending = {id(work[int(doc_of[i])]) for i in asking} - {
            id(d) for d in work if flag_key in d.user_data}
        pending_tokens = sum(len(d) for d in work if id(d) in pending)
        per_doc = (len(pending) <= _COUPLES_PER_DOC_MAX
                   and pending_tokens <= _COUPLES_PER_DOC_TOKENS)
        couples = None if per_doc else self._couples_batch(batch)
        for i in asking:
            rule = rules[int(values[i])]
            doc = work[int(doc_of[i])]
            if flag_key not in doc.user_data and couples is not None:
                doc.user_data[flag_key] = couples[id(doc)]
            if self._couples(doc):
                result[i] = code_of(rule.couples_experiencer or "client")
        return [names[c] for c in result.tolist()]

    def _rule_index_of(self, keys: Any) -> Any:
        """Rule-file order index of each match id in ``keys``."""
        if self._key_order is None:
            pairs = sorted(self._order.items())
            self._key_order = (np.array([k for k, _ in pairs], dtype=np.uint64),
                               np.array([v for _, v in pairs], dtype=np.int64))
        sorted_keys, index = self._key_order
        return index[np.searchsorted(sorted_keys, keys)]

    def _c_tables(self) -> tuple[Any, Any, Any]:
        """Rule tables for ``_cmatch.context`` (rows in rule-file order)."""
        if self._tables is None:
            rules = self._rules_by_index
            rows = []
            applies = []
            for rule in rules:
                cancels = 15 if rule.cancels is None else sum(
                    1 << MODIFIERS.index(c) for c in rule.cancels)
                rows.append((_CATEGORY_CODE.get(rule.category, 99),
                             _DIRECTION_CODE[rule.direction], rule.max_scope or 0,
                             int(rule.id.startswith("bd-report")), cancels))
                applies.append(sum(1 << i for i, label in enumerate(LABELS)
                                   if rule.applies(label)))
            repair = sum(1 << i for i, label in enumerate(LABELS) if label.startswith("repair."))
            self._tables = (np.array(rows, dtype=np.int64).reshape(-1),
                            np.array(applies, dtype=np.uint64),
                            np.array([repair], dtype=np.uint64))
        return self._tables

    def _token_flags(self, batch: TokenBatch) -> Any:
        """Per-token bit flags the C logic reads (lexical ones cached per word form)."""
        uniq, inverse = batch.unique("ORTH")
        if self._form_flags is None:
            vocab = self.nlp.vocab
            self._form_flags = FormCache(lambda orth: self._form_flag(vocab[orth]))
        flags = self._form_flags.lookup(uniq)[inverse]
        return np.ascontiguousarray(flags | (batch.col("SPACY").astype(np.uint64)
                                             * np.uint64(_F_SPACE)))

    def _form_flag(self, lex: Any) -> int:
        text, lower = lex.orth_, lex.lower_
        flag = 0
        for bit, on in ((_F_PUNCT, lex.is_punct), (_F_TITLE, lex.is_title),
                        (_F_LONG, len(text) > 2),
                        (_F_POSS, lower in ("'s", "’s", "'")), (_F_APOS_S, lower in ("'s", "’s")),
                        (_F_DET, lower in _DETERMINERS), (_F_SUBJ, lower in _SUBJECT_PRONOUNS),
                        (_F_QUOTE, text in _QUOTES), (_F_APOS, text in ("'", "’")),
                        (_F_OPEN, text == "("), (_F_CLOSE, text == ")"),
                        (_F_LAST_S, text[-1:] in "sS"),
                        (_F_NAME, lex.is_alpha and lower not in self._known_words)):
            if on:
                flag |= bit
        return flag

    def _hits(self, doc: Doc, s: int, e: int, matches: list[tuple[int, int, int]],
              marks: list[int]) -> dict[str, Any]:
        """Triggers of the sentence by category, minus overlaps and pseudo-cancelled ones,
        plus its quotations and parentheses (``marks``: positions of quote/paren tokens)."""
        # longest first, then by position and rule-file order (deterministic whatever the
        # order the matcher found them in); within one category a trigger overlapping a
        # longer one is dropped, but rules matching the very same words all stay (a
        # forward and a backward rule for "last month" both apply)
        order = self._order
        ranked = sorted(matches, key=lambda m: (m[1] - m[2], m[1], order[m[0]]))
        out: dict[str, Any] = {}
        rules = self.rules
        for k, a, b in ranked:
            rule = rules[k]
            same = out.get(rule.category)
            if same is None:
                out[rule.category] = [_Hit(a, b, rule)]
                continue
            for o in same:
                if o.start < b and a < o.end and (o.start != a or o.end != b):
                    break
            else:
                same.append(_Hit(a, b, rule))
        pseudo = out.pop("pseudo", [])
        if pseudo:
            for cat in MODIFIERS:
                if cat in out:
                    out[cat] = [h for h in out[cat] if not any(
                        p.start <= h.start and h.end <= p.end
                        and (p.rule.cancels is None or cat in p.rule.cancels)
                        for p in pseudo)]
        terminate = out.get("terminate", ())
        bounds = out.get("boundary", ())
        out["_terms"] = sorted(h.start for h in terminate)
        out["_term_ends"] = sorted(h.end for h in terminate)
        out["_boundary_ends"] = {h.end for h in bounds} | {h.end for h in terminate}
        out["_report_ends"] = {h.end for h in bounds if h.rule.id.startswith("bd-report")}
        out["_actor_of"] = {}  # cue -> actor rule (memo for _actor_before)
        if not marks:
            out["_quotes"] = out["_regions"] = []
            return out
        arr = self._arr
        ids = self._ids
        orth = arr.orth
        quotes = []
        parens: list[_Hit] = []
        stack: list[int] = []
        for i in marks:
            o = orth[i]
            if o in ids.quotes:
                if (o in ids.apostrophes and i > s and arr.last_char_s(i - 1)
                        and i + 1 < e and not arr.punct[i + 1] and not arr.space[i - 1]):
                    continue  # a possessive apostrophe ("Jones' car"), not a quotation mark
                quotes.append(i)
            elif o == ids.open_paren:
                stack.append(i)
            elif o == ids.close_paren and stack:
                parens.append(_Hit(stack.pop(), i + 1, _QUOTE_RULE))
        regions = [(quotes[i], quotes[i + 1]) for i in range(0, len(quotes) - 1, 2)]
        out["_quotes"] = [_Hit(a, b + 1, _QUOTE_RULE) for a, b in regions]
        out["_regions"] = out["_quotes"] + parens
        return out

    @staticmethod
    def _region(pos: int, hits: dict[str, Any], key: str = "_quotes"
                ) -> tuple[int, int] | None:
        """The quotation (or, with key="_regions", quotation/parenthesis) holding ``pos``."""
        for q in hits[key]:
            if q.start <= pos < q.end:
                return q.start, q.end
        return None

    def _applies(self, rule: ContextRule, label: str) -> bool:
        key = (rule.id, label)
        hit = self._applies_cache.get(key)
        if hit is None:
            hit = self._applies_cache[key] = rule.applies(label)
        return hit

    def _modifiers(self, doc: Doc, s: int, e: int, cue: _Cue,
                   hits: dict[str, Any]) -> list[bool]:
        terms = hits["_terms"]
        term_ends = hits["_term_ends"]
        flags = []
        cue_region = self._region(cue.start, hits, "_regions") if hits["_regions"] else None
        for cat in MODIFIERS:
            found = False
            for trig in hits.get(cat, ()):
                if not self._applies(trig.rule, cue.label_):
                    continue
                if trig.start < cue.end and cue.start < trig.end:
                    continue  # the cue's own words ("did not attend")
                lo, hi = s, e
                region = self._region(trig.start, hits, "_regions") if hits[
                    "_regions"] else None
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

    def _experiencer(self, doc: Doc, s: int, e: int, cue: _Cue,
                     hits: dict[str, Any], sent_cues: list[_Cue]) -> str:
        """Who the cue is about; None when the sentence names nobody before it."""
        if cue.kb_id_:  # the cue phrase names its own subject ("tension eased")
            return cue.kb_id_
        rule = self._agent_after(doc, e, cue, hits) or self._actor_before(doc, s, cue, hits)
        if rule is None:
            return self._implicit_subject(doc, s, cue, hits, sent_cues)
        if rule.couples_experiencer and self._couples(doc):
            return rule.couples_experiencer
        return rule.experiencer or "client"

    def _actor_before(self, doc: Doc, s: int, cue: _Cue,
                      hits: dict[str, Any]) -> ContextRule | None:
        """The nearest actor before the cue that stands where a subject can stand."""
        memo = hits["_actor_of"]
        if cue in memo:
            return memo[cue]
        found = memo[cue] = self._find_actor_before(s, cue, hits)
        return found

    def _find_actor_before(self, s: int, cue: _Cue, hits: dict[str, Any]
                           ) -> ContextRule | None:
        boundary_ends = hits["_boundary_ends"]
        report_ends = hits["_report_ends"]
        quotes = hits["_quotes"]
        best: _Hit | None = None
        arr = self._arr
        ids = self._ids
        lower = arr.lower
        n = len(lower)
        for actor in hits.get("actor", ()):
            if actor.end > cue.start or (quotes and self._region(actor.start, hits)
                                         is not None):
                continue
            if actor.end < n and lower[actor.end] in ids.possessive:
                continue  # a possessor ("her sister's death"), not a subject
            first = actor.start
            if first > s and lower[first - 1] in ids.determiners:
                first -= 1  # "the client", "this writer"
            subject = (first == s or first in boundary_ends or arr.punct[first - 1]
                       or lower[actor.start] in ids.subject_pronouns
                       or actor.end == cue.start)
            if not subject:
                continue
            if first in report_ends and actor.end != cue.start and any(
                    actor.end <= q.start and q.end <= cue.start for q in quotes):
                continue  # subject of reported speech ('said writer "doesn't get it" and left')
            if best is None or actor.end > best.end:
                best = actor
        lo = best.end if best is not None else s
        for i in range(cue.start - 1, lo - 1, -1):  # a client's name ("..., Kayla steered")
            if (i > s and arr.title[i] and arr.length[i] > 2
                    and (arr.punct[i - 1] or i in boundary_ends)):
                tok = arr.doc[i]
                if tok.is_alpha and tok.lower_ not in self._known_words:
                    return _NAME_RULE
        return best.rule if best is not None else None

    def _agent_after(self, doc: Doc, e: int, cue: _Cue,
                     hits: dict[str, Any]) -> ContextRule | None:
        """A passive agent or outside setting right after the cue ("cancelled by clinician",
        "quiet at her family reunion", "short answers to her supervisor")."""
        agents = hits.get("agent")
        if not agents:
            return None
        terms = hits["_terms"]
        lower = self._arr.lower
        for agent in agents:
            if not self._applies(agent.rule, cue.label_):
                continue
            if agent.end < len(lower) and lower[agent.end] in self._ids.apostrophe_s:
                continue  # "to his daughter's soccer season": a possessor, not a person
            limit = agent.rule.max_scope or 4
            if cue.start < agent.start <= cue.end + limit and agent.end > cue.end and not any(
                    cue.end <= t < agent.start for t in terms):
                return agent.rule
        return None

    def _implicit_subject(self, doc: Doc, s: int, cue: _Cue, hits: dict[str, Any],
                          sent_cues: list[_Cue]) -> str:
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

    def _couples_batch(self, batch: TokenBatch) -> dict[int, bool]:
        """:meth:`_couples` for every doc of ``batch`` at once (keyed by ``id(doc)``): the
        couples rules matched over whole docs by the compiled matcher."""
        whole = batch.with_doc_sentences()
        keys, starts, _ = self.couples_fast.match_arrays(whole)
        found = {id(doc): False for doc in batch.docs}
        if not len(keys):
            return found
        docs = batch.doc_of[starts].tolist()
        lemmas, lowers = batch.col("LEMMA")[starts].tolist(), batch.col("LOWER")[starts].tolist()
        paired: dict[int, set[int]] = {}
        for key, d, lemma, lower in zip(keys.tolist(), docs, lemmas, lowers, strict=True):
            doc_id = id(batch.docs[d])
            if not self.rules[key].pair:
                found[doc_id] = True
            else:
                paired.setdefault(doc_id, set()).add(lemma or lower)
        for doc_id, values in paired.items():
            if len(values) > 1:
                found[doc_id] = True
        return found

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

    #: the attributes :meth:`_compile` sets, and tables built from them at the first
    #: document (see :class:`.compiled.CompiledComponent`)
    COMPILED = ("matcher", "couples_matcher", "couples_fast", "rules", "_known_words",
                "_ids", "_order", "_lexemes", "_applies_cache", "_rules_by_index",
                "_tables", "_key_order", "_names", "_exp_codes")
    TRANSIENT = ("_arr", "_form_flags")

    def _state_texts(self) -> tuple[str, ...]:
        return repr((self.spans_key, self.implicit_subject)), self._rules_text, \
            self._lexicon_text


class _Ids:
    """String hashes the context logic compares against, looked up once per component."""

    def __init__(self, strings: Any) -> None:
        def hashes(words: Iterable[str]) -> frozenset[int]:
            return frozenset(strings.add(w) for w in words)

        self.quotes = hashes(_QUOTES)
        self.apostrophes = hashes(("'", "’"))
        self.open_paren = strings.add("(")
        self.close_paren = strings.add(")")
        self.special_array = np.array(sorted(self.quotes | {self.open_paren,
                                                            self.close_paren}),
                                      dtype=np.uint64)
        self.possessive = hashes(("'s", "’s", "'"))
        self.apostrophe_s = hashes(("'s", "’s"))
        self.determiners = hashes(_DETERMINERS)
        self.subject_pronouns = hashes(_SUBJECT_PRONOUNS)


#: token columns the per-cue logic reads (besides the matcher's own)
_COLUMNS = ("ORTH", "IS_PUNCT", "IS_TITLE", "LENGTH", "SPACY", "LOWER")


class _DocArrays:
    """One doc's token columns as Python lists (cheap per-index reads in the cue logic)."""

    __slots__ = ("doc", "length", "lower", "orth", "punct", "space", "title")

    def __init__(self, doc: Doc, cols: list[list[int]]) -> None:
        self.doc = doc
        self.orth, self.punct, self.title, self.length, self.space, self.lower = cols

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
