"""kg serve, started for real (``python -m kg serve`` under uvicorn on 127.0.0.1, a free port):
the SPARQL endpoint through real clients (SPARQLWrapper, rdflib's SPARQLStore), the linked-data
front and its errors through requests, and the HTML pages in headless Chromium (skipped where
Debian's ``chromium`` is not installed)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urljoin, urlsplit

import pyoxigraph
import pytest
import rdflib
import requests
from click.testing import CliRunner
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import CSV, JSON, JSONLD, POST, RDFXML, TSV, TURTLE, XML, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import QueryBadFormed

from kg.cli import main

TESTS = Path(__file__).parent
DATA = TESTS / "data"
SEED = DATA / "seed" / "000_e84263704ca7bb66.txt"
GOLD_RECORDS = sorted((DATA / "gold" / "records").glob("*.xml"))
BASE = "https://w3id.org/kg/id/"
ARTICLE = f"{BASE}pubmed/23906502"
TITLE = "Clinical efficacy of intravenous immunoglobulins for the treatment of dermatomyositis skin lesions without muscle disease"
DCT = rdflib.Namespace("http://purl.org/dc/terms/")
KG = rdflib.Namespace("https://w3id.org/kg/ontology#")
VOID = rdflib.Namespace("http://rdfs.org/ns/void#")
SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
TITLE_QUERY = "SELECT ?pmid ?title WHERE { ?a fabio:hasPubMedId ?pmid ; dcterms:title ?title ; a fabio:JournalArticle } ORDER BY ?pmid"
SLOW_QUERY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
TIMEOUT_S = 1.5
MAX_RESULT_MB = 0.05  # 52 kB: a SELECT of every triple is larger


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("serve") / "store"
    result = CliRunner().invoke(
        main, ["build", str(SEED), *map(str, GOLD_RECORDS), "--store", str(store)]
    )
    assert result.exit_code == 0, result.output
    return store


@pytest.fixture(scope="module")
def server(store_dir: Path, kg_serve: Callable[..., AbstractContextManager[str]]) -> Iterator[str]:
    """``kg serve`` in a subprocess; its URL once it answers."""
    options = (
        "--query-timeout", str(TIMEOUT_S), "--max-result-mb", str(MAX_RESULT_MB),
        "--query-workers", "2",
    )  # fmt: skip
    with kg_serve(store_dir, *options) as url:
        yield url


def wrapper(server: str, query: str, fmt: str, *, method: str | None = None) -> SPARQLWrapper:
    w = SPARQLWrapper(f"{server}/sparql")
    w.setQuery(query)
    w.setReturnFormat(fmt)
    if method:
        w.setMethod(method)
    return w


# --- the SPARQL endpoint, through real clients -------------------------------------------------


def test_sparqlwrapper_select_in_every_results_format(server: str) -> None:
    query = (
        "PREFIX fabio: <http://purl.org/spar/fabio/> PREFIX dcterms: <http://purl.org/dc/terms/> "
        + TITLE_QUERY
    )
    data = wrapper(server, query, JSON).query().convert()
    pmids = [b["pmid"]["value"] for b in data["results"]["bindings"]]
    assert "23906502" in pmids and len(pmids) == 13
    seed = next(b for b in data["results"]["bindings"] if b["pmid"]["value"] == "23906502")
    assert seed["title"]["value"] == TITLE

    xml = wrapper(server, query, XML).query().convert()
    assert len(xml.getElementsByTagName("result")) == 13
    csv = wrapper(server, query, CSV).query()
    assert csv.response.headers["Content-Type"].startswith("text/csv")
    assert csv.convert().decode().splitlines()[0] == "pmid,title"
    tsv = wrapper(server, query, TSV).query()
    assert tsv.convert().decode().splitlines()[0] == "?pmid\t?title"


def test_sparqlwrapper_post_ask_and_graph_queries(server: str) -> None:
    ask = wrapper(server, 'ASK { ?a fabio:hasPubMedId "23906502" }', JSON, method=POST)
    assert ask.query().convert()["boolean"] is True
    construct = f"CONSTRUCT {{ <{ARTICLE}> ?p ?o }} WHERE {{ <{ARTICLE}> ?p ?o }}"
    turtle = wrapper(server, construct, TURTLE).query()
    assert turtle.response.headers["Content-Type"].startswith("text/turtle")
    g = rdflib.Graph().parse(data=turtle.convert(), format="turtle")
    assert (rdflib.URIRef(ARTICLE), DCT.title, rdflib.Literal(TITLE)) in g
    for fmt in (JSONLD, RDFXML):
        other = wrapper(server, construct, fmt).query().convert()
        assert set(other) == set(g), fmt  # blank-node free, so the same triples
    describe = wrapper(server, f"DESCRIBE <{ARTICLE}>", TURTLE).query().convert()
    assert TITLE.encode() in describe


def test_rdflib_sparqlstore(server: str) -> None:
    for method in ("GET", "POST"):
        graph = rdflib.Graph(store=SPARQLStore(f"{server}/sparql", method=method))
        rows = list(
            graph.query(f"SELECT ?t WHERE {{ <{ARTICLE}> <http://purl.org/dc/terms/title> ?t }}")
        )
        assert [str(r[0]) for r in rows] == [TITLE]
        triples = set(graph.triples((rdflib.URIRef(ARTICLE), None, None)))
        assert (rdflib.URIRef(ARTICLE), DCT.title, rdflib.Literal(TITLE)) in triples


def test_protocol_bodies_and_dataset_parameters(server: str, store_dir: Path) -> None:
    query = 'SELECT ?t WHERE { ?a fabio:hasPubMedId "23906502" ; dcterms:title ?t }'
    as_form = requests.post(
        f"{server}/sparql",
        data={"query": query},
        headers={"Accept": "application/sparql-results+json"},
        timeout=10,
    )
    as_body = requests.post(
        f"{server}/sparql",
        data=query.encode(),
        headers={"Content-Type": "application/sparql-query", "Accept": "application/json"},
        timeout=10,
    )
    for r in (as_form, as_body):
        assert r.status_code == 200, r.text
        assert r.json()["results"]["bindings"][0]["t"]["value"] == TITLE
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    one = requests.get(
        f"{server}/sparql",
        params={"query": count, "default-graph-uri": f"{BASE}graph/pubmed/23906502"},
        headers={"Accept": "text/csv"},
        timeout=10,
    )
    local = pyoxigraph.Store.read_only(str(store_dir / "current"))
    seed_graph = pyoxigraph.NamedNode(f"{BASE}graph/pubmed/23906502")
    in_graph = sum(1 for _ in local.quads_for_pattern(None, None, None, seed_graph))
    assert int(one.text.splitlines()[1]) == in_graph > 300
    named = requests.get(
        f"{server}/sparql",
        params={
            "query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }",
            "named-graph-uri": f"{BASE}graph/metadata",
        },
        headers={"Accept": "text/csv"},
        timeout=10,
    )
    assert named.text.splitlines()[1:] == [f"{BASE}graph/metadata"]
    fmt = requests.get(f"{server}/sparql", params={"query": query, "format": "csv"}, timeout=10)
    assert fmt.headers["Content-Type"].startswith("text/csv")


def test_updates_are_refused(server: str) -> None:
    update = "INSERT DATA { <http://x/a> <http://x/b> <http://x/c> }"
    assert requests.post(f"{server}/sparql", data={"update": update}, timeout=10).status_code == 403
    assert (
        requests.post(
            f"{server}/sparql",
            data=update,
            headers={"Content-Type": "application/sparql-update"},
            timeout=10,
        ).status_code
        == 403
    )
    assert (
        requests.get(f"{server}/sparql", params={"update": update}, timeout=10).status_code == 403
    )
    as_query = requests.get(
        f"{server}/sparql",
        params={"query": update},
        headers={"Accept": "application/json"},
        timeout=10,
    )
    assert as_query.status_code == 400 and "does not parse" in as_query.json()["error"]["message"]
    other = requests.post(
        f"{server}/sparql", data=b"{}", headers={"Content-Type": "application/json"}, timeout=10
    )
    assert other.status_code == 415
    with pytest.raises(Exception, match="403"):
        wrapper(server, update, JSON, method=POST).query()
    count = requests.get(
        f"{server}/sparql",
        params={"query": "ASK { <http://x/a> ?p ?o }"},
        headers={"Accept": "application/json"},
        timeout=10,
    )
    assert count.json()["boolean"] is False


def test_errors_come_in_the_format_asked_for(server: str) -> None:
    bad = {"query": "SELECT ?x WHERE { ?x ?y }"}
    as_json = requests.get(
        f"{server}/sparql",
        params=bad,
        headers={"Accept": "application/sparql-results+json"},
        timeout=10,
    )
    assert as_json.status_code == 400
    assert as_json.headers["Content-Type"].startswith("application/sparql-results+json")
    assert "does not parse" in as_json.json()["error"]["message"]
    as_html = requests.get(
        f"{server}/sparql", params=bad, headers={"Accept": "text/html"}, timeout=10
    )
    assert as_html.status_code == 400 and as_html.headers["Content-Type"].startswith("text/html")
    assert "does not parse" in as_html.text and "Traceback" not in as_html.text
    with pytest.raises(QueryBadFormed):
        wrapper(server, bad["query"], JSON).query()
    none = requests.get(
        f"{server}/sparql", params={"query": "ASK {}"}, headers={"Accept": "image/png"}, timeout=10
    )
    assert none.status_code == 406 and "available" in none.text
    twice = requests.get(
        f"{server}/sparql?query=ASK%7B%7D&query=ASK%7B%7D",
        headers={"Accept": "application/json"},
        timeout=10,
    )
    assert twice.status_code == 400


def test_time_limit_kills_the_query_and_the_endpoint_goes_on(server: str) -> None:
    start = time.monotonic()
    slow = requests.get(
        f"{server}/sparql",
        params={"query": SLOW_QUERY},
        headers={"Accept": "application/json"},
        timeout=30,
    )
    elapsed = time.monotonic() - start
    assert slow.status_code == 503
    assert f"limit of {TIMEOUT_S:g} s" in slow.json()["error"]["message"]
    assert elapsed < 15  # stopped, not run to its end (which would take hours)
    for _ in range(3):  # the killed worker's slot starts a new one
        ok = requests.get(
            f"{server}/sparql",
            params={"query": "ASK { ?s ?p ?o }"},
            headers={"Accept": "application/json"},
            timeout=30,
        )
        assert ok.status_code == 200 and ok.json()["boolean"] is True


def test_result_size_limit(server: str) -> None:
    big = requests.get(
        f"{server}/sparql",
        params={"query": "SELECT * WHERE { ?s ?p ?o }"},
        headers={"Accept": "text/csv"},
        timeout=30,
    )
    assert big.status_code == 400
    assert "larger than this endpoint's limit" in big.text
    small = requests.get(
        f"{server}/sparql",
        params={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 10"},
        headers={"Accept": "text/csv"},
        timeout=30,
    )
    assert small.status_code == 200 and len(small.text.splitlines()) == 11


def test_home_page(server: str) -> None:
    home = requests.get(server + "/", headers={"Accept": "text/html"}, timeout=10)
    assert home.status_code == 200 and "Clinical evidence from PubMed" in home.text
    assert home.text.count('href="/pubmed/') == 13


def test_service_description_and_query_page(server: str) -> None:
    sd = requests.get(f"{server}/sparql", headers={"Accept": "text/turtle"}, timeout=10)
    g = rdflib.Graph().parse(data=sd.text, format="turtle")
    assert (rdflib.URIRef(f"{server}/sparql"), rdflib.RDF.type, SD.Service) in g
    page = requests.get(f"{server}/sparql", headers={"Accept": "text/html"}, timeout=10)
    assert page.status_code == 200 and "<textarea" in page.text
    query = "SELECT ?a ?title WHERE { ?a fabio:hasPubMedId ?pmid ; dcterms:title ?title ; a fabio:JournalArticle }"
    results = requests.get(
        f"{server}/sparql", params={"query": query}, headers={"Accept": "text/html"}, timeout=10
    )
    assert (
        results.status_code == 200
        and TITLE in results.text
        and 'href="/pubmed/23906502"' in results.text
    )


# --- the linked-data front -------------------------------------------------------------------------


def test_article_as_turtle_like_curl(server: str, store_dir: Path) -> None:
    """``curl -H 'Accept: text/turtle' http://127.0.0.1:PORT/pubmed/23906502``."""
    r = requests.get(f"{server}/pubmed/23906502", headers={"Accept": "text/turtle"}, timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/turtle")
    assert "Accept" in r.headers.get("Vary", "")
    got = rdflib.Graph().parse(data=r.text, format="turtle")
    article = rdflib.URIRef(ARTICLE)
    assert (article, DCT.title, rdflib.Literal(TITLE)) in got
    counts = {int(o) for o in got.objects(None, KG["count"])}
    assert {19, 4, 10} <= counts
    import pyoxigraph

    local = pyoxigraph.Store.read_only(str(store_dir / "current"))
    graph = pyoxigraph.NamedNode(f"{BASE}graph/pubmed/23906502")
    assert len(got) >= sum(1 for _ in local.quads_for_pattern(None, None, None, graph))


def test_content_negotiation_and_suffixes(server: str) -> None:
    graphs = {}
    for accept, suffix, fmt in (
        ("text/turtle", ".ttl", "turtle"),
        ("application/n-triples", ".nt", "nt"),
        ("application/ld+json", ".jsonld", "json-ld"),
    ):
        by_accept = requests.get(
            f"{server}/pubmed/23906502", headers={"Accept": accept}, timeout=10
        )
        by_suffix = requests.get(
            f"{server}/pubmed/23906502{suffix}", headers={"Accept": "text/html"}, timeout=10
        )
        for r in (by_accept, by_suffix):
            assert r.status_code == 200 and r.headers["Content-Type"].startswith(accept)
        a = rdflib.Graph().parse(data=by_accept.content, format=fmt)
        b = rdflib.Graph().parse(data=by_suffix.content, format=fmt)
        assert set(a) == set(b)
        graphs[fmt] = set(a)
    assert graphs["turtle"] == graphs["nt"] == graphs["json-ld"]
    preferred = requests.get(
        f"{server}/pubmed/23906502",
        headers={"Accept": "application/ld+json;q=0.5, text/turtle;q=0.9"},
        timeout=10,
    )
    assert preferred.headers["Content-Type"].startswith("text/turtle")
    html = requests.get(
        f"{server}/pubmed/23906502",
        headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"},
        timeout=10,
    )
    assert html.headers["Content-Type"].startswith("text/html") and "19/27 (70%)" in html.text
    anything = requests.get(f"{server}/pubmed/23906502", headers={"Accept": "*/*"}, timeout=10)
    assert anything.headers["Content-Type"].startswith("text/turtle")
    head = requests.head(f"{server}/pubmed/23906502", headers={"Accept": "text/turtle"}, timeout=10)
    assert head.status_code == 200 and not head.content


def test_every_kind_of_minted_iri_resolves(server: str) -> None:
    for path, expect in (
        ("/pubmed/23906502/study/1", "kg:Study"),
        ("/pubmed/23906502/outcome/1", "major response"),
        ("/pubmed/23906502/span/508-558", "Nineteen patients (70%) exhibited a major response"),
        ("/graph/pubmed/23906502", TITLE),
        ("/graph/metadata", "void:Dataset"),
        ("/dataset", "void:Dataset"),
        ("/pubmed/37799613", "ProDERM"),  # known only from the seed's "Cited by" list
    ):
        r = requests.get(server + path, headers={"Accept": "text/turtle"}, timeout=10)
        assert r.status_code == 200, path
        assert expect in r.text, path
        rdflib.Graph().parse(data=r.text, format="turtle")
        page = requests.get(server + path, headers={"Accept": "text/html"}, timeout=10)
        assert page.status_code == 200, path
        assert page.headers["Content-Type"].startswith("text/html"), path


def test_not_found_and_not_acceptable(server: str) -> None:
    for accept, kind in (
        ("text/html", "text/html"),
        ("application/json", "application/json"),
        ("text/turtle", "text/turtle"),
    ):
        r = requests.get(f"{server}/pubmed/1", headers={"Accept": accept}, timeout=10)
        assert r.status_code == 404 and r.headers["Content-Type"].startswith(kind), accept
        assert "Traceback" not in r.text
    turtle = requests.get(f"{server}/pubmed/1", headers={"Accept": "text/turtle"}, timeout=10)
    assert len(rdflib.Graph().parse(data=turtle.text, format="turtle")) == 0  # a comment only
    assert (
        json.loads(
            requests.get(
                f"{server}/nothing/here", headers={"Accept": "application/json"}, timeout=10
            ).text
        )["error"]["status"]
        == 404
    )
    assert (
        requests.get(
            f"{server}/pubmed/23906502", headers={"Accept": "image/png"}, timeout=10
        ).status_code
        == 406
    )
    assert requests.get(f"{server}/mesh/D999999", timeout=10).status_code == 404
    assert requests.get(f"{server}/mesh/not-a-ui", timeout=10).status_code == 404
    assert requests.post(f"{server}/pubmed/23906502", timeout=10).status_code == 405


def test_void_description(server: str) -> None:
    r = requests.get(f"{server}/.well-known/void", headers={"Accept": "text/turtle"}, timeout=10)
    assert r.status_code == 200
    g = rdflib.Graph().parse(data=r.text, format="turtle")
    dataset = rdflib.URIRef(f"{BASE}dataset")
    assert (dataset, rdflib.RDF.type, VOID.Dataset) in g
    assert (dataset, VOID.sparqlEndpoint, rdflib.URIRef(f"{server}/sparql")) in g
    assert int(g.value(dataset, VOID.triples)) > 6000
    page = requests.get(f"{server}/.well-known/void", headers={"Accept": "text/html"}, timeout=10)
    assert page.status_code == 200 and "void:sparqlEndpoint" in page.text


def test_search_binds_its_words(server: str) -> None:
    found = requests.get(
        f"{server}/search", params={"q": "Immunoglobulins dermatomyositis"}, timeout=10
    )
    assert found.status_code == 200 and 'href="/pubmed/23906502"' in found.text
    for hostile in (
        '"} } DROP ALL ; SELECT * { ?s ?p ?o',
        "<script>alert(1)</script>",
        "') || true || ('",
    ):
        r = requests.get(f"{server}/search", params={"q": hostile}, timeout=10)
        assert r.status_code == 200, hostile
        assert "<script>alert" not in r.text
        assert "/pubmed/" not in r.text.split("<ol", 1)[-1]  # nothing matched
    assert requests.get(f"{server}/search", params={"q": "x" * 501}, timeout=10).status_code == 400


def test_mesh_page_lists_the_articles(server: str) -> None:
    r = requests.get(f"{server}/mesh/D003882", timeout=10)
    assert r.status_code == 200
    assert "Dermatomyositis" in r.text and 'href="/pubmed/23906502"' in r.text
    assert "https://meshb.nlm.nih.gov/record/ui?ui=D003882" in r.text
    indexed = requests.get(f"{server}/mesh/D006801", timeout=10)  # Humans: NLM indexing
    assert indexed.status_code == 200 and indexed.text.count('href="/pubmed/') >= 10


# --- the HTML pages in a real browser ------------------------------------------------------------


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


CHROMIUM = _chromium()
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="headless Chromium is not installed (Debian: apt-get install -y chromium)",
)


