"""What the linked-data front shows, read from the store: resource descriptions (triples) and
the data of the HTML pages. Values from requests reach the store only as terms — pattern
arguments or SPARQL substitutions — never as query text.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar, cast

from pyoxigraph import Literal, NamedNode, Quad, Triple

from kg.mesh import MeshTable
from kg.query import values_block
from kg.rdf.iris import Iris, is_mesh_ui
from kg.rdf.namespaces import (
    CITO,
    DCTERMS,
    FABIO,
    FOAF,
    KG,
    OA,
    PREFIXES,
    PRISM,
    RDF,
    RDFS,
    SCHEMA,
    VOID,
    XSD,
)
from kg.report import NotInStore, evidence_json
from kg.store import KgStore
from kg.web.highlight import Section, Span, sections
from kg.web.plots import Proportion, bars_svg, plottable, proportions_svg
from kg.web.runner import Answer, Task, Term

T = TypeVar("T")
MESH_BROWSER = "https://meshb.nlm.nih.gov/record/ui?ui="
MESH_NS = PREFIXES["mesh"]
SD = "http://www.w3.org/ns/sparql-service-description#"

#: The class of an evidence node → the name its spans are highlighted under.
SPAN_KINDS: dict[str, str] = {
    KG.Outcome.value: "outcome",
    KG.Condition.value: "condition",
    KG.Intervention.value: "intervention",
    KG.DesignFeature.value: "design",
    KG.Population.value: "population",
    KG.Summary.value: "courses",
    KG.InclusionCriteria.value: "inclusion",
    KG.AbbreviationDefinition.value: "abbreviation",
}


_KIND_ORDER = [*SPAN_KINDS.values(), "conclusion", "evidence"]


def text(term: object) -> str:
    """The lexical value of a term (an IRI's IRI, a literal's text); ``""`` for None."""
    if term is None:
        return ""
    value = getattr(term, "value", None)
    return value if isinstance(value, str) else str(term)


def curie(iri: str) -> str:
    """``http://purl.org/dc/terms/title`` → ``dcterms:title`` (the IRI when no prefix fits)."""
    best = ""
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and len(iri) > len(ns) and len(ns) > len(PREFIXES.get(best, "")):
            best = prefix
    return f"{best}:{iri[len(PREFIXES[best]) :]}" if best else iri


def web_href(iri: str) -> str:
    """``iri`` as a link's target when it is a web address (http, https), else ``""``: an IRI
    from the data such as ``javascript:…`` or ``data:…`` is shown as text, never as a link.

    >>> web_href("https://pubmed.ncbi.nlm.nih.gov/23906502/"), web_href("javascript:alert(1)")
    ('https://pubmed.ncbi.nlm.nih.gov/23906502/', '')
    """
    scheme, sep, _ = iri.partition(":")
    return iri if sep and scheme.lower() in ("http", "https") else ""


def mesh_ui(iri: str) -> str | None:
    """The UI of a MeSH IRI (``…/mesh/D003882`` → ``D003882``), else None."""
    ui = iri.removeprefix(MESH_NS)
    return ui if ui != iri and is_mesh_ui(ui) else None


def number(value: Any) -> str:
    """A number as printed: 70, 52.6, 0.04 (no float noise, no trailing zeros)."""
    if isinstance(value, float):
        return format(Decimal(str(value)).normalize(), "f")
    return str(value)


def result_text(outcome: dict[str, Any]) -> str:
    """An outcome's numbers the way a reader expects them: ``19/27 (70%)``."""
    count, den, pct = outcome.get("count"), outcome.get("denominator"), outcome.get("percentage")
    text = "" if count is None else number(count)
    if den is not None:
        text = f"{text}/{number(den)}" if text else f"?/{number(den)}"
    if pct is not None:
        text = f"{text} ({number(pct)}%)" if text else f"{number(pct)}%"
    return text


