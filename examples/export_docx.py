#!/usr/bin/env python3
"""Export a SOAP and a DAP .docx note for every example session.

Usage: python examples/export_docx.py [OUT_DIR]   (default: ./out)

The drifting-client history in examples/history/ is exported too, with its earlier
sessions as history, so the note shows the alliance trend chart and at-risk reasons.

Only what the clinician entered or accepted in review is in these notes. Where suggestions
from the free text are still pending, the script says so and also writes a DRAFT copy
(``*-draft.docx``) with the pending suggestions in an appendix; accept or reject them with
``rapportnotes review examples/sessions/NAME.json``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import rapportnotes
from rapportnotes import CueExtractor, build_note, export, load_history, load_session

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    out_dir = Path(argv[1]) if len(argv) > 1 else Path("out")
    out_dir.mkdir(parents=True, exist_ok=True)
    extractor = CueExtractor()  # one spaCy pipeline, built once, reused for every note
    written = []
    for session_file in sorted((HERE / "sessions").glob("*.json")):
        obs = load_session(session_file)
        for fmt in ("soap", "dap"):
            note = build_note(obs, format=fmt, extractor=extractor)
            written.append(export(note, out_dir / f"{session_file.stem}-{fmt}.docx"))
        if note.pending:
            draft = build_note(obs, format="soap", extractor=extractor, draft=True)
            written.append(export(draft, out_dir / f"{session_file.stem}-soap-draft.docx"))
            print(f"{session_file.name}: {len(note.pending)} suggestion(s) pending review "
                  f"(rapportnotes review {session_file})", file=sys.stderr)
    history_file = HERE / "history" / "drifting.json"
    if history_file.exists():
        *earlier, latest = load_history(history_file)
        note = build_note(latest, format="soap", history=earlier, extractor=extractor)
        written.append(export(note, out_dir / "drifting-history-soap.docx"))
    for path in written:
        print(path)
    print(f"{len(written)} notes written with rapportnotes {rapportnotes.__version__}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except rapportnotes.RapportNotesError as exc:
        print(f"export_docx: error: {exc}", file=sys.stderr)
        sys.exit(2)
