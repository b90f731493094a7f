"""kg fetch against a local E-utilities look-alike on 127.0.0.1 that replays real PubMed records.

The server answers efetch with exactly the requested records (cut whole from a real PubMed
export, tests/data/eutils/), esearch and elink in NCBI's XML shapes, and injects faults per
test: 429 bursts (with and without Retry-After), 5xx, connection resets, answers slower than
the client's timeout, bodies cut mid-record (with and without Content-Length), HTML error pages
sent with status 200, and answers missing records. Nothing here touches the internet.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pyoxigraph
import pytest
from click.testing import CliRunner
from lxml import etree

from kg import fetch as kg_fetch
from kg.cli import main
from kg.errors import NetworkError
from kg.models import Article
from kg.parse.pubmed_xml import iter_records
from kg.sources.eutils import (
    CITED_BY,
    SIMILAR,
    EutilsClient,
    EutilsSettings,
    RateLimiter,
    efetch,
    elink,
    esearch,
)
from kg.sources.files import read_file

DATA = Path(__file__).parent / "data" / "eutils"
SOURCE = DATA / "p1m-ortho-qs-global__pubmed_result.xml.gz"
TERM = "orthopaedic infection case reports"
BASE = "https://w3id.org/kg/id/"


# --- the records the server holds, and what kg must make of them ---------------------------


def _load() -> tuple[dict[str, bytes], str]:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    with gzip.open(SOURCE) as fh:
        tree = etree.parse(fh, parser)
    records = {
        el.findtext("MedlineCitation/PMID"): etree.tostring(el, encoding="UTF-8", with_tail=False)
        for el in tree.getroot().iterfind("PubmedArticle")
    }
    return records, tree.docinfo.doctype


RECORDS, DOCTYPE = _load()
PMIDS = list(RECORDS)
with gzip.open(SOURCE) as _fh:
    EXPECTED = {
        r.pmid: replace(r, source=None)
        for r in iter_records(_fh, source=str(SOURCE))
        if isinstance(r, Article)
    }


def similar_of(pmid: str) -> list[str]:
    """The server's "similar articles": the article itself first (as NCBI does), then 3 more."""
    i = PMIDS.index(pmid)
    return [pmid] + [PMIDS[(i + k) % len(PMIDS)] for k in (1, 2, 3)]


def cited_by_of(pmid: str) -> list[str]:
    i = PMIDS.index(pmid)
    return [PMIDS[i - 1]] if i % 2 == 0 else []


def articles_in(path: Path) -> dict[str, Article]:
    """The records of a written file, by PMID; fails on a PMID written twice."""
    found: dict[str, Article] = {}
    for r in read_file(path):
        assert isinstance(r, Article), r
        assert r.pmid not in found, f"{r.pmid} written twice"
        found[r.pmid] = replace(r, source=None)
    return found


