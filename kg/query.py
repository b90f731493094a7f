"""SPARQL over the embedded store, with kg's prefixes predeclared and all graphs as default."""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO

from pyoxigraph import (
    BlankNode,
    Literal,
    NamedNode,
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    QueryTriples,
    Triple,
    serialize,
)

from kg.errors import KgError
from kg.formats import FORMATS
from kg.rdf.namespaces import PREFIXES
from kg.store import KgStore

RESULT_FORMATS = {
    "csv": QueryResultsFormat.CSV,
    "tsv": QueryResultsFormat.TSV,
    "json": QueryResultsFormat.JSON,
    "xml": QueryResultsFormat.XML,
}
GRAPH_FORMATS = ("ttl", "nt", "jsonld")


class QuerySyntaxError(KgError):
    """The query does not parse; the message names the line and column."""

    exit_code = 2


@dataclass
class Result:
    """What a query returned: solutions, a boolean, or triples."""

    value: QuerySolutions | QueryBoolean | QueryTriples


def run_query(store: KgStore, query: str) -> Result:
    """Run SPARQL 1.1 ``query``; the default graph is the union of all named graphs."""
    try:
        return Result(store.store.query(query, prefixes=PREFIXES, use_default_graph_as_union=True))
    except SyntaxError as exc:
        raise QuerySyntaxError(f"query does not parse: {exc}") from exc
    except OSError as exc:
        raise KgError(f"query failed: {exc}") from exc


def _cell(term: object) -> str:
    if term is None:
        return ""
    if isinstance(term, NamedNode):
        for prefix, iri in PREFIXES.items():
            if term.value.startswith(iri) and len(term.value) > len(iri):
                return f"{prefix}:{term.value[len(iri) :]}"
        return term.value
    if isinstance(term, Literal | BlankNode):
        return term.value
    return str(term)


def write_result(result: Result, out: IO[bytes], *, fmt: str) -> None:
    """Write ``result`` as an aligned table, SPARQL results (csv/tsv/json/xml) or RDF."""
    value = result.value
    if isinstance(value, QueryBoolean):
        if fmt == "table":
            out.write(b"true\n" if bool(value) else b"false\n")
        else:
            value.serialize(out, RESULT_FORMATS.get(fmt, QueryResultsFormat.JSON))
        return
    if isinstance(value, QueryTriples):
        name = fmt if fmt in GRAPH_FORMATS else "ttl"
        triples: list[Triple] = sorted(value, key=str)
        serialize(
            triples,
            out,
            FORMATS[name].rdf_format,
            prefixes=None if name == "jsonld" else dict(PREFIXES),
        )
        return
    if fmt in RESULT_FORMATS:
        value.serialize(out, RESULT_FORMATS[fmt])
        return
    names = [v.value for v in value.variables]
    rows = [[_cell(sol[v]) for v in names] for sol in value]
    widths = [max([len(n)] + [len(r[i]) for r in rows]) for i, n in enumerate(names)]
    lines = [" │ ".join(n.ljust(w) for n, w in zip(names, widths, strict=True))]
    lines.append("─┼─".join("─" * w for w in widths))
    lines += [" │ ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    out.write(("\n".join(lines) + "\n").encode("utf-8"))
