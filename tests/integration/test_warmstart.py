"""The warm-start cache (``extractors/warmstart.py``): a compiled pipeline saved once and
read by later processes gives exactly the cues of one compiled in place; a stale, corrupt,
foreign or unwritable cache only costs a compile, never a wrong result or an error."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rapportnotes.extractors import CueExtractor, build_pipeline, warmstart

ROOT = Path(__file__).resolve().parents[2]


def _texts() -> list[str]:
    """Free text of every example session and a slice of the project's probes."""
    texts: list[str] = []
    for path in sorted((ROOT / "examples" / "sessions").glob("*.json")):
        def walk(value: object) -> None:
            if isinstance(value, str) and len(value) > 40:
                texts.append(value)
            elif isinstance(value, dict):
                for v in value.values():
                    walk(v)
            elif isinstance(value, list):
                for v in value:
                    walk(v)
        walk(json.loads(path.read_text(encoding="utf-8")))
    for line in (ROOT / "corpus" / "probes" / "probe-2026-12-04.jsonl").read_text(
            encoding="utf-8").splitlines()[:120]:
        texts.append(json.loads(line)["text"])
    return texts


def _cues(extractor: CueExtractor, texts: list[str]) -> list[list[dict]]:
    return [[c.model_dump() for c in cues] for cues in extractor.pipe(texts)]


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(warmstart.CACHE_ENV, str(folder))
    return folder


def _states(folder: Path) -> list[Path]:
    return sorted(folder.glob("pipeline-*.pickle"))


def test_a_cached_pipeline_finds_exactly_the_compiled_cues(
        cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    texts = _texts()
    first = CueExtractor()
    assert first.start == "compiled" and len(_states(cache)) == 1
    warm = CueExtractor()
    assert warm.start == "cache"
    monkeypatch.setenv(warmstart.CACHE_ENV, "off")
    cold = CueExtractor()
    assert cold.start == "off"
    expected = _cues(cold, texts)
    assert sum(map(len, expected)) > 150
    assert _cues(warm, texts) == expected
    assert _cues(first, texts) == expected
    # the restored vocab knows the strings the compiled one added (lemmas are readable)
    doc = warm.nlp("She refused the worksheets")
    assert [t.lemma_ for t in doc] == [t.lemma_ for t in cold.nlp("She refused the worksheets")]


def test_the_key_follows_every_input(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nlp = build_pipeline()
    key = warmstart.state_key(nlp)
    assert warmstart.state_key(build_pipeline()) == key  # deterministic
    ruler = nlp.get_pipe("rapport_cues")
    text = ruler._cue_text
    ruler._cue_text = text + "\n"
    assert warmstart.state_key(nlp) != key
    ruler._cue_text = text
    context = nlp.get_pipe("rapport_context")
    context._lexicon_text += " "
    assert warmstart.state_key(nlp) != key
    context._lexicon_text = context._lexicon_text[:-1]
    assert warmstart.state_key(nlp) == key
    import spacy
    monkeypatch.setattr(spacy, "__version__", "0.0.0")
    assert warmstart.state_key(nlp) != key


def test_a_corrupt_state_is_compiled_again_and_replaced(cache: Path) -> None:
    CueExtractor(model=None)
    (path,) = _states(cache)
    path.write_bytes(path.read_bytes()[: 1000])  # truncated
    again = CueExtractor(model=None)
    assert again.start == "compiled"
    assert again.extract("Pt left 15 min early.")[0].label == "attendance.left_early"
    assert CueExtractor(model=None).start == "cache"  # the rewritten file is whole


def test_garbage_that_unpickles_is_not_trusted_either(cache: Path) -> None:
    import pickle

    CueExtractor(model=None)
    (path,) = _states(cache)
    path.write_bytes(pickle.dumps({"format": warmstart.FORMAT, "strings": [],
                                   "components": {"rapport_cues": {}}}))
    again = CueExtractor(model=None)
    assert again.start == "compiled"
    assert again.extract("Pt left 15 min early.")[0].label == "attendance.left_early"


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_a_state_others_can_write_is_never_read(cache: Path) -> None:
    CueExtractor(model=None)
    (path,) = _states(cache)
    path.chmod(0o666)
    assert CueExtractor(model=None).start == "compiled"
    (path,) = _states(cache)
    assert path.stat().st_mode & 0o077 == 0  # replaced by this user's private file


def test_an_unusable_cache_location_only_costs_a_compile(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    monkeypatch.setenv(warmstart.CACHE_ENV, str(blocker / "cache"))
    extractor = CueExtractor(model=None)
    assert extractor.start == "compiled"
    assert extractor.extract("Pt left 15 min early.")[0].label == "attendance.left_early"


def test_the_cache_can_be_turned_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for value in ("", "0", "off", "none"):
        monkeypatch.setenv(warmstart.CACHE_ENV, value)
        assert warmstart.cache_dir() is None
    monkeypatch.delenv(warmstart.CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert warmstart.cache_dir() == tmp_path / "rapportnotes"


def test_old_states_are_evicted(cache: Path) -> None:
    cache.mkdir(parents=True)
    for i in range(6):
        stale = cache / f"pipeline-{i:040d}.pickle"
        stale.write_bytes(b"old")
        os.utime(stale, ns=(10**18 + i, 10**18 + i))
    CueExtractor(model=None)
    states = _states(cache)
    assert len(states) == warmstart.KEEP
    assert cache / f"pipeline-{0:040d}.pickle" not in states


_RUN = """
import json, sys
from rapportnotes.extractors import CueExtractor
e = CueExtractor(model=None)
cues = e.extract("Pt arrived late, said the homework was pointless and left early.")
print(json.dumps([e.start, [(c.label, c.start_char) for c in cues]]))
"""


def test_concurrent_first_runs_both_succeed_and_agree(cache: Path) -> None:
    env = {**os.environ, warmstart.CACHE_ENV: str(cache)}
    procs = [subprocess.Popen([sys.executable, "-c", _RUN], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env) for _ in range(3)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _, err in outs]
    results = [json.loads(out) for out, _ in outs]
    assert len({json.dumps(cues) for _, cues in results}) == 1
    assert results[0][1]
    assert len(_states(cache)) == 1
    last = subprocess.run([sys.executable, "-c", _RUN], capture_output=True, text=True,
                          env=env, check=True)
    assert json.loads(last.stdout) == ["cache", results[0][1]]
