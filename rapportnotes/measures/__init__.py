"""Alliance and outcome measures: definitions as data, one scoring function, a registry.

Built-in measures (SRS, ORS, CSRS, GSRS, WAI-SR) and third-party ones are all found through
the ``rapportnotes.measures`` entry-point group, so a clinic can ship its own check-in as a
small package without touching rapportnotes. A plugin's entry point may name a
:class:`MeasureDefinition`, a plain ``dict`` or a path to a JSON file; all are validated
when first used and a bad one becomes a ``PluginError`` naming the package.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from ..plugins import MEASURES_GROUP, Registry
from .definition import (
    Cutoff,
    ItemDefinition,
    ItemFlagRule,
    MeasureDefinition,
    ReliableChange,
)
from .scoring import AppliedCutoff, Flag, MeasureScore, ScoredItem, score_definition


def as_definition(obj: object) -> MeasureDefinition:
    """Turn a plugin object into a validated :class:`MeasureDefinition`.

    Raises ``TypeError``/``ValueError`` (which the registry wraps in ``PluginError``).
    """
    if isinstance(obj, MeasureDefinition):
        return obj
    if isinstance(obj, Mapping):
        return MeasureDefinition.model_validate(dict(obj))
    if isinstance(obj, str | os.PathLike):
        path = Path(obj)
        if path.suffix != ".json":
            raise ValueError("a measure given as a path must be a .json file")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"cannot read measure file {path.name}: {exc}") from exc
        return MeasureDefinition.model_validate(data)
    raise TypeError(
        f"a measure must be a MeasureDefinition, a dict or a .json path, not "
        f"{type(obj).__name__}")


registry: Registry[MeasureDefinition] = Registry(MEASURES_GROUP, "measure", check=as_definition)
"""All measures: entry points in ``rapportnotes.measures`` plus in-process registrations."""


def get_measure(name: str) -> MeasureDefinition:
    """Return the registered measure ``name`` (case-insensitive); unknown names list the rest."""
    return registry.get(name.strip().lower())


def score(
    measure: str | MeasureDefinition, items: Sequence[float], *, age: int | None = None
) -> MeasureScore:
    """Score one administration.

    ``measure`` is a registered name or a definition. Missing, extra or out-of-range items
    raise :class:`~rapportnotes.errors.MeasureError` naming the item by number and label.
    ``age`` selects age-banded cutoffs (ORS); without it the adult band is used and the
    interpretation says so.
    """
    defn = measure if isinstance(measure, MeasureDefinition) else get_measure(measure)
    key = (id(defn), tuple(items), age)
    hit = _SCORES.get(key)
    if hit is not None and hit[0] is defn:  # the same definition object, not a reused id
        return hit[1]
    result = score_definition(defn, items, age=age)
    if len(_SCORES) >= _SCORES_MAX:
        _SCORES.clear()
    _SCORES[key] = (defn, result)
    return result


_ScoreKey = tuple[int, tuple[float, ...], int | None]
_SCORES: dict[_ScoreKey, tuple[MeasureDefinition, MeasureScore]] = {}
"""Scores are pure functions of (definition, items, age) and immutable: a client's history
is scored once per process, not once per note of a batch."""
_SCORES_MAX = 100_000


__all__ = [
    "AppliedCutoff",
    "Cutoff",
    "Flag",
    "ItemDefinition",
    "ItemFlagRule",
    "MeasureDefinition",
    "MeasureScore",
    "ReliableChange",
    "ScoredItem",
    "as_definition",
    "get_measure",
    "registry",
    "score",
]
