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
from collections.abc import Sequence
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


def _md_escape(text: str) -> str:
    """Escape characters that would turn client text into Markdown markup."""
    out = []
    for ch in str(text):
        if ch in "\\`*_[]<>|":
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


@lru_cache(maxsize=16)
def _environment(user_dirs: tuple[str, ...], autoescape: bool) -> ImmutableSandboxedEnvironment:
    builtin: BaseLoader = PackageLoader("rapportnotes", "templates")
    loaders: list[BaseLoader] = []
    if user_dirs:
        loaders.append(FileSystemLoader(list(user_dirs)))
    loaders.append(builtin)
    env = ImmutableSandboxedEnvironment(
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
    try:
        return template.render(note=data)
    except SecurityError as exc:
        raise TemplateError(f"template blocked by the sandbox: {exc}") from None
    except JinjaTemplateError as exc:
        raise TemplateError(f"template error: {_describe(exc)}") from None


def _describe(exc: JinjaTemplateError) -> str:
    name = getattr(exc, "filename", None) or getattr(exc, "name", None)
    line = getattr(exc, "lineno", None)
    where = f"{name}:{line}: " if name and line else (f"{name}: " if name else "")
    return f"{where}{exc.message or type(exc).__name__}"
