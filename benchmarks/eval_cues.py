#!/usr/bin/env python
"""Score the cue extractor against a JSONL evaluation file.

Each line: {"id": ..., "text": ..., "labels": [...]} where labels are the findings; with
``"cues": [{"label", "actor", "evidence"}]`` (the project corpus) actor accuracy is
reported too: of the gold findings the extractor found (same label, a finding span
overlapping the evidence), the share whose actor is right. Prints micro P/R/F1 at subtype
and category level, a per-label table, and the share of gold-empty items that got any
finding. ``--errors`` lists misses and false positives. The last four lines are a compact
summary (read by a pre-stop hook).

    python benchmarks/eval_cues.py PATH.jsonl [--errors] [--model DIR|none]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def score(gold: list[set[str]], pred: list[set[str]]) -> tuple[int, int, int]:
    tp = sum(len(g & p) for g, p in zip(gold, pred, strict=True))
    fp = sum(len(p - g) for g, p in zip(gold, pred, strict=True))
    fn = sum(len(g - p) for g, p in zip(gold, pred, strict=True))
    return tp, fp, fn


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", type=Path)
    ap.add_argument("--errors", action="store_true", help="print misses and false positives")
    ap.add_argument("--model", default=None,
                    help="a sentence model directory to score with instead of the shipped one "
                    "(a candidate from tools/train_sentence_model.py --out), or 'none' for "
                    "the rules alone")
    args = ap.parse_args(argv)

    from rapportnotes.extractors import CueExtractor
    from rapportnotes.taxonomy import LABELS

    items = [json.loads(line) for line in args.path.read_text(encoding="utf-8").splitlines()
             if line.strip()]
    if args.model is None:
        extractor = CueExtractor()
    else:
        extractor = CueExtractor(model=None if args.model == "none" else Path(args.model))
    preds: list[set[str]] = []
    mentions = []
    for cues in extractor.pipe([item["text"] for item in items]):
        preds.append({c.label for c in cues if c.is_finding})
        mentions.append(cues)
    golds = [set(item["labels"]) for item in items]

    cat = lambda labels: {label.split(".", 1)[0] for label in labels}  # noqa: E731
    s_tp, s_fp, s_fn = score(golds, preds)
    c_tp, c_fp, c_fn = score([cat(g) for g in golds], [cat(p) for p in preds])
    sp, sr, sf = prf(s_tp, s_fp, s_fn)
    cp, cr, cf = prf(c_tp, c_fp, c_fn)

    print(f"{'label':42} {'tp':>4} {'fp':>4} {'fn':>4} {'P':>6} {'R':>6} {'F1':>6}")
    counts: dict[str, Counter] = {label: Counter() for label in LABELS}
    for g, p in zip(golds, preds, strict=True):
        for label in g | p:
            key = "tp" if label in g and label in p else ("fp" if label in p else "fn")
            counts.setdefault(label, Counter())[key] += 1
    for label, c in counts.items():
        p_, r_, f_ = prf(c["tp"], c["fp"], c["fn"])
        print(f"{label:42} {c['tp']:>4} {c['fp']:>4} {c['fn']:>4} {p_:6.2f} {r_:6.2f} {f_:6.2f}")

    empty = [i for i, g in enumerate(golds) if not g]
    empty_hit = [i for i in empty if preds[i]]
    if args.errors:
        print("\nERRORS")
        for i, item in enumerate(items):
            miss, extra = golds[i] - preds[i], preds[i] - golds[i]
            if not miss and not extra:
                continue
            print(f"- {item.get('id', i)}: {item['text']}")
            if miss:
                print(f"    MISS {sorted(miss)}")
            if extra:
                print(f"    FP   {sorted(extra)}")
            for cue in mentions[i]:
                flags = [k for k in ("negated", "hypothetical", "historical", "uncertain")
                         if getattr(cue, k)]
                print(f"      {'*' if cue.is_finding else ' '} {cue.label:40} {cue.text!r} "
                      f"{cue.experiencer} {' '.join(flags)}")
    n_empty = len(empty)
    pct = 100 * len(empty_hit) / n_empty if n_empty else 0.0
    matched = right = 0
    by_actor: dict[str, Counter] = {}
    for item, cues in zip(items, mentions, strict=True):
        for gold in item.get("cues", []):
            pos = item["text"].find(gold.get("evidence", "\0"))
            if pos < 0:
                continue
            end = pos + len(gold["evidence"])
            hit = next((c for c in cues if c.is_finding and c.label == gold["label"]
                        and c.start_char < end and pos < c.end_char), None)
            if hit is None:
                continue
            matched += 1
            ok = hit.actor == gold["actor"]
            right += ok
            by_actor.setdefault(gold["actor"], Counter())["ok" if ok else "wrong"] += 1
    if matched:
        print()
        print(f"actor accuracy on found gold findings: {right}/{matched} "
              f"({right / matched:.3f}); by gold actor: " + ", ".join(
                  f"{a} {c['ok']}/{c['ok'] + c['wrong']}" for a, c in sorted(by_actor.items())))
    print()
    print(f"subtype  micro P={sp:.3f} R={sr:.3f} F1={sf:.3f}")
    print(f"category micro P={cp:.3f} R={cr:.3f} F1={cf:.3f}")
    print(f"gold-empty items with any finding: {len(empty_hit)}/{n_empty} ({pct:.1f}%)")
    print(f"items: {len(items)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
