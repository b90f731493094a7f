"""PubMed XML → Article, streaming.

Reads ``PubmedArticleSet`` (efetch, baseline and update files), the legacy
``MedlineCitationSet``, ``DeleteCitation`` and ``PubmedBookArticle``. The parser is lxml's
pull parser with entity expansion, DTD loading and network access off; each record is cleared
once read, so memory stays flat over a file of any size. Several documents concatenated in one
stream (as appended efetch batches give) are read one after the other; where a document breaks
off, the records before the break are kept and a fatal :class:`Problem` names the line, the
column and how many records were kept. A document whose root is not PubMed's (an HTML error
page, an E-utilities error, any other XML) is one fatal Problem naming its root element.
UTF-16 is read as lxml reads it (by its byte order mark or its first bytes). A record over
:data:`kg.parse.limits.MAX_RECORD_BYTES` is one Problem and is not held (see :class:`_Document`).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import BinaryIO

from lxml import etree

from kg.errors import one_line
from kg.models import (
    AbstractSection,
    Affiliation,
    Article,
    Author,
    Chemical,
    CommentCorrection,
    Deletion,
    Grant,
    Journal,
    Keyword,
    MeshHeading,
    MeshQualifier,
    Problem,
    PubDate,
    PublicationType,
    Record,
    Reference,
    SupplementaryConcept,
)
from kg.parse.limits import MAX_RECORD_BYTES, mib

_RECORD_TAGS = ("PubmedArticle", "PubmedBookArticle", "MedlineCitation", "DeleteCitation")
#: Root elements of PubMed XML: the sets, and a record alone.
_ROOT_TAGS = frozenset(
    ("PubmedArticleSet", "MedlineCitationSet", "PubmedBookArticleSet", *_RECORD_TAGS)
)
_ROOT_SNIFF = 1 << 20  # bytes of a document read at most to find its root element
_CHUNK = 1 << 16
_XML_DECL = b"<?xml"
_TAIL = 32  # bytes kept from the previous chunk: more than the longest closing tag
_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
_ORCID = re.compile(r"(\d{4}-?\d{4}-?\d{4}-?\d{3}[\dXx])")
_WS = re.compile(r"\s+")
_AT_END = re.compile(r",? line \d+, column \d+$")  # lxml repeats the position in its message
_YEAR = re.compile(r"\b(\d{4})\b")
# A legacy record's PMC id: <OtherID Source="NLM">PMC4691190 [Available on 03/03/16]</OtherID>
_PMC_OTHER_ID = re.compile(r"(PMC\d+)\b")
_MATHML = "{http://www.w3.org/1998/Math/MathML}"


def iter_records(
    fh: BinaryIO, *, source: str, max_record_bytes: int = MAX_RECORD_BYTES
) -> Iterator[Record]:
    """Yield an Article, Deletion or Problem for each record of the PubMed XML in ``fh``.

    A record over ``max_record_bytes`` (see :mod:`kg.parse.limits`) is one Problem, not held.
    """
    doc = _Document(source, kept=_Kept(), limit=max_record_bytes)
    pending = b""  # read but not yet fed
    offset = 0  # position of ``pending`` in the stream
    while True:
        chunk = fh.read(_CHUNK)
        data = pending + chunk
        search_from = 0
        while (pos := data.find(_XML_DECL, search_from)) >= 0:
            if offset + pos <= 3:  # the declaration at the very start (maybe after a BOM)
                search_from = pos + 1
                continue
            # A new "<?xml" after the start begins a concatenated document.
            yield from doc.feed(data[:pos])
            yield from doc.close()
            if doc.failed:
                return
            doc = _Document(
                source, line_offset=doc.lines_seen, kept=doc.kept, limit=max_record_bytes
            )
            data, offset, search_from = data[pos:], offset + pos, 1
        if not chunk:
            yield from doc.feed(data)
            yield from doc.close()
            return
        # Hold back a few bytes so a declaration split across chunks is still found.
        keep = max(0, len(data) - len(_XML_DECL) + 1)
        yield from doc.feed(data[:keep])
        if doc.failed:
            return
        pending, offset = data[keep:], offset + keep


class _Kept:
    """Records read so far from a stream (over all its documents), for the break message."""

    def __init__(self) -> None:
        self.articles = 0
        self.deletions = 0

    def __str__(self) -> str:
        out = f"the {self.articles} articles before it were kept"
        if self.deletions:
            out += f" (and {self.deletions} deletions)"
        return out


class _Document:
    """One XML document of the stream, fed in chunks to lxml's pull parser.

    A record's size is watched between feeds: once more than ``limit`` bytes have been fed since
    it started, the parser (and the part of the record it holds) is dropped, the input is read
    forward to the record's closing tag without being kept, and a new parser takes up the
    records after it. UTF-16 input cannot be searched for the tag as bytes: there the rest of
    the file is given up.
    """

    def __init__(
        self, source: str, *, kept: _Kept, line_offset: int = 0, limit: int = MAX_RECORD_BYTES
    ) -> None:
        self.source = source
        self.kept = kept
        self.line_offset = line_offset
        self.lines_seen = line_offset
        self.limit = max(limit, 2 * _CHUNK)  # sizes are measured a chunk at a time
        self.failed = False
        self.fed = False
        # A second parser that only reports the first start tag: the root, checked before any
        # record is read (the main parser reports records, and would build an unknown root's
        # whole tree). Dropped once the root is known.
        self.sniffer: etree.XMLPullParser | None = etree.XMLPullParser(
            events=("start",), resolve_entities=False, no_network=True, load_dtd=False,
            dtd_validation=False, huge_tree=True,
        )
        self.sniffed = 0
        self.root: str | None = None
        self.decl = b""  # the XML declaration, given again to a parser that takes over
        self.wide = False  # UTF-16: no closing tag can be searched for as bytes
        self.parser = self._new_parser()
        self.fed_bytes = 0  # bytes given to the parsers of this document
        self.chunk_start = 0  # ``fed_bytes`` before the chunk being read
        self.record: etree._Element | None = None  # the record being read
        self.record_at = 0  # ``chunk_start`` of the chunk it started in
        self.records = 0  # records started, for naming one without a PMID
        self.quiet_since = 0  # ``fed_bytes`` when the last record ended
        self.tail = b""  # the last bytes fed or skipped: a closing tag may straddle two chunks
        self.skip_tag: bytes | None = None  # the closing tag of a record too big, looked for
        self.skip_where = ""
        self.drained = False  # the document was one record, skipped: nothing more to read

    @staticmethod
    def _new_parser() -> etree.XMLPullParser:
        return etree.XMLPullParser(
            events=("start", "end"),
            tag=_RECORD_TAGS,
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=True,
            remove_comments=True,
            remove_pis=True,
        )

    def feed(self, data: bytes) -> Iterator[Record]:
        if self.failed or self.drained or not data:
            return
        if data.strip():
            self.fed = True
        if self.skip_tag is not None:
            yield from self._skip(data)
            return
        if not self.fed_bytes:
            self._declaration(data)
        self.lines_seen += data.count(b"\n")
        if self.sniffer is not None:
            problem = self._sniff(self.sniffer, data)
            if problem is not None:
                yield problem
                return
        self.chunk_start = self.fed_bytes
        self.fed_bytes += len(data)
        try:
            self.parser.feed(data)
        except etree.XMLSyntaxError as exc:
            yield from self._events()
            yield self._fail(exc)
            return
        yield from self._events()
        yield from self._watch(data)
        self.tail = (self.tail + data)[-_TAIL:]

    def close(self) -> Iterator[Record]:
        if self.failed or self.drained or not self.fed:
            return
        if self.skip_tag is not None:
            self.failed = True
            yield Problem(
                source=self.source,
                where=self.skip_where,
                message=f"record is over the {mib(self.limit)} limit of one record and the "
                f"file ends inside it; record skipped; {self.kept}",
                fatal=True,
            )
            return
        try:
            self.parser.close()
        except etree.XMLSyntaxError as exc:
            yield from self._events()
            yield self._fail(exc)
            return
        yield from self._events()

    def _declaration(self, data: bytes) -> None:
        """Note the XML declaration and whether the text is UTF-16 (first bytes of the document)."""
        self.wide = data.startswith((b"\xff\xfe", b"\xfe\xff", b"<\x00", b"\x00<"))
        head = data.removeprefix(b"\xef\xbb\xbf")
        end = head.find(b"?>", 0, 512) if head.startswith(_XML_DECL) else -1
        if end > 0:
            self.decl = head[: end + 2].replace(b"\r", b" ").replace(b"\n", b" ")

    def _watch(self, data: bytes) -> Iterator[Record]:
        """After a chunk: skip the record being read once it is over the limit."""
        if self.failed:
            return
        if self.record is None:
            if self.fed_bytes - self.quiet_since > self.limit:
                self.failed = True
                yield Problem(
                    source=self.source,
                    where=f"line {self.lines_seen}",
                    message=f"more than {mib(self.limit)} outside any record; the rest of "
                    f"the file is not read; {self.kept}",
                    fatal=True,
                )
            return
        if self.fed_bytes - self.record_at <= self.limit:
            return
        record, self.record = self.record, None
        where = _record_name(record, self.records)
        tag = str(record.tag)
        del record
        self.parser = self._new_parser()  # lets go of what the old one held
        if self.wide:
            self.failed = True
            yield Problem(
                source=self.source,
                where=where,
                message=f"record is over the {mib(self.limit)} limit of one record; the rest "
                f"of the file (UTF-16) is not read; {self.kept}",
                fatal=True,
            )
            return
        self.skip_tag = f"</{tag}>".encode()
        self.skip_where = where
        # Its closing tag may be in this very chunk, fed but not parsed yet: look from the start
        # of it (the record began more than a chunk ago, so no other record's tag is there).
        self.lines_seen -= data.count(b"\n")
        yield from self._skip(data, before=self.tail)

    def _skip(self, data: bytes, *, before: bytes | None = None) -> Iterator[Record]:
        """Read forward to the closing tag of the record being skipped, keeping nothing."""
        tag = self.skip_tag
        if tag is None:
            return
        carry = self.tail if before is None else before
        buf = carry + data
        pos = buf.find(tag)
        if pos < 0:
            self.lines_seen += data.count(b"\n")
            self.tail = buf[-_TAIL:]
            return
        cut = max(0, pos + len(tag) - len(carry))  # where the rest starts in data
        self.lines_seen += data[:cut].count(b"\n")
        self.skip_tag = None
        yield Problem(
            source=self.source,
            where=self.skip_where,
            message=f"record is over the {mib(self.limit)} limit of one record; skipped",
        )
        if self.root is None or self.root in _RECORD_TAGS:
            self.drained = True  # the document was this one record
            return
        # A new parser takes up the records after it, inside the same root element.
        self.line_offset = self.lines_seen
        self.parser = self._new_parser()
        self.parser.feed(self.decl + f"<{self.root}>".encode())
        self.quiet_since = self.fed_bytes
        self.tail = b""
        yield from self.feed(data[cut:])

    def _sniff(self, sniffer: etree.XMLPullParser, data: bytes) -> Problem | None:
        """A fatal Problem when the root element is not PubMed's; None while it is not known."""
        root: str | None = None
        with contextlib.suppress(etree.XMLSyntaxError):  # the main parser reports it
            sniffer.feed(data)
        for _event, elem in sniffer.read_events():
            root = etree.QName(elem).localname if isinstance(elem, etree._Element) else None
            break
        self.sniffed += len(data)
        if root is None and self.sniffed < _ROOT_SNIFF:
            return None
        self.sniffer = None
        if root is None or root in _ROOT_TAGS:
            self.root = root
            return None  # no element yet in a megabyte: left to the main parser
        self.failed = True
        what = (
            "an HTML page (an error page?), not PubMed XML"
            if root.lower() == "html"
            else f"not PubMed XML: the root element is <{one_line(root)[:80]}>, not "
            "<PubmedArticleSet>"
        )
        return Problem(source=self.source, message=what, fatal=True)

    def _fail(self, exc: etree.XMLSyntaxError) -> Problem:
        self.failed = True
        line, col = exc.position if exc.position else (0, 0)
        msg = one_line(_AT_END.sub("", exc.msg or str(exc)))
        return Problem(
            source=self.source,
            where=f"line {self.line_offset + line}, column {col}",
            message=f"XML breaks off here ({msg}); {self.kept}",
            fatal=True,
        )

    def _events(self) -> Iterator[Record]:
        for event, elem in self.parser.read_events():
            if not isinstance(elem, etree._Element):
                continue
            if event == "start":
                if self.record is None:
                    self.record, self.record_at = elem, self.chunk_start
                    self.records += 1
                continue
            tag = elem.tag
            if elem is self.record:
                self.record = None
                self.quiet_since = self.fed_bytes
            if tag == "MedlineCitation":
                parent = elem.getparent()
                if parent is not None and parent.tag != "MedlineCitationSet":
                    continue  # part of a PubmedArticle, read with it
            for record in _record(elem, self.source):
                if isinstance(record, Article):
                    self.kept.articles += 1
                elif isinstance(record, Deletion):
                    self.kept.deletions += 1
                yield record
            # Free what has been read: the element and the siblings before it.
            elem.clear()
            parent = elem.getparent()
            if parent is not None:
                while elem.getprevious() is not None:
                    del parent[0]


