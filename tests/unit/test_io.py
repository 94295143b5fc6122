from __future__ import annotations

import json
import os

import pytest

from rapportnotes.errors import ExportError, InputError
from rapportnotes.io import load_history, load_session, write_atomic
from tests.conftest import write_json


def test_bad_json_names_file_and_line(tmp_path):
    p = tmp_path / "s.json"
    p.write_text('{\n  "client": {"id": "A"},\n  oops\n}', encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_session(p)
    msg = str(err.value)
    assert str(p) in msg and "line 3" in msg and "\n" not in msg


def test_not_utf8(tmp_path):
    p = tmp_path / "s.json"
    p.write_bytes(b'{"a": "\xff"}')
    with pytest.raises(InputError, match="not UTF-8"):
        load_session(p)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        load_session(tmp_path / "nope.json")
    with pytest.raises(InputError, match="is a directory"):
        load_session(tmp_path)


def test_validation_error_names_field_not_value(tmp_path, minimal):
    minimal["session"]["date"] = "SECRET-VALUE"
    p = write_json(tmp_path / "s.json", minimal)
    with pytest.raises(InputError) as err:
        load_session(p)
    msg = str(err.value)
    assert "session.date" in msg
    assert "SECRET-VALUE" not in msg


def test_wrong_top_level_type(tmp_path):
    p = write_json(tmp_path / "s.json", [1, 2])
    with pytest.raises(InputError, match="expected a JSON object"):
        load_session(p)


def test_history_list_and_folder_sorted(tmp_path, minimal):
    a = json.loads(json.dumps(minimal))
    b = json.loads(json.dumps(minimal))
    b["session"]["date"] = "2026-04-01"
    p = write_json(tmp_path / "h.json", [a, b])
    hist = load_history(p)
    assert [s.session.date.isoformat() for s in hist] == ["2026-04-01", "2026-05-04"]
    folder = tmp_path / "sessions"
    folder.mkdir()
    write_json(folder / "1.json", a)
    write_json(folder / "2.json", b)
    assert [s.session.date.isoformat() for s in load_history(folder)] == [
        "2026-04-01", "2026-05-04"]


def test_history_error_names_index(tmp_path, minimal):
    bad = json.loads(json.dumps(minimal))
    del bad["client"]["id"]
    p = write_json(tmp_path / "h.json", [minimal, bad])
    with pytest.raises(InputError, match=r"\[1\]\.client\.id"):
        load_history(p)


def test_history_refuses_mixed_clients(tmp_path, minimal):
    other = json.loads(json.dumps(minimal))
    other["client"]["id"] = "T-0002"
    p = write_json(tmp_path / "h.json", [minimal, other])
    with pytest.raises(InputError, match="mixes 2 different client ids"):
        load_history(p)


def test_write_atomic_replaces_and_leaves_no_temp(tmp_path):
    target = tmp_path / "note.md"
    target.write_text("old")
    write_atomic(target, "new")
    assert target.read_text() == "new"
    assert os.listdir(tmp_path) == ["note.md"]
    assert (target.stat().st_mode & 0o077) == 0  # PHI: owner-only


def test_write_atomic_missing_directory(tmp_path):
    with pytest.raises(ExportError, match="does not exist"):
        write_atomic(tmp_path / "missing" / "note.md", "x")
    assert not (tmp_path / "missing").exists()


def test_write_atomic_failure_leaves_nothing(tmp_path, monkeypatch):
    def boom(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(ExportError, match="No space left"):
        write_atomic(tmp_path / "note.md", "x")
    assert os.listdir(tmp_path) == []


def test_dump_sessions_round_trips(tmp_path):
    from rapportnotes.io import dump_sessions

    original = load_history(_examples_history())
    p = tmp_path / "h.json"
    p.write_text(dump_sessions(original), encoding="utf-8")
    assert load_history(p) == original


def _examples_history():
    from tests.conftest import ROOT

    return ROOT / "examples" / "history" / "drifting.json"
