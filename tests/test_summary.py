"""The summary a build keeps beside the store (kg.summary) answers ``cooccurrence`` with exactly
the rows the question itself gives, after a first build, after an update that replaces an
article (with other headings, a renamed one), adds one and deletes one, and after NLM's own
update file; a store without a summary is asked the question itself."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pyoxigraph
import pytest
from click.testing import CliRunner

from kg.cli import main
from kg.queries import named_query, parse_header
from kg.query import prepare, rows, run_query
from kg.rdf.namespaces import PREFIXES
from kg.store import KgStore
from kg.summary import (
    ADVERSE_ROW,
    COUNT,
    RANK,
    STUDY_ROW,
    SUMMARIZES,
    SUMMARY_NODE,
    all_descriptors,
    holds,
    refresh,
    summary_path,
)

DATA = Path(__file__).parent / "data"
FIRST = [
    DATA / "xml" / "22202258_suppl_mesh.xml",
    DATA / "xml" / "28098468_winter.xml",
    DATA / "xml" / "biopython__pubmed4.xml",
    DATA / "xml" / "ncbiutils__pubmed22n1115.xml",
]
NLM_UPDATE = DATA / "updates" / "ncbiutils__pubmed22n1313.xml"
SCOLIOSIS = "D012600"


def kg(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def _article(path: Path) -> str:
    found = re.search(r"<PubmedArticle>[\s\S]*?</PubmedArticle>", path.read_text("utf-8"))
    assert found is not None
    return found[0]


@pytest.fixture(scope="module")
def update(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """22202258 again with a heading less (Aged), one more (Scoliosis) and one renamed
    (Leucovorin, so that the smallest name of its pairs changes); 28098468 under a new PMID;
    28098468 itself deleted."""
    changed = _article(FIRST[0])
    changed = re.sub(r'<MeshHeading>\s*<DescriptorName UI="D000368"[\s\S]*?</MeshHeading>', "",
                     changed, count=1)
    changed = changed.replace(">Leucovorin</DescriptorName>", ">A renamed Leucovorin</DescriptorName>")
    changed = changed.replace(
        "</MeshHeadingList>",
        '<MeshHeading><DescriptorName UI="D012600" MajorTopicYN="N">Scoliosis</DescriptorName>'
        "</MeshHeading></MeshHeadingList>",
    )
    assert "D000368" not in changed and "A renamed" in changed and SCOLIOSIS in changed
    copy = _article(FIRST[1]).replace(">28098468<", ">99000001<")
    path = tmp_path_factory.mktemp("update") / "update.xml"
    path.write_text(
        '<?xml version="1.0"?>\n<PubmedArticleSet>\n' + changed + "\n" + copy + "\n"
        '<DeleteCitation><PMID Version="1">28098468</PMID></DeleteCitation>\n'
        "</PubmedArticleSet>\n",
        encoding="utf-8",
    )
    return path


def answers(store: KgStore, descriptors: set[pyoxigraph.NamedNode]) -> dict[str, list[Any]]:
    """Per descriptor: the question's rows from the summary, and from the store itself."""
    assert store.summary is not None
    out: dict[str, list[Any]] = {}
    for d in sorted(descriptors, key=lambda n: n.value):
        q = prepare(named_query("cooccurrence"), {"descriptor": d.value.rsplit("/", 1)[1]})
        summarised, asked = rows(run_query(store, q)), rows(run_query(store.store, q))
        assert summarised == asked, d
        out[d.value] = asked
    return out


def summary_rows(summary: pyoxigraph.Store) -> set[str]:
    """The summary's quads."""
    return {str(q) for q in summary}


