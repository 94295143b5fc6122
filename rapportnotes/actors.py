"""Who did it: the actor of an extracted cue (taxonomy v1.1, "Actor").

One function, used twice: by the extractor with no session at hand (``Roster.unknown()``:
anyone named by role may be taking part) and by the suggestion layer with the session's
roster (``Roster.of_session``: only the people the session lists are present). A cue is a
finding only when its actor can carry its label (``can_carry``): the client or a
participating caregiver / partner / family member for engagement, ruptures, attendance and
re-engagement; the therapist for repair strategies; never a third party or another group
member.

The evidence is lexical and local, because the default pipeline has no parser: the
extractor's experiencer (its ConText actor rules), then the nearest actor word before the
cue in its clause, then in its sentence (clauses with an elided subject: "pt gave brief
answers and changed the subject"), then the first word of the matched phrase itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .taxonomy import LABEL_INFO

if TYPE_CHECKING:
    from .models import SessionObservation

ROLE_KIND: dict[str, str] = {}
for _kind, _words in {
    "caregiver": "mother mom mum mommy mama father dad daddy papa parent parents stepmother "
                 "stepmom stepfather stepdad grandmother grandma granny grandfather grandpa "
                 "guardian caregiver carer foster mam mammy nan nana nanna gran granda "
                 "grandad grandmom grandparent grandparents gm gogo nanay tatay lola lolo "
                 "abuela abuelo abuelita abuelito amma appa ammi abbu",
    "partner": "partner wife husband spouse boyfriend girlfriend fiance fiancé fiancee fiancée",
    "family": "brother sister sibling son daughter cousin aunt uncle niece nephew",
}.items():
    for _w in _words.split():
        ROLE_KIND[_w] = _kind

CANONICAL = {"mom": "mother", "mum": "mother", "mommy": "mother", "mama": "mother",
             "dad": "father", "daddy": "father", "papa": "father", "grandma": "grandmother",
             "granny": "grandmother", "grandpa": "grandfather", "stepmom": "stepmother",
             "stepdad": "stepfather", "parents": "parent", "carer": "caregiver",
             "mam": "mother", "mammy": "mother", "nan": "grandmother", "nana": "grandmother",
             "nanna": "grandmother", "gran": "grandmother", "grandmom": "grandmother",
             "granda": "grandfather", "grandad": "grandfather", "gm": "grandmother",
             "gogo": "grandmother", "lola": "grandmother", "abuela": "grandmother",
             "abuelita": "grandmother", "lolo": "grandfather", "abuelo": "grandfather",
             "abuelito": "grandfather", "nanay": "mother", "tatay": "father",
             "grandparents": "grandparent", "amma": "mother", "ammi": "mother",
             "appa": "father", "abbu": "father"}
THERAPIST_WORDS = frozenset({"writer", "therapist", "clinician", "th", "counselor",
                             "counsellor", "facilitator", "co-facilitator", "cofacilitator",
                             "psychologist", "provider"})
CLIENT_WORDS = frozenset({"client", "pt", "patient", "cl", "clt", "child", "teen", "youth",
                          "student", "adolescent", "veteran", "boy", "girl", "kid", "resident",
                          "ct", "consumer", "individual"})
#: after a therapist word these mean the therapist observed or reported, not acted
#: subjects that are other members of a group session (never the client's findings)
GROUP_WORDS = frozenset({"members", "peers", "participants", "others", "residents",
                         "attendees", "patients"})
_GROUP_SINGULAR = frozenset({"member", "peer", "participant", "resident", "attendee",
                             "girl", "boy", "child", "kid", "student", "vet", "veteran",
                             "client", "man", "woman", "person", "teen", "mum", "mom",
                             "men", "women", "people", "lad", "lads", "guy", "guys", "bloke",
                             "blokes", "fella", "fellas", "player", "players", "athlete",
                             "athletes", "inmate", "inmates", "prisoner", "prisoners",
                             "patient", "patients", "parent", "parents", "dad", "father",
                             "mother", "family", "families", "couple", "couples", "girls",
                             "boys", "kids", "children", "students", "teens", "youths",
                             "youth", "lady", "ladies", "gentleman", "gentlemen", "mama",
                             "mamas", "mam", "papa", "mums", "moms", "dads"})
#: "Member A", "Participant 3", "Resident J": a group note's designation of one member
_DESIGNATED = frozenset({"member", "participant", "attendee", "resident", "peer", "patient",
                         "student", "sm", "vet", "veteran"})
#: quantifiers that make a person noun after them someone other than the client
#: ("another member", "one of the younger men", "two of the lads")
_OTHERS = frozenset({"another", "several", "two", "three", "four", "some", "one", "most",
                     "many", "few", "other", "different", "couple", "second", "third",
                     "fourth", "fifth"})
_FILLER = frozenset({"of", "the", "a", "an", "other", "older", "younger", "new", "young",
                     "old", "newer", "quieter", "louder", "male", "female", "senior",
                     "junior", "first", "second", "group"})
_PERCEPTION = frozenset({"noted", "noticed", "observed", "saw", "sensed", "felt", "thought",
                         "wondered", "heard", "documented", "reported", "was", "is"})
_POSSESSIVE = frozenset({"her", "his", "their", "my", "your", "our"})
_WORD = re.compile(r"[A-Za-zÀ-ÿ]+(?:-[A-Za-z]+)?(?:['’]s)?")
_CLAUSE_BREAK = re.compile(r"[;:]|[.!?](?:\s|$)|\bbut\b|\bwhile\b|\bthen\b|,\s*and\b",
                           re.IGNORECASE)
_SENTENCE_BREAK = re.compile(r"[.!?](?:\s|$)")
_INNER = re.compile(r",|\b(?:how|that|whether|when|after|as|because|which|who|and)\b",
                    re.IGNORECASE)
_KIND_FOR_PARTICIPANTS = {
    "with_caregiver": {"caregiver"},
    "with_partner": {"partner"},
    "with_family": {"caregiver", "family", "partner"},
}


@dataclass(frozen=True)
class Roster:
    """Who took part: role words listed as present, and the kinds of person the session's
    participants imply. ``known=False`` when there is no session (plain text)."""

    present: dict[str, str] = field(default_factory=dict)
    kinds: frozenset[str] = frozenset()
    known: bool = True
    names: dict[str, str] = field(default_factory=dict)
    """Lower-cased first names of participants → their role word ("sam" → "partner"),
    from entries such as "partner (Sam)" in ``session.others_present``."""
    absent: frozenset[str] = frozenset()
    """Role words (canonical) the notes say were not there ("Mum couldn't make it today",
    "husband at work, not present"): what they did is a third party's."""

    @classmethod
    def unknown(cls) -> Roster:
        return cls(kinds=frozenset({"caregiver", "partner", "family"}), known=False)

    @classmethod
    def of_session(cls, obs: SessionObservation) -> Roster:
        present: dict[str, str] = {}
        names: dict[str, str] = {}
        for other in obs.session.others_present:
            roles = [w for w in (m.group(0).lower() for m in _WORD.finditer(other))
                     if w in ROLE_KIND]
            for role in roles:
                present.setdefault(role, ROLE_KIND[role])
            if roles:
                for m in re.finditer(r"\b[A-Z][a-zà-ÿ]+\b", other):
                    if m.group(0).lower() not in ROLE_KIND:
                        names[m.group(0).lower()] = roles[0]
        absent: set[str] = set()
        for _path, text in obs.free_text_fields():  # names the notes themselves declare
            for name, role in text_names(text).items():
                names.setdefault(name, role)
            absent |= absent_roles(text)
        kinds = set(present.values()) | _KIND_FOR_PARTICIPANTS.get(
            obs.session.participants or "", set())
        listed = {CANONICAL.get(w, w) for w in present}
        return cls(present=present, kinds=frozenset(kinds), names=names,
                   absent=frozenset(absent - listed))

    def has(self, word: str) -> bool:
        """Whether a role word names someone taking part: listed (mom = mother), the one
        partner of a couple, or — when nobody is listed — a kind the participants imply;
        never one the notes say was absent."""
        if CANONICAL.get(word, word) in self.absent:
            return False
        kind = ROLE_KIND[word]
        if self.present:
            names = {CANONICAL.get(w, w) for w in self.present}
            return CANONICAL.get(word, word) in names or (
                kind == "partner" and "partner" in self.present.values())
        return kind in self.kinds


