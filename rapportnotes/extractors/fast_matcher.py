"""A compiled, anchor-driven token-pattern matcher that never creates Span/Token objects.

Patterns are spaCy ``Matcher`` patterns (the output of :class:`rules.Compiler`). Each
pattern token compiles to a list of checks over per-doc attribute *columns* (python lists
of hashes / ints taken once per doc with ``doc.to_array``): membership in a frozenset of
hashes (``"x"``, ``IN``), non-membership (``NOT_IN``), a cached regex over the token string
(``REGEX``) or equality of a flag (``LIKE_NUM``, ``IS_SENT_START``, ...). Operators ``? * +
{m,n}`` become a (min, max) repeat count.

Every pattern has an *anchor*: a token without operator whose surface forms can be listed.
Each match maps the anchor token to one doc token, so for every occurrence of an anchor form
the matcher extends left and right from it (a small set-of-positions NFA walk, no
backtracking blow-up) and returns the cross product of possible starts and ends. That is
exactly the set of spans the pattern matches inside the sentence, i.e. what spaCy's
``Matcher`` returns (all matches, not only greedy ones). Patterns using anything else
(extension attributes, ``!`` operator, comparison predicates, no anchor) are left to the
caller's fallback (spaCy's ``Matcher``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from ._native import cmatch as _cmatch
from .batch import FormCache

#: string attributes compared as hashes (``doc.to_array`` returns string hashes for them)
_STRING_ATTRS = {"ORTH": "ORTH", "TEXT": "ORTH", "LOWER": "LOWER", "LEMMA": "LEMMA",
                 "NORM": "NORM", "SHAPE": "SHAPE"}
#: boolean / flag attributes compared as 0/1
_FLAG_ATTRS = {"IS_ALPHA", "IS_ASCII", "IS_DIGIT", "IS_LOWER", "IS_PUNCT", "IS_SPACE",
               "IS_TITLE", "IS_UPPER", "LIKE_URL", "LIKE_NUM", "LIKE_EMAIL", "IS_STOP",
               "IS_BRACKET", "IS_QUOTE", "IS_LEFT_PUNCT", "IS_RIGHT_PUNCT", "IS_CURRENCY",
               "IS_SENT_START", "SPACY"}
_INF = 1 << 30
#: multiplier combining an anchor hash and a neighbour value into one 64-bit gate key
_PAIR = 0x9E3779B97F4A7C15
_MASK64 = (1 << 64) - 1
_OPS = {"": (1, 1), "?": (0, 1), "*": (0, _INF), "+": (1, _INF)}
_RANGE = re.compile(r"^\{(\d*)(,?)(\d*)\}$")


class Unsupported(ValueError):
    """The pattern uses a feature the fast matcher does not compile."""


def _op_range(op: str) -> tuple[int, int]:
    if op in _OPS:
        return _OPS[op]
    m = _RANGE.match(op)
    if m is None:
        raise Unsupported(op)
    lo, comma, hi = m.groups()
    if not comma:  # {n}
        if not lo:
            raise Unsupported(op)
        return int(lo), int(lo)
    return int(lo or 0), int(hi) if hi else _INF


class _Columns:
    """Names of the doc attribute columns the compiled patterns need, in a fixed order."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def index(self, name: str) -> int:
        if name not in self.names:
            self.names.append(name)
        return self.names.index(name)


# a check is (column, kind, value): kind 0 = value in set, 1 = not in set,
# 2 = regex over the string of the hash (value = (regex, cache dict)), 3 = column == value
Check = tuple[int, int, Any]


def _compile_token(tok: Mapping[str, Any], cols: _Columns, strings: Any
                   ) -> tuple[list[Check], int, int]:
    checks: list[Check] = []
    lo, hi = _op_range(str(tok.get("OP", "")))
    for attr, spec in tok.items():
        if attr == "OP":
            continue
        if attr in _STRING_ATTRS:
            col = cols.index(_STRING_ATTRS[attr])
            if isinstance(spec, str):
                checks.append((col, 0, frozenset({strings.add(spec)})))
            elif isinstance(spec, dict) and len(spec) == 1:
                (pred, values), = spec.items()
                if pred in ("IN", "NOT_IN") and isinstance(values, list) and all(
                        isinstance(v, str) for v in values):
                    hashes = frozenset(strings.add(v) for v in values)
                    checks.append((col, 0 if pred == "IN" else 1, hashes))
                elif pred == "REGEX" and isinstance(values, str):
                    checks.append((col, 2, (re.compile(values), {})))
                else:
                    raise Unsupported(f"{attr} {pred}")
            else:
                raise Unsupported(attr)
        elif attr in _FLAG_ATTRS and isinstance(spec, bool):
            checks.append((cols.index(attr), 3, int(spec)))
        else:
            raise Unsupported(attr)
    return checks, lo, hi


