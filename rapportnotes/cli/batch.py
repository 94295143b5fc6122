"""``batch``: a folder, a JSON-lines file or stdin of sessions in, one note each out."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable, Iterator


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "batch", help="render many sessions (folder, JSON lines or -) into a folder; "
        "exit 0 all written, 1 some records failed (see errors.jsonl), 2 unusable call")
    p.add_argument("input", metavar="IN", help="folder of *.json, a .jsonl file, or -")
    p.add_argument("--out", "-o", required=True, metavar="DIR")
    p.add_argument("--format", "-f", default="soap")
    p.add_argument("--to", "-t", default="md", help="exporter (md, txt, html, docx, pdf, …)")
    p.add_argument("--jobs", "-j", type=int, default=1, metavar="N",
                   help="worker processes on this machine (client groups as tasks)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run on a Dask cluster (tcp://host:8786; needs rapportnotes[dask])")
    p.add_argument("--local-cluster", type=int, metavar="N",
                   help="run on a new Dask LocalCluster of N workers (needs [dask])")
    p.add_argument("--no-extract", action="store_true")
    p.add_argument("--draft", action="store_true")
    p.add_argument("--no-fsync", action="store_true",
                   help="skip the per-file flush to disk (the folder is flushed at the end)")
    p.set_defaults(func=cmd_batch)


@contextlib.contextmanager
def _progress() -> Iterator[Callable[[int, int, int], None]]:
    """A rich progress bar on a terminal; plain lines (every 5%) when piped."""
    if sys.stderr.isatty():
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        with Progress("[progress.description]{task.description}", BarColumn(),
                      MofNCompleteColumn(), TimeRemainingColumn(),
                      console=Console(stderr=True)) as bar:
            task = bar.add_task("notes", total=None)

            def tick(done: int, total: int, failed: int) -> None:
                bar.update(task, completed=done, total=total,
                           description=f"notes ({failed} failed)" if failed else "notes")
            yield tick
        return
    last = [-1]

    def line(done: int, total: int, failed: int) -> None:
        step = max(1, total // 20)
        if done == total or done // step != last[0]:
            last[0] = done // step
            print(f"rapportnotes: batch {done}/{total} done, {failed} failed",
                  file=sys.stderr, flush=True)
    yield line


def cmd_batch(args: argparse.Namespace) -> int:
    from ..batch import ERRORS, Settings, local_executor, run_batch
    from ..errors import InputError

    if args.jobs < 1:
        raise InputError("--jobs: must be 1 or more")
    settings = Settings(format=args.format, to=args.to, extract=not args.no_extract,
                        draft=args.draft)
    client = None
    if args.scheduler or args.local_cluster:
        from ..scale import connect, dask_executor

        client = connect(args.scheduler, local_workers=args.local_cluster or 2)
        executor = dask_executor(client)
    else:
        executor = local_executor(args.jobs)
    try:
        with _progress() as tick:
            summary = run_batch(args.input, args.out, settings=settings, executor=executor,
                                fsync=not args.no_fsync, progress=tick)
    finally:
        if client is not None:
            cluster = client.cluster if args.local_cluster else None
            client.close()
            if cluster is not None:
                cluster.close()
    print(f"rapportnotes: batch: {summary.written} written, {summary.skipped} already "
          f"current, {summary.failed} failed of {summary.total}"
          + (f"; see {args.out}/{ERRORS}" if summary.failed else ""), file=sys.stderr)
    return 1 if summary.failed else 0
