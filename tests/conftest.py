"""Shared fixtures. Tests stand alone: nothing here reads ../shared."""

from __future__ import annotations

import atexit
import copy
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

# The warm-start cache of compiled rules (extractors/warmstart.py): one private folder for
# the whole run (CLI subprocesses inherit it), never the user's ~/.cache.
if "RAPPORTNOTES_CACHE_DIR" not in os.environ:
    _CACHE = tempfile.mkdtemp(prefix="rapportnotes-test-cache-")
    os.environ["RAPPORTNOTES_CACHE_DIR"] = _CACHE
    atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "sessions"

MINIMAL: dict[str, Any] = {
    "client": {"id": "T-0001"},
    "clinician": {"name": "Test Clinician"},
    "session": {"date": "2026-05-04", "start_time": "09:00", "end_time": "09:50"},
}


@pytest.fixture
def minimal() -> dict[str, Any]:
    """The least a session file can contain."""
    return copy.deepcopy(MINIMAL)


@pytest.fixture
def example_paths() -> list[Path]:
    paths = sorted(EXAMPLES.glob("*.json"))
    assert len(paths) >= 5
    return paths


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path
