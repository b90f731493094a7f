"""The SPARQL 1.1 Protocol endpoint (``/sparql``): read-only, under a time and a size limit.

- ``GET /sparql?query=…`` and ``POST`` with ``application/x-www-form-urlencoded`` (``query=…``)
  or ``application/sparql-query`` (the query as the body); ``default-graph-uri`` and
  ``named-graph-uri`` as the protocol defines them (without them the default graph is the union
  of every graph, as in ``kg query``).
- Results by content negotiation: SPARQL JSON/XML/CSV/TSV for SELECT and ASK; Turtle,
  N-Triples, JSON-LD or RDF/XML for CONSTRUCT and DESCRIBE; an HTML table for browsers.
  A ``format`` parameter (``json``, ``xml``, ``csv``, ``tsv``, ``ttl``…) overrides Accept.
- A query stops after the time limit or past the memory limit (its worker process is killed and
  started afresh): 503 with a one-line reason and ``Retry-After``.
- Updates are refused: an ``update`` parameter or an ``application/sparql-update`` body gets
  403; update text sent as a query does not parse (400).
- Without a query: the HTML query page for browsers, a Service Description for RDF clients.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from pyoxigraph import BlankNode, Literal, NamedNode
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from kg.web.negotiation import FORMAT_PARAMETER, HTML, RDF_OFFERS, choose, with_charset
from kg.web.pages import Site, curie, service_description
from kg.web.responses import HttpError, context, page, rdf_response
from kg.web.runner import Answer, Task, Term

FORM = "application/x-www-form-urlencoded"
QUERY_BODY = "application/sparql-query"
UPDATE_BODY = "application/sparql-update"
READ_ONLY = "this endpoint is read-only: SPARQL Update is not accepted"
#: Seconds a client is told to wait after a 503 (every worker busy, or one stopped for running
#: past the time or memory limit, and started afresh): a worker starts in well under a second.
RETRY_AFTER_S = 5

EXAMPLES: dict[str, str] = {
    "Outcomes of the studies, with their numbers": """\
SELECT ?pmid ?outcome ?kind ?count ?denominator ?percentage WHERE {
  ?article fabio:hasPubMedId ?pmid ; kg:reportsStudy ?study .
  ?study kg:outcome ?o .
  ?o rdfs:label ?outcome ; kg:outcomeKind ?kind ; kg:measurement ?m .
  OPTIONAL { ?m kg:count ?count }
  OPTIONAL { ?m kg:denominator ?denominator }
  OPTIONAL { ?m kg:percentage ?percentage }
} ORDER BY ?pmid ?outcome LIMIT 100""",
    "Studies by design feature": """\
SELECT ?term (COUNT(DISTINCT ?study) AS ?studies) WHERE {
  ?study a kg:Study ; kg:designFeature/kg:designTerm ?term .
} GROUP BY ?term ORDER BY DESC(?studies)""",
    "Conditions studied, with their MeSH descriptors": """\
SELECT ?mesh (SAMPLE(?label) AS ?condition) (COUNT(DISTINCT ?study) AS ?studies) WHERE {
  ?study kg:population/kg:condition ?c .
  ?c kg:mesh ?mesh ; rdfs:label ?label .
} GROUP BY ?mesh ORDER BY DESC(?studies) LIMIT 50""",
    "Everything kg says about one article (CONSTRUCT)": """\
CONSTRUCT { ?a ?p ?o } WHERE {
  ?a fabio:hasPubMedId "23906502" ; ?p ?o .
}""",
}


async def _params(request: Request) -> list[tuple[str, str]]:
    """The protocol's parameters: the URL's, plus a form body's; a query body becomes ``query``."""
    params = parse_qsl(request.url.query, keep_blank_values=True)
    if request.method != "POST":
        return params
    limit = context(request).settings.max_query_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise HttpError(413, f"the request body is larger than {limit:,} bytes")
    body = await request.body()
    if len(body) > limit:
        raise HttpError(413, f"the request body is larger than {limit:,} bytes")
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HttpError(400, "the request body is not UTF-8") from exc
    if kind == FORM:
        return params + parse_qsl(text, keep_blank_values=True)
    if kind == QUERY_BODY:
        return [*params, ("query", text)]
    if kind == UPDATE_BODY:
        raise HttpError(403, READ_ONLY)
    raise HttpError(
        415, f"send the query as {FORM} (query=…) or as {QUERY_BODY}, not {kind or 'no type'}"
    )