def chromium(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            f"--user-data-dir={profile}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=True,
    )


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.hrefs.append(value)


@needs_chromium
def test_article_page_in_chromium(server: str, tmp_path: Path) -> None:
    dom = chromium(tmp_path / "profile", "--dump-dom", f"{server}/pubmed/23906502").stdout
    assert f"<h1>{TITLE}</h1>" in dom
    assert "19/27 (70%)" in dom and "10/19 (53%)" in dom
    mark = re.search(r'<mark class="outcome" id="span-508-558"[^>]*>([^<]*)</mark>', dom)
    assert mark and mark.group(1) == "Nineteen patients (70%) exhibited a major response"
    assert 'href="https://meshb.nlm.nih.gov/record/ui?ui=D003882"' in dom
    assert "Similar articles" in dom and 'href="/pubmed/7932419"' in dom

    links = _Links()
    links.feed(dom)
    local = sorted(
        {
            h
            for h in links.hrefs
            if urlsplit(urljoin(server + "/", h)).netloc == urlsplit(server).netloc
        }
    )
    assert len(local) >= 15
    for href in local:
        r = requests.get(
            urljoin(server + "/pubmed/23906502", href), headers={"Accept": "text/html"}, timeout=10
        )
        assert r.status_code == 200, href

    shot = tmp_path / "article.png"
    chromium(
        tmp_path / "profile",
        "--hide-scrollbars",
        "--window-size=1280,2400",
        f"--screenshot={shot}",
        f"{server}/pubmed/23906502",
    )
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000
    keep = os.environ.get("KG_SCREENSHOT")  # a copy for people: KG_SCREENSHOT=out/seed-article.png
    if keep:
        Path(keep).write_bytes(data)


