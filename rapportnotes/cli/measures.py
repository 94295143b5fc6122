"""``rapportnotes score`` and ``rapportnotes trajectory``: measures from the command line.

``score`` scores one administration typed at the prompt (a clinician checking an SRS by
hand); ``trajectory`` summarises a client's history. Both print readable text by default and
JSON with ``--json`` for other software. Nothing here prints free text from a session except
the labels a table needs (taxonomy wording, measure names): clinician notes never reach
stdout. User errors are raised as ``RapportNotesError`` subclasses for the CLI core to print.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from typing import Any, TextIO

from ..errors import MeasureError, RapportNotesError
from ..measures import MeasureScore, get_measure, score
from ..measures.scoring import fmt
from ..taxonomy import DESCRIPTIONS
from ..trajectory import MeasureSeries, Trajectory, TrajectoryConfig, build_trajectory


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``score`` and ``trajectory`` subcommands to the main parser."""
    p = sub.add_parser(
        "score", help="score one administration of a measure (srs, ors, wai-sr, plugins)",
        description="Score one administration. Items are raw scores in item order.")
    p.add_argument("measure", metavar="MEASURE", help="registered measure name, e.g. srs")
    p.add_argument("items", metavar="ITEM", nargs="+", help="raw item scores in order")
    p.add_argument("--age", type=int, default=None,
                   help="client age in years (selects age-banded cutoffs, e.g. ORS)")
    p.add_argument("--json", action="store_true", help="print the score as JSON")
    p.set_defaults(func=cmd_score)

    t = sub.add_parser(
        "trajectory", help="alliance trajectory and at-risk flag across a client's sessions",
        description="Summarise measures, ruptures and attendance across a history (a JSON "
        "list of sessions or a folder of session JSON files) and say whether the alliance "
        "is at risk, with reasons and suggested actions.")
    t.add_argument("history", metavar="HISTORY", help="history.json or a folder of *.json")
    t.add_argument("--json", action="store_true", help="print the trajectory as JSON")
    t.add_argument("--config", metavar="CONFIG.json", default=None,
                   help="thresholds overriding the defaults (TrajectoryConfig fields)")
    t.add_argument("--cues", action="store_true",
                   help="also extract withdrawal cues from each session's free text "
                   "(needs the cue extractor)")
    t.set_defaults(func=cmd_trajectory)


# --------------------------------------------------------------------------- score


def _parse_items(measure: str, raw: list[str]) -> list[float]:
    values: list[float] = []
    for number, text in enumerate(raw, start=1):
        try:
            value = float(text)
        except ValueError:
            raise MeasureError(f"{measure} item {number} is not a number") from None
        if not math.isfinite(value):
            raise MeasureError(f"{measure} item {number} is not a finite number")
        values.append(value)
    return values


def format_score(sc: MeasureScore) -> str:
    """Readable multi-line text for one score."""
    lines = [f"{sc.short_name} — {sc.title}"]
    width = max(len(i.label) for i in sc.items)
    for i in sc.items:
        rev = f"  (reversed → {fmt(i.scored)})" if i.reversed else ""
        lines.append(f"  {i.number:>2}  {i.label:<{width}}  {fmt(i.raw):>4}/{fmt(i.max)}{rev}")
    lines.append(f"  Total {fmt(sc.total)}/{fmt(sc.total_max)}")
    for name, value in sc.subscales.items():
        lines.append(f"  {name} {fmt(value)}/{fmt(sc.subscale_max[name])}")
    for f in sc.flags:
        lines.append(f"  ! {f.message}")
    lines.append(sc.interpretation)
    return "\n".join(lines)


