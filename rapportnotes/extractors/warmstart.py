"""Warm start: the compiled state of the cue pipeline, cached on disk between processes.

Compiling the rule files (pattern compilation, anchor indexes, the C engine's tables, the
lemma table's inverse) costs 0.6–1.2 s in every fresh process — most of a CLI render with
extraction. It depends only on the rule and lexicon files, the lemma table, the package's
extractor code and the library versions, never on any session, so it is built once and
cached as one file whose name is a SHA-256 over all of those inputs (:func:`state_key`).
A change to any input is a new name; a stale file is never read.

Where: ``$RAPPORTNOTES_CACHE_DIR`` if set (empty, ``0``, ``off`` or ``none`` turn the cache
off), else ``$XDG_CACHE_HOME/rapportnotes``, else ``~/.cache/rapportnotes``. The file holds
rules and word tables only — no session text, nothing from a note.

Safety:
- The state is a pickle, so it is read only from a directory and file owned by this user
  and writable by nobody else (the same trust as Python's own ``__pycache__``); anything
  else is ignored and the pipeline compiled as usual.
- Concurrent first runs each write a complete temporary file and ``os.replace`` it into
  place: a reader sees the old file, the new file or none, never half of one.
- Any failure to read (truncated, corrupt, from another build) or to write (read-only home,
  full disk) falls back to compiling; the cache can only make a start faster, never change
  a result (the tests compare cues from a cached and a compiled pipeline).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import pickle
import stat
import sys
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.strings import StringStore
from spacy.vocab import Vocab

log = logging.getLogger(__name__)

CACHE_ENV = "RAPPORTNOTES_CACHE_DIR"
#: bump when the layout of the cached state changes in a way the key does not capture
FORMAT = 1
_OFF = {"", "0", "off", "none", "false", "no"}
#: pipeline components whose compiled state is cached, in pipeline order
COMPONENTS = ("rapport_cues", "rapport_context")
#: a short fixed text run through a freshly compiled pipeline, so the state saved includes
#: what is otherwise built at the first document (the C engine's tables, rule tables)
_WARM_TEXT = ("Client arrived late, said the homework was pointless and did not want to "
              "talk. Writer validated her frustration; by the end she agreed to try again.")


def cache_dir() -> Path | None:
    """The cache directory, or None when the cache is turned off."""
    value = os.environ.get(CACHE_ENV)
    if value is not None:
        return None if value.strip().lower() in _OFF else Path(value).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rapportnotes"


def _source_digest() -> bytes:
    """SHA-256 of the extractor package's code and rule data (what the state is built by
    and from): editing a rule file or the compiler gives a new key."""
    digest = hashlib.sha256()
    package = resources.files(__package__)
    for sub in ("", "patterns"):
        folder = package.joinpath(sub) if sub else package
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            if entry.is_file() and entry.name.endswith((".py", ".json", ".jsonl", ".c")):
                digest.update(entry.name.encode())
                digest.update(entry.read_bytes())
    return digest.digest()


def _lookup_table_id() -> str:
    """Identity of spacy-lookups-data's lemma table (version, size, mtime of the file)."""
    try:
        import spacy_lookups_data

        path = Path(spacy_lookups_data.__file__).parent / "data" / "en_lemma_lookup.json.gz"
        st = path.stat()
        return f"{getattr(spacy_lookups_data, '__version__', '?')}:{st.st_size}:{st.st_mtime_ns}"
    except (ImportError, OSError):  # pragma: no cover - a required dependency
        return "none"


def state_key(nlp: Language) -> str:
    """The cache key of ``nlp``'s compiled state: every input the state depends on."""
    import numpy
    import spacy

    from .. import __version__

    digest = hashlib.sha256()
    parts = [f"format={FORMAT}", f"rapportnotes={__version__}", f"spacy={spacy.__version__}",
             f"numpy={numpy.__version__}", f"python={sys.implementation.name}:{sys.version}",
             f"lemmas={_lookup_table_id()}", f"pipeline={','.join(nlp.pipe_names)}"]
    for part in parts:
        digest.update(part.encode())
        digest.update(b"\0")
    digest.update(_source_digest())
    for name in COMPONENTS:
        digest.update(nlp.get_pipe(name).state_inputs())
    return digest.hexdigest()