def _record_name(elem: etree._Element, number: int) -> str:
    """How a message names a record: its PMID when read already, else its number."""
    pmid = elem.findtext("PMID") or elem.findtext("MedlineCitation/PMID") or elem.findtext(
        "BookDocument/PMID"
    )
    pmid = (pmid or "").strip()
    return f"PMID {pmid}" if pmid.isdigit() else f"record {number} (<{elem.tag}>)"


def _record(elem: etree._Element, source: str) -> Iterator[Record]:
    tag = elem.tag
    if tag == "DeleteCitation":
        for pmid_el in elem.iterfind("PMID"):
            if pmid_el.text and pmid_el.text.strip():
                yield Deletion(pmid=pmid_el.text.strip(), source=source)
        return
    _tidy_mathml(elem)
    pmid = _text(elem.find(".//PMID"))
    if not pmid or not pmid.isdigit():
        yield Problem(source=source, where=f"record {tag}", message=f"no valid PMID ({pmid!r})")
        return
    try:
        if tag == "PubmedBookArticle":
            yield _book(elem, source)
        else:
            citation = elem if tag == "MedlineCitation" else elem.find("MedlineCitation")
            if citation is None:
                raise ValueError("PubmedArticle without MedlineCitation")
            yield _article(citation, elem.find("PubmedData"), source)
    except (ValueError, TypeError, AttributeError) as exc:
        yield Problem(source=source, where=f"PMID {pmid}", message=f"record skipped: {exc}")


