"""The web app of ``kg serve``, built by a factory: a SPARQL 1.1 Protocol endpoint and a
linked-data front over one store.

Starlette (ASGI) served by uvicorn: small, typed, well kept; plain functions as handlers, Jinja2
templates (autoescaped), and nothing global — :func:`create_app` builds an app from settings, so
tests and notebooks can make as many as they like.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import markupsafe
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Receive, Scope, Send

from kg import __version__
from kg.errors import KgError
from kg.query import printable
from kg.rdf.iris import Iris
from kg.store import KgStore, current_version
from kg.web import ld
from kg.web.middleware import AccessLog, Conditional
from kg.web.pages import MESH_BROWSER, Site
from kg.web.pool import QueryPool
from kg.web.responses import Context, HttpError, SecurityHeaders, error_response
from kg.web.settings import ServeSettings
from kg.web.sparql import sparql

log = logging.getLogger(__name__)


def _printable(value: Any) -> Any:
    """Every value a template writes: control characters from the data shown as escapes
    (``\\x1b``); markup that a macro made was already written this way."""
    if isinstance(value, str) and not isinstance(value, markupsafe.Markup):
        return printable(value)
    return value


def _templates(site: Site) -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("kg.web", "templates"),
        autoescape=True,  # every page: values are escaped unless a template says otherwise
        finalize=_printable,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(version=__version__, mesh_browser=MESH_BROWSER, local=site.local)
    return Jinja2Templates(env=env)


async def _http_error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, HttpError):
        return error_response(request, exc.status, exc.message, headers=exc.headers)
    if isinstance(exc, HTTPException):
        return error_response(request, exc.status_code, exc.detail, headers=dict(exc.headers or {}))
    raise exc


async def _kg_error(request: Request, exc: Exception) -> Response:
    log.error("%s", exc)
    return error_response(request, 500, str(exc))


async def _server_error(request: Request, exc: Exception) -> Response:
    """Anything unexpected: logged with its traceback on the server, one line for the client."""
    log.exception("error answering %s %s", request.method, request.url.path)
    return error_response(request, 500, "the server failed to answer this request")


def create_app(settings: ServeSettings) -> Starlette:
    """A Starlette app serving ``settings.store`` as linked data under ``settings.base_iri``.

    The query workers start with the app (its lifespan) and stop with it. The app follows
    builds: the first request after a build has switched the store to a new version moves the
    app (pages, cache and a new pool of query workers) to it; a request is answered from one
    version, whole.
    """
    iris = Iris(settings.base_iri)
    templates: list[Jinja2Templates] = []

    def open_context() -> Context:
        store = KgStore(settings.store)  # holds its version (and its readers' lock) while used
        site = Site(store, iris, cache_size=settings.cache_size)
        if not templates:
            templates.append(_templates(site))
        pool = QueryPool(
            store.version,  # the version the pages read
            size=settings.query_workers,
            timeout=settings.query_timeout,
            max_bytes=settings.max_result_bytes,
            max_memory=settings.query_memory,
            base_iri=settings.base_iri,
        )
        return Context(settings=settings, site=site, pool=pool, templates=templates[0])

    static = resources.files("kg.web") / "static"

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await run_in_threadpool(app.state.kg.pool.start)
        try:
            yield
        finally:
            await run_in_threadpool(app.state.kg.pool.close)

    switching = threading.Lock()

    def follow() -> None:
        """Move the app to the store's current version if a build has made a new one."""
        ctx: Context = app.state.kg
        try:
            now = current_version(settings.store)
        except KgError:
            return
        if now is None or now == ctx.site.kg.version:
            return
        with switching:
            old: Context = app.state.kg
            if now == old.site.kg.version:
                return
            try:
                app.state.kg = open_context()
            except KgError as exc:
                log.error("cannot switch to the store's new version: %s", exc)
                return
            log.info("serving %s", app.state.kg.site.kg.version)
        # The old workers finish what they answer (within the time limit), then stop; the old
        # version is let go when the last request reading it is done.
        stop = threading.Timer(settings.query_timeout + 5, old.pool.close)
        stop.daemon = True
        stop.start()

    def answered_version() -> Path:
        """The store version requests are answered from now."""
        ctx: Context = app.state.kg
        return ctx.site.kg.version

    routes = [
        Route("/", ld.home, name="home"),
        Route("/sparql", sparql, methods=["GET", "POST"], name="sparql"),
        Route("/search", ld.search, name="search"),
        Route("/mesh/{ui}", ld.mesh, name="mesh"),
        Route("/.well-known/void", ld.void, name="void"),
        Mount("/static", StaticFiles(directory=str(static)), name="static"),
        Route("/{path:path}", ld.resource, name="resource"),
    ]
    handlers: dict[Any, Any] = {
        HttpError: _http_error,
        HTTPException: _http_error,
        KgError: _kg_error,
        Exception: _server_error,
    }
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers=handlers,
        middleware=[
            Middleware(AccessLog),
            # any site may query: a SPARQL endpoint and linked data are read-only and public
            # (a YASGUI elsewhere sends a preflight OPTIONS for its POSTs); no credentials
            Middleware(
                CORSMiddleware,
                allow_origins=["*"],
                allow_methods=["GET", "HEAD", "POST", "OPTIONS"],
                allow_headers=["*"],
                max_age=600,
            ),
            Middleware(SecurityHeaders),
            Middleware(Conditional, version=answered_version),
            Middleware(_FollowBuilds, follow=follow),
        ],
    )
    app.state.kg = open_context()
    return app


class _FollowBuilds:
    """Before each request: :func:`create_app`'s ``follow`` (one ``readlink`` when nothing
    changed)."""

    def __init__(self, app: ASGIApp, *, follow: Callable[[], None]) -> None:
        self.app = app
        self.follow = follow

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.follow()
        await self.app(scope, receive, send)
