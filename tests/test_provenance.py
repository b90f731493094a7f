"""The metadata graph describes everything in the store, however many builds made it; a build
under another base IRI than the store's is refused unless asked for.

Real builds through the CLI into one store, the metadata graph read back with SPARQL.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from pyoxigraph import Store

from kg.cli import main
from kg.rdf.namespaces import PREFIXES

TESTS = Path(__file__).parent
SEED = TESTS / "data" / "seed" / "000_e84263704ca7bb66.txt"
RECORDS = sorted((TESTS / "data" / "gold" / "records").glob("*.xml"))
BASE = "https://w3id.org/kg/id/"
OTHER = "https://example.org/other/"
PREFIX_LINES = "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items())


def kg(*args: str, expect: int = 0) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == expect, (result.output, result.exception)
    assert "Traceback" not in result.output
    return result.output


def select(store: Path, query: str) -> list[tuple[str, ...]]:
    s = Store.read_only(str(store / "current"))
    try:
        return sorted(
            tuple(t.value for t in row)  # type: ignore[union-attr]
            for row in s.query(PREFIX_LINES + query)  # type: ignore[union-attr]
        )
    finally:
        del s


def sources(store: Path, base: str = BASE) -> list[str]:
    rows = select(
        store,
        f"SELECT ?name WHERE {{ GRAPH <{base}graph/metadata> {{ <{base}dataset> dcterms:source ?s ."
        " ?s rdfs:label ?name } }",
    )
    return [name for (name,) in rows]


def builds(store: Path) -> list[tuple[str, ...]]:
    return select(
        store,
        f"SELECT ?b ?n WHERE {{ GRAPH <{BASE}graph/metadata> {{ <{BASE}dataset> "
        "prov:wasGeneratedBy ?b . ?b a prov:Activity ; kg:articlesRead ?n } }",
    )


def counts(store: Path) -> tuple[int, int, int]:
    """What the dataset says: triples, articles, graphs."""
    ((triples, articles, graphs),) = select(
        store,
        f"SELECT ?t ?a ?g WHERE {{ GRAPH <{BASE}graph/metadata> {{ <{BASE}dataset> "
        "void:triples ?t ; kg:articleCount ?a ; kg:graphCount ?g } }",
    )
    return int(triples), int(articles), int(graphs)


def actual(store: Path) -> tuple[int, int, int]:
    s = Store.read_only(str(store / "current"))
    try:
        graphs = list(s.named_graphs())
        return len(s), len(graphs) - 1, len(graphs)
    finally:
        del s


def test_two_builds_in_a_row_keep_both_sources(tmp_path: Path) -> None:
    store = tmp_path / "store"
    kg("build", str(SEED), "--store", str(store))
    assert sources(store) == [SEED.name]
    one = counts(store)
    assert one == actual(store)
    kg("build", *map(str, RECORDS[:3]), "--store", str(store))
    assert sources(store) == sorted([SEED.name, *(p.name for p in RECORDS[:3])])
    assert len(builds(store)) == 2
    assert sorted(int(n) for _, n in builds(store)) == [1, 3]
    two = counts(store)
    assert two == actual(store) and two[1] == one[1] + 3  # the whole store, not the last build
    kg("build", str(RECORDS[3]), "--store", str(store))
    assert len(sources(store)) == 5 and len(builds(store)) == 3
    assert counts(store) == actual(store)


def test_a_build_run_again_replaces_its_own_activity(tmp_path: Path) -> None:
    store = tmp_path / "store"
    kg("build", str(SEED), "--store", str(store))
    kg("build", str(RECORDS[0]), "--store", str(store))
    kg("build", str(RECORDS[0]), "--store", str(store), "--force")
    assert sources(store) == sorted([SEED.name, RECORDS[0].name])
    assert len(builds(store)) == 2  # the same files: the same build, once
    assert counts(store) == actual(store)


def test_the_same_input_still_gives_the_same_dump(tmp_path: Path) -> None:
    dumps = []
    for name in ("a", "b"):
        store = tmp_path / name
        kg("build", str(SEED), "--store", str(store))
        kg("build", str(RECORDS[0]), "--store", str(store))
        kg("export", "--store", str(store), "-o", str(tmp_path / f"{name}.nq"))
        dumps.append((tmp_path / f"{name}.nq").read_bytes())
    assert dumps[0] == dumps[1]


def test_another_base_iri_is_refused_exit_2(tmp_path: Path) -> None:
    store = tmp_path / "store"
    kg("build", str(SEED), "--store", str(store))
    before = actual(store)
    result = subprocess.run(
        [sys.executable, "-m", "kg", "build", str(RECORDS[0]), "--store", str(store),
         "--base-iri", OTHER],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert f"<{BASE}>" in result.stderr and f"<{OTHER}>" in result.stderr
    assert actual(store) == before  # nothing was built
    # the environment's base IRI is checked the same way
    out = CliRunner().invoke(
        main, ["build", str(RECORDS[0]), "--store", str(store)], env={"KG_BASE_IRI": OTHER}
    )
    assert out.exit_code == 2 and OTHER in out.output
    # the store's own base is fine, given or not
    kg("build", str(RECORDS[0]), "--store", str(store), "--base-iri", BASE)
    assert len(sources(store)) == 2


def test_force_base_iri_mixes_them_on_purpose(tmp_path: Path) -> None:
    store = tmp_path / "store"
    kg("build", str(SEED), "--store", str(store))
    kg("build", str(RECORDS[0]), "--store", str(store), "--base-iri", OTHER, "--force-base-iri")
    assert sources(store, OTHER) == [RECORDS[0].name]
    assert sources(store) == [SEED.name]  # the first base's description is left as it was
    kg("build", str(RECORDS[1]), "--store", str(store))  # either of the two: no third space
    third = "https://example.net/third/"
    result = CliRunner().invoke(
        main, ["build", str(RECORDS[2]), "--store", str(store), "--base-iri", third]
    )
    assert result.exit_code == 2  # a third base is refused, naming the two the store holds
    assert all(f"<{b}>" in result.output for b in (BASE, OTHER, third))


@pytest.mark.parametrize("base", [BASE, OTHER])
def test_a_new_store_takes_any_base(tmp_path: Path, base: str) -> None:
    store = tmp_path / "store"
    kg("build", str(SEED), "--store", str(store), "--base-iri", base)
    kg("build", str(RECORDS[0]), "--store", str(store), "--base-iri", base)
    assert len(sources(store, base)) == 2