# a compiled token is (lo, hi, mode, col, value, checks): mode 0 = any token, 1 = column
# value in ``value``, 2 = column value not in ``value``, 3 = run all ``checks``
Token = tuple[int, int, int, int, Any, list[Check]]


def _token(checks: list[Check], lo: int, hi: int) -> Token:
    if not checks:
        return lo, hi, 0, 0, None, checks
    if len(checks) == 1 and checks[0][1] in (0, 1):
        col, kind, value = checks[0]
        return lo, hi, 1 + kind, col, value, checks
    return lo, hi, 3, 0, None, checks


class CompiledPattern:
    """One pattern, split at its anchor token into a left and a right part."""

    __slots__ = ("anchor", "key", "left", "need", "right")

    def __init__(self, key: int, tokens: list[tuple[list[Check], int, int]], k: int):
        self.key = key
        self.anchor = tokens[k][0]
        self.left = [_token(*t) for t in reversed(tokens[:k])]
        self.right = [_token(*t) for t in tokens[k + 1:]]
        #: LOWER hashes of which one must occur in the sentence (a second anchor), or None
        self.need: frozenset[int] | None = None

    def __getstate__(self) -> tuple[Any, ...]:
        return self.key, self.anchor, self.left, self.right, self.need

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        self.key, self.anchor, self.left, self.right, self.need = state

    def neighbour(self) -> tuple[int, int, frozenset[int]] | None:
        """(side, column, allowed values) of a required token next to the anchor."""
        for side, part in ((1, self.right), (-1, self.left)):
            if part:
                lo, _hi, mode, col, value, _ = part[0]
                if lo >= 1 and mode == 1:
                    return side, col, value
        return None


class _Group:
    """The patterns of one anchor form, indexed by the value of a required neighbour."""

    __slots__ = ("free", "left", "right")

    def __init__(self) -> None:
        self.free: list[CompiledPattern] = []
        self.right: dict[int, dict[int, list[CompiledPattern]]] = {}
        self.left: dict[int, dict[int, list[CompiledPattern]]] = {}

    def __getstate__(self) -> tuple[Any, ...]:
        return self.free, self.right, self.left

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        self.free, self.right, self.left = state

    def add(self, pat: CompiledPattern) -> None:
        nb = pat.neighbour()
        if nb is None:
            self.free.append(pat)
            return
        side, col, values = nb
        table = (self.right if side > 0 else self.left).setdefault(col, {})
        for v in values:
            table.setdefault(v, []).append(pat)


def spec_forms(attr: str, spec: Any, forms_of: Mapping[str, Iterable[str]]) -> set[str] | None:
    """Lower-case surface forms that satisfy one attribute spec (None: not enumerable).

    A LEMMA spec expands to every inflection the lemma table knows, so anchors can be
    found by LOWER hash alone.
    """
    if isinstance(spec, str):
        values = [spec]
    elif isinstance(spec, dict) and set(spec) == {"IN"}:
        values = list(spec["IN"])
    else:
        return None
    forms: set[str] = set()
    for value in values:
        forms.add(value.lower())
        if attr == "LEMMA":
            forms.update(forms_of.get(value, ()))
    return forms


def _forms(tok: Mapping[str, Any], forms_of: Mapping[str, Iterable[str]]
           ) -> set[str] | None:
    """Lower-case surface forms a token must have (None: not enumerable)."""
    for attr in ("LEMMA", "LOWER", "ORTH", "TEXT"):
        forms = spec_forms(attr, tok.get(attr), forms_of)
        if forms is not None:
            return forms
    return None


