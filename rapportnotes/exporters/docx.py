"""Word (.docx) exporter, built from the Note model (not from rendered text).

Why from the model: real Word structure — Title and Heading styles (navigation pane, EHR
import, screen readers), a header table, bullet styles, a measures table, a signature
block and page numbers — can only come from structure, not from Markdown.

Output is deterministic: core-property dates come from the session, and the zip container
has fixed timestamps and a fixed member order, so the same input gives byte-identical files
(vendors diff and hash outputs).

How it is fast: the package template (python-docx's default document with this exporter's
page setup and style changes applied) is prepared once per process, and the parts no note
changes (styles, settings, numbering, theme, fonts, …) are kept already compressed. Per
note only the body, the footer/header, the core properties and the small relationship and
content-type lists are written, as WordprocessingML strings (every piece of text goes
through :func:`_safe` and :func:`_esc`), and deflated once into a zip written here. The
markup is the same python-docx wrote when it built each document element by element.
"""

from __future__ import annotations

import functools
import io
import os
import re
import struct
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

from ..notes import ChartSeries, Note, NoteSection, Statement, Table

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument

ACCENT = "1F3864"
MUTED = "595959"
ATTENTION = "9C0006"
_FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _safe(text: str) -> str:
    """Drop characters XML 1.0 cannot carry.

    Input models already clean free text; this guards notes assembled by plugins, because
    one stray control character would otherwise make the document unreadable.
    """
    return _XML_ILLEGAL.sub("", text)


_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})


def _esc(text: str) -> str:
    """Escape XML text (the one escape; as lxml does, CR too, so parsers keep it).

    Only fixed names, numbers and template values go into attributes, never note text.
    """
    return text.translate(_ESCAPES)


class DocxExporter:
    """Export a note as an editable Word document."""

    name = "docx"
    extension = ".docx"
    binary = True
    description = "Word document: heading styles, header table, measures table/chart, footer"

    def export(self, note: Note, *,
               template_dirs: Sequence[str | os.PathLike[str]] = ()) -> bytes:
        tpl = _template()
        pkg = _Package(tpl)
        ids = tpl.style_ids
        body = [_para(_plain(note.title), _styled(ids["title"]))]
        _header_table(body, note, ids)
        for section in note.sections:
            _section(body, section, pkg, ids)
        _signature(body, note)
        _addenda(body, note, ids)
        draft = note.status == "draft"
        if draft:
            _appendix(body, note, ids)
        footer_rid = pkg.relate(_REL_FOOTER, "footer1.xml")
        refs = f'<w:footerReference w:type="default" r:id="{footer_rid}"/>'
        members = [_deflate("docProps/core.xml", _core_properties(note))]
        members.append(_deflate("word/footer1.xml", _footer(tpl, note)))
        if draft:
            header_rid = pkg.relate(_REL_HEADER, "header1.xml")
            refs += f'<w:headerReference w:type="default" r:id="{header_rid}"/>'
            members.append(_deflate("word/header1.xml", _draft_header(tpl)))
        body.append(tpl.sect_pr_open + refs + tpl.sect_pr_rest)
        document = tpl.document_open + "".join(body) + tpl.document_close
        members.append(_deflate("word/document.xml", document.encode("utf-8")))
        members.append(_deflate("word/_rels/document.xml.rels", pkg.rels_xml()))
        members.append(_content_types(bool(pkg.images), draft))
        members.extend(_deflate(f"word/media/{name}", png) for name, png in pkg.images)
        return _zip(sorted(members + tpl.static, key=_member_order))


# --- the template, prepared once per process ------------------------------------------------

_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
_REL_IMAGE = _REL + "image"
_REL_FOOTER = _REL + "footer"
_REL_HEADER = _REL + "header"
_CT_WML = "application/vnd.openxmlformats-officedocument.wordprocessingml."
_GENERATED = ("[Content_Types].xml", "docProps/core.xml", "word/document.xml",
              "word/_rels/document.xml.rels")
_XML_DECL = "<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"


