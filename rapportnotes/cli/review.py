"""``rapportnotes review``: the clinician accepts or rejects what the extractor noticed.

Interactive by default (one suggestion at a time: its sentence with the cue highlighted,
the label in plain words, the actor; accept / reject / change actor / skip / quit), or
scripted (``--accept LABEL…``, ``--reject LABEL…``, ``--reject-all``), or read-only for an
EHR's own screen (``--list``, ``--json``). Decisions are written back into the session file
atomically; everything else in the file is kept as it was (keys, order, values), and the
result is validated before it replaces the original.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..models import Decision
from ..suggestions import Suggestion

ACTORS = ("client", "caregiver", "partner", "family")


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("review", help="accept or reject the suggestions from a session's "
                       "free text (only accepted ones enter the note)")
    p.add_argument("session", metavar="SESSION.json")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--list", action="store_true", help="print the review sheet and exit")
    mode.add_argument("--json", action="store_true",
                      help="print suggestions, prompts and messages as JSON and exit")
    p.add_argument("--accept", nargs="+", metavar="LABEL", default=[],
                   help="accept pending suggestions with these labels or categories")
    p.add_argument("--reject", nargs="+", metavar="LABEL", default=[],
                   help="reject pending suggestions with these labels or categories")
    p.add_argument("--reject-all", action="store_true", help="reject every pending suggestion")
    p.add_argument("--all", action="store_true",
                   help="interactive: also go through suggestions already decided")
    p.add_argument("--by", metavar="NAME",
                   help="who is deciding (default: the session's clinician.name)")
    p.set_defaults(func=cmd_review)


def _matches(s: Suggestion, names: list[str]) -> bool:
    return s.label in names or s.category in names


def _check_names(names: list[str]) -> None:
    from ..taxonomy import CATEGORIES, LABELS

    bad = [n for n in names if n not in LABELS and n not in CATEGORIES]
    if bad:
        raise InputError(f"--accept/--reject: {len(bad)} name(s) are neither taxonomy labels "
                         "nor categories (see `rapportnotes extract --help`)")


def sheet(suggestions: list[Suggestion], field_hint: str = "") -> str:
    """The review sheet: one line per suggestion (number, label, actor, confidence, status)."""
    if not suggestions:
        return "No suggestions from the session's free text."
    pending = sum(1 for s in suggestions if s.status == "pending")
    lines = [f"{len(suggestions)} suggestions ({pending} pending) — accept, reject or "
             "change the actor:"]
    for i, s in enumerate(suggestions, 1):
        actor = s.actor_role or s.actor
        lines.append(f"{i:>3}. {s.label:<40} {actor:<10} {s.confidence:.2f}  {s.status:<8} "
                     f"{s.field}: \"{_one_line(s.sentence, 70)}\"")
    return "\n".join(lines)


def _one_line(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _highlight(s: Suggestion, tty: bool) -> str:
    pos = s.sentence.find(" ".join(s.text.split()))
    if pos < 0:
        return s.sentence
    end = pos + len(" ".join(s.text.split()))
    on, off = ("\x1b[7m", "\x1b[0m") if tty else ("»", "«")
    return s.sentence[:pos] + on + s.sentence[pos:end] + off + s.sentence[end:]


def _ask(prompt: str) -> str:
    try:
        return input(prompt).strip().lower()
    except EOFError:
        return "q"


def _interactive(todo: list[Suggestion], by: str, now: datetime) -> list[Decision]:
    from ..review import decide

    tty = sys.stdout.isatty()
    decisions: list[Decision] = []
    print(f"{len(todo)} suggestion(s) to review. Only accepted ones enter the note.")
    for n, s in enumerate(todo, 1):
        print()
        print(f"[{n}/{len(todo)}] {s.description} ({s.category}) — from {s.field}")
        print(f"  {_highlight(s, tty)}")
        print(f"  Actor: {s.actor_role or s.actor}    Confidence: {s.confidence:.2f}    "
              f"Status: {s.status}")
        print(f"  Would enter the note as: {s.statement}")
        while True:
            answer = _ask("  [a]ccept  [r]eject  [c]hange actor  [s]kip  [q]uit and save: ")
            if answer in ("a", "accept"):
                decisions.append(decide(s, "accepted", by=by, at=now))
                break
            if answer in ("r", "reject"):
                decisions.append(decide(s, "rejected", by=by, at=now))
                break
            if answer in ("s", "skip", ""):
                break
            if answer in ("q", "quit"):
                return decisions
            if answer in ("c", "change", "change actor"):
                if s.actor == "therapist":
                    print("  A repair strategy is always the therapist's.")
                    continue
                actor = _ask(f"  Actor ({'/'.join(ACTORS)}): ")
                if actor not in ACTORS:
                    print("  Not one of: " + ", ".join(ACTORS))
                    continue
                role = None
                if actor != "client":
                    role = _ask("  Role word (e.g. mother, wife, brother): ") or None
                decisions.append(decide(s, "accepted", by=by, at=now, actor=actor,  # type: ignore[arg-type]
                                        actor_role=role))
                print(f"  Accepted as: {decisions[-1].actor_role or decisions[-1].actor}")
                break
            print("  Please answer a, r, c, s or q.")
    return decisions


def write_decisions(path: Path, decisions: list[Decision]) -> None:
    """Merge ``decisions`` into the file's ``review.decisions`` and write it atomically.

    Only ``review`` changes; other keys keep their order and values. The merged document is
    validated first, so a file that would not load again is never written.
    """
    from ..io import parse_session, read_json, write_atomic
    from ..review import apply_decisions

    data: dict[str, Any] = read_json(path)
    obs = parse_session(data, origin=str(path))
    merged = apply_decisions(obs, decisions)
    data["review"] = merged.review.model_dump(mode="json", exclude_none=True)
    parse_session(data, origin=str(path))
    write_atomic(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def cmd_review(args: argparse.Namespace) -> int:
    from ..api import build_note
    from ..io import load_session
    from ..review import decide

    path = Path(args.session)
    obs = load_session(path)
    _check_names([*args.accept, *args.reject])
    note = build_note(obs)
    suggestions = list(note.suggestions)
    for msg in note.review_messages:
        print(f"rapportnotes: warning: {path}: {msg}", file=sys.stderr)
    if args.json:
        print(json.dumps({
            "session": str(path),
            "suggestions": [s.model_dump(mode="json") for s in suggestions],
            "prompts": [p.model_dump(mode="json") for p in note.prompts],
            "messages": list(note.review_messages)}, indent=2, ensure_ascii=False))
        return 0
    if args.list:
        print(sheet(suggestions))
        for p in note.prompts:
            print(f"  prompt: {p.text}")
        return 0
    by = args.by or obs.clinician.name
    now = datetime.now(UTC).replace(microsecond=0)
    pending = [s for s in suggestions if s.status == "pending"]
    if args.accept or args.reject or args.reject_all:
        decisions = []
        for s in pending:
            if _matches(s, args.accept):
                decisions.append(decide(s, "accepted", by=by, at=now))
            elif args.reject_all or _matches(s, args.reject):
                decisions.append(decide(s, "rejected", by=by, at=now))
    else:
        todo = suggestions if args.all else pending
        if not todo:
            print("Nothing to review: no pending suggestions.")
            return 0
        decisions = _interactive(todo, by, now)
    if decisions:
        write_decisions(path, decisions)
    accepted = sum(1 for d in decisions if d.status == "accepted")
    left = len(pending) - sum(1 for d in decisions
                              if any(s.key == (d.field, d.start_char, d.end_char, d.label)
                                     for s in pending))
    print(f"{path}: {accepted} accepted, {len(decisions) - accepted} rejected; "
          f"{max(left, 0)} still pending.")
    return 0
