"""Subcommands about notes: render, validate, schema, formats."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ExportError

if TYPE_CHECKING:
    from ..exporters import Exporter


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("render", help="render a session as a progress note")
    p.add_argument("session", metavar="SESSION.json")
    p.add_argument("--format", "-f", default="soap", help="note format (soap, dap, plugins)")
    p.add_argument("--to", "-t", default=None,
                   help="output kind: md, txt, html, docx, pdf, fhir, plugins (default: from "
                   "-o's extension, else md)")
    p.add_argument("-o", "--output", metavar="OUT", help="output file (stdout if omitted)")
    p.add_argument("--force-kind", action="store_true",
                   help="write --to's kind even when -o has another extension")
    p.add_argument("--history", metavar="HISTORY",
                   help="earlier sessions (JSON list or folder) for trends and at-risk flag")
    p.add_argument("--template-dir", action="append", default=[], metavar="DIR",
                   help="directory of templates overriding the built-ins (repeatable)")
    p.add_argument("--no-extract", action="store_true",
                   help="do not run the cue extractor over free text")
    p.add_argument("--draft", action="store_true",
                   help="mark the note DRAFT — NOT FOR THE RECORD and append the pending "
                   "suggestions (apart from the note)")
    p.add_argument("--provenance", metavar="OUT.json",
                   help="also write where every statement came from (fields, accepted "
                   "suggestions, who accepted them)")
    p.add_argument("--require-clean", action="store_true",
                   help="refuse to write the note when the documentation lint finds errors "
                   "(exit 1)")
    p.add_argument("--lint-profile", default="medicare", help="lint profile for render")
    p.add_argument("--policy", metavar="POLICY.json",
                   help="an acceptance policy (vendor workflows): {\"name\", \"labels\", "
                   "\"min_confidence\"}; off by default")
    fhir = p.add_argument_group("FHIR (--to fhir, extra [fhir]; see docs/fhir.md)")
    fhir.add_argument("--fhir-version", choices=("R4B", "R5"), default=None,
                      help="FHIR release of the Bundle (default R4B, what US EHRs run)")
    fhir.add_argument("--timezone", metavar="ZONE",
                      help="zone of times written without an offset: an IANA name "
                      "(America/Chicago), UTC or +05:30; required when the session has any")
    fhir.add_argument("--patient-reference", metavar="Patient/ID",
                      help="the EHR's Patient resource (else a minimal Patient is included)")
    fhir.add_argument("--practitioner-reference", metavar="Practitioner/ID",
                      help="the EHR's Practitioner resource (else a minimal one is included)")
    fhir.add_argument("--fhir-attachment", choices=("html", "md", "txt", "pdf", "docx"),
                      default=None, help="the rendering the DocumentReference carries "
                      "(default html)")
    fhir.add_argument("--fhir-document-type", choices=("11506-3", "34904-3"), default=None,
                      help="Composition type: LOINC 11506-3 Progress note (default) or "
                      "34904-3 Mental health Progress note")
    p.set_defaults(func=cmd_render)

    p = sub.add_parser("validate", help="check session files: schema, then the "
                       "documentation lint (exit 0 clean or warnings, 1 errors, 2 unusable)")
    p.add_argument("session", metavar="SESSION.json", nargs="+")
    p.add_argument("--profile", default="medicare",
                   help="lint profile: medicare, commercial, or a plugin's (default medicare)")
    p.add_argument("--profile-file", metavar="PROFILE.json",
                   help="a clinic's own lint profile (JSON; may extend a built-in)")
    p.add_argument("--history", metavar="HISTORY",
                   help="earlier sessions, for the copy-forward check")
    p.add_argument("--json", action="store_true", help="findings as JSON (for EHRs)")
    p.add_argument("--strict", action="store_true", help="warnings fail too (exit 1)")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("schema", help="print the session JSON Schema")
    p.add_argument("--note", action="store_true", help="print the Note model's schema instead")
    p.set_defaults(func=cmd_schema)

    p = sub.add_parser("formats", help="list registered note formats and exporters")
    p.set_defaults(func=cmd_formats)


def cmd_render(args: argparse.Namespace) -> int:
    from ..api import build_note
    from ..exporters import exporters
    from ..formats import formats
    from ..io import load_history, parse_session, write_atomic

    kind = _output_kind(args)
    # Resolve every name and path before the (slow) extraction, so mistakes fail fast.
    exporter = _configured(kind, args) or exporters.get(kind)
    fmt = formats.get(args.format)
    if args.output:
        out = Path(args.output)
        if not out.parent.is_dir():
            raise ExportError(f"{out}: directory {out.parent} does not exist")
        from ..exporters import exporter_for_extension

        suffix = out.suffix.lstrip(".").lower()
        if args.to and suffix and (exporter_for_extension(suffix) or suffix) != kind \
                and not args.force_kind:
            raise ExportError(f"{out}: the extension says {suffix!r} but --to is {kind!r}; "
                              "rename the file or add --force-kind")
    elif exporter.binary:
        raise ExportError(f"{kind} output is binary; give an output file with -o")
    if args.provenance and not Path(args.provenance).parent.is_dir():
        raise ExportError(f"{args.provenance}: directory does not exist")
    policy = _load_policy(args.policy) if args.policy else None
    from ..io import read_json
    from ..signing import is_record, load_record

    raw = read_json(args.session)
    if is_record(raw):  # a signed record renders as signed, byte for byte, with addenda
        record = load_record(raw, args.session)
        data = exporter.export(record.as_note(), template_dirs=args.template_dir)
        if args.output:
            write_atomic(args.output, data)
        else:
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        return 0
    obs = parse_session(raw, origin=args.session)  # the file is read once
    history = load_history(args.history) if args.history else []
    note = build_note(obs, format=fmt, history=history, extract=not args.no_extract,
                      policy=policy, draft=args.draft)
    from ..lint import lint

    errors = [f for f in lint(obs, profile=args.lint_profile, history=history)
              if f.severity == "error"]
    for f in errors:
        print(f"rapportnotes: lint error: {args.session}: {f.rule} {f.path}: {f.message}",
              file=sys.stderr)
    if errors and args.require_clean:
        print(f"rapportnotes: {len(errors)} lint error(s); no note written "
              "(--require-clean)", file=sys.stderr)
        return 1
    data = exporter.export(note, template_dirs=args.template_dir)
    if args.output:
        write_atomic(args.output, data)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    if args.provenance:
        from ..api import provenance

        write_atomic(args.provenance, json.dumps(provenance(note), indent=2,
                                                 ensure_ascii=False) + "\n")
    for msg in note.review_messages:
        print(f"rapportnotes: warning: {args.session}: {msg}", file=sys.stderr)
    pending = len(note.pending)
    if pending:
        where = "listed in the draft's appendix" if args.draft else "not in this note"
        print(f"rapportnotes: {pending} suggestion{'s' if pending != 1 else ''} from the "
              f"session notes {'are' if pending != 1 else 'is'} {where}; review them with: "
              f"rapportnotes review {args.session}", file=sys.stderr)
    return 0


_FHIR_OPTIONS = ("fhir_version", "timezone", "patient_reference", "practitioner_reference",
                 "fhir_attachment", "fhir_document_type")


def _configured(kind: str, args: argparse.Namespace) -> Exporter | None:
    """The FHIR exporter built from its options; None for every other kind (the registry's
    instance is used). A FHIR option with another kind is a mistake, not ignored."""
    given = [o for o in _FHIR_OPTIONS if getattr(args, o) is not None]
    if kind != "fhir":
        if given:
            raise ExportError(f"--{given[0].replace('_', '-')} only applies to --to fhir")
        return None
    from ..exporters.fhir import FhirExporter

    return FhirExporter(args.fhir_version or "R4B", timezone=args.timezone,
                        patient_reference=args.patient_reference,
                        practitioner_reference=args.practitioner_reference,
                        attachment=args.fhir_attachment or "html",
                        document_type=args.fhir_document_type or "11506-3")


def _load_policy(path: str) -> object:
    from pydantic import ValidationError

    from ..errors import InputError
    from ..io import format_validation_error, read_json
    from ..review import AcceptancePolicy

    data = read_json(path)
    try:
        return AcceptancePolicy.model_validate(data)
    except ValidationError as exc:
        raise InputError(f"{path}: {format_validation_error(exc)}") from None


def _output_kind(args: argparse.Namespace) -> str:
    """--to, else the output file's extension, else md (stdout)."""
    if args.to:
        return str(args.to)
    if not args.output:
        return "md"
    out = Path(args.output)
    if str(args.output).endswith(("/", "\\")) or out.is_dir():
        raise ExportError(f"{out}: is a directory; give a file name such as {out}/note.docx")
    suffix = out.suffix.lstrip(".").lower()
    if not suffix:
        raise ExportError(f"{out}: no extension to tell the output kind; add one (.md, .txt, "
                          ".html, .docx, .pdf, .json for FHIR) or give --to")
    from ..exporters import exporter_for_extension

    return exporter_for_extension(suffix) or suffix  # unknown: the registry's error lists all


