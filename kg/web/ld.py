"""The linked-data front: every IRI kg mints under the base dereferences here.

The server stands for the base IRI: ``GET /pubmed/23906502`` describes
``<base>pubmed/23906502``. Content negotiation picks Turtle, N-Triples, JSON-LD, RDF/XML or
HTML; the suffixes ``.ttl``, ``.nt``, ``.jsonld`` and ``.html`` pick one explicitly. Pages for
people: an article, a study, any other resource, a MeSH term's articles, a full-text search, the
dataset's VoID description. Handlers are plain functions: Starlette runs them in its thread
pool, so store reads never block the event loop.
"""

from __future__ import annotations

from typing import Any

from pyoxigraph import NamedNode
from starlette.requests import Request
from starlette.responses import Response

from kg.rdf.iris import is_mesh_ui
from kg.rdf.namespaces import KG
from kg.web import find
from kg.web.negotiation import HTML, JSON, RDF_OFFERS, SUFFIXES, choose
from kg.web.pages import (
    MESH_BROWSER,
    MESH_NS,
    RECENT_TASK,
    Site,
    article_rows,
    mesh_plot_tasks,
    mesh_plots,
    mesh_task,
    search_task,
    search_words,
)
from kg.web.responses import HttpError, context, page, rdf_response

#: Offers for a resource, best first for a client that accepts anything.
RESOURCE_OFFERS = [*RDF_OFFERS, HTML]


def _alternates(path: str) -> list[dict[str, str]]:
    return [
        {"suffix": suffix, "href": path + suffix, "type": media_type}
        for suffix, media_type in SUFFIXES.items()
        if media_type != HTML
    ]


def _negotiate(request: Request, offers: list[str]) -> str:
    chosen = choose(request.headers.get("accept"), offers)
    if chosen is None:
        raise HttpError(406, "no acceptable representation; available: " + ", ".join(offers))
    return chosen


def _exists(site: Site, iri: NamedNode) -> bool:
    store = site.store
    return (
        any(True for _ in store.quads_for_pattern(iri, None, None, None))
        or store.contains_named_graph(iri)
        or any(True for _ in store.quads_for_pattern(None, None, iri, None))
    )


def resource(request: Request) -> Response:
    """``GET /{path}``: the resource ``<base>{path}``, as RDF or as a page."""
    site = context(request).site
    raw = request.scope.get("raw_path") or request.url.path.encode()
    path = raw.decode("ascii", "replace").split("?", 1)[0]
    iri = site.iri_for_path(path)
    media_type: str | None = None  # set by a suffix
    if iri is None or not _exists(site, iri):
        iri = None
        for suffix, suffix_type in SUFFIXES.items():
            if path.endswith(suffix):
                candidate = site.iri_for_path(path.removesuffix(suffix))
                if candidate is not None and _exists(site, candidate):
                    iri, path, media_type = candidate, path.removesuffix(suffix), suffix_type
                break
    if iri is None:
        raise HttpError(404, f"nothing is known here about <{site.iris.base}{path.lstrip('/')}>")
    by_suffix = media_type is not None
    media_type = media_type or _negotiate(request, RESOURCE_OFFERS)
    if media_type != HTML:
        return rdf_response(site.describe(iri), media_type, vary=not by_suffix)
    headers = {} if by_suffix else {"Vary": "Accept"}
    alternates = _alternates(path)
    pmid = site.iris.pmid_of(iri)
    if pmid is not None and site.has_article(pmid):
        return page(
            request,
            "article.html",
            headers=headers,
            a=site.article(pmid),
            alternates=alternates,
            mesh_browser=MESH_BROWSER,
        )
    study = site.study(iri) if KG.Study.value in site.types(iri) else None
    if study is not None:
        return page(
            request,
            "study.html",
            headers=headers,
            s=study,
            alternates=alternates,
            mesh_browser=MESH_BROWSER,
        )
    return page(
        request, "resource.html", headers=headers, r=site.resource(iri), alternates=alternates
    )


