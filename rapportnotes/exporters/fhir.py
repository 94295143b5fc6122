"""FHIR exporter (extra ``[fhir]``): the note as a FHIR document Bundle, R4B or R5.

Why a document Bundle: an EHR files a progress note as a Composition (the sections, their
narrative, who attested it) with the resources it points at, and indexes it by a
DocumentReference (US Core clinical-note shape) carrying the rendered note. Vendors then
read values (measure totals and items as Observations), not display strings.

What the Bundle holds, in order (``docs/fhir.md`` documents every choice):

1. ``Composition`` — type LOINC 11506-3 *Progress note* (the type US Core requires servers
   to support; 34904-3 *Mental health Progress note* on request); one section per note
   section, coded LOINC for Subjective / Objective / Assessment / Plan and by the project's
   code system for every other section (DAP, BIRP, GIRP, PIE blocks, the rapport section);
   XHTML narrative built from the note model with every value escaped; ``attester`` (legal)
   when the note is signed; each addendum as an appended section (status ``amended``).
2. ``Patient`` and ``Practitioner`` — minimal resources (identifier; name and credentials),
   unless the vendor supplies references to its own.
3. One ``Observation`` per scored measure: total as ``valueQuantity``, items and subscales
   as components, interpretation and the cutoff as a reference range.
4. ``Provenance`` for the signature (target: the Composition and the Observations).
5. ``DocumentReference`` — the rendered note (HTML by default) as an attachment with its
   size and SHA-1, the session as its period.

Deterministic: ids are UUID-5 of the note's identity and content, and every time comes from
the note (session, signing, addenda) — never from the clock. FHIR times with hours need a UTC
offset; session files often hold local times without one, so naive times are qualified by
``timezone`` and an export that would need a time it cannot qualify fails with a clear
error instead of inventing an offset.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import re
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from typing import Any, Literal

from ..errors import ExportError
from ..notes import Addendum, MeasureFact, Note, NoteSection, Statement, Table

PROJECT = "https://rapportnotes.org/fhir"
SECTION_SYSTEM = f"{PROJECT}/CodeSystem/note-section"
MEASURE_SYSTEM = f"{PROJECT}/CodeSystem/measure"
CLIENT_ID_SYSTEM = f"{PROJECT}/NamingSystem/client-id"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"

#: LOINC codes of the sections that have one everybody agrees on; all others carry only
#: the project code (``note-section`` code = the format's section key).
SECTION_LOINC: dict[str, tuple[str, str]] = {
    "subjective": ("61150-9", "Subjective Narrative"),
    "objective": ("61149-1", "Objective Narrative"),
    "assessment": ("51848-0", "Evaluation note"),
    "plan": ("18776-5", "Plan of care note"),
}
DOCUMENT_TYPES: dict[str, str] = {
    "11506-3": "Progress note",
    "34904-3": "Mental health Progress note",
}
#: LOINC total-score codes for measures where the code is certain; others use the project's
#: measure code system (code = the measure's registry name).
MEASURE_LOINC: dict[str, tuple[str, str]] = {
    "phq9": ("44261-6", "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]"),
    "gad7": ("70274-6", "Generalized anxiety disorder 7 item (GAD-7) total score [Reported.PHQ]"),
}
ATTACHMENT_TYPES: dict[str, str] = {
    "html": "text/html; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
    "txt": "text/plain; charset=utf-8",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, PROJECT)
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SIGNED_AT = re.compile(r"^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2})(?: ([+-]\d{4}))?$")
_OFFSET = re.compile(r"^(?:UTC)?([+-])(\d{2}):?(\d{2})$")
_XHTML = "http://www.w3.org/1999/xhtml"

Version = Literal["R4B", "R5"]


class FhirExporter:
    """Export a note as a FHIR document Bundle (JSON).

    ``patient_reference`` / ``practitioner_reference`` ("Patient/123") point at the
    vendor's own resources; without them minimal Patient and Practitioner resources are
    put in the Bundle. ``timezone`` (an IANA name such as ``"America/Chicago"``, ``"UTC"``
    or an offset ``"+05:30"``) qualifies times written without an offset. ``attachment``
    names the exporter whose output the DocumentReference carries.
    """

    name = "fhir"
    extension = ".json"
    binary = False
    description = "FHIR document Bundle, R4B or R5 (extra [fhir]: fhir.resources)"

    def __init__(self, version: str = "R4B", *, patient_reference: str | None = None,
                 practitioner_reference: str | None = None, timezone: str | None = None,
                 attachment: str = "html", document_type: str = "11506-3") -> None:
        if version not in ("R4B", "R5"):
            raise ExportError("FHIR version must be R4B or R5")
        for what, ref, kind in (("patient_reference", patient_reference, "Patient"),
                                ("practitioner_reference", practitioner_reference,
                                 "Practitioner")):
            if ref is not None and not re.fullmatch(
                    rf"(?:https?://\S+/)?{kind}/[A-Za-z0-9\-.]{{1,64}}", ref):
                raise ExportError(f"{what}: expected '{kind}/<id>' (FHIR id: letters, "
                                  "digits, '-', '.'; at most 64)")
        if attachment not in ATTACHMENT_TYPES:
            raise ExportError(f"FHIR attachment must be one of {', '.join(ATTACHMENT_TYPES)}")
        if document_type not in DOCUMENT_TYPES:
            raise ExportError(f"FHIR document type must be one of {', '.join(DOCUMENT_TYPES)}")
        self.version: Version = version  # type: ignore[assignment]
        self.patient_reference = patient_reference
        self.practitioner_reference = practitioner_reference
        self.tz = _zone(timezone)
        self.attachment = attachment
        self.document_type = document_type

    def export(self, note: Note, *,
               template_dirs: Sequence[str | os.PathLike[str]] = ()) -> bytes:
        bundle = self.bundle(note, template_dirs=template_dirs)
        return (json.dumps(bundle, ensure_ascii=False, indent=2) + "\n").encode("utf-8")

    def bundle(self, note: Note, *,
               template_dirs: Sequence[str | os.PathLike[str]] = ()) -> dict[str, Any]:
        """The Bundle as JSON-ready data, validated with fhir.resources."""
        bundle_model = _bundle_class(self.version)
        from . import exporters

        rendered = exporters.get(self.attachment).export(note, template_dirs=template_dirs)
        data = _Builder(self, note, rendered).bundle()
        try:
            bundle_model.model_validate(data)
        except Exception as exc:  # a bug here, not the user's: say where, not the values
            raise ExportError(f"FHIR {self.version} Bundle did not validate "
                              f"({exc.__class__.__name__}: {_first_error(exc)})") from None
        return data


def _bundle_class(version: Version) -> Any:
    try:
        if version == "R4B":
            from fhir.resources.R4B.bundle import Bundle
        else:
            from fhir.resources.bundle import Bundle
    except ImportError:
        raise ExportError("FHIR export needs fhir.resources: pip install 'rapportnotes[fhir]'"
                          ) from None
    return Bundle


def _first_error(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        try:
            first = errors()[0]
            return f"{'.'.join(str(p) for p in first.get('loc', ()))}: {first.get('type')}"
        except Exception:  # pragma: no cover - defensive
            pass
    return "see the FHIR specification"


def _zone(name: str | None) -> tzinfo | None:
    if name is None:
        return None
    m = _OFFSET.match(name.strip())
    if m:
        sign = 1 if m.group(1) == "+" else -1
        hours, minutes = int(m.group(2)), int(m.group(3))
        if hours > 14 or minutes > 59:
            raise ExportError("timezone: offsets run from -14:00 to +14:00")
        return timezone(sign * timedelta(hours=hours, minutes=minutes))
    if name.strip().upper() in ("UTC", "Z"):
        return UTC
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ExportError("timezone: not a known time zone name (e.g. America/Chicago) or "
                          "an offset such as +05:30") from None


def _safe(text: str) -> str:
    return _XML_ILLEGAL.sub("", text)


def _esc(text: str) -> str:
    """Text for XHTML: illegal characters dropped, markup characters escaped."""
    return html.escape(_safe(text), quote=True)


def _div(parts: list[str]) -> str:
    return f'<div xmlns="{_XHTML}">' + "".join(parts) + "</div>"


def _statement_html(st: Statement) -> str:
    lead = f"<b>{_esc(st.lead)}:</b> " if st.lead else ""
    return lead + _esc(st.text)


def _statements_html(statements: Sequence[Statement]) -> list[str]:
    """Paragraphs and bullet lists (sub-bullets nested under the bullet before them)."""
    out: list[str] = []
    i = 0
    while i < len(statements):
        st = statements[i]
        if st.style == "paragraph":
            out.append(f"<p>{_statement_html(st)}</p>")
            i += 1
            continue
        items: list[str] = []
        while i < len(statements) and statements[i].style != "paragraph":
            cur = statements[i]
            if cur.style == "subbullet":
                subs = []
                while i < len(statements) and statements[i].style == "subbullet":
                    subs.append(f"<li>{_statement_html(statements[i])}</li>")
                    i += 1
                sub_list = "<ul>" + "".join(subs) + "</ul>"
                if items:
                    items[-1] = items[-1][:-len("</li>")] + sub_list + "</li>"
                else:
                    items.append(f"<li>{sub_list}</li>")
                continue
            items.append(f"<li>{_statement_html(cur)}</li>")
            i += 1
        out.append("<ul>" + "".join(items) + "</ul>")
    return out


def _table_html(table: Table) -> str:
    cap = f"<caption>{_esc(table.caption)}</caption>" if table.caption else ""
    head = "".join(f"<th>{_esc(c)}</th>" for c in table.columns)
    body = "".join("<tr>" + "".join(f"<td>{_esc(v)}</td>" for v in row) + "</tr>"
                   for row in table.rows)
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "item"


class _Builder:
    """One Bundle from one note (the state of one export)."""

    def __init__(self, options: FhirExporter, note: Note, rendered: bytes) -> None:
        self.o = options
        self.note = note
        self.facts = note.facts
        self.rendered = rendered
        self.r5 = options.version == "R5"
        content = hashlib.sha256(
            json.dumps(note.model_dump(mode="json"), sort_keys=True,
                       ensure_ascii=False).encode("utf-8")).hexdigest()
        start = self.facts.start_time if self.facts else ""
        self.identity = f"{note.client_id}|{note.session_date}|{start}|{note.format}"
        self.content = content

    # ids and references ------------------------------------------------------------------
    def _uuid(self, kind: str, *parts: str, content: bool = True) -> str:
        name = "|".join((self.identity, kind, *parts, self.content if content else ""))
        return str(uuid.uuid5(_NAMESPACE, name))

    @staticmethod
    def _urn(ident: str) -> str:
        return f"urn:uuid:{ident}"

    # times ---------------------------------------------------------------------------------
    def _aware(self, moment: datetime, what: str) -> datetime:
        if moment.tzinfo is not None:
            return moment
        if self.o.tz is None:
            raise ExportError(f"FHIR needs a UTC offset for {what}: give the FHIR exporter a "
                              "timezone (--timezone America/Chicago, or +05:30), or write "
                              "the session's times with an offset")
        return moment.replace(tzinfo=self.o.tz)

    @staticmethod
    def _iso(moment: datetime) -> str:
        text = moment.isoformat(timespec="seconds")
        return text.replace("+00:00", "Z")

    def _session_bounds(self) -> tuple[datetime, datetime] | None:
        f = self.facts
        if f is None:
            return None
        day = date.fromisoformat(f.date)
        start_t, end_t = time.fromisoformat(f.start_time), time.fromisoformat(f.end_time)
        start = datetime.combine(day, start_t)
        end = datetime.combine(day + timedelta(days=1 if f.crosses_midnight else 0), end_t)
        return (self._aware(start, "the session's start time"),
                self._aware(end, "the session's end time"))

    def _signed(self) -> datetime | None:
        raw = self.note.signature.signed_at
        if not raw:
            return None
        m = _SIGNED_AT.match(raw)
        if m is None:
            try:
                moment = datetime.fromisoformat(raw)
            except ValueError:
                raise ExportError("signature.signed_at: not a date and time") from None
        else:
            moment = datetime.fromisoformat(f"{m.group(1)}T{m.group(2)}")
            if m.group(3):
                moment = datetime.strptime(f"{m.group(1)} {m.group(2)} {m.group(3)}",
                                           "%Y-%m-%d %H:%M %z")
        return self._aware(moment, "signature.signed_at")

    def _addendum_time(self, a: Addendum, index: int) -> datetime:
        try:
            moment = datetime.fromisoformat(a.at.replace("Z", "+00:00").replace(" ", "T", 1))
        except ValueError:
            raise ExportError(f"addenda[{index}].at: not a date and time") from None
        return self._aware(moment, f"addenda[{index}].at")

    # resources -------------------------------------------------------------------------------
    def bundle(self) -> dict[str, Any]:
        bounds = self._session_bounds()
        signed = self._signed()
        addenda = [(a, self._addendum_time(a, i)) for i, a in enumerate(self.note.addenda)]
        if addenda:
            stamp = addenda[-1][1]
        elif signed is not None:
            stamp = signed
        elif bounds is not None:
            stamp = bounds[1]
        else:
            stamp = self._aware(datetime.combine(date.fromisoformat(self.note.session_date),
                                                 time(0)), "the session date")
        self.stamp = self._iso(stamp)
        self.bounds = bounds
        self.signed = None if signed is None else self._iso(signed)

        entries: list[tuple[str, dict[str, Any]]] = []
        patient, patient_res = self._patient()
        practitioner, practitioner_res = self._practitioner()
        self.patient_ref, self.practitioner_ref = patient, practitioner
        observations = [self._observation(m, i)
                        for i, m in enumerate(self.facts.measures if self.facts else ())]
        composition_id = self._uuid("Composition", content=False)
        composition = self._composition(composition_id, observations, addenda)
        entries.append((composition_id, composition))
        if patient_res is not None:
            entries.append(patient_res)
        if practitioner_res is not None:
            entries.append(practitioner_res)
        entries.extend(observations)
        if self.signed is not None:
            entries.append(self._provenance(composition_id, observations))
        entries.append(self._document_reference(composition_id))
        bundle_id = self._uuid("Bundle")
        return {
            "resourceType": "Bundle",
            "id": bundle_id,
            "meta": {"security": [_confidentiality()]},
            "identifier": {"system": "urn:ietf:rfc:3986", "value": self._urn(bundle_id)},
            "type": "document",
            "timestamp": self.stamp,
            "entry": [{"fullUrl": self._urn(ident), "resource": res} for ident, res in entries],
        }

    def _patient(self) -> tuple[dict[str, str], tuple[str, dict[str, Any]] | None]:
        if self.o.patient_reference:
            return {"reference": self.o.patient_reference}, None
        ident = self._uuid("Patient", content=False)
        res = {"resourceType": "Patient", "id": ident,
               "identifier": [{"system": CLIENT_ID_SYSTEM, "value": _safe(self.note.client_id)}]}
        return {"reference": self._urn(ident)}, (ident, res)

    def _practitioner(self) -> tuple[dict[str, str], tuple[str, dict[str, Any]] | None]:
        sig = self.note.signature
        if self.o.practitioner_reference:
            return {"reference": self.o.practitioner_reference,
                    "display": _safe(sig.clinician)}, None
        ident = self._uuid("Practitioner", sig.clinician, content=False)
        res: dict[str, Any] = {"resourceType": "Practitioner", "id": ident,
                               "name": [{"text": _safe(sig.clinician)}]}
        if sig.credentials:
            res["qualification"] = [{"code": {"text": _safe(sig.credentials)}}]
        return {"reference": self._urn(ident), "display": _safe(sig.clinician)}, (ident, res)

    def _status(self) -> str:
        if self.note.status == "draft":
            return "preliminary"
        return "amended" if self.note.addenda else "final"

    def _doc_type(self) -> dict[str, Any]:
        code = self.o.document_type
        return {"coding": [{"system": LOINC, "code": code, "display": DOCUMENT_TYPES[code]}],
                "text": DOCUMENT_TYPES[code]}

    def _composition(self, ident: str, observations: list[tuple[str, dict[str, Any]]],
                     addenda: list[tuple[Addendum, datetime]]) -> dict[str, Any]:
        measure_refs = [{"reference": self._urn(i)} for i, _ in observations]
        sections = []
        for sec in self.note.sections:
            entry = measure_refs if sec.key == "rapport" else []
            sections.append(self._section(sec, entry))
        if measure_refs and not any(s.key == "rapport" for s in self.note.sections):
            sections[-1]["entry"] = measure_refs  # a format without a rapport section
            sections[-1].pop("emptyReason", None)
        for n, (a, moment) in enumerate(addenda, start=1):
            sections.append(self._addendum_section(n, a, moment))
        comp: dict[str, Any] = {
            "resourceType": "Composition",
            "id": ident,
            "meta": {"security": [_confidentiality()]},
            "identifier": {"system": "urn:ietf:rfc:3986", "value": self._urn(ident)},
            "status": self._status(),
            "type": self._doc_type(),
            "subject": self.patient_ref,
            "date": self.stamp,
            "author": [self.practitioner_ref],
            "title": _safe(self.note.title),
        }
        if self.r5:
            comp["identifier"] = [comp["identifier"]]
            comp["subject"] = [self.patient_ref]
        else:
            comp["confidentiality"] = "R"
        if self.signed is not None:
            mode: Any = "legal"
            if self.r5:
                mode = {"coding": [{
                    "system": "http://hl7.org/fhir/composition-attestation-mode",
                    "code": "legal", "display": "Legal"}]}
            comp["attester"] = [{"mode": mode, "time": self.signed,
                                 "party": self.practitioner_ref}]
        if self.bounds is not None:
            comp["event"] = [{"period": {"start": self._iso(self.bounds[0]),
                                         "end": self._iso(self.bounds[1])}}]
        comp["section"] = sections
        return comp

    def _section(self, sec: NoteSection, entry: list[dict[str, str]]) -> dict[str, Any]:
        codings = []
        if sec.key in SECTION_LOINC:
            code, display = SECTION_LOINC[sec.key]
            codings.append({"system": LOINC, "code": code, "display": display})
        codings.append({"system": SECTION_SYSTEM, "code": sec.key, "display": _safe(sec.title)})
        out: dict[str, Any] = {"title": _safe(sec.title), "code": {"coding": codings}}
        parts = _statements_html(sec.statements) + [_table_html(t) for t in sec.tables]
        if parts:
            out["text"] = {"status": "generated", "div": _div(parts)}
        if entry:
            out["entry"] = entry
        if not parts and not entry:
            out["emptyReason"] = {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/list-empty-reason",
                "code": "unavailable", "display": "Unavailable"}]}
        return out

    def _addendum_section(self, n: int, a: Addendum, moment: datetime) -> dict[str, Any]:
        who = _esc(a.author) + (f", {_esc(a.credentials)}" if a.credentials else "")
        parts = [f"<p><b>Addendum {n}</b> — {_esc(self._iso(moment))} — {who}</p>",
                 f"<p><b>Reason:</b> {_esc(a.reason)}</p>",
                 *(f"<p>{_esc(line)}</p>" for line in a.text.splitlines() if line.strip()),
                 f"<p>Chained to SHA-256 {_esc(a.prev_sha256)}; this addendum "
                 f"{_esc(a.sha256)}.</p>"]
        return {
            "title": f"Addendum {n}",
            "code": {"coding": [{"system": SECTION_SYSTEM, "code": "addendum",
                                 "display": "Addendum"}]},
            "author": [{"display": _safe(a.author)}],
            "text": {"status": "generated", "div": _div(parts)},
        }

    def _observation(self, m: MeasureFact, index: int) -> tuple[str, dict[str, Any]]:
        ident = self._uuid("Observation", str(index), m.measure)
        codings = []
        if m.measure in MEASURE_LOINC:
            code, display = MEASURE_LOINC[m.measure]
            codings.append({"system": LOINC, "code": code, "display": display})
        codings.append({"system": MEASURE_SYSTEM, "code": m.measure, "display": _safe(m.title)})
        obs: dict[str, Any] = {
            "resourceType": "Observation",
            "id": ident,
            "status": "final",
            "category": [{"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                "code": "survey", "display": "Survey"}]}],
            "code": {"coding": codings, "text": _safe(m.title)},
            "subject": self.patient_ref,
            "performer": [self.practitioner_ref],
            "valueQuantity": _score(m.total),
        }
        if self.bounds is not None:
            obs["effectiveDateTime"] = self._iso(self.bounds[0])
        if m.interpretation != "no_cutoff":
            flagged = m.interpretation == "below_cutoff"
            obs["interpretation"] = [{"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
                "code": "A" if flagged else "N",
                "display": "Abnormal" if flagged else "Normal"}],
                "text": _safe(m.cutoff_meaning or "") if flagged else "not in the flagged "
                "range"}]
            if not obs["interpretation"][0]["text"]:
                del obs["interpretation"][0]["text"]
        if m.cutoff is not None:
            obs["referenceRange"] = [_reference_range(m)]
        components = [{"code": {"coding": [{"system": MEASURE_SYSTEM,
                                            "code": f"{m.measure}.item.{_slug(label)}",
                                            "display": _safe(label)}],
                                "text": _safe(label)},
                       "valueQuantity": _score(value)}
                      for label, value, _max in m.items]
        components += [{"code": {"coding": [{"system": MEASURE_SYSTEM,
                                             "code": f"{m.measure}.subscale.{_slug(name)}",
                                             "display": _safe(name)}],
                                 "text": _safe(name)},
                        "valueQuantity": _score(value)}
                       for name, value in sorted(m.subscales.items())]
        if components:
            obs["component"] = components
        return ident, obs

    def _provenance(self, composition_id: str,
                    observations: list[tuple[str, dict[str, Any]]]) -> tuple[str, dict[str, Any]]:
        ident = self._uuid("Provenance")
        who = self.practitioner_ref
        prov: dict[str, Any] = {
            "resourceType": "Provenance",
            "id": ident,
            "target": [{"reference": self._urn(composition_id)},
                       *({"reference": self._urn(i)} for i, _ in observations)],
            "recorded": self.signed,
            "activity": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/v3-DataOperation",
                "code": "CREATE", "display": "create"}]},
            "agent": [{"type": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                "code": "legal", "display": "Legal Authenticator"}]}, "who": who}],
            "signature": [{
                "type": [{"system": "urn:iso-astm:E1762-95:2013",
                          "code": "1.2.840.10065.1.12.1.1", "display": "Author's Signature"}],
                "when": self.signed, "who": who}],
        }
        if self.bounds is not None:
            prov["occurredPeriod"] = {"start": self._iso(self.bounds[0]),
                                      "end": self._iso(self.bounds[1])}
        return ident, prov

    def _document_reference(self, composition_id: str) -> tuple[str, dict[str, Any]]:
        ident = self._uuid("DocumentReference")
        data = self.rendered
        attachment: dict[str, Any] = {
            "contentType": ATTACHMENT_TYPES[self.o.attachment],
            "data": base64.b64encode(data).decode("ascii"),
            "size": str(len(data)) if self.r5 else len(data),  # R5: integer64, a string
            "hash": base64.b64encode(hashlib.sha1(data).digest()).decode("ascii"),
            "title": _safe(self.note.title),
            "creation": self.stamp,
        }
        if self.o.attachment in ("html", "md", "txt"):
            attachment["language"] = "en"
        status = {"preliminary": "preliminary", "final": "final", "amended": "amended"}[
            self._status()]
        ref: dict[str, Any] = {
            "resourceType": "DocumentReference",
            "id": ident,
            "meta": {"security": [_confidentiality()]},
            "identifier": [{"system": "urn:ietf:rfc:3986", "value": self._urn(ident)}],
            "status": "current",
            "docStatus": status,
            "type": self._doc_type(),
            "category": [{"coding": [{
                "system": "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-"
                          "category", "code": "clinical-note", "display": "Clinical Note"}]}],
            "subject": self.patient_ref,
            "date": self.stamp,
            "author": [self.practitioner_ref],
            "content": [{"attachment": attachment}],
        }
        period = None if self.bounds is None else {"start": self._iso(self.bounds[0]),
                                                   "end": self._iso(self.bounds[1])}
        if self.r5:
            if self.signed is not None:
                ref["attester"] = [{"mode": {"coding": [{
                    "system": "http://hl7.org/fhir/composition-attestation-mode",
                    "code": "legal", "display": "Legal"}]}, "time": self.signed,
                    "party": self.practitioner_ref}]
            if period:
                ref["period"] = period
        else:
            if self.signed is not None:
                ref["authenticator"] = self.practitioner_ref
            ref["content"][0]["format"] = {
                "system": "http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode",
                "code": "urn:ihe:iti:xds:2017:mimeTypeSufficient",
                "display": "mimeType Sufficient"}
            ref["context"] = {"related": [{"reference": self._urn(composition_id)}]}
            if period:
                ref["context"]["period"] = period
        return ident, ref


def _confidentiality() -> dict[str, str]:
    """Psychotherapy documentation is restricted (v3 Confidentiality R)."""
    return {"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality",
            "code": "R", "display": "restricted"}


def _score(value: float) -> dict[str, Any]:
    number: float | int = int(value) if float(value).is_integer() else value
    return {"value": number, "unit": "score", "system": UCUM, "code": "{score}"}


def _reference_range(m: MeasureFact) -> dict[str, Any]:
    """The range that is *not* flagged, with the cutoff as its bound."""
    assert m.cutoff is not None
    direction = m.cutoff_direction or "below"
    words = {"below": "below", "at_or_below": "at or below", "above": "above",
             "at_or_above": "at or above"}[direction]
    meaning = f": {m.cutoff_meaning}" if m.cutoff_meaning else ""
    rng: dict[str, Any] = {"text": _safe(f"cutoff {_fmt(m.cutoff)} (flagged when {words} "
                                         f"{_fmt(m.cutoff)}{meaning})")}
    if direction in ("below", "at_or_below"):
        rng["low"] = _score(m.cutoff)
        rng["high"] = _score(m.total_max)
    else:
        rng["high"] = _score(m.cutoff)
    return rng


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


__all__ = ["DOCUMENT_TYPES", "MEASURE_SYSTEM", "SECTION_LOINC", "SECTION_SYSTEM",
           "FhirExporter"]
