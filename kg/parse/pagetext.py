"""PubMed page text → Article: the text of an abstract page as copied from pubmed.ncbi.nlm.nih.gov.

The page reads: the title; ``- PMID: n``, ``- DOI: x`` (maybe ``- PMCID: PMCn``); the title again;
``Abstract``; one ``Label: text`` line per section (or unlabeled paragraphs); a copyright line;
maybe ``Keywords: a; b``; then headings. Under "Similar articles" and "Cited by" each entry is a
line ``-`` followed by ``Title.Journal. date;vol(issue):pages. doi: X. Journal. year. PMID: n
Type.`` Other headings (MeSH terms, LinkOut…) carry nothing here and are skipped; an unknown
heading ends the list it follows. Several pages concatenated in one file give several records.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum, auto
from typing import BinaryIO

from kg.models import AbstractSection, Article, Keyword, Problem, Record, RelatedArticle

SOURCE_FORMAT = "page-text"
NO_PMID = "no '- PMID:' line: not a PubMed page text"

_SNIFF_BYTES = 4096
_SNIFF_LINES = 40
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_PMID_LINE = re.compile(r"^[-•*]\s*PMID:\s*(\d+)\s*$")
_ID_LINE = re.compile(r"^[-•*]\s*(PMID|DOI|PMCID|PMC|PII|Bookshelf ID)\s*:\s*(\S.*)$", re.I)
_ABSTRACT = re.compile(r"^abstract$", re.I)
_SIMILAR = re.compile(r"^similar articles$", re.I)
_CITED_BY = re.compile(r"^cited by(?:\s+\d[\d,]*\s+articles?)?$", re.I)
_SEE_ALL = re.compile(r"^see all\b", re.I)
_COPYRIGHT = re.compile(r"^(?:©|copyright\s*:?\s*(?:©|\(c\)|\d))", re.I)
_KEYWORDS = re.compile(r"^key\s?words?\s*:\s*(.*)$", re.I)
_LABELED = re.compile(r"^(?P<label>[^\W\d_][^:.;!?]{0,79}?)\s*:\s+(?P<text>\S.*)$")
_PMCID = re.compile(r"^(?:PMC)?(\d+)$", re.I)
# related entries
_ENTRY_PMID = re.compile(r"\bPMID:\s*(\d+)\b")
_ENTRY_YEAR = re.compile(r"(?:^|(?<=[\s.]))(\d{4})\.$")
_TYPE_SPLIT = re.compile(r"\.(?:\s+|$)")
_DOI = re.compile(r"\bdoi:\s*(10\.\S+)", re.I)
_CITATION_END = re.compile(r"\s(?:doi:|Epub\b|eCollection\b|Online ahead of print\b)", re.I)
_FREE_PMC = "free pmc article"
_TITLE_ENDS = ".?!"

# Headings whose content this parser does not read: they only end what came before.
_SKIPPED_HEADINGS = frozenset(
    h.lower()
    for h in (
        "Publication types",
        "MeSH terms",
        "Substances",
        "Supplementary concepts",
        "LinkOut - more resources",
        "Full Text Sources",
        "Other Literature Sources",
        "Medical",
        "Research Materials",
        "Miscellaneous",
        "Molecular Biology Databases",
        "Grants and funding",
        "Figures",
        "References",
        "Related information",
        "Associated data",
        "Conflict of interest statement",
        "Supplementary info",
        "Comment in",
        "Comment on",
        "Erratum in",
        "Erratum for",
        "Update of",
        "Update in",
        "Retraction in",
        "Retraction of",
        "Expression of concern in",
        "Expression of concern for",
        "Republished in",
        "Republished from",
        "Corrected and republished in",
        "Corrected and republished from",
        "Cited in Books",
        "Actions",
        "Share",
        "Page navigation",
        "Full text links",
        "No abstract available",
    )
)


class _State(Enum):
    HEADER = auto()
    ABSTRACT = auto()
    AFTER_ABSTRACT = auto()
    LIST = auto()
    SKIP = auto()


@dataclass
class _Entry:
    """A related-list entry being read: where it started and its text so far."""

    list_name: str
    number: int
    line_no: int
    text: str | None = None


@dataclass
class _Page:
    """What has been read of one page so far."""

    pmid: str
    title: str | None = None
    doi: str | None = None
    pmc: str | None = None
    sections: list[AbstractSection] = field(default_factory=list)
    copyright: str | None = None
    keywords: list[Keyword] = field(default_factory=list)
    similar: list[RelatedArticle] = field(default_factory=list)
    cited_by: list[RelatedArticle] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def looks_like_page_text(head: bytes) -> bool:
    """True when a ``- PMID: n`` line is among the first lines of ``head`` (cheap sniff).

    >>> looks_like_page_text(b"Some title\\n- PMID: 123\\n- DOI: 10.1/x\\n")
    True
    >>> looks_like_page_text(b"PMID- 123\\nOWN - NLM\\n")
    False
    """
    text = head[:_SNIFF_BYTES].decode("utf-8", errors="ignore").removeprefix("\ufeff")
    lines = _LINE_BREAK.split(text, maxsplit=_SNIFF_LINES)[:_SNIFF_LINES]
    return any(_PMID_LINE.match(line.strip()) for line in lines)


def iter_records(fh: BinaryIO, *, source: str) -> Iterator[Record]:
    """Yield an Article (then any Problems of its entries) for each page in ``fh``."""
    data = fh.read()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        text = data.decode("utf-8-sig", errors="replace")
        yield Problem(
            source=source,
            message=f"not valid UTF-8 at byte {exc.start}; undecodable bytes read as U+FFFD",
        )
    lines = [line.strip() for line in _LINE_BREAK.split(text)]
    starts = _page_starts(lines)
    if not starts:
        yield Problem(source=source, message=NO_PMID, fatal=True)
        return
    for i, (start, pmid) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else len(lines)
        page = _read_page(lines, start, end, pmid=pmid, source=source)
        yield _article(page, source)
        yield from page.problems


def _page_starts(lines: list[str]) -> list[tuple[int, str]]:
    """(first line index, PMID) of each page: the title line above each run of ID lines."""
    starts: list[tuple[int, str]] = []
    i = 0
    while i < len(lines):
        if not _ID_LINE.match(lines[i]):
            i += 1
            continue
        run_start = i
        pmid: str | None = None
        while i < len(lines) and (not lines[i] or _ID_LINE.match(lines[i])):
            if (m := _PMID_LINE.match(lines[i])) and pmid is None:
                pmid = m.group(1)
            i += 1
        if pmid is None:
            continue
        if not starts:
            starts.append((0, pmid))
            continue
        # The page's title is the last non-blank line above its ID lines.
        title_at = run_start - 1
        while title_at > starts[-1][0] and not lines[title_at]:
            title_at -= 1
        starts.append((max(title_at, starts[-1][0] + 1), pmid))
    return starts


def _heading(line: str) -> str | None:
    """The kind of a heading this parser knows ("similar", "cited_by", "skip"), else None."""
    if _SIMILAR.match(line):
        return "similar"
    if _CITED_BY.match(line):
        return "cited_by"
    if line.lower() in _SKIPPED_HEADINGS:
        return "skip"
    return None


def _read_page(lines: list[str], start: int, end: int, *, pmid: str, source: str) -> _Page:
    """Read the lines ``start:end`` of one page."""
    page = _Page(pmid=pmid)
    state = _State.HEADER
    list_name = ""
    entry: _Entry | None = None  # an entry whose "-" was seen and whose text is awaited
    count = 0
    keywords_next = False

    def close_entry() -> None:
        nonlocal entry
        if entry is not None:
            _add_entry(page, entry, source)
            entry = None

    for idx in range(start, end):
        line = lines[idx]
        if not line:
            continue
        heading = _heading(line)
        if state is _State.LIST and entry is not None and entry.text is None and heading is None:
            entry.text = line
            close_entry()
            continue
        if heading is not None:
            close_entry()
            keywords_next = False
            if heading == "skip":
                state = _State.SKIP
            else:
                state, list_name, count = _State.LIST, heading, 0
            continue
        if state is _State.HEADER:
            if _ABSTRACT.match(line):
                state = _State.ABSTRACT
            elif m := _ID_LINE.match(line):
                _header_id(page, m.group(1).upper(), m.group(2).strip())
            elif page.title is None:
                page.title = line
        elif state in (_State.ABSTRACT, _State.AFTER_ABSTRACT):
            if _COPYRIGHT.match(line) and page.copyright is None:
                page.copyright = line
                state = _State.AFTER_ABSTRACT
            elif km := _KEYWORDS.match(line):
                _add_keywords(page, km.group(1))
                keywords_next = not km.group(1).strip()
                state = _State.AFTER_ABSTRACT
            elif keywords_next:
                _add_keywords(page, line)
                keywords_next = False
            elif state is _State.ABSTRACT:
                page.sections.append(_section(line))
            else:  # text after the copyright/keywords that no rule reads: an unknown heading
                state = _State.SKIP
        elif state is _State.LIST:
            if line == "-" or line.startswith("- "):
                close_entry()
                count += 1
                name = "Similar articles" if list_name == "similar" else "Cited by"
                entry = _Entry(name, count, idx + 1, line[2:].strip() or None)
                if entry.text is not None:
                    close_entry()
            elif _SEE_ALL.match(line):
                continue
            else:  # an unknown heading ends the list
                close_entry()
                state = _State.SKIP
    close_entry()
    return page


def _header_id(page: _Page, kind: str, value: str) -> None:
    """Record an identifier line of the page head (the first of each kind wins)."""
    if kind == "DOI" and page.doi is None:
        page.doi = value
    elif kind in ("PMCID", "PMC") and page.pmc is None:
        m = _PMCID.match(value)
        page.pmc = f"PMC{m.group(1)}" if m else value


def _section(line: str) -> AbstractSection:
    """One abstract paragraph: ``Label: text`` when it starts with something label-shaped."""
    m = _LABELED.match(line)
    if m:
        label = m.group("label").strip()
        words = label.split()
        letters = [c for c in label if c.isalpha()]
        shouting = bool(letters) and all(c.isupper() for c in letters)
        if label[0].isupper() and len(words) <= (12 if shouting else 6):
            return AbstractSection(text=m.group("text").rstrip(), label=label)
    return AbstractSection(text=line)


def _add_keywords(page: _Page, text: str) -> None:
    """Add the ``;``-separated keywords of ``text`` (a final full stop is not part of them)."""
    text = text.strip()
    if text.endswith("."):
        text = text[:-1]
    page.keywords.extend(Keyword(text=k.strip()) for k in text.split(";") if k.strip())


def _add_entry(page: _Page, entry: _Entry, source: str) -> None:
    """Parse a finished entry into the page's list, or note a Problem for it."""
    where = f"{entry.list_name} entry {entry.number}"
    if entry.text is None:
        page.problems.append(
            Problem(
                source=source,
                where=where,
                message=f"PMID {page.pmid}, line {entry.line_no}: empty entry",
            )
        )
        return
    related = parse_related(entry.text)
    if related is None:
        page.problems.append(
            Problem(
                source=source,
                where=where,
                message=(
                    f"PMID {page.pmid}, line {entry.line_no}: entry has no 'PMID: n' "
                    f"(cut short?): {entry.text[:80]!r}"
                ),
            )
        )
        return
    target = page.similar if entry.list_name == "Similar articles" else page.cited_by
    target.append(related)