def test_the_summary_answers_as_the_question_does_across_updates(
    tmp_path: Path, update: Path
) -> None:
    path = tmp_path / "store"
    kg("build", *map(str, FIRST), "--store", str(path))
    with KgStore(path) as first:
        before = all_descriptors(first.store)
        answered = answers(first, before)
    assert answered[f"http://id.nlm.nih.gov/mesh/{SCOLIOSIS}"], "Scoliosis co-occurs with nothing"

    kg("build", str(update), "--store", str(path))
    with KgStore(path) as second:
        after = all_descriptors(second.store)
        changed = answers(second, before | after)
        assert second.summary is not None
        # recomputed in part, it holds what a whole recomputation gives
        whole = pyoxigraph.Store()
        refresh(second.store, whole, None)
        assert summary_rows(second.summary) == summary_rows(whole)
    scoliosis = {r["other"]: r for r in changed[f"http://id.nlm.nih.gov/mesh/{SCOLIOSIS}"]}
    assert "http://id.nlm.nih.gov/mesh/D018784" in scoliosis  # from the replaced article
    assert "http://id.nlm.nih.gov/mesh/D000368" not in {
        r["other"] for r in changed["http://id.nlm.nih.gov/mesh/D018784"]
    }  # the heading it lost
    assert any(r["label"] == "A renamed Leucovorin"
               for r in changed["http://id.nlm.nih.gov/mesh/D018784"])
    assert changed != answered

    kg("build", str(NLM_UPDATE), "--store", str(path))
    with KgStore(path) as third:
        answers(third, before | after | all_descriptors(third.store))
        assert third.summary is not None
        whole = pyoxigraph.Store()
        refresh(third.store, whole, None)
        assert summary_rows(third.summary) == summary_rows(whole)


def test_without_a_summary_the_question_is_asked_of_the_store(tmp_path: Path) -> None:
    path = tmp_path / "store"
    kg("build", *map(str, FIRST), "--store", str(path))
    with KgStore(path) as store:
        q = prepare(named_query("cooccurrence"), {"descriptor": SCOLIOSIS})
        assert q.summary is not None
        want = rows(run_query(store, q))
        shutil.rmtree(summary_path(store.version))
    with KgStore(path) as bare:
        assert bare.summary is None
        assert rows(run_query(bare, q)) == want
    out = kg("query", "--store", str(path), "--name", "cooccurrence",
             "--param", f"descriptor={SCOLIOSIS}", "--format", "csv")
    assert len(out.splitlines()) == len(want) + 1
    # the next build writes the whole summary again
    kg("build", str(DATA / "xml" / "32887691.xml"), "--store", str(path))
    with KgStore(path) as rebuilt:
        assert rebuilt.summary is not None
        assert rows(run_query(rebuilt, q)) == want


def test_the_cli_answers_from_the_summary(tmp_path: Path) -> None:
    """``kg query --name`` runs in a process of its own: it opens the summary there too (a row
    put into the summary alone shows that the answer came from it)."""
    path = tmp_path / "store"
    kg("build", *map(str, FIRST), "--store", str(path))
    with KgStore(path) as store:
        version = store.version
    summary = pyoxigraph.Store(str(summary_path(version)))
    graph = pyoxigraph.NamedNode(f"http://id.nlm.nih.gov/mesh/{SCOLIOSIS}")
    other = pyoxigraph.NamedNode("http://id.nlm.nih.gov/mesh/D999999")
    integer = pyoxigraph.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
    summary.extend([
        pyoxigraph.Quad(other, COUNT, pyoxigraph.Literal("1000", datatype=integer), graph),
        pyoxigraph.Quad(other, RANK, pyoxigraph.Literal("0", datatype=integer), graph),
    ])
    summary.flush()
    del summary
    out = kg("query", "--store", str(path), "--name", "cooccurrence",
             "--param", f"descriptor={SCOLIOSIS}", "--format", "csv")
    assert out.splitlines()[1].split(",")[:2] == [
        f"http://id.nlm.nih.gov/mesh/{SCOLIOSIS}", "http://id.nlm.nih.gov/mesh/D999999"
    ]


def test_only_the_shipped_question_is_answered_from_the_summary() -> None:
    shipped = named_query("cooccurrence")
    assert prepare(shipped, {"descriptor": SCOLIOSIS}).summary is not None
    edited = parse_header(shipped.text + "# edited\n", name="cooccurrence")
    assert prepare(edited, {"descriptor": SCOLIOSIS}).summary is None
    assert prepare(named_query("retracted")).summary is None
    outcomes = named_query("outcomes")
    assert prepare(outcomes, {"intervention": "D016756", "kind": "response"}).summary is not None
    # a variable of the question's own, bound too (the Python API allows it): not the summary's
    assert prepare(outcomes, {"intervention": "D016756", "study": "x"},
                   undeclared=True).summary is None
    studies = prepare(named_query("studies"), {"intervention": "Immunoglobulins"})
    assert studies.summary is not None and "mesh/D016756>" in studies.summary  # the tree


