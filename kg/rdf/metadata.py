"""The metadata graph: the dataset (VoID/DCAT) and the build that made it (PROV)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pyoxigraph import Literal, NamedNode, Quad

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


def metadata_quads(*, iris: Iris, stats: DatasetStats, build: BuildInfo) -> list[Quad]:
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
    return quads
