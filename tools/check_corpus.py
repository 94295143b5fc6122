#!/usr/bin/env python
"""Check an annotated alliance-cue corpus file (JSON lines) before it is used.

Why: the project's corpora are written by several annotators in parallel; a label typo, an
evidence string that is not in the text, or ``labels`` out of step with ``cues`` would
silently corrupt every score computed from them. Run it on each file as it is written.

Each line::

    {"id": "...", "voice": "...", "shape": "...", "setting": "...",
     "text": "...", "labels": [...],
     "cues": [{"label": ..., "actor": ..., "sentence": N, "evidence": "exact substring"}],
     "traps": [{"label": ..., "actor": ..., "reason": ..., "evidence": "..."}],
     "why": "..."}

``cues`` are the findings (their label set must equal ``labels``); ``traps`` are mentions
that name a cue but are not findings (negated, historical, another person...), optional.

    python tools/check_corpus.py FILE.jsonl [...]
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

LABELS = {
    "engagement.participation", "engagement.disclosure", "engagement.nonverbal",
    "engagement.collaboration", "engagement.homework",
    "withdrawal.denial", "withdrawal.minimal_response", "withdrawal.abstract_communication",
    "withdrawal.shifting_topic", "withdrawal.deferential", "withdrawal.content_affect_split",
    "withdrawal.self_criticism_hopelessness",
    "confrontation.complaint_therapist", "confrontation.rejects_intervention",
    "confrontation.complaint_activities", "confrontation.complaint_parameters",
    "confrontation.complaint_progress", "confrontation.defends_self",
    "confrontation.control_pressure",
    "repair.clarify", "repair.change_task", "repair.rationale", "repair.invite_discussion",
    "repair.acknowledge_contribution", "repair.disclose_experience", "repair.link_pattern",
    "repair.validate_defense", "repair.redirect", "repair.reengaged",
    "attendance.late", "attendance.no_show", "attendance.cancellation", "attendance.left_early",
}
FINDING_ACTORS = {"client", "caregiver", "partner", "family", "therapist"}
ALL_ACTORS = FINDING_ACTORS | {"group_member", "third_party"}


def check_item(item: dict, seen: set[str]) -> list[str]:
    errs: list[str] = []
    for key in ("id", "text", "labels", "cues"):
        if key not in item:
            errs.append(f"missing key {key!r}")
    if errs:
        return errs
    if item["id"] in seen:
        errs.append("duplicate id")
    seen.add(item["id"])
    text = item["text"]
    if not isinstance(text, str) or not text.strip():
        errs.append("empty text")
    labels = item["labels"]
    if len(set(labels)) != len(labels):
        errs.append("duplicate label in labels")
    for label in labels:
        if label not in LABELS:
            errs.append(f"unknown label {label!r}")
    cue_labels = set()
    for cue in item["cues"]:
        if cue.get("label") not in LABELS:
            errs.append(f"cue with unknown label {cue.get('label')!r}")
        if cue.get("actor") not in FINDING_ACTORS:
            errs.append(f"finding cue actor {cue.get('actor')!r} is not one of "
                        f"{sorted(FINDING_ACTORS)}")
        label = cue.get("label", "")
        therapists = label.startswith("repair.") and label != "repair.reengaged"
        if therapists and cue.get("actor") != "therapist":
            errs.append(f"{label} must have actor therapist")
        if not therapists and cue.get("actor") == "therapist":
            errs.append(f"{label} cannot have actor therapist")
        if not isinstance(cue.get("sentence"), int) or cue["sentence"] < 0:
            errs.append("cue sentence must be a 0-based int")
        ev = cue.get("evidence")
        if not isinstance(ev, str) or not ev or ev not in text:
            errs.append(f"evidence not an exact substring of text: {ev!r}")
        cue_labels.add(label)
    if cue_labels != set(labels):
        errs.append(f"labels {sorted(set(labels))} != cue labels {sorted(cue_labels)}")
    for trap in item.get("traps", []):
        if trap.get("label") not in LABELS:
            errs.append(f"trap with unknown label {trap.get('label')!r}")
        if trap.get("actor") not in ALL_ACTORS:
            errs.append(f"trap actor {trap.get('actor')!r} unknown")
        ev = trap.get("evidence")
        if ev is not None and ev not in text:
            errs.append(f"trap evidence not in text: {ev!r}")
    return errs


def main(argv: list[str]) -> int:
    bad = 0
    for name in argv:
        seen: set[str] = set()
        n = empty = long = 0
        labels: Counter[str] = Counter()
        actors: Counter[str] = Counter()
        for lineno, line in enumerate(Path(name).read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                print(f"{name}:{lineno}: not JSON ({exc.msg})")
                bad += 1
                continue
            for err in check_item(item, seen):
                print(f"{name}:{lineno}: {item.get('id')}: {err}")
                bad += 1
            n += 1
            empty += not item.get("labels")
            sentences = item.get("text", "").count(". ") + item.get("text", "").count("; ") + 1
            long += sentences >= 3
            labels.update(item.get("labels", []))
            actors.update(c.get("actor") for c in item.get("cues", []))
        print(f"{name}: {n} items, cue-free {empty} ({100 * empty / max(n, 1):.0f}%), "
              f"~3+ sentences {long} ({100 * long / max(n, 1):.0f}%), "
              f"labels used {len(labels)}/33, actors {dict(actors)}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
