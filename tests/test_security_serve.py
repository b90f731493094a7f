"""kg serve under hostile queries and data, started for real (``python -m kg serve`` on
127.0.0.1): no request leaves for a SERVICE clause (a listener on 127.0.0.1 must receive
nothing), deep nesting gets 400 and the endpoint goes on, no link runs script, every response
carries the security headers (and the pages still render under the CSP in headless
Chromium), and control characters never reach a page raw nor make XML ill-formed."""

from __future__ import annotations

import http.server
import re
import shutil
import subprocess
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import ClassVar
from urllib.parse import quote

import pytest
import requests
from click.testing import CliRunner
from pyoxigraph import Literal, NamedNode, Quad, Store

from kg.cli import main

TESTS = Path(__file__).parent
SEED = TESTS / "data" / "seed" / "000_e84263704ca7bb66.txt"
BASE = "https://w3id.org/kg/id/"
CONTROL = "red \x1b[31mALERT\x1b[0m nul\x00 bell\x07 c1\x9b end"
RAW_CONTROLS = "\x1b\x00\x07\x9b"
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
SERVICE_QUERIES = [
    "SELECT * { SERVICE <{url}> { ?s ?p ?o } }",
    "select * { service silent <{url}> { ?s ?p ?o } }",
    "SELECT * { ?s ?p ?o FILTER EXISTS { SERVICE <{url}> { } } }",
    "ASK { SERVICE<{url}>{} }",
    "CONSTRUCT { ?s ?p ?o } WHERE { SERVICE <{url}> { ?s ?p ?o } }",
    "SELECT * { ?s ?p ?o FILTER(?o<1)SERVICE#>\n<{url}>{ } }",
    "SELECT * { ?s ?p 1SERVICE <{url}> { } }",
]


class _Listener(http.server.BaseHTTPRequestHandler):
    seen: ClassVar[list[str]] = []

    def _answer(self) -> None:
        type(self).seen.append(f"{self.command} {self.path}")
        self.send_response(500)
        self.end_headers()

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def listener() -> Iterator[tuple[str, list[str]]]:
    seen: ClassVar[list[str]] = []
    handler = type("Handler", (_Listener,), {"seen": seen})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/x", seen
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, kg_serve: Callable[..., AbstractContextManager[str]]
) -> Iterator[str]:
    """``kg serve`` over the seed's store plus two hostile resources: a label full of control
    characters, and a link to a ``javascript:`` IRI."""
    store = tmp_path_factory.mktemp("serve-security") / "store"
    result = CliRunner().invoke(main, ["build", str(SEED), "--store", str(store)])
    assert result.exit_code == 0, result.output
    raw = Store(str(store / "current"))
    graph = NamedNode(f"{BASE}graph/test")
    subject = NamedNode(f"{BASE}test/control")
    raw.add(
        Quad(
            subject,
            NamedNode("http://www.w3.org/2000/01/rdf-schema#label"),
            Literal(CONTROL),
            graph,
        )
    )
    raw.add(
        Quad(
            subject,
            NamedNode("http://www.w3.org/2000/01/rdf-schema#seeAlso"),
            NamedNode("javascript:alert(1)"),
            graph,
        )
    )
    raw.flush()
    del raw
    with kg_serve(store) as url:
        yield url


def _sparql(server: str, query: str, how: str, accept: str) -> requests.Response:
    headers = {"Accept": accept}
    if how == "get":
        return requests.get(
            f"{server}/sparql", params={"query": query}, headers=headers, timeout=20
        )
    if how == "form":
        return requests.post(f"{server}/sparql", data={"query": query}, headers=headers, timeout=20)
    headers["Content-Type"] = "application/sparql-query"
    return requests.post(f"{server}/sparql", data=query.encode(), headers=headers, timeout=20)


# --- no request leaves ----------------------------------------------------------------------


