"""The trained sentence model, united with and gated by the rules.

Why a model at all: the rules score subtype F1 0.55–0.58 on text written in voices they
were not written against (`docs/extractor-rounds.md`); a bag-of-words sentence classifier
trained on the project's corpus (``tools/train_sentence_model.py``) adds the phrasings no
rule names and vetoes rule hits that its training text says are not findings. Neither
alone is as good as the two together (measured on the dev split, same harness).

How they are united, per sentence and label (``unite``):

* a rule *finding* is kept when the model gives its label at least ``vet`` in that sentence;
  below, it is demoted (``is_finding`` False) — the rules' keyword hits outside a therapy
  frame are what the model learnt to reject;
* a label the model gives at least ``add`` with no rule finding in the sentence becomes a
  sentence-span cue; its actor comes from ``actors.attribute_actor`` like any other cue;
  the rules gate it: where they saw a mention of that category in the sentence and ruled
  it out (negated, planned, historical, someone else's), the model does not override them;
* every cue carries ``probability`` (the model's, for its label in its sentence) and
  ``confidence``: that probability calibrated on the dev split — the share of findings of
  its origin (rules or model) at that probability that were right.

The model is a spaCy ``textcat_multilabel`` pipeline stored inside the package
(``extractors/model/sentence``). Without it (deleted, or ``model=None``) extraction is the
rules alone, unchanged.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from spacy.attrs import LEMMA, LOWER, NORM, ORTH

from ..actors import Roster, attribute_actor, can_carry
from ..cues import Cue
from ..taxonomy import LABEL_INFO

MODEL_DIR = "model/sentence"

FEATURES = {"ORTH": ORTH, "LOWER": LOWER, "NORM": NORM, "LEMMA": LEMMA}
"""Token attributes a sentence model may be trained on (``unite.json``'s ``features``).
ORTH keeps "Pt", "pt" and "PT" apart; LOWER (the shipped model's) makes them one feature;
LEMMA (the extraction pipeline's lower-case lookup lemma, written for every token) also
merges "engaged" and "engaging" — and "well" with "good", which cost it precision on dev
(docs/extractor-rounds.md, fifth round)."""


@dataclass(frozen=True)
class UniteParams:
    """Thresholds chosen on the dev split (``tools/train_sentence_model.py`` reports the
    grid); stored with the model in ``unite.json`` so a retrained model brings its own."""

    add: float = 0.3
    vet: float = 0.005
    calibration: dict[str, list[list[float]]] | None = None
    """Per origin ('rules', 'model'): [[upper bound of the model probability, precision
    measured on the dev split], …], monotone; turns a probability into a confidence."""
    vet_sentence: float = 1.0
    """A rule finding is vetoed only when, besides its own label being below ``vet``, no
    label of its category reaches ``vet_sentence`` in the sentence (the model may know
    the sentence holds a cue of that kind and only disagree on the subtype)."""
    lift: float = 0.0
    """A label the model adds must score at least ``lift`` above what the model gives a
    sentence with no known words (its bias, :attr:`SentenceModel.floor`): a bag of words
    with nothing it learnt from — a sign-off "Best, Ellis", a name — otherwise returns
    the bias for every label, which for a dozen labels is above ``add``."""


def default_model_path() -> Path | None:
    """The shipped model's directory, or None when the package carries none."""
    root = resources.files(__package__).joinpath(MODEL_DIR)
    path = Path(str(root))
    return path if (path / "meta.json").is_file() else None


class Row:
    """One sentence's label probabilities (a row of the model's output)."""

    __slots__ = ("_index", "_labels", "peak", "values")

    def __init__(self, values: Any, labels: tuple[str, ...], index: dict[str, int],
                 peak: float | None = None) -> None:
        self.values = values
        self._labels = labels
        self._index = index
        #: the row's highest probability: most sentences have no label near a threshold,
        #: and one comparison answers :meth:`above` for them
        if peak is None:
            peak = float(values.max()) if len(values) else 0.0
        self.peak = peak

    def get(self, label: str, default: float = 0.0) -> float:
        i = self._index.get(label)
        return default if i is None else float(self.values[i])

    def above(self, threshold: float) -> list[tuple[str, float]]:
        """(label, probability) for the labels at or above ``threshold``, in label order."""
        if self.peak < threshold:
            return []
        return [(self._labels[i], float(self.values[i]))
                for i in np.flatnonzero(self.values >= threshold).tolist()]


class SentenceModel:
    """A loaded sentence classifier scoring token sequences of the extraction pipeline.

    The model is spaCy's bag-of-words text classifier (hashed unigrams and bigrams of the
    token ids it was trained on, :attr:`attr` → sparse linear → logistic). Its own
    ``extract_ngrams`` step is done here, from those ids
    of the pipeline's tokens, and the model's sparse-linear and logistic layers score
    them: the sentence is not tokenized a second time and no ``Doc`` is built for it, with
    exactly the model's arithmetic (the same layers, the same hashing of bigrams).
    """

    def __init__(self, path: str | Path, *, vocab: Any = None) -> None:
        self.path = Path(path)
        self._nlp = _load_textcat(self.path, vocab)
        self._tokenizer_loaded = False
        params = self.path / "unite.json"
        stored = json.loads(params.read_text("utf-8")) if params.is_file() else {}
        #: the token attribute the model was trained on (its n-grams are of these ids)
        self.features: str = stored.pop("features", "ORTH")
        if self.features not in FEATURES:
            raise ValueError(f"{params}: unknown features {self.features!r}")
        self.attr: int = FEATURES[self.features]
        self.params: UniteParams = UniteParams(**stored)
        tc = self._nlp.get_pipe("textcat_multilabel")
        layers = {layer.name: layer for layer in tc.model.walk()}
        self._ngram_size = int(layers["extract_ngrams"].attrs["ngram_size"])
        self._ops = layers["extract_ngrams"].ops
        self._linear = layers["resizable(sparse_linear)"]
        self._logistic = layers["logistic"]
        self.labels: tuple[str, ...] = tuple(tc.labels)
        self._index = {label: i for i, label in enumerate(self.labels)}
        #: the probabilities of a sentence none of whose n-grams the model knows
        self.floor: Row = self.score_orths([np.zeros(0, dtype="uint64")])[0]

    def score_orths(self, sequences: Sequence[Any]) -> list[Row]:
        """Label probabilities for each sequence of token ids (uint64 arrays of :attr:`attr`).

        Vectorised over the batch: the n-grams of all sequences come from one
        ``ops.ngrams`` call over their concatenation, minus those that cross a boundary;
        keys are counted per sequence with one sort — what ``extract_ngrams`` does one doc
        at a time.
        """
        if not sequences:
            return []
        lengths_in = np.fromiter((len(x) for x in sequences), dtype=np.int64,
                                 count=len(sequences))
        flat = np.concatenate(sequences).astype("uint64") if lengths_in.sum() else \
            np.zeros(0, dtype="uint64")
        seg = np.repeat(np.arange(len(sequences), dtype=np.int64), lengths_in)
        keys, owners = [flat], [seg]
        for n in range(2, self._ngram_size + 1):
            if len(flat) < n:
                continue
            grams = np.asarray(self._ops.ngrams(n, flat))
            first = seg[:len(grams)]
            inside = first == seg[n - 1:n - 1 + len(grams)]  # no gram crosses a boundary
            keys.append(grams[inside])
            owners.append(first[inside])
        key = np.concatenate(keys)
        owner = np.concatenate(owners)
        order = np.lexsort((key, owner))
        key, owner = key[order], owner[order]
        new = np.ones(len(key), dtype=bool)
        new[1:] = (key[1:] != key[:-1]) | (owner[1:] != owner[:-1])
        starts = np.flatnonzero(new)
        counts = np.diff(np.append(starts, len(key))).astype("f")
        lengths = np.bincount(owner[starts], minlength=len(sequences)).astype("int32")
        out = self._logistic.predict(self._linear.predict((key[starts], counts, lengths)))
        peaks = out.max(axis=1).tolist() if out.shape[1] else [0.0] * len(out)
        return [Row(row, self.labels, self._index, peak)
                for row, peak in zip(out, peaks, strict=True)]

    @property
    def nlp(self) -> Any:
        """The model as a spaCy pipeline, with the tokenizer it was trained with.

        The tokenizer (its special cases, ~0.15 s to read) is loaded on first use: the
        extractor scores its own pipeline's tokens and never needs it."""
        if not self._tokenizer_loaded:
            tokenizer = self.path / "tokenizer"
            if tokenizer.is_file():
                self._nlp.tokenizer.from_disk(tokenizer)
            self._tokenizer_loaded = True
        return self._nlp

    def probabilities(self, sentences: Sequence[str]) -> list[Row]:
        """Label probabilities for plain sentences (tokenized by the model's tokenizer)."""
        return self.score_orths([token_ids(doc, self.attr)
                                 for doc in self.nlp.tokenizer.pipe(sentences)])


def token_ids(doc: Any, attr: int) -> Any:
    """The ids a model trained on ``attr`` scores for ``doc`` (uint64): the doc's ``attr``
    column; for LEMMA on a doc without lemmas (a bare tokenizer's), the lookup lemma of
    each LOWER id — what the extraction pipeline writes for every token. The training tool
    builds its examples with this too."""
    if attr == LEMMA and not doc.has_annotation("LEMMA"):
        global _LEMMAS
        if _LEMMAS is None:
            from .cue_ruler import LemmaLookup, _cached_lemma_table

            _LEMMAS = LemmaLookup(_cached_lemma_table())  # its hash arrays are built once
        return _LEMMAS.lookup(doc.vocab.strings, doc.to_array(LOWER).astype("uint64"))
    return doc.to_array(attr).astype("uint64")


_LEMMAS: Any = None


def _load_textcat(path: Path, vocab: Any) -> Any:
    """The saved pipeline at ``path``, built directly when it is one text classifier.

    ``spacy.load`` re-reads the tokenizer and the vocab's strings and validates the whole
    training config (0.3–0.5 s of a CLI render); the classifier needs only its component
    config and weights, and scores ORTH hashes, which do not depend on the vocab — so it
    can share the extraction pipeline's. Any other pipeline shape goes through
    ``spacy.load`` unchanged."""
    import spacy

    config = spacy.util.load_config(path / "config.cfg")
    names = list(config["nlp"]["pipeline"])
    component = dict(config["components"].get("textcat_multilabel", {}))
    if names != ["textcat_multilabel"] or component.get("factory") != "textcat_multilabel":
        return spacy.load(path)
    component.pop("factory")
    if vocab is not None:
        # the extraction pipeline's vocab, and an empty tokenizer: building English's
        # (exceptions, affix regexes) costs ~0.15 s and the extractor never tokenizes with
        # it; :attr:`SentenceModel.nlp` reads the model's own tokenizer from disk first
        from spacy.language import Language
        from spacy.tokenizer import Tokenizer

        nlp = Language(vocab=vocab, create_tokenizer=lambda nlp: Tokenizer(nlp.vocab))
    else:
        nlp = spacy.util.get_lang_class(config["nlp"]["lang"])()
    textcat = nlp.add_pipe("textcat_multilabel", config=component)
    textcat.from_disk(path / "textcat_multilabel", exclude=["vocab"])
    return nlp


def calibrated(params: UniteParams, origin: str, p: float) -> float:
    """The dev-split precision of findings of this origin at this model probability."""
    table = (params.calibration or {}).get(origin)
    if not table:
        return round(p, 3)
    for upper, precision in table:
        if p <= upper:
            return round(precision, 3)
    return round(table[-1][1], 3)


def _default_experiencer(label: str) -> str:
    return "therapist" if "therapist" in LABEL_INFO[label].actors else "client"


MIN_WORDS = 3
"""Fewest words (two letters or more) a sentence needs for the model to add a label the
rules did not find: "Hello Priyanka," or "Cheers, Liam" gives a bag of words nothing to
go on (on the dev split the gate removes no right finding)."""
_WORDS = re.compile(r"[^\W\d_]{2,}")
_CLAUSE_END = re.compile(r"[;:.!?\n]")


def clause_window(sentence: str, start: int, end: int) -> str:
    """The clause of ``sentence`` around [start, end): a bag-of-words score over a long
    run-on sentence is diluted by its other words, so a rule hit is vetted on its clause
    too (the higher of the two probabilities counts)."""
    left = max((m.end() for m in _CLAUSE_END.finditer(sentence, 0, max(start, 0))),
               default=0)
    right = next((m.start() for m in _CLAUSE_END.finditer(sentence, min(end, len(sentence)))),
                 len(sentence))
    return sentence[left:right].strip() or sentence


def unite(rule_cues: Sequence[Cue], sentences: Sequence[tuple[int, int, str]],
          probs: Sequence[Row], params: UniteParams, *,
          source: str | None, roster: Roster,
          excluded: Sequence[tuple[int, int, tuple[str, ...]]] = (),
          clause_probs: Sequence[float | None] = (), owned: bool = False,
          floor: Row | None = None) -> list[Cue]:
    """Rule cues vetted and complemented by the model (see the module docstring).

    ``floor``: the model's probabilities for a sentence with no known words (see
    :attr:`UniteParams.lift`).

    ``owned``: the caller made ``rule_cues`` for this call and holds no other reference
    (the extractor), so they are completed in place instead of copied.

    ``sentences`` are (start, end, text) in the coordinates of the cues; ``probs`` align
    with them; ``excluded`` are the exclusion-rule matches (start, end, labels or
    categories ruled out there); ``clause_probs`` (aligned with ``rule_cues``) the model's
    probability of each rule cue's label in its clause, when computed.
    """
    out: list[Cue] = []
    found: set[tuple[int, str]] = set()
    ruled_out: set[tuple[int, str]] = set()
    starts = [s for s, _, _ in sentences]
    for cue in rule_cues:
        k = _sentence_index(starts, cue.start_char)
        if not cue.is_finding and k is not None:
            ruled_out.add((k, cue.category))
    for start, _, names in excluded:
        k = _sentence_index(starts, start)
        if k is not None:
            ruled_out.update((k, name) for name in names)
    for n, cue in enumerate(rule_cues):
        k = _sentence_index(starts, cue.start_char)
        p = probs[k].get(cue.label, 0.0) if k is not None else 0.0
        if n < len(clause_probs) and clause_probs[n] is not None:
            p = max(p, clause_probs[n])  # type: ignore[type-var]
        update: dict[str, object] = {"confidence": calibrated(params, "rules", p),
                                     "probability": round(p, 4)}
        if cue.is_finding:
            near = 0.0
            if p < params.vet and k is not None and params.vet_sentence < 1.0:
                near = max((v for lab, v in probs[k].above(0.0)
                            if lab.startswith(cue.category + ".")), default=0.0)
            if p >= params.vet or near >= params.vet_sentence:
                if k is not None:
                    found.add((k, cue.label))
            else:
                update["is_finding"] = False
                update["vetoed"] = True
        out.append(cue.updated(update) if owned else
                   Cue.trusted({**cue.__dict__, **update}))
    for k, ((start, _end, text), p) in enumerate(zip(sentences, probs, strict=True)):
        short: bool | None = None  # fewer than MIN_WORDS words; read once, when first asked
        for label, prob in p.above(params.add):
            if prob < params.add or (k, label) in found or label not in LABEL_INFO \
                    or (k, label) in ruled_out or (k, label.partition(".")[0]) in ruled_out:
                continue
            if floor is not None and prob - floor.get(label, 0.0) < params.lift:
                continue  # the sentence's words say nothing about this label
            if short is None:
                short = len(_WORDS.findall(text)) < MIN_WORDS
            if short:
                continue  # a sign-off, a name, a heading: too little to infer from
            stripped = text.strip()
            lead = len(text) - len(text.lstrip())
            who = attribute_actor(label, stripped, stripped, _default_experiencer(label),
                                  roster, sentences[k - 1][2] if k > 0 else "")
            category, _, subtype = label.partition(".")
            out.append(Cue(
                label=label, category=category, subtype=subtype, text=stripped,
                start_char=start + lead, end_char=start + lead + len(stripped),
                sentence=stripped, experiencer=_default_experiencer(label),  # type: ignore[arg-type]
                actor=who.actor, actor_role=who.role,  # type: ignore[arg-type]
                is_finding=can_carry(label, who.actor), source=source,
                confidence=calibrated(params, "model", prob), probability=round(prob, 4),
                origin="model"))
    return sorted(out, key=lambda c: (c.start_char, c.end_char, c.label))


def _sentence_index(starts: Sequence[int], pos: int) -> int | None:
    import bisect

    k = bisect.bisect_right(starts, pos) - 1
    return k if k >= 0 else None
