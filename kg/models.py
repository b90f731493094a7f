"""Frozen models passed between kg's stages.

Parsers return these; mapping reads them. ``None`` means "the source does not say";
repeated things are tuples (empty when absent), never joined strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class AbstractSection:
    """One section of an abstract: ``label`` as printed, NLM's ``nlm_category``, the text."""

    text: str
    label: str | None = None
    nlm_category: str | None = None


@dataclass(frozen=True, slots=True)
class Journal:
    """A journal as the record names it.

    ``iso_abbreviation`` is the ISO 4 abbreviation ("Restor. Neurol. Neurosci.", XML only);
    ``medline_ta`` NLM's own title abbreviation ("Restor Neurol Neurosci": ``MedlineTA`` in
    XML, ``TA`` in MEDLINE text).
    """

    title: str | None = None
    iso_abbreviation: str | None = None
    issn: str | None = None
    issn_type: str | None = None  # "Print" / "Electronic"
    nlm_id: str | None = None
    medline_ta: str | None = None


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
class SupplementaryConcept:
    """A MeSH supplementary concept the record is indexed with (``SupplMeshName``).

    Drug protocols, rare diseases, organisms: "IFL protocol" (C480833, ``kind`` "Protocol").
    MEDLINE text gives the name only; ``ui`` and ``kind`` are then ``None``.
    """

    name: str
    ui: str | None = None
    kind: str | None = None  # "Protocol", "Disease", "Organism", "Chemical", …


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
    supplementary_concepts: tuple[SupplementaryConcept, ...] = ()
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
    ``where`` names the record (PMID) or position (line/column) in ``source``. ``kept`` marks
    a warning: something of the record was left out (a DOI that is not one), the record itself
    went through.
    """

    source: str
    message: str
    where: str | None = None
    fatal: bool = False  # True when nothing more of this file could be read
    kept: bool = False  # True when the record still went through

    def __str__(self) -> str:
        loc = f"{self.source}: {self.where}" if self.where else self.source
        return f"{loc}: {self.message}"


Record = Article | Deletion | Problem


# --- Evidence: what extraction finds in an abstract (see DESIGN.md, "Evidence") -------------

# The controlled list of study-design terms, in the order they are reported.
DESIGN_TERMS = (
    "randomized",
    "controlled",
    "placebo-controlled",
    "double-blind",
    "single-blind",
    "open-label",
    "crossover",
    "prospective",
    "retrospective",
    "cohort",
    "case-control",
    "cross-sectional",
    "case series",
    "case report",
    "single-centre",
    "multicentre",
    "systematic review",
    "meta-analysis",
    "post-hoc analysis",
    "pilot",
    "phase 1",
    "phase 2",
    "phase 3",
    "phase 4",
)


@dataclass(frozen=True, slots=True)
class Span:
    """A stretch of ``Article.abstract_text``: ``quote == abstract_text[start:end]``."""

    start: int
    end: int
    quote: str
    section: int | None = None  # index into Article.abstract


@dataclass(frozen=True, slots=True)
class Abbreviation:
    """An abbreviation the text defines: "intravenous immunoglobulins (IVIg)"."""

    short: str
    long: str
    span: Span  # the long form and the short form, as written


@dataclass(frozen=True, slots=True)
class DesignFeature:
    """One design term from the controlled list, and what says so."""

    term: str  # "randomized", "retrospective", "single-centre", …
    found_by: str  # "rule:…", "nlm:publication-type", "nlm:mesh"
    span: Span | None = None
    mesh: str | None = None  # the publication type's or MeSH heading's UI it came from


@dataclass(frozen=True, slots=True)
class Condition:
    text: str
    found_by: tuple[str, ...]
    mesh: str | None = None
    span: Span | None = None


@dataclass(frozen=True, slots=True)
class Population:
    conditions: tuple[Condition, ...] = ()
    sample_size: int | None = None
    sample_size_span: Span | None = None
    sample_size_kind: str | None = None  # "randomized", "enrolled" or "analysed" (its clause's cue)
    sex: tuple[str, ...] = ()  # "female", "male" (MeSH check tags)
    age_groups: tuple[str, ...] = ()  # MeSH age check tags, e.g. "Adult", "Aged"
    humans: bool | None = None  # MeSH check tag Humans / Animals
    inclusion: Span | None = None


@dataclass(frozen=True, slots=True)
class Summary:
    """Statistics of a quantity as the text gives them (e.g. the number of courses)."""

    mean: Decimal | None = None
    median: Decimal | None = None
    sd: Decimal | None = None
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    unit: str | None = None
    span: Span | None = None


@dataclass(frozen=True, slots=True)
class Intervention:
    text: str  # the words used, long form when the text defines an abbreviation
    found_by: tuple[str, ...]
    role: str = "intervention"  # or "comparator"
    abbreviation: str | None = None
    mesh: str | None = None
    courses: Summary | None = None
    span: Span | None = None
    harms: bool = False  # NLM indexed its adverse effects (qualifier Q000009)


@dataclass(frozen=True, slots=True)
class Measurement:
    """The numbers stated about one outcome; ``None`` where the text does not say.

    ``denominator_basis`` says where a denominator comes from: "stated" ("12 of 40"),
    "percentage" (the only whole number the printed percentage allows), "partition"
    (the sentence's counts add up to the sample size), "subgroup" ("six of these"),
    "cohort" (a single-arm study's whole sample). ``conflict`` records numbers that
    disagree, as found: they are never "fixed".
    """

    count: int | None = None
    denominator: int | None = None
    denominator_basis: str | None = None
    percentage: Decimal | None = None
    mean: Decimal | None = None
    median: Decimal | None = None
    sd: Decimal | None = None
    iqr: tuple[Decimal, Decimal] | None = None
    range: tuple[Decimal, Decimal] | None = None
    time: Decimal | None = None
    time_unit: str | None = None  # "month", "week", …
    time_statistic: str | None = None  # "median", "mean" or None
    p_value: Decimal | None = None
    p_operator: str | None = None  # "=", "<", ">", "≤", "≥"
    ci_level: Decimal | None = None
    ci: tuple[Decimal, Decimal] | None = None
    effect_measure: str | None = None  # "OR", "RR", "HR"
    effect_value: Decimal | None = None
    grade: int | None = None
    conflict: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    text: str
    kind: str  # "response", "relapse", "adverse event", "mortality", …
    measurement: Measurement
    span: Span
    found_by: tuple[str, ...]
    mesh: str | None = None
    arm: int | None = None  # index into Evidence.interventions


@dataclass(frozen=True, slots=True)
class Finding:
    """A comparison the abstract states: intervention vs comparator on an outcome, its direction.

    ``intervention``/``comparator`` index ``Evidence.interventions`` where kg could tell which
    arms the sentence compares; ``direction`` is "significantly increased", "significantly
    decreased" or "no significant difference" (of the intervention against the comparator), or
    None when the model was not confident; ``probability`` is the model's for that direction.
    """

    span: Span  # the evidence sentence
    found_by: str  # "model:findings-<version>" or "rule:findings-p-value"
    direction: str | None = None
    probability: float | None = None
    intervention: int | None = None
    comparator: int | None = None
    intervention_text: str | None = None  # the words the sentence names the arm with
    comparator_text: str | None = None
    outcome: str | None = None
    outcome_span: Span | None = None
    measurement: Measurement = Measurement()


#: What a tagged mention is of (the PICO element, EBM-NLP's convention: the whole abstract).
MENTION_LABELS = ("participants", "intervention", "outcome")


@dataclass(frozen=True, slots=True)
class Mention:
    """A phrase of the abstract a learned tagger marks as participants, intervention or outcome."""

    label: str  # one of MENTION_LABELS
    span: Span
    found_by: str  # "model:tagger-<version>"


@dataclass(frozen=True, slots=True)
class Evidence:
    """The study one abstract reports."""

    pmid: str
    design: tuple[DesignFeature, ...] = ()
    population: Population = Population()
    interventions: tuple[Intervention, ...] = ()
    outcomes: tuple[Outcome, ...] = ()
    conclusion: tuple[Span, ...] = ()
    abbreviations: tuple[Abbreviation, ...] = ()
    findings: tuple[Finding, ...] = ()
    mentions: tuple[Mention, ...] = ()


__all__ = [
    "DESIGN_TERMS",
    "MENTION_LABELS",
    "Abbreviation",
    "AbstractSection",
    "Affiliation",
    "Article",
    "Author",
    "Chemical",
    "CommentCorrection",
    "Condition",
    "Deletion",
    "DesignFeature",
    "Evidence",
    "Finding",
    "Grant",
    "Intervention",
    "Journal",
    "Keyword",
    "Measurement",
    "Mention",
    "MeshHeading",
    "MeshQualifier",
    "Outcome",
    "Population",
    "Problem",
    "PubDate",
    "PublicationType",
    "Record",
    "Reference",
    "RelatedArticle",
    "Span",
    "Summary",
    "SupplementaryConcept",
]
