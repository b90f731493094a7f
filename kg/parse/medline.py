"""MEDLINE text (``PMID- `` tagged, ``.nbib`` / "pubmed_result.txt") → Article, streaming.

Lines are read one at a time and only the current record is held, so memory stays flat over a
file of any size. A field is a tag line (a tag of up to four characters padded to four, then
``- ``) plus its continuation lines (indented), joined with single spaces. Records are separated
by blank lines; CRLF endings and a UTF-8 byte order mark are accepted. A record that cannot be
read becomes a :class:`Problem` and the next one is read; input that is not MEDLINE text at all
(no ``PMID`` field in its first record) gives one fatal :class:`Problem`.

A record cut short is never read as complete: NLM ends every record with its ``SO`` (source)
field, so a record without one is reported and skipped, and so is a last record that the file
ends inside of (its last line without a line ending, and not a whole ``SO`` line).

MEDLINE text carries names only: MeSH, qualifier and publication type UIs stay ``None``; a
supplementary concept (``RN`` without a registry number, ``NM``) has its name only. ``TA`` is
NLM's journal abbreviation (``Journal.medline_ta``, XML's ``MedlineTA``). Lines are read bounded:
a record over :data:`kg.parse.limits.MAX_RECORD_BYTES` is reported and skipped, never held.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from kg.models import (
    AbstractSection,
    Affiliation,
    Article,
    Author,
    Chemical,
    CommentCorrection,
    Grant,
    Journal,
    Keyword,
    MeshHeading,
    MeshQualifier,
    Problem,
    PubDate,
    PublicationType,
    Record,
    SupplementaryConcept,
)
from kg.parse.limits import MAX_RECORD_BYTES, mib

_BOM = b"\xef\xbb\xbf"
_CHUNK = 1 << 16
# A tag line: the tag left-justified in four columns, "-" in the fifth, then a space and the value.
_TAG_LINE = re.compile(r"(?=.{4}-)([A-Z][A-Z0-9]{0,3}) *-(?: (.*))?$")
#: The field NLM writes last in every record (the citation: "J Name. 2018 Aug;57(8):927-35.").
_LAST_TAG = "SO"
_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
_PLAIN_DATE = re.compile(r"(\d{4})(?: ([A-Za-z]{3})(?: (\d{1,2}))?)?")
_SEASON_DATE = re.compile(r"(\d{4}) (Spring|Summer|Autumn|Fall|Winter)", re.IGNORECASE)
_YEAR = re.compile(r"\d{4}")
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_ORCID = re.compile(r"(\d{4})-?(\d{4})-?(\d{4})-?(\d{3}[\dXx])")
_ID_KIND = re.compile(r"(.*?)\s*\[([a-z-]+)\]")  # "10.1111/x [doi]"
_ISSN = re.compile(r"(\S+)(?:\s*\(([^)]*)\))?")  # "1467-5463 (Print)"
# "0 (Immunoglobulins)", "Q573I9DVLP (Leucovorin)", "74469-00-4 (…)", "EC 3.4.21.- (Plasmin)"
_REGISTRY = re.compile(r"(EC [0-9n.-]+|[0-9A-Z][0-9A-Z-]*) \((.*)\)")
_CC_PMID = re.compile(r"\.?\s*PMID:\s*(\d+)\s*$")
# A structured-abstract label: ALL-CAPS words (joined by spaces, "/", "&", ", ", "-") and ": ",
# at the start of the abstract or after ". " / "? ".
_ABSTRACT_LABEL = re.compile(
    r"(?:^|(?<=[.?] ))([A-Z][A-Z0-9]+(?:(?: | ?& ?|/|, |-)[A-Z][A-Z0-9]*)*): "
)
# A mixed-case label ("Background: ", "Study design: ", "Materials/Methods: ", "Level of
# Evidence: "): one to five words, the first capitalised. Only read as labels when the abstract
# itself starts with one, as structured abstracts written in mixed case do.
_MIXED_LABEL = re.compile(
    r"(?:^|(?<=[.?] ))([A-Z][a-z]+(?:(?: | ?& ?|/|, |-)[A-Za-z][a-z]*){0,4}): "
)
_SUFFIXES = frozenset({"Jr", "Sr", "2nd", "3rd", "4th", "5th", "II", "III", "IV", "V"})
# Country names NLM writes at the end of a grant ("…/NHGRI NIH HHS/United States").
_GRANT_COUNTRIES = frozenset(
    c.lower()
    for c in (
        "United States",
        "United Kingdom",
        "Canada",
        "International",
        "England",
        "Scotland",
        "Wales",
        "Ireland",
        "Northern Ireland",
        "Australia",
        "New Zealand",
        "Germany",
        "France",
        "Italy",
        "Spain",
        "Portugal",
        "Netherlands",
        "Belgium",
        "Switzerland",
        "Austria",
        "Sweden",
        "Norway",
        "Denmark",
        "Finland",
        "Japan",
        "China",
        "India",
        "Brazil",
        "Israel",
        "Turkey",
        "Korea (South)",
        "Singapore",
    )
)
_GRANT_ACRONYM = re.compile(r"[A-Z]{2}[A-Z_]{0,4}")
# MEDLINE comments/corrections tags → the XML ``CommentsCorrections/@RefType``.
_CC_TYPES = {
    "CON": "CommentOn",
    "CIN": "CommentIn",
    "EIN": "ErratumIn",
    "EFR": "ErratumFor",
    "CRI": "CorrectedandRepublishedIn",
    "CRF": "CorrectedandRepublishedFrom",
    "PRIN": "PartialRetractionIn",
    "PROF": "PartialRetractionOf",
    "RPI": "RepublishedIn",
    "RPF": "RepublishedFrom",
    "RIN": "RetractionIn",
    "ROF": "RetractionOf",
    "RRI": "RetractedandRepublishedIn",
    "RRF": "RetractedandRepublishedFrom",
    "UIN": "UpdateIn",
    "UOF": "UpdateOf",
    "SPIN": "SummaryForPatientsIn",
    "ORI": "OriginalReportIn",
    "ECI": "ExpressionOfConcernIn",
    "ECF": "ExpressionOfConcernFor",
}


@dataclass(slots=True)
class _Field:
    tag: str
    value: str
    line: int
    more: list[str] = field(default_factory=list)  # continuation lines, joined once at the end

    def settle(self) -> None:
        """Join the continuation lines to the value (once: joining each line would be O(n²))."""
        if self.more:
            self.value = " ".join([self.value, *self.more] if self.value else self.more)
            self.more = []


@dataclass(slots=True)
class _Block:
    """The lines of one record as read so far: its fields and the first line that did not fit."""

    number: int  # 1-based position of the record in the file
    first_line: int
    fields: list[_Field] = field(default_factory=list)
    bad_line: int | None = None  # first line that is neither a tag line nor a continuation
    bad_lines: int = 0
    pmid: str | None = None
    last_line: int = 0  # the record's last line so far
    size: int = 0  # bytes of its lines
    too_big: bool = False  # over the limit: its fields are no longer kept


def iter_records(
    fh: BinaryIO, *, source: str, max_record_bytes: int = MAX_RECORD_BYTES
) -> Iterator[Record]:
    """Yield an Article (or a Problem) for each record of the MEDLINE text in ``fh``.

    A record over ``max_record_bytes`` (see :mod:`kg.parse.limits`) is read to its end without
    being kept, and reported.
    """
    block: _Block | None = None
    count = 0
    lineno = 0
    ended = True  # the last line read ended with a line break
    for raw, size in _lines(fh, max_record_bytes):
        lineno += 1
        ended = raw.endswith(b"\n")
        line = _decode(raw)
        if not line.strip():
            if block is not None:
                yield from _finish(block, source, max_record_bytes)
                if block.number == 1 and block.pmid is None:
                    return
                block = None
            continue
        tag_match = _TAG_LINE.match(line)
        if tag_match and tag_match.group(1) == "PMID" and block is not None and block.pmid:
            # A new record that was not preceded by a blank line.
            yield from _finish(block, source, max_record_bytes)
            block = None
        if block is None:
            count += 1
            block = _Block(number=count, first_line=lineno)
        block.last_line = lineno
        block.size += size
        if block.size > max_record_bytes and not block.too_big:
            block.too_big = True
            block.fields = []  # let go of it: the record will be reported, not read
        if tag_match:
            tag, value = tag_match.group(1), (tag_match.group(2) or "").strip()
            if tag == "PMID" and block.pmid is None:
                block.pmid = value
            if not block.too_big:
                block.fields.append(_Field(tag, value, lineno))
        elif line.startswith(" ") and (block.fields or block.too_big):
            if block.fields and not block.too_big:
                block.fields[-1].more.append(line.strip())
        else:
            block.bad_lines += 1
            if block.bad_line is None:
                block.bad_line = lineno
    if block is not None:
        final = block.fields[-1] if block.fields else None
        if final is not None:
            final.settle()
        if not ended and block.pmid and not (
            final is not None and final.tag == _LAST_TAG and final.value.endswith(".")
        ):
            yield Problem(
                source=source,
                where=f"PMID {block.pmid}",
                message=f"the file ends inside this record (line {lineno} is cut short); "
                "record skipped",
            )
            return
        yield from _finish(block, source, max_record_bytes)


def _lines(fh: BinaryIO, limit: int) -> Iterator[tuple[bytes, int]]:
    """Each line of ``fh`` and its length; a line longer than ``limit`` is cut there (its
    record is over the limit anyway) and the rest of it read without being kept."""
    while True:
        raw = fh.readline(limit + 1)
        if not raw:
            return
        size = len(raw)
        if size > limit and not raw.endswith(b"\n"):
            rest = raw
            while rest and not rest.endswith(b"\n"):
                rest = fh.readline(_CHUNK)
                size += len(rest)
            raw = raw[:limit] + (b"\n" if rest.endswith(b"\n") else b"")
        yield raw, size


def _decode(raw: bytes) -> str:
    """One line as text, without BOM or line ending (UTF-8, Latin-1 where that fails)."""
    if raw.startswith(_BOM):
        raw = raw[len(_BOM) :]
    raw = raw.rstrip(b"\r\n")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _finish(block: _Block, source: str, limit: int) -> Iterator[Record]:
    """Turn a finished block into an Article, or a Problem when it cannot be read."""
    if block.too_big:
        name = f"PMID {block.pmid}" if block.pmid else f"record {block.number}"
        yield Problem(
            source=source,
            where=f"{name}, line {block.first_line}",
            message=f"record is over the {mib(limit)} limit of one record "
            f"({mib(block.size)} to line {block.last_line}); skipped",
        )
        return
    for f in block.fields:
        f.settle()
    if block.pmid is None:
        if block.number == 1:
            yield Problem(
                source=source,
                where="record 1",
                message="not MEDLINE text: no 'PMID- ' line in the first record",
                fatal=True,
            )
        else:
            yield Problem(
                source=source,
                where=f"record {block.number}",
                message=f"record without a PMID (starting at line {block.first_line}); skipped",
            )
        return
    if not block.pmid.isdigit():
        yield Problem(
            source=source,
            where=f"record {block.number}",
            message=f"invalid PMID {block.pmid!r}; record skipped",
        )
        return
    if block.bad_line is not None:
        more = f" (and {block.bad_lines - 1} more)" if block.bad_lines > 1 else ""
        yield Problem(
            source=source,
            where=f"PMID {block.pmid}, line {block.bad_line}",
            message=f"line is neither a tag line nor a continuation{more}; record skipped",
        )
        return
    if not any(f.tag == _LAST_TAG for f in block.fields):
        yield Problem(
            source=source,
            where=f"PMID {block.pmid}",
            message=f"record has no {_LAST_TAG} field, which ends every MEDLINE record "
            f"(cut short after line {block.last_line}?); record skipped",
        )
        return
    try:
        yield _article(block.fields, block.pmid, source)
    except (ValueError, IndexError) as exc:  # defensive: a field shape not foreseen
        yield Problem(source=source, where=f"PMID {block.pmid}", message=f"record skipped: {exc}")


# --- the article ----------------------------------------------------------------------------


def _article(fields: list[_Field], pmid: str, source: str) -> Article:
    """Build the Article from a record's fields, in file order."""
    first: dict[str, str] = {}
    many: dict[str, list[str]] = {}
    for f in fields:
        first.setdefault(f.tag, f.value)
        many.setdefault(f.tag, []).append(f.value)

    def one(tag: str) -> str | None:
        return first.get(tag) or None

    ids = _ids(many.get("AID", ()))
    locs = _ids(many.get("LID", ()))
    issn, issn_type = _issn(many.get("IS", ()))
    journal = Journal(
        title=one("JT"),
        issn=issn,
        issn_type=issn_type,
        nlm_id=one("JID"),
        medline_ta=one("TA"),  # NLM's abbreviation; MEDLINE text has no ISO one
    )
    dep = one("DEP")
    return Article(
        pmid=pmid,
        source=source,
        source_format="medline",
        is_book="BTI" in first,
        status=one("STAT"),
        doi=ids.get("doi") or locs.get("doi"),
        pmc=one("PMC"),
        pii=ids.get("pii") or locs.get("pii"),
        title=one("TI") or one("BTI"),
        vernacular_title=one("TT"),
        abstract=_abstract(one("AB")),
        copyright=one("CI"),
        journal=journal if journal != Journal() else None,
        volume=one("VI"),
        issue=one("IP"),
        pages=one("PG"),
        pub_date=_pub_date(one("DP")),
        electronic_date=_compact_date(dep) if dep else None,
        languages=tuple(v for v in many.get("LA", ()) if v),
        authors=_authors(fields),
        publication_types=tuple(PublicationType(name=v) for v in many.get("PT", ()) if v),
        mesh_headings=tuple(_mesh(v) for v in many.get("MH", ()) if v),
        chemicals=tuple(c for v in many.get("RN", ()) if v and (c := _chemical(v)) is not None),
        supplementary_concepts=_concepts(many.get("RN", ()), many.get("NM", ())),
        keywords=_keywords(fields),
        grants=tuple(_grant(v) for v in many.get("GR", ()) if v),
        comments_corrections=tuple(
            _comment(f.tag, f.value) for f in fields if f.tag in _CC_TYPES and f.value
        ),
    )


