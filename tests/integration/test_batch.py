"""``rapportnotes batch``: every valid session written, every invalid one reported without
its values, resumable by content hash, history grouped by client, and the same bytes from
one process, worker processes and a real two-worker Dask LocalCluster."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rapportnotes.api import build_note, render
from rapportnotes.batch import ERRORS, MANIFEST, Settings, local_executor, run_batch
from rapportnotes.io import parse_session
from tests.caseload import generate, write_jsonl

FAST = Settings(extract=False)


def _outputs(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())
            if p.name not in (MANIFEST,)}


@pytest.fixture(scope="module")
def caseload(tmp_path_factory):
    sessions, broken = generate(100, invalid_every=20)
    src = write_jsonl(tmp_path_factory.mktemp("in") / "caseload.jsonl", sessions)
    return src, sessions, broken


def test_every_valid_written_every_invalid_reported(caseload, tmp_path) -> None:
    src, _sessions, broken = caseload
    summary = run_batch(src, tmp_path, settings=FAST)
    assert (summary.total, summary.failed, summary.written) == (100, 5, 95)
    notes = [p for p in tmp_path.glob("*.md")]
    assert len(notes) == 95
    rows = [json.loads(line) for line in (tmp_path / ERRORS).read_text().splitlines()]
    assert [r["input"] for r in rows] == [f"{src}:{i + 1}" for i in sorted(broken)]
    for row, i in zip(rows, sorted(broken), strict=True):
        assert row["field"] == broken[i]
    text = (tmp_path / ERRORS).read_text()
    for secret in ("25:61", "not a date", "90837"):  # the broken values never echo
        assert secret not in text


def test_history_grouped_by_client(caseload, tmp_path) -> None:
    src, sessions, _broken = caseload
    run_batch(src, tmp_path, settings=FAST)
    client = [parse_session(s) for s in sessions[5:10]]  # C-0001, five weekly sessions
    expected = render(build_note(client[3], history=client[:3], extract=False), "md")
    got = (tmp_path / "C-0001_2026-01-26_1800.md").read_bytes()
    assert got == expected
    assert got != render(build_note(client[3], extract=False), "md")  # history changed it


def test_interrupted_then_resumed_redoes_nothing_finished(caseload, tmp_path) -> None:
    src, _, _ = caseload
    full = tmp_path / "full"
    run_batch(src, full, settings=FAST)
    part = tmp_path / "part"
    seen = []

    def stop_after_30(done: int, total: int, failed: int) -> None:
        seen.append(done)
        if len(seen) > 30:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_batch(src, part, settings=FAST, progress=stop_after_30)
    finished = len(list(part.glob("*.md")))
    assert 0 < finished < 95
    again = run_batch(src, part, settings=FAST)
    assert again.skipped == finished and again.written == 95 - finished
    assert _outputs(part) == _outputs(full)
    # a tampered output and a changed input are redone; the rest is kept
    victim = sorted(part.glob("*.md"))[0]
    victim.write_bytes(b"edited")
    third = run_batch(src, part, settings=FAST)
    assert (third.written, third.skipped) == (1, 94)
    assert victim.read_bytes() == (full / victim.name).read_bytes()
    assert run_batch(src, part, settings=Settings(extract=False, to="txt")).written == 95


def _small(tmp_path: Path) -> Path:
    sessions, _ = generate(8, invalid_every=0, per_client=2)
    return write_jsonl(tmp_path / "small.jsonl", sessions)


def test_worker_processes_give_the_same_bytes(tmp_path) -> None:
    src = _small(tmp_path)
    one = run_batch(src, tmp_path / "one")
    two = run_batch(src, tmp_path / "two", executor=local_executor(2))
    assert one.written == two.written == 8
    assert _outputs(tmp_path / "one") == _outputs(tmp_path / "two")


def test_dask_local_cluster_gives_the_same_bytes(tmp_path) -> None:
    pytest.importorskip("distributed")
    from rapportnotes.scale import connect, dask_executor

    src = _small(tmp_path)
    run_batch(src, tmp_path / "local")
    client = connect(local_workers=2)
    try:
        assert len(client.scheduler_info()["workers"]) == 2
        summary = run_batch(src, tmp_path / "dask", executor=dask_executor(client))
    finally:
        cluster = client.cluster
        client.close()
        cluster.close()
    assert summary.written == 8
    assert _outputs(tmp_path / "dask") == _outputs(tmp_path / "local")


def _cli(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "rapportnotes", "batch", *args],
                          input=stdin, capture_output=True, timeout=300)


def test_cli_folder_stdin_and_exit_codes(tmp_path) -> None:
    folder = tmp_path / "sessions"
    folder.mkdir()
    sessions, _ = generate(4, invalid_every=0)
    for i, s in enumerate(sessions):
        (folder / f"s{i}.json").write_text(json.dumps(s), encoding="utf-8")
    (folder / "bad.json").write_text("{not json", encoding="utf-8")
    res = _cli(str(folder), "--out", str(tmp_path / "a"), "--no-extract", "--to", "txt")
    assert res.returncode == 1, res.stderr
    assert len(list((tmp_path / "a").glob("*.txt"))) == 4
    assert "bad.json" in (tmp_path / "a" / ERRORS).read_text()
    assert b"4 written" in res.stderr and b"1 failed" in res.stderr
    lines = "".join(json.dumps(s) + "\n" for s in sessions).encode()
    res = _cli("-", "--out", str(tmp_path / "b"), "--no-extract", stdin=lines)
    assert res.returncode == 0, res.stderr
    assert _outputs(tmp_path / "b").keys() == {p.name.replace(".txt", ".md")
                                               for p in (tmp_path / "a").glob("*.txt")}
    res = _cli(str(folder), "--out", str(tmp_path / "c"), "--to", "nope")
    assert res.returncode == 2 and res.stderr.count(b"\n") == 1
    res = _cli(str(tmp_path / "missing"), "--out", str(tmp_path / "d"))
    assert res.returncode == 2 and b"no such file" in res.stderr
