"""A fresh process starts from shipped data, not from work redone at every start.

The shipped rule files are trusted at start-up (spaCy's pattern validation is skipped) and
the anchors' word frequencies come from a shipped subset of spacy-lookups-data's table. Both
are only safe while the tests below hold: the shipped patterns pass spaCy's validator, and
the subset covers every form the shipped rules ask about.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from rapportnotes.extractors import CueExtractor, build_pipeline
from rapportnotes.extractors.rules import RuleFileError

TEXT = ("Pt arrived 10 min late, apologised. When I suggested the thought record she said "
        "'this is pointless' and went quiet. I said I had pushed too fast; she came back to "
        "it and finished the worksheet with me. Completed 4 of 7 diary entries this week.")


def test_shipped_rules_need_no_full_frequency_table() -> None:
    code = (
        "from rapportnotes.extractors import CueExtractor, anchored\n"
        "CueExtractor(model=None).extract('Pt arrived late and left early.')\n"
        "print(anchored._PROBS is None, sorted(anchored.asked)[:10])\n")
    # the warm-start cache off: the rules must really be compiled in this process
    env = {**os.environ, "RAPPORTNOTES_CACHE_DIR": ""}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, env=env)
    assert result.stdout.strip() == "True []", (
        "the shipped frequency subset is stale: run python tools/build_anchor_frequency.py "
        f"({result.stdout.strip()})")


def _compile_both(nlp, trust: bool) -> None:  # type: ignore[no-untyped-def]
    for name in ("rapport_cues", "rapport_context"):
        pipe = nlp.get_pipe(name)
        pipe.trust_packaged = trust
        pipe._compiled = False
    nlp("late")  # compiles both components


def test_shipped_rule_patterns_pass_spacys_validation() -> None:
    nlp = build_pipeline()
    _compile_both(nlp, trust=False)  # raises RuleFileError on any invalid pattern
    assert nlp.get_pipe("rapport_cues")._compiled
    assert nlp.get_pipe("rapport_context")._compiled


def test_a_users_rule_file_is_still_validated() -> None:
    from rapportnotes.extractors.cue_ruler import CueRuler

    nlp = build_pipeline()
    # a pattern spaCy's validator refuses (unknown token attribute) though it compiles
    bad = '{"id": "x", "label": "attendance.late", "pattern": [{"NO_SUCH_ATTR": "late"}]}'
    ruler = CueRuler(nlp, cue_rules=bad)
    assert ruler.trust_packaged  # trust applies only to the packaged text
    with pytest.raises(RuleFileError, match=r"cues\.jsonl, rule 'x'"):
        ruler(nlp.make_doc("late"))


def test_trusting_the_shipped_rules_finds_the_same_cues() -> None:
    trusted = CueExtractor(model=None)
    checked = CueExtractor(model=None)
    _compile_both(checked.nlp, trust=False)
    first = [(c.label, c.start_char, c.end_char, c.actor) for c in trusted.extract(TEXT)]
    second = [(c.label, c.start_char, c.end_char, c.actor) for c in checked.extract(TEXT)]
    assert first and first == second


def test_classifier_built_directly_scores_as_spacy_load_does() -> None:
    import spacy

    from rapportnotes.extractors.classifier import SentenceModel, default_model_path

    path = default_model_path()
    if path is None:
        pytest.skip("no shipped sentence model")
    sentences = ["She said 'this is pointless' and went quiet.", "Arrived 10 min late.",
                 "Writer apologised for pushing; pt came back to the worksheet."]
    from spacy.tokens import Doc

    from rapportnotes.extractors.classifier import token_ids

    model = SentenceModel(path, vocab=build_pipeline().vocab)
    ours = model.probabilities(sentences)
    loaded = spacy.load(path)
    for sentence, row in zip(sentences, ours, strict=True):
        # the model was trained on docs whose words are its feature ids (see
        # unite.json "features"): give spaCy's own textcat the same
        doc = loaded.tokenizer(sentence)
        strings = doc.vocab.strings
        words = [strings[int(i)] for i in token_ids(doc, model.attr)]
        cats = loaded.get_pipe("textcat_multilabel")(Doc(loaded.vocab, words=words)).cats
        assert cats and all(abs(row.get(label) - p) < 1e-6 for label, p in cats.items())
