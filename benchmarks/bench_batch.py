#!/usr/bin/env python3
"""Batch over a generated caseload: every valid note written, every invalid record
reported, an interrupted run resumed without redoing finished work, and the same bytes from
worker processes and a two-worker Dask LocalCluster. Times are reported as ratios against
the one-process run in the same process (the machine's speed drifts).

Run: ``python benchmarks/bench_batch.py [N] [--no-extract]`` (default 1000 sessions, 5%
invalid; needs rapportnotes[dask] for the Dask part).
"""

from __future__ import annotations

import contextlib
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rapportnotes.batch import ERRORS, MANIFEST, Settings, local_executor, run_batch  # noqa: E402
from tests.caseload import generate, write_jsonl  # noqa: E402


def _outputs(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.name != MANIFEST}


def main(argv: list[str]) -> int:
    n = next((int(a) for a in argv[1:] if a.isdigit()), 1000)
    settings = Settings(extract="--no-extract" not in argv)
    print(f"python {platform.python_version()}, {n} sessions, extract={settings.extract}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        sessions, broken = generate(n, invalid_every=20)
        src = write_jsonl(work / "caseload.jsonl", sessions)
        t = time.perf_counter()
        one = run_batch(src, work / "one", settings=settings)
        t_one = time.perf_counter() - t
        rows = [json.loads(x) for x in (work / "one" / ERRORS).read_text().splitlines()]
        assert one.written == n - len(broken) and one.failed == len(broken), one
        assert [r["input"] for r in rows] == [f"{src}:{i + 1}" for i in sorted(broken)]
        print(f"1 process: {one.written} written, {one.failed} in {ERRORS}, "
              f"{t_one:.1f} s ({one.written / t_one:.1f} notes/s)")

        stopped: list[int] = []

        def interrupt(done: int, total: int, failed: int) -> None:
            stopped.append(done)
            if len(stopped) > n // 2:
                raise KeyboardInterrupt

        with contextlib.suppress(KeyboardInterrupt):
            run_batch(src, work / "resume", settings=settings, progress=interrupt)
        finished = len(list((work / "resume").glob("*.md")))
        t = time.perf_counter()
        again = run_batch(src, work / "resume", settings=settings)
        t_again = time.perf_counter() - t
        assert again.skipped == finished and _outputs(work / "resume") == _outputs(work / "one")
        print(f"interrupted after {finished} notes; re-run skipped {again.skipped}, wrote "
              f"{again.written}, {t_again / t_one:.2f}x the full run's time; same bytes")

        t = time.perf_counter()
        two = run_batch(src, work / "two", settings=settings, executor=local_executor(2))
        t_two = time.perf_counter() - t
        assert _outputs(work / "two") == _outputs(work / "one")
        print(f"--jobs 2: {two.written} written, {t_one / t_two:.2f}x one process; same bytes")
        try:
            from rapportnotes.scale import connect, dask_executor
            client = connect(local_workers=2)
        except Exception as exc:  # the extra is optional
            print(f"dask: skipped ({type(exc).__name__})")
            return 0
        try:
            t = time.perf_counter()
            run_batch(src, work / "dask", settings=settings, executor=dask_executor(client))
            t_dask = time.perf_counter() - t
        finally:
            cluster = client.cluster
            client.close()
            cluster.close()
        same = _outputs(work / "dask") == _outputs(work / "one")
        print(f"dask LocalCluster(2): {t_one / t_dask:.2f}x one process; "
              f"byte-identical: {same}")
        return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