@needs_chromium
def test_other_pages_render_in_chromium(server: str, tmp_path: Path) -> None:
    """The study, MeSH and search pages in the browser (the home, query, VoID and error pages
    are checked over HTTP above: one browser start each is the cost here)."""
    pages = {
        "/pubmed/23906502/study/1": "19/27 (70%)",
        "/mesh/D003882": "Dermatomyositis",
        "/search?q=immunoglobulins": TITLE,
    }

    def dump(item: tuple[int, str]) -> str:
        i, path = item
        return chromium(tmp_path / f"profile{i}", "--dump-dom", server + path).stdout

    with ThreadPoolExecutor(max_workers=len(pages)) as pool:
        doms = dict(zip(pages, pool.map(dump, enumerate(pages)), strict=True))
    for path, expect in pages.items():
        assert expect in doms[path], path
        assert "<main>" in doms[path] and "Traceback" not in doms[path], path


def test_serve_without_a_store_says_so(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["serve", "--store", str(tmp_path / "none"), "--port", "0"])
    assert result.exit_code == 3
    assert "no store here" in result.output and "Traceback" not in result.output


# --- HTTP around the answers: dataset parameters, CORS, validators, the access log -------------


def test_named_graph_uri_alone_leaves_the_default_graph_empty(server: str) -> None:
    """SPARQL 1.1 Protocol §2.1.4: the request's dataset replaces the union default graph."""
    meta = f"{BASE}graph/metadata"

    def ask(query: str, **dataset: str) -> bool:
        params = {"query": query, **{k.replace("_", "-"): v for k, v in dataset.items()}}
        r = requests.get(f"{server}/sparql", params=params,
                         headers={"Accept": "application/sparql-results+json"}, timeout=10)
        assert r.status_code == 200, r.text
        return bool(r.json()["boolean"])

    assert ask("ASK { ?s ?p ?o }")  # no dataset given: the union of every graph
    assert not ask("ASK { ?s ?p ?o }", named_graph_uri=meta)
    assert ask("ASK { GRAPH ?g { ?s ?p ?o } }", named_graph_uri=meta)
    assert ask("ASK { ?s ?p ?o }", default_graph_uri=meta)
    assert not ask("ASK { GRAPH ?g { ?s ?p ?o } }", default_graph_uri=meta)


