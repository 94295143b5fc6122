"""Reading session files and writing outputs, with errors a clinician can act on.

Reading: every failure becomes an :class:`InputError` whose message names the file and the
line (bad JSON) or the field path (validation), never the offending value — values may be
protected health information, and error text ends up in terminals, logs and tickets.

Writing: outputs are written to a temporary file in the destination directory and renamed
into place, so a failure (disk full, a crash in an exporter) never leaves a half-written
note that could be mistaken for a finished one.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .errors import ExportError, InputError
from .models import SessionObservation

MAX_INPUT_BYTES = 20 * 1024 * 1024
"""Refuse larger files: a session is kilobytes; 20 MB is a wrong file, not a long note."""

_MESSAGES = {
    "extra_forbidden": "unknown field (check the spelling against `rapportnotes schema`)",
    "missing": "required field is missing",
}


def format_validation_error(exc: ValidationError, *, prefix: str = "") -> str:
    """One line naming each failing field path (at most three), without input values."""
    parts = []
    for err in exc.errors(include_url=False, include_input=False)[:3]:
        loc = _format_loc((*_split_prefix(prefix), *(_elide(p) for p in err["loc"])))
        msg = _MESSAGES.get(err["type"], err["msg"])
        msg = msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
        parts.append(f"{loc or '(top level)'}: {msg}")
    more = exc.error_count() - len(parts)
    if more > 0:
        parts.append(f"and {more} more error{'s' if more > 1 else ''}")
    return "; ".join(parts)


def _split_prefix(prefix: str) -> tuple[Any, ...]:
    return (prefix,) if prefix else ()


def _known_names() -> frozenset[str]:
    """Every field name of the input models (and literal dict keys such as MSE domains):
    the only user-typed keys an error message may repeat."""
    from pydantic import BaseModel

    from .models import MSE_DOMAINS

    names: set[str] = set(MSE_DOMAINS)
    seen: set[type] = set()

    def walk(model: type[BaseModel]) -> None:
        if model in seen:
            return
        seen.add(model)
        for name, info in model.model_fields.items():
            names.add(name)
            for arg in _model_args(info.annotation):
                walk(arg)

    walk(SessionObservation)
    return frozenset(names)


def _model_args(annotation: Any) -> list[Any]:
    from typing import get_args

    from pydantic import BaseModel

    out = []
    stack = [annotation]
    while stack:
        a = stack.pop()
        if isinstance(a, type) and issubclass(a, BaseModel):
            out.append(a)
        stack.extend(get_args(a))
    return out


_KNOWN: frozenset[str] | None = None


def _elide(part: Any) -> Any:
    """A path element as it may be shown: indexes and schema names as they are, any other
    key the user typed as ``<key>``."""
    global _KNOWN
    if isinstance(part, int):
        return part
    if _KNOWN is None:
        _KNOWN = _known_names()
    text = str(part)
    return text if text in _KNOWN or text.startswith("[") else "<key>"


def _format_loc(loc: Iterable[Any]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif str(part).startswith("["):
            out += str(part)
        else:
            out += f".{part}" if out else str(part)
    return out


def read_text(path: str | os.PathLike[str]) -> str:
    """Read a UTF-8 text file, mapping every failure to an InputError naming the file."""
    p = Path(path)
    try:
        if p.is_dir():
            raise InputError(f"{p}: is a directory, expected a file")
        size = p.stat().st_size
        if size > MAX_INPUT_BYTES:
            raise InputError(f"{p}: file is {size} bytes; the limit is {MAX_INPUT_BYTES}")
        raw = p.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{p}: file not found") from None
    except PermissionError:
        raise InputError(f"{p}: permission denied") from None
    except OSError as exc:
        raise InputError(f"{p}: cannot read ({exc.strerror or type(exc).__name__})") from None
    return decode_text(raw, str(p))


def decode_text(raw: bytes, origin: str) -> str:
    """UTF-8 (with or without BOM) or an InputError naming ``origin`` and the byte offset."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{origin}: not UTF-8 text (invalid byte at offset {exc.start})"
                         ) from None


MAX_NUMBER_DIGITS = 30
"""Longer number literals are refused: no field needs them, and Python's int parser would
refuse 4,300+ digits with an internal error."""


class _Object(dict):  # type: ignore[type-arg]
    """A parsed JSON object that remembers keys it saw twice."""

    duplicates: tuple[str, ...] = ()


def _pairs(pairs: list[tuple[str, Any]]) -> _Object:
    obj = _Object()
    dups = []
    for key, value in pairs:
        if key in obj:
            dups.append(key)
        obj[key] = value
    if dups:
        obj.duplicates = tuple(dups)
    return obj


def _number(text: str) -> int | float:
    if len(text.lstrip("-").replace(".", "").split("e")[0].split("E")[0]) > MAX_NUMBER_DIGITS:
        raise _NumberTooLong
    return float(text) if any(c in text for c in ".eE") else int(text)


class _NumberTooLong(Exception):
    pass