SEED = DATA / "seed" / "000_e84263704ca7bb66.txt"
GOLD = sorted((DATA / "gold" / "records").glob("*.xml"))


def outcome_answers(store: KgStore) -> int:
    """``outcomes`` from the summary and from the store, for every intervention descriptor of
    the store, without a condition and with each condition descriptor it names (and a branch
    of MeSH above them), without and with a kind: the same rows in the same order of the
    question's keys. Returns how many rows were compared."""
    assert store.summary is not None and holds(store.summary, "outcomes")
    conditions: set[str | None] = {None, "Diseases"}
    kinds: set[str | None] = {None}
    for s in store.store.query(
        "SELECT DISTINCT ?kind WHERE { ?o kg:outcomeKind ?kind }",
        prefixes=PREFIXES, use_default_graph_as_union=True,
    ):  # type: ignore[union-attr]
        kinds.add(s["kind"].value)
    kinds = set(sorted(kinds, key=str)[:3])
    for d in store.store.query(
        "SELECT DISTINCT ?d WHERE { ?p kg:condition ?c . ?c kg:mesh ?d }",
        prefixes=PREFIXES, use_default_graph_as_union=True,
    ):  # type: ignore[union-attr]
        conditions.add(d["d"].value.rsplit("/", 1)[1])
    compared = 0
    for intervention in intervention_descriptors(store):
        for condition in sorted(conditions, key=str):
            for kind in sorted(kinds, key=str):
                params = {"intervention": intervention, "condition": condition, "kind": kind}
                compared += same_answer(store, "outcomes", {k: v for k, v in params.items() if v},
                                        ("pmid", "start", "outcome"))
    return compared


def same_answer(
    store: KgStore, question: str, params: dict[str, Any], order: tuple[str, ...],
    *, joined: bool = False,
) -> int:
    """``question`` with ``params`` from the summary and from the store: the same rows, in the
    same order of the question's sort keys ``order`` (rows that tie may come in either order);
    ``joined``: the ``interventions`` column compared as a set of names (a tree's interventions
    are joined in any order). Returns how many rows were compared."""
    q = prepare(named_query(question), params)
    assert q.summary is not None
    summarised, asked = rows(run_query(store, q)), rows(run_query(store.store, q))
    assert [tuple(r[k] for k in order) for r in summarised] == [
        tuple(r[k] for k in order) for r in asked
    ], params
    if joined:
        for found in summarised, asked:
            for r in found:
                r["interventions"] = sorted(r["interventions"].split("; "))
    assert sorted(map(repr, summarised)) == sorted(map(repr, asked)), params
    return len(asked)


def test_the_summary_answers_outcomes_as_the_question_does_across_updates(
    tmp_path: Path,
) -> None:
    path = tmp_path / "store"
    kg("build", str(SEED), *map(str, GOLD), "--store", str(path))
    with KgStore(path) as first:
        assert outcome_answers(first) > 100
    # one article deleted, one replaced under another PMID with its outcomes renamed, one added
    deleted, renamed = GOLD[0], GOLD[1]
    pmid = re.search(r"<PMID[^>]*>(\d+)</PMID>", _article(deleted))
    changed = re.search(r"<PMID[^>]*>(\d+)</PMID>", _article(renamed))
    assert pmid is not None and changed is not None
    update = tmp_path / "update.xml"
    update.write_text(
        '<?xml version="1.0"?>\n<PubmedArticleSet>\n'
        + _article(renamed).replace("the ", "the the ") + "\n"
        + f'<DeleteCitation><PMID Version="1">{pmid[1]}</PMID></DeleteCitation>\n'
        "</PubmedArticleSet>\n",
        encoding="utf-8",
    )
    kg("build", str(update), str(DATA / "xml" / "32887691.xml"), "--store", str(path))
    with KgStore(path) as second:
        assert outcome_answers(second) > 100
        assert second.summary is not None
        whole = pyoxigraph.Store()
        refresh(second.store, whole, None)
        assert summary_rows(second.summary) == summary_rows(whole)


