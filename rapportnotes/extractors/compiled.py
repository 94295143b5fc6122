"""What the two rule components share about their compiled state.

``rapport_cues`` and ``rapport_context`` compile their rule files into matchers and tables
at the first document (or on demand). The same list of compiled attributes decides three
things, so it is written once here: what a worker's pickle leaves out (the worker compiles
again, faster than unpickling matchers), what the warm-start cache saves and restores
(``warmstart.py``), and what a failed restore forgets.
"""

from __future__ import annotations

from typing import Any


class CompiledComponent:
    """Mixin for a component with ``_compile()`` and a ``_compiled`` flag."""

    #: attributes ``_compile`` sets (and tables built from them at the first document)
    COMPILED: tuple[str, ...] = ()
    #: per-process caches, reset to None rather than saved (one holds a closure)
    TRANSIENT: tuple[str, ...] = ()
    _compiled: bool

    def _compile(self) -> None:  # pragma: no cover - each component has its own
        raise NotImplementedError

    def _state_texts(self) -> tuple[str, ...]:  # pragma: no cover - per component
        """The settings (as one repr) and rule texts the compiled state is made from."""
        raise NotImplementedError

    def _extra_state(self) -> dict[str, Any]:
        """State beyond :attr:`COMPILED` worth saving (none by default)."""
        return {}

    def _adopt_extra(self, state: dict[str, Any]) -> None:
        """Take back what :meth:`_extra_state` saved."""

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        for attr in self.COMPILED:
            state.pop(attr, None)
        for attr in self.TRANSIENT:
            state[attr] = None
        state["_compiled"] = False
        return state

    # ------------------------------------------------------------------ warm start
    def state_inputs(self) -> bytes:
        """What the compiled state is made from, for the warm-start cache key."""
        return b"\0".join(x.encode("utf-8", "surrogatepass") for x in self._state_texts())

    def compile_now(self) -> None:
        """Compile the rules now instead of at the first document."""
        if not self._compiled:
            self._compile()

    def compiled_state(self) -> dict[str, Any]:
        """The compiled attributes, to save (see ``warmstart.py``)."""
        self.compile_now()
        return {**self._extra_state(), **{a: getattr(self, a) for a in self.COMPILED}}

    def restore_compiled(self, state: dict[str, Any]) -> None:
        """Adopt a state saved by :meth:`compiled_state` (same inputs: see the key)."""
        self._adopt_extra(state)
        for attr in self.COMPILED:
            setattr(self, attr, state[attr])
        for attr in self.TRANSIENT:
            setattr(self, attr, None)
        self._compiled = True

    def forget_compiled(self) -> None:
        """Back to the uncompiled state (after a failed restore)."""
        for attr in self.COMPILED:
            self.__dict__.pop(attr, None)
        for attr in self.TRANSIENT:
            setattr(self, attr, None)
        self._compiled = False


__all__ = ["CompiledComponent"]