GROUP_MEMBER = "\x00group"
FOCUS_CLIENT = "\x00client"
"""Markers in ``Roster.names`` for names read from a group note itself (never role words)."""

_FOCUS = re.compile(
    r"\b(?i:(?:this\s+)?note\s+(?:is\s+)?for|(?:focus\s+)?(?:student|client|member|child)"
    r"\s+for\s+(?:this|the)\s+note\s*:?|focus\s+(?:student|client|member|child)\s*:)\s*"
    r"(?:(?i:vet|member|client|student|pt)\s+)?((?:[A-Z]\.?\s+)?[A-Z][\w'’-]*)"
    r"|\b([A-Z][\w'’-]*)\s*\((?i:(?:the\s+)?(?:client|focus|identified\s+client))\)"
    r"|\b(?i:(?:index|identified|focus)\s+client|client)\s*\(\s*"
    r"((?:[A-Z][\w.'’-]*\s+){0,2}[A-Z][\w'’-]*)\s*[),;]")
_PROPER = re.compile(r"(?<=[a-z,;]\s)([A-Z][a-z'’-]+|[A-Z])\b|(?:^|(?<=[.!?;:]\s)|(?<=\n))"
                     r"(?:[Mm]ember|[Pp]eer|[Vv]et)\s+([A-Z][a-z'’-]*)\b")