def _ids(values: Iterable[str]) -> dict[str, str]:
    """``AID``/``LID`` values ("10.1/x [doi]") by kind; the first of each kind wins."""
    ids: dict[str, str] = {}
    for v in values:
        m = _ID_KIND.fullmatch(v)
        if m and m.group(1):
            ids.setdefault(m.group(2), m.group(1))
    return ids


def _issn(values: Iterable[str]) -> tuple[str | None, str | None]:
    """The journal's ISSN and its type: the first Print/Electronic one, else the linking ISSN."""
    linking = None
    for v in values:
        m = _ISSN.fullmatch(v)
        if not m:
            continue
        kind = m.group(2)
        if kind and kind.lower() == "linking":
            linking = linking or m.group(1)
            continue
        return m.group(1), kind
    return linking, None


def _abstract(text: str | None) -> tuple[AbstractSection, ...]:
    """Split a structured abstract at its ALL-CAPS labels (or its mixed-case ones when the
    abstract starts with one, as PubMed XML has them); otherwise one unlabelled section.

    >>> [(s.label, s.text) for s in _abstract("AIMS: To test. RESULTS: It works.")]
    [('AIMS', 'To test.'), ('RESULTS', 'It works.')]
    >>> [(s.label, s.text) for s in _abstract("Background: Mixed. Study design: Trial.")]
    [('Background', 'Mixed.'), ('Study design', 'Trial.')]
    >>> [(s.label, s.text) for s in _abstract("We did it. Results: mixed case in the middle.")]
    [(None, 'We did it. Results: mixed case in the middle.')]
    """
    if not text:
        return ()
    marks = list(_ABSTRACT_LABEL.finditer(text))
    if not marks and _MIXED_LABEL.match(text):
        marks = list(_MIXED_LABEL.finditer(text))
    if not marks:
        return (AbstractSection(text=text),)
    sections = []
    head = text[: marks[0].start()].strip()
    if head:
        sections.append(AbstractSection(text=head))
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        body = text[m.end() : end].strip()
        if body:
            sections.append(AbstractSection(text=body, label=m.group(1)))
    return tuple(sections)


