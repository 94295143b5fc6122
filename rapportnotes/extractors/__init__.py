"""Alliance-cue extraction from clinicians' free text (spaCy pipeline, rules as data).

Public API::

    extract_cues(text, *, source=None) -> list[Cue]
    CueExtractor(base=None).extract(text, *, source=None) -> list[Cue]
    CueExtractor(base=None).pipe(texts, *, batch_size=256, n_process=1, sources=None)
        -> Iterator[list[Cue]]
    build_pipeline(base=None) -> spacy.Language
    iter_cue_json_lines(text) -> Iterator[str]

The default pipeline is offline: ``spacy.blank("en")`` with clinical abbreviation
exceptions, ``rapport_cues`` (vectorised sentence splitter, lookup lemmas, compiled
anchor-driven matcher) and ``rapport_context``; ``CueExtractor`` then unites the rules with
the sentence model shipped in the package (``classifier.py``: vetoes, additions, calibrated
confidence) and attributes every cue's actor (``..actors``). Importing this package imports
spaCy; ``import rapportnotes`` does not. Nothing here logs or echoes clinical text.
"""

from __future__ import annotations

import dataclasses
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import spacy
from spacy.attrs import IDX, LENGTH, ORTH, SENT_START
from spacy.language import Language
from spacy.tokens import Doc

from ..actors import (
    Roster,
    absent_roles,
    attribute_actor,
    can_carry,
    role_mentions,
    text_names,
)
from ..cues import Cue
from ..errors import RapportNotesError
from .context import ContextAnnotator, context_of, is_finding
from .cue_ruler import EXCLUDED_KEY, SPANS_KEY, CueRuler
from .rules import RuleFileError

__all__ = [
    "SPANS_KEY",
    "BasePipelineNotFoundError",
    "ContextAnnotator",
    "CueExtractor",
    "CueRuler",
    "RuleFileError",
    "build_pipeline",
    "extract_cues",
    "iter_cue_json_lines",
]


class BasePipelineNotFoundError(RapportNotesError):
    """The named spaCy pipeline (e.g. ``en_core_web_sm``) is not installed."""


#: Abbreviations that end with a period in clinical notes but do not end a sentence.
CLINICAL_ABBREVIATIONS = (
    "pt.", "pts.", "cl.", "approx.", "min.", "mins.", "appt.", "appts.", "hx.", "tx.", "dx.",
    "wk.", "wks.", "hr.", "hrs.", "dr.", "mr.", "mrs.", "ms.", "vs.", "e.g.", "i.e.", "sx.",
    "f/u.", "yo.", "y.o.", "mo.", "mos.", "yr.", "yrs.", "sess.", "ther.",
)
#: Slashed shorthand kept as one token ("c/o" complains of, "w/o" without, "f/u" follow-up).
CLINICAL_SHORTHAND = ("c/o", "w/o", "w/", "f/u", "h/o", "s/p", "d/t", "b/c", "r/o", "n/s")
_SENT_CHARS = [".", "!", "?", "\n", "\n\n", "\n\n\n", " \n", "\n ", "…", "։", "؟", "。", "！", "？"]
#: Longest text handed to spaCy at once; longer texts are cut at paragraph/line breaks.
CHUNK_CHARS = 100_000
HOLD_CHARS = 500_000
"""At most about this much text is in the pipeline or waiting for the model at once: a
batch of short notes is far below it; a long text is worked through in a few chunks at a
time, so peak memory does not grow with the length of one text."""
_SURROGATES = re.compile("[\ud800-\udfff]")


def build_pipeline(base: str | None = None) -> Language:
    """The cue pipeline: ``spacy.blank("en")`` (default) or an installed pipeline ``base``.

    ``base`` names an installed spaCy package (``"en_core_web_sm"``) whose tokenizer,
    sentence boundaries and lemmas are then used; nothing is ever downloaded. Raises
    :class:`BasePipelineNotFoundError` when it is not installed.
    """
    if base is None:
        nlp = spacy.blank("en")
        for abbr in (*CLINICAL_ABBREVIATIONS, *CLINICAL_SHORTHAND):
            for form in {abbr, abbr.capitalize(), abbr.upper()}:
                nlp.tokenizer.add_special_case(form, [{"ORTH": form}])
        # sentence boundaries: set inside rapport_cues by a vectorised splitter with the
        # exact semantics of spaCy's Sentencizer (which loops over Token objects)
        cue_config: dict = {"sentences": _SENT_CHARS}
    else:
        if not spacy.util.is_package(base) and not spacy.util.ensure_path(base).exists():
            raise BasePipelineNotFoundError(
                f"spaCy pipeline {base!r} is not installed; install it with your package "
                "manager or use the default offline pipeline (base=None)")
        try:
            nlp = spacy.load(base)
        except OSError as exc:
            raise BasePipelineNotFoundError(f"spaCy pipeline {base!r} could not be loaded: "
                                            f"{exc.__class__.__name__}") from None
        if not (nlp.has_pipe("parser") or nlp.has_pipe("senter")
                or nlp.has_pipe("sentencizer")):
            nlp.add_pipe("sentencizer", config={"punct_chars": _SENT_CHARS})
        cue_config = {}
    nlp.add_pipe("rapport_cues", config=cue_config)
    nlp.add_pipe("rapport_context")
    nlp.max_length = max(nlp.max_length, 2 * CHUNK_CHARS)
    return nlp