class _Member(NamedTuple):
    """One zip member, already deflated."""

    name: str
    crc: int
    size: int
    data: bytes


@dataclass(frozen=True)
class _Template:
    static: list[_Member]
    """Parts no note changes, compressed once."""
    style_ids: dict[str, str]
    document_open: str
    """document.xml up to and including ``<w:body>``."""
    document_close: str
    sect_pr_open: str
    """The section properties' start tag (header/footer references go right after it)."""
    sect_pr_rest: str
    """Page size and margins (from :func:`_page_setup`) to ``</w:sectPr>``."""
    rels_open: str
    """document.xml.rels without its end tag."""
    first_rid: int
    footer_open: str
    header_open: str
    defaults: dict[str, str]
    """Content types by extension, and by part name (overrides)."""
    overrides: dict[str, str]


@functools.cache
def _template() -> _Template:
    """python-docx's default package with :func:`_page_setup` and :func:`_styles` applied,
    split into the compressed parts that never change and the pieces a note is built in."""
    import docx
    from docx import Document
    from lxml import etree

    doc = Document()
    _page_setup(doc)
    _styles(doc)
    style_ids = _style_ids(doc)
    buf = io.BytesIO()
    doc.save(buf)
    with zipfile.ZipFile(buf) as z:
        parts = {name: z.read(name) for name in z.namelist()}

    document = parts["word/document.xml"].decode("utf-8")
    body_at = document.index("<w:body>") + len("<w:body>")
    sect_at = document.index("<w:sectPr")
    close_at = document.index("</w:body>")
    if document[body_at:sect_at].strip():
        raise RuntimeError("python-docx's default template is expected to have an empty body")
    sect_pr = document[sect_at:close_at]
    sect_open_end = sect_pr.index(">") + 1

    rels = parts["word/_rels/document.xml.rels"].decode("utf-8")
    used = [int(n) for n in re.findall(r'Id="rId(\d+)"', rels)]

    types = etree.fromstring(parts["[Content_Types].xml"])
    defaults = {el.get("Extension"): el.get("ContentType") for el in types
                if el.tag.endswith("}Default")}
    overrides = {el.get("PartName"): el.get("ContentType") for el in types
                 if el.tag.endswith("}Override")}
    defaults["png"] = "image/png"

    templates = os.path.join(os.path.dirname(docx.__file__), "templates")
    return _Template(
        static=[_deflate(name, data) for name, data in sorted(parts.items())
                if name not in _GENERATED],
        style_ids=style_ids,
        document_open=document[:body_at], document_close=document[close_at:],
        sect_pr_open=sect_pr[:sect_open_end], sect_pr_rest=sect_pr[sect_open_end:],
        rels_open=rels[:rels.rindex("</Relationships>")],
        first_rid=max(used, default=0) + 1,
        footer_open=_root_open(os.path.join(templates, "default-footer.xml")),
        header_open=_root_open(os.path.join(templates, "default-header.xml")),
        defaults=defaults, overrides=overrides)


def _root_open(path: str) -> str:
    """The XML declaration and the root start tag (with its namespaces) of a template."""
    from lxml import etree

    with open(path, "rb") as fh:
        root = etree.fromstring(fh.read())
    for child in list(root):
        root.remove(child)
    root.text = None
    empty = etree.tostring(root, encoding="unicode")
    return _XML_DECL + empty[:-2] + ">"


def _page_setup(doc: DocxDocument) -> None:
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm

    sec = doc.sections[0]
    sec.orientation = WD_ORIENT.PORTRAIT
    sec.page_width, sec.page_height = Cm(21.59), Cm(27.94)  # US Letter: US clinics print it
    for side in ("left_margin", "right_margin"):
        setattr(sec, side, Cm(2.2))
    sec.top_margin, sec.bottom_margin = Cm(2.0), Cm(2.0)


