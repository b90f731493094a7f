"""kg publish against a real Oxigraph server on 127.0.0.1 (the ``oxigraph`` CLI from PyPI), and
against a small look-alike for faults (retries, authentication, refusals).

After a publish, kg's named questions asked of the server over the SPARQL protocol give the
same rows as asked of the local store; publishing again sends only what changed.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyoxigraph
import pytest
import requests
from click.testing import CliRunner

from kg.cli import main
from kg.publish import PublishSettings, default_record_path, load_record, publish
from kg.rdf.namespaces import PREFIXES
from kg.store import KgStore

TESTS = Path(__file__).parent
DATA = TESTS / "data"
SEED = DATA / "seed" / "000_e84263704ca7bb66.txt"
GOLD_RECORDS = sorted((DATA / "gold" / "records").glob("*.xml"))
BASE = "https://w3id.org/kg/id/"
SEED_GRAPH = f"{BASE}graph/pubmed/23906502"
METADATA_GRAPH = f"{BASE}graph/metadata"
PREFIX_LINES = "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items())

# Values for the named questions' parameters, by name, then by type (data the test store holds).
PARAM_VALUES = {"intervention": "D016756", "condition": "D003882", "descriptor": "D006801"}
TYPE_VALUES = {"pmid": "23906502", "mesh": "D006801", "mesh-tree": "D016756", "integer": "1"}

# When no named questions are shipped: evidence questions of our own.
FALLBACK_QUESTIONS = {
    "outcomes": "SELECT ?pmid ?outcome ?count ?den ?pct WHERE { ?a fabio:hasPubMedId ?pmid ; kg:reportsStudy/kg:outcome ?o . ?o rdfs:label ?outcome ; kg:measurement ?m . OPTIONAL { ?m kg:count ?count } OPTIONAL { ?m kg:denominator ?den } OPTIONAL { ?m kg:percentage ?pct } }",
    "designs": "SELECT ?term (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s kg:designFeature/kg:designTerm ?term } GROUP BY ?term",
    "graphs": "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
}


def kg(*args: str, expect: int = 0) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == expect, (result.output, result.exception)
    assert "Traceback" not in result.output
    return result.output


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build(store: Path, *inputs: Path) -> None:
    kg("build", *map(str, inputs), "--store", str(store))


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("publish") / "store"
    build(store, SEED, *GOLD_RECORDS)
    return store


def _oxigraph_cli() -> str | None:
    here = Path(sys.executable).parent / "oxigraph"
    return str(here) if here.exists() else shutil.which("oxigraph")


@pytest.fixture()
def oxigraph(tmp_path: Path) -> Iterator[str]:
    """A fresh Oxigraph server (union default graph, as kg queries the local store)."""
    with _oxigraph_serving(tmp_path / "oxigraph") as url:
        yield url


def _oxigraph_or_skip() -> str:
    cli = _oxigraph_cli()
    if cli is None:
        pytest.skip(
            "the oxigraph CLI is not installed (pip install oxigraph; it is in the test extra)"
        )
    return cli


@contextlib.contextmanager
def _oxigraph_serving(location: Path, *, union: bool = True) -> Iterator[str]:
    """``oxigraph serve`` of the store at ``location`` on a free port of 127.0.0.1 (its
    default graph the union of the named graphs unless ``union`` is false)."""
    cli = _oxigraph_or_skip()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [
            cli,
            "serve",
            "--location",
            str(location),
            "--bind",
            f"127.0.0.1:{port}",
            *(["--union-default-graph"] if union else []),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{url}/query", params={"query": "ASK {}"}, timeout=1)
                break
            except requests.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    err = process.stderr.read().decode() if process.stderr else ""
                    pytest.fail(f"oxigraph server did not start: {err}")
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- comparing local and remote -----------------------------------------------------------------


def remote_rows(url: str, query: str, *, path: str = "/query") -> list[tuple[str, ...]]:
    """A SELECT asked of the server over the SPARQL protocol (POST), rows as N-Triples terms."""
    response = requests.post(
        f"{url}{path}",
        data={"query": PREFIX_LINES + query},
        headers={"Accept": "application/sparql-results+json"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    solutions = pyoxigraph.parse_query_results(
        response.content, format=pyoxigraph.QueryResultsFormat.JSON
    )
    assert isinstance(solutions, pyoxigraph.QuerySolutions)
    names = [v.value for v in solutions.variables]
    return sorted(tuple(str(s[n]) if s[n] is not None else "" for n in names) for s in solutions)


def local_rows(
    store: Path, query: str, bindings: dict[str, Any] | None = None
) -> list[tuple[str, ...]]:
    st = pyoxigraph.Store.read_only(str(store / "current"))
    result = st.query(
        query,
        prefixes=PREFIXES,
        use_default_graph_as_union=True,
        substitutions={pyoxigraph.Variable(k): v for k, v in (bindings or {}).items()} or None,
    )
    assert isinstance(result, pyoxigraph.QuerySolutions)
    names = [v.value for v in result.variables]
    return sorted(tuple(str(s[n]) if s[n] is not None else "" for n in names) for s in result)


def with_values(query: str, bindings: dict[str, Any]) -> str:
    """A query's substitutions written as a VALUES block at the start of its WHERE clause: the
    SPARQL protocol has no parameters, and kg's questions use each parameter only in required
    patterns and comparisons, where the two mean the same."""
    if not bindings:
        return query
    at = query.index("WHERE {") + len("WHERE {")
    block = "".join(f"\n  VALUES ?{name} {{ {term} }}" for name, term in bindings.items())
    return query[:at] + block + query[at:]


def questions() -> dict[str, tuple[str, dict[str, Any]]]:
    """kg's named questions (whatever ``kg query --list`` offers), each prepared with parameter
    values the test store holds; our own evidence queries when none are shipped."""
    try:
        from kg.queries import named_queries
        from kg.query import prepare
    except ImportError:
        named = {}
    else:
        named = named_queries()
    if not named:
        return {name: (text, {}) for name, text in FALLBACK_QUESTIONS.items()}
    found: dict[str, tuple[str, dict[str, Any]]] = {}
    for name, q in named.items():
        params = {
            p.name: PARAM_VALUES.get(p.name) or TYPE_VALUES[p.type]
            for p in q.params
            if p.required or p.name in PARAM_VALUES
        }
        prepared = prepare(q, params)
        found[name] = (prepared.text, dict(prepared.bindings))
    return found


def server_quads(url: str) -> set[str]:
    """Every quad the server holds, as N-Quads lines (Graph Store Protocol GET of the dataset)."""
    response = requests.get(f"{url}/store", headers={"Accept": "application/n-quads"}, timeout=30)
    assert response.status_code == 200, response.text
    return {str(q) for q in pyoxigraph.parse(response.content, format=pyoxigraph.RdfFormat.N_QUADS)}


def store_quads(store: Path) -> set[str]:
    st = pyoxigraph.Store.read_only(str(store / "current"))
    return {str(q) for q in st.quads_for_pattern(None, None, None, None)}


# --- against a real Oxigraph server ---------------------------------------------------------------


def test_publish_then_named_questions_answer_the_same(
    oxigraph: str, store_dir: Path, tmp_path: Path
) -> None:
    record = tmp_path / "published.json"
    output = kg(
        "publish",
        "--endpoint",
        f"{oxigraph}/store",
        "--store",
        str(store_dir),
        "--record",
        str(record),
    )
    assert "sent 14 graphs (PUT), 0 deleted, 0 unchanged" in output
    assert server_quads(oxigraph) == store_quads(store_dir)

    asked = questions()
    assert asked, "no questions to ask"
    answered = 0
    for name, (text, bindings) in asked.items():
        local = local_rows(store_dir, text, bindings)
        remote = remote_rows(oxigraph, with_values(text, bindings))
        assert remote == local, name
        answered += bool(local)
    assert answered >= 3, "too few questions returned rows to compare anything"

    again = kg(
        "publish",
        "--endpoint",
        f"{oxigraph}/store",
        "--store",
        str(store_dir),
        "--record",
        str(record),
    )
    assert "sent 0 graphs (PUT), 0 deleted, 14 unchanged" in again
    assert "in 0 requests" in again


def test_shards_loaded_by_the_oxigraph_server_answer_the_same(
    store_dir: Path, tmp_path: Path
) -> None:
    """kg build --shards-out, then the server's own parallel loader (``oxigraph load`` of every
    shard at once) and ``oxigraph serve --union-default-graph``: every named question gives the
    rows the embedded store gives for the same inputs."""
    cli = _oxigraph_or_skip()
    shards = tmp_path / "shards"
    kg("build", str(SEED), *map(str, GOLD_RECORDS), "--shards-out", str(shards))
    files = sorted(shards.glob("*.nq.gz"))
    assert len(files) == len(GOLD_RECORDS) + 2  # one per input, and the metadata graph
    location = tmp_path / "oxigraph"
    subprocess.run([cli, "load", "--location", str(location), "--file", *map(str, files)],
                   check=True, capture_output=True, timeout=120)
    with _oxigraph_serving(location) as url:
        assert server_quads(url) == store_quads(store_dir)
        answered = 0
        for name, (text, bindings) in questions().items():
            local = local_rows(store_dir, text, bindings)
            assert remote_rows(url, with_values(text, bindings)) == local, name
            answered += bool(local)
        assert answered >= 3


@contextlib.contextmanager
def _virtuoso_serving(home: Path, *allowed: Path) -> Iterator[tuple[str, Callable[[str], str]]]:
    """A Virtuoso server (Debian's virtuoso-opensource) with its database in ``home``, reading
    files under ``allowed``; yields its SPARQL endpoint's base URL and a function that runs
    isql commands (which fails the test on an error)."""
    server, isql_cli = shutil.which("virtuoso-t"), shutil.which("isql-vt")
    if server is None or isql_cli is None:
        pytest.skip("Virtuoso is not installed (Debian: apt-get install virtuoso-opensource; "
                    ".ci/run installs it as root)")
    home.mkdir()
    sql, http = free_port(), free_port()
    (home / "virtuoso.ini").write_text(
        f"[Database]\nDatabaseFile = {home}/v.db\nErrorLogFile = {home}/v.log\n"
        f"TransactionFile = {home}/v.trx\nxa_persistent_file = {home}/v.pxa\n"
        f"[TempDatabase]\nDatabaseFile = {home}/t.db\nTransactionFile = {home}/t.trx\n"
        f"[Parameters]\nServerPort = 127.0.0.1:{sql}\nNumberOfBuffers = 10000\n"
        f"MaxDirtyBuffers = 6000\nDirsAllowed = {', '.join(map(str, allowed))}\n"
        f"[HTTPServer]\nServerPort = 127.0.0.1:{http}\nServerRoot = {home}\nServerThreads = 4\n"
        "[SPARQL]\nResultSetMaxRows = 1000000\nMaxQueryExecutionTime = 120\n"
    )

    def isql(command: str) -> str:
        done = subprocess.run([isql_cli, str(sql), "dba", "dba", f"exec={command}"],
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0 and "*** Error" not in done.stdout + done.stderr, done
        return done.stdout

    process = subprocess.Popen([server, "-f", "-c", str(home / "virtuoso.ini")], cwd=home,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                isql("select 1;")
                requests.get(f"http://127.0.0.1:{http}/sparql", params={"query": "ASK {}"},
                             timeout=2).raise_for_status()
                break
            except (AssertionError, requests.RequestException, subprocess.TimeoutExpired):
                if process.poll() is not None or time.monotonic() > deadline:
                    log = home / "v.log"
                    pytest.fail("Virtuoso did not start: "
                                + (log.read_text()[-2000:] if log.exists() else ""))
                time.sleep(0.5)
        yield f"http://127.0.0.1:{http}", isql
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_virtuoso_loads_the_dump_and_the_shards_and_answers_the_same(
    store_dir: Path, tmp_path: Path
) -> None:
    """A second, independent store: Virtuoso's bulk loader (ld_dir + rdf_loader_run) reads kg's
    N-Quads dump, then (after a reset) kg's gzipped shards; each time every named question
    asked of its SPARQL endpoint gives the rows the embedded store gives."""
    dump, shards = tmp_path / "dump", tmp_path / "shards"
    dump.mkdir()
    kg("export", "--store", str(store_dir), "-o", str(dump / "kg.nq"))
    kg("build", str(SEED), *map(str, GOLD_RECORDS), "--shards-out", str(shards))
    asked = questions()
    with _virtuoso_serving(tmp_path / "virtuoso", dump, shards) as (url, isql):
        for directory, pattern in ((dump, "*.nq"), (shards, "*.nq.gz")):
            isql("RDF_GLOBAL_RESET(); DELETE FROM DB.DBA.LOAD_LIST;")
            isql(f"ld_dir('{directory}', '{pattern}', 'urn:kg:unused'); rdf_loader_run(); "
                 "checkpoint;")
            states = isql("select ll_state, ll_error from DB.DBA.LOAD_LIST;")
            assert "NULL" in states and states.count("NULL") == len(list(directory.glob(pattern)))
            answered = 0
            for name, (text, bindings) in asked.items():
                local = local_rows(store_dir, text, bindings)
                remote = remote_rows(url, with_values(text, bindings), path="/sparql")
                assert remote == local, (directory.name, name)
                answered += bool(local)
            assert answered >= 3


def test_republish_sends_exactly_what_changed(
    oxigraph: str, store_dir: Path, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    shutil.copytree(store_dir, store)
    endpoint = f"{oxigraph}/store"
    first = publish(
        KgStore(store), PublishSettings(endpoint=endpoint)
    )
    assert len(first.put) == 14 and first.ok
    path = default_record_path(store)
    assert path == tmp_path / "store.published.json"
    recorded = load_record(path)["targets"][f"per-article {endpoint}"]["graphs"]
    assert len(recorded) == 14 and SEED_GRAPH in recorded
    assert not list(tmp_path.glob(".store.published.json.*")), "a temporary record was left"

    # an update: the seed's title changes, and a DeleteCitation drops 27310966
    changed = tmp_path / "seed.txt"
    text = SEED.read_text(encoding="utf-8")
    changed.write_text(
        text.replace("Clinical efficacy of", "Clinical efficacy (revised) of"), encoding="utf-8"
    )
    deletion = tmp_path / "delete.xml"
    deletion.write_text(
        '<?xml version="1.0"?>\n<PubmedArticleSet><DeleteCitation>'
        '<PMID Version="1">27310966</PMID></DeleteCitation></PubmedArticleSet>\n',
        encoding="utf-8",
    )
    build(store, changed, deletion)

    report = publish(
        KgStore(store), PublishSettings(endpoint=endpoint)
    )
    assert report.ok, report.failures
    assert sorted(report.put) == [METADATA_GRAPH, SEED_GRAPH]
    assert report.deleted == [f"{BASE}graph/pubmed/27310966"]
    assert report.unchanged == 11
    assert report.requests == 3
    assert server_quads(oxigraph) == store_quads(store)
    titles = remote_rows(
        oxigraph, 'SELECT ?t WHERE { ?a fabio:hasPubMedId "23906502" ; dcterms:title ?t }'
    )
    assert titles == [
        (
            '"Clinical efficacy (revised) of intravenous immunoglobulins for the treatment of dermatomyositis skin lesions without muscle disease"',
        )
    ]
    recorded = load_record(path)["targets"][f"per-article {endpoint}"]["graphs"]
    assert f"{BASE}graph/pubmed/27310966" not in recorded and len(recorded) == 13


def test_single_graph_mode(oxigraph: str, store_dir: Path, tmp_path: Path) -> None:
    record = tmp_path / "published.json"
    target = "http://example.org/kg"
    settings = PublishSettings(
        endpoint=f"{oxigraph}/store", mode="single", graph=target, chunk_triples=1000
    )
    store = KgStore(store_dir)
    report = publish(store, settings, record_path=record)
    assert report.ok and report.put == [target] and report.posts >= 5
    distinct = {str(q.triple) for q in store.quads()}
    n = remote_rows(
        oxigraph, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{target}> {{ ?s ?p ?o }} }}"
    )
    assert n == [(f'"{len(distinct)}"^^<http://www.w3.org/2001/XMLSchema#integer>',)]
    again = publish(store, settings, record_path=record)
    assert again.put == [] and again.requests == 0 and again.unchanged == 14


def test_dry_run_sends_nothing(oxigraph: str, store_dir: Path, tmp_path: Path) -> None:
    record = tmp_path / "published.json"
    output = kg(
        "publish",
        "--endpoint",
        f"{oxigraph}/store",
        "--store",
        str(store_dir),
        "--record",
        str(record),
        "--dry-run",
    )
    assert "would send 14 graphs" in output
    assert server_quads(oxigraph) == set()
    assert not record.exists()


# --- faults, against a look-alike ---------------------------------------------------------------


def fast(endpoint: str, **options: Any) -> PublishSettings:
    return PublishSettings(endpoint=endpoint, backoff=0.01, workers=1, **options)


def test_retries_transient_faults_with_token(
    fake: tuple[str, Any], store_dir: Path, tmp_path: Path
) -> None:
    endpoint, handler = fake
    handler.script.extend([503, 429, 502])
    store = KgStore(store_dir)
    report = publish(store, fast(endpoint, token="s3cret"), record_path=tmp_path / "r.json")
    assert report.ok and len(report.put) == 14
    assert report.retries == 3 and report.requests == 17
    assert {auth for _, _, auth in handler.seen} == {"Bearer s3cret"}
    assert all(
        method == "PUT" and "graph=https%3A%2F%2Fw3id.org" in path
        for method, path, _ in handler.seen
    )


def test_a_refused_graph_is_named_and_retried_next_time(
    fake: tuple[str, Any], store_dir: Path, tmp_path: Path
) -> None:
    endpoint, handler = fake
    handler.script.extend([400])
    store = KgStore(store_dir)
    record = tmp_path / "r.json"
    report = publish(store, fast(endpoint, user="kg", password="pw"), record_path=record)
    assert not report.ok and len(report.failures) == 1 and "HTTP 400" in report.failures[0]
    assert len(report.put) == 13 and report.retries == 0
    assert handler.seen[0][2] and handler.seen[0][2].startswith("Basic ")
    again = publish(store, fast(endpoint, user="kg", password="pw"), record_path=record)
    assert again.ok and len(again.put) == 1 and again.unchanged == 13


def test_authentication_refused_stops_with_exit_code_3(
    fake: tuple[str, Any], store_dir: Path, tmp_path: Path
) -> None:
    endpoint, handler = fake
    handler.script.extend([401] * 20)
    result = CliRunner().invoke(
        main,
        [
            "publish",
            "--endpoint",
            endpoint,
            "--store",
            str(store_dir),
            "--record",
            str(tmp_path / "r.json"),
            "--workers",
            "1",
        ],
        env={"KG_PUBLISH_TOKEN": "wrong"},
    )
    assert result.exit_code == 3, result.output
    assert "HTTP 401" in result.output and "Traceback" not in result.output
    assert len(handler.seen) <= 2 and handler.seen[0][2] == "Bearer wrong"  # it stopped


def test_unreachable_server_fails_after_retries(store_dir: Path, tmp_path: Path) -> None:
    endpoint = f"http://127.0.0.1:{free_port()}/store"
    store = KgStore(store_dir)
    report = publish(
        store, fast(endpoint, retries=1, connect_timeout=1.0), record_path=tmp_path / "r.json"
    )
    assert not report.ok and len(report.failures) == 14 and report.retries == 14
    assert "ConnectionError" in report.failures[0]
    assert (
        json.loads((tmp_path / "r.json").read_text())["targets"][f"per-article {endpoint}"][
            "graphs"
        ]
        == {}
    )


def test_usage_errors() -> None:
    kg("publish", "--endpoint", "ftp://x/store", expect=2)
    kg("publish", "--endpoint", "http://x/store", "--graph-mode", "single", expect=2)
    kg(
        "publish",
        "--endpoint",
        "http://127.0.0.1:9/store",
        "--user",
        "u",
        "--token-env",
        "X",
        "--password",
        "p",
        "--store",
        "/nonexistent/store",
        expect=3,
    )  # no store: nothing sent


# --- interrupted publishes ------------------------------------------------------------------------


def _server_graphs(url: str) -> int:
    (row,) = remote_rows(url, "SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
    return int(row[0].split('"')[1])


@pytest.mark.parametrize("sig", ["SIGKILL", "SIGINT"])
def test_a_publish_killed_midway_then_run_again_leaves_the_server_equal_to_the_store(
    oxigraph: str, tmp_path: Path, sig: str
) -> None:
    import os
    import signal

    store = tmp_path / "store"
    kg("build", "-r", str(DATA / "xml"), "--store", str(store))
    record = tmp_path / "published.json"
    args = ["publish", "--endpoint", f"{oxigraph}/store", "--store", str(store),
            "--record", str(record), "--batch-size", "5", "--workers", "1"]
    process = subprocess.Popen(
        [sys.executable, "-m", "kg", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True, env={**os.environ, "PYTHONSAFEPATH": "1"},
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as from a terminal
    )
    while process.poll() is None and _server_graphs(oxigraph) == 0:
        time.sleep(0.02)
    assert process.poll() is None, "the publish ended before it could be interrupted"
    process.send_signal(getattr(signal, sig))
    _, err = process.communicate(timeout=60)
    if sig == "SIGINT":
        assert process.returncode == 130 and err.strip().splitlines() == ["kg: interrupted"], err
    total = len(list(KgStore(store).named_graphs()))
    assert 0 < _server_graphs(oxigraph) < total  # stopped midway

    kg(*args)
    assert server_quads(oxigraph) == store_quads(store)
    assert "sent 0 graphs (PUT), 0 deleted" in kg(*args)  # and the record knows it


# --- portable queries: --show and --endpoint against the Oxigraph server ----------------------


def _cli_params(name: str) -> list[str]:
    from kg.queries import named_query

    q = named_query(name)
    out: list[str] = []
    for p in q.params:
        if p.required or p.name in PARAM_VALUES:
            out += ["--param", f"{p.name}={PARAM_VALUES.get(p.name) or TYPE_VALUES[p.type]}"]
    if any(p.name == "kind" for p in q.params):
        out += ["--param", "kind=relapse" if name == "outcomes" else "kind=outcome"]
    return out


def test_show_runs_unchanged_on_a_server_and_endpoint_gives_the_local_rows(
    oxigraph: str, store_dir: Path, tmp_path: Path
) -> None:
    from kg.queries import named_queries

    kg("publish", "--endpoint", f"{oxigraph}/store", "--store", str(store_dir),
       "--record", str(tmp_path / "published.json"))
    compared = 0
    for name in named_queries():
        params = _cli_params(name)
        local = kg("query", "--store", str(store_dir), "--name", name, *params, "--format", "csv")
        shown = kg("query", "--name", name, *params, "--show")
        assert "PREFIX kg: <https://w3id.org/kg/ontology#>" in shown and "#?" not in shown
        as_is = requests.post(f"{oxigraph}/query", data={"query": shown},
                              headers={"Accept": "text/csv"}, timeout=30)
        assert as_is.status_code == 200, (name, as_is.text)
        remote = kg("query", "--endpoint", f"{oxigraph}/query", "--name", name, *params,
                    "--format", "csv")
        lines = sorted(local.splitlines())
        assert sorted(as_is.text.splitlines()) == lines, name
        assert sorted(remote.splitlines()) == lines, name
        compared += len(lines) > 1
    assert compared >= 4, "too few questions returned rows to compare anything"
    table = kg("query", "--endpoint", f"{oxigraph}/query", "--name", "outcomes",
               "--param", "intervention=IVIG", "--format", "json")
    assert '"19"' in table and "Nineteen patients (70%)" in table
    graph = kg("query", "--endpoint", f"{oxigraph}/query", "--format", "nt",
               'CONSTRUCT WHERE { ?a fabio:hasPubMedId "23906502" ; dcterms:title ?t }')
    assert graph.count(" .\n") == 2 and "Clinical efficacy" in graph


def test_endpoint_warns_when_the_default_graph_is_not_the_union(
    store_dir: Path, tmp_path: Path
) -> None:
    location = tmp_path / "copy"
    shutil.copytree(store_dir / "current", location)
    with _oxigraph_serving(location, union=False) as url:
        result = CliRunner().invoke(main, ["query", "--endpoint", f"{url}/query", "--name",
                                           "studies", "--param", "intervention=D016756",
                                           "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert "kg: warning:" in result.output and "not their union" in result.output
    assert "--union-default-graph" in result.output


def test_endpoint_errors_are_one_line(store_dir: Path) -> None:
    port = free_port()
    down = CliRunner().invoke(main, ["query", "--endpoint", f"http://127.0.0.1:{port}/query",
                                     "ASK { ?s ?p ?o }"])
    assert down.exit_code == 3 and "Traceback" not in down.output
    assert len(down.output.strip().splitlines()) == 1


@pytest.mark.parametrize("union", [True, False])
def test_publish_checks_the_servers_default_graph(
    store_dir: Path, tmp_path: Path, union: bool
) -> None:
    with _oxigraph_serving(tmp_path / "server", union=union) as url:
        said = kg("publish", "--endpoint", f"{url}/store", "--query-endpoint", f"{url}/query",
                  "--store", str(store_dir), "--record", str(tmp_path / "published.json"))
        again = CliRunner().invoke(main, [
            "publish", "--endpoint", f"{url}/store", "--query-endpoint", f"{url}/query",
            "--store", str(store_dir), "--record", str(tmp_path / "published.json"), "--json"])
    assert "sent 14 graphs (PUT)" in said
    if union:
        assert "the default graph is the union of the graphs" in said and "warning" not in said
    else:
        assert "kg: warning:" in said and "not their union" in said
    data = json.loads(again.stdout)  # --json: the summary as one object on stdout
    assert again.exit_code == 0 and data["command"] == "publish" and data["ok"] is True
    assert (data["put"], data["unchanged"], data["union_default_graph"]) == (0, 14, union)
