"""The ``sparql`` engine (kg/validate_sparql.py) gives pySHACL's results, exactly.

pySHACL is the reference: on every fixture of tests/test_validate.py (each planted fault), on the
same fixtures stored as named graphs (the engine then queries the store directly), on graphs
broken on purpose for every constraint kind the shapes use, and on the shared corpus, the two
engines must give the same focus nodes, paths, values, severities, shapes, constraints and
messages, for the same PMIDs and graphs.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path

import pytest
from pyoxigraph import NamedNode, RdfFormat, Store
from rdflib import Graph
from rdflib.namespace import RDF, SH

from kg.config import Settings
from kg.rdf.namespaces import PREFIXES
from kg.store import KgStore
from kg.validate import (
    SHAPES_DIR,
    WORKER_DIED,
    ValidationReport,
    ValidationResult,
    _Checker,
    _units,
    load_files,
    load_shapes,
    validate,
)
from kg.validate_sparql import CompiledShapes

DATA = Path(__file__).parent / "data"
VALID = sorted((DATA / "shapes" / "valid").glob("*.ttl"))
INVALID = sorted((DATA / "shapes" / "invalid").glob("*.ru"))
SHARED = Path(__file__).parents[2] / "shared"
BASE = "https://w3id.org/kg/id/pubmed/"
HEADER = f"BASE <{BASE}>\n" + "".join(
    f"PREFIX {p}: <{ns}>\n" for p, ns in {**PREFIXES, "kgsh": "https://w3id.org/kg/shapes#"}.items()
)
GRAPH = "https://w3id.org/kg/id/graph/pubmed/"


def base_store() -> Store:
    """The conforming fixtures of tests/test_validate.py, in the default graph."""
    return load_files(VALID)


def _build(tmp_path: Path, inputs: list[Path]) -> KgStore:
    from kg.pipeline import build

    with KgStore.writing(tmp_path / "store") as store:
        build(inputs, store=store, settings=Settings(store=tmp_path / "store"))
    return KgStore(tmp_path / "store")


def seen(results: list[ValidationResult]) -> list[tuple[str | None, ...]]:
    return sorted(
        (r.pmid, r.graph, r.severity, r.shape, r.constraint, r.focus, r.path, r.value, r.message)
        for r in results
    )


@cache
def _checker() -> _Checker:
    return _Checker(load_shapes(), "pyshacl")


_CACHE: dict[tuple[str, bytes], list[ValidationResult]] = {}


def by_pyshacl(store: Store) -> list[ValidationResult]:
    """pySHACL's results, unit by unit, in this process (units that do not change are cached)."""
    results = []
    for unit in _units(store, per_article=True):
        key = (unit.key, unit.data)
        if key not in _CACHE:
            _CACHE[key] = _checker().check(unit)[0]
        results += _CACHE[key]
    return results


def named(store: Store) -> Store:
    """The fixtures (default graph) as one named graph per article, as a build stores them."""
    out = Store()
    for n, unit in enumerate(_units(store, per_article=True)):
        graph = NamedNode(
            f"{GRAPH}{unit.pmid}" if unit.pmid else f"https://w3id.org/kg/id/graph/{n}"
        )
        out.load(unit.data, format=RdfFormat.N_TRIPLES, to_graph=graph)
    return out


def assert_same(store: Store, **kwargs: object) -> ValidationReport:
    report = validate(store, engine="sparql", workers=1, **kwargs)  # type: ignore[arg-type]
    assert seen(report.results) == seen(by_pyshacl(store))
    return report


# --- the fixtures --------------------------------------------------------------------------------


def test_valid_fixtures_give_what_pyshacl_gives() -> None:
    report = assert_same(base_store())
    assert report.conforms and report.units == 9


@pytest.mark.parametrize("case", INVALID, ids=[p.stem for p in INVALID])
def test_planted_fault_gives_what_pyshacl_gives(case: Path) -> None:
    store = base_store()
    store.update(HEADER + case.read_text(encoding="utf-8"))
    assert_same(store)


@pytest.mark.parametrize("case", INVALID, ids=[p.stem for p in INVALID])
def test_planted_fault_in_named_graphs_gives_what_pyshacl_gives(case: Path) -> None:
    """Named graphs: the queries run on the store itself, not on a copy."""
    store = base_store()
    store.update(HEADER + case.read_text(encoding="utf-8"))
    assert_same(named(store))


# --- every constraint kind, broken on purpose ------------------------------------------------------

