"""PubMed XML → Article, streaming.

Reads ``PubmedArticleSet`` (efetch, baseline and update files), the legacy
``MedlineCitationSet``, ``DeleteCitation`` and ``PubmedBookArticle``. The parser is lxml's
pull parser with entity expansion, DTD loading and network access off; each record is cleared
once read, so memory stays flat over a file of any size. Several documents concatenated in one
stream (as appended efetch batches give) are read one after the other; where a document breaks
off, the records before the break are kept and a fatal :class:`Problem` names the line, the
column and how many records were kept. A document whose root is not PubMed's (an HTML error
page, an E-utilities error, any other XML) is one fatal Problem naming its root element.
UTF-16 is read as lxml reads it (by its byte order mark or its first bytes).
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
)

_RECORD_TAGS = ("PubmedArticle", "PubmedBookArticle", "MedlineCitation", "DeleteCitation")
#: Root elements of PubMed XML: the sets, and a record alone.
_ROOT_TAGS = frozenset(
    ("PubmedArticleSet", "MedlineCitationSet", "PubmedBookArticleSet", *_RECORD_TAGS)
)
_ROOT_SNIFF = 1 << 20  # bytes of a document read at most to find its root element
_CHUNK = 1 << 16
_XML_DECL = b"<?xml"
_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
_ORCID = re.compile(r"(\d{4}-?\d{4}-?\d{4}-?\d{3}[\dXx])")
_WS = re.compile(r"\s+")
_AT_END = re.compile(r",? line \d+, column \d+$")  # lxml repeats the position in its message


def iter_records(fh: BinaryIO, *, source: str) -> Iterator[Record]:
    """Yield an Article, Deletion or Problem for each record of the PubMed XML in ``fh``."""
    doc = _Document(source, kept=_Kept())
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
            doc = _Document(source, line_offset=doc.lines_seen, kept=doc.kept)
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
    """One XML document of the stream, fed in chunks to lxml's pull parser."""

    def __init__(self, source: str, *, kept: _Kept, line_offset: int = 0) -> None:
        self.source = source
        self.kept = kept
        self.line_offset = line_offset
        self.lines_seen = line_offset
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
        self.parser = etree.XMLPullParser(
            events=("end",),
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
        if self.failed or not data:
            return
        if data.strip():
            self.fed = True
        self.lines_seen += data.count(b"\n")
        if self.sniffer is not None:
            problem = self._sniff(self.sniffer, data)
            if problem is not None:
                yield problem
                return
        try:
            self.parser.feed(data)
        except etree.XMLSyntaxError as exc:
            yield from self._events()
            yield self._fail(exc)
            return
        yield from self._events()

    def close(self) -> Iterator[Record]:
        if self.failed or not self.fed:
            return
        try:
            self.parser.close()
        except etree.XMLSyntaxError as exc:
            yield from self._events()
            yield self._fail(exc)
            return
        yield from self._events()

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
        for _event, elem in self.parser.read_events():
            if not isinstance(elem, etree._Element):
                continue
            tag = elem.tag
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


def _record(elem: etree._Element, source: str) -> Iterator[Record]:
    tag = elem.tag
    if tag == "DeleteCitation":
        for pmid_el in elem.iterfind("PMID"):
            if pmid_el.text and pmid_el.text.strip():
                yield Deletion(pmid=pmid_el.text.strip(), source=source)
        return
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
        m = re.match(r"(\d{4})", medline)
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
    sections = []
    for at in elem.iterfind("AbstractText"):
        text = _text(at)
        if not text:
            continue  # empty <AbstractText/>: nothing to keep
        sections.append(
            AbstractSection(text=text, label=at.get("Label"), nlm_category=at.get("NlmCategory"))
        )
    return tuple(sections), _text(elem.find("CopyrightInformation"))


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
        )
        or (_text(info.find("MedlineTA")) if info is not None else None),
        issn=_text(issn_el) or (_text(info.find("ISSNLinking")) if info is not None else None),
        issn_type=issn_el.get("IssnType") if issn_el is not None else None,
        nlm_id=_text(info.find("NlmUniqueID")) if info is not None else None,
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
        pmc=ids.get("pmc"),
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
        keywords=keywords,
        grants=grants,
        comments_corrections=_comments(mc.find("CommentsCorrectionsList")),
        references=_references(pubmed_data),
    )


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
