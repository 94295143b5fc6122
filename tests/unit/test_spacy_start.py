"""The command starts spaCy without spaCy's own CLI package (cli/_spacy_start.py), and
nothing of spaCy is lost: its CLI, ``spacy.info`` and ``spacy.cli.<sub>`` imports still work
when asked for. Each case runs in a fresh interpreter (spaCy is imported in this one)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

CHECK = """
import json, sys
from rapportnotes.cli._spacy_start import defer
deferred = defer()
import spacy
nlp = spacy.blank("en")
out = {"deferred": deferred, "typer_loaded": "typer" in sys.modules,
       "tokens": [t.text for t in nlp("Pt arrived late.")]}
from spacy.cli import download                      # the real one, imported on demand
out["download"] = download.__module__
out["typer_after"] = "typer" in sys.modules
out["info_keys"] = sorted(spacy.info())[:3]         # spacy.info() answers too
import spacy.cli._util as util                       # a submodule import
out["submodule"] = util.__name__
print(json.dumps(out))
"""


def _run(env_extra: dict[str, str]) -> dict:
    env = {**os.environ, **env_extra}
    result = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True,
                            env=env, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_spacy_starts_without_its_cli_and_still_has_it_on_demand() -> None:
    out = _run({})
    assert out["deferred"] is True and out["typer_loaded"] is False
    assert out["tokens"] == ["Pt", "arrived", "late", "."]
    assert out["download"] == "spacy.cli.download" and out["typer_after"] is True
    assert out["info_keys"] and out["submodule"] == "spacy.cli._util"


def test_it_can_be_turned_off() -> None:
    out = _run({"RAPPORTNOTES_EAGER_SPACY_CLI": "1"})
    assert out["deferred"] is False and out["typer_loaded"] is True


def test_the_command_renders_the_same_note_either_way(tmp_path) -> None:
    from pathlib import Path

    session = Path(__file__).resolve().parents[2] / "examples" / "sessions" / "dropout-risk.json"
    notes = []
    for flag in ("", "1"):
        out = tmp_path / f"note{flag or 0}.md"
        env = {**os.environ, "RAPPORTNOTES_EAGER_SPACY_CLI": flag}
        subprocess.run([sys.executable, "-m", "rapportnotes", "render", str(session),
                        "--to", "md", "-o", str(out)], env=env, check=True,
                       capture_output=True)
        notes.append(out.read_bytes())
    assert notes[0] == notes[1]