_INITIAL = re.compile(r"(?<![\w.])([B-HJ-Z])\b(?![.'’]\w)")  # not "I", not the article
_NOT_A_NAME = frozenset({"i", "writer", "therapist", "client", "pt", "vet", "group",
                         "member", "mum", "mom", "dad"})


def group_note_names(text: str) -> dict[str, str]:
    """Names read from a group note that says whom it is about ("Note for J (client)",
    "Focus student for this note: Isla"): the client's name(s) → ``FOCUS_CLIENT``, every
    other person's first name or initial in the text → ``GROUP_MEMBER``.

    The taxonomy: group members other than the client never produce the client's
    findings. Without such a declaration nothing is read (a name alone may be the
    client's own), so individual notes are untouched. Merged into the roster's names.
    """
    low = text.lower()
    if "note" not in low and "focus" not in low and "(" not in text:
        return {}  # no declaration can be there (see _FOCUS)
    focus: set[str] = set()
    for m in _FOCUS.finditer(text):
        phrase = m.group(1) or m.group(2) or m.group(3) or ""
        focus.update(w.strip(".").lower() for w in phrase.split())
    focus -= _NOT_A_NAME
    if not focus:
        return {}
    names = {w: FOCUS_CLIENT for w in focus}
    for m in _PROPER.finditer(text):
        word = (m.group(1) or m.group(2) or "").lower()
        if word and word not in names and word not in _NOT_A_NAME and word != "a" \
                and word not in ROLE_KIND and word not in CLIENT_WORDS \
                and word not in THERAPIST_WORDS:
            names[word] = GROUP_MEMBER
    for m in _INITIAL.finditer(text):
        word = m.group(1).lower()
        names.setdefault(word, GROUP_MEMBER)
    return names


_ROLE_ALT = "|".join(sorted(ROLE_KIND, key=len, reverse=True))
_NAME = r"([A-Z][a-zà-ÿ'’-]+)"
#: "Sharon (wife)", "Lisa (client's mother)", "Ada (wife; IC Femi)", "Alan (partner of …"
_NAME_THEN_ROLE = re.compile(
    rf"\b{_NAME}\s*\((?i:\s*(?:the\s+)?(?:client|pt|cl|her|his|their)?['’]?s?\s*)"
    rf"(?:[A-Z][\w-]*['’]s\s+)?(?i:({_ROLE_ALT}))\b")