# --- text helpers -------------------------------------------------------------------------


def _text(elem: etree._Element | None) -> str | None:
    """All text inside ``elem`` (inline markup and MathML flattened), whitespace collapsed."""
    if elem is None:
        return None
    text = _WS.sub(" ", "".join(str(t) for t in elem.itertext())).strip()
    return text or None


def _tidy_mathml(record: etree._Element) -> None:
    """Read MathML as the formula's own characters: its TeX/other annotations go, and so does the
    layout whitespace between its elements ("V.O2max", not "V . O 2 m a x" nor "≤ $\\le$")."""
    for math in record.iter(f"{_MATHML}math"):
        for ann in list(math.iter(f"{_MATHML}annotation", f"{_MATHML}annotation-xml")):
            parent = ann.getparent()
            if parent is None:
                continue
            tail = ann.tail if ann.tail and not ann.tail.isspace() else None
            prev = ann.getprevious()
            if tail and prev is not None:
                prev.tail = (prev.tail or "") + tail
            elif tail:
                parent.text = (parent.text or "") + tail
            parent.remove(ann)
        for el in math.iter():
            if el.text is not None and el.text.isspace():
                el.text = " " if el.tag == f"{_MATHML}mtext" else None  # a space written as text
            if el is not math and el.tail is not None and el.tail.isspace():
                el.tail = None