def records_in(path: Path) -> dict[str, bytes]:
    """Each record of a written PubmedArticleSet as XML, by PMID; fails on a PMID written twice."""
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rb") as fh:
        root = etree.parse(fh, etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
    assert root.tag == "PubmedArticleSet"
    found: dict[str, bytes] = {}
    for el in root:
        pmid = el.findtext("MedlineCitation/PMID")
        assert pmid not in found, f"{pmid} written twice"
        found[pmid] = etree.tostring(el, encoding="UTF-8", with_tail=False)
    return found


def assert_all_records(path: Path, pmids: list[str] = PMIDS, *, parse: bool = False) -> None:
    """``path`` holds exactly ``pmids``, each record as the source has it, element for element.

    ``parse``: also read it with kg's parser and compare every field of every Article.
    """
    got = records_in(path)
    assert set(got) == set(pmids)
    for pmid in pmids:
        assert got[pmid] == RECORDS[pmid], pmid
    if parse:
        articles = articles_in(path)
        assert all(articles[p] == EXPECTED[p] for p in pmids)  # title, abstract, authors, MeSH…


# --- the server ----------------------------------------------------------------------------


@dataclass
class Req:
    endpoint: str
    params: dict[str, list[str]]
    method: str
    at: float

    def one(self, name: str) -> str | None:
        return self.params.get(name, [None])[0]

    @property
    def ids(self) -> tuple[str, ...]:
        values = self.params.get("id", [])
        return tuple(i for v in values for i in v.split(",") if i)


Action = tuple[Any, ...]
Fault = Callable[[Req], Action | None]


@dataclass
class FakeEutils:
    url: str = ""
    requests: list[Req] = field(default_factory=list)
    fault: Fault | None = None
    history: dict[str, list[list[str]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def efetches(self) -> list[tuple[str, ...]]:
        return [r.ids for r in self.requests if r.endpoint == "efetch.fcgi"]

    # answers in NCBI's shapes

    def answer(self, req: Req, drop: frozenset[str] = frozenset()) -> bytes:
        if req.endpoint == "efetch.fcgi":
            body = [b'<?xml version="1.0" ?>\n', DOCTYPE.encode(), b"\n<PubmedArticleSet>\n"]
            body += [RECORDS[p] + b"\n" for p in req.ids if p in RECORDS and p not in drop]
            return b"".join([*body, b"</PubmedArticleSet>\n"])
        if req.endpoint == "elink.fcgi":
            return self.elink(req)
        if req.endpoint == "esearch.fcgi":
            return self.esearch(req)
        raise ValueError(req.endpoint)

    def elink(self, req: Req) -> bytes:
        linkname = req.one("linkname")
        out = [
            '<?xml version="1.0" encoding="UTF-8" ?>\n<!DOCTYPE eLinkResult PUBLIC "-//NLM//DTD'
            ' elink 20101123//EN" "https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20101123/elink.dtd">'
            "\n<eLinkResult>\n"
        ]
        for pmid in req.ids:
            out.append(f"<LinkSet>\n\t<DbFrom>pubmed</DbFrom>\n\t<IdList>\n\t\t<Id>{pmid}</Id>\n")
            out.append("\t</IdList>\n")
            links = (similar_of if linkname == SIMILAR else cited_by_of)(pmid)
            if links:
                out.append(f"\t<LinkSetDb>\n\t\t<DbTo>pubmed</DbTo>\n\t\t<LinkName>{linkname}")
                out.append("</LinkName>\n")
                out += [f"\t\t<Link>\n\t\t\t<Id>{x}</Id>\n\t\t</Link>\n" for x in links]
                out.append("\t</LinkSetDb>\n")
            out.append("</LinkSet>\n")
        out.append("</eLinkResult>\n")
        return "".join(out).encode()

    def esearch(self, req: Req) -> bytes:
        term = req.one("term") or ""
        webenv = req.one("WebEnv")
        if term.startswith("#") and webenv in self.history:
            ids = self.history[webenv][int(term[1:]) - 1]
        else:
            ids = PMIDS if term == TERM else []
        if req.one("usehistory") == "y":
            webenv = webenv or f"MCID_{len(self.history) + 1:024x}"
            self.history.setdefault(webenv, []).append(ids)
        start, size = int(req.one("retstart") or 0), int(req.one("retmax") or 20)
        page = ids[start : start + size]
        history = (
            f"<QueryKey>{len(self.history[webenv])}</QueryKey><WebEnv>{webenv}</WebEnv>"
            if webenv
            else ""
        )
        return (
            '<?xml version="1.0" encoding="UTF-8" ?>\n<!DOCTYPE eSearchResult PUBLIC "-//NLM//DTD'
            ' esearch 20060628//EN" "https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20060628/esearch.dtd">'
            f"\n<eSearchResult><Count>{len(ids)}</Count><RetMax>{len(page)}</RetMax>"
            f"<RetStart>{start}</RetStart>{history}<IdList>\n"
            + "".join(f"<Id>{p}</Id>\n" for p in page)
            + f"</IdList><TranslationSet/><QueryTranslation>{term}</QueryTranslation>"
            "</eSearchResult>\n"
        ).encode()


HTML_ERROR = (
    b"<!DOCTYPE html>\n<html><head><title>Service unavailable</title></head><body>\n"
    b"<h1>Sorry, the service is temporarily unavailable</h1><p>Please try again later.<br>\n"
    b"</body></html>\n"
)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    fake: FakeEutils

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self.serve(parse_qs(urlsplit(self.path).query, keep_blank_values=True))

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = self.rfile.read(length).decode()
        self.serve(parse_qs(form, keep_blank_values=True))

    def serve(self, params: dict[str, list[str]]) -> None:
        fake = self.fake
        req = Req(urlsplit(self.path).path.rsplit("/", 1)[-1], params, self.command, time.monotonic())
        with fake.lock:
            fake.requests.append(req)
            action = fake.fault(req) if fake.fault else None
            kind = action[0] if action else None
            body = fake.answer(req, drop=action[1] if kind == "drop" else frozenset())
        if kind == "status":
            _, code, headers = action  # type: ignore[misc]
            self.send(code, b"<html><body>error</body></html>", headers, "text/html")
        elif kind == "reset":  # close the socket without a word (RST)
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
        elif kind == "slow":
            time.sleep(action[1])  # type: ignore[index]
            self.send(200, body)
        elif kind == "truncate":
            keep_length = action[1]  # type: ignore[index]
            self.send_response(200)
            self.send_header("Content-Type", "text/xml; charset=UTF-8")
            if keep_length:
                self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])  # mid-record
            self.close_connection = True
        elif kind == "html":
            self.send(200, HTML_ERROR, {}, "text/html")
        elif kind == "ncbi-error":
            self.send(200, b'<?xml version="1.0" ?>\n<eFetchResult>\n\t<ERROR>Unable to obtain query'
                      b" #1</ERROR>\n</eFetchResult>\n")  # fmt: skip
        else:
            self.send(200, body)

    def send(
        self, code: int, body: bytes, headers: dict[str, str] | None = None, ctype: str = "text/xml"
    ) -> None:
        self.send_response(code)
        self.send_header("Content-Type", f"{ctype}; charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up on a slow answer: expected here


@pytest.fixture
def server() -> Iterator[FakeEutils]:
    fake = FakeEutils()
    handler = type("BoundHandler", (Handler,), {"fake": fake})
    httpd = Server(("127.0.0.1", 0), handler)
    fake.url = f"http://127.0.0.1:{httpd.server_address[1]}/entrez/eutils/"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield fake
    httpd.shutdown()
    httpd.server_close()


def make_client(server: FakeEutils, tmp_path: Path, **options: Any) -> EutilsClient:
    settings: dict[str, Any] = {
        "base_url": server.url,
        "email": "kg-tests@example.org",
        "cache_dir": tmp_path / "cache",
        "timeout": 5.0,
        "max_retries": 3,
        "backoff": 0.001,
        "max_backoff": 0.01,
        "rate": 1000,  # the rate limit has its own test; the others need not wait
    }
    settings.update(options)
    sleep = settings.pop("sleep", time.sleep)
    return EutilsClient(EutilsSettings(**settings), sleep=sleep)


def first_tries(n: int, action: Action, endpoint: str = "efetch.fcgi") -> Fault:
    """Each distinct request (same endpoint and IDs) meets ``action`` on its first ``n`` tries."""
    seen: dict[tuple[str, tuple[str, ...]], int] = {}

    def fault(req: Req) -> Action | None:
        if req.endpoint != endpoint:
            return None
        key = (req.endpoint, req.ids)
        seen[key] = seen.get(key, 0) + 1
        return action if seen[key] <= n else None

    return fault


def cli(*args: str, expect: int = 0) -> Any:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == expect, (result.output, result.exception)
    assert "Traceback" not in result.output
    return result


# --- every record exactly once, whatever the network does ----------------------------------

FAULTS: dict[str, Action] = {
    "none": ("none",),
    "429": ("status", 429, {}),
    "429-retry-after": ("status", 429, {"Retry-After": "0"}),
    "500": ("status", 500, {}),
    "502": ("status", 502, {}),
    "503": ("status", 503, {}),
    "reset": ("reset",),
    "slow": ("slow", 0.5),
    "truncated": ("truncate", True),
    "truncated-no-length": ("truncate", False),
    "html-200": ("html",),
    "ncbi-error-200": ("ncbi-error",),
    "records-missing": ("drop", frozenset(PMIDS[::7])),
}


@pytest.mark.parametrize("kind", list(FAULTS))
def test_every_record_exactly_once(kind: str, server: FakeEutils, tmp_path: Path) -> None:
    server.fault = first_tries(2, FAULTS[kind]) if kind != "none" else None
    timeout = 0.3 if kind == "slow" else 5.0
    out = tmp_path / "out.xml.gz"
    with make_client(server, tmp_path, timeout=timeout) as client:
        report = kg_fetch.fetch_to_file(client, PMIDS, out, batch_size=60, workers=3)
    assert report.ok, report.problems()
    assert (report.requested, report.records, report.batches) == (292, 292, 5)
    assert_all_records(out, parse=kind == "none")
    tries = 1 if kind == "none" else 3
    assert sorted(server.efetches()) == sorted(
        tuple(PMIDS[i : i + 60]) for i in range(0, 292, 60) for _ in range(tries)
    )
    assert report.retries == 5 * (tries - 1)
    # NCBI's etiquette on every request
    assert all(r.one("tool") == "kg" and r.one("email") for r in server.requests)


def test_retry_after_is_honoured(server: FakeEutils, tmp_path: Path) -> None:
    slept: list[float] = []
    server.fault = first_tries(1, ("status", 429, {"Retry-After": "7"}))
    with make_client(server, tmp_path, sleep=slept.append) as client:
        efetch(client, PMIDS[:3])
    assert slept == [7.0]  # NCBI's wait, not the (tiny) backoff
    when = formatdate(time.time() + 30, usegmt=True)  # the HTTP-date form
    server.fault = first_tries(1, ("status", 503, {"Retry-After": when}))
    with make_client(server, tmp_path, sleep=slept.append) as client:
        efetch(client, PMIDS[3:6])
    assert 25 < slept[1] <= 30


def test_backoff_grows_exponentially_with_jitter(server: FakeEutils, tmp_path: Path) -> None:
    slept: list[float] = []
    server.fault = first_tries(4, ("status", 500, {}))
    with make_client(server, tmp_path, backoff=1.0, max_backoff=60, max_retries=4,
                     sleep=slept.append) as client:  # fmt: skip
        efetch(client, PMIDS[:2])
    assert len(slept) == 4
    for n, wait in enumerate(slept):
        assert 2**n / 2 <= wait <= 2**n  # half to all of backoff * 2**n


def test_long_id_lists_are_posted(server: FakeEutils, tmp_path: Path) -> None:
    with make_client(server, tmp_path) as client:
        kg_fetch.fetch(client, PMIDS[:210], io.BytesIO(), batch_size=200, workers=1)
    assert [(r.method, len(r.ids)) for r in server.requests] == [("POST", 200), ("GET", 10)]


# --- resuming: only what is missing is asked for again ------------------------------------


def test_killed_run_resumes_with_only_missing_batches(server: FakeEutils, tmp_path: Path) -> None:
    out = tmp_path / "out.xml"

    class Killed(Exception):
        pass

    def kill_after_two(batch: kg_fetch.Batch) -> None:
        if len(server.efetches()) >= 2:
            raise Killed

    with make_client(server, tmp_path) as client, pytest.raises(Killed):
        kg_fetch.fetch_to_file(client, PMIDS, out, batch_size=50, workers=1, on_batch=kill_after_two)
    assert not out.exists()  # never a half-written file
    assert not list(tmp_path.glob(".out.xml*"))
    first = set(server.efetches())
    assert len(first) == 2
    server.requests.clear()
    with make_client(server, tmp_path) as client:
        report = kg_fetch.fetch_to_file(client, PMIDS, out, batch_size=50, workers=1)
    assert report.ok and report.cached == 2
    second = set(server.efetches())
    batches = {tuple(PMIDS[i : i + 50]) for i in range(0, 292, 50)}
    assert first.isdisjoint(second) and first | second == batches
    assert_all_records(out)
    server.requests.clear()  # a third run needs no network at all
    with make_client(server, tmp_path, offline=True) as client:
        assert kg_fetch.fetch_to_file(client, PMIDS, out, batch_size=50).ok
    assert server.requests == []


def test_damaged_cache_file_is_asked_for_again(server: FakeEutils, tmp_path: Path) -> None:
    out = tmp_path / "out.xml"
    with make_client(server, tmp_path) as client:
        kg_fetch.fetch_to_file(client, PMIDS[:100], out, batch_size=50)
    damaged = sorted((tmp_path / "cache" / "efetch").glob("*.xml"))[0]
    damaged.write_bytes(damaged.read_bytes()[:5000])  # cut mid-record, as a crash or a full disk
    server.requests.clear()
    with make_client(server, tmp_path) as client:
        assert kg_fetch.fetch_to_file(client, PMIDS[:100], out, batch_size=50).ok
    assert len(server.efetches()) == 1
    assert_all_records(out, PMIDS[:100])


def test_permanent_fault_keeps_the_rest_then_resumes(server: FakeEutils, tmp_path: Path) -> None:
    broken = set(PMIDS[100:])  # every batch after the second fails, whatever the retries
    server.fault = lambda req: ("status", 503, {}) if broken & set(req.ids) else None
    out = tmp_path / "out.xml.gz"
    with make_client(server, tmp_path, max_retries=2) as client:
        report = kg_fetch.fetch_to_file(client, PMIDS, out, batch_size=50, workers=3)
    assert not report.ok
    assert report.failed == PMIDS[100:]
    assert "192 PMIDs not fetched" in report.problems()[0] and PMIDS[-1] in report.problems()[0]
    assert_all_records(out, PMIDS[:100])  # what could be fetched was written
    server.fault = None
    server.requests.clear()
    with make_client(server, tmp_path) as client:
        report = kg_fetch.fetch_to_file(client, PMIDS, out, batch_size=50, workers=3)
    assert report.ok
    assert sorted(server.efetches()) == sorted(tuple(PMIDS[i : i + 50]) for i in range(100, 292, 50))
    assert_all_records(out)


def test_final_error_names_pmids_exit_3(server: FakeEutils, tmp_path: Path) -> None:
    ghosts = ["99999901", "99999902"]  # NCBI has no such records: answers lack them every time
    lost = set(PMIDS[200:250])  # this batch fails every time
    server.fault = lambda req: ("reset",) if lost & set(req.ids) else None
    ids = tmp_path / "pmids.txt"
    ids.write_text("# a PMID list\n" + "\n".join(PMIDS[:250] + ghosts) + "\n")
    out = tmp_path / "out.xml"
    result = cli(
        "fetch", "--pmid-file", str(ids), "-o", str(out), "--batch-size", "50",
        "--eutils-url", server.url, "--cache", str(tmp_path / "cache"), "--api-key", "k",
        "--retries", "1", "--backoff", "0.001", expect=3,
    )  # fmt: skip
    err = result.stderr
    assert "50 PMIDs not fetched: " + ", ".join(sorted(lost, key=PMIDS.index)) in err
    assert "2 PMIDs not returned by NCBI: 99999901, 99999902" in err
    assert "200 records of 252 PMIDs" in err
    assert_all_records(out, PMIDS[:200])  # the rest was kept
    assert all(r.one("api_key") == "k" for r in server.requests)


# --- the rate limit ------------------------------------------------------------------------


def most_in_one_second(times: list[float]) -> int:
    times = sorted(times)
    return max(sum(1 for u in times if t <= u < t + 1.0) for t in times)


@pytest.mark.parametrize(("key", "n", "limit"), [(None, 6, 3), ("a-key", 12, 10)])
def test_rate_limit(key: str | None, n: int, limit: int, server: FakeEutils, tmp_path: Path) -> None:
    settings = EutilsSettings(base_url=server.url, api_key=key, cache_dir=None)
    with EutilsClient(settings) as client, ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda p: efetch(client, [p]), PMIDS[:n]))  # one limiter for all threads
    times = [r.at for r in server.requests]
    assert len(times) == n
    assert most_in_one_second(times) == limit


