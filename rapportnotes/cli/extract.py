"""``rapportnotes extract FILE|-``: cues as JSON lines (for inspection and pipelines)."""

from __future__ import annotations

import argparse
import sys

from ..io import decode_text, read_text


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("extract", help="extract alliance cues from free text as JSON lines")
    p.add_argument("file", metavar="FILE|-", help="a UTF-8 text file, or - for stdin")
    p.add_argument("--findings-only", action="store_true",
                   help="omit negated, hypothetical, historical and other-person mentions")
    p.set_defaults(func=cmd_extract)


def _read(path: str) -> str:
    if path == "-":
        return decode_text(sys.stdin.buffer.read(), "<stdin>")
    return read_text(path)


def cmd_extract(args: argparse.Namespace) -> int:
    from ..extractors import extract_cues
    from ..models import clean_text

    text = clean_text(_read(args.file))
    out = sys.stdout
    for cue in extract_cues(text, source=None if args.file == "-" else args.file):
        if args.findings_only and not cue.is_finding:
            continue
        out.write(cue.model_dump_json() + "\n")
    out.flush()
    return 0
