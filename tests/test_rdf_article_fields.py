"""kg/rdf/mapping.py on the fields the parsers once lost: XML and MEDLINE text of one record give
the same supplementary concept and the same NLM journal abbreviation, in terms kg declares."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from pyoxigraph import Literal, NamedNode, Quad

from kg.config import DEFAULT_BASE_IRI, VOCAB_IRI
from kg.models import Article, Record
from kg.parse import medline, pubmed_xml
from kg.rdf.iris import Iris
from kg.rdf.mapping import article_quads
from kg.rdf.namespaces import FABIO, KG, RDF, RDFS

DATA = Path(__file__).parent / "data"
ONTOLOGY = Path(__file__).parents[1] / "ontologies" / "kg.ttl"
IRIS = Iris(DEFAULT_BASE_IRI)


def _quads(path: Path, parse: Callable[..., Iterator[Record]], pmid: str) -> list[Quad]:
    """The quads kg maps record ``pmid`` of ``path`` to."""
    with path.open("rb") as fh:
        (a,) = [r for r in parse(fh, source=path.name) if isinstance(r, Article) and r.pmid == pmid]
    return article_quads(a, iris=IRIS)


def triples(quads: list[Quad]) -> set[tuple[object, object, object]]:
    return {(q.subject, q.predicate, q.object) for q in quads}


def _objects(quads: list[Quad], s: NamedNode, p: NamedNode) -> list[object]:
    return [q.object for q in quads if q.subject == s and q.predicate == p]


def test_supplementary_concept_and_abbreviation_same_from_xml_and_medline() -> None:
    xml = _quads(DATA / "xml" / "22202258_suppl_mesh.xml", pubmed_xml.iter_records, "22202258")
    med = _quads(DATA / "medline" / "22202258_suppl_mesh.nbib", medline.iter_records, "22202258")
    article, concept = IRIS.article("22202258"), IRIS.part("22202258", "concept", 1)
    journal = IRIS.journal("7810034")
    for quads in (xml, med):
        assert _objects(quads, article, KG.supplementaryConcept) == [concept]
        assert _objects(quads, concept, RDF.type) == [KG.SupplementaryConcept]
        assert _objects(quads, concept, RDFS.label) == [Literal("IFL protocol")]
        assert _objects(quads, journal, FABIO.hasNLMJournalTitleAbbreviation) == [
            Literal("Gan To Kagaku Ryoho")
        ]
        # and no substance is made of it
        named = {q.subject for q in quads if q.object == Literal("IFL protocol")}
        assert not any((s, RDF.type, KG.Substance) in triples(quads) for s in named)
    # what only XML says: the concept record, NLM's type, the ISO abbreviation
    assert _objects(xml, concept, KG.meshConcept) == [NamedNode("http://id.nlm.nih.gov/mesh/C480833")]
    assert _objects(xml, concept, KG.conceptType) == [Literal("Protocol")]
    assert _objects(xml, journal, KG.isoAbbreviation) == [Literal("Gan To Kagaku Ryoho")]
    assert _objects(med, concept, KG.meshConcept) == []


def test_journal_abbreviations_apart_in_the_graph() -> None:
    quads = _quads(DATA / "xml" / "medline16n0902_excerpt.xml", pubmed_xml.iter_records, "17942999")
    journal = IRIS.journal("9005499")
    assert _objects(quads, journal, FABIO.hasNLMJournalTitleAbbreviation) == [
        Literal("Restor Neurol Neurosci")
    ]
    assert _objects(quads, journal, KG.isoAbbreviation) == [Literal("Restor. Neurol. Neurosci.")]


def test_new_terms_are_declared_in_the_ontology() -> None:
    quads = _quads(DATA / "xml" / "22202258_suppl_mesh.xml", pubmed_xml.iter_records, "22202258")
    ontology = ONTOLOGY.read_text(encoding="utf-8")
    used = {
        t.value
        for q in quads
        for t in (q.predicate, q.object)
        if isinstance(t, NamedNode) and t.value.startswith(VOCAB_IRI)
    }
    assert {KG.supplementaryConcept.value, KG.SupplementaryConcept.value} <= used
    undeclared = sorted(u for u in used if f"kg:{u.removeprefix(VOCAB_IRI)} a owl:" not in ontology)
    assert not undeclared
