"""``rapportnotes score`` and ``rapportnotes trajectory`` through the real CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rapportnotes.cli import main

ROOT = Path(__file__).resolve().parents[2]
DRIFTING = ROOT / "examples" / "history" / "drifting.json"
STEADY = ROOT / "examples" / "history" / "steady.json"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_score_text(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "score", "srs", "9", "9", "7", "9")
    assert code == 0
    assert "Total 34/40" in out
    assert out.rstrip().endswith(
        "34/40 — below the 36 cutoff (possible alliance concern); "
        "low item 'Approach or Method' (7/10)")


def test_score_json_with_age(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "score", "ors", "7", "7", "7", "6", "--age", "15", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["total"] == 27 and data["subscales"] == {}
    assert [f["code"] for f in data["flags"]] == ["clinical_range"]
    assert data["cutoffs"][0]["value"] == 28


def test_score_wai_sr_subscales_json(capsys: pytest.CaptureFixture[str]) -> None:
    items = ["4", "4", "3", "5", "4", "4", "3", "5", "4", "4", "5", "4"]
    code, out, _ = run(capsys, "score", "wai-sr", *items, "--json")
    assert code == 0 and json.loads(out)["subscales"] == {"Task": 16, "Goal": 19, "Bond": 14}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("score", "srs", "9", "9"), "missing item 3 ('Approach or Method')"),
        (("score", "srs", "9", "9", "x", "9"), "SRS item 3 is not a number"),
        (("score", "srs", "9", "9", "9", "11"), "item 4 ('Overall') is out of range"),
        (("score", "nope", "1"), "unknown measure 'nope'; available: csrs, gsrs, ors"),
    ],
)
def test_score_user_errors_exit_2(capsys: pytest.CaptureFixture[str], argv: tuple[str, ...],
                                  message: str) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1


def test_trajectory_text_drifting(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "trajectory", str(DRIFTING))
    assert code == 0
    assert "SRS — Session Rating Scale" in out
    assert "#6       2026-02-25  30     -1      -8" in out
    assert "ALLIANCE AT RISK" in out
    assert "2 of the last 4 appointments missed" in out
    assert "Suggested actions:" in out
    # free text from the sessions never reaches stdout
    for session in json.loads(DRIFTING.read_text(encoding="utf-8")):
        assert session["clinician_notes"][:40] not in out
        assert session["subjective"]["report"] not in out


def test_trajectory_json_steady(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "trajectory", str(STEADY), "--json")
    assert code == 0
    data = json.loads(out)
    assert data["at_risk"] is False and data["reasons"] == []
    assert [p["total"] for p in data["measures"]["ors"]["points"]][-1] == 30


def test_trajectory_config_changes_result(capsys: pytest.CaptureFixture[str],
                                          tmp_path: Path) -> None:
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"miss_threshold": 3, "fit_concern_lookback": 1,
                               "alliance_below_cutoff_runs": 5, "alliance_drop_points": 9,
                               "at_risk_rupture_statuses": []}), encoding="utf-8")
    code, out, _ = run(capsys, "trajectory", str(DRIFTING), "--json", "--config", str(cfg))
    assert code == 0
    assert [r["code"] for r in json.loads(out)["reasons"]] == ["fit_concern"]
    cfg.write_text("{\"nope\": 1}", encoding="utf-8")
    code, _, err = run(capsys, "trajectory", str(DRIFTING), "--config", str(cfg))
    assert code == 2 and "cfg.json: nope" in err
