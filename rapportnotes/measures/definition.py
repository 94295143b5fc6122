"""Measure definitions are data: a pydantic model and the rules that make one valid.

Alliance and outcome measures (SRS, ORS, WAI-SR, a clinic's own check-in) differ only in
numbers: item ranges, reversed items, subscales, cutoffs and a reliable change index. Keeping
them as validated data (JSON files shipped in the package or by a plugin) means adding a
measure never needs new scoring code, and a malformed definition is rejected when it is
loaded, not halfway through a clinical note.

Only short item labels are stored, never an instrument's item wording: several instruments
are copyrighted, and a progress note only needs to name which item was low.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

MeasureName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]
Direction = Literal["below", "at_or_below", "above", "at_or_above"]

_DIRECTION_WORDS: dict[str, str] = {
    "below": "below",
    "at_or_below": "at or below",
    "above": "above",
    "at_or_above": "at or above",
}


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def crosses(value: float, threshold: float, direction: Direction) -> bool:
    """True when ``value`` lies on the flagged side of ``threshold``.

    One function for cutoffs and item flags so "below 36" means the same thing everywhere
    (35.9 is below 36; 36 is not).
    """
    if direction == "below":
        return value < threshold
    if direction == "at_or_below":
        return value <= threshold
    if direction == "above":
        return value > threshold
    return value >= threshold


def direction_words(direction: Direction) -> str:
    """Human wording of a direction ("at or below")."""
    return _DIRECTION_WORDS[direction]


class ItemDefinition(_Data):
    """One item: a short label (never the item's wording) and its raw range."""

    label: str = Field(min_length=1, max_length=60, description="Short label, e.g. 'Overall'.")
    min: float = Field(description="Lowest raw score.")
    max: float = Field(description="Highest raw score.")

    @model_validator(mode="after")
    def _range(self) -> ItemDefinition:
        if self.max <= self.min:
            raise ValueError(f"item {self.label!r}: max must be greater than min")
        return self


class Cutoff(_Data):
    """A clinical cutoff on the total, optionally for an age band.

    ``direction`` says on which side of ``value`` the *flagged* range lies ("below" 36 =
    possible alliance concern). Age-banded measures (ORS) list one cutoff per band; exactly
    one band is marked ``when_age_unknown`` so scoring without an age is explicit, not a guess.
    """

    value: float
    direction: Direction = "below"
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="Flag code when crossed.")
    meaning: str = Field(min_length=1, description="e.g. 'possible alliance concern'.")
    band: str | None = Field(None, description="Age-band name shown to people, e.g. 'adult'.")
    age_min: int | None = Field(None, ge=0, description="Inclusive lower age of the band.")
    age_max: int | None = Field(None, ge=0, description="Inclusive upper age of the band.")
    when_age_unknown: bool = Field(
        False, description="Use this band when the client's age is not given.")
    source: str | None = None

    @property
    def age_banded(self) -> bool:
        """Whether this cutoff applies only to some ages."""
        return self.age_min is not None or self.age_max is not None

    def applies_to(self, age: int) -> bool:
        """Whether a client of ``age`` falls in this cutoff's band."""
        lo = self.age_min if self.age_min is not None else 0
        hi = self.age_max if self.age_max is not None else 10_000
        return lo <= age <= hi


class ItemFlagRule(_Data):
    """Flag each item on the given side of ``threshold`` (SRS: any item below 9)."""

    threshold: float
    direction: Direction = "below"
    code: str = Field("item_low", pattern=r"^[a-z][a-z0-9_]*$")
    action: str = Field("low", min_length=1,
                        description="The word that qualifies a flagged item, e.g. 'low' "
                        "('low item 3 …'). A fact, not an instruction: the note states what "
                        "was measured and the clinician writes the plan.")
    source: str | None = None


class ReliableChange(_Data):
    """Smallest change in the total that is unlikely to be measurement error."""

    points: float = Field(gt=0)
    source: str | None = None


