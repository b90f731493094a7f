"""kg query: SPARQL over the store, the named evidence questions, parameters, output formats.

Every named question runs on real records (tests/data) and must give the rows rdflib's own
SPARQL engine gives on the same data (the store's N-Quads dump in a Dataset whose default
graph is the union of its graphs), with the parameters bound the same way.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import warnings
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import rdflib
from click.testing import CliRunner
from pyoxigraph import (
    BlankNode,
    Literal,
    NamedNode,
    Quad,
    QuerySolutions,
    QueryTriples,
    RdfFormat,
    Store,
)
from rdflib.query import Result as RdflibResult
from rdflib.query import ResultRow

import kg
from kg.cli import main
from kg.errors import StoreError
from kg.queries import (
    PARAM_TYPES,
    NamedQuery,
    QueryHeaderError,
    named_queries,
    named_query,
    parse_header,
)
from kg.query import (
    ParameterError,
    PreparedQuery,
    Result,
    prepare,
    rows,
    run_query,
    to_python,
    write_result,
)
from kg.rdf.namespaces import PREFIXES
from kg.store import KgStore

TESTS = Path(__file__).parent
DATA = TESTS / "data"
SEED = DATA / "seed" / "000_e84263704ca7bb66.txt"
GOLD = json.loads((DATA / "gold" / "23906502.json").read_text())
ROOT = TESTS.parent
MESH = "http://id.nlm.nih.gov/mesh/"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
#: Columns made by GROUP_CONCAT: their order is the engine's, so they compare as sets.
CONCATENATED = {"design": ", ", "interventions": "; "}

# rdflib's Dataset warns on every quad it stores (default_context is deprecated)
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def kg_cli(*args: str, expect: int = 0) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == expect, (result.output, result.exception)
    assert "Traceback" not in result.output
    return result.output


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture(scope="module")
def seed_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("seed") / "store"
    kg_cli("build", str(SEED), "--store", str(store))
    return store


@pytest.fixture(scope="module")
def data_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every record under tests/data (as the brief's ``kg build … -r``)."""
    store = tmp_path_factory.mktemp("data") / "store"
    inputs = [SEED, *sorted((DATA / "gold" / "records").glob("*.xml"))]
    inputs += [DATA / "xml", DATA / "medline"]
    result = CliRunner().invoke(main, ["build", *map(str, inputs), "-r", "--store", str(store)])
    assert result.exit_code in (0, 3), result.output  # 3: a bad record is named and skipped
    assert (store / "current" / "CURRENT").exists()
    return store


@pytest.fixture(scope="module")
def store(data_store: Path) -> KgStore:
    return KgStore(data_store)


@pytest.fixture(scope="module")
def dataset(data_store: Path, tmp_path_factory: pytest.TempPathFactory) -> rdflib.Dataset:
    dump = tmp_path_factory.mktemp("dump") / "kg.nq"
    kg_cli("export", "--store", str(data_store), "-o", str(dump))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ds = rdflib.Dataset(default_union=True)
        ds.parse(dump, format="nquads")
    return ds


# --- comparing answers of two engines -----------------------------------------------------


def to_rdflib(term: NamedNode | Literal | BlankNode) -> rdflib.term.Identifier:
    if isinstance(term, NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, BlankNode):
        return rdflib.BNode(term.value)
    if term.language:
        return rdflib.Literal(term.value, lang=term.language)
    if term.datatype.value == XSD_STRING:  # rdflib keeps "x" and "x"^^xsd:string apart
        return rdflib.Literal(term.value)
    return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value))


def from_rdflib(term: object) -> NamedNode | Literal | BlankNode | None:
    if term is None:
        return None
    if isinstance(term, rdflib.URIRef):
        return NamedNode(str(term))
    if isinstance(term, rdflib.BNode):
        return BlankNode(str(term))
    assert isinstance(term, rdflib.Literal)
    if term.language:
        return Literal(str(term), language=term.language)
    return Literal(str(term), datatype=NamedNode(str(term.datatype)) if term.datatype else None)


def canonical(name: str, value: Any) -> Any:
    if name in CONCATENATED and isinstance(value, str):
        return tuple(sorted(value.split(CONCATENATED[name])))
    return value


def oxigraph_rows(store: KgStore, prepared: PreparedQuery) -> Counter[tuple[Any, ...]]:
    result = run_query(store, prepared)
    return Counter(tuple(canonical(k, v) for k, v in row.items()) for row in rows(result))


