"""One SPARQL query run over a read-only store, its result negotiated and serialized under a
size limit. This is what a query worker process does (see :mod:`kg.web.pool`); it knows nothing
of HTTP beyond media types and status codes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import IO, cast
from typing import Literal as Kind

from pyoxigraph import (
    BlankNode,
    Literal,
    NamedNode,
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    QueryTriples,
    RdfFormat,
    Store,
    Triple,
    Variable,
    serialize,
)

from kg.query import QueryRefused, check_query, xml_safe
from kg.rdf.namespaces import PREFIXES
from kg.web.negotiation import HTML, RDF_OFFERS, RESULTS_OFFERS, choose

Term = NamedNode | BlankNode | Literal | Triple

#: Rows an HTML rendering of a result shows at most.
HTML_ROWS = 1000


@dataclass(frozen=True, slots=True)
class Task:
    """A query to run. ``accept`` negotiates a serialized result (the SPARQL protocol);
    ``rows`` asks for at most that many parsed rows instead (pages that render results)."""

    query: str
    accept: str | None = None
    rows: int | None = None
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    bindings: tuple[tuple[str, Term], ...] = ()
    html: bool = True  # whether text/html is on offer (parsed rows for a page)


@dataclass(frozen=True, slots=True)
class Answer:
    """What came of a task: a body to send, parsed rows, or an error (status ≥ 400)."""

    status: int = 200
    media_type: str = ""
    body: bytes = b""
    message: str = ""
    kind: Kind["solutions", "boolean", "triples", ""] = ""
    variables: tuple[str, ...] = ()
    rows: tuple[tuple[Term | None, ...], ...] = ()
    boolean: bool | None = None
    truncated: bool = False
    offers: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return self.status < 400

    @classmethod
    def error(cls, status: int, message: str, *, offers: tuple[str, ...] = ()) -> Answer:
        return cls(status=status, message=message, offers=offers)


class ResultTooLarge(OSError):
    """Raised by :class:`BoundedWriter` when a result outgrows its limit."""


class BoundedWriter:
    """A file-like sink that refuses to grow past ``limit`` bytes."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[bytes] = []
        self.size = 0
        self.exceeded = False

    def write(self, data: bytes) -> int:
        self.size += len(data)
        if self.size > self.limit:
            self.exceeded = True
            raise ResultTooLarge(f"result larger than {self.limit} bytes")
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def getvalue(self) -> bytes:
        return b"".join(self.parts)


def too_large(limit: int) -> Answer:
    return Answer.error(
        400,
        f"the result is larger than this endpoint's limit of {limit:,} bytes: "
        "narrow the query or add a LIMIT",
    )


def execute(store: Store, task: Task, *, base_iri: str | None, max_bytes: int) -> Answer:
    """Run ``task`` on ``store``; every failure becomes an :class:`Answer` with a message.

    The endpoint sends no request on a query's behalf: a query with a SERVICE clause gets 400
    before pyoxigraph (which would fetch from the server it names) sees it; so does one nested
    too deep for pyoxigraph's parser.
    """
    try:
        shape = check_query(task.query)
    except QueryRefused as exc:
        return Answer.error(400, exc.message)
    dataset = bool(task.default_graphs or task.named_graphs)
    # the union default graph stands in only where neither the request nor the query (FROM,
    # FROM NAMED) gives a dataset: pyoxigraph's union flag would override a FROM clause
    union = not dataset and shape.from_at is None
    try:
        result = store.query(
            task.query,
            base_iri=base_iri,
            prefixes=PREFIXES,
            # SPARQL 1.1 Protocol §2.1.4: the dataset the request gives (default-graph-uri,
            # named-graph-uri) replaces the query's and the union; a part it leaves out is
            # empty, as in the Oxigraph server
            use_default_graph_as_union=union,
            default_graph=[NamedNode(g) for g in task.default_graphs] if dataset else None,
            named_graphs=[NamedNode(g) for g in task.named_graphs] if dataset else None,
            substitutions={Variable(name): term for name, term in task.bindings} or None,
        )
    except SyntaxError as exc:
        return Answer.error(400, f"the query does not parse: {exc}")
    except ValueError as exc:  # e.g. a graph IRI that is not an IRI
        return Answer.error(400, f"bad request: {exc}")
    except (OSError, RuntimeError) as exc:
        return Answer.error(500, f"the query failed: {exc}")
    kind: Kind["solutions", "boolean", "triples"] = (
        "boolean"
        if isinstance(result, QueryBoolean)
        else "triples"
        if isinstance(result, QueryTriples)
        else "solutions"
    )
    try:
        if task.rows is not None:
            return _rows(result, kind, task.rows)
        offers = list(RDF_OFFERS if kind == "triples" else RESULTS_OFFERS)
        if task.html:
            offers.append(HTML)
        chosen = choose(task.accept, offers)
        if chosen is None:
            return Answer.error(
                406,
                "none of the media types accepted can hold this result; available: "
                + ", ".join(offers),
                offers=tuple(offers),
            )
        if chosen == HTML:
            answer = _rows(result, kind, HTML_ROWS)
            return Answer(
                media_type=HTML,
                kind=answer.kind,
                variables=answer.variables,
                rows=answer.rows,
                boolean=answer.boolean,
                truncated=answer.truncated,
            )
        out = BoundedWriter(max_bytes)
        try:
            if isinstance(result, QueryTriples):
                fmt = RDF_OFFERS[chosen]
                prefixes = dict(PREFIXES) if fmt == RdfFormat.TURTLE else None
                serialize(result, cast(IO[bytes], out), fmt, prefixes=prefixes)
                xml = fmt == RdfFormat.RDF_XML
            else:
                result.serialize(cast(IO[bytes], out), RESULTS_OFFERS[chosen])
                xml = RESULTS_OFFERS[chosen] == QueryResultsFormat.XML
        except Exception:
            if out.exceeded:
                return too_large(max_bytes)
            raise
        body = xml_safe(out.getvalue()) if xml else out.getvalue()
        return Answer(media_type=chosen, body=body, kind=kind)
    except Exception as exc:  # the worker answers, whatever happened
        return Answer.error(500, f"the query failed: {exc}")


def _rows(
    result: QuerySolutions | QueryBoolean | QueryTriples,
    kind: Kind["solutions", "boolean", "triples"],
    limit: int,
) -> Answer:
    if isinstance(result, QueryBoolean):
        return Answer(kind=kind, boolean=bool(result))
    rows: list[tuple[Term | None, ...]] = []
    truncated = False
    if isinstance(result, QueryTriples):
        names: tuple[str, ...] = ("subject", "predicate", "object")
        for t in result:
            if len(rows) == limit:
                truncated = True
                break
            rows.append((t.subject, t.predicate, t.object))
    else:
        names = tuple(v.value for v in result.variables)
        for solution in result:
            if len(rows) == limit:
                truncated = True
                break
            rows.append(tuple(solution[n] for n in names))
    return Answer(kind=kind, variables=names, rows=tuple(rows), truncated=truncated)
