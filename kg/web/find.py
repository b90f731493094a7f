"""``/search`` over the full-text index (:mod:`kg.search`): the request's parameters, the
page's data and the JSON answer."""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup
from pyoxigraph import Literal, NamedNode
from starlette.responses import JSONResponse

from kg import search as searches
from kg.rdf.iris import is_mesh_ui
from kg.web.pages import Site, web_href
from kg.web.responses import HttpError
from kg.web.runner import Answer

#: The parameters a search page keeps from one link to the next.
PARAMS = ("q", "year_from", "year_to", "design", "min_n", "mesh", "sort", "per_page")
MAX_TEXT = 500


@dataclass(frozen=True, slots=True)
class Found:
    """What a search answered: results, or why none (``error``: the time limit)."""

    results: searches.SearchResults
    error: str | None = None


@functools.lru_cache(maxsize=8)
def index(version: Path) -> Path | None:
    """The full-text index of a store version, or None (a version never changes: cached)."""
    return searches.index_of(version)


def _int(params: Mapping[str, str], name: str, *, low: int, high: int) -> int | None:
    raw = params.get(name, "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise HttpError(400, f"{name}: a whole number, not {raw[:40]!r}") from None
    if not low <= value <= high:
        raise HttpError(400, f"{name}: from {low} to {high}")
    return value


def parse(params: Mapping[str, str]) -> searches.SearchQuery:
    """The search a request asks for; :class:`HttpError` 400 for a value out of bounds."""
    text = params.get("q", "")
    if len(text) > MAX_TEXT:
        raise HttpError(400, f"the search text is longer than {MAX_TEXT} characters")
    sort = params.get("sort") or "relevance"
    if sort not in ("relevance", "newest"):
        raise HttpError(400, "sort: relevance or newest")
    mesh = params.get("mesh", "").strip() or None
    if mesh is not None and not is_mesh_ui(mesh):
        raise HttpError(400, f"mesh: a MeSH UI like D003882, not {mesh[:40]!r}")
    design = params.get("design", "").strip()[:100] or None
    return searches.SearchQuery(
        text=text,
        page=_int(params, "page", low=1, high=searches.MAX_PAGE) or 1,
        per_page=_int(params, "per_page", low=1, high=searches.MAX_PER_PAGE) or 20,
        year_from=_int(params, "year_from", low=0, high=9999),
        year_to=_int(params, "year_to", low=0, high=9999),
        design=design,
        min_sample_size=_int(params, "min_n", low=0, high=10**9),
        mesh=mesh,
        sort=sort,  # type: ignore[arg-type]  # checked above
    )


def run(path: Path, query: searches.SearchQuery, *, timeout: float) -> Found:
    try:
        return Found(searches.search(path, query, timeout=timeout))
    except sqlite3.OperationalError as exc:
        if "interrupted" not in str(exc):
            raise
        empty = searches.SearchResults(query, 0, [], {})
        return Found(empty, f"the search took longer than {timeout:g} s; narrow it down")


def _href(site: Site, iri: str) -> str:
    return site.local(iri) or web_href(iri)


def _hit(site: Site, hit: searches.Hit) -> dict[str, Any]:
    return {**asdict(hit), "href": _href(site, hit.iri), "designs": list(hit.designs)}


def _query_json(q: searches.SearchQuery) -> dict[str, Any]:
    return {**asdict(q), "match": searches.match_expression(q.text)}


def json_response(site: Site, found: Found) -> JSONResponse:
    """The JSON answer: the query, the total, the page's hits (``snippet`` is HTML: escaped
    text, matches in ``<mark>``) and the facets."""
    r = found.results
    body = {
        "index": "full-text",
        "query": _query_json(r.query),
        "total": r.total,
        "page": r.query.page,
        "per_page": r.query.per_page,
        "pages": r.pages,
        "results": [_hit(site, h) for h in r.hits],
        "facets": {name: [asdict(f) for f in values] for name, values in r.facets.items()},
        "error": found.error,
    }
    return JSONResponse(body, status_code=503 if found.error else 200)


def titles_json(
    query: searches.SearchQuery, rows: list[dict[str, Any]], *, truncated: bool, error: str | None
) -> JSONResponse:
    """The JSON answer of a store without a full-text index: titles only, no facets."""
    body = {
        "index": "titles",
        "query": _query_json(query),
        "total": len(rows),
        "truncated": truncated,
        "page": 1,
        "per_page": len(rows),
        "pages": 1,
        "results": [
            {"pmid": r["pmid"], "href": r["href"], "title": r["title"], "year": r["year"]}
            for r in rows
        ],
        "facets": {},
        "error": error,
    }
    return JSONResponse(body, status_code=503 if error else 200)


def page_data(site: Site, found: Found, params: Mapping[str, str]) -> dict[str, Any]:
    """What search.html shows of a full-text search."""
    r = found.results
    kept = {k: params[k] for k in PARAMS if params.get(k)}

    def link(**changes: Any) -> str:
        """This search's address with ``changes`` (None drops a parameter), on page 1 unless
        ``page`` is given."""
        merged = {**kept, **{k: v for k, v in changes.items()}}
        return "/search?" + urlencode({k: v for k, v in merged.items() if v not in (None, "")})

    hits = [
        {**_hit(site, h), "snippet": Markup(h.snippet)}  # escaped by marked()
        for h in r.hits
    ]
    return {
        "q": r.query.text,
        "words": [],
        "results": hits,
        "truncated": False,
        "error": found.error,
        "full": {
            "query": r.query,
            "total": r.total,
            "pages": r.pages,
            "facets": r.facets,
            "searched": searches.match_expression(r.query.text) is not None or r.query.filtered,
            "link": link,
            "kept": kept,
        },
    }


def mesh_answers(path: Path, ui: str, *, limit: int) -> tuple[Answer, Answer]:
    """The MeSH page's articles (as :func:`kg.web.pages.mesh_task` answers them) and its
    year and design counts (as the second of :func:`kg.web.pages.mesh_plot_tasks`), from the
    index: milliseconds, where the store's paths cost a scan."""
    rows = searches.mesh_articles(path, ui, limit=limit * 6 + 1)
    articles = Answer(
        kind="solutions",
        variables=("a", "pmid", "title", "year", "how"),
        rows=tuple(
            (NamedNode(iri), Literal(pmid), Literal(title) if title else None,
             None if year is None else Literal(f"{year:04d}"), Literal(how))
            for iri, pmid, title, year, how in rows[: limit * 6]
        ),
        truncated=len(rows) > limit * 6,
    )
    facets = Answer(
        kind="solutions",
        variables=("facet", "value", "articles"),
        rows=tuple((Literal(f), Literal(v), Literal(str(n)))
                   for f, v, n in searches.mesh_facets(path, ui)),
    )
    return articles, facets