def _styles(doc: DocxDocument) -> None:
    from docx.shared import Pt, RGBColor

    accent = RGBColor.from_string(ACCENT)
    normal = doc.styles["Normal"]
    normal.font.name = "Calibri"
    normal.font.size = Pt(10.5)
    normal.paragraph_format.space_after = Pt(4)
    title = doc.styles["Title"]
    title.font.size = Pt(18)
    title.font.color.rgb = accent
    h1 = doc.styles["Heading 1"]
    h1.font.size = Pt(13)
    h1.font.color.rgb = accent
    h1.paragraph_format.space_before = Pt(12)
    h1.paragraph_format.space_after = Pt(4)
    h1.paragraph_format.keep_with_next = True
    for name in ("List Bullet", "List Bullet 2"):
        doc.styles[name].paragraph_format.space_after = Pt(2)


def _style_ids(doc: DocxDocument) -> dict[str, str]:
    """Style ids by role, resolved once (python-docx scans styles.xml per name lookup)."""
    return {"title": doc.styles["Title"].style_id,
            "heading": doc.styles["Heading 1"].style_id,
            "bullet": doc.styles["List Bullet"].style_id,
            "subbullet": doc.styles["List Bullet 2"].style_id,
            "table": doc.styles["Table Grid"].style_id}


# --- the package: zip, relationships, content types ------------------------------------------

_DOS_DATE = (_FIXED_ZIP_TIME[0] - 1980) << 9 | _FIXED_ZIP_TIME[1] << 5 | _FIXED_ZIP_TIME[2]
_DOS_TIME = _FIXED_ZIP_TIME[3] << 11 | _FIXED_ZIP_TIME[4] << 5 | _FIXED_ZIP_TIME[5] // 2
_FIRST = ("[Content_Types].xml", "_rels/.rels", "docProps/core.xml", "docProps/app.xml",
          "word/document.xml", "word/_rels/document.xml.rels")


def _member_order(m: _Member) -> tuple[int, str]:
    """Fixed member order: content types and the main parts first, then by name."""
    return (_FIRST.index(m.name) if m.name in _FIRST else len(_FIRST), m.name)


def _deflate(name: str, raw: bytes | str) -> _Member:
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    c = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    return _Member(name, zlib.crc32(raw), len(raw), c.compress(raw) + c.flush())


def _zip(members: Sequence[_Member]) -> bytes:
    """A plain zip (deflate, no data descriptors, no extra fields) with fixed timestamps."""
    out: list[bytes] = []
    central: list[bytes] = []
    offset = 0
    for m in members:
        name = m.name.encode("ascii")
        local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, zipfile.ZIP_DEFLATED,
                            _DOS_TIME, _DOS_DATE, m.crc, len(m.data), m.size, len(name), 0)
        central.append(struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, 3 << 8 | 20, 20, 0, zipfile.ZIP_DEFLATED,
            _DOS_TIME, _DOS_DATE, m.crc, len(m.data), m.size, len(name), 0, 0, 0, 0,
            0o644 << 16, offset) + name)
        out += (local, name, m.data)
        offset += len(local) + len(name) + len(m.data)
    directory = b"".join(central)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members),
                      len(directory), offset, 0)
    return b"".join(out) + directory + end


class _Package:
    """A note's relationships and images (the rest of the package is the template's)."""

    def __init__(self, tpl: _Template) -> None:
        self._tpl = tpl
        self._rels: list[str] = []
        self.images: list[tuple[str, bytes]] = []
        self._image_rids: dict[bytes, str] = {}
        self._shape_id = 0

    def relate(self, rel_type: str, target: str) -> str:
        rid = f"rId{self._tpl.first_rid + len(self._rels)}"
        self._rels.append(f'<Relationship Id="{rid}" Type="{rel_type}" Target="{target}"/>')
        return rid

    def add_image(self, png: bytes) -> tuple[str, int]:
        """The relationship id of ``png`` (one part per distinct image) and a new shape id."""
        rid = self._image_rids.get(png)
        if rid is None:
            name = f"image{len(self.images) + 1}.png"
            self.images.append((name, png))
            rid = self._image_rids[png] = self.relate(_REL_IMAGE, f"media/{name}")
        self._shape_id += 1
        return rid, self._shape_id

    def rels_xml(self) -> str:
        return self._tpl.rels_open + "".join(self._rels) + "</Relationships>"