def _required(tok: Mapping[str, Any]) -> bool:
    try:
        return _op_range(str(tok.get("OP", "")))[0] >= 1
    except Unsupported:
        return False


def _anchor_index(pattern: list[dict[str, Any]], forms_of: Mapping[str, Iterable[str]],
                  frequency: Callable[[str], float]) -> tuple[int, set[str]] | None:
    """Index and lower-case forms of the cheapest operator-free token.

    Cost of an anchor = expected occurrences per word (sum of its forms' frequencies) x
    (a fixed per-occurrence cost + the chance that a required neighbour token, which the
    matcher indexes, lets the pattern through).
    """
    best: tuple[float, int, set[str]] | None = None
    for i, tok in enumerate(pattern):
        if str(tok.get("OP", "")) not in ("", "{1}", "{1,1}"):
            continue
        forms = _forms(tok, forms_of)
        if forms is None:
            continue
        through = 1.0
        for j in (i + 1, i - 1):
            if 0 <= j < len(pattern) and _required(pattern[j]):
                nb = _forms(pattern[j], forms_of) if len(
                    [k for k in pattern[j] if k != "OP"]) == 1 else None
                if nb is not None:
                    through = min(1.0, sum(frequency(f) for f in nb))
                break
        score = sum(frequency(f) for f in forms) * (0.3 + through)
        if best is None or score < best[0]:
            best = (score, i, forms)
    return None if best is None else (best[1], best[2])


def triples_to_arrays(triples: Iterable[tuple[int, int, int]]) -> tuple[Any, Any, Any]:
    """(keys uint64, starts int64, ends int64) arrays of (key, start, end) triples."""
    rows = list(triples)
    if not rows:
        return (np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64),
                np.zeros(0, dtype=np.int64))
    keys, starts, ends = zip(*rows, strict=True)
    return (np.array(keys, dtype=np.uint64), np.array(starts, dtype=np.int64),
            np.array(ends, dtype=np.int64))


