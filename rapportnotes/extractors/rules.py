"""Rule files of the cue extractor: schemas, loading and the compact token syntax.

Every rule the extractor uses is data: JSON-lines files shipped in
``rapportnotes/extractors/patterns`` and read with :mod:`importlib.resources`, so they work
from a wheel or a zip. Each line is validated by a strict pydantic model; a bad line raises
:class:`RuleFileError` naming the file and the line number (never any clinical text).

A rule gives its token pattern either as a raw spaCy ``Matcher`` pattern (``"pattern"``) or
in a compact, readable form (``"seq"``) compiled to the same thing. ``seq`` is a
space-separated list of token specs:

=================  ===========================================================================
``refuse``         LEMMA is ``refuse`` (values are lemmatised with the same lookup table as
                   the text, so ``refused`` in a rule means the same)
``a|b|c``          LEMMA is one of the alternatives
``=w/|hw``         LOWER is one of the alternatives (abbreviations, irregular lemmas)
``!a|b``           LEMMA is none of them (``!=a|b``: LOWER is none of them)
``@name``          a lexicon entry from ``lexicon.jsonl`` (``@a|@b|word``: a LEMMA/LOWER
                   mix is matched on LEMMA, the LOWER values lemmatised)
``_``              any token
``#``              a number-like token (``20``, ``twenty``)
``no-show``        a hyphenated word: ``no``, optional ``-``, ``show`` (the tokenizer splits it)
suffix ``? * +``   optional / zero or more / one or more; ``{0,3}``: between 0 and 3
=================  ===========================================================================
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..errors import RapportNotesError
from ..taxonomy import CATEGORIES, LABELS

PATTERN_PACKAGE = "rapportnotes.extractors.patterns"
CUE_FILE = "cues.jsonl"
CONTEXT_FILE = "context.jsonl"
LEXICON_FILE = "lexicon.jsonl"

Experiencer = Literal["client", "caregiver", "therapist", "third_party"]


class RuleFileError(RapportNotesError, ValueError):
    """A rule file line is not valid JSON, does not fit its schema, or cannot be compiled."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LexiconEntry(_Strict):
    """A named word list usable as ``@name`` in any ``seq``."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    attr: Literal["LEMMA", "LOWER"] = "LEMMA"
    values: list[str] = Field(min_length=1)
    comment: str | None = None


class _PatternRule(_Strict):
    id: str = Field(min_length=1)
    seq: str | None = None
    pattern: list[dict[str, Any]] | None = None
    comment: str | None = None

    @model_validator(mode="after")
    def _one_pattern(self) -> _PatternRule:
        if (self.seq is None) == (self.pattern is None):
            raise ValueError("give exactly one of 'seq' or 'pattern'")
        return self


def _check_labels(values: list[str] | None) -> list[str] | None:
    """Accept full labels or bare categories (``"repair"`` = every repair label)."""
    for value in values or ():
        if value not in LABELS and value not in CATEGORIES:
            raise ValueError(f"unknown label or category {value!r}")
    return values


class CueRule(_PatternRule):
    """A phrase that names a cue (``label``), or suppresses cues (``exclude``).

    ``require_sentence``: lemmas of which at least one must occur in the same sentence
    (e.g. visible affect for ``withdrawal.denial``). ``exclude``: labels or categories whose
    overlapping matches this rule removes ("late mother", "alcohol withdrawal").
    """

    label: str | None = None
    exclude: list[str] | None = None
    require_sentence: list[str] | None = None
    experiencer: Experiencer | None = Field(
        None, description="fixed experiencer when the phrase names its own subject "
        "('tension eased', 'her stance softened')")

    @field_validator("label")
    @classmethod
    def _known_label(cls, value: str | None) -> str | None:
        if value is not None and value not in LABELS:
            raise ValueError(f"unknown label {value!r}")
        return value

    _exclude_labels = field_validator("exclude")(classmethod(lambda cls, v: _check_labels(v)))

    @model_validator(mode="after")
    def _label_or_exclude(self) -> CueRule:
        if (self.label is None) == (self.exclude is None):
            raise ValueError("give exactly one of 'label' or 'exclude'")
        return self


ContextCategory = Literal[
    "negated", "hypothetical", "historical", "uncertain",  # modifiers with a scope
    "terminate",  # ends every scope ("but", "however", ";", "today")
    "pseudo",  # looks like a trigger but is not ("no change", "not only")
    "actor",  # names who acts (experiencer), see ``experiencer``
    "boundary",  # a word after which a clause's subject may start ("and", "when", "said")
    "couples",  # marks a couples/family session: unpossessed spouses are clients
    "agent",  # right after a cue: passive agent / outside setting ("by clinician", "at work")
]


class ContextRule(_PatternRule):
    """A ConText trigger, terminator, pseudo-trigger, actor or clause boundary."""

    category: ContextCategory
    direction: Literal["forward", "backward", "both"] = "forward"
    max_scope: int | None = Field(None, ge=1, le=60)
    experiencer: Experiencer | None = None
    couples_experiencer: Experiencer | None = None
    applies_to: list[str] | None = None
    not_applies_to: list[str] | None = None
    pair: bool = Field(False, description="couples markers only: counts when two different "
                       "words matched by pair rules occur in the note")
    cancels: list[Literal["negated", "hypothetical", "historical", "uncertain"]] | None = Field(
        None, description="pseudo-triggers only: the modifiers they cancel (default: all)")

    _labels = field_validator("applies_to", "not_applies_to")(
        classmethod(lambda cls, v: _check_labels(v))
    )

    @model_validator(mode="after")
    def _actor_has_experiencer(self) -> ContextRule:
        if (self.category in ("actor", "agent")) != (self.experiencer is not None):
            raise ValueError("'experiencer' is required for actors/agents and only for them")
        return self

    def applies(self, label: str) -> bool:
        """Whether this trigger may modify a cue with ``label``."""
        cat = label.split(".", 1)[0]
        if self.applies_to is not None and label not in self.applies_to and (
            cat not in self.applies_to
        ):
            return False
        return not (self.not_applies_to and (label in self.not_applies_to
                                             or cat in self.not_applies_to))


# --------------------------------------------------------------------------- loading


def read_jsonl(text: str, model: type[BaseModel], filename: str) -> list[Any]:
    """Parse and validate JSON lines; blank lines and ``//`` comment lines are skipped."""
    rules = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("//"):
            continue
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise RuleFileError(f"{filename}, line {lineno}: not valid JSON ({exc.msg})") from None
        try:
            rules.append(model.model_validate(data))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'rule'}: {err['msg']}"
                for err in exc.errors()
            )
            raise RuleFileError(f"{filename}, line {lineno}: {problems}") from None
    return rules