def parse_related(text: str) -> RelatedArticle | None:
    """Read one related-list entry line; None when it has no ``PMID: n``.

    The tail ``<Journal>. <year>. PMID: <n> <Type>.…`` is read first; the journal found there
    is then looked for right after the title (``Title.Journal. …``) to split title and citation.

    >>> r = parse_related("Is it?J Foo. 2001;1:2. J Foo. 2001. PMID: 42 Review. Free PMC article.")
    >>> (r.pmid, r.title, r.journal, r.year, r.citation, r.publication_types, r.free_pmc)
    ('42', 'Is it?', 'J Foo', 2001, 'J Foo. 2001;1:2.', ('Review',), True)
    """
    matches = list(_ENTRY_PMID.finditer(text))
    if not matches:
        return None
    m = matches[-1]
    types = tuple(t.strip() for t in _TYPE_SPLIT.split(text[m.end() :].strip()) if t.strip())
    free_pmc = any(t.lower() == _FREE_PMC for t in types)
    types = tuple(t for t in types if t.lower() != _FREE_PMC)

    before = text[: m.start()].rstrip()
    year: int | None = None
    if ym := _ENTRY_YEAR.search(before):
        year = int(ym.group(1))
        before = before[: ym.start()].rstrip()
    title: str | None = None
    journal: str | None = None
    citation: str | None = None
    body = before  # where the doi is looked for
    if before.endswith("."):
        before = before[:-1]
        found = _split_title(before)
        if found is not None:
            title, journal, full_citation = found
            body = full_citation
            cut = _CITATION_END.search(full_citation)
            citation = (full_citation[: cut.start()] if cut else full_citation).strip() or None
        else:
            journal = _last_segment(before)
    doi_m = _DOI.search(body)
    doi = doi_m.group(1).rstrip(".,;") if doi_m else None
    return RelatedArticle(
        pmid=m.group(1),
        title=title or None,
        journal=journal or None,
        year=year,
        doi=doi,
        citation=citation,
        publication_types=types,
        free_pmc=free_pmc,
    )


