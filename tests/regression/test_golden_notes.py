"""Golden Markdown notes for the examples: any change to wording, order, extraction or
layout shows up here as a diff. After an intended change, regenerate with

    RAPPORTNOTES_UPDATE_GOLDEN=1 python -m pytest tests/regression/test_golden_notes.py

and review the diff like any other change to clinical documentation.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

from rapportnotes import build_note, load_history, load_session, render
from tests.conftest import EXAMPLES, ROOT

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("RAPPORTNOTES_UPDATE_GOLDEN") == "1"
CASES = [(p, fmt) for p in sorted(EXAMPLES.glob("*.json"))
         for fmt in ("soap", "dap", "birp", "girp", "pie")]


def _check(name: str, actual: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(actual, encoding="utf-8")
        return
    assert path.exists(), f"missing golden {path.name}; run with RAPPORTNOTES_UPDATE_GOLDEN=1"
    expected = path.read_text(encoding="utf-8")
    if actual != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True),
                                            f"golden/{name}", "actual", n=1))
        pytest.fail(f"note changed:\n{diff[:4000]}")


@pytest.mark.parametrize(("session", "fmt"), CASES, ids=[f"{p.stem}-{f}" for p, f in CASES])
def test_example_note_matches_golden(session, fmt):
    note = build_note(load_session(session), format=fmt)
    _check(f"{session.stem}-{fmt}.md", render(note, "md").decode("utf-8"))


def test_history_note_matches_golden():
    *earlier, latest = load_history(ROOT / "examples" / "history" / "drifting.json")
    note = build_note(latest, history=earlier)
    _check("drifting-history-soap.md", render(note, "md").decode("utf-8"))
