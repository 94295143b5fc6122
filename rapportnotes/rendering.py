"""Text rendering of a Note through sandboxed Jinja2 templates.

Templates are data: the built-in ones live in ``rapportnotes/templates`` and a user (or a
vendor) can put a directory of their own in front. Lookup order for ``note.<ext>.j2`` is
``<format>/note.<ext>.j2`` then ``note.<ext>.j2``, first in the user directories, then in
the built-ins; a user template can ``{% extends "builtin:note.md.j2" %}`` to change one block
and keep the rest.

Why a sandbox: templates may come from a clinic's shared drive. ``ImmutableSandboxedEnvironment``
stops attribute games and mutation, ``StrictUndefined`` turns a typo into an error instead of
a silently missing paragraph, and templates receive plain JSON data (``note.model_dump``),
never live objects with methods.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    FileSystemLoader,
    PackageLoader,
    PrefixLoader,
    StrictUndefined,
    TemplateNotFound,
)
from jinja2 import (
    TemplateError as JinjaTemplateError,
)
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from .errors import TemplateError
from .notes import Note

TEXT_KINDS = ("md", "txt", "html")


def _wrap(text: str, width: int = 92, indent: str = "") -> str:
    """Word-wrap for the plain-text template (textwrap is not exposed to the sandbox)."""
    import textwrap

    return textwrap.fill(text, width=width, subsequent_indent=indent,
                         break_long_words=False, break_on_hyphens=False)


_BLOCK_START = re.compile(
    r"^(\s*)(#{1,6}(?=\s|$)|[-+](?=\s|$)|[0-9]{1,9}[.)](?=\s|$)|[-=~]+(?=\s*$))")
"""A line start that opens a Markdown block: ATX heading, list item, ordered item, or a
line of only ``-``/``=``/``~`` (rule, setext underline, fence). ``>``, ``*``, ``_``, ``|``
and backticks are escaped wherever they stand."""


def _md_escape(text: str) -> str:
    """Escape what would turn a field's text into Markdown structure.

    Inline markup characters everywhere; and at the start of every line, the markers that
    open a block — a heading (``#``), a quote (``>``), a list item (``-``, ``+``, ``1.``),
    a rule or a setext underline (``---``, ``===``) — so that text typed into any field
    can never forge a section of the note (``"Sleeping well.\n\n## Plan"``).
    """
    out = []
    for ch in str(text):
        if ch in "\\`*_[]<>|":
            out.append("\\" + ch)
        else:
            out.append(ch)
    lines = "".join(out).split("\n")
    return "\n".join(_BLOCK_START.sub(_neutralise, line) for line in lines)


def _neutralise(m: re.Match[str]) -> str:
    marker = m.group(2)
    if marker[0].isdigit():  # "1." → "1\." (a backslash before a digit is not an escape)
        return m.group(1) + marker[:-1] + "\\" + marker[-1]
    return m.group(1) + "\\" + marker


MAX_OUTPUT_CHARS = 5_000_000
"""A rendered note is kilobytes; a template producing more is broken or hostile."""
MAX_SECONDS = 10.0
"""Wall-time budget of one render."""
MAX_ITERATIONS = 200_000
"""Budget of ``range()`` steps in one render (loops over the note's own data are bounded by
the data)."""
MAX_SEQUENCE = 100_000
"""Largest string or list a template may build with ``*``."""


class TemplateLimitError(Exception):
    """A template exceeded a resource limit (turned into TemplateError with its name)."""


class _LimitedEnvironment(ImmutableSandboxedEnvironment):
    """The immutable sandbox plus resource limits: templates can come from a shared
    folder, and one of them must not hang a batch or fill a disk."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, str | list | tuple) and isinstance(n, int) and \
                        len(seq) * max(n, 0) > MAX_SEQUENCE:
                    raise TemplateLimitError(f"'*' would build more than {MAX_SEQUENCE} items")
        if operator == "**" and isinstance(right, int) and abs(right) > 64:
            raise TemplateLimitError("'**' with an exponent above 64")
        return super().call_binop(context, operator, left, right)


class _Budget:
    """Counts ``range()`` steps and watches the clock for one render."""

    def __init__(self) -> None:
        self.steps = 0
        self.deadline = time.monotonic() + MAX_SECONDS

    def check(self) -> None:
        if time.monotonic() > self.deadline:
            raise TemplateLimitError(f"rendering took longer than {MAX_SECONDS:g} s")

    def range(self, *args: int) -> Iterator[int]:
        for i in range(*args):
            self.steps += 1
            if self.steps > MAX_ITERATIONS:
                raise TemplateLimitError(f"more than {MAX_ITERATIONS} range() steps")
            if not self.steps % 1000:
                self.check()
            yield i


@lru_cache(maxsize=16)
def _environment(user_dirs: tuple[str, ...], autoescape: bool) -> ImmutableSandboxedEnvironment:
    builtin: BaseLoader = PackageLoader("rapportnotes", "templates")
    loaders: list[BaseLoader] = []
    if user_dirs:
        loaders.append(FileSystemLoader(list(user_dirs)))
    loaders.append(builtin)
    env = _LimitedEnvironment(
        loader=ChoiceLoader([PrefixLoader({"builtin": builtin}, delimiter=":"), *loaders]),
        undefined=StrictUndefined,
        autoescape=autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["wrap"] = _wrap
    env.filters["md"] = _md_escape
    return env


def template_name_candidates(fmt: str, kind: str) -> list[str]:
    return [f"{fmt}/note.{kind}.j2", f"note.{kind}.j2"]


def render_text(note: Note, kind: str, *,
                template_dirs: Sequence[str | os.PathLike[str]] = ()) -> str:
    """Render ``note`` as ``md``, ``txt`` or ``html`` text."""
    if kind not in TEXT_KINDS:
        raise TemplateError(f"no text template kind {kind!r}; choose from {', '.join(TEXT_KINDS)}")
    dirs = []
    for d in template_dirs:
        p = Path(d)
        if not p.is_dir():
            raise TemplateError(f"template directory {p} does not exist")
        dirs.append(str(p.resolve()))
    env = _environment(tuple(dirs), kind == "html")
    try:
        template = env.select_template(template_name_candidates(note.format, kind))
    except TemplateNotFound as exc:
        raise TemplateError(f"no template found for {note.format}/{kind}: {exc}") from None
    except JinjaTemplateError as exc:
        raise TemplateError(f"template error: {_describe(exc)}") from None
    data: dict[str, Any] = note.model_dump(mode="json")
    budget = _Budget()
    chunks: list[str] = []
    size = 0
    try:
        for chunk in template.generate(note=data, range=budget.range):
            size += len(chunk)
            if size > MAX_OUTPUT_CHARS:
                raise TemplateLimitError(f"output larger than {MAX_OUTPUT_CHARS} characters")
            chunks.append(chunk)
            budget.check()
    except SecurityError as exc:
        raise TemplateError(f"{_where(template)}: blocked by the sandbox ({exc})") from None
    except JinjaTemplateError as exc:
        raise TemplateError(f"template error: {_describe(exc)}") from None
    except TemplateLimitError as exc:
        raise TemplateError(f"{_where(template)}: template limit: {exc}") from None
    except RecursionError:
        raise TemplateError(f"{_where(template)}: recursion too deep") from None
    except Exception as exc:  # a runtime error inside the template (1/0, bad types, ...)
        raise TemplateError(f"{_where(template, exc)}: {type(exc).__name__} while "
                            "rendering") from None
    return "".join(chunks)


def _where(template: Any, exc: BaseException | None = None) -> str:
    """``file:line`` of the innermost template frame an exception came from (Jinja rewrites
    the traceback to template source lines), else the template's name. Never the message:
    it may hold note text."""
    name = template.filename or template.name or "template"
    if exc is not None:
        tb = exc.__traceback__
        line = None
        while tb is not None:
            code = tb.tb_frame.f_code
            if code.co_filename in (template.filename, "<template>"):
                line = tb.tb_lineno  # Jinja rewrites these frames to template lines
            tb = tb.tb_next
        if line:
            return f"{name}:{line}"
    return str(name)


def _describe(exc: JinjaTemplateError) -> str:
    name = getattr(exc, "filename", None) or getattr(exc, "name", None)
    line = getattr(exc, "lineno", None)
    where = f"{name}:{line}: " if name and line else (f"{name}: " if name else "")
    return f"{where}{exc.message or type(exc).__name__}"