def _yes(value: str | None) -> bool:
    return value == "Y"


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    value = value.strip()
    return int(value) if value.isdigit() else None


def _month(value: str | None) -> int | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        m = int(value)
        return m if 1 <= m <= 12 else None
    return _MONTHS.get(value[:3].lower())


def _date(elem: etree._Element | None) -> PubDate | None:
    if elem is None:
        return None
    medline = _text(elem.find("MedlineDate"))
    if medline:
        m = _YEAR.search(medline)  # "1998 Dec-1999 Jan", and "Winter 2016" too
        return PubDate(year=int(m.group(1)) if m else None, text=medline)
    season = _text(elem.find("Season"))
    date = PubDate(
        year=_int(_text(elem.find("Year"))),
        month=None if season else _month(_text(elem.find("Month"))),
        day=None if season else _int(_text(elem.find("Day"))),
        season=season,
        text=f"{_text(elem.find('Year')) or ''} {season}".strip() if season else None,
    )
    return date if date.year is not None or date.text else None


# --- parts shared by articles and books ----------------------------------------------------


def _abstract(elem: etree._Element | None) -> tuple[tuple[AbstractSection, ...], str | None]:
    if elem is None:
        return (), None
    sections: list[AbstractSection] = []
    for at in elem.iterfind("AbstractText"):
        if at.get("Label") is None and (bold := _bold_sections(at)):
            sections.extend(bold)
            continue
        text = _text(at)
        if not text:
            continue  # empty <AbstractText/>: nothing to keep
        sections.append(
            AbstractSection(text=text, label=at.get("Label"), nlm_category=at.get("NlmCategory"))
        )
    return tuple(sections), _text(elem.find("CopyrightInformation"))


