"""A measure plugin installed with pip is found through the entry point and scores.

The test builds a throw-away venv in ``tmp_path``, makes the outer environment's packages
(pydantic, pip, setuptools, wheel) visible through a ``.pth`` line, and installs a copy of
the project plus ``examples/plugins/felt_safety`` without network or build isolation. The
project is copied first so the build never writes ``build/`` or ``*.egg-info`` into the
working tree.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sysconfig
import venv
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "examples" / "plugins" / "felt_safety"

CHECK = r"""
import json
from importlib.metadata import distribution
from rapportnotes.measures import get_measure, registry, score

defn = get_measure("felt-safety")
sc = score("felt-safety", [5, 4, 4, 5, 4, 3, 5, 2, 4])
print(json.dumps({
    "names": registry.names(),
    "total": sc.total,
    "total_max": sc.total_max,
    "flags": [f.code for f in sc.flags],
    "low": score("felt-safety", [3] * 9).interpretation,
    "plugin_dist": str(distribution("rapportnotes-felt-safety").locate_file("")),
    "srs": score("srs", [9, 9, 9, 9]).total,
}))
"""


def _require_build_backend() -> None:
    """Without build isolation the outer setuptools builds; it must meet pyproject's pin."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    pin = re.search(r'"setuptools>=(\d+)', text)
    have = int(metadata.version("setuptools").split(".")[0])
    if pin and have < int(pin.group(1)):
        pytest.skip(f"setuptools {have} is older than the build requirement "
                    f">={pin.group(1)}; install it to run this test")


def _copy_project(dest: Path) -> Path:
    dest.mkdir()
    shutil.copy2(ROOT / "pyproject.toml", dest / "pyproject.toml")
    readme = ROOT / "README.md"
    (dest / "README.md").write_text(
        readme.read_text(encoding="utf-8") if readme.exists() else "rapportnotes\n",
        encoding="utf-8")
    shutil.copytree(ROOT / "rapportnotes", dest / "rapportnotes",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return dest


def test_pip_installed_plugin_registers_felt_safety(tmp_path: Path) -> None:
    for needed in ("pip", "setuptools"):  # build tools, looked up without importing them
        if importlib.util.find_spec(needed) is None:
            pytest.skip(f"{needed} is not installed in the test environment")
    _require_build_backend()
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False, symlinks=os.name != "nt")
    bindir = "Scripts" if os.name == "nt" else "bin"
    python = env_dir / bindir / ("python.exe" if os.name == "nt" else "python")
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True).stdout.strip()
    outer = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    Path(site).mkdir(parents=True, exist_ok=True)
    (Path(site) / "_outer_env.pth").write_text("\n".join(outer) + "\n", encoding="utf-8")

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PIP_NO_INPUT"] = "1"
    project = _copy_project(tmp_path / "project")
    plugin = tmp_path / "felt_safety"
    shutil.copytree(PLUGIN, plugin, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "--no-build-isolation",
         "--no-index", "--ignore-installed", "--disable-pip-version-check", "-q",
         str(project), str(plugin)],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=240)
    assert install.returncode == 0, install.stdout + install.stderr

    run = subprocess.run([str(python), "-c", CHECK], capture_output=True, text=True, env=env,
                         cwd=tmp_path, timeout=60)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert "felt-safety" in result["names"]
    assert {"srs", "ors", "csrs", "gsrs", "wai-sr"} <= set(result["names"])
    assert result["total"] == 36 and result["total_max"] == 45
    assert result["flags"] == ["item_low"]  # 36 is not below 36; item 8 (2) is <= 2
    assert result["low"].startswith("27/45 — below the 36 cutoff")
    assert Path(result["plugin_dist"]).resolve().is_relative_to(env_dir.resolve())
    assert result["srs"] == 36
