"""Score one administration of a measure against its definition.

Scoring is a pure function of (definition, raw items, age). The result carries both the
numbers and one human sentence so the note, the CLI and a vendor all say the same thing.
Errors name the item by number and label and never echo the raw values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from ..errors import MeasureError
from .definition import Cutoff, Direction, MeasureDefinition, crosses, direction_words


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class ScoredItem(_Out):
    """One item: its raw answer and the value that counts toward the total."""

    number: int = Field(description="1-based item number.")
    label: str
    raw: float
    scored: float = Field(description="Equals raw unless the item is reversed.")
    max: float
    reversed: bool = False


class Flag(_Out):
    """Something the clinician should notice, with a stable code for software."""

    code: str
    message: str
    item: int | None = Field(None, description="1-based item number when item-specific.")


class AppliedCutoff(_Out):
    """The cutoff used for this score and on which side the total fell."""

    code: str
    value: float
    direction: Direction
    meaning: str
    band: str | None = None
    age_assumed: bool = Field(False, description="True when no age was given and the "
                              "default (adult) band was used.")
    crossed: bool


class MeasureScore(_Out):
    """A scored administration (JSON-serialisable with ``model_dump(mode='json')``)."""

    measure: str
    short_name: str
    title: str
    kind: str
    items: list[ScoredItem]
    total: float
    total_min: float
    total_max: float
    subscales: dict[str, float] = Field(default_factory=dict)
    subscale_max: dict[str, float] = Field(default_factory=dict)
    cutoffs: list[AppliedCutoff] = Field(default_factory=list)
    flags: list[Flag] = Field(default_factory=list)
    age: int | None = None
    interpretation: str

    @property
    def below_cutoff(self) -> bool | None:
        """Whether any applicable cutoff was crossed (None when the measure has none)."""
        if not self.cutoffs:
            return None
        return any(c.crossed for c in self.cutoffs)


def fmt(value: float) -> str:
    """Format a score without spurious decimals (36, 35.5)."""
    return f"{round(value, 2):g}"


def _validate_items(defn: MeasureDefinition, items: Sequence[float]) -> list[float]:
    n = len(defn.items)
    values = list(items)
    if len(values) < n:
        missing = ", ".join(
            f"item {i} ({defn.item_label(i)!r})" for i in range(len(values) + 1, n + 1))
        raise MeasureError(
            f"{defn.short_name} needs {n} items, got {len(values)}: missing {missing}")
    if len(values) > n:
        extra = ", ".join(f"item {i}" for i in range(n + 1, len(values) + 1))
        raise MeasureError(
            f"{defn.short_name} has {n} items, got {len(values)}: unexpected {extra}")
    out: list[float] = []
    for number, (value, item) in enumerate(zip(values, defn.items, strict=True), start=1):
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise MeasureError(
                f"{defn.short_name} item {number} ({item.label!r}) is not a number") from None
        if math.isnan(v) or not item.min <= v <= item.max:
            raise MeasureError(
                f"{defn.short_name} item {number} ({item.label!r}) is out of range; "
                f"expected {fmt(item.min)}-{fmt(item.max)}")
        out.append(v)
    return out


def score_definition(
    defn: MeasureDefinition, items: Sequence[float], *, age: int | None = None
) -> MeasureScore:
    """Score ``items`` with ``defn`` (see :func:`rapportnotes.measures.score`)."""
    raw = _validate_items(defn, items)
    reversed_set = set(defn.reversed_items)
    scored_items: list[ScoredItem] = []
    for number, (value, item) in enumerate(zip(raw, defn.items, strict=True), start=1):
        rev = number in reversed_set
        scored = item.min + item.max - value if rev else value
        scored_items.append(ScoredItem(number=number, label=item.label, raw=value,
                                       scored=scored, max=item.max, reversed=rev))
    total = round(sum(s.scored for s in scored_items), 6)
    subscales = {
        name: round(sum(scored_items[i - 1].scored for i in numbers), 6)
        for name, numbers in defn.subscales.items()
    }
    subscale_max = {name: defn.subscale_range(name)[1] for name in defn.subscales}

    flags: list[Flag] = []
    applied: list[AppliedCutoff] = []
    for cutoff, assumed in defn.cutoffs_for(age):
        crossed = crosses(total, cutoff.value, cutoff.direction)
        applied.append(AppliedCutoff(
            code=cutoff.code, value=cutoff.value, direction=cutoff.direction,
            meaning=cutoff.meaning, band=cutoff.band, age_assumed=assumed, crossed=crossed))
        if crossed:
            flags.append(Flag(code=cutoff.code, message=_cutoff_phrase(total, cutoff, assumed)))
    if defn.cutoffs and not applied and age is not None:
        flags.append(Flag(code="no_cutoff_for_age",
                          message=f"no {defn.short_name} cutoff is defined for age {age}"))
    if age is not None and not _in_population(defn, age):
        flags.append(Flag(code="age_outside_population",
                          message=f"{defn.short_name} is intended for "
                          f"{defn.population or 'another age group'}"))
    low_items: list[ScoredItem] = []
    if defn.item_flag is not None:
        rule = defn.item_flag
        for s in scored_items:
            if crosses(s.raw, rule.threshold, rule.direction):
                low_items.append(s)
                flags.append(Flag(
                    code=rule.code, item=s.number,
                    message=f"{rule.action} item {s.number} '{s.label}' "
                    f"({fmt(s.raw)}/{fmt(s.max)}): {direction_words(rule.direction)} "
                    f"{fmt(rule.threshold)}"))

    return MeasureScore(
        measure=defn.name, short_name=defn.short_name, title=defn.title, kind=defn.kind,
        items=scored_items, total=total, total_min=defn.total_min, total_max=defn.total_max,
        subscales=subscales, subscale_max=subscale_max, cutoffs=applied, flags=flags, age=age,
        interpretation=_interpret(defn, total, subscales, applied, low_items, age),
    )


_OPPOSITE = {"below": "at or above", "at_or_below": "above", "above": "at or below",
             "at_or_above": "below"}


def _in_population(defn: MeasureDefinition, age: int) -> bool:
    if defn.age_min is not None and age < defn.age_min:
        return False
    return not (defn.age_max is not None and age > defn.age_max)


def _cutoff_phrase(total: float, cutoff: Cutoff, assumed: bool) -> str:
    band = f" {cutoff.band}" if cutoff.band else ""
    note = "; no age given, adult cutoff used" if assumed else ""
    return (f"{fmt(total)} is {direction_words(cutoff.direction)} the{band} cutoff of "
            f"{fmt(cutoff.value)} ({cutoff.meaning}{note})")


def _interpret(
    defn: MeasureDefinition,
    total: float,
    subscales: dict[str, float],
    applied: list[AppliedCutoff],
    low_items: list[ScoredItem],
    age: int | None,
) -> str:
    """One sentence, e.g. "34/40 — below the 36 cutoff (possible alliance concern); …"."""
    parts: list[str] = []
    for c in applied:
        band = f"{c.band} " if c.band else ""
        assumed = "; no age given, adult cutoff used" if c.age_assumed else ""
        if c.crossed:
            parts.append(f"{direction_words(c.direction)} the {band}{fmt(c.value)} cutoff "
                         f"({c.meaning}{assumed})")
        else:
            parts.append(f"{_OPPOSITE[c.direction]} the {band}{fmt(c.value)} cutoff"
                         f"{' (' + assumed[2:] + ')' if assumed else ''}")
    if not defn.cutoffs:
        parts.append("no clinical cutoff defined")
    elif not applied:
        parts.append(f"no cutoff defined for age {age}")
    head = f"{fmt(total)}/{fmt(defn.total_max)} — " + "; ".join(parts)
    if subscales:
        head += "; " + ", ".join(
            f"{name} {fmt(v)}/{fmt(defn.subscale_range(name)[1])}"
            for name, v in subscales.items())
    if low_items and defn.item_flag is not None:
        # the two most extreme flagged items: a summary-level note, the table has the rest
        shown = sorted(low_items, key=lambda s: s.raw / s.max if s.max else s.raw,
                       reverse=defn.item_flag.direction == "above")[:2]
        items = ", ".join(f"'{s.label}' ({fmt(s.raw)}/{fmt(s.max)})" for s in shown)
        head += f"; {defn.item_flag.action} item{'s' if len(shown) > 1 else ''} {items}"
    return head