def test_service_is_refused_and_nothing_is_sent(
    server: str, listener: tuple[str, list[str]]
) -> None:
    url, seen = listener
    for query in SERVICE_QUERIES:
        for how in ("get", "form", "body"):
            for accept in ("application/sparql-results+json", "text/html"):
                r = _sparql(server, query.replace("{url}", url), how, accept)
                assert r.status_code == 400, (query, how, accept, r.text[:200])
                assert "SERVICE" in r.text
    r = _sparql(server, SERVICE_QUERIES[0].replace("{url}", url), "get", "application/json")
    message = r.json()["error"]["message"]
    assert "SERVICE" in message and "\n" not in message
    assert seen == []
    # the word alone is no clause
    ok = "SELECT ?o { ?s ?p ?o FILTER(CONTAINS(STR(?o), 'service')) } LIMIT 1"
    assert _sparql(server, ok, "get", "application/sparql-results+json").status_code == 200


def test_service_description_claims_no_federation(server: str) -> None:
    r = requests.get(f"{server}/sparql", headers={"Accept": "text/turtle"}, timeout=10)
    assert r.status_code == 200 and "BasicFederatedQuery" not in r.text


def test_deep_nesting_is_400_and_the_endpoint_goes_on(server: str) -> None:
    deep = "SELECT * " + "{" * 3000 + " ?s ?p ?o " + "}" * 3000
    for how in ("get", "form", "body"):
        r = _sparql(server, deep, how, "application/json")
        assert r.status_code == 400, r.text[:200]
        assert "levels deep" in r.json()["error"]["message"]
    r = _sparql(server, "ASK { ?s ?p ?o }", "get", "application/sparql-results+json")
    assert r.status_code == 200 and r.json()["boolean"] is True
    # a long chain ("a || b || …", 12,000 links overflowed a worker's usual stack) is answered
    chain = "ASK { FILTER(" + " || ".join(["false"] * 15000) + ") }"
    r = _sparql(server, chain, "body", "application/sparql-results+json")
    assert r.status_code == 200 and r.json()["boolean"] is False


# --- no link runs script; headers -------------------------------------------------------------


def test_only_web_iris_are_links(server: str) -> None:
    for iri in ("javascript:alert(1)", "JavaScript:alert(1)", "data:text/html;base64,YWxlcnQoMSk="):
        query = f'SELECT ?x {{ BIND(IRI("{iri}") AS ?x) }}'
        r = _sparql(server, query, "get", "text/html")
        assert r.status_code == 200
        table = r.text.split('<table class="results">', 1)[1]
        assert 'href="javascript' not in table.lower() and 'href="data:' not in table
        assert iri.split(":")[1][:9] in table
    r = _sparql(
        server, 'SELECT ?x { BIND(IRI("https://example.org/a") AS ?x) }', "get", "text/html"
    )
    assert 'href="https://example.org/a"' in r.text
    page = requests.get(f"{server}/test/control", headers={"Accept": "text/html"}, timeout=10)
    assert page.status_code == 200
    assert "javascript:alert(1)" in page.text and 'href="javascript' not in page.text


def test_every_response_has_the_security_headers(server: str) -> None:
    html = [
        "/",
        "/sparql",
        "/search?q=immunoglobulins",
        "/pubmed/23906502",
        "/pubmed/23906502/study/1",
        "/mesh/D003882",
        "/.well-known/void",
        "/nothing/here",  # 404 page
        "/sparql?query=" + quote("SELECT ?x { BIND(1 AS ?x) }"),
    ]
    for path in html:
        r = requests.get(server + path, headers={"Accept": "text/html"}, timeout=20)
        assert r.headers["content-type"].startswith("text/html"), path
        assert r.headers["Content-Security-Policy"] == CSP, path
        assert r.headers["X-Frame-Options"] == "DENY", path
        assert r.headers["X-Content-Type-Options"] == "nosniff", path
        assert r.headers["Referrer-Policy"] == "same-origin", path
    others = [
        ("/pubmed/23906502", "text/turtle"),
        ("/pubmed/23906502", "application/rdf+xml"),
        ("/static/kg.css", "*/*"),
        (
            "/sparql?query=" + quote("SELECT ?x { BIND(1 AS ?x) }"),
            "application/sparql-results+json",
        ),
        ("/sparql?query=" + quote("SELECT ?x { BIND(1 AS ?x) }"), "text/csv"),
        ("/sparql?query=" + quote("SELECT ?x { BIND(1 AS ?x) }"), "application/sparql-results+xml"),
        ("/nothing/here", "application/json"),  # an error as JSON
    ]
    for path, accept in others:
        r = requests.get(server + path, headers={"Accept": accept}, timeout=20)
        assert r.headers["X-Content-Type-Options"] == "nosniff", (path, accept)
    # every template links only this server's stylesheet: no inline script or style to allow
    templates = TESTS.parent / "kg" / "web" / "templates"
    for template in templates.glob("*.html"):
        text = template.read_text()
        assert not re.search(r"<script|<style|\sstyle=|\son[a-z]+=", text), template.name


