"""The map stage writes N-Quads as text (kg.rdf.nquads): the bytes must be pyoxigraph's own.

Every literal escape is checked against pyoxigraph's serializer of the same term, and every
article of tests/data is mapped, parsed back by pyoxigraph and serialized again: a byte that
kg writes differently from pyoxigraph (an escape, a space, a datatype) fails the test.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pyoxigraph import Literal, NamedNode, Quad, RdfFormat, serialize

from kg.config import DEFAULT_BASE_IRI
from kg.errors import KgError
from kg.models import Article
from kg.rdf.iris import Iris
from kg.rdf.mapping import article_nquads, article_quads
from kg.rdf.nquads import integer, literal, to_quads
from kg.sources.files import expand, read_file

DATA = Path(__file__).parent / "data"
IRIS = Iris(DEFAULT_BASE_IRI)
XSD = "http://www.w3.org/2001/XMLSchema#"

STRINGS = [
    "",
    "plain",
    'a "quoted" word',
    "back\\slash",
    "tab\tnew\nline\rcarriage",
    "bell\b form\f",
    "".join(chr(c) for c in range(0x20)) + "\x7f",
    "non-ASCII: é ü ß µ ≥ ≤ ± — “curly” ‘single’",
    "beyond the BMP: 𝛼 🧪",
    "separators: \u2028 \u2029 \u0085 \u00a0 \ufeff",
    "C1 controls: \x80 \x9f",
]


@pytest.mark.parametrize("value", STRINGS)
def test_a_literal_is_written_as_pyoxigraph_writes_it(value: str) -> None:
    assert literal(value) == str(Literal(value))
    dt = f"{XSD}gYear"
    assert literal(value, f"<{dt}>") == str(Literal(value, datatype=NamedNode(dt)))


def test_integers_and_a_whole_line() -> None:
    assert integer(42) == str(Literal("42", datatype=NamedNode(XSD + "integer")))
    s, p, g = (NamedNode(f"https://example.org/{x}") for x in "spg")
    quad = Quad(s, p, Literal('x\n"y"'), g)
    value = 'x\n"y"'
    line = f"{s} {p} {literal(value)} {g} .\n"
    assert serialize([quad], format=RdfFormat.N_QUADS) == line.encode()


def _articles() -> list[Article]:
    out = []
    for path in expand([DATA / "xml", DATA / "medline", DATA / "seed"], recursive=True):
        try:
            out.extend(r for r in read_file(path) if isinstance(r, Article))
        except KgError:
            continue  # a deliberately broken input
    return out


def test_every_test_article_maps_to_the_bytes_pyoxigraph_would_write() -> None:
    articles = _articles()
    assert len(articles) > 100
    lines = 0
    for article in articles:
        text = article_nquads(article, iris=IRIS)
        again = serialize(to_quads(text), format=RdfFormat.N_QUADS) or b""
        assert again.decode() == text, article.pmid
        lines += text.count("\n")
    assert lines > 10_000


def test_article_quads_are_the_same_statements() -> None:
    article = next(a for a in _articles() if a.abstract and a.mesh_headings and a.authors)
    quads = article_quads(article, iris=IRIS)
    assert [str(q) + " .\n" for q in quads] == article_nquads(article, iris=IRIS).splitlines(True)
    assert {q.graph_name for q in quads} == {IRIS.graph(article.pmid)}
