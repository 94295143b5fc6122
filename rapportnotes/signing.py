"""Signed records and addenda: a final note locked by its hash, amended without change.

``sign(note, signer=…, credentials=…, at=…)`` turns a final note into a
:class:`SignedRecord`: the note's canonical JSON (sorted keys, no whitespace, UTF-8), its
SHA-256, who signed, with what credentials, when. The record is immutable: exporting it
renders the stored note, so the same record gives the same bytes every time, and
``verify`` detects any change to the note or to an addendum. An addendum (author, time,
reason, text) is appended, never merged: it is chained to the previous hash (the note's,
then the previous addendum's), and the original note and its hash stay as signed. Every
exporter prints addenda as dated blocks after the signature.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .errors import InputError
from .notes import Addendum, Note

RECORD_SCHEMA: Literal["rapportnotes-signed-record/1"] = "rapportnotes-signed-record/1"


def canonical(data: Any) -> bytes:
    """The canonical JSON bytes that are hashed (sorted keys, compact, UTF-8)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def sha256(data: Any) -> str:
    return hashlib.sha256(canonical(data)).hexdigest()


class SignedRecord(BaseModel):
    """A signed note and its addenda."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_: Literal["rapportnotes-signed-record/1"] = Field(RECORD_SCHEMA, alias="schema")
    note: dict[str, Any] = Field(description="The note as signed (Note.model_dump, json).")
    note_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    signer: str = Field(min_length=1, max_length=500)
    credentials: str | None = Field(None, max_length=500)
    signed_at: str = Field(description="Time of signing, as the note prints it.")
    addenda: tuple[Addendum, ...] = ()

    def as_note(self) -> Note:
        """The note to export: as signed, with the signature and the addenda shown."""
        note = Note.model_validate(self.note)
        return note.model_copy(update={
            "signature": note.signature.model_copy(update={"signed_at": self.signed_at}),
            "addenda": self.addenda})


def sign(note: Note, *, signer: str, credentials: str | None, at: datetime) -> SignedRecord:
    """Lock a final note (a draft cannot be signed)."""
    if note.status != "final":
        raise InputError("a draft cannot be signed; render the final note first")
    data = note.model_dump(mode="json")
    return SignedRecord(note=data, note_sha256=sha256(data), signer=signer,
                        credentials=credentials, signed_at=_when(at))


def _when(at: datetime) -> str:
    """The note's own way of printing a time: "2026-03-17 12:40" (+ offset when known)."""
    return at.strftime("%Y-%m-%d %H:%M") + (at.strftime(" %z") if at.tzinfo else "")


def _addendum_body(a: Addendum) -> dict[str, Any]:
    return a.model_dump(mode="json", exclude={"sha256"})


def add_addendum(record: SignedRecord, *, author: str, at: datetime, reason: str, text: str,
                 credentials: str | None = None) -> SignedRecord:
    """A new record: ``record`` plus one addendum chained to the last hash."""
    problems = verify(record)
    if problems:
        raise InputError(f"the record does not verify ({problems[0]}); no addendum added")
    prev = record.addenda[-1].sha256 if record.addenda else record.note_sha256
    draft = Addendum(author=author, credentials=credentials,
                     at=_when(at), reason=reason, text=text,
                     prev_sha256=prev, sha256="0" * 64)
    done = draft.model_copy(update={"sha256": sha256(_addendum_body(draft))})
    return record.model_copy(update={"addenda": (*record.addenda, done)})


def verify(record: SignedRecord) -> list[str]:
    """What does not match (empty when the record is intact): the note's hash, then each
    addendum's hash and its link to the previous one."""
    problems = []
    if sha256(record.note) != record.note_sha256:
        problems.append("the note does not match its SHA-256: it changed after signing")
    prev = record.note_sha256
    for i, a in enumerate(record.addenda):
        if a.prev_sha256 != prev:
            problems.append(f"addenda[{i}] is not chained to the record before it")
        if sha256(_addendum_body(a)) != a.sha256:
            problems.append(f"addenda[{i}] does not match its SHA-256")
        prev = a.sha256
    return problems


def load_record(data: Any, origin: str) -> SignedRecord:
    """Parse a signed-record file (already-parsed JSON)."""
    from pydantic import ValidationError

    from .io import format_validation_error

    try:
        return SignedRecord.model_validate(data)
    except ValidationError as exc:
        raise InputError(f"{origin}: {format_validation_error(exc)}") from None


def is_record(data: Any) -> bool:
    return isinstance(data, dict) and data.get("schema") == RECORD_SCHEMA


def dump_record(record: SignedRecord) -> str:
    return json.dumps(record.model_dump(mode="json", by_alias=True), indent=2,
                      ensure_ascii=False) + "\n"