#: "Partner (Tom)", "spouse (Renee)"
_ROLE_PAREN_NAME = re.compile(rf"\b(?i:({_ROLE_ALT}))\s*\(\s*{_NAME}\s*[);,]")
#: "IC: Bea", "IC is Joanne", "identified client Elise"
_IC_NAME = re.compile(rf"\b(?:IC|I\.C\.|(?i:identified\s+client))\s*(?::|\s+is|=)?\s*{_NAME}")
#: "Dani is my ongoing individual client"
_NAME_IS_CLIENT = re.compile(
    rf"\b{_NAME}\s+is\s+(?i:(?:my|our|the|this\s+writer['’]s)\s+(?:[a-z-]+\s+){{0,2}}"
    r"(?:client|patient|identified\s+client))\b")
_CALENDAR = frozenset({"monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                       "sunday", "january", "february", "march", "april", "may", "june",
                       "july", "august", "september", "october", "november", "december",
                       "today", "and", "or", "the"})


_ANY_WORD = re.compile(r"[^\W\d_]+")
#: a capitalised name right after a role word ("wife Sharon")
_NAME_AFTER = re.compile(rf"\s+{_NAME}\b")
#: after a role word, a phrase saying they were not there ("Dad, who couldn't make it",
#: "husband at work, not present", "mother was unable to attend")
_ABSENT_AFTER = re.compile(
    r"\s*,?\s*(?:who\s+)?(?:was\s+|is\s+|were\s+)?(?:at\s+work(?:\s+today)?\s*[,;(]\s*)?"
    r"(?:not\s+present|not\s+in\s+(?:the\s+)?session|absent\b|not\s+attending|"
    r"unable\s+to\s+(?:attend|come|join|make\s+it)|(?:could\s*n[o']?t|could\s+not|"
    r"couldn['’]t|did\s*n['’]?t|did\s+not|was\s*n['’]t|was\s+not)\s+"
    r"(?:make\s+it|attend|come|join|be\s+there))", re.IGNORECASE)

RoleMentions = list[tuple[str, int]]
"""(role word, lower-cased; offset just after it) for each role word of a text."""


_SPACES = str.maketrans({c: " " for c in "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~’‘“”—–…\n\t"})


def role_mentions(text: str) -> RoleMentions:
    """Where a text names someone by role. Most notes name no one, which a set of their
    words (split in C) settles; the role words present are then found with ``str.find``."""
    low = text.lower()
    present = ROLE_KIND.keys() & set(low.translate(_SPACES).split())
    if not present:
        return []
    if len(low) != len(text):  # a few characters change length when lower-cased
        return [(word, m.end()) for m in _ANY_WORD.finditer(text)
                if (word := m.group(0).lower()) in ROLE_KIND]
    out: RoleMentions = []
    for word in present:
        i = low.find(word)
        while i != -1:
            end = i + len(word)
            if (i == 0 or not low[i - 1].isalpha()) and (end == len(low)
                                                          or not low[end].isalpha()):
                out.append((word, end))
            i = low.find(word, end)
    out.sort(key=lambda mention: mention[1])
    return out


def participant_names(text: str, *, roles: RoleMentions | None = None) -> dict[str, str]:
    """First names a note gives its participants: "wife Sharon" → partner's role word,
    "Sharon (wife)", and "Dani is my client" → ``FOCUS_CLIENT``. Later clauses that name
    Sharon are then Sharon's, not the client's ("Sharon complained about the time").
    ``roles``: :func:`role_mentions` of ``text``, when the caller has them."""
    names: dict[str, str] = {}
    low = text.lower()
    if " is " in low and ("client" in low or "patient" in low):
        for m in _NAME_IS_CLIENT.finditer(text):
            names[m.group(1).lower()] = FOCUS_CLIENT
    for role, end in role_mentions(text) if roles is None else roles:
        m = _NAME_AFTER.match(text, end)
        if m is not None:
            names.setdefault(m.group(1).lower(), role)
    if "IC" in text or "I.C." in text or "identified" in low:
        for m in _IC_NAME.finditer(text):
            names[m.group(1).lower()] = FOCUS_CLIENT
    if "(" in text:
        for m in _NAME_THEN_ROLE.finditer(text):
            names.setdefault(m.group(1).lower(), m.group(2).lower())
        for m in _ROLE_PAREN_NAME.finditer(text):
            names.setdefault(m.group(2).lower(), m.group(1).lower())
    return {name: role for name, role in names.items()
            if name not in _NOT_A_NAME and name not in ROLE_KIND and name not in _CALENDAR
            and name not in CLIENT_WORDS and name not in THERAPIST_WORDS}