def _bold_sections(at: etree._Element) -> list[AbstractSection]:
    """An unlabelled ``AbstractText`` that starts with a bold label ("<b>Objective:</b> To …
    <b>Method:</b> …") split at its bold labels, as MEDLINE text of the same record is; empty
    when it does not start so."""
    if (at.text or "").strip() or not len(at) or not _bold_label(at[0], ""):
        return []
    parts: list[tuple[str, list[str]]] = []
    for child in at:
        tail = child.tail or ""
        label = _bold_label(child, "".join(parts[-1][1]) if parts else "")
        if label is not None:
            parts.append((label, [tail.lstrip().removeprefix(":")]))
        else:
            parts[-1][1].extend(("".join(str(t) for t in child.itertext()), tail))
    out = []
    for label, texts in parts:
        text = _WS.sub(" ", "".join(texts)).strip()
        if text:
            out.append(AbstractSection(text=text, label=label))
    return out


def _bold_label(child: etree._Element, before: str) -> str | None:
    """The label a ``<b>`` child is ("Background/Objectives:" → "Background/Objectives") when
    it starts the text or a sentence and is a few words; else None."""
    if child.tag != "b" or (before.strip() and not before.rstrip().endswith((".", "?", "!"))):
        return None
    label = _WS.sub(" ", "".join(str(t) for t in child.itertext())).strip().rstrip(":：").strip()
    return label if label and len(label) <= 60 and len(label.split()) <= 6 else None


def _authors(elem: etree._Element | None) -> tuple[Author, ...]:
    if elem is None:
        return ()
    authors = []
    for a in elem.iterfind("Author"):
        if a.get("ValidYN") == "N":
            continue
        orcid = None
        for ident in a.iterfind("Identifier"):
            if (ident.get("Source") or "").upper() == "ORCID":
                m = _ORCID.search(ident.text or "")
                if m:
                    raw = m.group(1).replace("-", "").upper()
                    orcid = "-".join(raw[i : i + 4] for i in range(0, 16, 4))
        affiliations = []
        for info in a.iterfind("AffiliationInfo"):
            name = _text(info.find("Affiliation"))
            if name:
                ids = tuple(
                    t for t in (_text(i) for i in info.iterfind("Identifier")) if t is not None
                )
                affiliations.append(Affiliation(name=name, identifiers=ids))
        author = Author(
            last_name=_text(a.find("LastName")),
            fore_name=_text(a.find("ForeName")),
            initials=_text(a.find("Initials")),
            suffix=_text(a.find("Suffix")),
            collective_name=_text(a.find("CollectiveName")),
            orcid=orcid,
            affiliations=tuple(affiliations),
            equal_contrib=_yes(a.get("EqualContrib")),
        )
        if author.last_name or author.collective_name:
            authors.append(author)
    return tuple(authors)


def _publication_types(elem: etree._Element | None) -> tuple[PublicationType, ...]:
    if elem is None:
        return ()
    return tuple(
        PublicationType(name=name, ui=pt.get("UI"))
        for pt in elem.iterfind("PublicationType")
        if (name := _text(pt))
    )


