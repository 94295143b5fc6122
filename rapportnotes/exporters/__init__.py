"""Exporters: turn a Note into bytes of one file format.

An exporter is any object with ``name``, ``extension``, ``binary`` and
``export(note, *, template_dirs=()) -> bytes``; classes registered in the
``rapportnotes.exporters`` entry-point group are instantiated without arguments. Writing
the bytes to disk is not the exporter's job (``rapportnotes.io.write_atomic`` does it), so
no exporter can leave a half-written file behind.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from ..notes import Note
from ..plugins import EXPORTERS_GROUP, Registry


@runtime_checkable
class Exporter(Protocol):
    """What an exporter plugin provides."""

    name: str
    extension: str
    binary: bool
    description: str

    def export(self, note: Note, *,
               template_dirs: Sequence[str | os.PathLike[str]] = ()) -> bytes: ...


def _check_exporter(obj: object) -> Exporter:
    if isinstance(obj, type):
        obj = obj()
    if not isinstance(obj, Exporter):
        raise TypeError("an exporter needs name, extension, binary, description and export()")
    return obj


exporters: Registry[Exporter] = Registry(EXPORTERS_GROUP, "exporter", check=_check_exporter)
"""Registry of exporters (entry-point group ``rapportnotes.exporters``)."""

def exporter_for_extension(suffix: str) -> str | None:
    """The name of the exporter whose declared ``extension`` is ``suffix`` (".md", "docx");
    names win over extensions, so ``note.md`` is the ``md`` exporter even if a plugin also
    declares ".md". Broken plugins are skipped (``rapportnotes formats`` reports them)."""
    from ..errors import PluginError

    ext = "." + suffix.lower().lstrip(".")
    if ext[1:] in exporters.names():
        return ext[1:]
    for name in exporters.names():
        try:
            if str(exporters.get(name).extension).lower() == ext:
                return name
        except PluginError:
            continue
    return None


__all__ = ["Exporter", "exporter_for_extension", "exporters"]