def _pub_date(text: str | None) -> PubDate | None:
    """``DP``: a plain date ("2013 Oct 2"), a season ("2001 Spring") or a range kept as text."""
    if not text:
        return None
    m = _PLAIN_DATE.fullmatch(text)
    if m and (m.group(2) is None or m.group(2).lower() in _MONTHS):
        month = _MONTHS[m.group(2).lower()] if m.group(2) else None
        return PubDate(year=int(m.group(1)), month=month, day=_int(m.group(3)))
    m = _SEASON_DATE.fullmatch(text)
    if m:
        return PubDate(year=int(m.group(1)), season=m.group(2), text=text)
    y = _YEAR.search(text)
    return PubDate(year=int(y.group(0)) if y else None, text=text)


def _compact_date(text: str) -> PubDate | None:
    """``DEP`` ("20181119") as a date, or the text kept as is when it is not one."""
    m = _COMPACT_DATE.fullmatch(text)
    if m:
        month, day = int(m.group(2)), int(m.group(3))
        return PubDate(
            year=int(m.group(1)),
            month=month if 1 <= month <= 12 else None,
            day=day if 1 <= day <= 31 else None,
        )
    y = _YEAR.search(text)
    return PubDate(year=int(y.group(0)) if y else None, text=text)


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


# --- authors --------------------------------------------------------------------------------


