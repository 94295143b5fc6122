"""Trajectory: series, changes, ruptures, attendance and each alliance-at-risk rule."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from rapportnotes.cues import Cue
from rapportnotes.errors import InputError, MeasureError
from rapportnotes.models import SessionObservation
from rapportnotes.trajectory import Trajectory, TrajectoryConfig, build_trajectory

ROOT = Path(__file__).resolve().parents[2]
HISTORY = ROOT / "examples" / "history"
START = date(2026, 3, 2)


def srs_items(total: float) -> list[float]:
    """Four SRS items summing to ``total``, all ≥ 9 when total ≥ 36."""
    return [total / 4] * 4


def sess(n: int, *, srs: float | None = 38, ors: float | None = None, late: int = 0,
         no_shows: int = 0, cancels: int = 0, left: int = 0,
         ruptures: list[dict[str, Any]] | None = None, fit: bool = False,
         age: int | None = 35, day: int | None = None) -> SessionObservation:
    measures = []
    if ors is not None:
        measures.append({"measure": "ors", "items": [ors / 4] * 4, "administered": "start"})
    if srs is not None:
        measures.append({"measure": "srs", "items": srs_items(srs), "administered": "end"})
    data: dict[str, Any] = {
        "client": {"id": "T-1", "age": age},
        "clinician": {"name": "Test Clinician"},
        "session": {"date": (START + timedelta(days=7 * (n - 1) if day is None else day))
                    .isoformat(), "start_time": "09:00", "end_time": "09:50", "number": n},
        "rapport": {
            "measures": measures,
            "attendance": {"minutes_late": late, "left_early_minutes": left,
                           "no_shows_since_last": no_shows,
                           "cancellations_since_last": cancels},
            "ruptures": ruptures or [],
        },
    }
    if fit:
        data["rapport"]["fit_concern"] = {"concern": "Client unsure the approach fits."}
    return SessionObservation.model_validate(data)


def rupture(resolved: str, kind: str = "withdrawal") -> dict[str, Any]:
    marker = ("withdrawal.minimal_response" if kind == "withdrawal"
              else "confrontation.complaint_therapist")
    return {"kind": kind, "markers": [marker], "repairs": ["repair.invite_discussion"],
            "resolved": resolved}


def cue(label: str, *, finding: bool = True) -> Cue:
    cat, sub = label.split(".")
    return Cue(label=label, category=cat, subtype=sub, text="x", start_char=0, end_char=1,
               sentence="x", is_finding=finding)


def steady(n: int = 6) -> list[SessionObservation]:
    return [sess(i, srs=38 + (i % 2), ors=20 + i) for i in range(1, n + 1)]


def dump(s: SessionObservation) -> dict[str, Any]:
    """A session as input JSON (without derived fields such as duration_minutes)."""
    data = s.model_dump(mode="json", exclude_none=True)
    data["session"].pop("duration_minutes", None)
    return data


def reason_codes(tr: Trajectory) -> list[str]:
    return [r.code for r in tr.reasons]


# --------------------------------------------------------------------------- series


def test_series_changes_and_reliable_change() -> None:
    sessions = [sess(1, srs=38, ors=18), sess(2, srs=36, ors=21),
                sess(3, srs=37, ors=23), sess(4, srs=37, ors=16)]
    tr = build_trajectory(sessions)
    ors = tr.measures["ors"].points
    assert [p.total for p in ors] == [18, 21, 23, 16]
    assert [p.change_from_first for p in ors] == [0, 3, 5, -2]
    assert [p.change_from_previous for p in ors] == [None, 3, 2, -7]
    assert [p.reliable_change for p in ors] == [False, False, True, False]
    assert [p.below_cutoff for p in ors] == [True, True, True, True]
    srs = tr.measures["srs"].points
    assert [p.reliable_change for p in srs] == [None] * 4  # SRS has no RCI
    assert [p.session.number for p in srs] == [1, 2, 3, 4]
    assert tr.measures["ors"].reliable_change_index == 5


def test_sessions_are_sorted_by_date_with_their_cues() -> None:
    sessions = [sess(3, srs=30), sess(1, srs=38), sess(2, srs=35)]
    cues = [[cue("withdrawal.denial")] * 3, [], [cue("withdrawal.denial")]]
    tr = build_trajectory(sessions, cues=cues)
    assert [p.total for p in tr.measures["srs"].points] == [38, 35, 30]
    assert tr.withdrawal_cues == [0, 1, 3]


def test_trend_text_and_previous_session_unresolved() -> None:
    sessions = [sess(1, srs=37), sess(2, srs=34, ruptures=[rupture("partly")]),
                sess(3, srs=34, ruptures=[rupture("no")])]
    tr = build_trajectory(sessions)
    assert tr.trend_text("srs") == "SRS 34 → 34, unchanged"
    assert tr.trend_text("srs", 1) == "SRS 37 → 34, falling 3"
    assert tr.trend_text("srs", START + timedelta(days=8)) == "SRS 37 → 34, falling 3"
    assert tr.trend_text("srs", 0) == "SRS 37 (first administration)"
    assert tr.trend_text("ors") is None
    assert tr.trend_text("srs", START - timedelta(days=1)) is None
    prev = tr.previous_session_unresolved()
    assert [(r.session.number, r.resolved) for r in prev] == [(2, "partly")]
    # a note for a new session after the history: previous = the latest in the history
    after = tr.previous_session_unresolved(START + timedelta(days=30))
    assert [(r.session.number, r.resolved) for r in after] == [(3, "no")]
    assert tr.previous_session_unresolved(0) == []


def test_trend_text_marks_reliable_change() -> None:
    tr = build_trajectory([sess(1, ors=16), sess(2, ors=19), sess(3, ors=22)])
    # the last step is below the RCI (no reliable change) though the course since the first
    # administration is above it
    assert tr.trend_text("ors") == ("ORS 19 → 22, rising 3 (no reliable change); reliably "
                                    "better than first (+6)")


def test_respondent_series_kept_apart() -> None:
    s = dump(sess(1, srs=38))
    s["rapport"]["measures"].append({"measure": "srs", "items": [5, 5, 5, 5],
                                     "respondent": "mother"})
    tr = build_trajectory([SessionObservation.model_validate(s)])
    assert tr.measures["srs"].points[0].total == 38
    assert tr.measures["srs (mother)"].points[0].total == 20


def test_unknown_measure_is_noted_and_bad_items_name_the_session() -> None:
    s = dump(sess(1, srs=38))
    s["rapport"]["measures"].append({"measure": "not-installed", "items": [1]})
    tr = build_trajectory([SessionObservation.model_validate(s)])
    assert "not-installed" in tr.notes[0]
    s["rapport"]["measures"] = [{"measure": "srs", "items": [9, 9, 9]}]
    with pytest.raises(MeasureError, match=r"session #1 .*rapport.measures\[0\].*item 4"):
        build_trajectory([SessionObservation.model_validate(s)])


def test_input_errors() -> None:
    with pytest.raises(InputError):
        build_trajectory([])
    with pytest.raises(InputError, match="2 lists for 3 sessions"):
        build_trajectory(steady(3), cues=[[], []])


# --------------------------------------------------------------------------- ruptures


def test_repair_rate_and_carry_forward() -> None:
    sessions = [sess(1, ruptures=[rupture("yes"), rupture("no", "confrontation")]),
                sess(2, ruptures=[rupture("partly")]),
                sess(3, ruptures=[rupture("no"), rupture("yes")])]
    tr = build_trajectory(sessions)
    r = tr.ruptures
    assert r.total == 5
    assert r.by_kind == {"confrontation": 1, "withdrawal": 4}
    assert r.by_marker == {"confrontation.complaint_therapist": 1,
                           "withdrawal.minimal_response": 4}
    assert r.by_outcome == {"no": 2, "partly": 1, "yes": 2}
    assert r.repair_rate == pytest.approx((1 + 0 + 0.5 + 0 + 1) / 5)
    assert [(x.session.number, x.resolved) for x in r.unresolved_latest] == [(3, "no")]
    assert [(x.session.number, x.resolved) for x in r.earlier_unresolved] == [
        (1, "no"), (2, "partly")]
    custom = TrajectoryConfig(repair_weights={"yes": 1, "partly": 0, "no": 0})
    assert build_trajectory(sessions, config=custom).ruptures.repair_rate == pytest.approx(0.4)


def test_no_ruptures() -> None:
    r = build_trajectory(steady(2)).ruptures
    assert r.total == 0 and r.repair_rate is None and r.unresolved_latest == []


# --------------------------------------------------------------------------- attendance


def test_attendance_counts_window_and_consecutive_misses() -> None:
    sessions = [sess(1, late=3), sess(2, late=10, no_shows=2), sess(3, left=15),
                sess(4, cancels=1, late=6), sess(5)]
    a = build_trajectory(sessions).attendance
    assert (a.sessions_attended, a.no_shows, a.cancellations) == (5, 2, 1)
    assert a.late_count == 2  # 10 and 6 minutes; 3 is within the 5-minute grace
    assert [s.number for s in a.late_sessions] == [2, 4]
    assert a.left_early_count == 1
    assert a.max_consecutive_misses == 2
    # appointments: A, M, M, A, A, M, A, A (misses precede the session reporting them);
    # the last 4 are A, M, A, A
    assert a.appointments == 8
    assert (a.appointments_in_window, a.misses_in_window) == (4, 1)


def test_cancellations_can_be_excluded_from_misses() -> None:
    sessions = [sess(1), sess(2, cancels=2)]
    on = build_trajectory(sessions).attendance
    off = build_trajectory(
        sessions, config=TrajectoryConfig(count_cancellations_as_misses=False)).attendance
    assert (on.misses_in_window, off.misses_in_window) == (2, 0)
    assert off.appointments == 4 and off.cancellations == 2


# --------------------------------------------------------------------------- at-risk rules


def test_steady_history_is_silent() -> None:
    tr = build_trajectory(steady(), cues=[[cue("withdrawal.denial")]] * 6)
    assert tr.at_risk is False
    assert tr.reasons == [] and tr.suggested_actions == []


def test_alliance_below_cutoff_twice_running() -> None:
    once = build_trajectory([sess(1, srs=38), sess(2, srs=38), sess(3, srs=35)])
    assert "alliance_below_cutoff" not in reason_codes(once)
    twice = build_trajectory([sess(1, srs=38), sess(2, srs=35.5), sess(3, srs=35)])
    assert reason_codes(twice) == ["alliance_below_cutoff"]
    assert [s.number for s in twice.reasons[0].sessions] == [2, 3]
    assert "35.5, 35" in twice.reasons[0].message
    recovered = build_trajectory([sess(1, srs=35), sess(2, srs=35), sess(3, srs=36)])
    assert not recovered.at_risk
    strict = TrajectoryConfig(alliance_below_cutoff_runs=3)
    assert not build_trajectory([sess(1, srs=38), sess(2, srs=35.5), sess(3, srs=35)],
                                config=strict).at_risk


def test_alliance_falling_from_previous_and_from_best() -> None:
    prev = build_trajectory([sess(1, srs=40), sess(2, srs=40), sess(3, srs=36)])
    assert not prev.at_risk  # a 4-point drop, still at the cutoff
    prev = build_trajectory([sess(1, srs=40), sess(2, srs=40), sess(3, srs=35)])
    assert "alliance_falling" in reason_codes(prev)
    assert "fell 5 points since the previous session (40 → 35)" in prev.reasons[-1].message
    slide = [sess(1, srs=40), sess(2, srs=38), sess(3, srs=36.5), sess(4, srs=35)]
    best = build_trajectory(slide)
    assert reason_codes(best) == ["alliance_falling"]
    assert "SRS is 5 points below the client's best (40 at session #1" in \
        best.reasons[0].message
    no_best = TrajectoryConfig(drop_from_best=False)
    assert not build_trajectory(slide, config=no_best).at_risk
    loose = TrajectoryConfig(alliance_drop_points=6)
    assert not build_trajectory(slide, config=loose).at_risk


def test_outcome_reliable_deterioration() -> None:
    tr = build_trajectory([sess(1, ors=24), sess(2, ors=22), sess(3, ors=19)])
    assert reason_codes(tr) == ["outcome_deteriorating"]
    assert {a.code for a in tr.suggested_actions} == {"revisit_goals", "discuss_fit"}
    assert not build_trajectory([sess(1, ors=24), sess(2, ors=19.5)]).at_risk
    off = TrajectoryConfig(outcome_deterioration=False)
    assert not build_trajectory([sess(1, ors=24), sess(2, ors=19)], config=off).at_risk


def test_unresolved_rupture_in_latest_session() -> None:
    tr = build_trajectory([sess(1), sess(2, ruptures=[rupture("no", "confrontation")])])
    assert reason_codes(tr) == ["unresolved_rupture"]
    assert "unresolved confrontation rupture" in tr.reasons[0].message
    assert tr.suggested_actions[0].code == "invite_feedback"
    assert "acknowledge_repair" in {a.code for a in tr.suggested_actions}
    earlier = build_trajectory([sess(1, ruptures=[rupture("no")]), sess(2)])
    assert not earlier.at_risk
    partly = build_trajectory([sess(1), sess(2, ruptures=[rupture("partly")])])
    assert not partly.at_risk
    strict = TrajectoryConfig(at_risk_rupture_statuses=["no", "partly"])
    assert build_trajectory([sess(1), sess(2, ruptures=[rupture("partly")])],
                            config=strict).at_risk


def test_missed_appointments_in_last_four() -> None:
    one = build_trajectory([sess(1), sess(2, no_shows=1), sess(3), sess(4)])
    assert not one.at_risk
    two = build_trajectory([sess(1), sess(2, no_shows=1), sess(3, cancels=1)])
    assert reason_codes(two) == ["missed_appointments"]
    assert "2 of the last 4 appointments" in two.reasons[0].message
    assert two.suggested_actions[0].code == "invite_feedback"
    assert "adapt_setting" in {a.code for a in two.suggested_actions}
    old = build_trajectory([sess(1), sess(2, no_shows=2), sess(3), sess(4), sess(5)])
    assert not old.at_risk  # the misses fell out of the 4-appointment window
    wide = TrajectoryConfig(miss_window=6)
    assert build_trajectory([sess(1), sess(2, no_shows=2), sess(3), sess(4), sess(5)],
                            config=wide).at_risk


def test_rising_withdrawal_cues() -> None:
    sessions = steady(4)
    w = "withdrawal.minimal_response"

    def counts(*ns: int) -> list[list[Cue]]:
        return [[cue(w)] * n for n in ns]

    tr = build_trajectory(sessions, cues=counts(0, 1, 1, 3))
    assert reason_codes(tr) == ["withdrawal_rising"]
    assert "1 → 1 → 3" in tr.reasons[0].message
    assert [s.number for s in tr.reasons[0].sessions] == [2, 3, 4]
    assert not build_trajectory(sessions, cues=counts(0, 3, 2, 3)).at_risk  # dipped
    assert not build_trajectory(sessions, cues=counts(0, 0, 0, 1)).at_risk  # latest < 2
    assert not build_trajectory(sessions, cues=counts(0, 2, 2, 2)).at_risk  # flat
    # non-findings (negated etc.) and other categories do not count
    noisy = [[cue(w, finding=False)] * 5, [cue("engagement.disclosure")] * 5, [], []]
    assert build_trajectory(sessions, cues=noisy).withdrawal_cues == [0, 0, 0, 0]
    assert not build_trajectory(sessions).at_risk  # no cues given: rule cannot fire


def test_fit_concern_within_lookback() -> None:
    tr = build_trajectory([sess(1), sess(2, fit=True)])
    assert reason_codes(tr) == ["fit_concern"]
    assert tr.suggested_actions[0].code == "revisit_goals"
    assert "discuss_fit" in {a.code for a in tr.suggested_actions}
    old = [sess(1, fit=True), sess(2), sess(3), sess(4)]
    assert not build_trajectory(old).at_risk
    assert build_trajectory(old, config=TrajectoryConfig(fit_concern_lookback=4)).at_risk


def test_config_from_json_file(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"miss_threshold": 3, "miss_window": 6}), encoding="utf-8")
    cfg = TrajectoryConfig.from_json_file(path)
    assert (cfg.miss_threshold, cfg.miss_window, cfg.alliance_drop_points) == (3, 6, 5)
    path.write_text(json.dumps({"miss_treshold": 3}), encoding="utf-8")
    with pytest.raises(InputError, match=r"c.json: miss_treshold"):
        TrajectoryConfig.from_json_file(path)
    path.write_text("{", encoding="utf-8")
    with pytest.raises(InputError, match="invalid JSON"):
        TrajectoryConfig.from_json_file(path)
    for name, field in TrajectoryConfig.model_fields.items():
        assert field.description, name


def test_trajectory_is_json_serialisable() -> None:
    tr = build_trajectory([sess(1), sess(2, fit=True)])
    data = json.loads(tr.model_dump_json())
    assert data["at_risk"] is True
    assert data["reasons"][0]["code"] == "fit_concern"
    assert Trajectory.model_validate(data) == tr


# --------------------------------------------------------------------------- example histories


def load_example(name: str) -> list[SessionObservation]:
    data = json.loads((HISTORY / f"{name}.json").read_text(encoding="utf-8"))
    return [SessionObservation.model_validate(d) for d in data]


def test_drifting_example_fires_with_several_reasons() -> None:
    sessions = load_example("drifting")
    assert len(sessions) == 6
    tr = build_trajectory(sessions)
    assert tr.at_risk
    assert reason_codes(tr) == ["alliance_below_cutoff", "alliance_falling",
                                "unresolved_rupture", "missed_appointments", "fit_concern"]
    assert [p.total for p in tr.measures["srs"].points] == [38, 37, 35, 33, 31, 30]
    assert tr.attendance.late_count == 3
    assert {a.code for a in tr.suggested_actions} == {
        "invite_feedback", "revisit_goals", "acknowledge_repair", "adapt_setting",
        "discuss_fit"}


def test_steady_example_is_silent() -> None:
    sessions = load_example("steady")
    assert len(sessions) == 6
    tr = build_trajectory(sessions)
    assert not tr.at_risk and tr.reasons == []
    srs = [p.total for p in tr.measures["srs"].points]
    assert all(37 <= t <= 39 for t in srs)
    ors = tr.measures["ors"].points
    assert ors[-1].total > ors[0].total and ors[-1].reliable_change
    assert tr.attendance.misses_in_window == 0
