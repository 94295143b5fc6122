"""Measure definitions, scoring and the measure registry, against hand-computed results."""

from __future__ import annotations

import json

import pytest

from rapportnotes.errors import MeasureError, PluginError
from rapportnotes.measures import (
    MeasureDefinition,
    MeasureScore,
    as_definition,
    get_measure,
    registry,
    score,
)
from rapportnotes.measures.builtin import CSRS, GSRS, ORS, SRS, WAI_SR

BUILTINS = {"srs": SRS, "ors": ORS, "csrs": CSRS, "gsrs": GSRS, "wai-sr": WAI_SR}


def codes(sc: MeasureScore) -> list[str]:
    return [f.code for f in sc.flags]


# --------------------------------------------------------------------------- built-ins


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_builtins_are_registered_through_entry_points(name: str) -> None:
    assert name in registry.names()
    assert get_measure(name) == BUILTINS[name]
    assert get_measure(name.upper()).name == name


def test_srs_hand_computed() -> None:
    sc = score("srs", [9, 9, 7, 9])
    assert sc.total == 34 and sc.total_max == 40
    assert [i.label for i in sc.items] == [
        "Relationship", "Goals and Topics", "Approach or Method", "Overall"]
    assert codes(sc) == ["alliance_concern", "item_low"]
    assert sc.flags[1].item == 3
    assert sc.interpretation == (
        "34/40 — below the 36 cutoff (possible alliance concern); "
        "low item 'Approach or Method' (7/10)")
    assert sc.below_cutoff is True


def test_srs_decimal_items_are_summed_exactly() -> None:
    sc = score("srs", [9.1, 9.2, 9.3, 9.4])
    assert sc.total == 37.0
    assert codes(sc) == []
    assert sc.interpretation == "37/40 — at or above the 36 cutoff"


@pytest.mark.parametrize(
    ("items", "below"),
    [([9, 9, 9, 9], False), ([9, 9, 9, 8.9], True), ([10, 10, 10, 5.9], True),
     ([10, 10, 10, 6], False)],
)
def test_srs_cutoff_boundary_36_vs_35_x(items: list[float], below: bool) -> None:
    sc = score("srs", items)
    assert ("alliance_concern" in codes(sc)) is below


@pytest.mark.parametrize(("value", "flagged"), [(9, False), (8.9, True), (8, True), (10, False)])
def test_srs_item_flag_boundary_9_vs_8(value: float, flagged: bool) -> None:
    sc = score("srs", [10, 10, value, 10])
    item_flags = [f for f in sc.flags if f.code == "item_low"]
    assert bool(item_flags) is flagged
    if flagged:
        assert item_flags[0].item == 3
        assert "Approach or Method" in item_flags[0].message


@pytest.mark.parametrize("name", ["csrs", "gsrs"])
def test_child_and_group_srs_use_srs_rules(name: str) -> None:
    sc = score(name, [9, 9, 8, 9], age=8 if name == "csrs" else 30)
    assert sc.total == 35
    assert codes(sc) == ["alliance_concern", "item_low"]
    ok = score(name, [9, 9, 9, 9], age=8 if name == "csrs" else 30)
    assert codes(ok) == []
    assert "ASSUMPTION" in (BUILTINS[name].source_note or "")


def test_csrs_labels() -> None:
    assert [i.label for i in CSRS.items] == ["Listening", "How Important", "What We Did",
                                             "Overall"]


@pytest.mark.parametrize(
    ("age", "total_items", "clinical", "band"),
    [
        (30, [7, 6, 6, 6], False, "adult"),        # 25: at the cutoff, not below
        (30, [6, 6, 6, 6], True, "adult"),         # 24
        (18, [6, 6, 6, 6], True, "adult"),
        (15, [7, 7, 7, 7], False, "adolescent (13-17)"),  # 28
        (15, [7, 7, 7, 6.9], True, "adolescent (13-17)"),  # 27.9
        (17, [7, 6, 6, 6], True, "adolescent (13-17)"),   # 25 is clinical for a teen
        (9, [8, 8, 8, 8], False, "child (6-12)"),  # 32
        (9, [8, 8, 8, 7], True, "child (6-12)"),   # 31
        (12, [7, 7, 7, 7], True, "child (6-12)"),  # 28 is clinical for a child
    ],
)
def test_ors_age_banded_cutoffs(age: int, total_items: list[float], clinical: bool,
                                band: str) -> None:
    sc = score("ors", total_items, age=age)
    assert len(sc.cutoffs) == 1
    assert sc.cutoffs[0].band == band
    assert sc.cutoffs[0].age_assumed is False
    assert ("clinical_range" in codes(sc)) is clinical