@functools.cache
def _content_types_xml(images: bool, header: bool) -> str:
    tpl = _template()
    defaults = {ext: ct for ext, ct in tpl.defaults.items() if images or ext != "png"}
    overrides = dict(tpl.overrides)
    overrides["/word/footer1.xml"] = _CT_WML + "footer+xml"
    if header:
        overrides["/word/header1.xml"] = _CT_WML + "header+xml"
    return (_XML_DECL + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types">'
            + "".join(f'<Default Extension="{e}" ContentType="{defaults[e]}"/>'
                      for e in sorted(defaults))
            + "".join(f'<Override PartName="{p}" ContentType="{overrides[p]}"/>'
                      for p in sorted(overrides))
            + "</Types>")


@functools.cache
def _content_types(images: bool, header: bool) -> _Member:
    return _deflate("[Content_Types].xml", _content_types_xml(images, header))


# --- WordprocessingML pieces ------------------------------------------------------------------

_BREAKS = re.compile(r"([\t\r\n])")
_B = "<w:b/>"
_I = "<w:i/>"


def _run(text: str, rpr: str = "") -> str:
    """A run of ``text`` as python-docx writes one: tab -> ``w:tab``, CR/LF -> ``w:br``,
    ``xml:space="preserve"`` where the text has outer whitespace."""
    text = _safe(text)
    if "\t" in text or "\r" in text or "\n" in text:
        content = "".join("<w:tab/>" if piece == "\t" else
                          "<w:br/>" if piece in ("\r", "\n") else _t(piece)
                          for piece in _BREAKS.split(text) if piece)
    else:
        content = _t(text) if text else ""
    if rpr:
        return f"<w:r><w:rPr>{rpr}</w:rPr>{content}</w:r>"
    return f"<w:r>{content}</w:r>" if content else "<w:r/>"


def _plain(text: str) -> str:
    """The run of a paragraph added with its text (none when the text is empty)."""
    return _run(text) if _safe(text) else ""


def _t(text: str) -> str:
    if len(text.strip()) < len(text):
        return f'<w:t xml:space="preserve">{_esc(text)}</w:t>'
    return f"<w:t>{_esc(text)}</w:t>"


def _para(runs: str = "", ppr: str = "") -> str:
    if ppr:
        return f"<w:p><w:pPr>{ppr}</w:pPr>{runs}</w:p>"
    return f"<w:p>{runs}</w:p>" if runs else "<w:p/>"


def _styled(style_id: str) -> str:
    return f'<w:pStyle w:val="{style_id}"/>'


def _twips(cm: float) -> int:
    """Centimetres to twentieths of a point, rounded as python-docx's Cm(...).twips."""
    return round(int(cm * 360000) / 635)


def _pt(points: float) -> int:
    """Points to twips (spacing) — Pt(n).twips."""
    return round(int(points * 12700) / 635)


def _sz(points: float) -> str:
    """Font size element (half-points), as font.size = Pt(points) writes it."""
    return f'<w:sz w:val="{int(int(points * 12700) / 12700 * 2)}"/>'


def _color(hex_rgb: str) -> str:
    return f'<w:color w:val="{hex_rgb}"/>'


_TBL_LOOK = ('<w:tblLook w:firstColumn="1" w:firstRow="1" w:lastColumn="0" w:lastRow="0" '
             'w:noHBand="0" w:noVBand="1" w:val="04A0"/>')


def _tbl_open(style_id: str, widths: Sequence[int], *, left: bool = False) -> str:
    return (f'<w:tbl><w:tblPr><w:tblStyle w:val="{style_id}"/><w:tblW w:type="auto" w:w="0"/>'
            + ('<w:jc w:val="left"/>' if left else "")
            + '<w:tblLayout w:type="fixed"/>' + _TBL_LOOK + "</w:tblPr><w:tblGrid>"
            + "".join(f'<w:gridCol w:w="{w}"/>' for w in widths) + "</w:tblGrid>")


