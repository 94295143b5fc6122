"""The rule compiler: how a ``seq`` token spec becomes a Matcher token."""

from __future__ import annotations


def test_a_lower_alternative_after_a_lexicon_entry_is_read_as_lower():
    """``@entry|=word``: "=word" after a "|" is a LOWER alternative, not the literal
    string "=word" (which matched nothing)."""
    from rapportnotes.extractors.rules import Compiler, LexiconEntry

    compiler = Compiler({"who": LexiconEntry(name="who", attr="LOWER", values=["pt"])}, {})
    (token,) = compiler.token("@who|=she|=he")
    assert token == {"LOWER": {"IN": ["he", "pt", "she"]}}
    # mixed with a LEMMA alternative, all are matched on LEMMA (documented)
    (token,) = compiler.token("@who|=she|went")
    assert token == {"LEMMA": {"IN": ["pt", "she", "went"]}}
