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

from ..actors import Roster, attribute_actor, can_carry
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


def _doc_cues(doc: Doc, original: str, offset: int, source: str | None,
              spans_key: str, sentences: list[tuple[int, int, str]]) -> list[Cue]:
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
        who = attribute_actor(label, text, sentence, ctx["experiencer"], _ANYONE)
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


def _sentence_table(doc: Doc, offset: int, text: str
                    ) -> tuple[list[tuple[int, int, str]], list[Any], Any]:
    """Sentences of ``doc`` as (start, end, text) in the original's offsets, the ORTH ids
    of each (what the sentence model scores) and of the whole doc, read from a few arrays
    instead of iterating ``doc.sents`` (a Span and a Token object per token). ``text`` is
    the string the doc was made from (``doc.text`` would re-join every token)."""
    if not len(doc):
        return [], [], np.zeros(0, dtype=np.uint64)
    raw = doc.to_array([ORTH, IDX, LENGTH, SENT_START])  # uint64
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
    """ORTH ids of the clause around ``cue`` (see ``classifier.clause_window``)."""
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
    """A text whose docs are all in: waiting for one batched model call."""

    cues: list[Cue]
    sentences: list[tuple[int, int, str]]
    tag: str | None
    excluded: list[tuple[int, int, tuple[str, ...]]]
    orths: list[Any]  # ORTH ids of each sentence
    chunks: list[tuple[Doc, int, Any]]  # the text's docs, their offsets and ORTH ids


_SHIPPED = object()


class CueExtractor:
    """Reusable extractor around one spaCy pipeline (thread-safe for reading).

    ``model`` is the sentence model united with the rules (``classifier.py``): the one
    shipped in the package by default, a path to another, or None for the rules alone.
    """

    def __init__(self, base: str | None = None, *, model: object = _SHIPPED) -> None:
        from .classifier import SentenceModel, default_model_path

        self.nlp: Language = build_pipeline(base)
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
        """
        tags = None if sources is None else list(sources)
        originals: dict[int, str] = {}
        meta: list[tuple[int, int, bool]] = []  # per chunk: text index, offset, is last
        pieces_text: dict[int, str] = {}  # per chunk still in the pipeline: its text

        def chunked() -> Iterator[str]:
            for i, text in enumerate(texts):
                if not isinstance(text, str):
                    raise TypeError(f"expected str, got {type(text).__name__}")
                if tags is not None and i >= len(tags):
                    raise ValueError("sources: fewer items than texts")
                originals[i] = text
                pieces = list(_chunks(_clean(text))) or [(0, "")]
                for j, (offset, piece) in enumerate(pieces):
                    pieces_text[len(meta)] = piece
                    meta.append((i, offset, j == len(pieces) - 1))
                    yield piece

        current: list[Cue] = []
        sentences: list[tuple[int, int, str]] = []
        excluded: list[tuple[int, int, tuple[str, ...]]] = []
        orths: list[Any] = []
        chunks: list[tuple[Doc, int, Any]] = []
        ready: list[_Ready] = []
        docs = self.nlp.pipe(chunked(), batch_size=batch_size, n_process=n_process)
        for n, doc in enumerate(docs):
            i, offset, last = meta[n]
            tag = tags[i] if tags is not None else source
            sents, sent_orths, doc_orth = _sentence_table(doc, offset, pieces_text.pop(n))
            current.extend(_doc_cues(doc, originals[i], offset, tag, self.spans_key, sents))
            if self.model is not None:
                sentences.extend(sents)
                orths.extend(sent_orths)
                excluded.extend((offset + s, offset + e, names)
                                for s, e, names in doc.user_data.get(EXCLUDED_KEY, ()))
                chunks.append((doc, offset, doc_orth))
            if last:
                del originals[i]
                if self.model is None:
                    yield sorted(current, key=_order)
                else:
                    ready.append(_Ready(current, sentences, tag, excluded, orths, chunks))
                    if len(ready) >= batch_size:
                        yield from self._unite(ready)
                        ready = []
                current, sentences, excluded, orths, chunks = [], [], [], [], []
        if ready:
            yield from self._unite(ready)

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
                        roster=_ANYONE, excluded=r.excluded, clause_probs=clause[t],
                        owned=True)

    __call__ = extract


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