def _cell(width: int, content: str, fill: str | None = None) -> str:
    shd = (f'<w:shd w:val="clear" w:color="auto" w:fill="{fill}"/>' if fill else "")
    return f'<w:tc><w:tcPr><w:tcW w:type="dxa" w:w="{width}"/>{shd}</w:tcPr>{content}</w:tc>'


def _header_table(out: list[str], note: Note, ids: dict[str, str]) -> None:
    label_w, value_w = _twips(3.6), _twips(13.4)
    rows = [_tbl_open(ids["table"], (label_w, value_w), left=True)]
    no_space = '<w:spacing w:after="0"/>'
    for f in note.header:
        rows.append("<w:tr>"
                    + _cell(label_w, _para(_run(f.label, _B), no_space), "F2F2F2")
                    + _cell(value_w, _para(_run(f.value), no_space)) + "</w:tr>")
    rows.append("</w:tbl>")
    out.append("".join(rows))


def _section(out: list[str], section: NoteSection, pkg: _Package,
             ids: dict[str, str]) -> None:
    out.append(_para(_plain(section.title), _styled(ids["heading"])))
    for st in section.statements:
        out.append(_statement(st, ids))
    if section.chart:
        _chart(out, section.chart, pkg)
    for table in section.tables:
        _table(out, table, ids)


def _statement(st: Statement, ids: dict[str, str]) -> str:
    style = ids.get(st.style)  # "paragraph" has no style of its own
    # the record stays black (it is printed and faxed): the lead is bold, nothing coloured
    runs = ""
    if st.lead:
        runs = _run(st.lead + (": " if st.text else ""), _B)
    if st.text:
        runs += _run(st.text)
    return _para(runs, _styled(style) if style else "")


def _table(out: list[str], table: Table, ids: dict[str, str]) -> None:
    small = _sz(9.5)
    if table.caption:
        out.append(_para(_run(table.caption, _B + small),
                         f'<w:keepNext/><w:spacing w:before="{_pt(6)}" w:after="{_pt(2)}"/>'))
    widths = [_twips(w) for w in _column_widths(table)]
    parts = [_tbl_open(ids["table"], widths), "<w:tr>"]
    for name, width in zip(table.columns, widths, strict=True):
        parts.append(_cell(width, _para(_run(name, _B + small)), "D9E2F3"))
    parts.append("</w:tr>")
    for row in table.rows:
        parts.append("<w:tr>")
        for value, width in zip(row, widths, strict=True):
            parts.append(_cell(width, _para(_run(value, small))))
        parts.append("</w:tr>")
    parts.append("</w:tbl>")
    out.append("".join(parts))
    out.append(_para(ppr=f'<w:spacing w:after="{_pt(2)}"/>'))


def _column_widths(table: Table, total_cm: float = 17.0) -> list[float]:
    """Share the text width (cm) by content length (capped), so short columns stay narrow."""
    lengths = []
    for i, name in enumerate(table.columns):
        longest = max([len(name), *(len(row[i]) for row in table.rows)])
        lengths.append(min(max(longest, 10), 60))
    scale = total_cm / sum(lengths)
    return [n * scale for n in lengths]


_EMU_PER_INCH = 914400
_CHART_WIDTH_EMU = 14 * 360000  # 14 cm
_CHART_CAPTION = "Measure totals by session; dotted lines mark each measure's cutoff."


def _png_size(png: bytes) -> tuple[int, int]:
    """Native size in EMU from the PNG header and pHYs chunk (72 dpi without one), as
    python-docx computes it."""
    px_w, px_h = struct.unpack(">II", png[16:24])
    dpi_x = dpi_y = 72
    pos = 8
    while pos + 8 <= len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        if kind == b"pHYs":
            ppu_x, ppu_y, unit = struct.unpack(">IIB", png[pos + 8:pos + 17])
            if unit == 1:
                dpi_x = round(ppu_x * 0.0254) if ppu_x else 72
                dpi_y = round(ppu_y * 0.0254) if ppu_y else 72
            break
        if kind in (b"IDAT", b"IEND"):
            break
        pos += 12 + length
    return int(px_w / dpi_x * _EMU_PER_INCH), int(px_h / dpi_y * _EMU_PER_INCH)


