"""N-Quads terms written as text, the bytes pyoxigraph's serializer writes for the same terms.

The map stage runs once per record on the hot path of a build. Making a Rust object for every
term and quad and serializing them again cost as much as parsing the record; terms written as
the strings the N-Quads lines are made of cost a fraction. The output is byte-identical to
``pyoxigraph.serialize(quads, format=RdfFormat.N_QUADS)`` (``tests/test_map_nquads.py`` checks
every escape against pyoxigraph, and the mapping against a dump of the Quad-object mapping).

Only IRIs kg mints or validates come here (``kg.rdf.iris`` percent-encodes every input value in
one), so an IRI is written as it is, between angle brackets.

>>> literal('say "hi"\\n'), literal("12", XSD_INTEGER)
('"say \\\\"hi\\\\"\\\\n"', '"12"^^<http://www.w3.org/2001/XMLSchema#integer>')
"""

from __future__ import annotations

import re

from pyoxigraph import Quad, RdfFormat, parse

from kg.rdf.namespaces import Namespace

XSD_NS = "http://www.w3.org/2001/XMLSchema#"
XSD_INTEGER = f"<{XSD_NS}integer>"
XSD_BOOLEAN = f"<{XSD_NS}boolean>"
TRUE, FALSE = f'"true"^^{XSD_BOOLEAN}', f'"false"^^{XSD_BOOLEAN}'

# what N-Quads escapes in a string (oxrdf's print_quoted_str): the short escapes, and every other
# C0 control character and DEL as \uXXXX
_SHORT = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r", '"': '\\"', "\\": "\\\\"}
_NEEDS = re.compile(r'[\x00-\x1f\x7f"\\]')


def _escape(m: re.Match[str]) -> str:
    c = m.group()
    return _SHORT.get(c) or f"\\u{ord(c):04X}"


def literal(value: str, datatype: str | None = None) -> str:
    """A literal: ``datatype`` is an IRI term (``<…>``); none means xsd:string."""
    text = f'"{_NEEDS.sub(_escape, value)}"' if _NEEDS.search(value) else f'"{value}"'
    return text if datatype is None else f"{text}^^{datatype}"


def integer(value: int) -> str:
    return f'"{value}"^^{XSD_INTEGER}'


class Terms:
    """``T.term`` → the IRI term ``<…>`` of a namespace's term, as text (cached on first use)."""

    def __init__(self, namespace: Namespace) -> None:
        self._iri = str(namespace)

    def __getattr__(self, name: str) -> str:
        if name.startswith("__"):
            raise AttributeError(name)
        term = f"<{self._iri}{name}>"
        setattr(self, name, term)  # later lookups find the attribute and skip __getattr__
        return term


class Lines:
    """The N-Quads lines of one named graph (``graph``: its IRI term)."""

    __slots__ = ("_tail", "lines")

    def __init__(self, graph: str) -> None:
        self._tail = f" {graph} .\n"
        self.lines: list[str] = []

    def add(self, s: str, p: str, o: str | None) -> None:
        if o is not None:
            self.lines.append(f"{s} {p} {o}{self._tail}")

    def text(self, s: str, p: str, value: str | None) -> None:
        """A plain literal, when there is a value."""
        if value:
            self.lines.append(f"{s} {p} {literal(value)}{self._tail}")

    def __str__(self) -> str:
        return "".join(self.lines)


def to_quads(nquads: str | bytes) -> list[Quad]:
    """The quads of N-Quads text, read by pyoxigraph's parser."""
    data = nquads.encode("utf-8") if isinstance(nquads, str) else nquads
    return list(parse(data, format=RdfFormat.N_QUADS))