def _clean(text: str) -> str:
    """Same-length copy of ``text`` that spaCy can encode (lone surrogates replaced)."""
    return _SURROGATES.sub("\ufffd", text) if _SURROGATES.search(text) else text


def _chunks(text: str, size: int = CHUNK_CHARS) -> Iterator[tuple[int, str]]:
    """Cut ``text`` into pieces of at most ``size`` chars at paragraph, line or word breaks."""
    start = 0
    n = len(text)
    while start < n:
        end = min(start + size, n)
        if end < n:
            for sep in ("\n\n", "\n", ". ", " "):
                cut = text.rfind(sep, start + size // 2, end)
                if cut != -1:
                    end = cut + len(sep)
                    break
        yield start, text[start:end]
        start = end


_ANYONE = Roster.unknown()
"""No session at hand: anyone named by role may be taking part (the session roster is
applied later, when suggestions are made)."""


def _roster_for(text: str) -> Roster:
    """Who may act in ``text`` before the session is known: anyone named by role, plus
    the names a group note gives (its client and the other members)."""
    roles = role_mentions(text)
    names = text_names(text, roles=roles)
    absent = absent_roles(text, roles=roles)
    if not names and not absent:
        return _ANYONE
    return dataclasses.replace(_ANYONE, names=names, absent=frozenset(absent))


def _doc_cues(doc: Doc, original: str, offset: int, source: str | None,
              spans_key: str, sentences: list[tuple[int, int, str]],
              roster: Roster = _ANYONE) -> list[Cue]:
    """The rule cues of one doc. ``sentences`` is the doc's sentence table (original
    offsets): a span's sentence is found by bisection, not by ``Span.sent``, which walks
    the doc's tokens back to the sentence start, making a Token object per step."""
    import bisect

    out = []
    if spans_key not in doc.spans:
        return out
    starts = [a for a, _, _ in sentences]
    for span in doc.spans[spans_key]:
        ctx = context_of(doc, span.start, span.end, span.label) or {
            "negated": False, "hypothetical": False, "historical": False,
            "uncertain": False, "experiencer": "client"}
        label = span.label_
        category, _, subtype = label.partition(".")
        start, end = offset + span.start_char, offset + span.end_char
        text = original[start:end]
        k = max(bisect.bisect_right(starts, start) - 1, 0)
        sentence = original[sentences[k][0]:sentences[k][1]].strip() if sentences else ""
        previous = sentences[k - 1][2] if sentences and k > 0 else ""
        who = attribute_actor(label, text, sentence, ctx["experiencer"], roster, previous)
        # values computed here are already of the model's types: built without
        # re-validation (Cue.trusted), which is most of a Cue's cost at this volume
        out.append(Cue.trusted({
            "label": label, "category": category, "subtype": subtype, "text": text,
            "start_char": start, "end_char": end, "sentence": sentence,
            "negated": ctx["negated"], "hypothetical": ctx["hypothetical"],
            "historical": ctx["historical"], "uncertain": ctx["uncertain"],
            "experiencer": ctx["experiencer"], "actor": who.actor, "actor_role": who.role,
            "is_finding": is_finding(label, ctx) and can_carry(label, who.actor),
            "source": source,
        }))
    return out


def _sentence_table(doc: Doc, offset: int, text: str, attr: int = ORTH
                    ) -> tuple[list[tuple[int, int, str]], list[Any], Any]:
    """Sentences of ``doc`` as (start, end, text) in the original's offsets, the token ids
    of each (``attr``: what the sentence model scores, see ``SentenceModel.attr``) and of
    the whole doc, read from a few arrays instead of iterating ``doc.sents`` (a Span and a
    Token object per token). ``text`` is the string the doc was made from (``doc.text``
    would re-join every token)."""
    if not len(doc):
        return [], [], np.zeros(0, dtype=np.uint64)
    raw = doc.to_array([attr, IDX, LENGTH, SENT_START])  # uint64
    table = raw.astype("int64")  # IDX, LENGTH, SENT_START (-1/0/1) as signed numbers
    orth = np.ascontiguousarray(raw[:, 0])
    if np.any(table[1:, 3] != 0):  # Doc.has_annotation("SENT_START"), without Token objects
        first = np.flatnonzero(table[:, 3] == 1)
        if not len(first) or first[0] != 0:
            first = np.concatenate(([0], first))
    else:
        first = np.zeros(1, dtype=np.int64)
    last = np.append(first[1:], len(doc)) - 1
    begins = table[first, 1]
    ends = table[last, 1] + table[last, 2]
    sents = [(offset + a, offset + e, text[a:e])
             for a, e in zip(begins.tolist(), ends.tolist(), strict=True)]
    orths = [orth[f:la + 1] for f, la in zip(first.tolist(), last.tolist(), strict=True)]
    return sents, orths, orth


def _clause_orths(chunks: list[tuple[Doc, int, Any]], cue: Cue,
                  sentence: tuple[int, int, str]) -> Any:
    """The model's token ids of the clause around ``cue`` (see ``classifier.clause_window``)."""
    from .classifier import clause_window

    s0, _, text = sentence
    window = clause_window(text, cue.start_char - s0, cue.end_char - s0)
    a = s0 + max(text.find(window), 0)
    for doc, offset, orth in reversed(chunks):
        if offset <= a:
            span = doc.char_span(a - offset, a - offset + len(window),
                                 alignment_mode="expand")
            if span is not None:
                return orth[span.start:span.end]
    return chunks[0][2][:0]


@dataclass
class _Ready:
    """One doc of a text (a text has one per chunk), waiting for one batched model call.

    Docs are united one by one — every rule of the union is local to a sentence and a
    sentence never spans two docs — so a long text's docs are let go as they are done
    instead of being held until its last chunk."""

    last: bool  # the text's last doc: its cues are complete after this one
    roster: Roster
    cues: list[Cue]
    sentences: list[tuple[int, int, str]]
    tag: str | None
    excluded: list[tuple[int, int, tuple[str, ...]]]
    orths: list[Any]  # the model's token ids of each sentence (SentenceModel.attr)
    chunks: list[tuple[Doc, int, Any]]  # the text's docs, their offsets and token ids


_SHIPPED = object()


class CueExtractor:
    """Reusable extractor around one spaCy pipeline (thread-safe for reading).

    ``model`` is the sentence model united with the rules (``classifier.py``): the one
    shipped in the package by default, a path to another, or None for the rules alone.
    """

    def __init__(self, base: str | None = None, *, model: object = _SHIPPED) -> None:
        from .classifier import SentenceModel, default_model_path

        self.nlp: Language = build_pipeline(base)
        self._base = base
        #: how the rules were made ready: "cache" (warm start, see ``warmstart.py``),
        #: "compiled" (and cached), or "off" / "lazy" (compiled at the first document)
        self.start = "lazy"
        if base is None:
            from . import warmstart

            self.start = warmstart.prepare(self.nlp)
        self.spans_key = self.nlp.get_pipe("rapport_cues").spans_key
        path = default_model_path() if model is _SHIPPED else model
        # the model scores this pipeline's tokens (the training tool uses its tokenizer too)
        self.model: SentenceModel | None = (
            None if path is None else SentenceModel(path, vocab=self.nlp.vocab))  # type: ignore[arg-type]

    def extract(self, text: str, *, source: str | None = None) -> list[Cue]:
        """All cue mentions in ``text`` (findings and non-findings), by start offset."""
        return next(self.pipe([text], source=source))

    def pipe(self, texts: Iterable[str], *, batch_size: int = 256, n_process: int = 1,
             source: str | None = None, sources: Iterable[str | None] | None = None
             ) -> Iterator[list[Cue]]:
        """Cue lists for many texts, in order (``n_process > 1`` uses worker processes).

        ``source`` tags every cue; ``sources`` (one per text) tags each text's cues, e.g.
        with the field path it came from. Batches are where the components are fast: one
        call over all of a note's fields beats one :meth:`extract` per field.

        With ``n_process > 1`` each worker runs the whole extraction (pipeline, sentence
        model, Cue building) on batches of ``batch_size`` texts and sends back plain cue
        values: handing spaCy's ``n_process`` only the pipeline left two thirds of the
        work in this process and serialised every Doc back to it (5x slower than one
        process). At most ``2 * n_process`` batches are in flight, so memory stays
        bounded on a long input.
        """
        tags = None if sources is None else list(sources)
        if n_process > 1:
            yield from self._pipe_workers(texts, batch_size, n_process, source, tags)
            return
        originals: dict[int, str] = {}
        rosters: dict[int, Roster] = {}
        meta: list[tuple[int, int, bool]] = []  # per chunk: text index, offset, is last
        pieces_text: dict[int, str] = {}  # per chunk still in the pipeline: its text

        def chunked() -> Iterator[str]:
            for i, text in enumerate(texts):
                if not isinstance(text, str):
                    raise TypeError(f"expected str, got {type(text).__name__}")
                if tags is not None and i >= len(tags):
                    raise ValueError("sources: fewer items than texts")
                originals[i] = text
                rosters[i] = _roster_for(text)
                pieces = list(_chunks(_clean(text))) or [(0, "")]
                for j, (offset, piece) in enumerate(pieces):
                    pieces_text[len(meta)] = piece
                    meta.append((i, offset, j == len(pieces) - 1))
                    yield piece

        attr = ORTH if self.model is None else self.model.attr
        current: list[Cue] = []  # the cues of the text being read (its docs so far)
        ready: list[_Ready] = []
        ready_texts = held = 0
        docs = (doc for group in _groups(chunked(), batch_size, HOLD_CHARS)
                for doc in self.nlp.pipe(group, batch_size=len(group)))
        for n, doc in enumerate(docs):
            i, offset, last = meta[n]
            tag = tags[i] if tags is not None else source
            piece = pieces_text.pop(n)
            sents, sent_orths, doc_orth = _sentence_table(doc, offset, piece, attr)
            roster = rosters[i]
            cues = _doc_cues(doc, originals[i], offset, tag, self.spans_key, sents, roster)
            if last:
                del originals[i], rosters[i]
            if self.model is None:
                current.extend(cues)
                if last:
                    yield sorted(current, key=_order)
                    current = []
                continue
            excluded = [(offset + s, offset + e, names)
                        for s, e, names in doc.user_data.get(EXCLUDED_KEY, ())]
            ready.append(_Ready(last, roster, cues, sents, tag, excluded, sent_orths,
                                [(doc, offset, doc_orth)]))
            ready_texts += last
            held += len(piece)
            if ready_texts >= batch_size or held >= HOLD_CHARS:
                yield from self._finish(ready, current)
                ready, ready_texts, held = [], 0, 0
        if ready:
            yield from self._finish(ready, current)

    def _finish(self, ready: list[_Ready], current: list[Cue]) -> Iterator[list[Cue]]:
        """Unite ``ready`` and yield each text completed by it; the cues of a text whose
        last doc is still to come stay in ``current`` (changed in place)."""
        for r, united in zip(ready, self._unite(ready), strict=True):
            current.extend(united)
            if r.last:
                yield list(current)
                current.clear()

    def _unite(self, ready: list[_Ready]) -> Iterator[list[Cue]]:
        """One model call over the sentences of many texts, a second one over the clauses
        of the rule findings their sentence alone would veto (see ``clause_window``)."""
        import bisect

        from .classifier import unite

        model = self.model
        assert model is not None
        probs = model.score_orths([o for r in ready for o in r.orths])
        per_text, k = [], 0
        windows: list[Any] = []
        asks: list[tuple[int, int]] = []  # (text index, cue index) per window
        for t, r in enumerate(ready):
            mine = probs[k:k + len(r.sentences)]
            k += len(r.sentences)
            per_text.append(mine)
            starts = [s for s, _, _ in r.sentences]
            for c, cue in enumerate(r.cues):
                if not cue.is_finding or not r.sentences:
                    continue
                j = max(bisect.bisect_right(starts, cue.start_char) - 1, 0)
                if mine[j].get(cue.label, 0.0) >= model.params.vet:
                    continue
                windows.append(_clause_orths(r.chunks, cue, r.sentences[j]))
                asks.append((t, c))
        clause: list[list[float | None]] = [[None] * len(r.cues) for r in ready]
        for (t, c), p in zip(asks, model.score_orths(windows), strict=True):
            clause[t][c] = p.get(ready[t].cues[c].label, 0.0)
        for t, r in enumerate(ready):
            yield unite(r.cues, r.sentences, per_text[t], model.params, source=r.tag,
                        roster=r.roster, excluded=r.excluded, clause_probs=clause[t],
                        owned=True, floor=model.floor)

    def _pipe_workers(self, texts: Iterable[str], batch_size: int, n_process: int,
                      source: str | None, tags: list[str | None] | None
                      ) -> Iterator[list[Cue]]:
        import collections
        import multiprocessing as mp
        import threading

        # fork (Linux) hands the workers this extractor as it is; elsewhere, or when this
        # process runs threads (fork would copy their locks), each worker builds its own
        forking = "fork" in mp.get_all_start_methods() and threading.active_count() == 1
        ctx = mp.get_context("fork" if forking else "spawn")
        model_path = None if self.model is None else str(self.model.path)
        global _INHERITED
        _INHERITED = self if forking else None
        pending: collections.deque[Any] = collections.deque()
        try:
            with ctx.Pool(n_process, initializer=_worker_start,
                          initargs=(None if forking else (self._base, model_path),)) as pool:
                for batch in _batches(texts, batch_size, source, tags):
                    pending.append(pool.apply_async(_worker_run, (batch,)))
                    while len(pending) >= 2 * n_process:
                        yield from _rebuilt(pending.popleft().get())
                while pending:
                    yield from _rebuilt(pending.popleft().get())
        finally:
            _INHERITED = None

    __call__ = extract


_INHERITED: CueExtractor | None = None
"""The extractor a forked worker inherits from the process that started it."""
_WORKER: CueExtractor | None = None


def _worker_start(config: tuple[str | None, str | None] | None) -> None:
    global _WORKER
    if config is None:
        _WORKER = _INHERITED
    else:
        base, model = config
        _WORKER = CueExtractor(base, model=model)


_FIELDS = tuple(Cue.model_fields)


def _worker_run(batch: list[tuple[str, str | None]]) -> list[list[tuple[Any, ...]]]:
    """One batch in a worker: cue values as tuples in field order (a third of the pickle
    of dicts, and no pydantic objects crossing the pipe)."""
    assert _WORKER is not None
    texts = [t for t, _ in batch]
    return [[tuple(c.__dict__.values()) for c in cues]
            for cues in _WORKER.pipe(texts, sources=[s for _, s in batch])]


def _rebuilt(results: list[list[tuple[Any, ...]]]) -> Iterator[list[Cue]]:
    for cues in results:
        yield [Cue.trusted(dict(zip(_FIELDS, values, strict=True))) for values in cues]


def _groups(pieces: Iterable[str], size: int, max_chars: int) -> Iterator[list[str]]:
    """Pieces in groups of at most ``size`` and (beyond a first piece) ``max_chars``: each
    group is one pipeline batch."""
    group: list[str] = []
    chars = 0
    for piece in pieces:
        if group and (len(group) >= size or chars + len(piece) > max_chars):
            yield group
            group, chars = [], 0
        group.append(piece)
        chars += len(piece)
    if group:
        yield group


def _batches(texts: Iterable[str], size: int, source: str | None,
             tags: list[str | None] | None) -> Iterator[list[tuple[str, str | None]]]:
    """(text, its source tag) in batches; the same input checks as the one-process path."""
    batch: list[tuple[str, str | None]] = []
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"expected str, got {type(text).__name__}")
        if tags is not None and i >= len(tags):
            raise ValueError("sources: fewer items than texts")
        batch.append((text, tags[i] if tags is not None else source))
        if len(batch) >= max(size, 1):
            yield batch
            batch = []
    if batch:
        yield batch


def _order(cue: Cue) -> tuple[int, int, str]:
    return cue.start_char, cue.end_char, cue.label


_default: CueExtractor | None = None
_default_lock = threading.Lock()


def _default_extractor() -> CueExtractor:
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = CueExtractor()
    return _default


def extract_cues(text: str, *, source: str | None = None) -> list[Cue]:
    """All alliance-cue mentions in ``text`` with their context, sorted by ``start_char``.

    Uses a module-level default :class:`CueExtractor`, built once on first call.
    Filter on ``cue.is_finding`` for the affirmed, present, right-person findings.
    """
    return _default_extractor().extract(text, source=source)


def iter_cue_json_lines(text: str) -> Iterator[str]:
    """One JSON object (``Cue.model_dump_json()``) per cue in ``text``, for the CLI."""
    for cue in extract_cues(text):
        yield cue.model_dump_json()