def details_text(outcome: dict[str, Any]) -> str:
    """Grade, time, mean/median, p-value, CI and effect of an outcome, as one line."""
    parts: list[str] = []
    if outcome.get("grade") is not None:
        parts.append(f"grade {outcome['grade']}")
    for key, value in outcome.items():
        if key.endswith("time") and isinstance(value, dict):
            stat = key.removesuffix("_time").removesuffix("time") or ""
            parts.append(
                f"{stat + ' ' if stat else ''}time {number(value['value'])} {value['unit']}"
            )
    for key in ("mean", "sd", "median"):
        if outcome.get(key) is not None:
            parts.append(f"{key} {number(outcome[key])}")
    if outcome.get("p_value"):
        p = outcome["p_value"]
        parts.append(f"p {p['operator']} {number(p['value'])}")
    if outcome.get("ci"):
        ci = outcome["ci"]
        parts.append(f"{number(ci['level'])}% CI {number(ci['lower'])}–{number(ci['upper'])}")
    if outcome.get("effect"):
        eff = outcome["effect"]
        parts.append(f"{eff['measure']} {number(eff['value'])}")
    if outcome.get("conflict"):
        parts.append(f"conflict: {outcome['conflict']}")
    return "; ".join(parts)


class GraphIndex:
    """One named graph read once into memory: subject → predicate → objects (in order)."""

    def __init__(self, quads: Iterable[Quad]) -> None:
        self._by_subject: dict[str, dict[str, list[Any]]] = {}
        self._by_predicate: dict[str, list[tuple[Any, Any]]] = defaultdict(list)
        for q in quads:
            objects = self._by_subject.setdefault(text(q.subject), {}).setdefault(
                q.predicate.value, []
            )
            if q.object not in objects:
                objects.append(q.object)
                self._by_predicate[q.predicate.value].append((q.subject, q.object))

    def props(self, node: object) -> dict[str, list[Any]]:
        return self._by_subject.get(text(node), {})

    def pairs(self, predicate: NamedNode) -> list[tuple[Any, Any]]:
        """(subject, object) of every triple with ``predicate``."""
        return self._by_predicate.get(predicate.value, [])