def _chart(out: list[str], series: Sequence[ChartSeries], pkg: _Package) -> None:
    from ..charts import series_chart_png

    png = series_chart_png(series)
    if png is None:  # matplotlib not installed: the trend table carries the same data
        return
    rid, shape_id = pkg.add_image(png)
    native_w, native_h = _png_size(png)
    cx = _CHART_WIDTH_EMU
    cy = round(native_h * (float(cx) / float(native_w)))
    drawing = (
        '<w:r><w:drawing><wp:inline xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/'
        'main" xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture">'
        f'<wp:extent cx="{cx}" cy="{cy}"/><wp:docPr id="{shape_id}" name="Picture {shape_id}"/>'
        '<wp:cNvGraphicFramePr><a:graphicFrameLocks noChangeAspect="1"/></wp:cNvGraphicFramePr>'
        '<a:graphic><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/'
        'picture"><pic:pic><pic:nvPicPr><pic:cNvPr id="0" name="image.png"/><pic:cNvPicPr/>'
        f'</pic:nvPicPr><pic:blipFill><a:blip r:embed="{rid}"/><a:stretch><a:fillRect/>'
        '</a:stretch></pic:blipFill><pic:spPr><a:xfrm><a:off x="0" y="0"/>'
        f'<a:ext cx="{cx}" cy="{cy}"/></a:xfrm><a:prstGeom prst="rect"/></pic:spPr></pic:pic>'
        '</a:graphicData></a:graphic></wp:inline></w:drawing></w:r>')
    out.append(_para(drawing, '<w:keepNext/><w:jc w:val="center"/>'))
    out.append(_para(_run(_CHART_CAPTION, _I + _color(MUTED) + _sz(8.5)),
                     '<w:jc w:val="center"/>'))


def _signature(out: list[str], note: Note) -> None:
    out.append(_para(_run("_" * 48, _color(MUTED)),
                     f'<w:keepNext/><w:spacing w:before="{_pt(24)}"/>'))
    sig = note.signature
    out.append(_para(_run("Clinician signature: ", _B)
                     + _run(sig.clinician + (f", {sig.credentials}" if sig.credentials else "")),
                     "<w:keepNext/>"))
    if note.status == "draft":
        out.append(_para(_run("Not signed — draft, not for the record.", _B)))
    elif sig.signed_at:
        out.append(_para(_run("Electronically signed: ", _B) + _run(sig.signed_at)))
    else:
        out.append(_para(_run("Date signed: ", _B) + _run("____________________")))


def _field(instr: str) -> str:
    return ('<w:r><w:fldChar w:fldCharType="begin"/>'
            f'<w:instrText xml:space="preserve">{instr}</w:instrText>'
            '<w:fldChar w:fldCharType="separate"/><w:t>1</w:t>'
            '<w:fldChar w:fldCharType="end"/></w:r>')


def _footer(tpl: _Template, note: Note) -> str:
    small = _color(MUTED) + _sz(8.5)
    draft = "DRAFT — NOT FOR THE RECORD — " if note.status == "draft" else ""
    lead = f"{draft}Confidential — {note.client_id} — {note.session_date} — Page "
    p = _para(_run(lead, small) + _field("PAGE") + _run(" of ", small) + _field("NUMPAGES"),
              '<w:pStyle w:val="Footer"/><w:jc w:val="center"/>')
    return tpl.footer_open + p + "</w:ftr>"