class _Pickler(pickle.Pickler):
    """Leaves the pipeline's vocab out of the file: it is the loading pipeline's own."""

    def persistent_id(self, obj: Any) -> str | None:
        if isinstance(obj, Vocab):
            return "vocab"
        if isinstance(obj, StringStore):
            return "strings"
        if isinstance(obj, Language):
            return "nlp"
        return None


class _Unpickler(pickle.Unpickler):
    def __init__(self, data: bytes, nlp: Language) -> None:
        super().__init__(io.BytesIO(data))
        self._refs = {"vocab": nlp.vocab, "strings": nlp.vocab.strings, "nlp": nlp}

    def persistent_load(self, pid: Any) -> Any:
        try:
            return self._refs[pid]
        except (KeyError, TypeError):
            raise pickle.UnpicklingError("unknown reference") from None


def _trusted(path: Path) -> bool:
    """Owned by this user and writable by no one else (the file and its directory)."""
    if not hasattr(os, "getuid"):  # pragma: no cover - Windows: ACLs, not modes
        return True
    uid = os.getuid()
    for item in (path.parent, path):
        st = item.lstat()
        if stat.S_ISLNK(st.st_mode) or st.st_uid != uid or st.st_mode & 0o022:
            return False
    return True


def _compile(nlp: Language) -> None:
    for name in COMPONENTS:
        nlp.get_pipe(name).compile_now()
    list(nlp.pipe([_WARM_TEXT]))


def prepare(nlp: Language) -> str:
    """Bring ``nlp``'s cue components to their compiled state: from the cache when it has
    this key (``"cache"``), else by compiling and saving (``"compiled"``). With the cache
    off, nothing is done here and the components compile at their first document
    (``"off"``)."""
    folder = cache_dir()
    if folder is None:
        return "off"
    key = state_key(nlp)
    path = folder / f"pipeline-{key[:40]}.pickle"
    if _load(nlp, path):
        return "cache"
    before = set(nlp.vocab.strings)
    _compile(nlp)
    _save(nlp, path, before)
    return "compiled"


def _load(nlp: Language, path: Path) -> bool:
    try:
        if not path.is_file() or not _trusted(path):
            return False
        data = path.read_bytes()
        state = _Unpickler(data, nlp).load()
        if not isinstance(state, dict) or state.get("format") != FORMAT:
            return False
        for text in state["strings"]:
            nlp.vocab.strings.add(text)
        for name in COMPONENTS:
            nlp.get_pipe(name).restore_compiled(state["components"][name])
        return True
    except Exception as exc:  # any bad file means: compile instead
        log.debug("warm start: cache file not used (%s)", exc.__class__.__name__)
        for name in COMPONENTS:  # a half-restored component compiles afresh
            nlp.get_pipe(name).forget_compiled()
        return False


#: states kept side by side (several installs or Python versions sharing one cache)
KEEP = 4


def _evict(folder: Path, *, keep: Path) -> None:
    """Remove all but the :data:`KEEP` most recently written states."""
    try:
        states = sorted(folder.glob("pipeline-*.pickle"), key=lambda p: p.stat().st_mtime_ns,
                        reverse=True)
        for old in [p for p in states if p != keep][KEEP - 1:]:
            old.unlink()
    except OSError:
        pass


def _save(nlp: Language, path: Path, before: set[str]) -> None:
    state = {
        "format": FORMAT,
        "strings": [s for s in nlp.vocab.strings if s not in before],
        "components": {name: nlp.get_pipe(name).compiled_state() for name in COMPONENTS},
    }
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        buffer = io.BytesIO()
        _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(state)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".pipeline-", suffix=".tmp")
        with os.fdopen(fd, "wb") as out:
            out.write(buffer.getvalue())
        os.replace(tmp, path)
        tmp = None
        _evict(path.parent, keep=path)
    except (OSError, pickle.PicklingError, TypeError, AttributeError) as exc:
        log.debug("warm start: cache not written (%s)", exc.__class__.__name__)
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


__all__ = ["CACHE_ENV", "cache_dir", "prepare", "state_key"]