def test_rate_limiter_sliding_window() -> None:
    now = [100.0]

    def advance(seconds: float) -> None:
        now[0] += seconds

    limiter = RateLimiter(3, 1.0, clock=lambda: now[0], sleep=advance)
    calls = []
    for i in range(7):
        if i == 4:
            advance(0.4)  # a pause: the window slides, not resets
        limiter.acquire()
        calls.append(round(now[0] - 100, 3))
    assert calls == [0, 0, 0, 1.0, 1.4, 1.4, 2.0]


# --- esearch, elink, the graph -------------------------------------------------------------


def test_esearch_pages_through_history_and_caches_the_list(
    server: FakeEutils, tmp_path: Path
) -> None:
    with make_client(server, tmp_path) as client:
        assert esearch(client, TERM, page_size=100) == PMIDS
        first, *rest = server.requests
        assert (first.one("usehistory"), first.one("term"), first.one("retmax")) == ("y", TERM, "100")
        assert [(r.one("term"), r.one("retstart")) for r in rest] == [
            ("#1", "100"), ("#1", "200")
        ]  # fmt: skip
        (webenv,) = {r.one("WebEnv") for r in rest}  # the history server's, from the first answer
        assert webenv in server.history and first.one("WebEnv") is None
        assert esearch(client, TERM, max_ids=150, page_size=100) == PMIDS[:150]
        server.requests.clear()
        assert esearch(client, TERM, page_size=100) == PMIDS  # the list, from the cache
        assert esearch(client, TERM, mindate="2015", maxdate="2016/06") == PMIDS  # a new query
        assert server.requests[0].params["datetype"] == ["pdat"]
        assert server.requests[0].params["mindate"] == ["2015"]


