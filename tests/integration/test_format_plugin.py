"""A format plugin in a small package, installed with pip, found through its entry point."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "tests" / "data" / "plugin_birp"


def test_installed_format_plugin_is_listed_and_renders(tmp_path):
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--no-index", "--target", str(target), str(PLUGIN)],
        check=True, capture_output=True, text=True, timeout=180,
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), os.environ.get(
        "PYTHONPATH", "")])}
    listed = subprocess.run([sys.executable, "-m", "rapportnotes", "formats"], env=env,
                            capture_output=True, text=True, check=True, timeout=120)
    assert "birp-house" in listed.stdout and "rapportnotes-birp" in listed.stdout
    out = tmp_path / "note.md"
    session = ROOT / "examples" / "sessions" / "adult-cbt-withdrawal-repaired.json"
    subprocess.run([sys.executable, "-m", "rapportnotes", "render", str(session), "--format",
                    "birp-house", "--no-extract", "-o", str(out)], env=env, check=True,
                   capture_output=True, text=True, timeout=120)
    md = out.read_text(encoding="utf-8")
    assert md.startswith("# Progress Note — BIRP (house style)")
    for heading in ("## Behavior", "## Intervention", "## Response",
                    "## Rapport & Therapeutic Alliance", "## Plan"):
        assert heading in md
    assert "**Client response**:" in md
