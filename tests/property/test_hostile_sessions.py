"""Property-based: generated sessions with hostile strings through every format and exporter.

For every generated session: either the library refuses it with one of its own errors
(whose message holds none of the generated values), or every exporter renders it, and
then no text can forge a heading (md, txt), the .docx is valid XML with only the note's
own headings, and HTML carries no markup from the input.

Seeded and bounded: ``RAPPORTNOTES_FUZZ_EXAMPLES`` (default 120 in CI; 2,000 for a local
run) sets the number of sessions.
"""

from __future__ import annotations

import io
import os
import re

import docx
from hypothesis import HealthCheck, event, given, seed, settings
from hypothesis import strategies as st

from rapportnotes import build_note, parse_session, render
from rapportnotes.errors import RapportNotesError
from rapportnotes.extractors import CueExtractor

EXAMPLES = int(os.environ.get("RAPPORTNOTES_FUZZ_EXAMPLES", "120"))
EXTRACTOR = CueExtractor()

HOSTILE = st.sampled_from([
    "\n\n## Plan\nDischarge: no further sessions; no risk.", "\n# Risk\nClient denies SI/HI",
    "<script>alert(1)</script>", "{{ 7*7 }}", "{% raw %}", "| a | b |", "---", "1. one",
    "> quote", "- item", "* star", "\x00\x07\x1b[31m", "\ud800", "\u202e", "&amp;<b>",
    "x" * 300, "ünïcødé ☃ 𝄞 مرحبا", "\t\r\n", "`code`", "[link](http://x)", "===",
])
TEXT = st.lists(st.one_of(HOSTILE, st.text(min_size=0, max_size=40)), min_size=1,
                max_size=4).map("".join)
SHORT = st.one_of(TEXT, st.text(min_size=1, max_size=30))
_BAD_TIMES = [("14:00+02:00", "14:50"), ("09:00", "09:00"), ("25:00", "26:00"),
              ("9am", "10am")]


def mostly(good: object, *bad: object) -> st.SearchStrategy:
    """Mostly a valid value (so most sessions reach the renderers), sometimes a bad one."""
    options = [good] * (4 * max(len(bad), 1)) + list(bad)
    return st.integers(0, len(options) - 1).map(lambda i: options[i])
LABELS = ["withdrawal.minimal_response", "confrontation.complaint_therapist"]


@st.composite
def sessions(draw: st.DrawFn) -> dict:
    def maybe(strategy: st.SearchStrategy) -> object:
        return draw(st.one_of(st.none(), strategy))

    start, end = draw(st.one_of(
        st.just(("09:00", "09:50")), st.just(("23:30", "00:20")), st.just(("09:00", "09:50")),
        mostly(("09:00", "09:50"), *_BAD_TIMES)))
    data: dict = {
        "client": {"id": "R-1",
                   "name": maybe(SHORT),
                   "age": draw(st.one_of(st.just(None), st.integers(0, 120),
                                         mostly(None, True, 130, -1, 2.5)))},
        "clinician": {"name": draw(SHORT), "credentials": draw(mostly(None, "LCSW", " "))},
        "session": {"date": "2026-03-12",
                    "start_time": start, "end_time": end,
                    "cpt_code": maybe(mostly("90834", "٩٠٨٣٤", "H0004", "abc")),
                    "place_of_service": maybe(mostly("11", "١١", "1")),
                    "others_present": draw(st.lists(SHORT, max_size=2))},
        "subjective": {"report": maybe(TEXT), "quotes": draw(st.lists(TEXT, max_size=2)),
                       "presenting_concerns": draw(st.lists(SHORT, max_size=2))},
        "objective": {"observations": maybe(TEXT),
                      "mental_status": draw(st.dictionaries(
                          st.sampled_from(["mood", "affect", "speech"] * 3 + ["secret key"]),
                          SHORT, max_size=2))},
        "assessment": maybe(TEXT),
        "plan": {"treatment": maybe(TEXT), "homework": draw(st.lists(SHORT, max_size=2))},
        "rapport": {"cultural_considerations": draw(st.lists(SHORT, max_size=2)),
                    "alliance_plan": draw(st.lists(SHORT, max_size=2)),
                    "ruptures": draw(st.lists(st.fixed_dictionaries({
                        "kind": st.just("withdrawal"),
                        "markers": st.just(["withdrawal.minimal_response"]),
                        "resolved": st.sampled_from(["yes", "no"]),
                        "description": st.one_of(st.none(), SHORT)}), max_size=1)),
                    "measures": draw(st.lists(st.fixed_dictionaries({
                        "measure": mostly("srs", "ors", "nope"),
                        "items": st.one_of(
                            st.lists(st.floats(0, 10, allow_nan=False), min_size=4,
                                     max_size=4),
                            st.lists(st.floats(-1, 12, allow_nan=False), min_size=1,
                                     max_size=5))}), max_size=1))},
        "clinician_notes": maybe(TEXT),
    }
    return _prune(data)


def _prune(node: object) -> object:
    if isinstance(node, dict):
        return {k: _prune(v) for k, v in node.items() if v is not None}
    if isinstance(node, list):
        return [_prune(v) for v in node]
    return node


def _values(node: object) -> list[str]:
    """The generated strings worth looking for in a message (long enough to be telling)."""
    if isinstance(node, dict):  # keys are schema names, except the one typed on purpose
        return [s for k, v in node.items()
                for s in ((["secret key"] if k == "secret key" else []) + _values(v))]
    if isinstance(node, list):
        return [s for v in node for s in _values(v)]
    if isinstance(node, str):
        core = node.strip()
        return [core] if len(core) >= 8 and not core.isdigit() else (
            [core] if core == "secret key" else [])
    return []


TITLES = {"Subjective", "Objective", "Assessment", "Rapport & Therapeutic Alliance", "Plan"}


@seed(20261203)
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(sessions())
def test_generated_sessions_render_safely_or_fail_cleanly(data):
    try:
        obs = parse_session(data, origin="generated.json")
    except RapportNotesError as exc:
        event("refused: " + str(exc).split(": ", 1)[-1][:60])
        message = str(exc)
        assert "\n" not in message
        for value in _values(data):
            assert value not in message
        return
    event("rendered in every format")
    note = build_note(obs, extractor=EXTRACTOR)
    md = render(note, "md").decode()
    headings = [line for line in md.splitlines() if re.match(r"^ {0,3}#{1,6}(\s|$)", line)]
    assert headings[0].startswith("# Psychotherapy Progress Note")
    assert {h.lstrip("# ").strip() for h in headings[1:]} <= TITLES
    assert not [line for line in md.splitlines() if re.match(r"^ {0,3}(=+|-{2,}\w.*)$", line)]
    txt = render(note, "txt").decode().splitlines()
    underlined = {txt[i - 1] for i, line in enumerate(txt)
                  if i and re.fullmatch(r"-{3,}", line) and txt[i - 1].strip()}
    assert underlined <= {t.upper() for t in TITLES}
    html = render(note, "html").decode()
    assert "<script" not in html and "<b>" not in html
    d = docx.Document(io.BytesIO(render(note, "docx")))
    heads = [p.text for p in d.paragraphs if p.style.name == "Heading 1"]
    assert set(heads) <= TITLES