class _Cache:
    """A small thread-safe LRU cache. The store is one version, opened read-only, that does not
    change under it (a build makes a new version, and the app a new Site and cache for it), so
    what was read from it stays true."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, make: Callable[[], T]) -> T:
        if self.size <= 0:
            return make()
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return cast(T, self._items[key])
        value = make()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value


@dataclass(frozen=True, slots=True)
class Link:
    """Something a page links to: its text, and where (a local path, else the IRI itself)."""

    text: str
    href: str
    local: bool = False
    extra: str = ""


#: The properties whose value names a resource on a page, in the order they are looked for.
_LABELS = (RDFS.label, DCTERMS.title, FOAF.name, SCHEMA.name, OA.exact)
#: Longest label a page shows whole.
LABEL_MAX = 120


def _shortened(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= LABEL_MAX else text[: LABEL_MAX - 1].rstrip() + "…"


class Site:
    """Reads a store for the linked-data front of one base IRI."""

    def __init__(self, store: KgStore, iris: Iris, *, cache_size: int = 256) -> None:
        self.kg = store
        self.store = store.store
        self.iris = iris
        self._cache = _Cache(cache_size)

    def _cached(self, key: Hashable, make: Callable[[], T]) -> T:
        return self._cache.get(key, make)

    # --- IRIs ↔ paths --------------------------------------------------------------------

    def iri_for_path(self, raw_path: str) -> NamedNode | None:
        """``/pubmed/23906502`` → ``<base>pubmed/23906502`` (None if not a valid IRI)."""
        try:
            return NamedNode(self.iris.base + raw_path.lstrip("/"))
        except ValueError:
            return None

    def local(self, iri: str) -> str | None:
        """The server path of an IRI minted under the base, else None."""
        if iri.startswith(self.iris.base) and len(iri) > len(self.iris.base):
            return "/" + iri[len(self.iris.base) :]
        return None

    def link(self, term: object, *, label: str | None = None) -> Link:
        """A link to an RDF term: local for minted IRIs, MeSH pages for MeSH IRIs."""
        if isinstance(term, NamedNode):
            iri = term.value
            here = self.local(iri)
            if here is not None:
                return Link(label or curie(iri), here, local=True)
            ui = mesh_ui(iri)
            if ui is not None:
                return Link(label or f"mesh:{ui}", f"/mesh/{ui}", local=True)
            return Link(label or curie(iri), web_href(iri))
        if isinstance(term, Literal):
            dt = term.datatype.value
            suffix = "" if dt == XSD.string.value or term.language else f" ({curie(dt)})"
            if term.language:
                suffix = f" @{term.language}"
            return Link(term.value, "", extra=suffix)
        return Link(str(term), "")

    def label_of(self, term: object) -> str | None:
        """What a page shows for an IRI instead of the IRI: its label, title or name as the
        store has it (a MeSH term's from the shipped MeSH table when the store has none),
        or a span's quote, shortened past :data:`LABEL_MAX` characters; a minted IRI without
        one shows its path here; None for other terms and other unlabelled IRIs."""
        if not isinstance(term, NamedNode):
            return None
        for prop in _LABELS:
            for q in self.store.quads_for_pattern(term, prop, None, None):
                if isinstance(q.object, Literal) and q.object.value.strip():
                    return _shortened(q.object.value)
        ui = mesh_ui(term.value)
        if ui is not None:
            return self.mesh_label(ui)
        return self.local(term.value)  # a minted IRI without a name: its path here

    def mesh_label(self, ui: str) -> str | None:
        """A MeSH term's label as the store has it, else from the MeSH table shipped with kg."""
        for q in self.store.quads_for_pattern(NamedNode(MESH_NS + ui), RDFS.label, None, None):
            if isinstance(q.object, Literal):
                return q.object.value
        return MeshTable.default().label(ui)

    # --- descriptions ----------------------------------------------------------------------

    def _triples(self, quads: Any) -> list[Triple]:
        return sorted({q.triple for q in quads}, key=str)

    def graph_of(self, iri: NamedNode) -> NamedNode | None:
        """The article graph an IRI under ``<base>pubmed/{pmid}`` belongs to, if in the store."""
        rest = iri.value.removeprefix(self.iris.base + "pubmed/")
        if rest == iri.value:
            return None
        pmid = rest.split("/", 1)[0]
        graph = self.iris.graph(pmid)
        return graph if self.store.contains_named_graph(graph) else None

    def describe(self, iri: NamedNode) -> list[Triple]:
        """The triples with ``iri`` as subject (in every graph); for an article with a graph of
        its own, that whole graph too; for a named graph's IRI, its triples. An IRI the store
        only mentions as an object is described by the triples that point at it."""
        return self._cached(("describe", iri.value), lambda: self._describe(iri))

    def _describe(self, iri: NamedNode) -> list[Triple]:
        found: set[Triple] = {q.triple for q in self.store.quads_for_pattern(iri, None, None, None)}
        if self.store.contains_named_graph(iri):
            found.update(q.triple for q in self.store.quads_for_pattern(None, None, None, iri))
        pmid = self.iris.pmid_of(iri)
        if pmid is not None and self.store.contains_named_graph(self.iris.graph(pmid)):
            graph = self.iris.graph(pmid)
            found.update(q.triple for q in self.store.quads_for_pattern(None, None, None, graph))
        if not found:
            found = {q.triple for q in self.store.quads_for_pattern(None, None, iri, None)}
        return sorted(found, key=str)

    def _props(self, node: NamedNode, graph: NamedNode | None = None) -> dict[str, list[Any]]:
        props: dict[str, list[Any]] = defaultdict(list)
        for q in self.store.quads_for_pattern(node, None, None, graph):
            if q.object not in props[q.predicate.value]:
                props[q.predicate.value].append(q.object)
        return props

    @staticmethod
    def _first(props: dict[str, list[Any]], prop: NamedNode) -> str | None:
        values = props.get(prop.value)
        return values[0].value if values else None

    def types(self, iri: NamedNode) -> set[str]:
        return {text(q.object) for q in self.store.quads_for_pattern(iri, RDF.type, None, None)}

    def resource(self, iri: NamedNode, *, extra: list[Triple] | None = None) -> dict[str, Any]:
        """The generic page of any resource: its properties (and ``extra`` triples about it)
        and what points at it."""
        mine = set(self.describe_subject(iri)) | {t for t in extra or [] if t.subject == iri}
        out = [
            (self.link(t.predicate), self.link(t.object, label=self.label_of(t.object)))
            for t in sorted(mine, key=str)
        ]
        incoming: list[tuple[Link, Link]] = []
        for q in self.store.quads_for_pattern(None, None, iri, None):
            pair = (self.link(q.subject, label=self.label_of(q.subject)), self.link(q.predicate))
            if pair not in incoming:
                incoming.append(pair)
            if len(incoming) >= 500:
                break
        props = self._props(iri)
        pmid = self.iris.pmid_of(iri)
        label = (
            self._first(props, RDFS.label)
            or self._first(props, DCTERMS.title)
            or self._first(props, FOAF.name)
            or curie(iri.value)
        )
        return {
            "iri": iri.value,
            "label": label,
            "types": [self.link(t) for t in props.get(RDF.type.value, [])],
            "properties": out,
            "incoming": sorted(incoming, key=lambda p: (p[1].text, p[0].text)),
            "pubmed": self.iris.pubmed(pmid).value if pmid else None,
        }

    def describe_subject(self, iri: NamedNode) -> list[Triple]:
        return self._triples(self.store.quads_for_pattern(iri, None, None, None))

    # --- the article page ------------------------------------------------------------------

    def has_article(self, pmid: str) -> bool:
        return self.store.contains_named_graph(self.iris.graph(pmid))

    def article(self, pmid: str) -> dict[str, Any]:
        """Everything the article page shows; :class:`NotInStore` when there is no graph."""
        return self._cached(("article", pmid), lambda: self._article(pmid))

    def _article(self, pmid: str) -> dict[str, Any]:
        iris = self.iris
        graph, a = iris.graph(pmid), iris.article(pmid)
        evidence = evidence_json(self.kg, pmid, iris=iris)
        ix = GraphIndex(self.store.quads_for_pattern(None, None, None, graph))
        props = ix.props(a)
        abstract = self._first(props, DCTERMS.abstract) or ""
        spans = self._spans(ix)
        studies = props.get(KG.reportsStudy.value, [])
        return {
            "pmid": pmid,
            "iri": a.value,
            "graph": graph.value,
            "title": evidence["title"] or self._first(props, KG.vernacularTitle) or f"PMID {pmid}",
            "doi": evidence["doi"],
            "doi_url": iris.doi(evidence["doi"]).value if evidence["doi"] else None,
            "pubmed_url": iris.pubmed(pmid).value,
            "pmc": self._first(props, FABIO.hasPubMedCentralId),
            "citation": self._citation(props, ix),
            "authors": self._authors(props, ix),
            "rights": self._first(props, DCTERMS.rights),
            "abstract": self._abstract(abstract, props, ix, spans),
            "span_kinds": sorted({s.kind for s in spans}, key=_KIND_ORDER.index),
            "evidence": evidence,
            "outcomes": [
                {**o, "result": result_text(o), "details": details_text(o)}
                for o in evidence["outcomes"]
            ],
            "plot": proportions_svg(
                [
                    Proportion(o["text"] + (f" ({o['arm']})" if o["arm"] else ""),
                               o["count"], o["denominator"], note=o["quote"] or "")
                    for o in evidence["outcomes"]
                    if plottable(o["count"], o["denominator"])
                ],
                title="Outcomes as proportions of the patients they were counted among",
            ),
            "study": self.local(text(studies[0])) if studies else None,
            "mesh": self._mesh_headings(props, ix),
            "publication_types": [v.value for v in props.get(KG.publicationTypeName.value, [])],
            "keywords": [v.value for v in props.get(SCHEMA.keywords.value, [])],
            "similar": [self._related(p, ix) for p in evidence["similar_articles"]],
            "cited_by": [self._related(p, ix) for p in evidence["cited_by"]],
            "cites": self._cites(props),
        }

    def _citation(self, props: dict[str, list[Any]], ix: GraphIndex) -> str:
        journal = None
        for j in props.get(DCTERMS.isPartOf.value, []):
            jp = ix.props(j)
            journal = self._first(jp, FABIO.hasNLMJournalTitleAbbreviation) or self._first(
                jp, DCTERMS.title
            )
        journal = journal or self._first(props, KG.journalTitle)
        year = self._first(props, FABIO.hasPublicationYear)
        date = self._first(props, KG.publicationDateText) or year
        volume, issue = self._first(props, PRISM.volume), self._first(props, PRISM.number)
        pages = self._first(props, PRISM.pageRange)
        cite = ". ".join(p for p in (journal, date) if p)
        if volume:
            cite += f";{volume}" + (f"({issue})" if issue else "")
        if pages:
            cite += f":{pages}"
        return cite

    def _authors(self, props: dict[str, list[Any]], ix: GraphIndex) -> list[str]:
        people: list[tuple[int, str]] = []
        for node in props.get(DCTERMS.creator.value, []):
            p = ix.props(node)
            name = self._first(p, FOAF.name)
            position = self._first(p, SCHEMA.position)
            if name:
                people.append((int(position) if position else 0, name))
        return [name for _, name in sorted(people)]

    def _abstract(
        self, abstract: str, props: dict[str, list[Any]], ix: GraphIndex, spans: list[Span]
    ) -> list[Section]:
        bounds: list[tuple[str | None, int, int]] = []
        for node in props.get(KG.abstractSection.value, []):
            p = ix.props(node)
            start, end = self._first(p, KG.startOffset), self._first(p, KG.endOffset)
            if start is not None and end is not None:
                bounds.append((self._first(p, KG.sectionLabel), int(start), int(end)))
        return sections(abstract, spans, bounds)

    def _spans(self, ix: GraphIndex) -> list[Span]:
        """Every extracted span of the article, with the kind of node it is evidence for."""
        spans: list[Span] = []
        owners: list[tuple[object, object]] = list(ix.pairs(KG.evidenceSpan))
        owners += [(None, span) for _, span in ix.pairs(KG.conclusion)]
        for owner, span in owners:
            sp = ix.props(span)
            start, end = self._first(sp, OA.start), self._first(sp, OA.end)
            if start is None or end is None:
                continue
            if owner is None:
                kind, label = "conclusion", ""
            else:
                op = ix.props(owner)
                types = [text(t) for t in op.get(RDF.type.value, [])]
                if KG.Mention.value in types:
                    continue  # the tagger's PICO phrases: listed by kg evidence, not highlighted
                kind = next((SPAN_KINDS[t] for t in types if t in SPAN_KINDS), "evidence")
                label = self._first(op, RDFS.label) or self._first(op, KG.shortForm) or ""
            spans.append(Span(int(start), int(end), kind, label))
        return sorted(set(spans), key=lambda s: (s.start, -s.end, s.kind))

    def _mesh_headings(self, props: dict[str, list[Any]], ix: GraphIndex) -> list[dict[str, Any]]:
        headings: list[tuple[str, dict[str, Any]]] = []
        for node in props.get(KG.meshHeading.value, []):
            p = ix.props(node)
            descriptor = p.get(KG.descriptor.value, [])
            ui = mesh_ui(descriptor[0].value) if descriptor else None
            name = self._first(p, KG.descriptorName) or ui or ""
            headings.append(
                (
                    name.lower(),
                    {
                        "name": name,
                        "ui": ui,
                        "major": self._first(p, KG.majorTopic) == "true",
                        "qualifiers": sorted(v.value for v in p.get(KG.qualifierName.value, [])),
                    },
                )
            )
        return [h for _, h in sorted(headings, key=lambda h: h[0])]

    def _related(self, pmid: str, ix: GraphIndex) -> dict[str, Any]:
        node = self.iris.article(pmid)
        p = ix.props(node)
        return {
            "pmid": pmid,
            "href": self.local(node.value),
            "title": self._first(p, DCTERMS.title) or f"PMID {pmid}",
            "journal": self._first(p, KG.journalTitle),
            "year": self._first(p, FABIO.hasPublicationYear),
        }

    def _cites(self, props: dict[str, list[Any]]) -> list[Link]:
        return [self.link(t) for t in props.get(CITO.cites.value, [])]

    # --- the study page --------------------------------------------------------------------

    def study(self, iri: NamedNode) -> dict[str, Any] | None:
        """The study page's data, or None when ``iri`` is not a study in an article's graph."""
        graph = self.graph_of(iri)
        if graph is None or not any(
            True for _ in self.store.quads_for_pattern(iri, RDF.type, KG.Study, graph)
        ):
            return None
        article = next(
            (q.object for q in self.store.quads_for_pattern(iri, KG.describedIn, None, graph)),
            None,
        )
        pmid = self.iris.pmid_of(article) if isinstance(article, NamedNode) else None
        if pmid is None:
            return None
        try:
            evidence = evidence_json(self.kg, pmid, iris=self.iris)
        except NotInStore:
            return None
        return {
            "iri": iri.value,
            "pmid": pmid,
            "article_href": self.local(self.iris.article(pmid).value),
            "title": evidence["title"],
            "evidence": evidence,
            "outcomes": [
                {**o, "result": result_text(o), "details": details_text(o)}
                for o in evidence["outcomes"]
            ],
        }

    # --- dataset description ---------------------------------------------------------------

    def void(self, *, endpoint: str) -> list[Triple]:
        """The metadata graph's VoID/DCAT description, with this server's endpoints added."""
        dataset = self.iris.dataset()
        triples = {
            q.triple
            for q in self.store.quads_for_pattern(None, None, None, self.iris.metadata_graph())
        }
        triples |= {
            Triple(dataset, RDF.type, VOID.Dataset),
            Triple(dataset, VOID.sparqlEndpoint, NamedNode(endpoint)),
            Triple(dataset, VOID.uriSpace, Literal(self.iris.base)),
        }
        example = next((g for g in self.kg.named_graphs() if g != self.iris.metadata_graph()), None)
        pmid = example.value.rsplit("/", 1)[-1] if example is not None else None
        if pmid and self.has_article(pmid):
            triples.add(Triple(dataset, VOID.exampleResource, self.iris.article(pmid)))
        return sorted(triples, key=str)

    def counts(self) -> dict[str, int | None]:
        props = self._props(self.iris.dataset(), self.iris.metadata_graph())
        out: dict[str, int | None] = {}
        for key, prop in (("triples", VOID.triples), ("articles", KG.articleCount)):
            value = self._first(props, prop)
            out[key] = int(value) if value and value.isdigit() else None
        return out


def service_description(*, endpoint: str, void: str) -> list[Triple]:
    """A SPARQL 1.1 Service Description of the endpoint (what ``GET /sparql`` gives RDF
    clients)."""
    s = NamedNode(endpoint)
    sd = {
        name: NamedNode(SD + name)
        for name in (
            "Service",
            "endpoint",
            "supportedLanguage",
            "SPARQL11Query",
            "resultFormat",
            "feature",
            "UnionDefaultGraph",
        )
    }
    formats = (
        "http://www.w3.org/ns/formats/SPARQL_Results_JSON",
        "http://www.w3.org/ns/formats/SPARQL_Results_XML",
        "http://www.w3.org/ns/formats/SPARQL_Results_CSV",
        "http://www.w3.org/ns/formats/SPARQL_Results_TSV",
        "http://www.w3.org/ns/formats/Turtle",
        "http://www.w3.org/ns/formats/N-Triples",
        "http://www.w3.org/ns/formats/JSON-LD",
        "http://www.w3.org/ns/formats/RDF_XML",
    )
    triples = [
        Triple(s, RDF.type, sd["Service"]),
        Triple(s, sd["endpoint"], s),
        Triple(s, sd["supportedLanguage"], sd["SPARQL11Query"]),
        Triple(s, sd["feature"], sd["UnionDefaultGraph"]),
        Triple(s, RDFS.seeAlso, NamedNode(void)),
    ]
    triples += [Triple(s, sd["resultFormat"], NamedNode(f)) for f in formats]
    return triples


# --- pages answered by the query workers (open-ended, so under the time limit) ----------------

_WORD = re.compile(r"\w[\w'-]*")
MAX_WORDS = 8


def search_words(q: str) -> list[str]:
    """The words of a search box, lower-cased, at most :data:`MAX_WORDS`, each ≤ 60 characters."""
    return [w.lower()[:60] for w in _WORD.findall(q)][:MAX_WORDS]


def search_task(words: list[str], *, limit: int) -> Task:
    """Articles whose title holds every word. The query's text depends only on how many words
    there are; the words themselves are bound to ``?w0…`` by substitution."""
    filters = " && ".join(f"CONTAINS(LCASE(STR(?title)), ?w{i})" for i in range(len(words)))
    query = f"""
SELECT DISTINCT ?a ?pmid ?title ?year {" ".join(f"?w{i}" for i in range(len(words)))} WHERE {{
  ?a a schema:ScholarlyArticle ; fabio:hasPubMedId ?pmid ; dcterms:title ?title .
  OPTIONAL {{ ?a fabio:hasPublicationYear ?year }}
  FILTER({filters or "true"})
}} ORDER BY DESC(?year) ?pmid LIMIT {limit + 1}"""
    bindings = tuple((f"w{i}", Literal(w)) for i, w in enumerate(words))
    return Task(query, rows=limit, bindings=bindings)


_MESH_ARTICLES = """
SELECT ?a ?pmid ?title ?year ?how ?m WHERE {
  { ?a dcterms:subject ?m . BIND("indexing" AS ?how) }
  UNION { ?a kg:meshHeading/kg:qualifier ?m . BIND("indexing (qualifier)" AS ?how) }
  UNION { ?a kg:reportsStudy/kg:population/kg:condition/kg:mesh ?m . BIND("condition" AS ?how) }
  UNION { ?a kg:reportsStudy/kg:intervention/kg:mesh ?m . BIND("intervention" AS ?how) }
  UNION { ?a kg:reportsStudy/kg:outcome/kg:mesh ?m . BIND("outcome" AS ?how) }
  UNION { ?a kg:reportsStudy/kg:designFeature/kg:mesh ?m . BIND("design" AS ?how) }
  ?a fabio:hasPubMedId ?pmid .
  OPTIONAL { ?a dcterms:title ?title }
  OPTIONAL { ?a fabio:hasPublicationYear ?year }
} ORDER BY DESC(?year) ?pmid ?how LIMIT %d"""


def mesh_task(ui: str, *, limit: int) -> Task:
    """Articles indexed with the MeSH term ``ui``, or whose evidence is grounded in it."""
    node = NamedNode(MESH_NS + ui)
    return Task(_MESH_ARTICLES % (limit * 6 + 1), rows=limit * 6, bindings=(("m", node),))


#: How an article is on a MeSH term (``?m``), as patterns inside its graph: indexed with it,
#: or its evidence grounded in it.
_ON_TERM = (
    "?a dcterms:subject ?m .",
    "?c kg:mesh ?m . ?p kg:condition ?c . ?s kg:population ?p . ?a kg:reportsStudy ?s .",
    "?i kg:mesh ?m . ?s kg:intervention ?i . ?a kg:reportsStudy ?s .",
    "?x kg:mesh ?m . ?s kg:outcome ?x . ?a kg:reportsStudy ?s .",
)


def _on_term(ui: str, then: str) -> str:
    """``then`` for every article on the MeSH term ``ui``: one branch per way of being on it,
    each inside the article's graph, so that every lookup starts from the term (a subquery of
    the articles, joined afterwards, was read store-wide first: ~10× slower)."""
    branches = "\n  UNION ".join(f"{{ GRAPH ?g {{ {way} {then} }} }}" for way in _ON_TERM)
    return f"{values_block('m', [NamedNode(MESH_NS + ui)])}\n  {branches}"


_MESH_OUTCOMES = """
SELECT DISTINCT ?a ?pmid ?kind ?outcome ?count ?n ?o ?me WHERE {
  %s
} ORDER BY ?kind ?pmid ?outcome LIMIT %d"""
_OUTCOME_ROWS = """?a fabio:hasPubMedId ?pmid ; kg:reportsStudy ?study . ?study kg:outcome ?o .
    ?o rdfs:label ?outcome ; kg:outcomeKind ?kind ; kg:measurement ?me .
    ?me kg:count ?count ; kg:denominator ?n ."""

_MESH_FACETS = """
SELECT ?facet ?value (COUNT(DISTINCT ?a) AS ?articles) WHERE {
  { %s BIND("year" AS ?facet) }
  UNION { %s BIND("design" AS ?facet) }
} GROUP BY ?facet ?value"""
_YEAR = "?a fabio:hasPublicationYear ?value ."
_DESIGN = "?a kg:reportsStudy ?ds . ?ds kg:designFeature ?df . ?df kg:designTerm ?value ."

#: Most rows of a MeSH page's outcome plots (in all), and of one kind.
PLOT_ROWS, PLOT_ROWS_PER_KIND = 240, 40


def mesh_plot_tasks(ui: str) -> tuple[Task, Task]:
    """The outcomes with a count and a denominator of a MeSH term's articles, and the articles
    counted by year and by design."""
    return (
        Task(_MESH_OUTCOMES % (_on_term(ui, _OUTCOME_ROWS), PLOT_ROWS + 1), rows=PLOT_ROWS),
        Task(_MESH_FACETS % (_on_term(ui, _YEAR), _on_term(ui, _DESIGN)), rows=1000),
    )


def mesh_plots(site: Site, outcomes: Answer, facets: Answer) -> dict[str, Any]:
    """The MeSH page's plots: one forest-like view per outcome kind, counts by year and design."""
    col = {name: i for i, name in enumerate(outcomes.variables)}
    by_kind: dict[str, list[Proportion]] = defaultdict(list)
    for row in outcomes.rows[:PLOT_ROWS]:
        a, count, n = row[col["a"]], _int(row[col["count"]]), _int(row[col["n"]])
        if not (isinstance(count, int) and isinstance(n, int) and plottable(count, n)):
            continue
        if not isinstance(a, NamedNode):
            continue
        kind = text(row[col["kind"]]) or "other"
        pmid = text(row[col["pmid"]])
        if len(by_kind[kind]) < PLOT_ROWS_PER_KIND:
            by_kind[kind].append(Proportion(
                f"{pmid}: {text(row[col['outcome']])}", count, n,
                href=site.local(a.value), note=f"PMID {pmid}",
            ))
    forests = [
        proportions_svg(rows, title=f"{kind.capitalize()}: {len(rows)} outcome(s) across studies",
                        sized=True)
        for kind, rows in sorted(by_kind.items())
    ]
    fcol = {name: i for i, name in enumerate(facets.variables)}
    years: list[tuple[str, int]] = []
    designs: list[tuple[str, int]] = []
    for row in facets.rows:
        value, count = text(row[fcol["value"]]), _int(row[fcol["articles"]]) or 0
        (years if text(row[fcol["facet"]]) == "year" else designs).append((value, count))
    return {
        "forests": forests,
        "truncated": len(outcomes.rows) > PLOT_ROWS,
        "years": bars_svg(sorted(years), title="Articles by year"),
        "designs": bars_svg(sorted(designs, key=lambda d: (-d[1], d[0])),
                            title="Articles by design"),
    }


def _int(term: Term | None) -> int | None:
    try:
        return int(text(term))
    except (TypeError, ValueError):
        return None


RECENT_TASK = Task(
    """SELECT ?a ?pmid ?title ?year WHERE {
  ?a a schema:ScholarlyArticle ; fabio:hasPubMedId ?pmid .
  OPTIONAL { ?a dcterms:title ?title } OPTIONAL { ?a fabio:hasPublicationYear ?year }
} ORDER BY DESC(?year) DESC(?pmid) LIMIT 50""",
    rows=50,
)


def article_rows(site: Site, answer: Answer) -> list[dict[str, Any]]:
    """Rows with ``?a ?pmid ?title ?year`` (and ``?how``) → one entry per article, reasons
    merged."""
    column = {name: i for i, name in enumerate(answer.variables)}

    def cell(row: tuple[Term | None, ...], name: str) -> Term | None:
        return row[column[name]] if name in column else None

    merged: dict[str, dict[str, Any]] = {}
    for row in answer.rows:
        a, pmid = cell(row, "a"), cell(row, "pmid")
        if not isinstance(a, NamedNode) or pmid is None:
            continue
        entry = merged.setdefault(
            a.value,
            {
                "pmid": text(pmid),
                "href": site.local(a.value) or web_href(a.value),
                "title": text(cell(row, "title")) or f"PMID {text(pmid)}",
                "year": text(cell(row, "year")),
                "how": [],
            },
        )
        how = text(cell(row, "how"))
        if how and how not in entry["how"]:
            entry["how"].append(how)
    return list(merged.values())