def test_an_older_summary_answers_cooccurrence_only_until_the_next_build(tmp_path: Path) -> None:
    """A summary written before it said what it holds (co-occurrences only) is not asked
    ``outcomes``; the next build, whatever it changes, works out the whole summary again."""
    path = tmp_path / "store"
    kg("build", str(SEED), *map(str, GOLD[:4]), "--store", str(path))
    with KgStore(path) as store:
        version = store.version
        q = prepare(named_query("outcomes"), {"intervention": "D016756"})
        want = rows(run_query(store.store, q))
        assert want
    summary = pyoxigraph.Store(str(summary_path(version)))
    summary.remove_graph(pyoxigraph.NamedNode("http://id.nlm.nih.gov/mesh/D016756"))
    for quad in list(summary.quads_for_pattern(None, SUMMARIZES, None, None)):
        summary.remove(quad)
    summary.flush()
    del summary
    with KgStore(path) as older:
        assert older.summary is not None
        assert holds(older.summary, "cooccurrence") and not holds(older.summary, "outcomes")
        assert rows(run_query(older, q)) == want
    kg("build", str(DATA / "xml" / "32887691.xml"), "--store", str(path))
    with KgStore(path) as rebuilt:
        assert rebuilt.summary is not None and holds(rebuilt.summary, "outcomes")
        assert rows(run_query(rebuilt, q)) == want
        assert outcome_answers(rebuilt)


def intervention_descriptors(store: KgStore) -> list[str]:
    """The UI of every descriptor the store names as an intervention's MeSH term, sorted."""
    return sorted({
        s["d"].value.rsplit("/", 1)[1]
        for s in store.store.query(
            "SELECT DISTINCT ?d WHERE { ?s kg:intervention ?i . ?i kg:mesh ?d }",
            prefixes=PREFIXES, use_default_graph_as_union=True,
        )  # type: ignore[union-attr]
    })


def intervention_values(store: KgStore) -> list[str | tuple[str, ...]]:
    """Every intervention descriptor of the store, then branches of MeSH above them (trees of
    many descriptors, one with three trees at once): the values a question is asked with."""
    branches: list[str | tuple[str, ...]] = [
        ("Amino Acids, Peptides, and Proteins", "Heterocyclic Compounds", "Organic Chemicals"),
        ("Therapeutics",), ("Anti-Bacterial Agents",), ("Immunoglobulins", "Antineoplastic Agents"),
    ]
    return [*intervention_descriptors(store), *branches]


def study_answers(store: KgStore) -> int:
    """``studies`` from the summary and from the store, for every intervention descriptor of
    the store and for branches of MeSH above them (a tree of many descriptors): the same rows
    in the same order of the question's keys. Returns how many rows were compared."""
    assert store.summary is not None and holds(store.summary, "studies")
    compared = 0
    for intervention in intervention_values(store):
        value = list(intervention) if isinstance(intervention, tuple) else intervention
        compared += same_answer(store, "studies", {"intervention": value},
                                ("sample_size", "pmid", "intervention_text"))
    return compared


def adverse_answers(store: KgStore) -> int:
    """``adverse-events`` from the summary and from the store, for every intervention
    descriptor of the store and for branches of MeSH above them (an outcome of a study of two
    descriptors of a tree is one row): the same rows in the same order of the question's keys.
    Without an intervention it is asked of the store. Returns how many rows were compared."""
    assert store.summary is not None and holds(store.summary, "adverse-events")
    assert prepare(named_query("adverse-events")).summary is None
    compared = 0
    for intervention in intervention_values(store):
        value = list(intervention) if isinstance(intervention, tuple) else intervention
        compared += same_answer(store, "adverse-events", {"intervention": value},
                                ("grade", "pmid", "start", "event"),
                                joined=isinstance(intervention, tuple))
    return compared


def _similar(page: str, pmid: str, title: str, year: str) -> str:
    """``page`` (PubMed page text) under another PMID, its first similar article replaced by
    ``pmid`` with ``title`` and ``year``."""
    lines = page.splitlines()
    first = next(i for i, line in enumerate(lines) if line.endswith("PMID: 20722047"))
    lines[first] = f"{title}.J Test. {year} Jan;1(1):1-2. J Test. {year}. PMID: {pmid}"
    return "\n".join(lines).replace("PMID: 23906502", "PMID: 99000002") + "\n"


