"""Registries over ``importlib.metadata`` entry points.

Every extension point (note formats, exporters, measures) is a :class:`Registry`. Built-ins
register through the same entry points as third-party packages, so there is one code path
and a vendor's plugin is a first-class citizen. Entry points are loaded lazily (only the one
asked for) and failures are wrapped in :class:`PluginError` naming the distribution, so a
broken plugin never turns into a bare traceback in the CLI.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Generic, TypeVar

from .errors import PluginError

T = TypeVar("T")

FORMATS_GROUP = "rapportnotes.formats"
EXPORTERS_GROUP = "rapportnotes.exporters"
MEASURES_GROUP = "rapportnotes.measures"


@dataclass(frozen=True)
class PluginInfo:
    """Where a registered name comes from (shown by ``rapportnotes formats``)."""

    name: str
    value: str
    distribution: str
    problem: str | None = None
    """Why the name cannot be used (two packages register it), or None."""


class Registry(Generic[T]):
    """Name → plugin object, fed by one entry-point group plus in-process registrations.

    ``register()`` exists for tests and for applications that embed rapportnotes without
    packaging a plugin; it takes precedence over entry points of the same name only when
    ``replace=True`` is passed, so a silent shadowing is impossible.
    """

    def __init__(self, group: str, kind: str, check: Callable[[object], T] | None = None):
        self.group = group
        self.kind = kind
        self._check = check
        self._local: dict[str, T] = {}
        self._loaded: dict[str, T] = {}
        self._eps: dict[str, EntryPoint] | None = None
        self._conflicts: dict[str, str] = {}

    def _entry_points(self) -> dict[str, EntryPoint]:
        """Entry points by name. When two packages register one name, the built-in wins
        (a plugin cannot replace or disable it; the clash is reported); between two
        third-party packages that name alone is unusable and says so — every other name
        keeps working."""
        if self._eps is None:
            found: dict[str, EntryPoint] = {}
            conflicts: dict[str, str] = {}
            for ep in sorted(entry_points(group=self.group), key=lambda e: (e.name, e.value)):
                prev = found.get(ep.name)
                if prev is None or prev.value == ep.value:
                    found[ep.name] = ep
                    continue
                clash = (f"{self.kind} {ep.name!r} is registered twice: by {_dist_name(prev)} "
                         f"({prev.value}) and by {_dist_name(ep)} ({ep.value})")
                builtin = [e for e in (prev, ep) if _is_builtin(e)]
                if builtin:
                    found[ep.name] = builtin[0]
                    conflicts.setdefault(ep.name, clash + "; the built-in is used")
                else:
                    conflicts[ep.name] = clash + "; uninstall one of them"
            self._eps = found
            self._conflicts = conflicts
        return self._eps

    def problem(self, name: str) -> str | None:
        """Why ``name`` cannot be used as registered, or None."""
        self._entry_points()
        msg = self._conflicts.get(name)
        return msg if msg is not None and not msg.endswith("the built-in is used") else None

    def warnings(self) -> list[str]:
        """Clashes that were resolved in favour of a built-in (worth telling the user)."""
        self._entry_points()
        return [m for m in self._conflicts.values() if m.endswith("the built-in is used")]

    def names(self) -> list[str]:
        """All registered names, sorted."""
        return sorted(set(self._entry_points()) | set(self._local))

    def info(self) -> Iterator[PluginInfo]:
        """Yield where each name comes from, sorted by name."""
        eps = self._entry_points()
        for name in self.names():
            if name in self._local:
                yield PluginInfo(name, repr(self._local[name]), "(registered in process)")
            else:
                ep = eps[name]
                yield PluginInfo(name, ep.value, _dist_name(ep), self.problem(name))

    def get(self, name: str) -> T:
        """Return the plugin called ``name``; unknown names list what exists."""
        if name in self._local:
            return self._local[name]
        if name in self._loaded:
            return self._loaded[name]
        ep = self._entry_points().get(name)
        problem = self.problem(name)
        if problem is not None:
            raise PluginError(problem)
        if ep is None:
            known = ", ".join(self.names()) or "none"
            raise PluginError(f"unknown {self.kind} {name!r}; available: {known}")
        try:
            obj = ep.load()
        except Exception as exc:  # a plugin's import error must not crash the host
            raise PluginError(
                f"{self.kind} {name!r} from {_dist_name(ep)} failed to load: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        if self._check is not None:
            try:
                obj = self._check(obj)
            except (TypeError, ValueError) as exc:
                raise PluginError(
                    f"{self.kind} {name!r} from {_dist_name(ep)} is invalid: {exc}"
                ) from exc
        self._loaded[name] = obj
        return obj

    def register(self, name: str, obj: T, *, replace: bool = False) -> None:
        """Register ``obj`` under ``name`` in this process."""
        if not replace and (name in self._local or name in self._entry_points()):
            raise PluginError(f"{self.kind} {name!r} is already registered")
        if self._check is not None:
            obj = self._check(obj)
        self._local[name] = obj
        self._loaded.pop(name, None)

    def unregister(self, name: str) -> None:
        """Remove an in-process registration (entry points are untouched)."""
        self._local.pop(name, None)

    def refresh(self) -> None:
        """Forget cached entry points (after installing a plugin in a running process)."""
        self._eps = None
        self._conflicts = {}
        self._loaded.clear()


def _is_builtin(ep: EntryPoint) -> bool:
    dist = getattr(ep, "dist", None)
    return dist is not None and dist.name == "rapportnotes" and \
        ep.value.startswith("rapportnotes.")


def _dist_name(ep: EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    return f"package {dist.name!r}" if dist is not None else "an unknown package"
