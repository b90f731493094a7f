"""What every handler shares: the app's context, HTML pages, RDF bodies, and errors answered in
the format the client asked for (HTML, JSON, a Turtle/N-Triples comment, or plain text) —
never a stack trace."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from pyoxigraph import RdfFormat, Triple, serialize
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kg.query import xml_safe
from kg.rdf.namespaces import PREFIXES
from kg.web.negotiation import HTML, JSON, RDF_OFFERS, TEXT, choose, with_charset
from kg.web.pages import Site
from kg.web.pool import QueryPool
from kg.web.settings import ServeSettings

#: Sent with every response. The pages run no script and load only this server's stylesheet;
#: no other site may frame them (clickjacking); nothing is sniffed into another media type; a
#: query in the address is not sent on to the sites a result links to.
SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


class SecurityHeaders:
    """ASGI middleware: :data:`SECURITY_HEADERS` on every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_secured)


class HttpError(Exception):
    """An answer other than success, with a message for the client."""

    def __init__(self, status: int, message: str, *, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


@dataclass(frozen=True, slots=True)
class Context:
    """The app's shared parts, on ``app.state.kg``."""

    settings: ServeSettings
    site: Site
    pool: QueryPool
    templates: Jinja2Templates


def context(request: Request) -> Context:
    ctx: Context = request.app.state.kg
    return ctx


def page(
    request: Request,
    template: str,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **data: Any,
) -> HTMLResponse:
    """An HTML page from ``templates/{template}`` (autoescaped)."""
    response = context(request).templates.TemplateResponse(
        request,
        template,
        {"base_iri": context(request).settings.base_iri, **data},
        status_code=status,
        headers=headers,
    )
    assert isinstance(response, HTMLResponse)
    return response


def rdf_body(triples: Iterable[Triple], media_type: str) -> bytes:
    """Triples in the RDF format of ``media_type`` (one of :data:`RDF_OFFERS`)."""
    fmt = RDF_OFFERS[media_type]
    prefixes = dict(PREFIXES) if fmt == RdfFormat.TURTLE else None
    body = serialize(list(triples), format=fmt, prefixes=prefixes) or b""
    return xml_safe(body) if fmt == RdfFormat.RDF_XML else body


def rdf_response(triples: Iterable[Triple], media_type: str, *, vary: bool = True) -> Response:
    headers = {"Vary": "Accept"} if vary else {}
    return Response(
        rdf_body(triples, media_type), media_type=with_charset(media_type), headers=headers
    )


#: What an error can be written as, best first when the client accepts anything.
ERROR_OFFERS = (
    HTML,
    JSON,
    "application/sparql-results+json",
    "application/ld+json",
    "text/turtle",
    "application/n-triples",
    TEXT,
)


def error_response(
    request: Request, status: int, message: str, *, headers: dict[str, str] | None = None
) -> Response:
    """``status`` with ``message``, in the format the request's Accept header prefers.

    With :data:`SECURITY_HEADERS`: a 500 is answered outside the app's middleware.
    """
    headers = {"Vary": "Accept", **SECURITY_HEADERS, **(headers or {})}
    accept = request.headers.get("accept")
    chosen = choose(accept, ERROR_OFFERS) if status != 406 else choose(accept, (HTML, JSON))
    reason = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    if chosen == HTML:
        return page(
            request,
            "error.html",
            status=status,
            headers=headers,
            status_code=status,
            reason=reason,
            message=message,
        )
    if chosen in (JSON, "application/sparql-results+json", "application/ld+json"):
        body = json.dumps({"error": {"status": status, "reason": reason, "message": message}})
        return Response(body, status_code=status, media_type=with_charset(chosen), headers=headers)
    if chosen in ("text/turtle", "application/n-triples"):
        # a document of comments only: valid in the format asked for, and it holds no triples
        lines = f"{status} {reason}: {message}".splitlines()
        body = "".join(f"# {line}\n" for line in lines)
        return Response(body, status_code=status, media_type=with_charset(chosen), headers=headers)
    return Response(
        f"{status} {reason}: {message}\n",
        status_code=status,
        media_type=with_charset(TEXT),
        headers=headers,
    )
