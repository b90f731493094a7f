"""The one registry of RDF formats: name ↔ file extension ↔ media type ↔ pyoxigraph format."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pyoxigraph import RdfFormat


@dataclass(frozen=True, slots=True)
class Format:
    name: str
    extensions: tuple[str, ...]
    media_type: str
    rdf_format: RdfFormat
    quads: bool  # True when the format keeps named graphs


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("ttl", (".ttl",), "text/turtle", RdfFormat.TURTLE, quads=False),
        Format("nt", (".nt",), "application/n-triples", RdfFormat.N_TRIPLES, quads=False),
        Format("nq", (".nq",), "application/n-quads", RdfFormat.N_QUADS, quads=True),
        Format("trig", (".trig",), "application/trig", RdfFormat.TRIG, quads=True),
        Format("rdfxml", (".rdf", ".owl"), "application/rdf+xml", RdfFormat.RDF_XML, quads=False),
        Format(
            "jsonld", (".jsonld", ".json"), "application/ld+json", RdfFormat.JSON_LD, quads=True
        ),
    )
}


def format_for_path(path: Path) -> Format | None:
    """The format a file name implies (``kg.nq.gz`` → nq), or None."""
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    for suffix in reversed(suffixes):
        for fmt in FORMATS.values():
            if suffix in fmt.extensions:
                return fmt
    return None