def _ids(elem: etree._Element | None) -> dict[str, str]:
    ids: dict[str, str] = {}
    if elem is None:
        return ids
    for aid in elem.iterfind("ArticleId"):
        kind, value = aid.get("IdType"), _text(aid)
        if kind and value and kind not in ids:
            ids[kind] = value
    return ids


def _comments(elem: etree._Element | None) -> tuple[CommentCorrection, ...]:
    if elem is None:
        return ()
    return tuple(
        CommentCorrection(
            ref_type=cc.get("RefType") or "Unknown",
            ref_source=_text(cc.find("RefSource")),
            pmid=_text(cc.find("PMID")),
        )
        for cc in elem.iterfind("CommentsCorrections")
    )


def _references(pubmed_data: etree._Element | None) -> tuple[Reference, ...]:
    if pubmed_data is None:
        return ()
    refs = []
    for ref in pubmed_data.iterfind("ReferenceList/Reference"):
        ids = _ids(ref.find("ArticleIdList"))
        refs.append(
            Reference(
                citation=_text(ref.find("Citation")),
                pmid=ids.get("pubmed"),
                doi=ids.get("doi"),
                pmc=ids.get("pmc"),
            )
        )
    return tuple(refs)


def _languages(elem: etree._Element) -> tuple[str, ...]:
    return tuple(t for t in (_text(x) for x in elem.iterfind("Language")) if t)


# --- journal articles ----------------------------------------------------------------------


def _article(mc: etree._Element, pubmed_data: etree._Element | None, source: str) -> Article:
    pmid_el = mc.find("PMID")
    art = mc.find("Article")
    if art is None:
        raise ValueError("MedlineCitation without Article")
    journal_el = art.find("Journal")
    issue_el = journal_el.find("JournalIssue") if journal_el is not None else None
    info = mc.find("MedlineJournalInfo")
    issn_el = journal_el.find("ISSN") if journal_el is not None else None
    journal = Journal(
        title=_text(journal_el.find("Title")) if journal_el is not None else None,
        iso_abbreviation=(
            _text(journal_el.find("ISOAbbreviation")) if journal_el is not None else None
        ),
        issn=_text(issn_el) or (_text(info.find("ISSNLinking")) if info is not None else None),
        issn_type=issn_el.get("IssnType") if issn_el is not None else None,
        nlm_id=_text(info.find("NlmUniqueID")) if info is not None else None,
        medline_ta=_text(info.find("MedlineTA")) if info is not None else None,
    )
    ids = _ids(pubmed_data.find("ArticleIdList")) if pubmed_data is not None else {}
    doi = ids.get("doi")
    pii = ids.get("pii")
    for loc in art.iterfind("ELocationID"):
        if loc.get("EIdType") == "doi" and not doi:
            doi = _text(loc)
        elif loc.get("EIdType") == "pii" and not pii:
            pii = _text(loc)
    sections, copyright_ = _abstract(art.find("Abstract"))
    electronic = None
    for ad in art.iterfind("ArticleDate"):
        if (ad.get("DateType") or "Electronic") == "Electronic":
            electronic = _date(ad)
            break
    mesh = tuple(
        MeshHeading(
            descriptor_name=_text(d) or "",
            descriptor_ui=d.get("UI"),
            major_topic=_yes(d.get("MajorTopicYN")),
            qualifiers=tuple(
                MeshQualifier(
                    name=_text(q) or "", ui=q.get("UI"), major_topic=_yes(q.get("MajorTopicYN"))
                )
                for q in mh.iterfind("QualifierName")
            ),
        )
        for mh in mc.iterfind("MeshHeadingList/MeshHeading")
        if (d := mh.find("DescriptorName")) is not None
    )
    chemicals = tuple(_chemical(c) for c in mc.iterfind("ChemicalList/Chemical"))
    concepts = tuple(
        SupplementaryConcept(name=name, ui=s.get("UI"), kind=s.get("Type"))
        for s in mc.iterfind("SupplMeshList/SupplMeshName")
        if (name := _text(s))
    )
    keywords = tuple(
        Keyword(text=t, major_topic=_yes(k.get("MajorTopicYN")), owner=kl.get("Owner"))
        for kl in mc.iterfind("KeywordList")
        for k in kl.iterfind("Keyword")
        if (t := _text(k))
    )
    grants = tuple(
        Grant(
            grant_id=_text(g.find("GrantID")),
            acronym=_text(g.find("Acronym")),
            agency=_text(g.find("Agency")),
            country=_text(g.find("Country")),
        )
        for g in art.iterfind("GrantList/Grant")
    )
    return Article(
        pmid=_text(pmid_el) or "",
        version=(_int(pmid_el.get("Version")) or 1) if pmid_el is not None else 1,
        source=source,
        source_format="pubmed-xml",
        status=mc.get("Status"),
        doi=doi,
        pmc=ids.get("pmc") or _other_pmc(mc),
        pii=pii,
        title=_text(art.find("ArticleTitle")),
        vernacular_title=_text(art.find("VernacularTitle")),
        abstract=sections,
        copyright=copyright_,
        journal=journal,
        volume=_text(issue_el.find("Volume")) if issue_el is not None else None,
        issue=_text(issue_el.find("Issue")) if issue_el is not None else None,
        pages=_text(art.find("Pagination/MedlinePgn")) or _pages(art.find("Pagination")),
        pub_date=_date(issue_el.find("PubDate")) if issue_el is not None else None,
        electronic_date=electronic,
        languages=_languages(art),
        authors=_authors(art.find("AuthorList")),
        publication_types=_publication_types(art.find("PublicationTypeList")),
        mesh_headings=mesh,
        chemicals=chemicals,
        supplementary_concepts=concepts,
        keywords=keywords,
        grants=grants,
        comments_corrections=_comments(mc.find("CommentsCorrectionsList")),
        references=_references(pubmed_data),
    )


