"""Registries over entry points, exercised with real dist-info directories on sys.path."""

from __future__ import annotations

import sys
import textwrap

import pytest

from rapportnotes.errors import PluginError
from rapportnotes.formats import SOAP, formats
from rapportnotes.plugins import Registry


def _dist(tmp_path, name: str, group: str, lines: str) -> None:
    info = tmp_path / f"{name}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[{group}]\n{textwrap.dedent(lines)}")


@pytest.fixture
def on_path(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for mod in [m for m in sys.modules if m.startswith("fakeplug")]:
        del sys.modules[mod]


def test_builtins_register_through_entry_points():
    assert {"soap", "dap"} <= set(formats.names())
    assert formats.get("soap") is SOAP
    info = {i.name: i for i in formats.info()}
    assert info["soap"].distribution == "package 'rapportnotes'"


def test_unknown_name_lists_what_exists():
    with pytest.raises(PluginError, match=r"unknown format 'birq'; available: .*dap.*soap"):
        formats.get("birq")


def test_duplicate_registration_disables_that_name_only(on_path):
    (on_path / "fakeplug_a.py").write_text("X = 1\nY = 2\n")
    _dist(on_path, "fakeplug_a", "test.dupes", "x = fakeplug_a:X\ny = fakeplug_a:Y\n")
    _dist(on_path, "fakeplug_b", "test.dupes", "x = fakeplug_b:X\n")
    reg: Registry[object] = Registry("test.dupes", "widget")
    assert reg.names() == ["x", "y"]
    with pytest.raises(PluginError, match=r"registered twice.*fakeplug_a.*fakeplug_b"):
        reg.get("x")
    assert reg.get("y") == 2
    (x_info,) = [i for i in reg.info() if i.name == "x"]
    assert "fakeplug_b" in (x_info.problem or "")


def test_a_plugin_cannot_replace_or_disable_a_builtin(on_path, capsys):
    from rapportnotes.cli import main
    from rapportnotes.exporters import exporters

    (on_path / "fakeplug_md.py").write_text("MD = object()\n")
    _dist(on_path, "fakeplug_md", "rapportnotes.exporters", "md = fakeplug_md:MD\n")
    (on_path / "fakeplug_boom.py").write_text("raise RuntimeError('boom')\n")
    _dist(on_path, "fakeplug_boom", "rapportnotes.exporters", "boom = fakeplug_boom:X\n")
    exporters.refresh()
    try:
        assert exporters.get("md").name == "md"  # the built-in
        assert any("fakeplug_md" in w for w in exporters.warnings())
        assert main(["formats"]) == 0
        out, err = capsys.readouterr()
        assert "boom" in out and "[BROKEN:" in out and "docx" in out
        assert "fakeplug_md" in err
    finally:
        exporters.refresh()


def test_broken_plugin_is_wrapped_with_its_package(on_path):
    (on_path / "fakeplug_broken.py").write_text("raise RuntimeError('boom at import')\n")
    _dist(on_path, "fakeplug_broken", "test.broken", "w = fakeplug_broken:W\n")
    reg: Registry[object] = Registry("test.broken", "widget")
    with pytest.raises(PluginError, match="'w' from package 'fakeplug_broken' failed to load"):
        reg.get("w")


def test_invalid_plugin_object_is_rejected(on_path):
    (on_path / "fakeplug_bad.py").write_text("NOT_A_FORMAT = 42\n")
    _dist(on_path, "fakeplug_bad", "rapportnotes.formats", "bad = fakeplug_bad:NOT_A_FORMAT\n")
    formats.refresh()
    try:
        with pytest.raises(PluginError, match="'bad' from package 'fakeplug_bad' is invalid"):
            formats.get("bad")
    finally:
        formats.refresh()


def test_in_process_registration_cannot_shadow_silently():
    with pytest.raises(PluginError, match="already registered"):
        formats.register("soap", SOAP)