def _find_duplicate(node: Any, path: tuple[Any, ...] = ()) -> tuple[tuple[Any, ...], str] | None:
    if isinstance(node, _Object):
        if node.duplicates:
            return path, node.duplicates[0]
        for key, value in node.items():
            found = _find_duplicate(value, (*path, key))
            if found:
                return found
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found = _find_duplicate(value, (*path, i))
            if found:
                return found
    return None


def parse_json_text(text: str, origin: str) -> Any:
    """Parse JSON strictly: duplicate keys (at any depth) and number literals of more than
    ``MAX_NUMBER_DIGITS`` digits are errors naming ``origin`` and the path (keys the user
    typed that are not schema names are elided — they may be PHI)."""
    try:
        data = json.loads(text, object_pairs_hook=_pairs, parse_int=_number,
                          parse_float=_number)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{origin}: line {exc.lineno} column {exc.colno}: not valid JSON ({exc.msg})"
        ) from None
    except _NumberTooLong:
        raise InputError(f"{origin}: a number literal has more than {MAX_NUMBER_DIGITS} "
                         "digits") from None
    except RecursionError:
        raise InputError(f"{origin}: JSON is nested too deeply") from None
    found = _find_duplicate(data)
    if found is not None:
        path, key = found
        where = _format_loc(_elide(p) for p in (*path, key))
        raise InputError(f"{origin}: {where}: key appears twice in one object (the second "
                         "would silently replace the first)")
    return data


def read_json(path: str | os.PathLike[str]) -> Any:
    """Parse a JSON file, mapping every failure to an InputError naming file and line."""
    return parse_json_text(read_text(path), str(path))


def parse_session(data: Any, *, origin: str = "<data>", prefix: str = "") -> SessionObservation:
    """Validate already-parsed JSON as a session; errors name ``origin`` and the field."""
    if not isinstance(data, dict):
        where = f"{prefix}: " if prefix else ""
        raise InputError(f"{origin}: {where}expected a JSON object describing one session")
    try:
        return SessionObservation.model_validate(data)
    except ValidationError as exc:
        raise InputError(f"{origin}: {format_validation_error(exc, prefix=prefix)}") from None


def load_session(path: str | os.PathLike[str]) -> SessionObservation:
    """Read and validate one session file."""
    return parse_session(read_json(path), origin=str(path))


def load_history(path: str | os.PathLike[str]) -> list[SessionObservation]:
    """Read a client's sessions: a JSON list in one file, or a folder of ``*.json`` files.

    Sessions come back in chronological order. A history that mixes client ids is refused:
    a trajectory across two clients would be clinically meaningless and a privacy incident.
    """
    p = Path(path)
    sessions: list[SessionObservation] = []
    if p.is_dir():
        files = sorted(p.glob("*.json"))
        if not files:
            raise InputError(f"{p}: folder contains no .json session files")
        sessions = [load_session(f) for f in files]
    else:
        data = read_json(p)
        if isinstance(data, dict):
            data = [data]
        if not isinstance(data, list) or not data:
            raise InputError(f"{p}: expected a JSON list of session objects")
        sessions = [parse_session(item, origin=str(p), prefix=f"[{i}]")
                    for i, item in enumerate(data)]
    ids = sorted({s.client.id for s in sessions})
    if len(ids) > 1:
        raise InputError(f"{p}: history mixes {len(ids)} different client ids")
    return sorted(sessions, key=lambda s: (s.session.date, s.session.start_time))


def write_atomic(path: str | os.PathLike[str], data: bytes | str, *,
                 fsync: bool = True) -> Path:
    """Write ``data`` to ``path`` via a temporary file and an atomic rename.

    ``fsync=False`` skips the per-file flush to disk (a batch of thousands of notes calls
    :func:`fsync_dir` once at the end instead); the rename stays atomic either way, so a
    reader never sees a half-written file. The file keeps ``mkstemp``'s owner-only
    permissions (0600): a note is PHI, and a group- or world-readable default is the wrong
    way round for it.
    """
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise ExportError(f"{target}: directory {directory} does not exist")
    if target.is_dir():
        raise ExportError(f"{target}: is a directory")
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        # a short name of its own: any legal target name must leave room for it
        fd, tmp = tempfile.mkstemp(prefix=".rapportnotes-", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise ExportError(f"{target}: cannot write ({exc.strerror or exc})") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            if fsync:
                os.fsync(fh.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        _silent_unlink(tmp)
        raise ExportError(f"{target}: cannot write ({exc.strerror or exc})") from None
    except BaseException:
        _silent_unlink(tmp)
        raise
    return target


def fsync_dir(path: str | os.PathLike[str]) -> None:
    """Flush a folder's entries (the renames done into it) to disk, where the OS allows."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _silent_unlink(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def dump_sessions(sessions: Sequence[SessionObservation]) -> str:
    """Serialise sessions as a JSON list (the history file format)."""
    rows = []
    for s in sessions:
        row = s.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
        row["session"].pop("duration_minutes", None)  # derived; the input schema forbids it
        rows.append(row)
    return json.dumps(rows, indent=2, ensure_ascii=False)
