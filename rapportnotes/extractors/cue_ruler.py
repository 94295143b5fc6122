"""The ``rapport_cues`` pipeline component: finds phrases that name alliance cues.

Rules are data (``patterns/cues.jsonl`` and the word lists in ``patterns/lexicon.jsonl``),
compiled to spaCy ``Matcher`` patterns over LEMMA and LOWER. Matches go to the span group
``doc.spans["rapport_cues"]`` with the taxonomy label as ``span.label_`` and the rule id as
``span.id_``; whether a mention is negated, planned, historical or someone else's is decided
afterwards by the ``rapport_context`` component.

Speed: docs are processed per ``nlp.pipe`` batch as token columns (:mod:`.batch`); lemmas
come from the spacy-lookups-data English lookup table, looked up once per distinct word
form; matching is anchor-driven (:mod:`.anchored`) and overlap resolution runs in the
optional C helper, with the Python code as the reference. Docs that already carry lemmas or
sentence boundaries (a statistical pipeline) keep them. See docs/extractor-performance.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, cast

import numpy as np
import srsly
from spacy.attrs import LEMMA, SENT_START
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span
from spacy.util import ensure_path, minibatch

from ..taxonomy import LABELS
from ._native import cmatch
from .anchored import AnchoredMatcher
from .batch import LEXICAL, CueTable, LexemeTable, TokenBatch
from .compiled import CompiledComponent
from .rules import (
    CUE_FILE,
    LEXICON_FILE,
    Compiler,
    CueRule,
    is_packaged,
    load_lexicon,
    packaged_text,
    read_jsonl,
)
from .sentences import SentenceSplitter

EXCLUDED_KEY = "rapport_excluded"
"""``doc.user_data`` key of the exclusion-rule matches (see ``CueRuler._note_exclusions``)."""
SPANS_KEY = "rapport_cues"
_LABEL_INDEX = {label: i for i, label in enumerate(LABELS)}
#: rank of each label (by index) in string order: spans sort by (start, end, label)
_LABEL_RANK = np.argsort(np.argsort(np.array(LABELS))).astype(np.int64)


def _label_mask(names: Iterable[str]) -> int:
    """Bits (by label index) of the labels named, categories expanded to their labels."""
    mask = 0
    for name in names:
        for i, label in enumerate(LABELS):
            if label == name or label.split(".", 1)[0] == name:
                mask |= 1 << i
    return mask
_LEMMA_TABLE_FILE = "lemma_lookup.msgpack"


_TABLE: dict[str, str] | None = None


def _cached_lemma_table() -> dict[str, str]:
    """The spacy-lookups-data English lemma lookup table, read once per process."""
    global _TABLE
    if _TABLE is None:
        import spacy_lookups_data

        path = Path(spacy_lookups_data.__file__).parent / "data" / "en_lemma_lookup.json.gz"
        table = srsly.read_gzip_json(path)
        merged: dict[str, str] = {}
        for key, value in table.items():
            merged.setdefault(str(key).lower(), str(value).lower())
        _TABLE = merged
    return _TABLE


_INVERSE: tuple[int, dict[str, tuple[str, ...]]] | None = None


def _inverse(table: dict[str, str]) -> dict[str, tuple[str, ...]]:
    """lemma -> forms for ``table``; shared by the components built on the same table."""
    global _INVERSE
    if _INVERSE is not None and _INVERSE[0] == id(table):
        return _INVERSE[1]
    inv: dict[str, list[str]] = {}
    for form, lemma in table.items():
        inv.setdefault(lemma, []).append(form)
    result = {lemma: tuple(sorted(forms)) for lemma, forms in inv.items()}
    if table is _TABLE:
        _INVERSE = (id(table), result)
    return result


class LemmaLookup:
    """A lower-case lemma lookup applied to a whole doc with numpy."""

    def __init__(self, table: dict[str, str]):
        self.table = table
        self._arrays: tuple[Any, Any] | None = None
        self._forms_of: dict[str, tuple[str, ...]] | None = None

    def lemma(self, word: str) -> str:
        low = word.lower()
        return self.table.get(low, low)

    @property
    def forms_of(self) -> dict[str, tuple[str, ...]]:
        """Inverse table: lemma -> its inflected forms (tuples: the garbage collector
        stops tracking them, which keeps full collections cheap in long batch runs)."""
        if self._forms_of is None:
            self._forms_of = _inverse(self.table)
        return self._forms_of

    def _hash_arrays(self, strings) -> tuple[Any, Any]:
        if self._arrays is None:
            keys = np.fromiter((strings.add(k) for k in self.table), dtype=np.uint64,
                               count=len(self.table))
            vals = np.fromiter((strings.add(v) for v in self.table.values()), dtype=np.uint64,
                               count=len(self.table))
            order = np.argsort(keys)
            self._arrays = (keys[order], vals[order])
        return self._arrays

    def lookup(self, strings: Any, lowers: Any) -> Any:
        """Lemma hashes for an array of LOWER hashes (unknown words are their own lemma)."""
        keys, vals = self._hash_arrays(strings)
        if not len(keys) or not len(lowers):
            return lowers
        idx = np.searchsorted(keys, lowers)
        idx[idx >= len(keys)] = 0
        return np.where(keys[idx] == lowers, vals[idx], lowers)

    def __getstate__(self) -> dict[str, Any]:
        return {"table": self.table}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["table"])  # type: ignore[misc]


def _expand(words: Iterable[str], lexicon: dict) -> list[str]:
    """Words of a ``require_sentence`` list, with ``@name`` lexicon entries spelled out."""
    out: list[str] = []
    for word in words:
        if word.startswith("@"):
            entry = lexicon.get(word[1:])
            if entry is None:
                from .rules import RuleFileError

                raise RuleFileError(f"{CUE_FILE}: unknown lexicon entry {word!r}")
            out.extend(entry.values)
        else:
            out.append(word)
    return out


def annotated(batch: TokenBatch) -> tuple[Any, Any]:
    """Per doc of ``batch`` (read with SENT_START and LEMMA): ``Doc.has_annotation`` for
    "SENT_START" and "LEMMA", from the columns instead of one Python-level scan per doc.

    Same rules as spaCy: a sentence-start value on any token but the first, a one-token doc,
    or a ``sents`` user hook mean sentences; any non-zero lemma means lemmas.
    """
    first = batch.offsets[:-1]
    lengths = np.diff(batch.offsets)
    has_sents = (np.logical_or.reduceat((batch.col("SENT_START") != 0) & ~batch.doc_start,
                                        first)
                 | (lengths == 1)
                 | np.array(["sents" in d.user_hooks for d in batch.docs], dtype=bool))
    has_lemmas = np.logical_or.reduceat(batch.col("LEMMA") != 0, first)
    return has_sents, has_lemmas


class CueRuler(CompiledComponent):
    """Match cue phrases from JSONL rules into ``doc.spans[spans_key]``.

    ``cue_rules``, ``lexicon`` and ``lemma_table`` default to the packaged data; a saved
    pipeline carries its own copies (see :meth:`to_disk`), so it keeps working the same even
    if the installed package's rules change.
    """

    def __init__(
        self,
        nlp: Language,
        name: str = "rapport_cues",
        *,
        spans_key: str = SPANS_KEY,
        lemmatize: bool = True,
        prefilter: bool = True,
        sentences: list[str] | None = None,
        cue_rules: str | None = None,
        lexicon: str | None = None,
    ) -> None:
        self.nlp = nlp
        self.name = name
        self.spans_key = spans_key
        self.lemmatize = lemmatize
        self.prefilter = prefilter
        self.sentences = list(sentences) if sentences is not None else None
        self._splitter = SentenceSplitter(self.sentences or ())
        self._cue_text = cue_rules if cue_rules is not None else packaged_text(CUE_FILE)
        self._lexicon_text = lexicon if lexicon is not None else packaged_text(LEXICON_FILE)
        self._lemmas: LemmaLookup | None = None
        #: skip spaCy's validation of the shipped rule files (validated by the tests)
        self.trust_packaged = True
        self._compiled = False
        #: the token columns of the batch being handed on by :meth:`pipe` (else None)
        self.shared_batch: TokenBatch | None = None

    # ------------------------------------------------------------------ set-up
    @property
    def lemmas(self) -> LemmaLookup:
        if self._lemmas is None:
            self._lemmas = LemmaLookup(_cached_lemma_table())
        return self._lemmas

    def _compile(self) -> None:
        rules: list[CueRule] = read_jsonl(self._cue_text, CueRule, CUE_FILE)
        lexicon = load_lexicon(self._lexicon_text)
        compiler = Compiler(lexicon, self.lemmas.table)
        strings = self.nlp.vocab.strings
        validator = None if self.trust_packaged and is_packaged(self._cue_text, CUE_FILE) \
            and is_packaged(self._lexicon_text, LEXICON_FILE) \
            else Matcher(self.nlp.vocab, validate=True)
        self.matcher = AnchoredMatcher(self.nlp.vocab, self.lemmas.forms_of)
        self.rules: dict[int, CueRule] = {}
        self._order: dict[str, int] = {}  # rule id -> line order (tie-break, see _match)
        seen: set[str] = set()
        from .rules import RuleFileError

        for rule in rules:
            if rule.id in seen:
                raise RuleFileError(f"{CUE_FILE}: duplicate rule id {rule.id!r}")
            seen.add(rule.id)
            pattern = compiler.pattern_of(rule, CUE_FILE, rule.id)
            key = strings.add(rule.id)
            try:
                if validator is not None:
                    validator.add(rule.id, [pattern])
            except Exception as exc:  # spaCy's pattern validation
                raise RuleFileError(f"{CUE_FILE}, rule {rule.id!r}: {exc}") from None
            self.matcher.add(rule.id, pattern)
            self.rules[key] = rule
            self._order[rule.id] = len(self._order)
        self._required = {
            key: frozenset(strings.add(compiler.lemma(w))
                           for w in _expand(rule.require_sentence, lexicon))
            for key, rule in self.rules.items() if rule.require_sentence
        }
        self._lexemes = LexemeTable(self.nlp.vocab, LEXICAL)
        #: rule id -> (label, rule id, experiencer) hashes for the spans it creates
        self._span_ids = {rule.id: (strings.add(rule.label or ""), strings.add(rule.id),
                                    strings.add(rule.experiencer or ""))
                          for rule in self.rules.values()}
        # rules by sorted match id, for vectorised lookups of match arrays
        ordered = sorted(self.rules)
        self._rule_keys = np.array(ordered, dtype=np.uint64)
        self._rule_list = [self.rules[k] for k in ordered]
        self._rule_needs = np.array([k in self._required and self.rules[k].exclude is None
                                     for k in ordered], dtype=bool)
        self._rule_span_ids = [self._span_ids[rule.id] for rule in self._rule_list]
        self._rule_excludes = np.array([rule.exclude is not None for rule in self._rule_list],
                                       dtype=bool)
        self._rule_tables = (
            np.array([_LABEL_INDEX.get(rule.label, -1) if rule.label else -1
                      for rule in self._rule_list], dtype=np.int64),
            np.array([self._order[rule.id] for rule in self._rule_list], dtype=np.int64),
            np.array([_label_mask(rule.exclude or ()) for rule in self._rule_list],
                     dtype=np.uint64))
        self._compiled = True

    # ------------------------------------------------------------------ running
    def __call__(self, doc: Doc) -> Doc:
        self._process([doc])
        return doc

    def pipe(self, stream: Iterable[Doc], *, batch_size: int = 128) -> Iterator[Doc]:
        """Process docs in batches: lemmas, sentence starts and anchor lookups run once
        per batch over the concatenated token columns (see :mod:`.batch`).

        While its docs are being handed on, the batch's token columns stay available as
        :attr:`shared_batch`, so a ``rapport_context`` component placed right after this
        one reads them instead of reading the docs again.
        """
        try:
            for docs in minibatch(stream, size=batch_size):
                self.shared_batch = self._process(docs)
                yield from docs
        finally:
            self.shared_batch = None

    def _process(self, docs: list[Doc]) -> TokenBatch | None:
        if not self._compiled:
            self._compile()
        work = []
        for doc in docs:
            if len(doc):
                work.append(doc)
            else:
                doc.spans[self.spans_key] = []
        if not work:
            return None
        attrs = list(dict.fromkeys([*self.matcher.attrs, "ORTH", "IS_PUNCT", "SENT_START",
                                    "SPACY", "LEMMA"]))
        batch = TokenBatch(work, attrs, self._lexemes)
        lengths = np.diff(batch.offsets)
        # docs that already carry sentence boundaries / lemmas keep them (a parse or an
        # earlier component wins over ours)
        has_sents, has_lemmas = annotated(batch)
        split = ~has_sents if self.sentences is not None else np.zeros(len(work), dtype=bool)
        lemmatize = ~has_lemmas if self.lemmatize else np.zeros(len(work), dtype=bool)
        # sentence boundaries: kept where a doc has them, else the Sentencizer's rule
        given = None if split.all() else batch.col("SENT_START") == 1
        if split.any():
            computed = self._splitter.batch_starts(batch)
            is_start = computed if split.all() else np.where(
                np.repeat(split, lengths), computed, given)
        else:
            is_start = given
        batch.set_sentences(is_start)
        # lookup lemmas where a doc has none
        if lemmatize.any():
            forms = batch.form_col("LOWER")
            if forms is not None:  # per distinct form, then spread to tokens
                looked = self.lemmas.lookup(self.nlp.vocab.strings, forms)[
                    batch.unique("ORTH")[1]]
            else:
                uniq, inverse = batch.unique("LOWER")
                looked = self.lemmas.lookup(self.nlp.vocab.strings, uniq)[inverse]
            batch.set_col("LEMMA", looked if lemmatize.all() else np.where(
                np.repeat(lemmatize, lengths), looked, batch.col("LEMMA")))
        self._write_back(batch, lemmatize.tolist(), split.tolist())
        keys, starts, ends = self.matcher.match_arrays(batch)
        rule_at = np.searchsorted(self._rule_keys, keys)
        ok = self._required_ok(batch, keys, starts, rule_at)
        if ok is not None:
            keys, starts, ends, rule_at = keys[ok], starts[ok], ends[ok], rule_at[ok]
        self._note_exclusions(batch, starts, ends, rule_at)
        if cmatch is not None:
            self._resolve_c(batch, starts, ends, rule_at)
            return batch
        for doc, (keep, excludes) in zip(work, self._select(batch, starts, ends, rule_at),
                                         strict=True):
            doc.spans[self.spans_key] = self._resolve(doc, keep, excludes) if (
                keep or excludes) else []
        return batch

    def _note_exclusions(self, batch: TokenBatch, starts: Any, ends: Any, rule_at: Any
                         ) -> None:
        """Record where exclusion rules matched, as ``doc.user_data[EXCLUDED_KEY]`` =
        [(start_char, end_char, (label or category, …)), …], so a later stage (the sentence
        model) knows the rules ruled those senses out there. The same for both engines:
        it reads the match arrays before they diverge."""
        rows = np.flatnonzero(self._rule_excludes[rule_at]) if len(rule_at) else ()
        for row in rows.tolist() if len(rows) else ():
            d = int(batch.doc_of[starts[row]])
            doc = batch.docs[d]
            s = int(starts[row] - batch.offsets[d])
            e = int(ends[row] - batch.offsets[d])
            names = tuple(self._rule_list[int(rule_at[row])].exclude or ())
            doc.user_data.setdefault(EXCLUDED_KEY, []).append(
                (doc[s].idx, doc[e - 1].idx + len(doc[e - 1]), names))

    def _resolve_c(self, batch: TokenBatch, starts: Any, ends: Any, rule_at: Any) -> None:
        """:meth:`_select` + :meth:`_resolve` in C (``_cmatch.resolve``); same spans."""
        docs = batch.doc_of[starts]
        label, order, excludes = self._rule_tables
        chosen = np.frombuffer(cmatch.resolve(
            np.ascontiguousarray(docs, dtype=np.int64), np.ascontiguousarray(starts),
            np.ascontiguousarray(ends), np.ascontiguousarray(rule_at, dtype=np.int64),
            label, order, excludes, _LABEL_RANK), dtype=np.int64)
        cue_docs = docs[chosen]
        local = starts[chosen] - batch.offsets[cue_docs]
        span_ends = ends[chosen] - batch.offsets[cue_docs]
        rules = rule_at[chosen].tolist()
        ids = self._rule_span_ids
        per_doc: list[list[Span]] = [[] for _ in batch.docs]
        for d, s, e, r in zip(cue_docs.tolist(), local.tolist(), span_ends.tolist(), rules,
                              strict=True):
            lab, sid, kb = ids[r]
            per_doc[d].append(Span(batch.docs[d], s, e, label=lab, span_id=sid, kb_id=kb))
        for doc, spans in zip(batch.docs, per_doc, strict=True):
            doc.spans[self.spans_key] = spans
        rule_list = self._rule_list
        batch.cues = CueTable(cue_docs, local, span_ends, label[rule_at[chosen]],
                              [ids[r][0] for r in rules],
                              [rule_list[r].experiencer or "" for r in rules])

    def _required_ok(self, batch: TokenBatch, keys: Any, starts: Any, rule_at: Any
                     ) -> Any | None:
        """Mask of the matches whose rule's ``require_sentence`` words are present in the
        sentence (None: no match has such a rule)."""
        if not len(keys):
            return None
        check = np.flatnonzero(self._rule_needs[rule_at])
        if not len(check):
            return None
        keep_row = np.ones(len(keys), dtype=bool)
        lemmas = batch.col("LEMMA")
        sent_lemmas: dict[int, set[int]] = {}
        sids = batch.sent_of[starts[check]].tolist()
        for row, key, sid in zip(check.tolist(), keys[check].tolist(), sids, strict=True):
            present = sent_lemmas.get(sid)
            if present is None:
                present = sent_lemmas[sid] = set(
                    lemmas[batch.starts[sid]:batch.ends[sid]].tolist())
            if self._required[key].isdisjoint(present):
                keep_row[row] = False
        return keep_row

    @staticmethod
    def _write_back(batch: TokenBatch, lemmatize: list[bool], split: list[bool]) -> None:
        """Store looked-up lemmas and computed sentence starts on the docs (one
        ``from_array`` per doc that needs either)."""
        if not any(lemmatize) and not any(split):
            return
        table = np.empty((batch.n, 2), dtype=np.uint64)
        table[:, 0] = batch.col("LEMMA")
        table[:, 1] = np.where(batch.is_start, 1, -1).astype(np.int64).astype(np.uint64)
        offsets = batch.offsets.tolist()
        for d, doc in enumerate(batch.docs):
            rows = table[offsets[d]:offsets[d + 1]]
            if lemmatize[d] and split[d]:
                doc.from_array([LEMMA, SENT_START], cast(Any, rows))
            elif lemmatize[d]:
                doc.from_array([LEMMA], cast(Any, rows[:, :1].copy()))
            elif split[d]:
                doc.from_array([SENT_START], cast(Any, rows[:, 1:].copy()))

    def _select(self, batch: TokenBatch, starts: Any, ends: Any, rule_at: Any
                ) -> list[tuple[list[tuple[int, int, CueRule]], list[tuple[int, int, CueRule]]]]:
        """Per doc: kept matches and exclusion matches, doc-local (pure-Python path)."""
        out: list[tuple[list[tuple[int, int, CueRule]], list[tuple[int, int, CueRule]]]] = [
            ([], []) for _ in batch.docs]
        if not len(starts):
            return out
        docs = batch.doc_of[starts]
        local = batch.offsets[docs]
        rules = self._rule_list
        order = self._order
        for d, s, e, r in zip(docs.tolist(), (starts - local).tolist(), (ends - local).tolist(),
                              rule_at.tolist(), strict=True):
            rule = rules[r]
            out[d][1 if rule.exclude is not None else 0].append((s, e, rule))
        for keep, _ in out:
            if len(keep) > 1:
                # deterministic ties (same span, several rules of one label): first rule wins
                keep.sort(key=lambda m: order[m[2].id])
        return out

    def _resolve(self, doc: Doc, keep: list[tuple[int, int, CueRule]],
                 excludes: list[tuple[int, int, CueRule]]) -> list[Span]:
        """Per label, the longest match wins and same-label overlaps are dropped; a match
        overlapping an exclusion rule for its label or category is dropped."""
        blockers: dict[str, list[tuple[int, int]]] = {}
        for xs, xe, r in excludes:
            for name in r.exclude or ():
                blockers.setdefault(name, []).append((xs, xe))
        keep.sort(key=lambda m: (m[0] - m[1], m[0]))
        taken: dict[str, list[tuple[int, int]]] = {}
        chosen: list[tuple[int, int, str, CueRule]] = []
        for s, e, rule in keep:
            label = rule.label or ""
            spans = taken.get(label)
            if spans is None:
                spans = taken[label] = []
            elif any(ts < e and s < te for ts, te in spans):
                continue
            if blockers:
                near = (blockers.get(label, []) + blockers.get(label.split(".", 1)[0], []))
                if any(xs < e and s < xe for xs, xe in near):
                    continue
            spans.append((s, e))
            chosen.append((s, e, label, rule))
        chosen.sort(key=lambda c: (c[0], c[1], c[2]))
        ids = self._span_ids
        return [Span(doc, s, e, label=ids[rule.id][0], span_id=ids[rule.id][1],
                     kb_id=ids[rule.id][2]) for s, e, _, rule in chosen]

    # ------------------------------------------------------------------ serialisation
    def _cfg(self) -> dict[str, Any]:
        return {"spans_key": self.spans_key, "lemmatize": self.lemmatize,
                "prefilter": self.prefilter, "sentences": self.sentences}

    def to_bytes(self, *, exclude: Iterable[str] = ()) -> bytes:
        return srsly.msgpack_dumps({"cfg": self._cfg(), "cues": self._cue_text,
                                    "lexicon": self._lexicon_text,
                                    "lemmas": self.lemmas.table})

    def from_bytes(self, data: bytes, *, exclude: Iterable[str] = ()) -> CueRuler:
        msg = srsly.msgpack_loads(data)
        self._load(msg["cfg"], msg["cues"], msg["lexicon"], msg["lemmas"])
        return self

    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> None:
        path = ensure_path(path)
        path.mkdir(parents=True, exist_ok=True)
        srsly.write_json(path / "cfg.json", self._cfg())
        (path / CUE_FILE).write_text(self._cue_text, encoding="utf-8")
        (path / LEXICON_FILE).write_text(self._lexicon_text, encoding="utf-8")
        srsly.write_msgpack(path / _LEMMA_TABLE_FILE, self.lemmas.table)

    def from_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> CueRuler:
        path = ensure_path(path)
        self._load(srsly.read_json(path / "cfg.json"),
                   (path / CUE_FILE).read_text(encoding="utf-8"),
                   (path / LEXICON_FILE).read_text(encoding="utf-8"),
                   srsly.read_msgpack(path / _LEMMA_TABLE_FILE))
        return self

    def _load(self, cfg: dict[str, Any], cues: str, lexicon: str, lemmas: dict) -> None:
        self.spans_key = cfg.get("spans_key", self.spans_key)
        self.lemmatize = cfg.get("lemmatize", self.lemmatize)
        self.prefilter = cfg.get("prefilter", self.prefilter)
        self.sentences = cfg.get("sentences", self.sentences)
        self._splitter = SentenceSplitter(self.sentences or ())
        self._cue_text, self._lexicon_text = cues, lexicon
        self._lemmas = LemmaLookup(dict(lemmas))
        self._compiled = False
        self._compile()

    #: the attributes :meth:`_compile` sets (see :class:`.compiled.CompiledComponent`)
    COMPILED = ("matcher", "rules", "_required", "_order", "_lexemes", "_span_ids",
                "_rule_keys", "_rule_list", "_rule_needs", "_rule_span_ids",
                "_rule_excludes", "_rule_tables")
    TRANSIENT = ("shared_batch",)

    def _state_texts(self) -> tuple[str, ...]:
        cfg = repr((self.spans_key, self.lemmatize, self.prefilter, self.sentences,
                    self._lemmas is None))
        return cfg, self._cue_text, self._lexicon_text

    def _extra_state(self) -> dict[str, Any]:
        # the lemma table, and its hash arrays (40k string adds to rebuild)
        return {"lemmas": self.lemmas,
                "lemma_arrays": self.lemmas._hash_arrays(self.nlp.vocab.strings)}

    def _adopt_extra(self, state: dict[str, Any]) -> None:
        self._lemmas = state["lemmas"]
        self._lemmas._arrays = state["lemma_arrays"]


@Language.factory(
    "rapport_cues",
    default_config={"spans_key": SPANS_KEY, "lemmatize": True, "prefilter": True,
                    "sentences": None},
    assigns=["doc.spans", "token.lemma", "token.is_sent_start"],
)
def make_cue_ruler(nlp: Language, name: str, spans_key: str, lemmatize: bool,
                   prefilter: bool, sentences: list[str] | None = None) -> CueRuler:
    """Factory of the ``rapport_cues`` component (entry point ``spacy_factories``).

    ``sentences``: sentence-final characters; when given, docs without sentence boundaries
    get them from a vectorised splitter with the semantics of spaCy's ``Sentencizer``
    (the default pipeline uses this instead of a separate sentencizer component).
    """
    return CueRuler(nlp, name, spans_key=spans_key, lemmatize=lemmatize, prefilter=prefilter,
                    sentences=sentences)


__all__: list[str] = ["SPANS_KEY", "CueRuler", "LemmaLookup", "make_cue_ruler"]