class MeasureDefinition(_Data):
    """A complete, self-validating description of how to score one measure."""

    name: MeasureName = Field(description="Registry name, e.g. 'srs'.")
    short_name: str = Field(min_length=1, max_length=20, description="Display name, e.g. 'SRS'.")
    title: str = Field(min_length=1, description="e.g. 'Session Rating Scale'.")
    kind: Literal["alliance", "outcome", "other"] = Field(
        description="Alliance measures feed the alliance-at-risk rules; outcome measures the "
        "deterioration rule.")
    citation: str = Field(min_length=1, description="Where the measure comes from.")
    source_note: str | None = Field(
        None, description="Where cutoffs/rules come from and any assumption made here.")
    population: str | None = Field(None, description="Who the measure is for.")
    age_min: int | None = Field(None, ge=0)
    age_max: int | None = Field(None, ge=0)
    higher_is_better: bool = True
    items: list[ItemDefinition] = Field(min_length=1, max_length=200)
    reversed_items: list[int] = Field(
        default_factory=list, description="1-based items scored as min + max - raw.")
    subscales: dict[str, list[int]] = Field(
        default_factory=dict, description="Subscale name → 1-based item numbers (summed).")
    total_min: float
    total_max: float
    cutoffs: list[Cutoff] = Field(default_factory=list)
    item_flag: ItemFlagRule | None = None
    reliable_change: ReliableChange | None = None

    @model_validator(mode="after")
    def _consistent(self) -> MeasureDefinition:
        n = len(self.items)

        def check_numbers(where: str, numbers: list[int]) -> None:
            bad = [i for i in numbers if not 1 <= i <= n]
            if bad:
                raise ValueError(f"{where}: item number(s) {bad} out of range 1..{n}")
            if len(set(numbers)) != len(numbers):
                raise ValueError(f"{where}: an item number is listed twice")

        check_numbers("reversed_items", self.reversed_items)
        for sub, numbers in self.subscales.items():
            if not numbers:
                raise ValueError(f"subscale {sub!r} has no items")
            check_numbers(f"subscale {sub!r}", numbers)
        lo = sum(i.min for i in self.items)
        hi = sum(i.max for i in self.items)
        if (self.total_min, self.total_max) != (lo, hi):
            raise ValueError(
                f"total range {self.total_min:g}-{self.total_max:g} does not match the items "
                f"({lo:g}-{hi:g})")
        codes: dict[str, list[Cutoff]] = {}
        for c in self.cutoffs:
            codes.setdefault(c.code, []).append(c)
        for code, group in codes.items():
            banded = [c for c in group if c.age_banded]
            if banded and len(banded) != len(group):
                raise ValueError(f"cutoff {code!r}: mix of age-banded and unbanded cutoffs")
            if not banded and len(group) > 1:
                raise ValueError(f"cutoff {code!r} is defined twice")
            if banded and sum(c.when_age_unknown for c in group) != 1:
                raise ValueError(
                    f"cutoff {code!r}: exactly one age band must set when_age_unknown")
            for a in banded:
                if a.age_min is not None and a.age_max is not None and a.age_max < a.age_min:
                    raise ValueError(f"cutoff {code!r}: age_max below age_min")
                for b in banded:
                    if a is not b and _overlap(a, b):
                        raise ValueError(f"cutoff {code!r}: age bands overlap")
        return self

    def item_label(self, number: int) -> str:
        """Label of 1-based item ``number``."""
        return self.items[number - 1].label

    def subscale_range(self, name: str) -> tuple[float, float]:
        """(min, max) of a subscale sum."""
        numbers = self.subscales[name]
        return (sum(self.items[i - 1].min for i in numbers),
                sum(self.items[i - 1].max for i in numbers))

    def cutoffs_for(self, age: int | None) -> list[tuple[Cutoff, bool]]:
        """Cutoffs that apply at ``age``, each with whether the age was assumed.

        Without an age the band marked ``when_age_unknown`` is used (True in the pair), so
        the interpretation can say the adult cutoff was assumed.
        """
        out: list[tuple[Cutoff, bool]] = []
        for c in self.cutoffs:
            if not c.age_banded:
                out.append((c, False))
            elif age is None:
                if c.when_age_unknown:
                    out.append((c, True))
            elif c.applies_to(age):
                out.append((c, False))
        return out

    @classmethod
    def from_json_file(cls, path: str | os.PathLike[str]) -> MeasureDefinition:
        """Load and validate a definition from a JSON file."""
        text = Path(path).read_text(encoding="utf-8")
        return cls.model_validate(json.loads(text))


def _overlap(a: Cutoff, b: Cutoff) -> bool:
    a_lo, a_hi = a.age_min or 0, a.age_max if a.age_max is not None else 10_000
    b_lo, b_hi = b.age_min or 0, b.age_max if b.age_max is not None else 10_000
    return a_lo <= b_hi and b_lo <= a_hi