def test_the_summary_answers_studies_and_adverse_events_as_the_questions_do_across_updates(
    tmp_path: Path,
) -> None:
    path = tmp_path / "store"
    kg("build", str(SEED), *map(str, GOLD), "--store", str(path))
    with KgStore(path) as first:
        assert study_answers(first) > 20
        assert adverse_answers(first) > 5
    # one article deleted, one replaced with its interventions reworded, one added, and a page
    # that names an article of the store (not changed) as similar, with another title and year
    deleted, renamed = GOLD[0], GOLD[1]
    pmid = re.search(r"<PMID[^>]*>(\d+)</PMID>", _article(deleted))
    assert pmid is not None
    with KgStore(path) as first:
        studied, descriptor = next(
            (s["pmid"].value, s["d"].value.rsplit("/", 1)[1])
            for s in first.store.query(
                "SELECT ?pmid ?d WHERE { ?s kg:intervention ?i ; kg:describedIn ?a . "
                "?i kg:mesh ?d . ?a fabio:hasPubMedId ?pmid } ORDER BY DESC(?pmid) ?d LIMIT 1",
                prefixes=PREFIXES, use_default_graph_as_union=True,
            )  # type: ignore[union-attr]
        )
        q = prepare(named_query("studies"), {"intervention": descriptor})
        before = rows(run_query(first, q))
    update = tmp_path / "update.xml"
    update.write_text(
        '<?xml version="1.0"?>\n<PubmedArticleSet>\n'
        + _article(renamed).replace("the ", "the the ") + "\n"
        + f'<DeleteCitation><PMID Version="1">{pmid[1]}</PMID></DeleteCitation>\n'
        "</PubmedArticleSet>\n",
        encoding="utf-8",
    )
    page = tmp_path / "similar.txt"
    page.write_text(_similar(SEED.read_text("utf-8"), studied, "A an earlier title", "1901"),
                    encoding="utf-8")
    kg("build", str(update), str(page), str(DATA / "xml" / "32887691.xml"), "--store", str(path))
    with KgStore(path) as second:
        assert study_answers(second) > 20
        assert adverse_answers(second) > 5
        after = rows(run_query(second, q))
        assert second.summary is not None
        whole = pyoxigraph.Store()
        refresh(second.store, whole, None)
        assert summary_rows(second.summary) == summary_rows(whole)
    # the article named as similar has the page's title (the least) and year (a row more)
    assert any(r["pmid"] == studied and r["title"] == "A an earlier title" for r in after)
    assert any(r["pmid"] == studied and r["year"] == 1901 for r in after)
    assert not any(r["pmid"] == studied and r["year"] == 1901 for r in before)


def test_a_summary_without_studies_is_not_asked_them_until_the_next_build(
    tmp_path: Path,
) -> None:
    """A summary an older kg wrote (``cooccurrence`` and ``outcomes`` only) is asked those,
    not ``studies`` nor ``adverse-events``; the next build works out the whole summary again."""
    path = tmp_path / "store"
    kg("build", str(SEED), *map(str, GOLD[:4]), "--store", str(path))
    q = prepare(named_query("studies"), {"intervention": "D016756"})
    a = prepare(named_query("adverse-events"), {"intervention": "D016756"})
    with KgStore(path) as store:
        version = store.version
        want, events = rows(run_query(store.store, q)), rows(run_query(store.store, a))
        assert want and events
    summary = pyoxigraph.Store(str(summary_path(version)))
    # what the older kg wrote: no such rows, and no word that it holds them
    for question in ("studies", "adverse-events"):
        summary.remove(pyoxigraph.Quad(SUMMARY_NODE, SUMMARIZES, pyoxigraph.Literal(question)))
    for predicate in (STUDY_ROW["role"], ADVERSE_ROW["event"]):
        for quad in list(summary.quads_for_pattern(None, predicate, None, None)):
            summary.remove(quad)
    summary.flush()
    del summary
    with KgStore(path) as older:
        assert older.summary is not None
        assert holds(older.summary, "outcomes") and not holds(older.summary, "studies")
        assert not holds(older.summary, "adverse-events")
        assert rows(run_query(older, q)) == want
        assert rows(run_query(older, a)) == events
    kg("build", str(DATA / "xml" / "32887691.xml"), "--store", str(path))
    with KgStore(path) as rebuilt:
        assert rebuilt.summary is not None and holds(rebuilt.summary, "studies")
        assert rows(run_query(rebuilt, q)) == want
        assert study_answers(rebuilt) and adverse_answers(rebuilt)