# --- control characters -------------------------------------------------------------------------


def test_control_characters_in_pages_and_xml(server: str) -> None:
    page = requests.get(f"{server}/test/control", headers={"Accept": "text/html"}, timeout=10)
    assert "red \\x1b[31mALERT\\x1b[0m nul\\x00 bell\\x07 c1\\x9b end" in page.text
    assert not any(c in page.text for c in RAW_CONTROLS)

    rdfxml = requests.get(
        f"{server}/test/control", headers={"Accept": "application/rdf+xml"}, timeout=10
    )
    assert rdfxml.status_code == 200
    label = ET.fromstring(rdfxml.content).find(".//{http://www.w3.org/2000/01/rdf-schema#}label")
    assert (
        label is not None
        and label.text == "red \ufffd[31mALERT\ufffd[0m nul\ufffd bell\ufffd c1\x9b end"
    )

    query = 'SELECT ?l ?made { ?s rdfs:label ?l FILTER(CONTAINS(?l, "ALERT")) BIND("\\u001B[31m\\u0000" AS ?made) }'
    xml = _sparql(server, query, "get", "application/sparql-results+xml")
    assert xml.status_code == 200
    literals = [
        e.text
        for e in ET.fromstring(xml.content).iter("{http://www.w3.org/2005/sparql-results#}literal")
    ]
    assert "\ufffd[31m\ufffd" in literals
    construct = (
        "CONSTRUCT { ?s rdfs:label ?l } WHERE { ?s rdfs:label ?l FILTER(CONTAINS(?l, 'ALERT')) }"
    )
    graph = _sparql(server, construct, "get", "application/rdf+xml")
    assert graph.status_code == 200
    ET.fromstring(graph.content)

    html = _sparql(server, query, "get", "text/html")
    assert "\\x1b[31m\\x00" in html.text and not any(c in html.text for c in RAW_CONTROLS)
    # JSON escapes what it must by itself
    js = _sparql(server, query, "get", "application/sparql-results+json").json()
    assert js["results"]["bindings"][0]["made"]["value"] == "\x1b[31m\x00"


# --- the pages under the CSP, in a browser ----------------------------------------------------

CHROMIUM = next(
    (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)),
    None,
)


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed")
def test_pages_render_under_the_csp_in_chromium(server: str, tmp_path: Path) -> None:
    """The stylesheet loads and nothing is refused: Chromium logs every CSP violation."""
    assert CHROMIUM is not None
    for i, path in enumerate(
        [
            "/pubmed/23906502",
            "/sparql?query=" + quote("SELECT ?x { BIND(IRI('javascript:alert(1)') AS ?x) }"),
        ]
    ):
        run = subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                f"--user-data-dir={tmp_path / f'profile{i}'}",
                "--enable-logging=stderr",
                "--v=0",
                "--dump-dom",
                server + path,
            ],
            capture_output=True,
            text=True,
            timeout=90,
            check=True,
        )
        assert "<main>" in run.stdout, path
        assert "Content Security Policy" not in run.stderr, run.stderr[-2000:]
        assert "Refused to" not in run.stderr, run.stderr[-2000:]
