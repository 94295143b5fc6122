"""Documentation lint: what a payer's auditor would catch, before the note is filed.

``lint(obs, profile="medicare") -> list[Finding]``. A finding has a stable rule id
(``RN-TIME-001``), a severity, the field path, a one-line message (never a field value) and
the source of the rule. Rules are data: a profile is a JSON file listing rules — which
check, its parameters, its severity, its source — so a vendor switches rules on and off or
adds its own without code. The built-in profiles (``medicare``, ``commercial``) ship as
data in ``lint/profiles/`` and are registered, like a clinic's own, through the
``rapportnotes.lint_profiles`` entry point group. Nothing from lint enters the note.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import InputError, PluginError
from ..models import SessionObservation
from ..plugins import Registry
from .checks import CHECKS, Context

Severity = Literal["error", "warning", "info"]
LINT_PROFILES_GROUP = "rapportnotes.lint_profiles"


class Finding(BaseModel):
    """One lint finding."""

    model_config = ConfigDict(frozen=True)

    rule: str = Field(description="Stable rule id, e.g. 'RN-TIME-001'.")
    severity: Severity
    path: str = Field(description="Field path the finding is about.")
    message: str = Field(description="One line; never a field value.")
    source: str = Field(description="Where the rule comes from (LCD, CPT, CMS, HIPAA...).")


class RuleSpec(BaseModel):
    """One rule of a profile (a line of its JSON file)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[A-Z]{2,}-[A-Z]+-[0-9]{3}$")
    check: str
    severity: Severity
    source: str = Field(min_length=1)
    description: str = Field(min_length=1)
    enabled: bool = True
    params: dict[str, object] = Field(default_factory=dict)


class Profile(BaseModel):
    """A lint profile: its name and rules (optionally extending another profile)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str = ""
    extends: str | None = Field(None, description="Start from this profile's rules; rules "
                                "with the same id replace them (e.g. to disable one).")
    rules: tuple[RuleSpec, ...] = ()


def _check_profile(obj: object) -> Profile:
    """Entry points may give a Profile, a dict, or a path to a JSON file."""
    if callable(obj) and not isinstance(obj, Profile):
        obj = obj()
    if isinstance(obj, str | Path):
        obj = json.loads(Path(obj).read_text("utf-8"))
    if isinstance(obj, dict):
        try:
            obj = Profile.model_validate(obj)
        except ValidationError as exc:
            raise ValueError(f"not a lint profile ({exc.error_count()} errors)") from None
    if not isinstance(obj, Profile):
        raise TypeError(f"expected a lint Profile, got {type(obj).__name__}")
    unknown = [r.check for r in obj.rules if r.check not in CHECKS]
    if unknown:
        raise ValueError(f"unknown check(s): {', '.join(sorted(set(unknown)))}")
    return obj


profiles: Registry[Profile] = Registry(LINT_PROFILES_GROUP, "lint profile", check=_check_profile)
"""Registry of lint profiles (entry-point group ``rapportnotes.lint_profiles``)."""


def builtin_profile(name: str) -> Profile:
    """A built-in profile read from ``lint/profiles/<name>.json`` (entry-point target)."""
    text = resources.files(__package__).joinpath(f"profiles/{name}.json").read_text("utf-8")
    return _check_profile(json.loads(text))


def medicare() -> Profile:
    return builtin_profile("medicare")


def commercial() -> Profile:
    return builtin_profile("commercial")


def resolve(profile: str | Profile) -> list[RuleSpec]:
    """The rules of ``profile`` with ``extends`` applied, enabled ones only."""
    prof = profiles.get(profile) if isinstance(profile, str) else _check_profile(profile)
    seen: set[str] = set()
    chain: list[Profile] = []
    while prof is not None:
        if prof.name in seen:
            raise PluginError(f"lint profile {prof.name!r} extends itself")
        seen.add(prof.name)
        chain.append(prof)
        prof = profiles.get(prof.extends) if prof.extends else None
    rules: dict[str, RuleSpec] = {}
    for p in reversed(chain):
        for rule in p.rules:
            rules[rule.id] = rule
    return [r for r in rules.values() if r.enabled]


def lint(obs: SessionObservation, *, profile: str | Profile = "medicare",
         history: Sequence[SessionObservation] = ()) -> list[Finding]:
    """Findings for one session, sorted by severity, then rule id, then path."""
    ctx = Context(obs=obs, history=tuple(history))
    out: list[Finding] = []
    for rule in resolve(profile):
        for path, message in CHECKS[rule.check](ctx, rule.params):
            out.append(Finding(rule=rule.id, severity=rule.severity, path=path,
                               message=message, source=rule.source))
    order = {"error": 0, "warning": 1, "info": 2}
    return sorted(out, key=lambda f: (order[f.severity], f.rule, f.path))


def load_profile_file(path: str | Path) -> Profile:
    """A clinic's profile from a JSON file (``validate --profile-file``)."""
    try:
        return _check_profile(json.loads(Path(path).read_text("utf-8")))
    except (OSError, ValueError, TypeError) as exc:
        raise InputError(f"{path}: not a usable lint profile ({type(exc).__name__})") from None


__all__ = ["Finding", "Profile", "RuleSpec", "lint", "load_profile_file", "profiles",
           "resolve"]
