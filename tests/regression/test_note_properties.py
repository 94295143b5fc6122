"""The properties of a good note (after ../shared/design/sample-note.md), held on every
example note: the record states only what the clinician entered or accepted, briefly."""

from __future__ import annotations

import re
from itertools import combinations

import pytest

from rapportnotes import build_note, load_history, load_session, render
from tests.conftest import EXAMPLES, ROOT

LABEL = re.compile(r"\[cue|\b(engagement|withdrawal|confrontation|repair|attendance)\.[a-z_]+\b")
SESSIONS = sorted(EXAMPLES.glob("*.json"))


def _notes():
    out = {}
    for path in SESSIONS:
        obs = load_session(path)
        out[path.stem] = (obs, {fmt: render(build_note(obs, format=fmt), "md").decode()
                                for fmt in ("soap", "dap", "birp", "girp", "pie")})
    *earlier, latest = load_history(ROOT / "examples" / "history" / "drifting.json")
    out["drifting-history"] = (latest, {"soap": render(build_note(latest, history=earlier),
                                                       "md").decode()})
    return out


NOTES = _notes()


def _rapport_words(md: str) -> int:
    m = re.search(r"^## Rapport[^\n]*\n(.*?)(?=^## |\Z)", md, re.S | re.M)
    assert m, "no rapport section"
    return len(" ".join(line for line in m.group(1).splitlines()
                        if not line.lstrip().startswith("|")).split())


def _sentences(md: str) -> set[str]:
    """Sentences of 8+ words in the note body. Fixed labels are not sentences: the header
    table, bold leads and the taxonomy's wording of markers and repairs are removed."""
    from rapportnotes.taxonomy import DESCRIPTIONS

    body = "\n".join(line for line in md.splitlines() if not line.startswith("|"))
    body = re.sub(r"\*\*[^*]+\*\*:?", "\n", body)
    for wording in sorted(DESCRIPTIONS.values(), key=len, reverse=True):
        body = body.replace(wording, "\n")
    out = set()
    for piece in re.split(r"[.!?;](?=\s|$)|\n", body):
        words = re.findall(r"[\w'’-]+", piece.lower())
        if len(words) >= 8:
            out.add(" ".join(words))
    return out


@pytest.mark.parametrize("name", sorted(NOTES))
def test_no_cue_tags_or_labels_in_the_record(name):
    for md in NOTES[name][1].values():
        assert not LABEL.search(md)
        # no software to-do: no lead (bold label) asks for review
        leads = re.findall(r"\*\*([^*\n]+)\*\*", md)
        assert not [lead for lead in leads if re.search(r"\breview\b", lead, re.IGNORECASE)]


@pytest.mark.parametrize("name", sorted(NOTES))
def test_rapport_section_is_summary_level(name):
    for md in NOTES[name][1].values():
        assert _rapport_words(md) <= 250


@pytest.mark.parametrize("name", sorted(NOTES))
def test_no_process_notes_quoted(name):
    """The extractor's input (clinician_notes) never appears verbatim (no run of 9 words;
    shorter runs occur naturally where the clinician's own fields say the same thing);
    curly quotes come only from the clinician's quotes field."""
    obs, notes = NOTES[name]
    for md in notes.values():
        flat = " ".join(md.split())
        for sentence in re.split(r"(?<=[.!?])\s+", obs.clinician_notes or ""):
            words = sentence.split()
            for i in range(0, max(len(words) - 8, 0)):
                assert " ".join(words[i:i + 9]) not in flat, sentence
        quoted = re.findall(r"“([^”]+)”", md)
        assert sorted(quoted) == sorted(obs.subjective.quotes)


def test_no_generated_sentence_is_shared_by_two_sessions():
    per_session = {name: set().union(*(_sentences(md) for md in notes.values()))
                   for name, (_, notes) in NOTES.items()}
    for (a, sa), (b, sb) in combinations(per_session.items(), 2):
        shared = sa & sb
        assert not shared, f"{a} and {b} share: {sorted(shared)[:3]}"


@pytest.mark.parametrize("name", sorted(NOTES))
def test_payer_fields_visible_and_nothing_invented(name):
    for md in NOTES[name][1].values():
        header = md.split("## ", 1)[0]
        for label in ("Date / time", "Session", "Clinician", "Service", "Diagnoses"):
            assert f"**{label}**" in header
        assert "POS" in header or "place of service not documented" in header
        assert "within normal limits" not in md.lower() and "wnl" not in md.lower()
        assert "Suicidal ideation:" in md


def test_in_person_notes_have_no_telehealth_line():
    for name, (obs, notes) in NOTES.items():
        if obs.session.modality == "in_person":
            for md in notes.values():
                assert "Telehealth" not in md and "telehealth set-up" not in md, name