def home(request: Request) -> Response:
    ctx = context(request)
    _negotiate(request, [HTML])
    answer = ctx.pool.run(RECENT_TASK)
    articles = article_rows(ctx.site, answer) if answer.ok else []
    return page(
        request,
        "home.html",
        counts=ctx.site.counts(),
        articles=articles,
        error=None if answer.ok else answer.message,
    )


def search(request: Request) -> Response:
    """``/search?q=words``: the articles whose title, abstract, MeSH terms (and their entry
    terms) or design hold every word, ranked, with snippets, filters, facets and pages
    (:mod:`kg.web.find`); as a page, or as JSON (``Accept: application/json`` or
    ``format=json``). A store without a full-text index is searched by title."""
    ctx = context(request)
    params = request.query_params
    as_json = params.get("format") == "json"
    if not as_json and params.get("format") not in (None, "", "html"):
        raise HttpError(400, "format: html or json")
    if not as_json:
        as_json = _negotiate(request, [HTML, JSON]) == JSON
    query = find.parse(params)
    index = find.index(ctx.site.kg.version)
    if index is not None:
        found = find.run(index, query, timeout=ctx.settings.query_timeout)
        if as_json:
            return find.json_response(ctx.site, found)
        return page(request, "search.html", **find.page_data(ctx.site, found, params),
                    status=503 if found.error else 200)
    # no full-text index (an older kg's store, or another tool's): titles, in SPARQL
    words = search_words(query.text)
    results: list[dict[str, Any]] = []
    error = None
    truncated = False
    if words:
        answer = ctx.pool.run(search_task(words, limit=ctx.settings.page_size))
        if answer.ok:
            results, truncated = article_rows(ctx.site, answer), answer.truncated
        else:
            error = answer.message
    if as_json:
        return find.titles_json(query, results, truncated=truncated, error=error)
    return page(
        request,
        "search.html",
        q=query.text,
        words=words,
        results=results,
        truncated=truncated,
        error=error,
        full=None,
        status=503 if error else 200,
    )


def mesh(request: Request) -> Response:
    """``/mesh/D003882``: the articles indexed with a MeSH term or whose evidence names it."""
    ctx = context(request)
    ui = request.path_params["ui"]
    if not is_mesh_ui(ui):
        raise HttpError(404, f"not a MeSH UI: {ui!r} (like D003882, Q000188 or D003882Q000188)")
    _negotiate(request, [HTML])
    label = ctx.site.mesh_label(ui)
    index = find.index(ctx.site.kg.version)
    facets = None
    if index is not None:  # the articles and the counts from the full-text index
        answer, facets = find.mesh_answers(index, ui, limit=ctx.settings.page_size)
    else:
        answer = ctx.pool.run(mesh_task(ui, limit=ctx.settings.page_size))
    if not answer.ok:
        raise HttpError(answer.status, answer.message)
    articles = article_rows(ctx.site, answer)
    if not articles and label is None:
        raise HttpError(404, f"MeSH {ui}: no such term, and no article names it")
    plots = None
    if articles:
        outcomes_task, facets_task = mesh_plot_tasks(ui)
        outcomes = ctx.pool.run(outcomes_task)
        facets = facets or ctx.pool.run(facets_task)
        if outcomes.ok and facets.ok:
            plots = mesh_plots(ctx.site, outcomes, facets)
    return page(
        request,
        "mesh.html",
        ui=ui,
        label=label,
        plots=plots,
        articles=articles[: ctx.settings.page_size],
        truncated=answer.truncated or len(articles) > ctx.settings.page_size,
        mesh_url=MESH_BROWSER + ui,
        iri=MESH_NS + ui,
    )


def void(request: Request) -> Response:
    """``/.well-known/void``: the dataset's VoID description (RFC 5785 well-known location)."""
    site = context(request).site
    media_type = _negotiate(request, RESOURCE_OFFERS)
    triples = site.void(endpoint=str(request.url_for("sparql")))
    if media_type != HTML:
        return rdf_response(triples, media_type)
    return page(
        request,
        "resource.html",
        headers={"Vary": "Accept"},
        r=site.resource(site.iris.dataset(), extra=triples),
        alternates=[],
    )
