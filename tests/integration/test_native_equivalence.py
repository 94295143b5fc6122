"""The compiled helpers (``_cmatch``) give exactly the pure-Python results.

The pure-Python run happens in a subprocess with ``RAPPORTNOTES_PURE_PYTHON=1`` (the switch is
read at import), over the project's own annotated corpora plus multi-paragraph texts built
from them, so the batch paths (shared token columns, several docs per batch) are covered.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("spacy")

from rapportnotes.extractors import CueExtractor, _native

DATA = Path(__file__).resolve().parents[1] / "data"

_DUMP = """
import json, sys
from rapportnotes.extractors import CueExtractor, _native
texts = json.load(sys.stdin)
ex = CueExtractor()
out = [[c.model_dump() for c in cues] for cues in ex.pipe(texts, batch_size=int(sys.argv[1]))]
json.dump({"native": _native.cmatch is not None, "cues": out}, sys.stdout)
"""


def corpus_texts() -> list[str]:
    texts: list[str] = []
    for name in ("cues_corpus.jsonl", "cues_generalisation.jsonl"):
        for line in (DATA / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                texts.append(json.loads(line)["text"])
    # paragraphs of several items: multi-sentence docs, quotes and parentheses across items
    paragraphs = [" ".join(texts[i:i + 5]) for i in range(0, len(texts), 5)]
    return texts + paragraphs + noisy_texts(texts)


def noisy_texts(texts: list[str], n: int = 150) -> list[str]:
    """Corpus words reshuffled with stray quotes, apostrophes, brackets, dashes, line breaks
    and control characters: the edge cases of quotations, possessives and sentence ends."""
    import random

    rng = random.Random(7)
    words = " ".join(texts).split()
    noise = ['"', "'", "’", "“", "”", "(", ")", "—", "-", ";", ":", "...", "\n", "\n\n",
             "Jones'", "client's", "\x07", "??", "!", "e.g.", "Dr.", "pt."]
    out = []
    for _ in range(n):
        tokens = [rng.choice(noise) if rng.random() < 0.25 else rng.choice(words)
                  for _ in range(rng.randint(3, 60))]
        out.append(" ".join(tokens))
    return out


def test_native_helpers_are_built_where_required() -> None:
    """CI sets RAPPORTNOTES_REQUIRE_NATIVE=1: the extension must have been compiled there."""
    if os.environ.get("RAPPORTNOTES_REQUIRE_NATIVE") == "1":
        assert _native.cmatch is not None, "the _cmatch extension was not built"


@pytest.mark.skipif(_native.cmatch is None, reason="compiled helpers not built")
@pytest.mark.parametrize("batch_size", [1, 37, 256])
def test_compiled_and_python_paths_agree(batch_size: int) -> None:
    texts = corpus_texts()
    native = [[c.model_dump() for c in cues]
              for cues in CueExtractor().pipe(texts, batch_size=batch_size)]
    env = {**os.environ, "RAPPORTNOTES_PURE_PYTHON": "1"}
    proc = subprocess.run([sys.executable, "-c", _DUMP, str(batch_size)],
                          input=json.dumps(texts), capture_output=True, text=True, env=env,
                          check=True, timeout=600)
    pure = json.loads(proc.stdout)
    assert pure["native"] is False
    assert sum(len(c) for c in native) > 500  # a real workload, not an empty comparison
    assert pure["cues"] == native


def test_pipe_equals_one_doc_at_a_time() -> None:
    """Batches (where rapport_context reuses rapport_cues' columns) change nothing."""
    texts = corpus_texts()[:120]
    ex = CueExtractor()
    batched = list(ex.pipe(texts, batch_size=64))
    single = [ex.extract(t) for t in texts]
    assert batched == single


def test_couples_check_per_doc_and_per_batch_agree(monkeypatch) -> None:
    """Whether a note is a couples session is decided per doc or for a whole batch,
    depending on how many docs ask; both give the same experiencers."""
    from rapportnotes.extractors import context

    texts = [
        "Couples session. Husband interrupted repeatedly and wife withdrew.",
        "Wife complained that therapy is pointless.",  # spouse mentioned, not a couples note
        "Husband and wife attended; husband refused to do the exercise.",
        "Partner A arrived late; partner B apologized for him.",
        "Pt said her husband thinks sessions are a waste of time.",
    ] * 8
    ex = CueExtractor()
    monkeypatch.setattr(context, "_COUPLES_PER_DOC_MAX", 10_000)
    per_doc = list(ex.pipe(texts, batch_size=64))
    monkeypatch.setattr(context, "_COUPLES_PER_DOC_MAX", 0)
    per_batch = list(CueExtractor().pipe(texts, batch_size=64))
    assert per_doc == per_batch
    experiencers = {c.experiencer for cues in per_doc for c in cues}
    assert "client" in experiencers and len(experiencers) > 1  # the rule really decides
