"""Fixtures more than one test file uses."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
import requests

BASE = "https://w3id.org/kg/id/"

# E-utilities answers a test does not direct elsewhere are cached in a scratch directory, never
# in the user's cache (set before kg.sources.eutils reads it)
os.environ.setdefault("KG_CACHE_DIR", os.path.join(tempfile.mkdtemp(prefix="kg-test-cache-"), "eutils"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_log(store: Path, url: str) -> Path:
    """The file the stderr of ``kg_serve(store)`` answering at ``url`` goes to (its access log)."""
    return store.parent / f"kg-serve-{url.rsplit(':', 1)[1]}.stderr"


@contextlib.contextmanager
def _serving(store: Path, *options: str, base_iri: str | None = BASE) -> Iterator[str]:
    """``kg serve --store STORE OPTIONS…`` in a subprocess; its URL once it answers. Its stderr
    goes to :func:`serve_log` (a pipe nobody reads would fill with the access log and stall the
    server). ``base_iri``: $KG_BASE_IRI, or None for none (the store's own then)."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k != "KG_BASE_IRI"}
    if base_iri is not None:
        env["KG_BASE_IRI"] = base_iri
    with serve_log(store, url).open("wb") as err_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "kg", "serve", "--store", str(store), "--port", str(port),
             *options],
            stdout=subprocess.DEVNULL,
            stderr=err_file,
            env=env,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{url}/sparql", headers={"Accept": "text/turtle"}, timeout=2)
                break
            except requests.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    err = serve_log(store, url).read_text(errors="replace")
                    pytest.fail(f"kg serve did not start: {err}")
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def kg_serve() -> Callable[..., AbstractContextManager[str]]:
    """``with kg_serve(store, *options) as url:`` a real ``kg serve`` on 127.0.0.1."""
    return _serving


@pytest.fixture(scope="session")
def kg_serve_log() -> Callable[[Path, str], Path]:
    """``kg_serve_log(store, url)``: the file ``kg_serve``'s server writes its stderr to."""
    return serve_log


# --- a Graph Store Protocol look-alike that notes every request ------------------------------


class FakeGraphStore(BaseHTTPRequestHandler):
    """Answers PUT/DELETE with the next scripted status (then 204), and notes every request."""

    script: ClassVar[list[int]] = []
    seen: ClassVar[list[tuple[str, str, str | None]]] = []
    lock = threading.Lock()

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        with self.lock:
            self.seen.append((self.command, self.path, self.headers.get("Authorization")))
            status = self.script.pop(0) if self.script else 204
        self.send_response(status)
        if status in (429, 503):
            self.send_header("Retry-After", "0")
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_PUT = do_DELETE = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@contextlib.contextmanager
def local_http(base: type[BaseHTTPRequestHandler], **state: object) -> Iterator[tuple[str, Any]]:
    """A real HTTP server on 127.0.0.1 answering with a fresh subclass of ``base`` (its class
    attributes set from ``state``, so that tests do not share scripts or notes): its root URL
    (no trailing slash) and the handler class."""
    handler = type("Handler", (base,), dict(state))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def local_server() -> Callable[..., AbstractContextManager[tuple[str, Any]]]:
    """``with local_server(HandlerClass, **state) as (url, handler):`` (see :func:`local_http`)."""
    return local_http


@pytest.fixture()
def fake() -> Iterator[tuple[str, type[FakeGraphStore]]]:
    with local_http(FakeGraphStore, script=[], seen=[]) as (url, handler):
        yield f"{url}/store", handler