def absent_roles(text: str, *, roles: RoleMentions | None = None) -> set[str]:
    """Canonical role words a text says were not in the session: "Mam, who couldn't make
    it today, rang ahead…", "husband at work, not present", "Dad did not attend"."""
    return {CANONICAL.get(role, role)
            for role, end in (role_mentions(text) if roles is None else roles)
            if _ABSENT_AFTER.match(text, end) is not None}


def text_names(text: str, *, roles: RoleMentions | None = None) -> dict[str, str]:
    """Every name → role the text itself declares (group notes and participants)."""
    names = participant_names(text, roles=roles)
    for name, role in group_note_names(text).items():
        # a role the note gives someone ("her older brother Cathal") outranks being one of
        # "the other names" of a note that declares its client; the declaration itself wins
        if role == FOCUS_CLIENT or name not in names:
            names[name] = role
    return names


NO_OTHER_ACTOR = "no other actor in the clause"
"""The evidence of the default attribution (the client, for want of another subject)."""


@dataclass(frozen=True)
class Attribution:
    actor: str  # client | caregiver | partner | family | therapist | group_member | third_party
    role: str | None
    evidence: str


def can_carry(label: str, actor: str) -> bool:
    """Whether ``actor`` can carry a finding of ``label`` (the taxonomy's actor table)."""
    return actor in LABEL_INFO[label].actors


_SUBORDINATORS = frozenset({"when", "after", "before", "as", "if", "once", "because",
                            "since", "although", "though", "while", "whenever", "until"})
_PRONOUNS = frozenset({"he", "she", "they", "we", "it"})
_SKIP = frozenset({"the", "this", "a", "an", "then", "later", "also", "both", "initially",
                   "eventually", "today", "finally", "again", "and", "so", "still", "which",
                   "who", "that", "each", "time", "every",
                   # a leading time phrase ("By the end sister's tone…", "At the close …")
                   "by", "at", "end", "toward", "towards", "near", "close", "of", "in",
                   "session", "hour",
                   # titles before a name ("Mrs Chen said…") and modifiers of a role word
                   # ("his elder brother", "maternal grandmother")
                   "mr", "mrs", "ms", "miss", "mx", "dr", "elder", "older", "younger",
                   "eldest", "oldest", "youngest", "little", "big", "twin", "maternal",
                   "paternal", "birth", "biological", "adoptive", "step"})
#: a section header or bullet before a clause ("S: Mother said…", "- Mo tearful")
_HEADER = re.compile(r"^\s*(?:[-•*–]\s*|[A-Z][A-Za-z]{0,11}\s*:\s*)")


_LOOK = 16
"""Words of a clause read to find its subject: the first content word decides, after at
most a few skipped ones ("Then the client …"); a clause with more is read whole."""


def _first_words(text: str) -> list[str]:
    out = []
    for m in _WORD.finditer(text):
        out.append(m.group(0))
        if len(out) == _LOOK:
            break
    return out