async def sparql(request: Request) -> Response:
    ctx = context(request)
    params = await _params(request)
    names = [name for name, _ in params]
    if "update" in names or "using-graph-uri" in names or "using-named-graph-uri" in names:
        raise HttpError(403, READ_ONLY)
    queries = [value for name, value in params if name == "query"]
    fmt = next((v.lower() for n, v in params if n in ("format", "output") and v), "")
    accept = FORMAT_PARAMETER.get(fmt) or request.headers.get("accept")
    if len(queries) > 1:
        raise HttpError(400, "give one query parameter, not several")
    if not queries or not queries[0].strip():
        return _no_query(request, accept)
    query = queries[0]
    if len(query.encode("utf-8")) > ctx.settings.max_query_bytes:
        raise HttpError(413, f"the query is longer than {ctx.settings.max_query_bytes:,} bytes")
    task = Task(
        query,
        accept=accept,
        default_graphs=tuple(v for n, v in params if n == "default-graph-uri"),
        named_graphs=tuple(v for n, v in params if n == "named-graph-uri"),
    )
    answer: Answer = await run_in_threadpool(ctx.pool.run, task)
    if not answer.ok:
        headers = {"Retry-After": str(RETRY_AFTER_S)} if answer.status == 503 else None
        if answer.status == 406 or choose(accept, [HTML]) is None or request.method != "GET":
            raise HttpError(answer.status, answer.message, headers=headers)
        return _query_page(
            request, query, error=answer.message, status=answer.status, headers=headers
        )
    if answer.media_type == HTML:
        return _query_page(request, query, answer=answer)
    return Response(
        answer.body,
        media_type=with_charset(answer.media_type),
        headers={"Vary": "Accept"},
    )


def _no_query(request: Request, accept: str | None) -> Response:
    """The query page for a browser; a Service Description for an RDF client."""
    offers = [HTML, *RDF_OFFERS]
    chosen = choose(accept, offers)
    if chosen == HTML:
        return _query_page(request, next(iter(EXAMPLES.values())))
    if chosen is None:
        raise HttpError(400, "no query: give a query parameter")
    endpoint = str(request.url_for("sparql"))
    void = str(request.url_for("void"))
    return rdf_response(service_description(endpoint=endpoint, void=void), chosen)


def _cell(site: Site, term: Term | None) -> dict[str, str]:
    """A result cell: its text, and a link for an IRI (local for kg's own and MeSH IRIs)."""
    if term is None:
        return {"text": "", "href": ""}
    if isinstance(term, NamedNode):
        return {"text": curie(term.value), "href": site.link(term).href}
    if isinstance(term, BlankNode):
        return {"text": f"_:{term.value}", "href": ""}
    if isinstance(term, Literal):
        return {"text": term.value, "href": ""}
    return {"text": str(term), "href": ""}


def _query_page(
    request: Request,
    query: str,
    *,
    answer: Answer | None = None,
    error: str | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    site = context(request).site
    rows = [[_cell(site, term) for term in row] for row in answer.rows] if answer else []
    return page(
        request,
        "sparql.html",
        status=status,
        headers=headers,
        query=query,
        answer=answer,
        rows=rows,
        error=error,
        examples=_examples(),
        limits=context(request).settings,
    )


def _examples() -> dict[str, str]:
    """The built-in examples, then kg's named questions (their text as shipped)."""
    found = dict(EXAMPLES)
    try:
        from kg.queries import named_queries
    except ImportError:  # pragma: no cover - named questions not shipped in this build
        return found
    for name, q in named_queries().items():
        found[f"{name}: {q.summary}"] = q.text
    return found