def test_ors_without_age_uses_adult_cutoff_and_says_so() -> None:
    sc = score("ors", [6, 6, 6, 6])
    assert sc.total == 24
    assert sc.cutoffs[0].value == 25 and sc.cutoffs[0].age_assumed is True
    assert "no age given, adult cutoff used" in sc.interpretation
    assert sc.interpretation.startswith("24/40 — below the adult 25 cutoff (clinical range")
    above = score("ors", [7, 6, 6, 6])
    assert "at or above the adult 25 cutoff" in above.interpretation
    assert "no age given" in above.interpretation


def test_ors_has_no_cutoff_under_six_and_flags_it() -> None:
    sc = score("ors", [5, 5, 5, 5], age=4)
    assert sc.cutoffs == []
    assert "no_cutoff_for_age" in codes(sc)
    assert "age_outside_population" in codes(sc)


def test_ors_reliable_change_and_no_item_flag() -> None:
    assert ORS.reliable_change is not None and ORS.reliable_change.points == 5
    assert ORS.item_flag is None
    assert "item_low" not in codes(score("ors", [1, 10, 10, 10]))


def test_wai_sr_hand_computed_subscales() -> None:
    items = [4, 4, 3, 5, 4, 4, 3, 5, 4, 4, 5, 4]
    sc = score("wai-sr", items)
    assert sc.total == 49 and (sc.total_min, sc.total_max) == (12, 60)
    # Task = 1, 2, 10, 12; Goal = 4, 6, 8, 11; Bond = 3, 5, 7, 9
    assert sc.subscales == {"Task": 4 + 4 + 4 + 4, "Goal": 5 + 4 + 5 + 5,
                            "Bond": 3 + 4 + 3 + 4}
    assert sc.subscale_max == {"Task": 20, "Goal": 20, "Bond": 20}
    assert WAI_SR.reversed_items == []
    assert sc.cutoffs == [] and sc.flags == []
    assert "Task 16/20, Goal 19/20, Bond 14/20" in sc.interpretation
    assert score("wai-sr", [1] * 12).total == 12
    assert score("wai-sr", [5] * 12).total == 60


def test_definitions_ship_no_item_wording() -> None:
    for d in BUILTINS.values():
        assert all(len(i.label) <= 30 for i in d.items), d.name


# --------------------------------------------------------------------------- errors


def test_out_of_range_item_names_number_and_label_not_value() -> None:
    with pytest.raises(MeasureError) as exc:
        score("srs", [9, 10.5, 9, 9])
    msg = str(exc.value)
    assert "item 2" in msg and "Goals and Topics" in msg and "0-10" in msg
    assert "10.5" not in msg
    with pytest.raises(MeasureError, match=r"item 1 \('Clearer how to change'\)"):
        score("wai-sr", [0] + [3] * 11)
    with pytest.raises(MeasureError, match="item 4"):
        score("srs", [9, 9, 9, float("nan")])


def test_missing_items_are_named() -> None:
    with pytest.raises(MeasureError) as exc:
        score("srs", [9, 9])
    msg = str(exc.value)
    assert "needs 4 items, got 2" in msg
    assert "item 3 ('Approach or Method')" in msg and "item 4 ('Overall')" in msg


def test_extra_items_are_named() -> None:
    with pytest.raises(MeasureError, match=r"has 4 items, got 6: unexpected item 5, item 6"):
        score("ors", [5, 5, 5, 5, 5, 5])


def test_unknown_measure_lists_available_names() -> None:
    with pytest.raises(PluginError) as exc:
        get_measure("srs2")
    msg = str(exc.value)
    assert "unknown measure 'srs2'" in msg
    for name in BUILTINS:
        assert name in msg


# --------------------------------------------------------------------------- custom definitions