def _other_pmc(mc: etree._Element) -> str | None:
    """The PMC id a legacy ``MedlineCitation`` (no ``PubmedData``) files under ``OtherID``."""
    for other in mc.iterfind("OtherID"):
        if (other.get("Source") or "NLM") == "NLM":
            m = _PMC_OTHER_ID.match((other.text or "").strip())
            if m:
                return m.group(1)
    return None


def _chemical(elem: etree._Element) -> Chemical:
    name = elem.find("NameOfSubstance")
    return Chemical(
        name=_text(name) or "",
        ui=name.get("UI") if name is not None else None,
        registry_number=_text(elem.find("RegistryNumber")),
    )


def _pages(elem: etree._Element | None) -> str | None:
    if elem is None:
        return None
    start, end = _text(elem.find("StartPage")), _text(elem.find("EndPage"))
    if start and end:
        return f"{start}-{end}"
    return start


# --- books (Bookshelf) ---------------------------------------------------------------------


def _book(elem: etree._Element, source: str) -> Article:
    doc = elem.find("BookDocument")
    if doc is None:
        raise ValueError("PubmedBookArticle without BookDocument")
    pmid_el = doc.find("PMID")
    book = doc.find("Book")
    data = elem.find("PubmedBookData")
    ids = _ids(data.find("ArticleIdList")) if data is not None else {}
    ids.update({k: v for k, v in _ids(doc.find("ArticleIdList")).items() if k not in ids})
    sections, copyright_ = _abstract(doc.find("Abstract"))
    title = _text(doc.find("ArticleTitle")) or (
        _text(book.find("BookTitle")) if book is not None else None
    )
    authors = _authors(doc.find("AuthorList")) or (
        _authors(book.find("AuthorList")) if book is not None else ()
    )
    return Article(
        pmid=_text(pmid_el) or "",
        version=(_int(pmid_el.get("Version")) or 1) if pmid_el is not None else 1,
        source=source,
        source_format="pubmed-xml",
        is_book=True,
        doi=ids.get("doi"),
        pmc=ids.get("pmc"),
        title=title,
        abstract=sections,
        copyright=copyright_,
        pub_date=_date(book.find("PubDate")) if book is not None else None,
        languages=_languages(doc),
        authors=authors,
        publication_types=_publication_types(doc),
        keywords=tuple(
            Keyword(text=t, major_topic=_yes(k.get("MajorTopicYN")), owner=kl.get("Owner"))
            for kl in doc.iterfind("KeywordList")
            for k in kl.iterfind("Keyword")
            if (t := _text(k))
        ),
    )