def cmd_score(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Score one administration and print it."""
    out = out or sys.stdout
    defn = get_measure(args.measure)
    sc = score(defn, _parse_items(defn.short_name, args.items), age=args.age)
    return _emit(out, sc, format_score, as_json=args.json)


# --------------------------------------------------------------------------- trajectory


def _signed(value: float | None) -> str:
    if value is None:
        return "—"
    return "0" if value == 0 else f"{round(value, 2):+g}"


def _series_table(s: MeasureSeries) -> list[str]:
    cutoffs = sorted({p.cutoff for p in s.points if p.cutoff is not None})
    extra = [f"{fmt(s.total_min)}–{fmt(s.total_max)}"]
    if cutoffs:
        extra.append("cutoff " + ", ".join(fmt(c) for c in cutoffs))
    if s.reliable_change_index is not None:
        extra.append(f"RCI {fmt(s.reliable_change_index)}")
    lines = [f"{s.short_name} — {s.title} ({'; '.join(extra)})"]
    header = ("Session", "Date", "Total", "Δ prev", "Δ first", "RC", "Cutoff")
    rows = [header]
    for p in s.points:
        rc = "—" if p.reliable_change is None else ("yes" if p.reliable_change else "no")
        below = "—" if p.below_cutoff is None else ("below" if p.below_cutoff else "ok")
        rows.append((f"#{p.session.number}" if p.session.number else str(p.session.index + 1),
                     p.session.date.isoformat(), fmt(p.total), _signed(p.change_from_previous),
                     _signed(p.change_from_first), rc, below))
    widths = [max(len(r[c]) for r in rows) for c in range(len(header))]
    for r in rows:
        lines.append("  " + "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True))
                     .rstrip())
    return lines


def format_trajectory(tr: Trajectory) -> str:
    """Readable text: one table per measure, then ruptures, attendance and the flag."""
    first, last = tr.sessions[0], tr.sessions[-1]
    who = f"Client {tr.client_id}" if tr.client_id else "History"
    lines = [f"{who} — {len(tr.sessions)} session(s), {first.date} to {last.date}", ""]
    for s in tr.measures.values():
        lines.extend(_series_table(s))
        lines.append("")
    if not tr.measures:
        lines.extend(["No measures documented.", ""])

    r = tr.ruptures
    if r.total:
        kinds = ", ".join(f"{k} {n}" for k, n in r.by_kind.items())
        outcomes = ", ".join(f"{k} {n}" for k, n in r.by_outcome.items())
        rate = "—" if r.repair_rate is None else f"{r.repair_rate:.2f}"
        lines.append(f"Ruptures: {r.total} ({kinds}); resolved: {outcomes}; "
                     f"repair rate {rate}")
        markers = ", ".join(f"{DESCRIPTIONS.get(m, m)} ×{n}" for m, n in r.by_marker.items())
        lines.append(f"  Markers: {markers}")
        for label, recs in (("Open from latest session", r.unresolved_latest),
                            ("Earlier, not fully resolved", r.earlier_unresolved)):
            for rec in recs:
                lines.append(f"  {label}: {rec.session.label()} {rec.kind} "
                             f"(resolved: {rec.resolved})")
    else:
        lines.append("Ruptures: none documented")

    a = tr.attendance
    lines.append(
        f"Attendance: {a.sessions_attended} attended, {a.no_shows} no-show(s), "
        f"{a.cancellations} cancellation(s); late (> {tr.config.late_grace_minutes} min) "
        f"{a.late_count}; left early {a.left_early_count}; longest run of misses "
        f"{a.max_consecutive_misses}; last {a.appointments_in_window} appointment(s): "
        f"{a.misses_in_window} missed")
    if tr.withdrawal_cues is not None:
        lines.append("Withdrawal cues per session: "
                     + ", ".join(str(n) for n in tr.withdrawal_cues))
    lines.append("")
    if tr.at_risk:
        lines.append("ALLIANCE AT RISK")
        for reason in tr.reasons:
            where = ", ".join(s.label() for s in reason.sessions)
            lines.append(f"  - {reason.message}" + (f" [{where}]" if where else ""))
        lines.append("Suggested actions:")
        for act in tr.suggested_actions:
            lines.append(f"  - {act.text} (because: {', '.join(act.because)}; "
                         f"source: {act.source})")
    else:
        lines.append("Alliance at risk: no (no rule fired)")
    for note in tr.notes:
        lines.append(f"Note: {note}")
    return "\n".join(lines)


def cmd_trajectory(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Build and print the trajectory of a history file or folder."""
    from ..io import load_history

    out = out or sys.stdout
    config = TrajectoryConfig.from_json_file(args.config) if args.config else None
    sessions = load_history(args.history)
    cues = None
    if getattr(args, "cues", False):
        try:
            from ..api import session_cues
        except ImportError as exc:  # the extractor is optional in some installs
            raise RapportNotesError(f"cue extraction is not available ({exc})") from None
        cues = [session_cues(s, None) for s in sessions]
    tr = build_trajectory(sessions, cues=cues, config=config)
    return _emit(out, tr, format_trajectory, as_json=args.json)


def _emit(out: TextIO, result: Any, as_text: Callable[[Any], str], *, as_json: bool) -> int:
    """Write ``result`` as indented JSON or as its readable text; exit status 0."""
    if as_json:
        json.dump(result.model_dump(mode="json"), out, indent=2, ensure_ascii=False)
        out.write("\n")
    else:
        out.write(as_text(result) + "\n")
    return 0