def custom(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "name": "custom", "short_name": "CUS", "title": "Custom scale", "kind": "alliance",
        "citation": "test",
        "items": [{"label": f"Item {i}", "min": 1, "max": 5} for i in range(1, 5)],
        "reversed_items": [2, 4],
        "subscales": {"A": [1, 2], "B": [3, 4]},
        "total_min": 4, "total_max": 20,
        "cutoffs": [{"value": 12, "direction": "at_or_below", "code": "low",
                     "meaning": "low alliance"}],
        "item_flag": {"threshold": 1, "direction": "at_or_below"},
    }
    base.update(overrides)
    return base


def test_reversed_items_on_custom_definition() -> None:
    defn = MeasureDefinition.model_validate(custom())
    sc = score(defn, [5, 1, 4, 2])
    # reversed: item 2 -> 1 + 5 - 1 = 5, item 4 -> 1 + 5 - 2 = 4
    assert [i.scored for i in sc.items] == [5, 5, 4, 4]
    assert [i.reversed for i in sc.items] == [False, True, False, True]
    assert sc.total == 18
    assert sc.subscales == {"A": 10, "B": 8}
    # item flags look at the raw answer
    assert [f.item for f in sc.flags if f.code == "item_low"] == [2]
    low = score(defn, [2, 5, 2, 5])  # scored 2 + 1 + 2 + 1 = 6 <= 12
    assert low.total == 6 and "low" in codes(low)
    assert "at or below the 12 cutoff (low alliance)" in low.interpretation


def test_at_or_below_boundary() -> None:
    defn = MeasureDefinition.model_validate(custom(reversed_items=[]))
    assert "low" in codes(score(defn, [3, 3, 3, 3]))   # 12
    assert "low" not in codes(score(defn, [3, 3, 3, 4]))  # 13


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"subscales": {"A": [1, 5]}}, "out of range 1..4"),
        ({"subscales": {"A": [0]}}, "out of range"),
        ({"subscales": {"A": []}}, "has no items"),
        ({"reversed_items": [7]}, "reversed_items"),
        ({"reversed_items": [2, 2]}, "listed twice"),
        ({"total_max": 21}, "does not match the items"),
        ({"items": [{"label": "x", "min": 5, "max": 1}] * 4}, "max must be greater"),
        ({"name": "Bad Name"}, "name"),
        ({"cutoffs": [{"value": 1, "code": "c", "meaning": "m", "age_min": 1, "age_max": 9}]},
         "when_age_unknown"),
        ({"cutoffs": [
            {"value": 1, "code": "c", "meaning": "m", "age_min": 1, "age_max": 9,
             "when_age_unknown": True},
            {"value": 2, "code": "c", "meaning": "m", "age_min": 9, "age_max": 20}]},
         "overlap"),
        ({"unknown_key": 1}, "unknown_key"),
    ],
)
def test_invalid_definitions_are_rejected(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MeasureDefinition.model_validate(custom(**overrides))


def test_registry_accepts_dict_and_json_path_and_rejects_other(tmp_path) -> None:
    path = tmp_path / "m.json"
    path.write_text(json.dumps(custom(name="from-file")), encoding="utf-8")
    assert as_definition(custom()).name == "custom"
    assert as_definition(str(path)).name == "from-file"
    with pytest.raises(TypeError):
        as_definition(42)
    with pytest.raises(ValueError):
        as_definition(tmp_path / "m.txt")
    registry.register("test-custom", custom(), replace=True)
    try:
        assert "test-custom" in registry.names()
        assert score("test-custom", [5, 1, 4, 2]).total == 18
    finally:
        registry.unregister("test-custom")
    assert "test-custom" not in registry.names()


def test_score_is_json_serialisable() -> None:
    data = json.loads(score("srs", [9, 9, 7, 9]).model_dump_json())
    assert data["total"] == 34 and data["subscales"] == {}
    assert data["flags"][1] == {"code": "item_low", "item": 3,
                                "message": "low item 3 'Approach or Method' (7/10): "
                                "below 9"}


def test_scores_are_cached_per_definition_object():
    from rapportnotes.measures import get_measure, score

    first = score("srs", [9, 8, 7, 9])
    assert score("srs", [9, 8, 7, 9]) is first  # a history is scored once per process
    assert score("srs", [9, 8, 7, 8]) is not first
    copy = get_measure("srs").model_copy()
    assert score(copy, [9, 8, 7, 9]) is not first and score(copy, [9, 8, 7, 9]) == first