def rdflib_rows(ds: rdflib.Dataset, prepared: PreparedQuery) -> Counter[tuple[Any, ...]]:
    bindings = {k: to_rdflib(v) for k, v in prepared.bindings.items()}
    result = ds.query(prepared.text, initNs=PREFIXES, initBindings=bindings)
    names = [str(v) for v in result.vars or []]
    return Counter(
        tuple(canonical(n, to_python(from_rdflib(row[n]))) for n in names)
        for row in result
        if isinstance(row, ResultRow)
    )


def question(store: KgStore, name: str, **params: object) -> list[dict[str, Any]]:
    return rows(run_query(store, prepare(named_query(name), params)))


def question_on(store: Store, name: str, **params: object) -> list[dict[str, Any]]:
    return rows(run_query(store, prepare(named_query(name), params)))


# --- the seed: the brief's two questions --------------------------------------------------


def test_outcomes_of_ivig_on_the_seed(seed_store: Path) -> None:
    out = kg_cli(
        "query", "--store", str(seed_store), "--name", "outcomes", "--param", "intervention=D016756"
    )
    found = csv_rows(out)
    major = [r for r in found if (r["count"], r["denominator"], r["percentage"]) == ("19", "27", "70")]
    assert len(major) == 1
    assert "(70%)" in major[0]["quote"] and major[0]["kind"] == "response"
    assert {r["pmid"] for r in found} == {"23906502"}
    assert {r["intervention"] for r in found} == {MESH + "D016756"}
    relapse = [r for r in found if r["kind"] == "relapse"]
    assert [(r["count"], r["denominator"], r["percentage"]) for r in relapse] == [("10", "19", "53")]
    abstract = rows(
        run_query(
            KgStore(seed_store),
            'SELECT ?text WHERE { ?a fabio:hasPubMedId "23906502" ; dcterms:abstract ?text }',
        )
    )[0]["text"]
    for r in found:  # every outcome comes with its quote, and the quote is where it says
        assert r["quote"] and abstract[int(r["start"]) : int(r["end"])] == r["quote"]


def test_what_other_graphs_say_of_an_article_still_counts(seed_store: Path) -> None:
    """The questions read a study inside its article's graph (GRAPH ?g, for speed), but what
    another graph says of the article (a similar-article stub: its own title and year) counts
    as it does in the union default graph: the rows are rdflib's, stub year included."""
    mem = Store()
    mem.extend(KgStore(seed_store).store.quads_for_pattern(None, None, None, None))
    article = NamedNode("https://w3id.org/kg/id/pubmed/23906502")
    stub_graph = NamedNode("https://w3id.org/kg/id/graph/pubmed/1")
    has_year = NamedNode(PREFIXES["fabio"] + "hasPublicationYear")
    some_year = next(mem.quads_for_pattern(None, has_year, None, None)).object  # a cited article's
    assert isinstance(some_year, Literal)
    mem.add(Quad(article, has_year, Literal("1999", datatype=some_year.datatype), stub_graph))
    mem.add(Quad(article, NamedNode(PREFIXES["dcterms"] + "title"), Literal("A"), stub_graph))
    ds = rdflib.Dataset(default_union=True)
    ds.parse(data=mem.dump(format=RdfFormat.N_QUADS), format="nquads")
    for name, params in [
        ("studies", {"intervention": "D016756"}),
        ("outcomes", {"intervention": "D016756"}),
        ("adverse-events", {}),
        ("adverse-events", {"intervention": "D016756"}),
    ]:
        prepared = prepare(named_query(name), params)
        ours = Counter(
            tuple(canonical(k, v) for k, v in row.items()) for row in rows(run_query(mem, prepared))
        )
        assert ours, name
        assert ours == rdflib_rows(ds, prepared), name
    studies = question_on(mem, "studies", intervention="D016756")
    assert {r["year"] for r in studies} >= {1999}
    assert {r["title"] for r in studies} == {"A"}


def test_related_articles_of_the_seed(seed_store: Path) -> None:
    out = kg_cli(
        "query", "--store", str(seed_store), "--name", "related", "--param", "pmid=23906502"
    )
    found = csv_rows(out)
    by_relation: dict[str, list[str]] = {}
    for r in found:
        by_relation.setdefault(r["relation"], []).append(r["related"])
    assert sorted(by_relation["similar"]) == sorted(GOLD["similar_articles"])
    assert sorted(by_relation["cited by"]) == sorted(GOLD["cited_by"])
    assert len(found) == 10 and {r["pmid"] for r in found} == {"23906502"}
    for r in found:
        facts = GOLD["related_article_facts"].get(r["related"])
        if facts:
            assert int(r["year"]) == facts["year"]
        assert r["title"]