def test_elink_returns_neighbours_without_self(server: FakeEutils, tmp_path: Path) -> None:
    with make_client(server, tmp_path) as client:
        similar = elink(client, PMIDS[:4], linkname=SIMILAR)
        cited = elink(client, PMIDS[:4], linkname=CITED_BY)
    assert similar == {p: similar_of(p)[1:] for p in PMIDS[:4]}
    assert cited == {p: cited_by_of(p) for p in PMIDS[:4]}
    assert [len(r.params["id"]) for r in server.requests] == [4, 4]  # one id= per PMID


def test_articles_carry_links(server: FakeEutils, tmp_path: Path) -> None:
    with make_client(server, tmp_path) as client:
        batches = kg_fetch.iter_batches(client, PMIDS[:30], batch_size=10, links=True)
        articles = [a for a in kg_fetch.iter_articles(batches) if isinstance(a, Article)]
    assert [a.pmid for a in articles] == PMIDS[:30]
    for a in articles:
        assert [r.pmid for r in a.similar_articles] == similar_of(a.pmid)[1:]
        assert [r.pmid for r in a.cited_by] == cited_by_of(a.pmid)
        assert replace(a, source=None, similar_articles=(), cited_by=()) == EXPECTED[a.pmid]


def test_query_build_with_links_into_store(server: FakeEutils, tmp_path: Path) -> None:
    store = tmp_path / "store"
    result = cli(
        "fetch", "--query", TERM, "--max", "40", "--links", "--build", "--store", str(store),
        "--eutils-url", server.url, "--cache", str(tmp_path / "cache"), "--api-key", "k",
    )  # fmt: skip
    assert "40 articles" in result.stdout
    st = pyoxigraph.Store.read_only(str(store / "current"))
    from kg.rdf.namespaces import PREFIXES

    def select(q: str) -> set[tuple[str, ...]]:
        res = st.query(q, prefixes=PREFIXES, use_default_graph_as_union=True)
        names = [v.value for v in res.variables]  # type: ignore[union-attr]
        return {tuple(s[n].value for n in names) for s in res}  # type: ignore[union-attr]

    titles = select("SELECT ?pmid ?title WHERE { ?a fabio:hasPubMedId ?pmid ; dcterms:title ?title }")
    assert titles == {(p, EXPECTED[p].title) for p in PMIDS[:40] if EXPECTED[p].title}
    assert len(titles) > 35
    similar = select(
        "SELECT ?from ?to WHERE { ?a kg:similarTo ?b . ?a fabio:hasPubMedId ?from . ?b fabio:hasPubMedId ?to }"
    )
    assert similar == {(p, q) for p in PMIDS[:40] for q in similar_of(p)[1:]}
    cited = select(
        "SELECT ?cited ?citing WHERE { ?a cito:isCitedBy ?b . ?b cito:cites ?a ."
        " ?a fabio:hasPubMedId ?cited . ?b fabio:hasPubMedId ?citing }"
    )
    assert cited == {(p, q) for p in PMIDS[:40] for q in cited_by_of(p)}
    # kg evidence reads each fetched article back from the graph, links and evidence included
    evidence = [json.loads(cli("evidence", p, "--store", str(store)).stdout) for p in PMIDS[:40]]
    for p, ev in zip(PMIDS[:40], evidence, strict=True):
        assert (ev["pmid"], ev["title"]) == (p, EXPECTED[p].title)
        assert ev["similar_articles"] == sorted(similar_of(p)[1:], key=int)
        assert ev["cited_by"] == sorted(cited_by_of(p), key=int)
    assert sum(1 for ev in evidence if ev["design"] or ev["outcomes"]) >= 5
    # the same query again, offline: the PMID list, records and links all come from the cache
    server.requests.clear()
    out = tmp_path / "again.xml"
    cli(
        "fetch", "--query", TERM, "--max", "40", "--links", "-o", str(out),
        "--eutils-url", server.url, "--cache", str(tmp_path / "cache"), "--offline",
    )  # fmt: skip
    assert server.requests == []
    assert_all_records(out, PMIDS[:40])