def _addenda(out: list[str], note: Note, ids: dict[str, str]) -> None:
    """Addenda after the signature, each a dated block with its author and reason."""
    for i, a in enumerate(note.addenda, 1):
        out.append(_para(_plain(f"Addendum {i} — {a.at} — {a.author}"
                                + (f", {a.credentials}" if a.credentials else "")),
                         _styled(ids["heading"])))
        out.append(_para(_run("Reason: ", _B) + _run(a.reason)))
        out.append(_para(_plain(a.text)))


DRAFT_MARK = "DRAFT — NOT FOR THE RECORD"


def _draft_header(tpl: _Template) -> str:
    """The draft mark in the page header, so it is on every printed page."""
    p = _para(_run(DRAFT_MARK + " — pending clinician review",
                   _B + _color(ATTENTION) + _sz(11)),
              '<w:pStyle w:val="Header"/><w:jc w:val="center"/>')
    return tpl.header_open + p + "</w:hdr>"


def _appendix(out: list[str], note: Note, ids: dict[str, str]) -> None:
    """Pending suggestions, prompts and review messages on their own page, after the
    signature block, headed so that nobody can read them as part of the note."""
    out.append(_para(_run("Appendix — not part of the note: pending review"),
                     _styled(ids["heading"]) + "<w:pageBreakBefore/>"))
    out.append(_para(_run(DRAFT_MARK + ". ", _B)
                     + _run("Accept or reject each item with: rapportnotes review; only "
                            "accepted items enter the note.")))
    pending = [s for s in note.suggestions if s.status == "pending"]
    if not pending:
        out.append(_para(_run("No pending suggestions.")))
    bullet, subbullet = _styled(ids["bullet"]), _styled(ids["subbullet"])
    for i, s in enumerate(pending, 1):
        out.append(_para(_run(f"{i}. {s.description}", _B)
                         + _run(f" — {s.actor_role or s.actor}, confidence "
                                f"{s.confidence:.2f} ({s.field}): “{s.sentence}”"), bullet))
        out.append(_para(_run(f"Would enter the note as: {s.statement}", _I), subbullet))
    for title, lines in (("Prompts for your own plan (never added to the plan)",
                          [pr.text for pr in note.prompts]),
                         ("Review messages", list(note.review_messages))):
        if lines:
            out.append(_para(_run(title, _B)))
            for line in lines:
                out.append(_para(_plain(line), bullet))


# --- core properties --------------------------------------------------------------------------

CORE_PROPERTY_CHARS = 255
"""Word and python-docx refuse longer core properties; the body keeps the full text."""


def _prop(text: str) -> str:
    text = _safe(text)
    return text if len(text) <= CORE_PROPERTY_CHARS else text[:CORE_PROPERTY_CHARS - 1] + "…"


_CORE_OPEN = (
    _XML_DECL + '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
    'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:dcterms="http://purl.org/dc/terms/" xmlns:dcmitype="http://purl.org/dc/dcmitype/" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">')


def _core_properties(note: Note) -> str:
    when = datetime.fromisoformat(note.session_date).strftime("%Y-%m-%dT%H:%M:%SZ")
    clinician = _esc(_prop(note.signature.clinician))

    def text(tag: str, value: str) -> str:
        return f"<{tag}>{_esc(_prop(value))}</{tag}>"

    return (_CORE_OPEN
            + text("dc:title", f"{note.title} — {note.client_id} — {note.session_date}")
            + text("dc:subject", "Psychotherapy progress note")
            + f"<dc:creator>{clinician}</dc:creator>"
            + text("cp:keywords",
                   f"progress note; {note.format.upper()}; therapeutic alliance")
            + text("dc:description", f"Generated by {note.generator}")
            + f"<cp:lastModifiedBy>{clinician}</cp:lastModifiedBy>"
            + "<cp:revision>1</cp:revision>"
            + f'<dcterms:created xsi:type="dcterms:W3CDTF">{when}</dcterms:created>'
            + f'<dcterms:modified xsi:type="dcterms:W3CDTF">{when}</dcterms:modified>'
            + text("cp:category", "Clinical documentation")
            + f"<cp:lastPrinted>{when}</cp:lastPrinted>"
            + "</cp:coreProperties>")