_COLOURS = {"error": "\x1b[31m", "warning": "\x1b[33m", "info": "\x1b[36m"}


def cmd_validate(args: argparse.Namespace) -> int:
    """Schema first (exit 2 when a file is unusable), then the lint. Exit 1 when any
    finding is an error (or, with --strict, a warning); 0 otherwise."""
    from ..io import load_history, load_session
    from ..lint import lint, load_profile_file

    profile = load_profile_file(args.profile_file) if args.profile_file else args.profile
    history = load_history(args.history) if args.history else []
    tty = sys.stdout.isatty() and not args.json
    failing = {"error", "warning"} if args.strict else {"error"}
    report, status = [], 0
    for path in args.session:
        obs = load_session(path)
        findings = lint(obs, profile=profile, history=[
            h for h in history if h.client.id == obs.client.id and
            (h.session.date, h.session.start_time) < (obs.session.date, obs.session.start_time)])
        if any(f.severity in failing for f in findings):
            status = 1
        if args.json:
            report.append({"file": str(path), "client": obs.client.id,
                           "findings": [f.model_dump() for f in findings]})
            continue
        s = obs.session
        print(f"{path}: schema ok (client {obs.client.id}, {s.date.isoformat()}, "
              f"{s.duration_minutes} min); {len(findings)} finding(s)")
        for f in findings:
            sev = f.severity.upper()
            if tty:
                sev = f"{_COLOURS[f.severity]}{sev}\x1b[0m"
            print(f"{path}: {sev} {f.rule} {f.path}: {f.message} [{f.source}]")
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    return status


def cmd_schema(args: argparse.Namespace) -> int:
    from ..models import SessionObservation
    from ..notes import Note

    model = Note if args.note else SessionObservation
    print(json.dumps(model.model_json_schema(), indent=2, ensure_ascii=False))
    return 0


def cmd_formats(args: argparse.Namespace) -> int:
    """List every registered format and exporter; a broken one is marked, never fatal."""
    from ..errors import PluginError
    from ..exporters import exporters
    from ..formats import formats

    for title, registry in (("Formats", formats), ("Exporters", exporters)):
        print(f"{title}:")
        for info in registry.info():
            try:
                obj = registry.get(info.name)
                text = getattr(obj, "description", "") or getattr(obj, "title", "")
            except PluginError as exc:
                text = f"[BROKEN: {exc}]"
            print(f"  {info.name:<10} {text}  [{info.distribution}]")
        for warning in registry.warnings():
            print(f"rapportnotes: warning: {warning}", file=sys.stderr)
    return 0