@lru_cache(maxsize=8)
def packaged_text(filename: str) -> str:
    """The text of a rule file shipped in the package."""
    return resources.files(PATTERN_PACKAGE).joinpath(filename).read_text(encoding="utf-8")


def is_packaged(text: str, filename: str) -> bool:
    """Whether ``text`` is the rule file shipped as ``filename``. The shipped files'
    patterns are checked by spaCy's pattern validator in the test suite
    (``test_shipped_rule_patterns_pass_spacys_validation``), so compiling them again at
    every start (~0.7 s) is skipped; any other text is validated when it is compiled."""
    return text == packaged_text(filename)


def load_lexicon(text: str | None = None) -> dict[str, LexiconEntry]:
    entries = read_jsonl(text if text is not None else packaged_text(LEXICON_FILE),
                         LexiconEntry, LEXICON_FILE)
    return {entry.name: entry for entry in entries}


# --------------------------------------------------------------------------- compiling

_OP_RE = re.compile(r"^(?P<core>.+?)(?P<op>\?|\*|\+|\{\d*,?\d*\})?$")


class Compiler:
    """Turns ``seq`` strings into spaCy Matcher patterns (LEMMA / LOWER token attributes)."""

    def __init__(self, lexicon: Mapping[str, LexiconEntry], lemma_of: Mapping[str, str]):
        self.lexicon = lexicon
        self.lemma_of = lemma_of

    def lemma(self, word: str) -> str:
        low = word.lower()
        return self.lemma_of.get(low, low)

    def _values(self, alts: Iterable[str], default_attr: str) -> tuple[str, list[str]]:
        groups: list[tuple[str, list[str]]] = []
        for alt in alts:
            if alt.startswith("@"):
                entry = self.lexicon.get(alt[1:])
                if entry is None:
                    raise ValueError(f"unknown lexicon entry {alt!r}")
                groups.append((entry.attr, list(entry.values)))
            elif alt.startswith("=") and len(alt) > 1:
                # "=word" after a "|" is a LOWER alternative too ("@clref|=she|he"): read
                # literally, "=she" matched nothing, silently
                groups.append(("LOWER", [alt[1:]]))
            else:
                groups.append((default_attr, [alt]))
        attrs = {attr for attr, _ in groups}
        # LOWER and LEMMA alternatives in one token: match all of them on LEMMA
        attr = attrs.pop() if len(attrs) == 1 else "LEMMA"
        values = [self.lemma(v) if attr == "LEMMA" else v.lower()
                  for _, vals in groups for v in vals]
        return attr, sorted(set(values))

    def token(self, spec: str) -> list[dict[str, Any]]:
        match = _OP_RE.match(spec)
        if match is None:
            raise ValueError(f"bad token spec {spec!r}")
        core, op = match.group("core"), match.group("op")
        pat: dict[str, Any]
        if core == "_":
            pat = {}
        elif core == "#":
            pat = {"LIKE_NUM": True}
        else:
            negate = core.startswith("!") and len(core) > 1
            if negate:
                core = core[1:]
            attr = "LEMMA"
            if core.startswith("=") and len(core) > 1:
                attr, core = "LOWER", core[1:]
            alts = [a for a in core.split("|") if a]
            if not alts:
                raise ValueError(f"empty token spec {spec!r}")
            hyphenated = (len(alts) == 1 and "-" in alts[0].strip("-")
                          and not alts[0].startswith("@"))
            if hyphenated and not negate:
                parts = alts[0].split("-")
                out: list[dict[str, Any]] = []
                for i, part in enumerate(parts):
                    if i:
                        out.append({"ORTH": {"IN": ["-", "–"]}, "OP": "?"})
                    out.append({attr: self._one(attr, part)})
                if op:
                    raise ValueError(f"an operator cannot follow a hyphenated word: {spec!r}")
                return out
            attr, values = self._values(alts, attr)
            key = "NOT_IN" if negate else "IN"
            pat = {attr: {key: values}} if (negate or len(values) > 1) else {attr: values[0]}
        if op:
            pat["OP"] = op
        return [pat]

    def _one(self, attr: str, word: str) -> str:
        return self.lemma(word) if attr == "LEMMA" else word.lower()

    def compile(self, seq: str) -> list[dict[str, Any]]:
        pattern: list[dict[str, Any]] = []
        for spec in seq.split():
            pattern.extend(self.token(spec))
        if not pattern or all(p.get("OP") in ("?", "*") or p.get("OP", "").startswith("{0")
                              for p in pattern):
            raise ValueError("pattern can match nothing")
        return pattern

    def pattern_of(self, rule: _PatternRule, filename: str, lineno_hint: str) -> list[dict]:
        try:
            return self.compile(rule.seq) if rule.seq is not None else list(rule.pattern or [])
        except ValueError as exc:
            raise RuleFileError(f"{filename}, rule {lineno_hint!r}: {exc}") from None


def anchor_words(pattern: list[dict[str, Any]], forms_of: Mapping[str, Iterable[str]]
                 ) -> set[str] | None:
    """Lower-case forms of which one must occur for ``pattern`` to match, or None.

    Picks the required token with the fewest surface forms; ``forms_of`` maps a lemma to
    its inflected forms. None means the pattern has no enumerable required token.
    """
    best: set[str] | None = None
    for tok in pattern:
        if tok.get("OP") in ("?", "*") or str(tok.get("OP", "")).startswith("{0") or \
                str(tok.get("OP", "")).startswith("{,"):
            continue
        forms: set[str] | None = None
        for attr, spec in tok.items():
            if attr not in ("LEMMA", "LOWER", "ORTH"):
                continue
            if isinstance(spec, str):
                values = [spec]
            elif isinstance(spec, dict) and "IN" in spec:
                values = list(spec["IN"])
            else:
                continue
            forms = set()
            for value in values:
                if attr == "LEMMA":
                    forms.add(value)
                    forms.update(forms_of.get(value, ()))
                else:
                    forms.add(value.lower())
        if forms is not None and (best is None or len(forms) < len(best)):
            best = forms
    return best