def _subject_of(text: str, names: dict[str, str] | None = None) -> tuple[str, str] | None:
    """The subject at the start of a clause: its first content word, when that is an actor.

    Returns ('role'|'client'|'therapist', word), ('pronoun', word) for a clause with its
    own unnamed subject, or None when the clause starts otherwise (an elided subject:
    "Said writer doesn't get it" — the writer is the object). A leading subordinate
    clause ("When therapist reflected it, M said …") is skipped; in "writer and pt
    reviewed…" the client is the subject that counts.
    """
    text = text.replace("+", " and ").replace("&", " and ")
    head = _HEADER.match(text)
    if head is not None:
        word = head.group(0).strip(" \t-•*–:").lower()
        if word in ROLE_KIND:
            return ("role", word)  # "Wife: 'we've done six of these…'": the speaker
        text = text[head.end():]
    words = _first_words(text)
    if words and words[0].lower() in _SUBORDINATORS and "," in text:
        text = text[text.index(",") + 1:]
        words = _first_words(text)
    found = _scan(words, names, truncated=len(words) == _LOOK)
    if found is _MORE:  # the decision needs words past the first _LOOK
        found = _scan([m.group(0) for m in _WORD.finditer(text)], names, truncated=False)
    return found  # type: ignore[return-value]


_MORE = ("more", "")


def _scan(words: list[str], names: dict[str, str] | None, *, truncated: bool
          ) -> tuple[str, str] | None:
    """:func:`_subject_of` over ``words``; ``_MORE`` when ``words`` is a truncated list and
    the answer depends on what was cut off."""
    for i, raw in enumerate(words):
        if truncated and i + 1 >= len(words):
            return _MORE
        word = raw.lower()
        base = word.removesuffix("'s").removesuffix("’s")
        if base in _SKIP or word in _POSSESSIVE:
            continue
        nxt = words[i + 1].lower() if i + 1 < len(words) else ""
        if word != base and (nxt.removesuffix("'s") in ROLE_KIND or (
                nxt in _SKIP and i + 2 < len(words) and words[i + 2].lower() in ROLE_KIND)):
            continue  # "Pt's mother pressed…", "SM's mother…", "Owen's older brother…"
        if base in ROLE_KIND:
            return ("role", base)
        if base == "group" and nxt in _DESIGNATED:
            continue  # "Group member K disclosed…": the member is the subject
        if base in _DESIGNATED and i + 1 < len(words) and len(words[i + 1]) == 1 \
                and words[i + 1].isupper():
            # "Member A left early": one member named by a letter; the client's own letter
            # (declared "A (client)") stays the client
            letter = words[i + 1].lower()
            if names and names.get(letter) == FOCUS_CLIENT:
                return ("client", letter)
            return ("group", base)
        if names and raw[:1].isupper() and base in names:
            role = names[base]
            if role == GROUP_MEMBER:
                return ("group", base)  # another member, named, in a group note
            if role == FOCUS_CLIENT:
                return ("client", base)  # the member the group note is about
            return ("role", role)  # a participant named in others_present
        if base in CLIENT_WORDS:
            return ("client", base)
        if base in THERAPIST_WORDS and word == base:
            if nxt in ("and", "&") and truncated:
                return _MORE  # "writer and pt …": the rest of the clause decides
            if nxt in ("and", "&") and i + 2 < len(words):
                other = _subject_of(" ".join(words[i + 2:]), names)
                if other is not None and other[0] in ("client", "role"):
                    return other  # "writer and pt jointly reviewed…"
            return None if nxt in _PERCEPTION else ("therapist", base)
        if word in _PRONOUNS:
            return ("pronoun", word)
        if word in GROUP_WORDS:
            return ("group", word)
        if word in _OTHERS:
            # a person noun within the next few words: "another member", "one of the
            # younger men", "a couple of the lads"; "one of the exercises" is not anyone
            for ahead in words[i + 1:i + 5]:
                w = ahead.lower()
                if w in GROUP_WORDS or w in _GROUP_SINGULAR or w == "group" \
                        or w.removesuffix("s") in _GROUP_SINGULAR:
                    return ("group", word)
                if w not in _FILLER:
                    break
            else:
                if truncated and i + 5 > len(words):
                    return _MORE
        return None
    return _MORE if truncated else None