# --- each named question on real data, and the same rows from rdflib ----------------------

CASES: list[tuple[str, dict[str, object]]] = [
    ("studies", {"intervention": "D016756"}),
    ("studies", {"intervention": "Immunoglobulins"}),
    ("studies", {"intervention": "Anti-Bacterial Agents"}),
    ("outcomes", {"intervention": "D016756"}),
    ("outcomes", {"intervention": "intravenous immunoglobulins", "condition": "Skin Diseases"}),
    ("outcomes", {"intervention": "Anti-Bacterial Agents", "condition": "Abscess"}),
    ("outcomes", {"intervention": "D016756", "kind": "relapse"}),
    ("outcomes", {"intervention": "Anti-Bacterial Agents"}),
    ("adverse-events", {}),
    ("adverse-events", {"intervention": "Immunoglobulins"}),
    ("related", {"pmid": "23906502"}),
    ("related", {"pmid": "37799613"}),
    ("retracted", {}),
    ("cooccurrence", {"descriptor": "Space Flight"}),
    ("cooccurrence", {"descriptor": "D051381"}),
    ("findings", {}),
    ("findings", {"intervention": "Penicillins", "condition": "Fetal Membranes, Premature Rupture"}),
    ("mentions", {}),
    ("mentions", {"kind": "intervention", "condition": "Skin Diseases"}),
    ("mentions", {"kind": "participants", "pmid": "23906502"}),
]


@pytest.mark.parametrize(("name", "params"), CASES, ids=[f"{n}-{p}" for n, p in CASES])
def test_named_question_matches_rdflib(
    store: KgStore, dataset: rdflib.Dataset, name: str, params: dict[str, object]
) -> None:
    prepared = prepare(named_query(name), params)
    ours = oxigraph_rows(store, prepared)
    assert ours, "every case has rows on tests/data"
    assert ours == rdflib_rows(dataset, prepared)


def test_every_named_question_is_tested() -> None:
    assert {name for name, _ in CASES} == set(named_queries())


def test_studies_include_narrower_descriptors(store: KgStore) -> None:
    exact = question(store, "studies", intervention="D016756")
    by_pmid = {r["pmid"]: r for r in exact}
    # 27763809 measures immunoglobulin products; the text names Privigen, an IVIG product
    # (a supplementary concept mapped to D016756), and the record has no NLM indexing
    assert set(by_pmid) == {"23906502", "27763809"}
    assert by_pmid["23906502"]["sample_size"] == 27
    assert set(by_pmid["23906502"]["design"].split(", ")) >= {"retrospective", "single-centre"}
    broad = question(store, "studies", intervention="Immunoglobulins")  # D007136
    # (30311156 names IgA only in "IgA deficiency", its condition: not an intervention since the
    # text grounding takes the longest term)
    assert {r["pmid"] for r in broad} >= {"23906502", "27763809"}
    assert {r["intervention"] for r in broad} >= {MESH + "D016756"}
    from kg.mesh import MeshTable

    tree = MeshTable.default().narrower("D007136")
    assert all(r["intervention"].removeprefix(MESH) in tree for r in broad)
    by_label = question(store, "studies", intervention="Immunoglobulins, Intravenous")
    assert by_label == exact


def test_outcomes_in_a_condition(store: KgStore) -> None:
    in_skin = question(store, "outcomes", intervention="D016756", condition="Skin Diseases")
    assert any((r["count"], r["denominator"]) == (19, 27) for r in in_skin)  # DM is under C17
    assert question(store, "outcomes", intervention="D016756", condition="Lung Diseases") == []
    relapses = question(store, "outcomes", intervention="D016756", kind="relapse")
    assert [(r["count"], r["denominator"], r["percentage"]) for r in relapses] == [
        (10, 19, Decimal(53))
    ]
    other_arm = question(store, "outcomes", intervention="Anti-Bacterial Agents")
    assert {r["pmid"] for r in other_arm}  # tests/data has studies of antibiotics
    # without a condition, studies that name none count too; with one, they do not
    # 30485787 studies prostatectomy (PSA is a marker it measures, not an intervention)
    surgery = question(store, "outcomes", intervention="Prostatectomy")
    assert any((r["count"], r["denominator"]) == (110, 265) for r in surgery)
    assert question(store, "outcomes", intervention="D017430", condition="Neoplasms") == []


