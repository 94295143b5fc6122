"""Floors on the project corpus's dev split (never the blind split, scored per round).

Set on 2026-12-03 a few points under the scores reached (subtype F1 0.675, cue-free with a
finding 14.9%, actor accuracy 0.95), so a regression fails; they are not targets (the
issue's targets are higher and the closing notes report the gap).
"""

from __future__ import annotations

import json

from rapportnotes.extractors import CueExtractor
from tests.conftest import ROOT

DEV = ROOT / "corpus" / "dev.jsonl"


def test_dev_split_floors():
    items = [json.loads(line) for line in DEV.read_text("utf-8").splitlines() if line.strip()]
    tp = fp = fn = empty = empty_hit = matched = right = 0
    for item, cues in zip(items, CueExtractor().pipe([i["text"] for i in items]), strict=True):
        gold = set(item["labels"])
        pred = {c.label for c in cues if c.is_finding}
        tp += len(gold & pred)
        fp += len(pred - gold)
        fn += len(gold - pred)
        if not gold:
            empty += 1
            empty_hit += bool(pred)
        for g in item["cues"]:
            pos = item["text"].find(g["evidence"])
            hit = next((c for c in cues if c.is_finding and c.label == g["label"]
                        and c.start_char < pos + len(g["evidence"]) and pos < c.end_char),
                       None)
            if hit is not None:
                matched += 1
                right += hit.actor == g["actor"]
    p, r = tp / (tp + fp), tp / (tp + fn)
    assert 2 * p * r / (p + r) >= 0.64
    assert empty_hit / empty <= 0.18
    assert right / matched >= 0.90
