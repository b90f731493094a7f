"""Ask a SPARQL 1.1 endpoint (``kg query --endpoint URL``) what ``kg query`` asks the store.

The query goes as the Protocol's form POST (``query=…``, UTF-8), written portably
(:func:`kg.query.portable_text`: kg's PREFIX lines, parameters as VALUES rows), so that a named
question gives on a server holding the published store the rows it gives locally. Results come
back as SPARQL JSON (or N-Triples for graph queries), are read by pyoxigraph, and are written by
the same code as local results: every ``--format`` works the same way.

Named questions read the default graph as the union of the article graphs, as ``kg query``
does; a server whose default graph is something else answers them with nothing. :func:`union_check`
asks the server once and says so (Oxigraph: ``serve --union-default-graph``).
"""

from __future__ import annotations

import logging
from typing import IO

import requests
from pyoxigraph import QueryResultsFormat, RdfFormat, parse, parse_query_results

from kg.errors import KgError, NetworkError, one_line
from kg.query import PreparedQuery, Result, default_format, portable_text, write_result

log = logging.getLogger(__name__)

_SELECT_ACCEPT = "application/sparql-results+json, application/n-triples;q=0.9, text/turtle;q=0.5"
_RESULTS_JSON = "application/sparql-results+json"
_GRAPH_TYPES = {
    "application/n-triples": RdfFormat.N_TRIPLES,
    "text/plain": RdfFormat.N_TRIPLES,  # some servers still label N-Triples so
    "text/turtle": RdfFormat.TURTLE,
}
_ERROR_BODY = 300  # characters of an error answer quoted in the message


class EndpointError(KgError):
    """The endpoint could not be asked, or its answer could not be read (exit code 3)."""


def ask(
    endpoint: str, text: str, *, timeout: float, accept: str = _SELECT_ACCEPT
) -> requests.Response:
    """POST ``text`` to ``endpoint`` as the Protocol's form; the response, or a one-line error."""
    try:
        answer = requests.post(
            endpoint,
            data={"query": text},
            headers={"Accept": accept, "User-Agent": "kg (SPARQL 1.1 Protocol client)"},
            timeout=(min(10.0, timeout), timeout),
        )
    except requests.RequestException as exc:
        raise NetworkError(f"{endpoint}: {one_line(str(exc))}") from exc
    if answer.status_code >= 400:
        body = one_line(answer.text)[:_ERROR_BODY]
        raise EndpointError(f"{endpoint} answered {answer.status_code}: {body}")
    return answer


def result_of(answer: requests.Response, *, endpoint: str) -> Result:
    """The endpoint's answer as a :class:`kg.query.Result` (solutions, a boolean or triples)."""
    kind = answer.headers.get("Content-Type", "").split(";")[0].strip().lower()
    try:
        if kind in (_RESULTS_JSON, "application/json"):
            return Result(parse_query_results(answer.content, QueryResultsFormat.JSON))
        if kind in _GRAPH_TYPES:
            triples = [q.triple for q in parse(answer.content, _GRAPH_TYPES[kind])]
            return Result(triples)
    except (SyntaxError, ValueError) as exc:
        raise EndpointError(f"{endpoint}: its answer ({kind}) does not parse: {exc}") from exc
    raise EndpointError(f"{endpoint} answered {kind or 'no content type'}, not SPARQL results")


def run_remote(
    prepared: PreparedQuery,
    out: IO[bytes],
    *,
    endpoint: str,
    fmt: str | None,
    terminal: bool,
    width: int | None,
    timeout: float,
) -> None:
    """Run ``prepared`` on ``endpoint`` and write its result as ``kg query`` writes a local one."""
    answer = ask(endpoint, portable_text(prepared), timeout=timeout)
    result = result_of(answer, endpoint=endpoint)
    write_result(result, out, fmt=fmt or default_format(result, terminal=terminal), width=width)


#: Does the default graph hold anything, and do the named graphs?
_DEFAULT_HAS = "ASK { ?s ?p ?o }"
_NAMED_HAVE = "ASK { GRAPH ?g { ?s ?p ?o } }"


def union_check(endpoint: str, *, timeout: float) -> str | None:
    """A warning when ``endpoint``'s default graph is empty while its named graphs are not
    (it is not their union: kg's named questions would return nothing); None otherwise."""

    def boolean(text: str) -> bool | None:
        try:
            value = result_of(ask(endpoint, text, timeout=timeout), endpoint=endpoint).value
        except KgError as exc:
            log.debug("union check: %s", exc)
            return None
        return bool(value) if not isinstance(value, list) else None

    if boolean(_NAMED_HAVE) and boolean(_DEFAULT_HAS) is False:
        return (
            f"{endpoint}: the default graph is empty while the named graphs hold data, so it "
            "is not their union and kg's named questions will find nothing there (Oxigraph: "
            "serve --union-default-graph; Fuseki: tdb:unionDefaultGraph true; GraphDB and "
            "Virtuoso: query with GRAPH ?g or FROM clauses)"
        )
    return None
