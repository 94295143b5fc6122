"""Regression floors of cue extraction on the project's annotated corpus.

The floors sit a few points under the scores reached when they were set (subtype F1 0.928,
category F1 0.950, 0 % of gold-empty items with a finding), so real regressions fail.
``cues_generalisation.jsonl`` holds items written in other clinician voices (first-person
therapist, couples, family, school, telehealth, telegraphic); its floors guard the rule
families added for them (round 2, 334 items: subtype F1 0.99, category F1 0.99, 0 % gold-empty
findings; round 3, 376 items: subtype F1 0.99, category F1 0.99, 0 % gold-empty findings).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[1] / "data" / "cues_corpus.jsonl"
GENERALISATION = CORPUS.with_name("cues_generalisation.jsonl")


def _f1(gold: list[set[str]], pred: list[set[str]]) -> float:
    tp = sum(len(g & p) for g, p in zip(gold, pred, strict=True))
    fp = sum(len(p - g) for g, p in zip(gold, pred, strict=True))
    fn = sum(len(g - p) for g, p in zip(gold, pred, strict=True))
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def _score(path: Path) -> tuple[list[set[str]], list[set[str]]]:
    if not path.exists():
        pytest.skip(f"annotated cue set {path.name} not present")
    from rapportnotes.extractors import CueExtractor

    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
             if line.strip()]
    preds = [{c.label for c in cues if c.is_finding}
             for cues in CueExtractor().pipe([item["text"] for item in items])]
    return [set(item["labels"]) for item in items], preds


@pytest.fixture(scope="module")
def scored() -> tuple[list[set[str]], list[set[str]]]:
    return _score(CORPUS)


@pytest.fixture(scope="module")
def scored_generalisation() -> tuple[list[set[str]], list[set[str]]]:
    return _score(GENERALISATION)


def test_subtype_f1_floor(scored) -> None:
    gold, pred = scored
    assert _f1(gold, pred) >= 0.89


def test_category_f1_floor(scored) -> None:
    gold, pred = scored
    cat = lambda s: {label.split(".")[0] for label in s}  # noqa: E731
    assert _f1([cat(g) for g in gold], [cat(p) for p in pred]) >= 0.92


def test_gold_empty_items_rarely_get_findings(scored) -> None:
    gold, pred = scored
    empty = [p for g, p in zip(gold, pred, strict=True) if not g]
    assert empty
    assert sum(1 for p in empty if p) / len(empty) <= 0.03


def test_generalisation_subtype_f1_floor(scored_generalisation) -> None:
    gold, pred = scored_generalisation
    assert _f1(gold, pred) >= 0.96


def test_generalisation_category_f1_floor(scored_generalisation) -> None:
    gold, pred = scored_generalisation
    cat = lambda s: {label.split(".")[0] for label in s}  # noqa: E731
    assert _f1([cat(g) for g in gold], [cat(p) for p in pred]) >= 0.96


def test_generalisation_gold_empty_items_rarely_get_findings(scored_generalisation) -> None:
    gold, pred = scored_generalisation
    empty = [p for g, p in zip(gold, pred, strict=True) if not g]
    assert empty
    assert sum(1 for p in empty if p) / len(empty) <= 0.03