def _clause_subject(clause: str, names: dict[str, str] | None = None
                    ) -> tuple[str, str] | None:
    """The subject of one clause: the innermost segment that starts with one wins ("each
    time writer returned to it, pt launched into stories"; "…, which cl agreed to try";
    "writer shared unease with how quickly pt agreed")."""
    for m in reversed(list(_INNER.finditer(clause))):
        if m.group(0) != "," and "," in clause[m.end():]:
            continue  # "when writer asked, she said…": the cue is past the subordinate clause
        found = _subject_of(clause[m.end():], names)
        if found is not None and found[0] != "pronoun":
            return found
    return _subject_of(clause, names)


def _sentence_before(text: str, sentence: str) -> str:
    """The words of ``text``'s own sentence before it (``sentence`` may hold several when
    the splitter kept them together, as after "pt." or in a run-on)."""
    pos = sentence.find(text)
    prefix = sentence[:pos] if pos >= 0 else sentence
    breaks = list(_SENTENCE_BREAK.finditer(prefix))
    return prefix[breaks[-1].end():] if breaks else prefix


def subject_before(text: str, sentence: str, names: dict[str, str] | None = None,
                   *, pronouns: bool = False) -> tuple[str, str] | None:
    """The subject of the clause holding the phrase ``text``: ('role', w), ('client', w) or
    ('therapist', w), or None when the clause does not name one.

    Subjects stand at the start of a clause in clinical notes ("Mother agreed…", "Pt's
    mother pressed writer…", "Writer interrupted…"); a therapist word later in the clause is
    the object ("accused writer of…"). A clause without its own subject takes the subject
    of its sentence ("pt gave brief answers and changed the subject"); one with a pronoun
    subject ("she re-engaged") is left to the extractor's experiencer.
    """
    sent = _sentence_before(text, sentence)
    bounds = [0, *(m.end() for m in _CLAUSE_BREAK.finditer(sent))]
    found = None
    # the cue's clause, then each clause before it (an elided subject is the last one
    # named: "pt laughed, then admitted…"); a pronoun subject ends the search
    for start, end in zip(reversed(bounds), [len(sent), *reversed(bounds[1:])],
                          strict=True):
        found = _clause_subject(sent[start:end], names)
        if found is not None:
            break
    if found is None and not _WORD.search(sent):
        # nothing before the phrase in its sentence: it may itself start with its subject
        # ("Writer interrupted the cycle")
        found = _subject_of(text, names)
    return None if found is None or (found[0] == "pronoun" and not pronouns) else found


_FEMININE = frozenset({"mother", "mom", "mum", "mam", "mommy", "mama", "stepmother", "stepmom",
                       "grandmother", "grandma", "granny", "nan", "nana", "wife", "girlfriend",
                       "fiancee", "fiancée", "sister", "daughter", "aunt", "niece", "gm",
                       "gogo", "lola", "abuela", "abuelita", "nanay", "amma", "ammi"})
_MASCULINE = frozenset({"father", "dad", "daddy", "papa", "stepfather", "stepdad",
                        "grandfather", "grandpa", "husband", "boyfriend", "fiance", "fiancé",
                        "brother", "son", "uncle", "nephew", "lolo", "abuelo", "abuelito",
                        "tatay", "appa", "abbu"})


def _carried(pronoun: str, previous: str, names: dict[str, str] | None,
             opener: tuple[str, str] | None = None) -> tuple[str, str] | None:
    """The participant a clause's pronoun subject stands for: the role or other member its
    own sentence opens with ("Rita said she appreciated that, and she re-engaged"), else,
    when the sentence itself opens with the pronoun, the one the previous sentence opens
    with ("Mother joined late. She said the time is impossible") — when the pronoun can
    refer to them. The client and therapist are never carried (a "she" after "Writer
    asked…" is the client the writer asked)."""
    if opener is not None and opener[0] != "pronoun":
        prev: tuple[str, str] | None = opener
    else:
        prev = _subject_of(previous, names) if previous else None
    if prev is None or prev[0] not in ("role", "group"):
        return None
    if prev[0] == "role":
        word = prev[1]
        if (pronoun == "she" and word in _MASCULINE) or (pronoun == "he" and word in _FEMININE) \
                or pronoun in ("we", "it"):
            return None
    elif pronoun != "they":
        return None  # "Two members left. She stayed": the pronoun is someone else
    return prev


