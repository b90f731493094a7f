"""HTTP content negotiation: pick the offered media type an ``Accept`` header prefers.

Pure functions, shared by the web app and the query workers (which negotiate once they know
whether a query gave solutions, a boolean or triples).

>>> choose("text/html,application/xml;q=0.9,*/*;q=0.8", ["text/turtle", "text/html"])
'text/html'
>>> choose("application/ld+json;q=0.5, text/turtle", ["application/ld+json", "text/turtle"])
'text/turtle'
>>> choose("image/png", ["text/turtle"]) is None
True
>>> choose(None, ["text/turtle", "text/html"])
'text/turtle'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pyoxigraph import QueryResultsFormat, RdfFormat

from kg.formats import FORMATS

HTML = "text/html"
JSON = "application/json"
TEXT = "text/plain"


@dataclass(frozen=True, slots=True)
class MediaRange:
    type: str
    subtype: str
    q: float

    def matches(self, media_type: str) -> int:
        """How specifically this range matches ``media_type``: 2 exact, 1 ``type/*``, 0 ``*/*``,
        -1 not at all."""
        t, _, s = media_type.partition("/")
        if self.type == "*":
            return 0
        if self.type != t:
            return -1
        if self.subtype == "*":
            return 1
        return 2 if self.subtype == s else -1


def parse_accept(header: str | None) -> list[MediaRange]:
    """The media ranges of an ``Accept`` header (parameters other than ``q`` ignored)."""
    ranges: list[MediaRange] = []
    for part in (header or "").split(","):
        fields = [f.strip() for f in part.split(";")]
        kind = fields[0].lower()
        if "/" not in kind:
            if kind == "*":  # some clients send a bare "*"
                kind = "*/*"
            else:
                continue
        q = 1.0
        for param in fields[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        t, _, s = kind.partition("/")
        ranges.append(MediaRange(t, s, q))
    return ranges


def choose(header: str | None, offers: Sequence[str]) -> str | None:
    """The offer the client prefers (ties go to the earlier offer), or None if none is acceptable.

    No ``Accept`` header (or an empty one) accepts anything: the first offer wins.
    """
    ranges = parse_accept(header)
    if not ranges:
        return offers[0] if offers else None
    best: tuple[float, int] | None = None
    chosen: str | None = None
    for index, offer in enumerate(offers):
        specificity, q = -1, 0.0
        for r in ranges:
            m = r.matches(offer)
            if m > specificity:
                specificity, q = m, r.q
        if specificity < 0 or q <= 0:
            continue
        key = (q, -index)
        if best is None or key > best:
            best, chosen = key, offer
    return chosen


# --- what kg offers ----------------------------------------------------------------------------

#: RDF media types a resource or a graph query result can be written in, best first.
RDF_OFFERS: dict[str, RdfFormat] = {
    FORMATS["ttl"].media_type: FORMATS["ttl"].rdf_format,
    FORMATS["nt"].media_type: FORMATS["nt"].rdf_format,
    FORMATS["jsonld"].media_type: FORMATS["jsonld"].rdf_format,
    "application/rdf+xml": RdfFormat.RDF_XML,  # what SPARQLWrapper asks for by default
    "application/turtle": FORMATS["ttl"].rdf_format,  # an old alias some clients still send
    "application/x-turtle": FORMATS["ttl"].rdf_format,
}

#: SPARQL results media types for SELECT and ASK, best first.
RESULTS_OFFERS: dict[str, QueryResultsFormat] = {
    "application/sparql-results+json": QueryResultsFormat.JSON,
    "application/json": QueryResultsFormat.JSON,
    "application/sparql-results+xml": QueryResultsFormat.XML,
    "application/xml": QueryResultsFormat.XML,
    "text/csv": QueryResultsFormat.CSV,
    "text/tab-separated-values": QueryResultsFormat.TSV,
}

#: Suffixes of the linked-data front (``/pubmed/23906502.ttl``) → media type.
SUFFIXES: dict[str, str] = {
    ".ttl": FORMATS["ttl"].media_type,
    ".nt": FORMATS["nt"].media_type,
    ".jsonld": FORMATS["jsonld"].media_type,
    ".html": HTML,
}

#: ``format=`` request parameter values (as SPARQLWrapper and many endpoints send them) →
#: the Accept header they stand for; the value overrides the client's Accept header.
FORMAT_PARAMETER: dict[str, str] = {
    "json": "application/sparql-results+json, application/ld+json",
    "xml": "application/sparql-results+xml, application/rdf+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "html": HTML,
    "turtle": "text/turtle",
    "ttl": "text/turtle",
    "nt": "application/n-triples",
    "ntriples": "application/n-triples",
    "json-ld": "application/ld+json",
    "jsonld": "application/ld+json",
    "rdf": "application/rdf+xml",
    "rdfxml": "application/rdf+xml",
}


def with_charset(media_type: str) -> str:
    """``text/*`` and JSON media types carry ``charset=utf-8``."""
    if media_type.startswith("text/") or media_type.endswith("json"):
        return f"{media_type}; charset=utf-8"
    return media_type
