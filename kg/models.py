"""Frozen models passed between kg's stages.

Parsers return these; mapping reads them. ``None`` means "the source does not say";
repeated things are tuples (empty when absent), never joined strings.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AbstractSection:
    """One section of an abstract: ``label`` as printed, NLM's ``nlm_category``, the text."""

    text: str
    label: str | None = None
    nlm_category: str | None = None


@dataclass(frozen=True, slots=True)
class Journal:
    title: str | None = None
    iso_abbreviation: str | None = None
    issn: str | None = None
    issn_type: str | None = None  # "Print" / "Electronic"
    nlm_id: str | None = None


@dataclass(frozen=True, slots=True)
class PubDate:
    """A publication date at the precision the source gives.

    ``text`` keeps what the source printed when it is not a plain date
    (a ``MedlineDate`` such as "1998 Dec-1999 Jan", or a ``Season``).
    """

    year: int | None = None
    month: int | None = None
    day: int | None = None
    season: str | None = None
    text: str | None = None


@dataclass(frozen=True, slots=True)
class Affiliation:
    name: str
    identifiers: tuple[str, ...] = ()  # e.g. "https://ror.org/…", GRID or ISNI ids as given


@dataclass(frozen=True, slots=True)
class Author:
    """A person (``last_name`` …) or a group (``collective_name``)."""

    last_name: str | None = None
    fore_name: str | None = None
    initials: str | None = None
    suffix: str | None = None
    collective_name: str | None = None
    orcid: str | None = None  # bare 16-character id, e.g. "0000-0002-1825-0097"
    affiliations: tuple[Affiliation, ...] = ()
    equal_contrib: bool = False

    @property
    def display_name(self) -> str:
        if self.collective_name:
            return self.collective_name
        parts = [p for p in (self.fore_name or self.initials, self.last_name, self.suffix) if p]
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class PublicationType:
    name: str
    ui: str | None = None  # MeSH UI, e.g. D016428 for "Journal Article"


@dataclass(frozen=True, slots=True)
class MeshQualifier:
    name: str
    ui: str | None = None
    major_topic: bool = False


@dataclass(frozen=True, slots=True)
class MeshHeading:
    descriptor_name: str
    descriptor_ui: str | None = None
    major_topic: bool = False
    qualifiers: tuple[MeshQualifier, ...] = ()

    @property
    def is_major(self) -> bool:
        return self.major_topic or any(q.major_topic for q in self.qualifiers)


@dataclass(frozen=True, slots=True)
class Chemical:
    name: str
    ui: str | None = None
    registry_number: str | None = None


@dataclass(frozen=True, slots=True)
class Keyword:
    text: str
    major_topic: bool = False
    owner: str | None = None


@dataclass(frozen=True, slots=True)
class Grant:
    grant_id: str | None = None
    acronym: str | None = None
    agency: str | None = None
    country: str | None = None


@dataclass(frozen=True, slots=True)
class CommentCorrection:
    """A ``CommentsCorrections`` link: ``ref_type`` such as "RetractionIn", "ErratumFor"."""

    ref_type: str
    ref_source: str | None = None
    pmid: str | None = None


@dataclass(frozen=True, slots=True)
class Reference:
    citation: str | None = None
    pmid: str | None = None
    doi: str | None = None
    pmc: str | None = None


@dataclass(frozen=True, slots=True)
class RelatedArticle:
    """An entry of a "Similar articles" or "Cited by" list, as the page states it."""

    pmid: str
    title: str | None = None
    journal: str | None = None
    year: int | None = None
    doi: str | None = None
    citation: str | None = None  # "Clin Exp Dermatol. 2018 Dec;43(8):906-912."
    publication_types: tuple[str, ...] = ()  # "Review", "Clinical Trial", …
    free_pmc: bool = False


@dataclass(frozen=True, slots=True)
class Article:
    """One PubMed record, whatever format it was read from."""

    pmid: str
    version: int = 1
    source: str | None = None  # file name the record came from
    source_format: str | None = None  # "pubmed-xml", "medline", "page-text"
    is_book: bool = False
    status: str | None = None  # MEDLINE citation status
    doi: str | None = None
    pmc: str | None = None
    pii: str | None = None
    title: str | None = None
    vernacular_title: str | None = None
    abstract: tuple[AbstractSection, ...] = ()
    copyright: str | None = None
    journal: Journal | None = None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    pub_date: PubDate | None = None
    electronic_date: PubDate | None = None
    languages: tuple[str, ...] = ()
    authors: tuple[Author, ...] = ()
    publication_types: tuple[PublicationType, ...] = ()
    mesh_headings: tuple[MeshHeading, ...] = ()
    chemicals: tuple[Chemical, ...] = ()
    keywords: tuple[Keyword, ...] = ()
    grants: tuple[Grant, ...] = ()
    comments_corrections: tuple[CommentCorrection, ...] = ()
    references: tuple[Reference, ...] = ()
    similar_articles: tuple[RelatedArticle, ...] = ()
    cited_by: tuple[RelatedArticle, ...] = ()

    @property
    def abstract_text(self) -> str:
        """The abstract as one string: section texts joined by newlines (offsets point here)."""
        return "\n".join(s.text for s in self.abstract)


@dataclass(frozen=True, slots=True)
class Deletion:
    """A ``DeleteCitation`` entry: the article must leave the store."""

    pmid: str
    source: str | None = None


@dataclass(frozen=True, slots=True)
class Problem:
    """A record (or the rest of a file) that could not be read, and why.

    Parsers yield these instead of raising, so the rest of the input still goes through.
    ``where`` names the record (PMID) or position (line/column) in ``source``.
    """

    source: str
    message: str
    where: str | None = None
    fatal: bool = False  # True when nothing more of this file could be read

    def __str__(self) -> str:
        loc = f"{self.source}: {self.where}" if self.where else self.source
        return f"{loc}: {self.message}"


Record = Article | Deletion | Problem

__all__ = [
    "AbstractSection",
    "Affiliation",
    "Article",
    "Author",
    "Chemical",
    "CommentCorrection",
    "Deletion",
    "Grant",
    "Journal",
    "Keyword",
    "MeshHeading",
    "MeshQualifier",
    "Problem",
    "PubDate",
    "PublicationType",
    "Record",
    "Reference",
    "RelatedArticle",
]
