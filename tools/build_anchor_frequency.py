#!/usr/bin/env python
"""Write the shipped subset of the word-frequency table the matchers choose anchors by.

Compiling the packaged rules asks for the English frequency of a few thousand word forms
(to index each pattern by its rarest required word). Reading them from spacy-lookups-data's
full table costs about a second at every start, so the forms the packaged rules ask about
are saved, with their values, in ``rapportnotes/extractors/patterns/frequency.json``. Run
this after changing ``cues.jsonl``, ``context.jsonl`` or ``lexicon.jsonl``; the test
``test_shipped_rules_need_no_full_frequency_table`` fails until you do. A stale file is
never wrong, only slower: anchors change how fast patterns are found, not what matches.

    python tools/build_anchor_frequency.py
"""

from __future__ import annotations

import json
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "rapportnotes" / "extractors" / "patterns" \
    / "frequency.json"


def main() -> int:
    import os

    # compile the rules here (a warm-start cache would skip the lookups recorded below)
    os.environ["RAPPORTNOTES_CACHE_DIR"] = ""
    from rapportnotes.extractors import CueExtractor, anchored

    anchored._SHIPPED = {}  # ask the full table for every form, and record which
    anchored._frequency.cache_clear()
    anchored.asked.clear()
    CueExtractor(model=None).extract("Pt arrived late.")
    table = anchored._full_table()
    subset = {form: table.get(form, -16.0) for form in sorted(anchored.asked)}
    OUT.write_text(json.dumps(subset, ensure_ascii=False, indent=0, sort_keys=True) + "\n",
                   encoding="utf-8")
    print(f"{OUT}: {len(subset)} forms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
