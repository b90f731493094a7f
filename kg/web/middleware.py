"""ASGI middleware of ``kg serve`` around every handler: conditional GET and an access log.

- :class:`Conditional`: a store version is a read-only snapshot, so a successful ``GET`` or
  ``HEAD`` answer is a function of the version, kg's own version, the URL and the media type
  chosen. That makes its validator (a weak ``ETag`` and ``Last-Modified``, the time the build
  finished the version) cheap, and a client holding it gets ``304 Not Modified`` without the
  body. ``Cache-Control`` lets shared caches keep an answer a minute and then revalidate: a
  build can switch the store to a new version at any time.
- :class:`AccessLog`: one line per request on the ``kg.web.access`` logger, after the answer:
  client, request line, status, bytes sent, milliseconds. The CLI decides where it goes.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kg import __version__

access_log = logging.getLogger("kg.web.access")

#: How long a shared cache may keep a page or a GET query's answer before asking again.
MAX_AGE_S = 60
#: The file a build writes last into a store version (its record of applied inputs).
_FINISHED = "kg-applied.json"


class Conditional:
    """ETag, Last-Modified and Cache-Control on successful GET/HEAD answers; 304 when the
    client's ``If-None-Match`` (or, without it, ``If-Modified-Since``) still holds.

    ``version`` gives the directory of the store version the request is answered from.
    Answers that set their own validators (static files) are left as they are.
    """

    def __init__(self, app: ASGIApp, *, version: Callable[[], Path]) -> None:
        self.app = app
        self.version = version
        self._modified: dict[Path, tuple[str, float]] = {}

    def _last_modified(self, version: Path) -> tuple[str, float]:
        got = self._modified.get(version)
        if got is None:
            try:
                mtime = (version / _FINISHED).stat().st_mtime
            except OSError:
                try:
                    mtime = version.stat().st_mtime
                except OSError:
                    mtime = time.time()
            mtime = float(int(mtime))  # HTTP dates have whole seconds
            got = self._modified[version] = (formatdate(mtime, usegmt=True), mtime)
        return got

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        request = Headers(scope=scope)
        not_modified = False

        async def send_validated(message: Message) -> None:
            nonlocal not_modified
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if message["status"] != 200 or "etag" in headers:
                    await send(message)
                    return
                version = self.version()  # after the app followed a build, if it did
                url = scope["path"] + "?" + scope.get("query_string", b"").decode("latin-1")
                key = "\0".join((str(version), __version__, url, headers.get("content-type", "")))
                etag = 'W/"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"'
                modified, stamp = self._last_modified(version)
                headers["ETag"] = etag
                headers["Last-Modified"] = modified
                headers.setdefault("Cache-Control", f"public, max-age={MAX_AGE_S}")
                not_modified = _still_valid(request, etag, stamp)
                if not_modified:
                    kept = {
                        k: v
                        for k, v in headers.items()
                        if k not in ("content-length", "content-type", "content-encoding")
                    }
                    start: Message = {"type": "http.response.start", "status": 304, "headers": [
                        (k.encode("latin-1"), v.encode("latin-1")) for k, v in kept.items()
                    ]}
                    await send(start)
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                    return
                await send(message)
                return
            if not_modified:  # the body of an answer already sent as 304
                return
            await send(message)

        await self.app(scope, receive, send_validated)


def _still_valid(request: Headers, etag: str, stamp: float) -> bool:
    """RFC 9110 §13.1: If-None-Match (weak comparison) when sent, else If-Modified-Since."""
    if_none_match = request.get("if-none-match")
    if if_none_match is not None:
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        return "*" in tags or etag.removeprefix("W/") in tags
    since = request.get("if-modified-since")
    if since:
        try:
            return parsedate_to_datetime(since).timestamp() >= stamp
        except (TypeError, ValueError, IndexError, OverflowError):
            return False
    return False


#: Longest request target written whole into the access log (a GET query can be 256 KB).
_LOGGED_TARGET = 2000


class AccessLog:
    """One line per request on ``kg.web.access`` (INFO): client, request line, status, bytes,
    milliseconds — Common Log Format's fields that matter, in its order."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not access_log.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status, sent = 500, 0

        async def send_counted(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, send_counted)
        finally:
            client = scope.get("client") or ("-", 0)
            query = scope.get("query_string", b"")
            target = scope["path"] + ("?" + query.decode("latin-1") if query else "")
            if len(target) > _LOGGED_TARGET:
                target = target[:_LOGGED_TARGET] + "…"
            access_log.info(
                '%s "%s %s HTTP/%s" %d %d %.1fms',
                client[0],
                scope["method"],
                _printable(target),
                scope.get("http_version", "1.1"),
                status,
                sent,
                1000 * (time.perf_counter() - started),
            )


def _printable(text: str) -> str:
    """No control character reaches the log (a request line cannot forge a log line)."""
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)