@dataclass(slots=True)
class _AuthorDraft:
    full: str | None = None  # FAU
    short: str | None = None  # AU
    collective: str | None = None  # CN
    orcid: str | None = None
    affiliations: list[str] = field(default_factory=list)


def _authors(fields: list[_Field]) -> tuple[Author, ...]:
    """Authors in file order: ``FAU``/``AU`` persons and ``CN`` groups with their ``AUID``/``AD``.

    ``AD`` lines before any author (older records print the affiliation first) go to the first
    author, as PubMed XML has it; ``AD``/``AUID`` of investigators (``IR``/``FIR``) are dropped.
    """
    drafts: list[_AuthorDraft] = []
    current: _AuthorDraft | None = None
    leading: list[str] = []  # AD seen before any author
    for f in fields:
        tag, value = f.tag, f.value
        if tag == "FAU":
            current = _AuthorDraft(full=value)
            drafts.append(current)
        elif tag == "AU":
            if current is not None and current.full is not None and current.short is None:
                current.short = value
            else:
                current = _AuthorDraft(short=value)
                drafts.append(current)
        elif tag == "CN":
            current = _AuthorDraft(collective=value)
            drafts.append(current)
        elif tag in ("IR", "FIR", "IRAD"):
            current = None  # investigators are not authors; what follows is theirs
        elif tag == "AUID" and current is not None:
            if "orcid" in value.lower() and current.orcid is None:
                current.orcid = _orcid(value)
        elif tag == "AD" and value:
            if current is not None:
                current.affiliations.append(value)
            elif not drafts:
                leading.append(value)
    if drafts and leading and not drafts[0].affiliations:
        drafts[0].affiliations.extend(leading)
    authors = (_author(d) for d in drafts)
    return tuple(a for a in authors if a.last_name or a.collective_name)