# --- the command line ----------------------------------------------------------------------


def test_cli_writes_stdout_by_default(server: FakeEutils, tmp_path: Path) -> None:
    result = cli(
        "fetch", "--pmid", f"{PMIDS[0]},{PMIDS[1]}", "--pmid", PMIDS[2],
        "--eutils-url", server.url, "--cache", str(tmp_path / "cache"), "--api-key", "k",
    )  # fmt: skip
    xml = result.stdout.encode()
    assert xml.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE PubmedArticleSet')
    got = [r.pmid for r in iter_records(io.BytesIO(xml), source="-")]
    assert got == PMIDS[:3]
    assert "3 records of 3 PMIDs in 1 batches" in result.stderr


def test_cli_offline_names_what_is_missing(server: FakeEutils, tmp_path: Path) -> None:
    result = cli(
        "fetch", "--pmid", PMIDS[0], "--offline", "-o", str(tmp_path / "o.xml"),
        "--eutils-url", server.url, "--cache", str(tmp_path / "cache"), expect=3,
    )  # fmt: skip
    assert f"1 PMIDs not fetched: {PMIDS[0]}" in result.stderr
    assert "not in the cache" in result.stderr and "--offline" in result.stderr
    result = cli(
        "fetch", "--query", TERM, "--offline",
        "--eutils-url", server.url, "--cache", str(tmp_path / "cache"), expect=3,
    )  # fmt: skip
    assert "kg: error: " in result.stderr and "not in the cache" in result.stderr
    assert server.requests == []


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--pmid", "1", "--query", "x"],
        ["--pmid", "12a"],
        ["--pmid", "1", "--max", "3"],
        ["--query", "x", "--mindate", "May 2020"],
        ["--pmid", "1", "--build", "-o", "-"],
    ],
)
def test_cli_usage_errors(args: list[str]) -> None:
    result = cli("fetch", *args, expect=2)
    assert "Usage" in result.output or "Error" in result.output


