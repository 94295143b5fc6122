"""Start spaCy without its own command-line package, for the ``rapportnotes`` command.

Why: ``spacy/__init__.py`` imports ``spacy.cli.info`` unconditionally, and with it the whole
``spacy.cli`` package — typer, weasel, httpx, requests, every spaCy subcommand — 0.35–0.5 s
of the 1.1–1.2 s that ``import spacy`` costs here, a third of a CLI render with extraction.
The ``rapportnotes`` command never runs spaCy's CLI.

How: before spaCy is first imported, :func:`defer` puts two placeholder modules in
``sys.modules`` for ``spacy.cli`` and ``spacy.cli.info``. They are real packages to the
import system (``spacy.cli.<sub>`` files still import from spaCy's own folder), and the
first attribute asked of either — ``spacy.info()``, ``spacy.cli.download`` — imports the
real ``spacy.cli`` in their place and answers from it. Nothing of spaCy is changed on
disk; a process that never asks pays nothing.

Only the command calls this (``cli.main``), never a library import: an application that
imports ``rapportnotes`` gets spaCy exactly as spaCy imports itself. Set
``RAPPORTNOTES_EAGER_SPACY_CLI=1`` to skip it.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import types
from typing import Any

_NAMES = ("spacy.cli.info", "spacy.cli")


class _Deferred(types.ModuleType):
    """A placeholder that turns into the real module on the first missing attribute."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(_load(self.__name__), name)


def _load(name: str) -> types.ModuleType:
    for key in _NAMES:
        if isinstance(sys.modules.get(key), _Deferred):
            del sys.modules[key]
    importlib.import_module("spacy.cli")
    return importlib.import_module(name)


def _info(*args: Any, **kwargs: Any) -> Any:
    """``spacy.info``: spaCy's own, imported on first use."""
    return _load("spacy.cli.info").info(*args, **kwargs)


def defer() -> bool:
    """Install the placeholders if spaCy is not imported yet; True when they were."""
    if "spacy" in sys.modules or os.environ.get("RAPPORTNOTES_EAGER_SPACY_CLI"):
        return False
    try:
        spec = importlib.util.find_spec("spacy")
    except (ImportError, ValueError):
        return False
    if spec is None or not spec.submodule_search_locations:
        return False
    cli = _Deferred("spacy.cli")
    cli.__path__ = [os.path.join(p, "cli") for p in spec.submodule_search_locations]
    cli.__package__ = "spacy.cli"
    info = _Deferred("spacy.cli.info")
    info.__package__ = "spacy.cli"
    info.info = _info  # type: ignore[attr-defined]
    cli.info = info  # type: ignore[attr-defined]
    sys.modules["spacy.cli"] = cli
    sys.modules["spacy.cli.info"] = info
    return True


__all__ = ["defer"]
