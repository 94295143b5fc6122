"""A caseload in one run: many sessions in, one note per session out.

Data flows one way, as everywhere in the package: inputs are read (:func:`read_inputs`),
valid sessions are grouped by client (:func:`group_by_client`: a client's earlier sessions
in the input become the history of each later one, so trends and the at-risk flag come out
as they would note by note), each group becomes :class:`Job` s whose results (bytes) are
written by the one parent process, atomically, with a manifest line per finished note.

Why the parent writes: one writer keeps the manifest consistent and the output identical
whichever executor computed it (this process, ``--jobs`` worker processes, or a Dask
cluster, see :mod:`rapportnotes.scale`).

Resuming: every output's key is the SHA-256 of what decides its bytes (the session, its
history, format, exporter, package version). A re-run skips an output whose manifest key
matches and whose file on disk still has the hash the manifest recorded; anything else is
redone. An interrupted run loses at most the note being written (renames are atomic).

Nothing here logs or prints free text: the error report names the file or line, the
field path and the error kind; :class:`~rapportnotes.errors.InputError` messages are
value-free by construction (see docs/hostile-input.md).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError, RapportNotesError
from .models import SessionObservation

MANIFEST = ".rapportnotes-batch.jsonl"
ERRORS = "errors.jsonl"


@dataclass(frozen=True)
class Record:
    """One input record: where it came from and its parsed JSON (or why it has none)."""

    origin: str
    data: Any = None
    error: str | None = None


@dataclass(frozen=True)
class Job:
    """One note to build: the session, its history (earlier sessions of the same client in
    the input), and the output name and key."""

    origin: str
    session: dict[str, Any]
    history: tuple[dict[str, Any], ...]
    name: str
    key: str


@dataclass(frozen=True)
class Settings:
    """What every job shares (picklable: it travels to worker processes)."""

    format: str = "soap"
    to: str = "md"
    extract: bool = True
    draft: bool = False


@dataclass
class Outcome:
    """The result of one job: the bytes to write, or a value-free error."""

    origin: str
    name: str
    key: str
    data: bytes | None = None
    error: str | None = None


@dataclass
class Summary:
    total: int = 0
    written: int = 0
    skipped: int = 0
    failed: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)


# -- reading -------------------------------------------------------------------------------

def read_inputs(source: str | os.PathLike[str]) -> Iterator[Record]:
    """Records from a folder of ``*.json`` session files (sorted by name), a JSON-lines
    file (one session per line; blank lines skipped), or ``-`` (JSON lines on stdin)."""
    from .io import decode_text, parse_json_text

    if str(source) == "-":
        yield from _lines(sys.stdin.buffer.read(), "<stdin>")
        return
    path = Path(source)
    if path.is_dir():
        for file in sorted(path.glob("*.json")):
            try:
                yield Record(str(file), parse_json_text(decode_text(file.read_bytes(),
                                                                    str(file)), str(file)))
            except InputError as exc:
                yield Record(str(file), error=str(exc))
            except OSError as exc:
                yield Record(str(file), error=f"{file}: cannot read ({exc.strerror})")
        return
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    yield from _lines(raw, str(path))


def _lines(raw: bytes, origin: str) -> Iterator[Record]:
    from .io import decode_text, parse_json_text

    for number, line in enumerate(raw.split(b"\n"), start=1):
        if not line.strip():
            continue
        where = f"{origin}:{number}"
        try:
            yield Record(where, parse_json_text(decode_text(line, where), where))
        except InputError as exc:
            yield Record(where, error=str(exc))


# -- planning ------------------------------------------------------------------------------

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _safe(text: str) -> str:
    """A file-name part: letters, digits, . _ - only (the client id is an identifier the
    vendor chose; it is already in the note, so using it in the name discloses nothing
    more than the note does)."""
    return _SAFE.sub("_", text).strip("._")[:64] or "client"


def _digest(*parts: Any) -> str:
    from .signing import canonical

    h = hashlib.sha256()
    for part in parts:
        h.update(canonical(part))
        h.update(b"\0")
    return h.hexdigest()


def plan(records: Iterable[Record], settings: Settings, extension: str
         ) -> tuple[list[Job], list[dict[str, Any]]]:
    """Validate every record and turn the valid ones into jobs, grouped by client.

    Returns the jobs (chronological within each client; clients in order of first
    appearance) and the error rows of the records that could not be used.
    """
    from . import __version__
    from .io import parse_session

    errors: list[dict[str, Any]] = []
    groups: dict[str, list[tuple[SessionObservation, Record]]] = {}
    for rec in records:
        if rec.error is not None:
            errors.append(error_row(rec.origin, rec.error))
            continue
        try:
            obs = parse_session(rec.data, origin=rec.origin)
        except InputError as exc:
            errors.append(error_row(rec.origin, str(exc)))
            continue
        groups.setdefault(obs.client.id, []).append((obs, rec))
    jobs: list[Job] = []
    used: set[str] = set()
    for client, items in groups.items():
        items.sort(key=lambda p: (p[0].session.date, p[0].session.start_time))
        earlier: list[dict[str, Any]] = []
        for obs, rec in items:
            stem = f"{_safe(client)}_{obs.session.date.isoformat()}_" \
                   f"{obs.session.start_time.strftime('%H%M')}"
            name, n = stem + extension, 1
            while name in used:  # two sessions of one client at the same minute
                n += 1
                name = f"{stem}-{n}{extension}"
            used.add(name)
            key = _digest(rec.data, earlier, settings.format, settings.to, settings.extract,
                          settings.draft, __version__)
            jobs.append(Job(rec.origin, rec.data, tuple(earlier), name, key))
            earlier.append(rec.data)
    return jobs, errors


def error_row(origin: str, message: str) -> dict[str, Any]:
    """One row of ``errors.jsonl``: the file (and line), the field path when the message
    names one, and the message (value-free: it comes from InputError)."""
    row: dict[str, Any] = {"input": origin}
    text = message[len(origin) + 2:] if message.startswith(origin + ": ") else message
    head, sep, rest = text.partition(": ")
    if sep and re.fullmatch(r"[A-Za-z_][\w.\[\]-]*", head):
        row["field"] = head
        row["message"] = rest
    else:
        row["message"] = text
    return row


# -- computing -----------------------------------------------------------------------------

_EXTRACTOR: Any = None


def _extractor() -> Any:
    """One extractor per process, built on first use (a worker builds it once)."""
    global _EXTRACTOR
    if _EXTRACTOR is None:
        from .extractors import CueExtractor

        _EXTRACTOR = CueExtractor()
    return _EXTRACTOR


def run_job(job: Job, settings: Settings,
            parsed: dict[int, SessionObservation] | None = None) -> Outcome:
    """Build and export one note (any process). User mistakes become a value-free error;
    anything else is reported by its type only (a library message could hold note text).

    ``parsed`` caches validated sessions by the identity of their dicts, so a client
    group validates each session once, not once per later note (history stays O(n))."""
    from .api import build_note, render
    from .io import parse_session

    cache = parsed if parsed is not None else {}

    def valid(data: dict[str, Any]) -> SessionObservation:
        obs = cache.get(id(data))
        if obs is None:
            obs = cache[id(data)] = parse_session(data, origin=job.origin)
        return obs

    try:
        obs = valid(job.session)
        history = [valid(h) for h in job.history]
        note = build_note(obs, format=settings.format, history=history,
                          extract=settings.extract,
                          extractor=_extractor() if settings.extract else None,
                          draft=settings.draft)
        return Outcome(job.origin, job.name, job.key, data=render(note, settings.to))
    except RapportNotesError as exc:
        return Outcome(job.origin, job.name, job.key, error=str(exc))
    except Exception as exc:  # one bad record never stops the rest
        return Outcome(job.origin, job.name, job.key,
                       error=f"{job.origin}: internal error ({type(exc).__name__})")


def run_jobs(jobs: Sequence[Job], settings: Settings) -> list[Outcome]:
    """Run jobs in order in this process (the unit a worker or a Dask task runs)."""
    parsed: dict[int, SessionObservation] = {}
    return [run_job(j, settings, parsed) for j in jobs]


def by_client(jobs: Sequence[Job]) -> list[list[Job]]:
    """Jobs in client groups, so a client's history stays in one worker's hands."""
    groups: dict[str, list[Job]] = {}
    for job in jobs:
        groups.setdefault(str(job.session.get("client", {}).get("id")), []).append(job)
    return list(groups.values())


Executor = Callable[[Sequence[Job], Settings], Iterable[Outcome]]


def local_executor(jobs: int = 1) -> Executor:
    """In this process (``jobs == 1``) or in ``jobs`` worker processes, client groups as
    tasks; results come back as they finish (the parent writes them)."""
    def run(todo: Sequence[Job], settings: Settings) -> Iterator[Outcome]:
        if jobs <= 1 or len(todo) <= 1:
            parsed: dict[int, SessionObservation] = {}
            for job in todo:
                yield run_job(job, settings, parsed)
            return
        from concurrent.futures import ProcessPoolExecutor, as_completed

        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(run_jobs, group, settings) for group in by_client(todo)]
            for fut in as_completed(futures):
                yield from fut.result()
    return run


# -- the run -------------------------------------------------------------------------------

def _read_manifest(out: Path) -> dict[str, dict[str, str]]:
    done: dict[str, dict[str, str]] = {}
    try:
        text = (out / MANIFEST).read_text(encoding="utf-8")
    except OSError:
        return done
    for line in text.splitlines():
        try:
            row = json.loads(line)
            done[str(row["name"])] = {"key": str(row["key"]), "sha256": str(row["sha256"])}
        except (ValueError, KeyError, TypeError):
            continue  # a line cut short by an interruption
    return done


def _complete(out: Path, name: str, key: str, done: dict[str, dict[str, str]]) -> bool:
    entry = done.get(name)
    if entry is None or entry["key"] != key:
        return False
    try:
        return hashlib.sha256((out / name).read_bytes()).hexdigest() == entry["sha256"]
    except OSError:
        return False


def run_batch(source: str | os.PathLike[str], out: str | os.PathLike[str], *,
              settings: Settings = Settings(), executor: Executor | None = None,
              fsync: bool = True, progress: Callable[[int, int, int], None] | None = None,
              ) -> Summary:
    """Read ``source``, write one note per valid session into ``out``, and the error
    report ``out/errors.jsonl`` (rewritten every run; absent when nothing failed).

    ``progress(done, total, failed)`` is called after each note. ``fsync=False`` skips the
    per-file flush; the folder is flushed once at the end.
    """
    from .exporters import exporters
    from .formats import formats
    from .io import fsync_dir, write_atomic

    exporter = exporters.get(settings.to)  # unknown names fail before any work
    formats.get(settings.format)
    target = Path(out)
    if target.exists() and not target.is_dir():
        raise InputError(f"{target}: exists and is not a folder")
    target.mkdir(parents=True, exist_ok=True)
    jobs, errors = plan(read_inputs(source), settings, str(exporter.extension))
    summary = Summary(total=len(jobs) + len(errors), failed=len(errors),
                      errors=list(errors))
    done = _read_manifest(target)
    todo = [j for j in jobs if not _complete(target, j.name, j.key, done)]
    summary.skipped = len(jobs) - len(todo)
    count = summary.skipped + len(errors)
    if progress:
        progress(count, summary.total, summary.failed)
    run = executor or local_executor(1)
    with open(target / MANIFEST, "a", encoding="utf-8") as manifest:
        for result in run(todo, settings):
            if result.data is None:
                summary.failed += 1
                summary.errors.append(error_row(result.origin, result.error or "failed"))
            else:
                write_atomic(target / result.name, result.data, fsync=fsync)
                manifest.write(json.dumps({"name": result.name, "key": result.key,
                                           "sha256": hashlib.sha256(result.data).hexdigest()},
                                          sort_keys=True) + "\n")
                manifest.flush()
                summary.written += 1
            count += 1
            if progress:
                progress(count, summary.total, summary.failed)
    summary.errors.sort(key=lambda r: _natural(r["input"]))
    report = target / ERRORS
    if summary.errors:
        write_atomic(report, "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n"
                                     for r in summary.errors), fsync=fsync)
    elif report.exists():
        report.unlink()
    fsync_dir(target)
    return summary


def _natural(text: str) -> tuple[Any, ...]:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text))


__all__ = ["Job", "Outcome", "Record", "Settings", "Summary", "by_client", "error_row",
           "local_executor", "plan", "read_inputs", "run_batch", "run_job", "run_jobs"]