def test_cli_as_subprocess(server: FakeEutils, tmp_path: Path) -> None:
    out = tmp_path / "records.xml.gz"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NCBI_", "KG_"))}
    env["KG_EUTILS_URL"] = server.url
    env["NCBI_EMAIL"] = "kg-tests@example.org"
    proc = subprocess.run(
        [sys.executable, "-m", "kg", "fetch", "--pmid", ",".join(PMIDS[:5]), "-o", str(out),
         "--cache", str(tmp_path / "cache")],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert "5 records of 5 PMIDs" in proc.stderr
    assert out.read_bytes()[:2] == b"\x1f\x8b"
    assert_all_records(out, PMIDS[:5], parse=True)
    assert {r.one("email") for r in server.requests} == {"kg-tests@example.org"}


def test_network_error_is_a_kg_error() -> None:
    err = NetworkError("gave up after 6 tries: HTTP 503", source="efetch.fcgi")
    assert err.exit_code == 3 and str(err) == "efetch.fcgi: gave up after 6 tries: HTTP 503"


def test_the_default_cache_is_the_users_not_the_working_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from kg.sources.eutils import default_cache

    monkeypatch.delenv("KG_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache() == tmp_path / "xdg" / "kg" / "eutils"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache() == tmp_path / "home" / ".cache" / "kg" / "eutils"
    monkeypatch.setenv("KG_CACHE_DIR", str(tmp_path / "mine"))
    assert default_cache() == tmp_path / "mine"


def test_fetch_json_summary(server: FakeEutils, tmp_path: Path) -> None:
    out = tmp_path / "out.xml"
    result = cli(
        "fetch", "--query", TERM, "--max", "40", "-o", str(out), "--json",
        "--eutils-url", server.url, "--cache", str(tmp_path / "cache"), "--api-key", "k",
    )  # fmt: skip
    data = json.loads(result.stdout)
    assert data["command"] == "fetch" and data["ok"] is True and data["build"] is None
    assert (data["requested"], data["records"], data["target"]) == (40, 40, str(out))
    refused = cli("fetch", "--pmid", "23906502", "--json", "--eutils-url", server.url, expect=2)
    assert "--json needs -o FILE or --build" in refused.output
