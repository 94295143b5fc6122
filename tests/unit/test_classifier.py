"""The sentence model united with and gated by the rules (extractors/classifier.py)."""

from __future__ import annotations

import numpy as np
import pytest

from rapportnotes.actors import Roster
from rapportnotes.cues import Cue
from rapportnotes.extractors.classifier import (
    Row,
    UniteParams,
    calibrated,
    clause_window,
    unite,
)
from rapportnotes.taxonomy import LABELS

PARAMS = UniteParams(add=0.3, vet=0.1)
ANYONE = Roster.unknown()


def _row(probs: dict[str, float]) -> Row:
    return Row(np.array([probs.get(lab, 0.0) for lab in LABELS]), LABELS,
               {lab: i for i, lab in enumerate(LABELS)})


def _rule(label, text, sentence, *, finding=True, **kw):
    cat, sub = label.split(".")
    start = sentence.find(text)
    return Cue(label=label, category=cat, subtype=sub, text=text, start_char=start,
               end_char=start + len(text), sentence=sentence, is_finding=finding, **kw)


def test_a_rule_finding_the_model_rejects_is_demoted():
    s = "Pt was engaged to be married in May."
    out = unite([_rule("engagement.participation", "engaged", s)], [(0, len(s), s)],
                [_row({"engagement.participation": 0.02})], PARAMS, source=None, roster=ANYONE)
    (cue,) = out
    assert cue.vetoed and not cue.is_finding and cue.probability == 0.02


def test_the_clause_can_rescue_a_rule_finding_from_a_long_sentence():
    s = "Long talk about the weekend and the kids and work; pt re-engaged."
    rule = _rule("repair.reengaged", "re-engaged", s)
    (cue,) = unite([rule], [(0, len(s), s)], [_row({"repair.reengaged": 0.01})], PARAMS,
                   source=None, roster=ANYONE, clause_probs=[0.6])
    assert cue.is_finding and not cue.vetoed and cue.probability == 0.6
    assert clause_window(s, s.find("re-engaged"), s.find("re-engaged") + 10) == \
        "pt re-engaged"


def test_the_model_adds_what_no_rule_found_with_an_attributed_actor():
    s1, s2 = "Slowly warmed up over the hour.", "Writer cut into the couple's spiral."
    sents = [(0, len(s1), s1), (len(s1) + 1, len(s1) + 1 + len(s2), s2)]
    out = unite([], sents, [_row({"engagement.participation": 0.7}),
                            _row({"confrontation.complaint_therapist": 0.6})],
                PARAMS, source="clinician_notes", roster=ANYONE)
    part, comp = out
    assert (part.origin, part.is_finding, part.start_char, part.end_char) == (
        "model", True, 0, len(s1))
    assert part.source == "clinician_notes" and part.text == s1
    assert comp.actor == "therapist" and not comp.is_finding  # the therapist did it


def test_the_rules_gate_the_model():
    s = "No complaints about the sessions; not defensive at all."
    negated = _rule("confrontation.defends_self", "defensive", s, finding=False,
                    negated=True)
    out = unite([negated], [(0, len(s), s)], [_row({"confrontation.defends_self": 0.9,
                                                "confrontation.complaint_parameters": 0.8})],
                PARAMS, source=None, roster=ANYONE)
    assert [c.label for c in out if c.is_finding] == []  # the category was ruled out
    t = "Left 10 min before the end of his shift to get here."
    out = unite([], [(0, len(t), t)], [_row({"attendance.left_early": 0.9})], PARAMS,
                source=None, roster=ANYONE, excluded=[(0, 4, ("attendance.left_early",))])
    assert out == []


def test_the_model_adds_nothing_its_words_do_not_support():
    # a bag of words with nothing it learnt from scores every label at its bias; a label
    # below what an empty sentence gets is not added however high that bias is
    s = "Warm wishes, Tamsin"
    floor = _row({lab: 0.36 for lab in LABELS})
    out = unite([], [(0, len(s), s)], [_row({lab: 0.33 for lab in LABELS})], PARAMS,
                source=None, roster=ANYONE, floor=floor)
    assert out == []
    out = unite([], [(0, len(s), s)], [_row({"engagement.disclosure": 0.72})], PARAMS,
                source=None, roster=ANYONE, floor=floor)
    assert [c.label for c in out] == ["engagement.disclosure"]
    lifted = UniteParams(add=0.3, vet=0.1, lift=0.4)
    out = unite([], [(0, len(s), s)], [_row({"engagement.disclosure": 0.72})], lifted,
                source=None, roster=ANYONE, floor=floor)
    assert out == []


@pytest.mark.parametrize("text", [
    "Thanks again, Rob", "Warm wishes, Tamsin", "Hello Priyanka,", "Regards,\nDr P. Okonjo",
    "Ngā mihi nui, Aroha",  # a known miss until the model was retrained on 2026-12-04
])
def test_a_sign_off_or_greeting_is_not_a_finding(text: str) -> None:
    from rapportnotes import extract_cues

    assert [c.label for c in extract_cues(text) if c.is_finding] == []


def test_confidence_is_calibrated_and_monotone():
    params = UniteParams(calibration={"rules": [[0.2, 0.4], [0.6, 0.7], [1.0, 0.95]],
                                      "model": [[0.5, 0.3], [1.0, 0.8]]})
    assert calibrated(params, "rules", 0.1) == 0.4
    assert calibrated(params, "rules", 0.61) == 0.95
    assert calibrated(params, "model", 0.4) == 0.3
    assert calibrated(UniteParams(), "model", 0.42) == 0.42  # uncalibrated: the probability


def test_the_shipped_model_is_used_by_default_and_can_be_switched_off():
    from rapportnotes.extractors import CueExtractor
    from rapportnotes.extractors.classifier import default_model_path

    assert default_model_path() is not None
    size = sum(f.stat().st_size for f in default_model_path().rglob("*") if f.is_file())
    assert size <= 10_000_000
    text = "Pt gave one-word answers after writer pushed the homework."
    united = CueExtractor().extract(text)
    rules = CueExtractor(model=None).extract(text)
    assert all(c.confidence is not None for c in united)
    assert all(c.confidence is None and c.origin == "rules" for c in rules)
    assert {c.label for c in united if c.is_finding} >= {"withdrawal.minimal_response"}


def test_scoring_from_pipeline_tokens_equals_spacys_own_textcat():
    """score_orths reproduces the model's arithmetic (its n-grams, its layers)."""
    from rapportnotes.extractors import CueExtractor, _sentence_table

    ex = CueExtractor()
    text = ("Pt gave one-word answers. Writer apologized for pushing; pt re-engaged.\n"
            "- Brought the log\nOk")
    doc = ex.nlp(text)
    from spacy.tokens import Doc

    from rapportnotes.extractors.classifier import token_ids

    # the ids the extractor scores: the model's features (unite.json), read from the doc
    sents, orths, _ = _sentence_table(doc, 0, text, ex.model.attr)
    ours = ex.model.score_orths(orths)
    tc_nlp = ex.model.nlp
    for (_, _, sentence), row in zip(sents, ours, strict=True):
        tokens = ex.nlp.tokenizer(sentence)
        words = [tokens.vocab.strings[int(i)] for i in token_ids(tokens, ex.model.attr)]
        theirs = tc_nlp.get_pipe("textcat_multilabel")(Doc(tc_nlp.vocab, words=words)).cats
        for label, p in theirs.items():
            assert abs(row.get(label) - p) < 1e-5