def test_shipped_files_run_as_they_are(seed_store: Path, store: KgStore) -> None:
    """As shipped, a .rq file is plain SPARQL: UNDEF is any value, optional lines are comments."""
    seed = KgStore(seed_store)
    for name in named_queries():
        text = (ROOT / "kg" / "queries" / f"{name}.rq").read_text()
        found = rows(run_query(seed, PreparedQuery(text)))
        assert found or name in ("cooccurrence", "retracted", "findings"), name  # no MeSH, no comparison
    whole = rows(run_query(store, PreparedQuery(named_query("outcomes").text)))
    assert {r["pmid"] for r in whole} >= {"23906502", "30485787"}


def test_mentions_of_the_seed(store: KgStore) -> None:
    """The tagger's phrases, by kind, each quoting the abstract where its offsets say."""
    found = question(store, "mentions", pmid="23906502")
    assert {r["kind"] for r in found} == {"participants", "intervention", "outcome"}
    assert all(r["found_by"].startswith("model:tagger-") for r in found)
    abstract = rows(
        run_query(store, 'SELECT ?text WHERE { ?a fabio:hasPubMedId "23906502" ; dcterms:abstract ?text }')
    )[0]["text"]
    for r in found:
        assert abstract[int(r["start"]) : int(r["end"])] == r["text"]
    arms = question(store, "mentions", pmid="23906502", kind="intervention")
    assert any("IVIg" in r["text"] for r in arms) and {r["kind"] for r in arms} == {"intervention"}
    skin = {r["pmid"] for r in question(store, "mentions", kind="intervention", condition="Skin Diseases")}
    lung = {r["pmid"] for r in question(store, "mentions", kind="intervention", condition="Lung Diseases")}
    assert "23906502" in skin and lung and "23906502" not in lung  # dermatomyositis is under C17


def test_adverse_events_by_grade(store: KgStore) -> None:
    events = question(store, "adverse-events")
    assert all(r["event"] for r in events)
    grades = [r["grade"] for r in events]
    graded = [g for g in grades if g is not None]
    assert graded == sorted(graded, reverse=True) and grades[: len(graded)] == graded
    headaches = [r for r in events if r["pmid"] == "23906502"]
    assert [(r["grade"], r["count"]) for r in headaches] == [(3, 2)]
    assert "headaches" in headaches[0]["quote"]
    assert "intravenous immunoglobulins" in headaches[0]["interventions"].lower().split("; ")
    ivig = question(store, "adverse-events", intervention="Immunoglobulins")
    assert {r["pmid"] for r in ivig} == {"23906502"}


def test_related_both_ways(store: KgStore) -> None:
    citing = question(store, "related", pmid="37799613")  # a seed's "Cited by" entry
    assert ("cites", "23906502") in {(r["relation"], r["related"]) for r in citing}


def test_retracted_and_corrected(store: KgStore) -> None:
    found = {(r["pmid"], r["status"], r["notice_pmid"]) for r in question(store, "retracted")}
    assert {
        ("11543891", "retracted", "11600210"),
        ("8655018", "retracted", "9867474"),
        ("8863847", "retracted", "9499167"),
        ("32887691", "erratum", "35470203"),
        ("22395128", "expression of concern", "34752162"),
    } <= found


def test_mesh_cooccurrence(store: KgStore) -> None:
    found = question(store, "cooccurrence", descriptor="Space Flight")
    assert {r["descriptor"] for r in found} == {MESH + "D013026"}
    top = {r["label"]: r["articles"] for r in found[:3]}
    assert top == {
        "Humans": 5,
        "United States": 4,
        "United States National Aeronautics and Space Administration": 4,
    }
    counts = [r["articles"] for r in found]
    assert counts == sorted(counts, reverse=True)


# --- ad-hoc SPARQL: graphs, the union default graph, query forms --------------------------


def test_named_graphs_and_union_default_graph(store: KgStore, dataset: rdflib.Dataset) -> None:
    per_graph = PreparedQuery(
        """SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?a fabio:hasPubMedId ?pmid ; dcterms:title ?t } }
        GROUP BY ?g"""
    )
    assert oxigraph_rows(store, per_graph) == rdflib_rows(dataset, per_graph)
    union = PreparedQuery(
        'SELECT ?a ?t WHERE { ?a fabio:hasPubMedId "23906502" ; dcterms:title ?t }'
    )
    assert oxigraph_rows(store, union) == rdflib_rows(dataset, union)
    graph = rows(
        run_query(
            store,
            'SELECT ?g WHERE { GRAPH ?g { ?a kg:reportsStudy ?s ; fabio:hasPubMedId "23906502" } }',
        )
    )
    assert [r["g"] for r in graph] == ["https://w3id.org/kg/id/graph/pubmed/23906502"]