def _author(d: _AuthorDraft) -> Author:
    """Split ``FAU`` ("Dimar, John R 2nd") and ``AU`` ("Dimar JR 2nd") into name parts."""
    affiliations = tuple(Affiliation(name=a) for a in d.affiliations)
    if d.collective is not None:
        return Author(collective_name=d.collective or None, affiliations=affiliations)
    last = fore = initials = suffix = None
    short = d.short
    if d.full:
        last, _, fore_part = (p.strip() for p in d.full.partition(","))
        fore = fore_part or None
        if fore and " " in fore:
            head, _, tail = fore.rpartition(" ")
            if tail in _SUFFIXES and short and short.endswith(" " + tail):
                fore, suffix = head, tail
                short = short[: -len(tail) - 1]
        if short and last and short.startswith(last + " "):
            initials = short[len(last) + 1 :].strip() or None
        elif short and short != last:
            initials = _initials_of(short)[1]
    elif short:
        tokens = short.split()
        if len(tokens) >= 3 and tokens[-1] in _SUFFIXES:
            suffix = tokens[-1]
            short = " ".join(tokens[:-1])
        last, initials = _initials_of(short)
    return Author(
        last_name=last or None,
        fore_name=fore,
        initials=initials,
        suffix=suffix,
        orcid=d.orcid,
        affiliations=affiliations,
    )


def _initials_of(short: str) -> tuple[str, str | None]:
    """``AU`` "Smith JC" → ("Smith", "JC"); a name without initials stays whole."""
    head, _, tail = short.rpartition(" ")
    if head and tail.isalpha() and tail.isupper():
        return head, tail
    return short, None