def _sentence_opener(text: str, sentence: str, names: dict[str, str] | None
                     ) -> tuple[str, str] | None:
    """The subject the sentence holding ``text`` opens with, when the cue's clause is not
    its first (None when the cue stands in the sentence's first clause)."""
    sent = _sentence_before(text, sentence)
    first = _CLAUSE_BREAK.search(sent)
    if first is None:
        return None
    return _subject_of(sent, names)


_BY = re.compile(r"\bby\s+(?:(?:her|his|their|the|pt's|client's)\s+)?([A-Za-zÀ-ÿ'’-]+)",
                 re.IGNORECASE)


def _passive_agent(text: str, names: dict[str, str] | None) -> tuple[str, str] | None:
    """The agent a cue's own words name ("Cancelled by mum this morning"): a rule's span
    can take in its passive agent, and a context trigger inside the span does not reach
    it. Only a participant counts (a role word, a named participant, another member):
    "cancelled by text" names no one, and "judged by therapist" names the complaint's
    target, not its actor (the context rules read "by writer" as the therapist's doing)."""
    m = _BY.search(text)
    if m is None:
        return None
    found = _subject_of(m.group(1), names)
    return found if found is not None and found[0] in ("role", "client", "group") else None


def attribute_actor(label: str, text: str, sentence: str, experiencer: str,
                    roster: Roster, previous: str = "") -> Attribution:
    """The actor of one cue mention (see the module docstring for the evidence order).

    ``previous`` is the sentence before ``sentence`` in the same text, read only when the
    cue's clause has a pronoun subject (see :func:`_carried`)."""
    if experiencer == "therapist":
        if "therapist" not in LABEL_INFO[label].actors:
            # a client behaviour next to a therapist word: "Pt gave writer one-word answers"
            # — the clause's own subject, when it names someone, is the actor
            named = subject_before(text, sentence, roster.names, pronouns=True)
            if named is not None and (named[0] in ("client", "role") or (
                    named[0] == "pronoun" and named[1] in ("she", "he", "they"))):
                # "writer explained the plan and she agreed": a third-person pronoun
                # subject is not the writer
                experiencer = "client"
        if experiencer == "therapist":
            return Attribution("therapist", None, "therapist reference")
    if experiencer == "third_party":
        return Attribution("third_party", None, "outside the session")
    if "client" not in LABEL_INFO[label].actors:  # a repair strategy, not the therapist's
        return Attribution(experiencer, None, "extractor experiencer")
    subject = _passive_agent(text, roster.names) or subject_before(
        text, sentence, roster.names, pronouns=True)
    if subject is not None and subject[0] == "pronoun":
        subject = _carried(subject[1], previous, roster.names,
                           _sentence_opener(text, sentence, roster.names))
    if subject is not None and subject[0] == "therapist":
        return Attribution("therapist", None, f"subject '{subject[1]}' of the clause")
    if subject is not None and subject[0] == "group":
        return Attribution("group_member", None, f"subject '{subject[1]}': other members")
    if subject is not None and subject[0] == "role":
        word = subject[1]
        if roster.has(word):
            return Attribution(ROLE_KIND[word], CANONICAL.get(word, word),
                               f"subject '{word}' of the clause, taking part")
        return Attribution("third_party", CANONICAL.get(word, word),
                           f"subject '{word}' is not listed as present")
    if experiencer == "caregiver" and subject is not None:
        # the clause names the client ("mother joined. Pt gave one-word answers")
        return Attribution("client", None, f"subject '{subject[1]}' of the clause")
    if experiencer == "caregiver":
        if len(roster.present) == 1:
            word, kind = next(iter(roster.present.items()))
            return Attribution(kind, CANONICAL.get(word, word), "the one person listed")
        kind = "caregiver" if "caregiver" in roster.kinds or not roster.kinds else \
            sorted(roster.kinds)[0]
        return Attribution(kind, None, "caregiver reference")
    if subject is not None:
        return Attribution("client", None, f"subject '{subject[1]}' of the clause")
    return Attribution("client", None, NO_OTHER_ACTOR)