def test_cors_lets_a_query_page_on_another_site_ask(server: str) -> None:
    origin = {"Origin": "https://yasgui.example"}
    preflight = requests.options(
        f"{server}/sparql",
        headers={**origin, "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type, accept"},
        timeout=10,
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "content-type" in preflight.headers["Access-Control-Allow-Headers"].lower()
    answer = requests.post(
        f"{server}/sparql",
        data={"query": 'ASK { ?a fabio:hasPubMedId "23906502" }'},
        headers={**origin, "Accept": "application/sparql-results+json"},
        timeout=10,
    )
    assert answer.json()["boolean"] is True
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    page = requests.get(f"{server}/pubmed/23906502", headers={**origin, "Accept": "text/turtle"},
                        timeout=10)
    assert page.headers["Access-Control-Allow-Origin"] == "*"


def test_validators_answer_304_until_the_representation_changes(server: str) -> None:
    url = f"{server}/pubmed/23906502"
    turtle = requests.get(url, headers={"Accept": "text/turtle"}, timeout=10)
    html = requests.get(url, headers={"Accept": "text/html"}, timeout=10)
    assert turtle.status_code == html.status_code == 200
    etag, modified = turtle.headers["ETag"], turtle.headers["Last-Modified"]
    assert etag.startswith('W/"') and html.headers["ETag"] != etag  # one tag per media type
    assert "max-age" in turtle.headers["Cache-Control"]
    again = requests.get(url, headers={"Accept": "text/turtle", "If-None-Match": etag}, timeout=10)
    assert again.status_code == 304 and again.content == b""
    assert again.headers["ETag"] == etag
    other = requests.get(url, headers={"Accept": "text/html", "If-None-Match": etag}, timeout=10)
    assert other.status_code == 200 and other.content == html.content
    since = requests.get(url, headers={"Accept": "text/turtle", "If-Modified-Since": modified},
                         timeout=10)
    assert since.status_code == 304
    older = requests.get(url, headers={"Accept": "text/turtle",
                                       "If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"},
                         timeout=10)
    assert older.status_code == 200 and older.content == turtle.content
    query = requests.get(f"{server}/sparql", params={"query": "ASK { ?s ?p ?o }"},
                         headers={"Accept": "application/json"}, timeout=10)
    assert "ETag" in query.headers
    missing = requests.get(f"{server}/pubmed/1", headers={"Accept": "text/turtle"}, timeout=10)
    assert missing.status_code == 404 and "ETag" not in missing.headers


def test_every_request_gets_one_access_log_line(
    server: str, store_dir: Path, kg_serve_log: Callable[[Path, str], Path]
) -> None:
    marker = "/pubmed/23906502?access=log%0Aforged"
    requests.get(f"{server}{marker}", headers={"Accept": "text/turtle"}, timeout=10)
    requests.get(f"{server}/no/such/page", headers={"Accept": "text/turtle"}, timeout=10)
    log = kg_serve_log(store_dir, server)
    deadline = time.monotonic() + 10
    while True:
        lines = log.read_text(encoding="utf-8").splitlines()
        mine = [line for line in lines if "access=log" in line or "/no/such/page" in line]
        if len(mine) == 2 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert len(mine) == 2, lines[-5:]
    assert re.search(r'127\.0\.0\.1 "GET /pubmed/23906502\?access=log%0Aforged HTTP/1\.1" 200 \d+ ',
                     mine[0]), mine[0]
    assert re.search(r'"GET /no/such/page HTTP/1\.1" 404 ', mine[1]), mine[1]
    assert not any(line.startswith("forged") for line in lines)


def test_serve_takes_the_base_iri_from_the_store(
    tmp_path: Path, kg_serve: Callable[..., AbstractContextManager[str]],
    kg_serve_log: Callable[[Path, str], Path],
) -> None:
    base = "http://kg.example/id/"
    store = tmp_path / "store"
    built = CliRunner().invoke(main, ["build", str(SEED), "--store", str(store), "--base-iri", base])
    assert built.exit_code == 0, built.output
    with kg_serve(store, base_iri=None) as url:
        page = requests.get(f"{url}/pubmed/23906502", headers={"Accept": "text/turtle"}, timeout=10)
        said = kg_serve_log(store, url).read_text(encoding="utf-8")
    assert page.status_code == 200, page.text
    g = rdflib.Graph().parse(data=page.text, format="turtle")
    assert (rdflib.URIRef(f"{base}pubmed/23906502"), DCT.title, rdflib.Literal(TITLE)) in g
    assert f"as {base} on" in said
    with kg_serve(store, base_iri=BASE) as url:  # told otherwise: served so, with a warning
        page = requests.get(f"{url}/pubmed/23906502", headers={"Accept": "text/turtle"}, timeout=10)
        said = kg_serve_log(store, url).read_text(encoding="utf-8")
    assert page.status_code == 404
    assert "kg: warning: serving as <https://w3id.org/kg/id/>" in said and base in said


def test_resource_pages_name_what_they_link_to(server: str) -> None:
    """The generic page shows labels, titles, quotes and MeSH names, not raw IRIs."""
    study = requests.get(f"{server}/pubmed/23906502/study/1", headers={"Accept": "text/html"},
                         timeout=10)
    outcome = requests.get(f"{server}/pubmed/23906502/outcome/1", headers={"Accept": "text/html"},
                           timeout=10)
    cited = requests.get(f"{server}/pubmed/37799613", headers={"Accept": "text/html"}, timeout=10)
    for page in (study, outcome, cited):
        assert page.status_code == 200
    assert '>Nineteen patients (70%) exhibited a major response' in outcome.text  # the span's quote
    assert f">{BASE}pubmed/23906502/span" not in outcome.text
    assert ">Clinical efficacy of intravenous immunoglobulins for the treatment of dermatomyositis" in cited.text
    assert f">{BASE}pubmed/23906502<" not in cited.text
    assert '>/pubmed/23906502/measurement/1</a>' in outcome.text  # unnamed: its path here


# --- the W3C SPARQL 1.1 Protocol query tests (protocol/manifest.ttl), on kg's read-only store --
# The suite's datasets name graphs on the web (data1.rdf…); the endpoint fetches nothing, so
# the dataset tests name graphs the store holds. The update tests become "refused" (403).

_SEED_GRAPH = f"{BASE}graph/pubmed/23906502"
_META_GRAPH = f"{BASE}graph/metadata"
_ASK_SEED = 'ASK { ?a <http://purl.org/spar/fabio/hasPubMedId> "23906502" }'
_GRAPHS = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g"
_JSON = {"Accept": "application/sparql-results+json"}


def _w3c(server: str, name: str) -> requests.Response:
    """One request of the suite's tests, named as in its manifest."""
    url = f"{server}/sparql"
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    direct = {"Content-Type": "application/sparql-query"}
    requests_by_name: dict[str, Callable[[], requests.Response]] = {
        "query_post_form": lambda: requests.post(url, data={"query": _ASK_SEED}, headers=_JSON),
        "query_get": lambda: requests.get(url, params={"query": _ASK_SEED}, headers=_JSON),
        "query_post_direct": lambda: requests.post(url, data=_ASK_SEED.encode(),
                                                   headers={**direct, **_JSON}),
        "query_dataset_default_graphs_get": lambda: requests.get(
            url, params={"query": _ASK_SEED, "default-graph-uri": _SEED_GRAPH}, headers=_JSON),
        "query_dataset_default_graphs_post": lambda: requests.post(
            url + "?" + urlencode({"default-graph-uri": _SEED_GRAPH}),
            data=_ASK_SEED.encode(), headers={**direct, **_JSON}),
        "query_dataset_named_graphs_get": lambda: requests.get(
            url, params={"query": _GRAPHS, "named-graph-uri": _SEED_GRAPH}, headers=_JSON),
        "query_dataset_named_graphs_post": lambda: requests.post(
            url, data={"query": _GRAPHS, "named-graph-uri": _SEED_GRAPH}, headers=_JSON),
        "query_dataset_full": lambda: requests.get(
            url, params=[("query", "SELECT * WHERE { { ?a ?b ?c } UNION { GRAPH ?g { ?x ?y ?z } } } LIMIT 1"),
                         ("default-graph-uri", _META_GRAPH), ("named-graph-uri", _SEED_GRAPH)],
            headers=_JSON),
        "query_multiple_dataset": lambda: requests.get(
            url, params=[("query", _ASK_SEED.replace("ASK", f"ASK FROM <{_META_GRAPH}>")),
                         ("default-graph-uri", _SEED_GRAPH)], headers=_JSON),
        "query_content_type_select": lambda: requests.get(
            url, params={"query": "SELECT (1 AS ?one) {}"}, headers=_JSON),
        "query_content_type_ask": lambda: requests.get(
            url, params={"query": _ASK_SEED}, headers={"Accept": "application/sparql-results+xml"}),
        "query_content_type_describe": lambda: requests.get(
            url, params={"query": f"DESCRIBE <{ARTICLE}>"}, headers={"Accept": "text/turtle"}),
        "query_content_type_construct": lambda: requests.get(
            url, params={"query": f"CONSTRUCT WHERE {{ <{ARTICLE}> ?p ?o }}"},
            headers={"Accept": "application/rdf+xml"}),
        "bad_query_method": lambda: requests.put(url + "?" + urlencode({"query": "ASK {}"})),
        "bad_multiple_queries": lambda: requests.get(
            url, params=[("query", "ASK {}"), ("query", "SELECT * {}")]),
        "bad_query_wrong_media_type": lambda: requests.post(
            url, data=b"ASK {}", headers={"Content-Type": "text/plain"}),
        "bad_query_missing_form_type": lambda: requests.post(
            url, data=b"query=ASK%20%7B%7D", headers={"Content-Type": ""}),
        "bad_query_missing_direct_type": lambda: requests.post(
            url, data=b"ASK {}", headers={"Content-Type": ""}),
        "bad_query_non_utf8": lambda: requests.post(
            url, data="ASK { ?s ?p 'é' }".encode("utf-16"), headers=direct),
        "bad_query_syntax": lambda: requests.get(url, params={"query": "ASK {"}),
        "bad_update_get": lambda: requests.get(
            url, params={"update": "CLEAR ALL"}),
        "bad_multiple_updates": lambda: requests.post(
            url, data=[("update", "CLEAR NAMED"), ("update", "CLEAR DEFAULT")], headers=form),
        "bad_update_wrong_media_type": lambda: requests.post(
            url, data=b"CLEAR NAMED", headers={"Content-Type": "text/plain"}),
        "bad_update_missing_form_type": lambda: requests.post(
            url, data=b"update=CLEAR%20NAMED", headers={"Content-Type": ""}),
        "bad_update_non_utf8": lambda: requests.post(
            url, data="CLEAR GRAPH <http://é/>".encode("utf-16"),
            headers={"Content-Type": "application/sparql-update"}),
        "bad_update_syntax": lambda: requests.post(
            url, data={"update": "CLEAR XYZ"}, headers=form),
        "bad_update_dataset_conflict": lambda: requests.post(
            url + "?" + urlencode({"using-graph-uri": _SEED_GRAPH}),
            data=b"DELETE { ?s ?p ?o } USING <http://x/> WHERE { ?s ?p ?o }",
            headers={"Content-Type": "application/sparql-update"}),
    }
    return requests_by_name[name]()


_W3C_EXPECTED: dict[str, tuple[int, ...]] = {
    # positive tests: 200 and the answer the dataset gives
    **{name: (200,) for name in (
        "query_post_form", "query_get", "query_post_direct", "query_dataset_default_graphs_get",
        "query_dataset_default_graphs_post", "query_dataset_named_graphs_get",
        "query_dataset_named_graphs_post", "query_dataset_full", "query_multiple_dataset",
        "query_content_type_select", "query_content_type_ask", "query_content_type_describe",
        "query_content_type_construct",
    )},
    # negative tests: a client error (4xx); what the suite leaves open, kg answers precisely
    "bad_query_method": (405,),
    "bad_multiple_queries": (400,),
    "bad_query_wrong_media_type": (415,),
    "bad_query_missing_form_type": (415,),
    "bad_query_missing_direct_type": (415,),
    "bad_query_non_utf8": (400,),
    "bad_query_syntax": (400,),
    # updates: this endpoint is read-only; every one is refused, whatever its faults
    **{name: (400, 403, 415) for name in (
        "bad_update_get", "bad_multiple_updates", "bad_update_wrong_media_type",
        "bad_update_missing_form_type", "bad_update_non_utf8", "bad_update_syntax",
        "bad_update_dataset_conflict",
    )},
}


@pytest.mark.parametrize("name", sorted(_W3C_EXPECTED))
def test_w3c_sparql_protocol_query_suite(server: str, name: str) -> None:
    answer = _w3c(server, name)
    assert answer.status_code in _W3C_EXPECTED[name], (name, answer.status_code, answer.text[:300])
    if answer.status_code >= 400:
        assert "Traceback" not in answer.text
        return
    kind = answer.headers["Content-Type"]
    if name == "query_content_type_ask":
        assert kind.startswith("application/sparql-results+xml") and "<boolean>true" in answer.text
    elif name == "query_content_type_describe":
        assert kind.startswith("text/turtle") and TITLE in answer.text
    elif name == "query_content_type_construct":
        assert kind.startswith("application/rdf+xml") and TITLE in answer.text
    elif name == "query_content_type_select":
        assert answer.json()["results"]["bindings"] == [
            {"one": {"type": "literal", "value": "1",
                     "datatype": "http://www.w3.org/2001/XMLSchema#integer"}}]
    elif name.startswith("query_dataset_named_graphs"):
        rows = answer.json()["results"]["bindings"]
        assert [r["g"]["value"] for r in rows] == [_SEED_GRAPH]
    elif name == "query_dataset_full":
        row = answer.json()["results"]["bindings"][0]
        assert "g" not in row or row["g"]["value"] == _SEED_GRAPH
    elif name == "query_multiple_dataset":  # the protocol's dataset wins over FROM
        assert answer.json()["boolean"] is True
        alone = requests.get(f"{server}/sparql", params={
            "query": _ASK_SEED.replace("ASK", f"ASK FROM <{_META_GRAPH}>")}, headers=_JSON)
        assert alone.json()["boolean"] is False  # FROM alone: the metadata graph
    elif name.startswith("query_dataset_default_graphs"):
        assert answer.json()["boolean"] is True
        other = requests.get(f"{server}/sparql", params={
            "query": _ASK_SEED, "default-graph-uri": _META_GRAPH}, headers=_JSON)
        assert other.json()["boolean"] is False  # the graph given, not the union
    else:
        assert answer.json()["boolean"] is True


# --- plots of the evidence ---------------------------------------------------------------------


def _svg_rows(page: str) -> list[str]:
    """The numbers each row of the page's plots prints ("19/27 · 70% (51.5–84.1)")."""
    return re.findall(r">(\d+/\d+ · \d+% \(\d+\.\d–\d+\.\d\))</text>", page)


def test_article_plot_draws_the_graphs_proportions_with_wilson_intervals(
    server: str, store_dir: Path
) -> None:
    from statsmodels.stats.proportion import proportion_confint

    page = requests.get(f"{server}/pubmed/23906502", headers={"Accept": "text/html"}, timeout=10)
    assert page.status_code == 200
    assert page.text.count("<svg") >= 1 and "95% Wilson" in page.text
    drawn = _svg_rows(page.text)
    assert "19/27 · 70% (51.5–84.1)" in drawn  # the seed's major response, as the issue states it
    store = pyoxigraph.Store.read_only(str(store_dir / "current"))
    measured = [
        (int(r["c"].value), int(r["n"].value))
        for r in store.query(
            "SELECT ?c ?n WHERE { GRAPH ?g { ?a <http://purl.org/spar/fabio/hasPubMedId> \"23906502\" ;"
            " <https://w3id.org/kg/ontology#reportsStudy>/<https://w3id.org/kg/ontology#outcome>/"
            "<https://w3id.org/kg/ontology#measurement> ?m . ?m <https://w3id.org/kg/ontology#count> ?c ;"
            " <https://w3id.org/kg/ontology#denominator> ?n } }"
        )
    ]
    expected = []
    for c, n in measured:
        low, high = proportion_confint(c, n, alpha=0.05, method="wilson")
        expected.append(f"{c}/{n} · {100 * c / n:.0f}% ({100 * low:.1f}–{100 * high:.1f})")
    assert sorted(drawn) == sorted(expected) and len(drawn) >= 5


def test_mesh_page_plots_outcomes_across_studies_and_counts(server: str) -> None:
    page = requests.get(f"{server}/mesh/D003882", headers={"Accept": "text/html"}, timeout=10)
    assert page.status_code == 200
    assert "Evidence at a glance" in page.text
    assert 'aria-label="Articles by design"' in page.text  # the seed's page text has no year
    assert re.search(r'aria-label="Response: \d+ outcome\(s\) across studies"', page.text)
    assert "23906502: major response" in page.text
    assert "19/27 · 70% (51.5–84.1)" in _svg_rows(page.text)
    assert 'href="/pubmed/23906502"' in page.text
    humans = requests.get(f"{server}/mesh/D006801", headers={"Accept": "text/html"}, timeout=10)
    assert 'aria-label="Articles by year"' in humans.text
    years = re.findall(r"<title>((?:19|20)\d\d): (\d+) articles</title>", humans.text)
    assert years and sum(int(n) for _, n in years) == 10  # the 10 gold records indexed Humans
    studies = set(re.findall(r">(\d{7,8}): [^<]*</text>", humans.text))
    assert len(studies) >= 2  # one forest row per study's outcome, across studies
    nothing = requests.get(f"{server}/mesh/D000001", headers={"Accept": "text/html"}, timeout=10)
    assert "<svg" not in nothing.text  # a term no article names: no empty plot


@needs_chromium
def test_plots_render_in_chromium(server: str, tmp_path: Path) -> None:
    """The pages with plots, as a browser draws them: the SVG is in the DOM and the screenshot
    is a real picture (KG_SCREENSHOTS=DIR keeps them for the README)."""
    keep = os.environ.get("KG_SCREENSHOTS")
    for name, path, height in (("article", "/pubmed/23906502", 2600), ("mesh", "/mesh/D003882", 2000),
                               ("search", "/search?q=immunoglobulins", 1200)):
        dom = chromium(tmp_path / f"p-{name}", "--dump-dom", server + path).stdout
        assert "Traceback" not in dom, name
        if name != "search":
            assert "<svg" in dom and "19/27 · 70% (51.5–84.1)" in dom, name
        shot = tmp_path / f"{name}.png"
        chromium(tmp_path / f"p-{name}", "--hide-scrollbars", f"--window-size=1280,{height}",
                 f"--screenshot={shot}", server + path)
        data = shot.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 30_000, name
        if keep:
            (Path(keep) / f"{name}.png").write_bytes(data)


def test_no_access_log_writes_no_request_lines(
    store_dir: Path, kg_serve: Callable[..., AbstractContextManager[str]],
    kg_serve_log: Callable[[Path, str], Path],
) -> None:
    with kg_serve(store_dir, "--no-access-log") as url:
        assert requests.get(f"{url}/pubmed/23906502?quiet=1", headers={"Accept": "text/turtle"},
                            timeout=10).status_code == 200
        time.sleep(0.5)
        said = kg_serve_log(store_dir, url).read_text(encoding="utf-8")
    assert "quiet=1" not in said and '"GET ' not in said