A = f"<{GRAPH}23906502>"
BROKEN = {
    # sh:hasValue
    "has_value": f"DELETE DATA {{ GRAPH {A} {{ <23906502/study/1> a schema:MedicalStudy }} }}",
    # sh:minLength
    "min_length": f"""DELETE {{ GRAPH {A} {{ <23906502> dcterms:title ?t }} }}
        INSERT {{ GRAPH {A} {{ <23906502> dcterms:title "" }} }}
        WHERE {{ GRAPH {A} {{ <23906502> dcterms:title ?t }} }}""",
    # sh:minExclusive, sh:maxExclusive
    "exclusive": f"""INSERT DATA {{ GRAPH {A} {{ <23906502/measurement/1> kg:ciLevel 100.0 .
        <23906502/measurement/2> kg:ciLevel 0 }} }}""",
    # sh:maxInclusive with a typed literal of another kind, and a string where a number goes
    "inclusive_kinds": f"""INSERT DATA {{ GRAPH {A} {{ <23906502/measurement/1> kg:pValue "0.5" .
        <23906502/measurement/2> kg:pValue "2"^^xsd:integer }} }}""",
    # sh:datatype: an ill-typed literal, a language string, an IRI
    "datatype_kinds": f"""INSERT DATA {{ GRAPH {A} {{ <23906502/span/9-29> oa:start "x"^^xsd:integer .
        <23906502> kg:journalTitle "Titre"@fr . <23906502> kg:pii <https://example.org/pii> }} }}""",
    # sh:pattern on a blank node, on a literal, a newline before the end, U+001C inside
    "pattern_kinds": f"""INSERT DATA {{ GRAPH {A} {{ <23906502> dcterms:subject [] .
        <23906502> dcterms:language "en" . <23906502> fabio:hasPubMedCentralId "PMC123\\n" .
        <23906502> prism:doi "10.1234/a\\u001Cb" }} }}""",
    # sh:nodeKind with a literal, sh:class with a literal
    "node_kind_class": f"""INSERT DATA {{ GRAPH {A} {{ <23906502> cito:cites "12345" .
        <23906502> kg:grant "a grant" }} }}""",
    # sh:in: a string in another case, a language string
    "in_kinds": f"""INSERT DATA {{ GRAPH {A} {{ <23906502/outcome/1> kg:outcomeKind "Response" .
        <23906502> kg:sourceFormat "pubmed-xml"@en }} }}""",
    # sh:or at node level and in a property; sh:closed with a stray property
    "or_closed": f"""DELETE DATA {{ GRAPH {A} {{ <23906502> prism:publicationDate "2013-08-01"^^xsd:date }} }} ;
        INSERT DATA {{ GRAPH {A} {{ <23906502> prism:publicationDate "August 2013" .
        <23906502/span/9-29> kg:stray 1 }} }}""",
    # literals rdflib writes otherwise: the graph is checked from a copy
    "odd_literals": f"""INSERT DATA {{ GRAPH {A} {{ <23906502/measurement/1> kg:timeValue "1e3"^^xsd:double .
        <23906502> kg:electronicPublicationDate "2013-08-01T00:00:00Z"^^xsd:dateTime }} }}""",
    # kg:KnownMeshTerm asserted by the data: not trusted, the graph is checked from a copy
    "known_in_data": f"""INSERT DATA {{ GRAPH {A} {{ mesh:D999999 a kg:KnownMeshTerm .
        <23906502/condition/1> kg:mesh mesh:D999999 }} }}""",
    # classes through rdfs:subClassOf in the data
    "subclass": f"""INSERT DATA {{ GRAPH {A} {{ kg:SpecialSpan rdfs:subClassOf kg:Span .
        <23906502/span/x> a kg:SpecialSpan }} }}""",
    # a SPARQL constraint with a computed number in its message, and one with GROUP BY
    "computed_and_grouped": f"""DELETE {{ GRAPH ?g {{ ?m kg:percentage ?p }} }}
        INSERT {{ GRAPH ?g {{ ?m kg:percentage 12.3 }} }}
        WHERE {{ GRAPH ?g {{ ?m kg:percentage ?p ; kg:count ?c ; kg:denominator ?d }} }} ;
        INSERT {{ GRAPH {A} {{ ?b schema:position 1 }} }}
        WHERE {{ GRAPH {A} {{ <23906502> dcterms:creator ?b }} }}""",
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_on_purpose_gives_what_pyshacl_gives(name: str) -> None:
    store = named(base_store())
    store.update(HEADER + "PREFIX cito: <http://purl.org/spar/cito/>\n" + BROKEN[name])
    report = assert_same(store)
    assert report.results, "the planted fault is found"


def test_every_constraint_kind_is_compiled() -> None:
    """kg's shapes need no pySHACL fallback: every shape is translated."""
    compiled = CompiledShapes(load_shapes(), direct=True)
    assert compiled.unsupported == {}


def test_a_shape_the_compiler_does_not_know_goes_through_pyshacl(tmp_path: Path) -> None:
    for path in SHAPES_DIR.glob("*.ttl"):
        (tmp_path / path.name).write_bytes(path.read_bytes())
    (tmp_path / "extra.ttl").write_text(
        """@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix kg: <https://w3id.org/kg/ontology#> .
        @prefix kgsh: <https://w3id.org/kg/shapes#> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
        kgsh:SameLabel a sh:NodeShape ; sh:targetClass kg:Condition ;
            sh:property [ sh:path rdfs:label ; sh:equals kg:mesh ; sh:message "label equals mesh"@en ] .
        """,
        encoding="utf-8",
    )
    shapes = load_shapes(tmp_path)
    compiled = CompiledShapes(shapes, direct=True)
    assert set(map(str, compiled.unsupported)) == {"https://w3id.org/kg/shapes#SameLabel"}
    for store in (base_store(), named(base_store())):
        fast = validate(store, shapes=shapes, engine="sparql", workers=1)
        reference = validate(store, shapes=shapes, engine="pyshacl", workers=1)
        assert seen(fast.results) == seen(reference.results)
        assert any(r.shape.endswith("SameLabel") for r in fast.results)


def test_whole_graph_mode_gives_what_pyshacl_gives() -> None:
    store = base_store()
    store.update(HEADER + (DATA / "shapes" / "invalid" / "percentage_wrong.ru").read_text())
    fast = validate(store, engine="sparql", workers=1, per_article=False)
    reference = validate(store, engine="pyshacl", workers=1, per_article=False)
    assert seen(fast.results) == seen(reference.results)
    assert (fast.units, fast.triples) == (reference.units, reference.triples)


def test_report_counts_and_graph() -> None:
    store = named(base_store())
    store.update(
        HEADER
        + """DELETE { GRAPH ?g { <23906502/measurement/1> kg:percentage ?p } }
        INSERT { GRAPH ?g { <23906502/measurement/1> kg:percentage 99.0 } }
        WHERE { GRAPH ?g { <23906502/measurement/1> kg:percentage ?p } }"""
    )
    fast = validate(store, engine="sparql", workers=1)
    reference = validate(store, engine="pyshacl", workers=1)
    assert seen(fast.results) == seen(reference.results) and len(fast.results) == 1
    assert (fast.units, fast.triples, fast.articles, fast.conforms) == (
        reference.units,
        reference.triples,
        reference.articles,
        reference.conforms,
    )
    parsed = Graph().parse(data=fast.graph.serialize(format="turtle"), format="turtle")
    (root,) = parsed.subjects(RDF.type, SH.ValidationReport)
    (result,) = parsed.objects(root, SH.result)
    for prop in (
        SH.focusNode,
        SH.resultSeverity,
        SH.sourceConstraintComponent,
        SH.sourceShape,
        SH.resultMessage,
        SH.resultPath,
        SH.value,
    ):
        assert parsed.value(result, prop) is not None, prop
    assert json.loads(fast.graph.serialize(format="json-ld"))


def test_copied_graphs_are_those_with_literals_rdflib_writes_otherwise() -> None:
    from kg.mesh import MeshTable
    from kg.validate_sparql import _copied_graphs

    store = Store()
    store.update(f"""{HEADER} INSERT DATA {{
        GRAPH <urn:g:plain> {{ <a> kg:count 1 ; kg:mean 1.5 ; rdfs:label "x", "y"@en ;
            kg:flag true ; kg:date "2013-08-01"^^xsd:date }}
        GRAPH <urn:g:double> {{ <b> kg:timeValue "1e3"^^xsd:double }}
        GRAPH <urn:g:zulu> {{ <c> kg:when "2013-08-01T00:00:00Z"^^xsd:dateTime }}
        GRAPH <urn:g:known> {{ <d> a kg:KnownMeshTerm }}
    }}""")
    assert _copied_graphs(store, MeshTable.default()) == {
        "urn:g:double",  # Oxigraph writes 1000, rdflib 1000.0
        "urn:g:zulu",  # …Z, +00:00
        "urn:g:known",
    }


def test_every_process_compiles_the_queries_in_the_same_order() -> None:
    """Worker processes split the queries by their index: the order must not depend on the
    process (hash seed, blank node labels of the parsed shapes)."""
    import os
    import subprocess
    import sys

    script = (
        "import hashlib; from kg.validate import load_shapes; "
        "from kg.validate_sparql import CompiledShapes; "
        "c = CompiledShapes(load_shapes(), direct=True); "
        "print(hashlib.sha256('\\n'.join(q.text for q in c.queries).encode()).hexdigest())"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(digests) == 1


def test_on_a_built_store_in_two_processes(tmp_path: Path) -> None:
    store = _build(
        tmp_path,
        [
            DATA / "seed" / "000_e84263704ca7bb66.txt",
            *sorted((DATA / "gold" / "records").iterdir())[:6],
        ],
    )
    serial = validate(store, engine="sparql", workers=1)
    parallel = validate(store, engine="sparql", workers=2)
    reference = validate(store, engine="pyshacl", workers=1)
    assert seen(serial.results) == seen(parallel.results) == seen(reference.results)
    assert (
        (serial.units, serial.triples)
        == (parallel.units, parallel.triples)
        == (reference.units, reference.triples)
    )


def test_a_pool_that_cannot_start_validates_in_this_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A worker pool that fails to start (a script without a main guard under the fork server,
    no processes left) once left every part unrun: a store with faults came back conforming."""
    import concurrent.futures

    from kg.pipeline import build

    with KgStore.writing(tmp_path / "store") as writer:
        build([DATA / "seed" / "000_e84263704ca7bb66.txt"], store=writer,
              settings=Settings(store=tmp_path / "store"))
        writer.store.update(  # a fault: every quote of the seed's spans no longer in its abstract
            HEADER + "DELETE { GRAPH ?g { ?s oa:exact ?q } } "
            'INSERT { GRAPH ?g { ?s oa:exact "not in the abstract" } } WHERE { GRAPH ?g { ?s oa:exact ?q } }'
        )
    store = KgStore(tmp_path / "store")
    serial = validate(store, engine="sparql", workers=1)
    assert serial.count("Violation")  # something to lose

    def refuse(*args: object, **kwargs: object) -> None:
        raise RuntimeError("An attempt has been made to start a new process\nbefore bootstrapping")

    monkeypatch.setattr(concurrent.futures.ProcessPoolExecutor, "submit", refuse)
    with caplog.at_level("WARNING", logger="kg.validate_sparql"):
        parallel = validate(store, engine="sparql", workers=2)
    assert seen(parallel.results) == seen(serial.results)
    assert (parallel.units, parallel.triples) == (serial.units, serial.triples)
    [warning] = [r.getMessage() for r in caplog.records if r.name == "kg.validate_sparql"]
    assert "no worker processes (RuntimeError: An attempt has been made" in warning
    assert "\n" not in warning


def _pool_workers(pid: int) -> list[int]:
    """The pool's worker processes under kg ``pid``: children of its fork server."""
    import psutil

    try:
        children = psutil.Process(pid).children()
    except psutil.Error:
        return []
    workers = []
    for child in children:
        try:
            if "forkserver" in " ".join(child.cmdline()):
                workers += [w.pid for w in child.children()]
        except psutil.Error:
            continue
    return workers


@pytest.mark.parametrize("engine", ["sparql", "pyshacl"])
def test_a_worker_killed_midway_is_one_line_and_exit_3(tmp_path: Path, engine: str) -> None:
    """kill -9 of a validation worker (as the OOM killer does) once gave a traceback and exit 1,
    "violations found". Now: one line, exit 3, no report — or, where this process had already
    validated every part itself (the sparql engine runs the parts no worker has begun), the
    whole report, as one process gives it."""
    import signal
    import subprocess
    import sys
    import time

    store = _build(tmp_path, [DATA / "seed" / "000_e84263704ca7bb66.txt",
                              *sorted((DATA / "gold" / "records").iterdir())])
    command = [sys.executable, "-m", "kg", "validate", "--store", str(store.path), "--engine", engine]
    serial = subprocess.run([*command, "--workers", "1"], capture_output=True, text=True, timeout=300)
    process = subprocess.Popen([*command, "--workers", "2"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not (workers := _pool_workers(process.pid)) and time.monotonic() < deadline:
            if process.poll() is not None:
                break
            time.sleep(0.01)
        assert workers, "no validation worker started"
        os.kill(workers[0], signal.SIGKILL)
        out, err = process.communicate(timeout=300)
    finally:
        process.kill()
    if process.returncode == 3:
        assert err.strip() == f"kg: error: {WORKER_DIED}" and not out
    else:
        assert engine == "sparql", (process.returncode, err)
        assert (process.returncode, out) == (serial.returncode, serial.stdout)


# --- the shared corpus ---------------------------------------------------------------------------


@pytest.mark.shared
@pytest.mark.skipif(not (SHARED / "data" / "pubmed").is_dir(), reason="needs ../shared/data")
def test_shared_corpus_gives_what_pyshacl_gives(tmp_path: Path) -> None:
    from kg.sources.files import expand as expand_inputs

    store = _build(
        tmp_path, expand_inputs([SHARED / "data" / "pubmed" / "xml" / "efetch"], recursive=True)
    )
    fast = validate(store, engine="sparql", workers=2)
    reference = validate(store, engine="pyshacl", workers=2)
    assert seen(fast.results) == seen(reference.results)
    assert (fast.units, fast.triples, fast.conforms) == (
        reference.units,
        reference.triples,
        reference.conforms,
    )
