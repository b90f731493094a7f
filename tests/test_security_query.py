"""kg query under hostile queries: no request leaves for a SERVICE clause unless asked for
(a real listener on 127.0.0.1 must receive nothing), deep nesting is refused in one line
instead of crashing the process, and control characters from the data never reach the
terminal raw nor make an XML result ill-formed."""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from click.testing import CliRunner
from pyoxigraph import Literal, NamedNode, Quad, Store

from kg.cli import main
from kg.query import (
    MAX_QUERY_DEPTH,
    QueryRefused,
    check_query,
    printable,
    query_shape,
    xml_safe,
)

TESTS = Path(__file__).parent
SEED = TESTS / "data" / "seed" / "000_e84263704ca7bb66.txt"
CONTROL = "red \x1b[31mALERT\x1b[0m nul\x00 bell\x07 c1\x9b end"
CONTROL_SUBJECT = "https://w3id.org/kg/id/test/control"

#: SERVICE clauses as people write them and as an attacker would hide them.
SERVICE_QUERIES = [
    "SELECT * { SERVICE <{url}> { ?s ?p ?o } }",
    "select * { service silent <{url}> { ?s ?p ?o } }",
    "SELECT * { ?s ?p ?o FILTER EXISTS { SERVICE <{url}> { } } }",
    "SELECT * { OPTIONAL { SELECT * { SERVICE <{url}> { ?s ?p ?o } } } }",
    "ASK { SERVICE<{url}>{} }",
    # "<1)SERVICE#>" looks like an IRI; Oxigraph reads "less than", the keyword, a comment
    "SELECT * { ?s ?p ?o FILTER(?o<1)SERVICE#>\n<{url}>{ } }",
    # "1SERVICE" and "trueSERVICE": a number or a boolean, then the keyword
    "SELECT * { ?s ?p 1SERVICE <{url}> { } }",
    "SELECT * { ?s ?p trueSERVICE <{url}> { } }",
    "SELECT * { SERVICEsilent<{url}>{ } }",
    # an escaped '#' belongs to the prefixed name: no comment hides the keyword
    "SELECT * { ?s kg:a\\#b SERVICE <{url}> { } }",
    # an IRI may hold \u escapes: its '#' starts no comment
    "SELECT * { ?s <http://a/\\u0041#x> ?o . SERVICE <{url}> { } }",
    # a comment that swallows "'''" for Oxigraph, not a long string hiding the keyword
    "SELECT * { ?s ?p ?o FILTER(?o<1)#'>'''\n SERVICE <{url}> {} #'''\n}",
]
#: Queries that only mention the word: they run.
NOT_SERVICE = [
    "SELECT * { ?s ?p ?o FILTER(CONTAINS(STR(?o), 'service')) } # SERVICE <http://x/> {}",
    "SELECT ?service { ?service <http://www.w3.org/ns/sparql-service-description#x> ?o }",
    'SELECT * { ?s ?p """a long\nSERVICE <http://x/> { }""" }',
    "SELECT * { ?s kg:service ?o . FILTER(?o < 3 && ?o > 1) }",
]