def _journal_starts(text: str) -> Iterator[int]:
    """Where the repeated journal may start: after a ". " (longest candidate first)."""
    for p in range(1, len(text)):
        if text[p - 1].isspace() and not text[p].isspace() and text[:p].rstrip().endswith("."):
            yield p


def _split_title(text: str) -> tuple[str, str, str] | None:
    """(title, journal, citation) of ``Title.Journal. citation. Journal``, or None."""
    for p in _journal_starts(text):
        journal = text[p:]
        needle = journal + "."
        at = text.rfind(needle, 0, p)
        while at > 0:
            prev = text[:at].rstrip()
            if prev and prev[-1] in _TITLE_ENDS and at - len(prev) <= 1:
                title = prev[:-1] if prev.endswith(".") else prev
                return title.strip(), journal, text[at:p].strip()
            at = text.rfind(needle, 0, at)
    return None


def _last_segment(text: str) -> str | None:
    """The text after the last ". " (the journal when the title cannot be split off)."""
    starts = list(_journal_starts(text))
    return text[starts[-1] :].strip() if starts else None


def _article(page: _Page, source: str) -> Article:
    return Article(
        pmid=page.pmid,
        source=source,
        source_format=SOURCE_FORMAT,
        title=page.title,
        doi=page.doi,
        pmc=page.pmc,
        abstract=tuple(page.sections),
        copyright=page.copyright,
        keywords=tuple(page.keywords),
        similar_articles=tuple(page.similar),
        cited_by=tuple(page.cited_by),
    )
