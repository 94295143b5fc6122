"""A generated caseload for batch tests and benchmarks: the example sessions re-dated into
weekly histories of many clients, with a share of records broken in known ways."""

from __future__ import annotations

import copy
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples" / "sessions").glob("*.json"))

# each breaks one field in a way the schema refuses (the record is kept, the note is not)
BREAKS = (
    ("session.end_time", lambda s: s["session"].__setitem__("end_time", "25:61")),
    ("client", lambda s: s.pop("client")),
    ("session.date", lambda s: s["session"].__setitem__("date", "not a date")),
    ("session.cpt_code", lambda s: s["session"].__setitem__("cpt_code", 90837)),
)


def generate(n: int, *, invalid_every: int = 20, per_client: int = 5
             ) -> tuple[list[dict[str, Any]], dict[int, str]]:
    """``n`` sessions: client ``C-0000`` … with ``per_client`` weekly sessions each (one
    example's text per client); every ``invalid_every``-th record broken. Returns the
    sessions and {index: broken field} for the broken ones."""
    bases = [json.loads(p.read_text(encoding="utf-8")) for p in EXAMPLES]
    out: list[dict[str, Any]] = []
    broken: dict[int, str] = {}
    for i in range(n):
        client, visit = divmod(i, per_client)
        s = copy.deepcopy(bases[client % len(bases)])
        s["client"]["id"] = f"C-{client:04d}"
        day = date(2026, 1, 5) + timedelta(weeks=visit)
        s["session"]["date"] = day.isoformat()
        s["session"]["number"] = visit + 1
        s.pop("signed_at", None)
        s["review"] = {"decisions": []}
        if invalid_every and i % invalid_every == invalid_every - 1:
            name, brk = BREAKS[(i // invalid_every) % len(BREAKS)]
            brk(s)
            broken[i] = name
        out.append(s)
    return out, broken


def write_jsonl(path: Path, sessions: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(s, ensure_ascii=False) + "\n" for s in sessions),
                    encoding="utf-8")
    return path
