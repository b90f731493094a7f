"""Namespaces of the vocabularies kg maps to, and the prefix set every query gets."""

from __future__ import annotations

from pyoxigraph import NamedNode

from kg.config import VOCAB_IRI

PREFIXES: dict[str, str] = {
    "kg": VOCAB_IRI,
    "mesh": "http://id.nlm.nih.gov/mesh/",
    "meshv": "http://id.nlm.nih.gov/mesh/vocab#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "dcterms": "http://purl.org/dc/terms/",
    "fabio": "http://purl.org/spar/fabio/",
    "cito": "http://purl.org/spar/cito/",
    "prism": "http://prismstandard.org/namespaces/basic/2.0/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "schema": "https://schema.org/",
    "prov": "http://www.w3.org/ns/prov#",
    "void": "http://rdfs.org/ns/void#",
    "dcat": "http://www.w3.org/ns/dcat#",
    "oa": "http://www.w3.org/ns/oa#",
    "pico": "http://data.cochrane.org/ontologies/pico/",
    "sh": "http://www.w3.org/ns/shacl#",
}


class Namespace:
    """``NS.term`` → NamedNode, built once per term."""

    def __init__(self, iri: str) -> None:
        self._iri = iri
        self._cache: dict[str, NamedNode] = {}

    def __getattr__(self, name: str) -> NamedNode:
        return self[name]

    def __getitem__(self, name: str) -> NamedNode:
        node = self._cache.get(name)
        if node is None:
            node = self._cache[name] = NamedNode(self._iri + name)
        return node

    def __str__(self) -> str:
        return self._iri


KG = Namespace(PREFIXES["kg"])
MESH = Namespace(PREFIXES["mesh"])
RDF = Namespace(PREFIXES["rdf"])
RDFS = Namespace(PREFIXES["rdfs"])
OWL = Namespace(PREFIXES["owl"])
XSD = Namespace(PREFIXES["xsd"])
DCTERMS = Namespace(PREFIXES["dcterms"])
FABIO = Namespace(PREFIXES["fabio"])
CITO = Namespace(PREFIXES["cito"])
PRISM = Namespace(PREFIXES["prism"])
FOAF = Namespace(PREFIXES["foaf"])
SCHEMA = Namespace(PREFIXES["schema"])
PROV = Namespace(PREFIXES["prov"])
VOID = Namespace(PREFIXES["void"])
DCAT = Namespace(PREFIXES["dcat"])
OA = Namespace(PREFIXES["oa"])
PICO = Namespace(PREFIXES["pico"])
