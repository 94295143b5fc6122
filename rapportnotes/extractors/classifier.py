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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from ..actors import Roster, attribute_actor, can_carry
from ..cues import Cue
from ..taxonomy import LABEL_INFO

if TYPE_CHECKING:
    from spacy.tokens import Doc

MODEL_DIR = "model/sentence"


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


def default_model_path() -> Path | None:
    """The shipped model's directory, or None when the package carries none."""
    root = resources.files(__package__).joinpath(MODEL_DIR)
    path = Path(str(root))
    return path if (path / "meta.json").is_file() else None


class SentenceModel:
    """A loaded sentence classifier: ``probabilities(sentences)`` → label → probability."""

    def __init__(self, path: str | Path, *, tokenizer: Callable[[str], Doc] | None = None
                 ) -> None:
        """``tokenizer``: the extraction pipeline's (clinical abbreviations and shorthand
        kept whole), which the training tool also uses; its cache is already warm with
        the texts' words."""
        import spacy

        self.path = Path(path)
        self.nlp = spacy.load(self.path)
        self.tokenizer = tokenizer or self.nlp.tokenizer
        params = self.path / "unite.json"
        self.params: UniteParams = UniteParams(**json.loads(params.read_text("utf-8"))) \
            if params.is_file() else UniteParams()

    def probabilities(self, sentences: Sequence[str]) -> list[dict[str, float]]:
        """Label probabilities per sentence."""
        docs = (self.tokenizer(text) for text in sentences)
        return [dict(doc.cats) for doc in self.nlp.pipe(docs, batch_size=512)]


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
          probs: Sequence[dict[str, float]], params: UniteParams, *,
          source: str | None, roster: Roster,
          excluded: Sequence[tuple[int, int, tuple[str, ...]]] = (),
          clause_probs: Sequence[float | None] = ()) -> list[Cue]:
    """Rule cues vetted and complemented by the model (see the module docstring).

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
            near = max((v for lab, v in probs[k].items()
                        if lab.startswith(cue.category + ".")), default=0.0) \
                if k is not None else 0.0
            if p >= params.vet or near >= params.vet_sentence:
                if k is not None:
                    found.add((k, cue.label))
            else:
                update["is_finding"] = False
                update["vetoed"] = True
        out.append(cue.model_copy(update=update))
    for k, ((start, _end, text), p) in enumerate(zip(sentences, probs, strict=True)):
        for label, prob in p.items():
            if prob < params.add or (k, label) in found or label not in LABEL_INFO \
                    or (k, label) in ruled_out or (k, label.partition(".")[0]) in ruled_out:
                continue
            stripped = text.strip()
            lead = len(text) - len(text.lstrip())
            who = attribute_actor(label, stripped, stripped, _default_experiencer(label),
                                  roster)
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