def _orcid(value: str) -> str | None:
    """The bare ORCID in ``AUID- ORCID: https://orcid.org/0000-…``."""
    m = _ORCID.search(value)
    if not m:
        return None
    return "-".join((m.group(1), m.group(2), m.group(3), m.group(4).upper()))


# --- subject fields -------------------------------------------------------------------------


def _mesh(value: str) -> MeshHeading:
    """``MH`` "Dermatomyositis/*drug therapy/pathology": ``*`` marks a major topic."""
    descriptor, *qualifiers = value.split("/")
    return MeshHeading(
        descriptor_name=descriptor.lstrip("*").strip(),
        major_topic=descriptor.startswith("*"),
        qualifiers=tuple(
            MeshQualifier(name=q.lstrip("*").strip(), major_topic=q.startswith("*"))
            for q in qualifiers
            if q.strip("* ")
        ),
    )


def _chemical(value: str) -> Chemical | None:
    """``RN`` "0 (Immunoglobulins, Intravenous)" or "EC 3.4.21.- (Plasmin)"; None for a name
    without a registry number, which is a supplementary concept (see :func:`_concepts`)."""
    m = _REGISTRY.fullmatch(value)
    if m:
        return Chemical(name=m.group(2).strip(), registry_number=m.group(1).strip())
    return None


def _concepts(rn: Iterable[str], nm: Iterable[str]) -> tuple[SupplementaryConcept, ...]:
    """Supplementary concepts: ``NM`` lines, and ``RN`` lines that are a name alone.

    PubMed prints a ``SupplMeshName`` (a protocol such as "IFL protocol", a rare disease) as an
    ``RN`` line without a registry number; the XML of the same record says it is no chemical.

    >>> _concepts(["Q573I9DVLP (Leucovorin)", "IFL protocol"], [])
    (SupplementaryConcept(name='IFL protocol', ui=None, kind=None),)
    """
    names = [v for v in rn if v and not _REGISTRY.fullmatch(v)] + [v for v in nm if v]
    return tuple(SupplementaryConcept(name=n) for n in dict.fromkeys(names))


def _keywords(fields: list[_Field]) -> tuple[Keyword, ...]:
    """``OT`` keywords, each owned by the ``OTO`` before it; ``*`` marks a major topic."""
    owner = None
    keywords = []
    for f in fields:
        if f.tag == "OTO":
            owner = f.value or None
        elif f.tag == "OT" and f.value.lstrip("*"):
            keywords.append(
                Keyword(
                    text=f.value.lstrip("*").strip(),
                    major_topic=f.value.startswith("*"),
                    owner=owner,
                )
            )
    return tuple(keywords)


def _grant(value: str) -> Grant:
    """``GR`` "id/acronym/agency/country"; parts may be missing and ids may hold "/".

    >>> _grant("UM1 HG006542/HG/NHGRI NIH HHS/United States")
    Grant(grant_id='UM1 HG006542', acronym='HG', agency='NHGRI NIH HHS', country='United States')
    >>> _grant("MR/L01999X/1/Medical Research Council/United Kingdom").grant_id
    'MR/L01999X/1'
    >>> _grant("Wellcome Trust/United Kingdom").agency
    'Wellcome Trust'
    """
    parts = [p.strip() for p in value.split("/")]
    country = acronym = None
    if len(parts) >= 2 and parts[-1].lower() in _GRANT_COUNTRIES:
        country = parts.pop()
        if len(parts) >= 3 and _GRANT_ACRONYM.fullmatch(parts[-2]):
            acronym = parts.pop(-2)
    agency = parts.pop() or None
    return Grant(grant_id="/".join(parts) or None, acronym=acronym, agency=agency, country=country)


def _comment(tag: str, value: str) -> CommentCorrection:
    """A comments/corrections line: "Chest. 1989 Oct;96(4):955-6. PMID: 2791701"."""
    m = _CC_PMID.search(value)
    pmid = m.group(1) if m else None
    ref_source = value[: m.start()].strip() if m else value
    return CommentCorrection(ref_type=_CC_TYPES[tag], ref_source=ref_source or None, pmid=pmid)