def test_ask_construct_describe(data_store: Path) -> None:
    store = ["--store", str(data_store)]
    assert kg_cli("query", *store, 'ASK { ?a fabio:hasPubMedId "23906502" }') == "true\n"
    assert kg_cli("query", *store, 'ASK { ?a fabio:hasPubMedId "0" }') == "false\n"
    answer = json.loads(kg_cli("query", *store, "--format", "json", "ASK { ?s ?p ?o }"))
    assert answer["boolean"] is True
    ttl = kg_cli(
        "query", *store, 'CONSTRUCT { ?a dcterms:title ?t } WHERE { ?a fabio:hasPubMedId "23906502" ; dcterms:title ?t }'
    )
    g = rdflib.Graph().parse(data=ttl, format="turtle")
    assert len(g) == 1 and GOLD["title"] in {str(o) for o in g.objects()}
    described = kg_cli(
        "query", *store, "--format", "nt", "DESCRIBE <https://w3id.org/kg/id/pubmed/23906502>"
    )
    assert len(rdflib.Graph().parse(data=described, format="nt")) > 20


# --- output formats round-trip ------------------------------------------------------------

ROUND_TRIP = """
SELECT ?pmid ?outcome ?count ?percentage ?span WHERE {
  ?a fabio:hasPubMedId ?pmid ; kg:reportsStudy/kg:outcome ?o .
  ?o rdfs:label ?outcome ; kg:measurement ?m .
  OPTIONAL { ?m kg:count ?count } OPTIONAL { ?m kg:percentage ?percentage }
  OPTIONAL { ?o kg:evidenceSpan ?span }
}"""


@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv"])
def test_result_formats_round_trip(data_store: Path, store: KgStore, fmt: str) -> None:
    out = CliRunner().invoke(
        main, ["query", "--store", str(data_store), "--format", fmt, ROUND_TRIP]
    ).stdout_bytes
    parsed = RdflibResult.parse(io.BytesIO(out), format=fmt)
    result = run_query(store, ROUND_TRIP).value
    assert isinstance(result, QuerySolutions)
    names = [v.value for v in result.variables]
    expected = [[sol[n] for n in names] for sol in result]
    assert len(expected) > 50
    assert [str(v) for v in parsed.vars or []] == names
    got = [[row[n] for n in names] for row in parsed if isinstance(row, ResultRow)]
    if fmt == "csv":  # SPARQL CSV keeps lexical forms only: IRIs and strings
        want = Counter(tuple(None if t is None else t.value for t in r) for r in expected)
        assert Counter(tuple(None if v is None else str(v) for v in r) for r in got) == want
    else:
        want = Counter(tuple(to_python(t) for t in r) for r in expected)
        assert Counter(tuple(to_python(from_rdflib(v)) for v in r) for r in got) == want


@pytest.mark.parametrize(("fmt", "rdflib_format"), [("ttl", "turtle"), ("nt", "nt"), ("jsonld", "json-ld")])
def test_graph_formats_round_trip(data_store: Path, store: KgStore, fmt: str, rdflib_format: str) -> None:
    construct = "CONSTRUCT { ?o ?p ?v } WHERE { ?a fabio:hasPubMedId \"23906502\" ; kg:reportsStudy/kg:outcome ?o . ?o ?p ?v }"
    out = kg_cli("query", "--store", str(data_store), "--format", fmt, construct)
    parsed = rdflib.Graph().parse(data=out, format=rdflib_format)
    value = run_query(store, construct).value
    assert isinstance(value, QueryTriples)
    want = {(to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object)) for t in value}
    assert len(want) > 30 and set(parsed) == want


def test_table_for_people(seed_store: Path, store: KgStore) -> None:
    out = kg_cli(
        "query", "--store", str(seed_store), "--format", "table", "-n", "outcomes", "-p", "intervention=D016756"
    )
    lines = out.splitlines()
    assert [c.strip() for c in lines[0].split(" │ ")[:3]] == ["pmid", "intervention", "intervention_text"]
    assert lines[-1].endswith("rows)")
    assert any("mesh:D016756" in line and "│    19 │" in line for line in lines)  # numbers right
    buf = io.BytesIO()
    write_result(run_query(store, prepare(named_query("related"), {"pmid": "23906502"})), buf, fmt="table", width=100)
    wrapped = buf.getvalue().decode().splitlines()
    assert max(len(line) for line in wrapped) <= 100 and len(wrapped) > 13  # long titles wrap


# --- parameters: typed, validated, never pasted -------------------------------------------


