"""The built-in measure definitions, loaded from the JSON files shipped in this package.

The ``rapportnotes.measures`` entry points in pyproject.toml point here, so built-ins go
through the same registry path as third-party plugins. ``importlib.resources`` makes the
files load from a wheel or a zip as well as from a source checkout.
"""

from __future__ import annotations

import json
from importlib.resources import files

from .definition import MeasureDefinition


def load_builtin(filename: str) -> MeasureDefinition:
    """Load and validate a definition file shipped in ``rapportnotes/measures``."""
    text = files(__package__).joinpath(filename).read_text(encoding="utf-8")
    return MeasureDefinition.model_validate(json.loads(text))


SRS = load_builtin("srs.json")
ORS = load_builtin("ors.json")
CSRS = load_builtin("csrs.json")
GSRS = load_builtin("gsrs.json")
WAI_SR = load_builtin("wai_sr.json")

__all__ = ["CSRS", "GSRS", "ORS", "SRS", "WAI_SR", "load_builtin"]
