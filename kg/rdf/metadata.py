"""The metadata graph: the dataset (VoID/DCAT) and the builds that made it (PROV).

A store grows by incremental builds, so the graph describes all of them: each build rewrites
the dataset's description (counts of the whole store, the newest build time) and adds its own
activity and source files to those the graph held before. Every file ever applied stays a
``dcterms:source`` of the dataset, and every build a ``prov:Activity`` that generated it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from pyoxigraph import Literal, NamedNode, Quad, Store

from kg.errors import UsageError
from kg.rdf.iris import Iris
from kg.rdf.namespaces import DCAT, DCTERMS, KG, PREFIXES, PROV, RDF, RDFS, SCHEMA, VOID, XSD

PUBMED_TERMS = NamedNode("https://www.nlm.nih.gov/databases/download/terms_and_conditions.html")
TOOL_HOME = NamedNode("https://w3id.org/kg/")


@dataclass(frozen=True, slots=True)
class SourceFile:
    name: str
    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class BuildInfo:
    """What one build read and did; ``time`` is the newest input's time (see pipeline)."""

    sources: tuple[SourceFile, ...]
    time: datetime
    tool_version: str
    articles: int
    deletions: int
    problems: int


@dataclass(frozen=True, slots=True)
class DatasetStats:
    triples: int
    articles: int
    graphs: int


def _int(n: int) -> Literal:
    return Literal(str(n), datatype=XSD.integer)


#: What the dataset's description keeps from earlier builds: the links to them and their sources.
_ACCUMULATED = frozenset({PROV.wasGeneratedBy, DCTERMS.source})


def metadata_quads(
    *, iris: Iris, stats: DatasetStats, build: BuildInfo, previous: Iterable[Quad] = ()
) -> list[Quad]:
    """The metadata graph after ``build``: the dataset, this build, and ``previous``'s builds.

    ``previous`` is the metadata graph as the store held it before this build (empty for a
    new store). Its earlier builds and source files are kept; what it said of the dataset
    itself (counts, time) is replaced, and a build run again on the same files replaces its
    own earlier activity. ``stats`` count the whole store.
    """
    g = iris.metadata_graph()
    d = iris.dataset()
    key = "-".join(s.sha256[:12] for s in build.sources)[:64] or "empty"
    b = iris.build(key)
    agent = NamedNode(TOOL_HOME.value + "software/" + build.tool_version)
    when = Literal(build.time.strftime("%Y-%m-%dT%H:%M:%SZ"), datatype=XSD.dateTime)
    quads = [
        Quad(d, RDF.type, VOID.Dataset, g),
        Quad(d, RDF.type, DCAT.Dataset, g),
        Quad(d, DCTERMS.title, Literal("kg: clinical evidence from PubMed as linked data"), g),
        Quad(d, DCTERMS.license, PUBMED_TERMS, g),
        Quad(d, DCTERMS.modified, when, g),
        Quad(d, VOID.uriSpace, Literal(iris.base), g),
        Quad(d, VOID.triples, _int(stats.triples), g),
        Quad(d, VOID.entities, _int(stats.articles), g),
        Quad(d, KG.articleCount, _int(stats.articles), g),
        Quad(d, KG.graphCount, _int(stats.graphs), g),
        Quad(d, PROV.wasGeneratedBy, b, g),
        Quad(b, RDF.type, PROV.Activity, g),
        Quad(b, PROV.endedAtTime, when, g),
        Quad(b, PROV.wasAssociatedWith, agent, g),
        Quad(b, KG.articlesRead, _int(build.articles), g),
        Quad(b, KG.deletionsRead, _int(build.deletions), g),
        Quad(b, KG.problemCount, _int(build.problems), g),
        Quad(agent, RDF.type, PROV.SoftwareAgent, g),
        Quad(agent, RDFS.label, Literal(f"kg {build.tool_version}"), g),
        Quad(agent, SCHEMA.softwareVersion, Literal(build.tool_version), g),
    ]
    for vocab in ("fabio", "prism", "dcterms", "cito", "foaf", "schema", "mesh", "kg"):
        quads.append(Quad(d, VOID.vocabulary, NamedNode(PREFIXES[vocab]), g))
    for src in build.sources:
        s = iris.source(src.sha256)
        quads += [
            Quad(b, PROV.used, s, g),
            Quad(d, DCTERMS.source, s, g),
            Quad(s, RDF.type, PROV.Entity, g),
            Quad(s, RDFS.label, Literal(src.name), g),
            Quad(s, KG.sha256, Literal(src.sha256), g),
            Quad(s, KG.byteSize, _int(src.size), g),
        ]
    seen = set(quads)
    for q in previous:
        if q.subject == b or (q.subject == d and q.predicate not in _ACCUMULATED):
            continue  # this build's earlier run, and the old description of the dataset
        q = Quad(q.subject, q.predicate, q.object, g)
        if q not in seen:
            seen.add(q)
            quads.append(q)
    return quads


def uri_spaces(metadata: Iterable[Quad]) -> set[str]:
    """The base IRIs a store's metadata says its IRIs were minted under (``void:uriSpace``)."""
    return {
        q.object.value
        for q in metadata
        if q.predicate == VOID.uriSpace and isinstance(q.object, Literal)
    }


def store_uri_spaces(store: Store) -> set[str]:
    """The base IRIs ``store``'s metadata says its IRIs were minted under."""
    return uri_spaces(store.quads_for_pattern(None, VOID.uriSpace, None, None))


def check_base_iri(store: Store, base_iri: str) -> None:
    """Refuse to build into ``store`` under ``base_iri`` when its IRIs were minted under another
    base: the two IRI spaces would mix in one dataset. Raises :class:`UsageError` naming both
    (``kg build --force-base-iri`` skips this)."""
    found = store_uri_spaces(store)
    if found and base_iri not in found:
        held = ", ".join(f"<{b}>" for b in sorted(found))
        raise UsageError(
            f"the store's IRIs are minted under {held}, not <{base_iri}>: building with this "
            "base IRI would mix two IRI spaces in one store. Give the store's base IRI "
            "(--base-iri or $KG_BASE_IRI), or --force-base-iri to mix them anyway"
        )