def test_parameters_are_terms_not_text(store: KgStore) -> None:
    hostile = 'relapse" } } ; DROP ALL ; SELECT * { ?s ?p "'
    prepared = prepare(named_query("outcomes"), {"intervention": "D016756", "kind": hostile})
    assert hostile not in prepared.text and prepared.bindings["kind"] == Literal(hostile)
    assert rows(run_query(store, prepared)) == []
    tree = prepare(named_query("studies"), {"intervention": "Immunoglobulins"})
    (values,) = [line for line in tree.text.splitlines() if "VALUES ?intervention" in line]
    assert "<http://id.nlm.nih.gov/mesh/D016756>" in values.split()
    assert "<http://id.nlm.nih.gov/mesh/D000906>" in values.split()  # Antibodies, under it too
    assert "UNDEF" not in tree.text and tree.bindings == {}
    related = prepare(named_query("related"), {"pmid": 23906502})
    assert 'VALUES ?pmid { "23906502" }' in related.text and related.bindings == {}
    cooccurrence = prepare(named_query("cooccurrence"), {"descriptor": "space flight"})
    assert "VALUES ?descriptor { <http://id.nlm.nih.gov/mesh/D013026> }" in cooccurrence.text
    with pytest.raises(ParameterError, match="not a value kg writes"):
        prepare(named_query("related"), {"pmid": Literal('1" } ?s ?p ?o {')})
    with pytest.raises(ParameterError, match="not a value kg writes"):
        prepare(named_query("cooccurrence"), {"descriptor": NamedNode("http://example.org/x")})


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-n", "related", "-p", "pmid=0123"], "not a PMID"),
        (["-n", "related", "-p", "pmid=23906502x"], "not a PMID"),
        (["-n", "related", "-p", "pmd=23906502"], "no parameter 'pmd'"),
        (["-n", "related"], "pmid is required"),
        (["-n", "studies", "-p", "intervention=D12"], "not a MeSH descriptor UI"),
        (["-n", "studies", "-p", "intervention=no such heading"], "not a MeSH descriptor UI"),
        (["-n", "cooccurrence", "-p", "descriptor=D013026", "-p", "descriptor=D006801"], "given twice"),
        (["-n", "related", "-p", "pmid"], "NAME=VALUE"),
        (["-n", "nope"], "no named query 'nope'"),
        (["-p", "x=1", "SELECT * {}"], "no parameter 'x'"),
        (["SELECT ?a WHERE { ?a ?b ?c }", "-n", "related"], "give one of"),
        ([], "give one of"),
    ],
)
def test_bad_usage_exits_2(data_store: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["query", "--store", str(data_store), *args])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output


def test_ad_hoc_parameters(data_store: Path) -> None:
    store = ["query", "--store", str(data_store)]
    text = "# @param pmid string required The PMID\nSELECT ?t WHERE { ?a fabio:hasPubMedId ?pmid ; dcterms:title ?t }"
    out = kg_cli(*store, "-p", "pmid=23906502", text, expect=2)  # substituted: must be projected
    assert "?pmid must be in the SELECT clause" in out
    fixed = text.replace("SELECT ?t", "SELECT ?pmid ?t")
    out = kg_cli(*store, "-p", "pmid=23906502", fixed)
    assert csv_rows(out) == [{"pmid": "23906502", "t": GOLD["title"]}]
    typed = "# @param pmid pmid required The PMID\nSELECT ?t WHERE { ?a fabio:hasPubMedId ?pmid ; dcterms:title ?t }"
    out = kg_cli(*store, "-p", "pmid=23906502", typed, expect=2)
    assert "needs one 'VALUES ?pmid { UNDEF }'" in out
    typed = typed.replace("WHERE {", "WHERE { VALUES ?pmid { UNDEF }")
    out = kg_cli(*store, "-p", "pmid=23906502", typed)
    assert csv_rows(out) == [{"t": GOLD["title"]}]