class _Listener(http.server.BaseHTTPRequestHandler):
    seen: ClassVar[list[str]] = []

    def _answer(self) -> None:
        type(self).seen.append(f"{self.command} {self.path}")
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        body = b'{"head":{"vars":["s"]},"results":{"bindings":[]}}'
        self.send_response(200)
        self.send_header("Content-Type", "application/sparql-results+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def listener(local_server: Any) -> Iterator[tuple[str, list[str]]]:
    """A real HTTP server on 127.0.0.1: its URL, and the requests it received."""
    seen: list[str] = []
    with local_server(_Listener, seen=seen) as (url, _):
        yield f"{url}/sparql", seen


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed's store, plus a literal full of control characters."""
    store = tmp_path_factory.mktemp("security") / "store"
    result = CliRunner().invoke(main, ["build", str(SEED), "--store", str(store)])
    assert result.exit_code == 0, result.output
    raw = Store(str(store / "current"))
    raw.add(
        Quad(
            NamedNode(CONTROL_SUBJECT),
            NamedNode("http://www.w3.org/2000/01/rdf-schema#label"),
            Literal(CONTROL),
            NamedNode("https://w3id.org/kg/id/graph/test"),
        )
    )
    raw.flush()
    del raw
    return store


def kg(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``python -m kg`` as a real process (a segfault shows as exit code -11 or 139)."""
    return subprocess.run(
        [sys.executable, "-m", "kg", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONFAULTHANDLER": ""},
    )


# --- the check itself ---------------------------------------------------------------------


@pytest.mark.parametrize("query", SERVICE_QUERIES)
def test_every_service_clause_is_refused(query: str) -> None:
    with pytest.raises(QueryRefused, match="SERVICE"):
        check_query(query.replace("{url}", "http://127.0.0.1:9/x"))
    check_query(query.replace("{url}", "http://127.0.0.1:9/x"), allow_service=True)


@pytest.mark.parametrize("query", NOT_SERVICE)
def test_the_word_alone_is_no_service_clause(query: str) -> None:
    check_query(query)


def test_unicode_escapes_and_unparsable_mentions_are_refused() -> None:
    """What a second parser cannot clear is not run."""
    with pytest.raises(QueryRefused, match="SERVICE"):
        check_query("SELECT * { \\u0053ERVICE <http://127.0.0.1:9/> { } }")
    with pytest.raises(QueryRefused, match="SERVICE"):
        check_query("SELECT * { << ?s ?p ?o >> ?q ?service }")  # SPARQL 1.2, not for rdflib


def test_nesting_depth() -> None:
    def braces(n: int) -> str:
        return "SELECT * " + "{" * n + " ?s ?p ?o " + "}" * n

    check_query(braces(MAX_QUERY_DEPTH))
    for deep in (
        braces(MAX_QUERY_DEPTH + 1),
        "SELECT * { FILTER(" + "(" * 3000 + "1" + ")" * 3000 + ") }",
        "SELECT * { ?s ?p " + "[ ?p " * 3000 + "1" + " ]" * 3000 + " }",
        # "<(((…>" looks like an IRI; Oxigraph reads "less than" and 3,000 parentheses
        "SELECT * { ?s ?p ?o FILTER(?o<" + "(" * 3000 + "1" + ")" * 3000 + ">0) }",
        # closing braces inside a comment for Oxigraph do not count
        "SELECT * { ?s ?p ?o " + "FILTER(?o<1)#>}}\n{ " * 3000 + "}" * 3000 + " }",
    ):
        with pytest.raises(QueryRefused, match=f"more than {MAX_QUERY_DEPTH} levels"):
            check_query(deep)
    # brackets in strings, comments and IRIs are no nesting
    flat = 'SELECT * { ?s <http://x/((((> "{{{{" # ((((\n }'.replace("((((", "(" * 400)
    assert query_shape(flat).depth == 1
    escaped = "SELECT * { ?s <http://a/\\u0041#x> ?o . " + "{" * 300 + "}" * 300 + " }"
    assert query_shape(escaped).depth > MAX_QUERY_DEPTH
    hidden = "SELECT * { ?s <http://a/\\u0041#x> ?o . SERVICE <http://b/> { } }"
    assert query_shape(hidden).service_at == hidden.index("SERVICE")


# --- kg query -----------------------------------------------------------------------------


def test_kg_query_refuses_service_and_sends_nothing(
    store_dir: Path, listener: tuple[str, list[str]]
) -> None:
    url, seen = listener
    for query in SERVICE_QUERIES:
        result = kg(
            "query", "--store", str(store_dir), "--format", "csv", query.replace("{url}", url)
        )
        assert result.returncode == 3, (query, result.stderr)
        assert "SERVICE" in result.stderr and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert seen == []


def test_kg_query_allow_service_sends_the_request(
    store_dir: Path, listener: tuple[str, list[str]]
) -> None:
    url, seen = listener
    query = f"SELECT ?s {{ SERVICE <{url}> {{ ?s ?p ?o }} }}"
    result = CliRunner().invoke(
        main, ["query", "--store", str(store_dir), "--format", "csv", "--allow-service", query]
    )
    assert result.exit_code == 0, result.output
    assert len(seen) == 1 and seen[0].split()[1] == "/sparql"


def test_kg_query_deep_nesting_is_one_line_not_a_crash(store_dir: Path) -> None:
    query = "SELECT * " + "{" * 3000 + " ?s ?p ?o " + "}" * 3000
    result = kg("query", "--store", str(store_dir), query)
    assert result.returncode == 3, result.stderr
    assert result.stderr.count("\n") == 1 and "levels deep" in result.stderr
    assert result.stdout == ""


def test_kg_query_table_shows_control_characters_escaped(store_dir: Path) -> None:
    query = (
        "SELECT ?label ?made WHERE { ?s rdfs:label ?label FILTER(CONTAINS(?label, 'ALERT')) "
        'BIND("\\u001B[31mX\\u0000" AS ?made) }'
    )
    result = CliRunner().invoke(
        main, ["query", "--store", str(store_dir), "--format", "table", query]
    )
    assert result.exit_code == 0, result.output
    assert "\\x1b[31mALERT\\x1b[0m" in result.output and "\\x1b[31mX\\x00" in result.output
    assert not any(c in result.output for c in "\x1b\x00\x07\x9b")


def test_kg_query_xml_results_are_well_formed(store_dir: Path) -> None:
    query = (
        "SELECT ?label ?made WHERE { ?s rdfs:label ?label FILTER(CONTAINS(?label, 'ALERT')) "
        'BIND("\\u001B[31mX\\u0000" AS ?made) }'
    )
    result = kg("query", "--store", str(store_dir), "--format", "xml", query)
    assert result.returncode == 0, result.stderr
    root = ET.fromstring(result.stdout.encode())
    values = [e.text for e in root.iter("{http://www.w3.org/2005/sparql-results#}literal")]
    assert "red \ufffd[31mALERT\ufffd[0m nul\ufffd bell\ufffd c1\x9b end" in values
    assert "\ufffd[31mX\ufffd" in values


def test_printable_and_xml_safe() -> None:
    assert printable(CONTROL) == "red \\x1b[31mALERT\\x1b[0m nul\\x00 bell\\x07 c1\\x9b end"
    assert printable("tab\tnewline\nreturn\r") == "tab\tnewline\nreturn\r"
    body = "<a>\x00\x08\x0b\x0c\x1f\ufffe\uffff\t\n\r\x85é</a>".encode()
    assert xml_safe(body).decode() == "<a>" + "\ufffd" * 7 + "\t\n\r\x85é</a>"
    ET.fromstring(xml_safe(body))


def test_evidence_table_shows_control_characters_escaped() -> None:
    from kg.report import evidence_table

    data = {
        "pmid": "1",
        "doi": None,
        "title": CONTROL,
        "design": [],
        "population": {"sample_size": None, "conditions": []},
        "interventions": [],
        "outcomes": [],
        "conclusion": "\x1b]0;title\x07",
        "similar_articles": [],
        "cited_by": [],
    }
    text = evidence_table(data)
    assert printable(CONTROL) in text and "\\x1b]0;title\\x07" in text
    assert not any(c in text for c in "\x1b\x00\x07\x9b")


def test_kg_query_long_chain_runs_instead_of_crashing(store_dir: Path, tmp_path: Path) -> None:
    """pyoxigraph recurses along "a || b || …": 12,000 links overflowed the usual stack."""
    chain = tmp_path / "chain.rq"
    chain.write_text("ASK { FILTER(" + " || ".join(["false"] * 15000) + ") }")
    result = kg("query", "--store", str(store_dir), "--format", "json", "-f", str(chain))
    assert result.returncode == 0, result.stderr
    assert '"boolean":false' in result.stdout.replace(" ", "")


@pytest.mark.parametrize(
    ("query", "declared"),
    [
        ("SELECT * FROM <http://x/g> { ?s ?p ?o }", True),
        ("ask from named <http://x/g> { GRAPH ?g { ?s ?p ?o } }", True),
        ('SELECT * { ?s ?p "FROM <http://x/g>" }', False),  # in a string
        ("SELECT * # FROM <http://x/g>\n{ ?s ?p ?o }", False),  # in a comment
        ("SELECT ?from { ?s ?p ?from }", False),  # a variable
        ("SELECT * { ?s <http://x/FROM> ?o }", False),  # inside an IRI
    ],
)
def test_query_shape_finds_a_dataset_clause(query: str, declared: bool) -> None:
    """The endpoint puts the union default graph in only where the query gives no dataset."""
    assert (query_shape(query).from_at is not None) is declared