class FastMatcher:
    """Anchor-indexed compiled patterns; see the module docstring."""

    def __init__(self, strings: Any, forms_of: Mapping[str, Iterable[str]],
                 frequency: Callable[[str], float]):
        self.strings = strings
        self.forms_of = forms_of
        self.frequency = frequency
        self.columns = _Columns()
        self.lower_col = self.columns.index("LOWER")
        self._groups: dict[int, _Group] = {}
        #: one-token LOWER rules: form hash -> rule ids (compiled engine only; the Python
        #: path looks them up in numpy, see AnchoredMatcher)
        self._singles: dict[int, list[int]] = {}
        self._gates: tuple[Any, list[tuple[int, int, Any]]] | None = None
        #: use the compiled inner loop (``_cmatch``) when it is importable
        self.prefer_c = True
        self._engine: Any = None
        #: what :meth:`_engine_tables` returned (kept when pickled: a warm start rebuilds
        #: the C engine from it without walking the groups again)
        self._tables: tuple[tuple[bytes, ...], int, list[tuple[int, Any]]] | None = None

    def add(self, key: int, pattern: list[dict[str, Any]]) -> None:
        """Compile ``pattern``; raise :class:`Unsupported` if it needs the fallback."""
        anchor = _anchor_index(pattern, self.forms_of, self.frequency)
        if anchor is None:
            raise Unsupported("no anchor")
        k, forms = anchor
        tokens = [_compile_token(tok, self.columns, self.strings) for tok in pattern]
        compiled = CompiledPattern(key, tokens, k)
        second: tuple[float, set[str]] | None = None
        for j, tok in enumerate(pattern):
            if j == k or not _required(tok):
                continue
            other = _forms(tok, self.forms_of)
            if other is not None:
                score = sum(self.frequency(f) for f in other)
                if second is None or score < second[0]:
                    second = (score, other)
        if second is not None:
            compiled.need = frozenset(self.strings.add(f) for f in second[1])
        for form in forms:
            self._groups.setdefault(self.strings.add(form), _Group()).add(compiled)
        self._gates = None
        self._engine = None
        self._tables = None

    def add_single(self, key: int, forms: Iterable[int]) -> None:
        """Register a one-token rule matching any of the LOWER hashes ``forms``."""
        for form in forms:
            self._singles.setdefault(form, []).append(key)
        self._engine = None
        self._tables = None

    def __getstate__(self) -> dict[str, Any]:
        state = {slot: getattr(self, slot) for slot in self.__dict__}
        state["forms_of"] = {}
        state["_engine"] = None  # a C object; rebuilt from the tables after unpickling
        return state

    # ------------------------------------------------------------------ compiled engine
    def _engine_tables(self) -> tuple[tuple[bytes, ...], int, list[tuple[int, Any]]]:
        """Flatten the groups into the tables ``_cmatch.Engine`` reads (see _cmatch.c).

        Regex checks become extra 0/1 columns computed per batch (returned as
        (source column, (regex, cache)) pairs), so the C side only compares integers.
        """
        n_base = len(self.columns.names)
        set_ids: dict[frozenset[int], int] = {}
        set_vals: list[int] = []
        set_off: list[int] = []
        set_len: list[int] = []
        regex_cols: list[tuple[int, Any]] = []
        regex_ids: dict[int, int] = {}
        checks: list[int] = []
        tokens: list[int] = []

        def set_id(values: frozenset[int]) -> int:
            k = set_ids.get(values)
            if k is None:
                k = set_ids[values] = len(set_off)
                set_off.append(len(set_vals))
                set_len.append(len(values))
                set_vals.extend(sorted(values))
            return k

        def add_checks(chks: list[Check]) -> tuple[int, int]:
            off = len(checks) // 3
            for col, kind, value in chks:
                if kind in (0, 1):
                    checks.extend((col, kind, set_id(value)))
                elif kind == 3:
                    checks.extend((col, 3, int(value)))
                else:
                    r = regex_ids.get(id(value))
                    if r is None:
                        r = regex_ids[id(value)] = len(regex_cols)
                        regex_cols.append((col, value))
                    checks.extend((n_base + r, 3, 1))
            return off, len(chks)

        def add_tokens(part: list[Token]) -> tuple[int, int]:
            off = len(tokens) // 4
            for lo, hi, _mode, _col, _value, chks in part:
                c_off, c_len = add_checks(chks)
                tokens.extend((lo, hi, c_off, c_len))
            return off, len(part)

        pattern_ids: dict[int, int] = {}
        patterns: list[int] = []
        keys: list[int] = []

        def pattern_id(pat: CompiledPattern) -> int:
            k = pattern_ids.get(id(pat))
            if k is None:
                k = pattern_ids[id(pat)] = len(keys)
                a_off, a_len = add_checks(pat.anchor)
                l_off, l_len = add_tokens(pat.left)
                r_off, r_len = add_tokens(pat.right)
                need = set_id(pat.need) if pat.need is not None else -1
                patterns.extend((a_off, a_len, l_off, l_len, r_off, r_len, need, k))
                keys.append(pat.key)
            return k

        plist: list[int] = []
        groups: list[int] = []
        group_free: list[int] = []
        group_nb: list[int] = []
        nb_cols: list[int] = []
        nb_values: list[int] = []
        nb_info: list[int] = []
        all_groups = dict(self._groups)
        for form, rule_keys in self._singles.items():  # one-token rules: free, no checks
            merged = _Group()
            old = all_groups.get(form)
            if old is not None:
                merged.free, merged.right, merged.left = list(old.free), old.right, old.left
            merged.free.extend(CompiledPattern(k, [([], 1, 1)], 0) for k in rule_keys)
            all_groups[form] = merged
        for g, (anchor, group) in enumerate(sorted(all_groups.items())):
            groups.append(anchor)
            group_free.extend((len(plist), len(group.free)))
            plist.extend(pattern_id(pat) for pat in group.free)
            pairs = [(side, col, table) for side, tables in ((1, group.right), (-1, group.left))
                     for col, table in sorted(tables.items())]
            group_nb.extend((len(nb_cols) // 2, len(pairs)))
            for side, col, table in pairs:
                nb_cols.extend((side, col))
                for value, pats in sorted(table.items()):
                    nb_values.append(value)
                    nb_info.extend((g, side, col, len(plist), len(pats)))
                    plist.extend(pattern_id(pat) for pat in pats)

        def u64(values: list[int]) -> bytes:
            return np.array(values, dtype=np.uint64).tobytes()

        def i64(values: list[int]) -> bytes:
            return np.array(values, dtype=np.int64).tobytes()

        tables = (u64(set_vals), i64(set_off), i64(set_len), i64(checks), i64(tokens),
                  i64(patterns), u64(keys), i64(plist), u64(groups), i64(group_free),
                  i64(group_nb), i64(nb_cols), u64(nb_values), i64(nb_info), b"")
        return tables, n_base + len(regex_cols), regex_cols

    def _c_engine(self) -> Any:
        """The compiled engine, or None when ``_cmatch`` is unavailable or not preferred."""
        if not self.prefer_c or _cmatch is None:
            return None
        if self._engine is None:
            if self._tables is None:
                self._tables = self._engine_tables()
            tables, n_cols, regex_cols = self._tables
            strings = self.strings
            caches = [(col, FormCache(lambda h, r=regex: int(r.search(strings[h]) is not None)))
                      for col, (regex, _cache) in regex_cols]
            self._engine = (_cmatch.Engine(tables, n_cols), caches)
        return self._engine

    @property
    def has_c_engine(self) -> bool:
        """Whether :meth:`match_batch` runs in C (``_cmatch`` built and preferred)."""
        return self.prefer_c and _cmatch is not None

    def match_arrays(self, batch: Any, positions: Any) -> tuple[Any, Any, Any]:
        """:meth:`match` over a :class:`~.batch.TokenBatch` at ``positions`` (int array),
        in C when the compiled engine is available (same results, see tests).

        Returns (keys uint64, starts int64, ends int64); may hold duplicates.
        """
        lo, hi = batch.sent_bounds(positions)
        engine = self._c_engine()
        if engine is None:
            out: set[tuple[int, int, int]] = set()
            self.match(positions.tolist(), batch.lists(self.columns.names),
                       zip(lo.tolist(), hi.tolist(), strict=True), out)
            return triples_to_arrays(out)
        compiled, regex_cols = engine
        columns = [batch.col(name) for name in self.columns.names]
        for col, flags_of in regex_cols:
            name = self.columns.names[col]
            forms = batch.form_col(name)  # lexical: per distinct word form of the batch
            uniq, inverse = (forms, batch.unique("ORTH")[1]) if forms is not None else (
                batch.unique(name))
            columns.append(flags_of.lookup(uniq)[inverse])
        matrix = np.ascontiguousarray(np.stack(columns).astype(np.uint64, copy=False))
        keys, starts, ends = compiled.match(np.ascontiguousarray(positions, dtype=np.int64),
                                            np.ascontiguousarray(lo, dtype=np.int64),
                                            np.ascontiguousarray(hi, dtype=np.int64), matrix)
        return (np.frombuffer(keys, dtype=np.uint64), np.frombuffer(starts, dtype=np.int64),
                np.frombuffer(ends, dtype=np.int64))

    def _gate_arrays(self) -> tuple[Any, list[tuple[int, int, Any]]]:
        """Sorted keys that let an anchor occurrence through to :meth:`match`: anchors with
        neighbour-free patterns, and per (side, column) the pair keys anchor x neighbour."""
        if self._gates is None:
            free = sorted(h for h, g in self._groups.items() if g.free)
            pairs: dict[tuple[int, int], set[int]] = {}
            for h, g in self._groups.items():
                for side, tables in ((1, g.right), (-1, g.left)):
                    for col, table in tables.items():
                        keys = pairs.setdefault((side, col), set())
                        keys.update(((h * _PAIR) + v) & _MASK64 for v in table)
            self._gates = (np.array(free, dtype=np.uint64),
                           [(side, col, np.array(sorted(keys), dtype=np.uint64))
                            for (side, col), keys in sorted(pairs.items())])
        return self._gates

    def gate(self, batch: Any) -> Any:
        """Bool mask over ``batch`` (a :class:`~.batch.TokenBatch`) of the anchor
        occurrences for which :meth:`match` has at least one candidate pattern.

        Frequent anchors ("to", "and", "the") only matter next to a particular word; testing
        that pair for the whole batch in numpy leaves only real candidates to the Python
        loop. Hash collisions can only let extra positions through, never drop one.
        """
        from .batch import member

        free, pairs = self._gate_arrays()
        lowers = batch.col("LOWER")
        mask = member(lowers, free)
        if not pairs or not len(lowers):
            return mask
        scaled = lowers * np.uint64(_PAIR)
        for side, col, keys in pairs:
            values = batch.col(self.columns.names[col])
            other = np.zeros_like(lowers)
            if side > 0:
                other[:-1] = values[1:]
            else:
                other[1:] = values[:-1]
            mask |= member(scaled + other, keys)
        return mask

    def match(self, positions: Iterable[int], cols: list[list[int]],
              bounds: Iterable[tuple[int, int]], out: set[tuple[int, int, int]]) -> None:
        """Add (key, start, end) of all matches anchored at ``positions`` to ``out``.

        ``cols`` are the doc's attribute columns in :attr:`columns` order (IS_SENT_START
        as 0/1); ``bounds`` gives the (sentence start, sentence end) of each position.
        """
        lowers = cols[self.lower_col]
        groups = self._groups
        ok = self._ok
        walk = self._walk
        bags: dict[int, set[int]] = {}
        for i, (s, e) in zip(positions, bounds, strict=True):
            group = groups[lowers[i]]
            cands = group.free
            if group.right and i + 1 < e:
                for col, table in group.right.items():
                    more = table.get(cols[col][i + 1])
                    if more:
                        cands = cands + more
            if group.left and i > s:
                for col, table in group.left.items():
                    more = table.get(cols[col][i - 1])
                    if more:
                        cands = cands + more
            bag = None
            for pat in cands:
                if pat.need is not None:
                    if bag is None:
                        bag = bags.get(s)
                        if bag is None:
                            bag = bags[s] = set(lowers[s:e])
                    if pat.need.isdisjoint(bag):
                        continue
                if pat.anchor and not ok(pat.anchor, cols, i):
                    continue
                starts = walk(pat.left, cols, i - 1, s - 1, -1) if pat.left else (i,)
                if not starts:
                    continue
                ends = walk(pat.right, cols, i + 1, e, 1) if pat.right else (i + 1,)
                key = pat.key
                for a in starts:
                    for b in ends:
                        out.add((key, a, b))

    def _ok(self, checks: list[Check], cols: list[list[int]], j: int) -> bool:
        for col, kind, value in checks:
            v = cols[col][j]
            if kind == 0:
                if v not in value:
                    return False
            elif kind == 1:
                if v in value:
                    return False
            elif kind == 3:
                if v != value:
                    return False
            else:
                regex, cache = value
                hit = cache.get(v)
                if hit is None:
                    if len(cache) > 50_000:
                        cache.clear()
                    hit = cache[v] = regex.search(self.strings[v]) is not None
                if not hit:
                    return False
        return True

    def _walk(self, part: list[Token], cols: list[list[int]], first: int, stop: int,
              step: int) -> list[int] | tuple[int, ...]:
        """Boundary positions reachable after matching ``part`` from ``first`` in
        direction ``step`` without reaching ``stop``. Left walks return match starts,
        right walks match ends (exclusive)."""
        ok = self._ok
        # a frontier position p means: the next token to consume is p
        frontier: Any = (first,)
        for lo, hi, mode, col, value, checks in part:
            if lo == hi == 1 and len(frontier) == 1:  # the common case: one required token
                q = frontier[0]
                if q == stop:
                    return ()
                if mode == 1:
                    if cols[col][q] not in value:
                        return ()
                elif mode == 2:
                    if cols[col][q] in value:
                        return ()
                elif mode == 3 and not ok(checks, cols, q):
                    return ()
                frontier = (q + step,)
                continue
            column = cols[col]
            nxt: set[int] = set()
            for p in frontier:
                n = 0
                q = p
                while True:
                    if n >= lo:
                        nxt.add(q)
                    if n >= hi or q == stop:
                        break
                    if mode == 1:
                        if column[q] not in value:
                            break
                    elif mode == 2:
                        if column[q] in value:
                            break
                    elif mode == 3 and not ok(checks, cols, q):
                        break
                    q += step
                    n += 1
            if not nxt:
                return ()
            frontier = tuple(nxt)
        if step < 0:
            return [p + 1 for p in frontier]
        return frontier