def test_syntax_error_names_line_and_column(data_store: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.rq"
    bad.write_text("SELECT ?s WHERE {\n  ?s ?p ?o .\n  FILTER(}\n")
    out = kg_cli("query", "--store", str(data_store), "-f", str(bad), expect=2)
    assert "line 3, column" in out and "bad.rq" in out
    out = kg_cli("query", "--store", str(data_store), "SELECT * { ?s nope:x ?o }", expect=2)
    assert "line 1, column" in out and "undeclared prefix 'nope:'" in out


def test_missing_store_says_how_to_build(tmp_path: Path) -> None:
    out = kg_cli("query", "--store", str(tmp_path / "none"), "ASK {}", expect=3)
    assert "kg build" in out
    with pytest.raises(StoreError, match="kg build"):
        kg.open_store(tmp_path / "none")


def test_format_must_fit_the_query(data_store: Path) -> None:
    out = kg_cli("query", "--store", str(data_store), "--format", "ttl", "SELECT * {}", expect=2)
    assert "CONSTRUCT" in out
    kg_cli("query", "--store", str(data_store), "--format", "csv", "CONSTRUCT WHERE { ?s ?p ?o }", expect=2)


# --- headers, --list, --prefixes, --show ---------------------------------------------------


def test_shipped_headers() -> None:
    queries = named_queries()
    assert set(queries) >= {"studies", "outcomes", "adverse-events", "related", "retracted", "cooccurrence"}
    for q in queries.values():
        assert q.summary.endswith(".") and len(q.description) > 40, q.name
        for p in q.params:
            assert p.type in PARAM_TYPES and p.description, (q.name, p.name)


def test_header_errors() -> None:
    assert parse_header("# Title.\n# More.\n# @param x string optional X\nSELECT ?x {}").params[0].name == "x"
    for header in (
        "# @param x strin optional X\nSELECT ?x {}",
        "# @param x string sometimes X\nSELECT ?x {}",
        "# @param 1x string optional X\nSELECT ?x {}",
        "# @param x mesh-tree optional X\nSELECT ?x {}",  # no VALUES ?x { UNDEF } to fill
        "# @param x\nSELECT ?x {}",
        "# @param x string optional X\nSELECT ?x {\n  #? y: ?s ?p ?y .\n}",  # y is not declared
    ):
        with pytest.raises(QueryHeaderError):
            parse_header(header)


def test_list_prefixes_show(data_store: Path) -> None:
    listing = kg_cli("query", "--list")
    for q in named_queries().values():
        assert f"{q.name}: {q.summary}" in listing
        for p in q.params:
            assert f"--param {p.name}=" in listing
    prefixes = kg_cli("query", "--prefixes")
    assert "PREFIX kg: <https://w3id.org/kg/ontology#>" in prefixes
    assert len(prefixes.splitlines()) == len(PREFIXES)
    declared = prefixes + 'SELECT ?t WHERE { ?a fabio:hasPubMedId "23906502" ; dcterms:title ?t }'
    assert len(list(rdflib.Graph().query(declared))) == 0  # the lines are valid SPARQL
    shown = kg_cli("query", "-n", "related", "-p", "pmid=23906502", "--show")
    assert shown.startswith("PREFIX kg: <https://w3id.org/kg/ontology#>\n")  # runs anywhere
    assert "# Articles related" in shown and 'VALUES ?pmid { "23906502" }' in shown
    assert "@param" not in shown and "#?" not in shown  # kg's template lines are gone
    shown = kg_cli("query", "-n", "outcomes", "-p", "intervention=D016756", "-p", "kind=relapse", "--show")
    assert 'WHERE {\n  VALUES ?kind { "relapse" }\n' in shown  # bound where substitution binds it
    assert "VALUES ?intervention { <http://id.nlm.nih.gov/mesh/D016756> }" in shown
    assert len(list(rdflib.Dataset().query(shown))) == 0  # valid SPARQL for another engine too


def test_undeclared_default_is_used() -> None:
    q = parse_header("# T.\n# @param n integer default=3 N\nSELECT ?n { VALUES ?n { UNDEF } }", name="t")
    assert 'VALUES ?n { "3"^^<http://www.w3.org/2001/XMLSchema#integer> }' in prepare(q).text
    with pytest.raises(ParameterError, match="whole number"):
        prepare(q, {"n": "three"})
    assert isinstance(named_query("studies"), NamedQuery)


# --- the Python API and a real subprocess --------------------------------------------------


def test_python_api(data_store: Path) -> None:
    store = kg.open_store(data_store)
    found = store.question("outcomes", intervention="Immunoglobulins, Intravenous")
    major = [r for r in found if r["count"] == 19]
    assert major and major[0]["denominator"] == 27 and major[0]["percentage"] == Decimal(70)
    assert isinstance(major[0]["start"], int) and major[0]["quote"]
    title = store.query(
        "SELECT ?pmid ?t WHERE { ?a fabio:hasPubMedId ?pmid ; dcterms:title ?t }", pmid="23906502"
    )
    assert title == [{"pmid": "23906502", "t": GOLD["title"]}]
    assert store.query('ASK { ?a fabio:hasPubMedId "23906502" }') is True
    triples = store.query('CONSTRUCT WHERE { ?a fabio:hasPubMedId "23906502" }')
    assert isinstance(triples, list) and len(triples) == 1
    assert set(store.questions()) == set(named_queries())
    with pytest.raises(ParameterError):
        store.question("related", pmid="x")
    assert to_python(Literal("2013", datatype=NamedNode("http://www.w3.org/2001/XMLSchema#gYear"))) == 2013
    assert rows(Result(run_query(store.store, "SELECT ?x {}").value)) == [{"x": None}]


def test_cli_as_a_subprocess(data_store: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "kg", "query", "--store", str(data_store), "--name", "related", "--param", "pmid=23906502"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    found = csv_rows(done.stdout)  # piped: CSV
    assert sorted(r["related"] for r in found if r["relation"] == "similar") == sorted(GOLD["similar_articles"])
    bad = subprocess.run(
        [sys.executable, "-m", "kg", "query", "--store", str(data_store), "SELECT * WHERE { ?s ?p ?o"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 2 and "line 1, column" in bad.stderr and "Traceback" not in bad.stderr


# --- the users' words --------------------------------------------------------------------------


def test_users_words_name_descriptors_and_misspellings_get_suggestions(seed_store: Path) -> None:
    """Entry terms ("IVIG", "intravenous immunoglobulin") work as --param values; a label kg
    does not know is refused (exit 2) with the closest terms."""
    by_ui = csv_rows(kg_cli("query", "--store", str(seed_store), "--name", "outcomes",
                            "--param", "intervention=D016756"))
    for words in ("IVIG", "intravenous immunoglobulin", "Immunoglobulins, Intravenous"):
        said = csv_rows(kg_cli("query", "--store", str(seed_store), "--name", "outcomes",
                               "--param", f"intervention={words}"))
        assert said == by_ui and len(said) >= 5, words
    for words, ui in (("heart attack", "D009203"), ("aspirin", "D001241"),
                      ("breast cancer", "D001943")):
        shown = kg_cli("query", "--store", str(seed_store), "--name", "outcomes", "--show",
                       "--param", f"intervention={words}")
        assert f"<http://id.nlm.nih.gov/mesh/{ui}>" in shown, words
    refused = kg_cli("query", "--store", str(seed_store), "--name", "outcomes",
                     "--param", "intervention=aspirn", expect=2)
    assert "did you mean Aspirin (D001241)" in refused and len(refused.strip().splitlines()) == 1


def test_a_from_clause_gives_the_querys_own_dataset(seed_store: Path) -> None:
    """The union default graph stands in only where the query names no dataset: with FROM, the
    default graph is the graphs it names (pyoxigraph's union flag would override them)."""
    ask = 'ASK {FROM} { ?a fabio:hasPubMedId "23906502" }'
    meta = "FROM <https://w3id.org/kg/id/graph/metadata>"
    seed = "FROM <https://w3id.org/kg/id/graph/pubmed/23906502>"
    assert kg_cli("query", "--store", str(seed_store), ask.replace("{FROM} ", "")).strip() == "true"
    assert kg_cli("query", "--store", str(seed_store), ask.replace("{FROM}", meta)).strip() == "false"
    assert kg_cli("query", "--store", str(seed_store), ask.replace("{FROM}", seed)).strip() == "true"
    named = "ASK FROM NAMED <https://w3id.org/kg/id/graph/metadata> { GRAPH ?g { ?a fabio:hasPubMedId ?p } }"
    assert kg_cli("query", "--store", str(seed_store), named).strip() == "false"


def test_terminal_tables_break_between_words_and_count_wide_characters() -> None:
    """A narrow terminal wraps cells between words ("successfully" stays whole) and aligns
    columns by display width (a CJK character takes two columns)."""
    from kg.query import display_width, wrap

    store = Store()
    g = NamedNode("http://x/g")
    for i, text in enumerate(("patients were successfully treated with a new IVIg course",
                              "静脈内免疫グロブリン療法", "ok")):
        store.add(Quad(NamedNode(f"http://x/{i}"), NamedNode("http://x/says"), Literal(text), g))
    buf = io.BytesIO()
    query = "SELECT ?s ?text WHERE { ?s <http://x/says> ?text } ORDER BY ?s"
    write_result(run_query(store, query), buf, fmt="table", width=30)
    lines = buf.getvalue().decode().splitlines()
    assert all(display_width(line) <= 30 for line in lines), lines
    cells = [line.split(" │ ")[1].strip() for line in lines[2:-1] if " │ " in line]
    assert "successfully" in " ".join(cells).split() and "successf" not in cells
    bars = {display_width(line.split("│")[0]) for line in lines[:-1] if "│" in line}
    assert len(bars) == 1  # every row's first bar in the same column, CJK rows included
    assert wrap("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]  # only a word wider is cut
