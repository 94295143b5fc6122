"""``sign``, ``verify`` and ``addendum``: signed records of final notes."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("sign", help="lock the final note of a session as a signed record")
    p.add_argument("session", metavar="SESSION.json")
    p.add_argument("-o", "--output", metavar="RECORD.json", required=True)
    p.add_argument("--format", "-f", default="soap")
    p.add_argument("--by", metavar="NAME", help="signer (default: the session's clinician)")
    p.add_argument("--no-extract", action="store_true")
    p.set_defaults(func=cmd_sign)

    p = sub.add_parser("verify", help="check a signed record against its hashes "
                       "(exit 0 intact, 1 changed)")
    p.add_argument("record", metavar="RECORD.json")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("addendum", help="append a dated addendum to a signed record")
    p.add_argument("record", metavar="RECORD.json")
    p.add_argument("--author", required=True)
    p.add_argument("--credentials")
    p.add_argument("--reason", required=True)
    p.add_argument("--text", required=True)
    p.set_defaults(func=cmd_addendum)


def _read_record(path: str):  # type: ignore[no-untyped-def]
    from ..errors import InputError
    from ..io import read_json
    from ..signing import is_record, load_record

    data = read_json(path)
    if not is_record(data):
        raise InputError(f"{path}: not a signed record (schema rapportnotes-signed-record/1)")
    return load_record(data, path)


def cmd_sign(args: argparse.Namespace) -> int:
    from ..api import build_note
    from ..io import load_session, write_atomic
    from ..signing import dump_record, sign

    obs = load_session(args.session)
    note = build_note(obs, format=args.format, extract=not args.no_extract)
    if note.pending:
        print(f"rapportnotes: warning: {len(note.pending)} suggestion(s) still pending are "
              "not in the signed note", file=sys.stderr)
    record = sign(note, signer=args.by or obs.clinician.name,
                  credentials=obs.clinician.credentials,
                  at=obs.signed_at or datetime.now(UTC))
    write_atomic(args.output, dump_record(record))
    print(f"{args.output}: signed, SHA-256 {record.note_sha256}")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from ..signing import verify

    record = _read_record(args.record)
    problems = verify(record)
    for p in problems:
        print(f"{args.record}: {p}")
    if not problems:
        print(f"{args.record}: intact (note SHA-256 {record.note_sha256}, "
              f"{len(record.addenda)} addend{'um' if len(record.addenda) == 1 else 'a'})")
    return 1 if problems else 0


def cmd_addendum(args: argparse.Namespace) -> int:
    from ..io import write_atomic
    from ..signing import add_addendum, dump_record

    record = _read_record(args.record)
    new = add_addendum(record, author=args.author, credentials=args.credentials,
                       at=datetime.now(UTC), reason=args.reason, text=args.text)
    write_atomic(args.record, dump_record(new))
    print(f"{args.record}: addendum {len(new.addenda)} added ({new.addenda[-1].sha256})")
    return 0
