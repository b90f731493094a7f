"""The full-text index (kg.search) a build keeps beside the store, and ``/search`` over it: the
seed article found by a word of its abstract and by an entry term of its MeSH terms, ranks,
snippets, pages, filters, facets, JSON, hostile input, an index kept exact by a build that
changes and deletes articles, and a store without an index still searched (titles)."""

from __future__ import annotations

import contextlib
import re
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from kg import search as searches
from kg.cli import main
from kg.store import KgStore, current_version

TESTS = Path(__file__).parent
DATA = TESTS / "data"
SEED = DATA / "seed" / "000_e84263704ca7bb66.txt"
GOLD_RECORDS = sorted((DATA / "gold" / "records").glob("*.xml"))
SEED_PMID = "23906502"


def build(store: Path, *inputs: Path) -> None:
    result = CliRunner().invoke(main, ["build", *map(str, inputs), "--store", str(store)])
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("search") / "store"
    build(store, SEED, *GOLD_RECORDS)
    return store


@pytest.fixture(scope="module")
def index(store_dir: Path) -> Path:
    version = current_version(store_dir)
    assert version is not None
    path = searches.index_of(version)
    assert path is not None and path.parent == version
    return path


@pytest.fixture(scope="module")
def server(store_dir: Path, kg_serve: Callable[..., AbstractContextManager[str]]) -> Iterator[str]:
    with kg_serve(store_dir, "--query-workers", "1") as url:
        yield url


def find(index: Path, text: str = "", **options: object) -> searches.SearchResults:
    return searches.search(index, searches.SearchQuery(text=text, **options))  # type: ignore[arg-type]


def pmids(results: searches.SearchResults) -> list[str]:
    return [h.pmid for h in results.hits]


# --- the index -----------------------------------------------------------------------------------


def test_ivig_is_found_in_the_abstract(index: Path) -> None:
    found = find(index, "IVIg")
    assert pmids(found) == [SEED_PMID] and found.total == 1
    assert "<mark>IVIg</mark>" in found.hits[0].snippet
    assert found.hits[0].score is not None and found.hits[0].score > 0
    # the title alone never said it: the old SPARQL title search found nothing
    assert "IVIg" not in found.hits[0].title


def test_entry_terms_of_the_mesh_terms_find_the_article(index: Path) -> None:
    """Gamimune is an entry term of Immunoglobulins, Intravenous (D016756), which the seed's
    intervention is grounded in; no text of the article says it."""
    found = find(index, "gamimune")
    assert pmids(found) == [SEED_PMID]
    assert "<mark>Gamimune</mark>" in found.hits[0].snippet
    assert pmids(find(index, "Intraglobin")) == [SEED_PMID]


def test_mesh_labels_designs_and_sample_sizes(index: Path) -> None:
    hit = find(index, "dermatomyositis").hits[0]
    assert hit.pmid == SEED_PMID and hit.sample_size == 27
    assert set(hit.designs) == {"retrospective", "single-centre"}
    assert SEED_PMID in pmids(find(index, "", mesh="D016756"))
    assert pmids(find(index, "", mesh="D003882")) == [SEED_PMID]


def test_pages_do_not_overlap_and_cover_the_total(index: Path) -> None:
    everything = find(index, "patients", per_page=100)
    assert everything.total == len(everything.hits) >= 8
    seen: list[str] = []
    for page in range(1, everything.total // 3 + 2):
        part = find(index, "patients", per_page=3, page=page)
        assert part.total == everything.total and part.pages == -(-everything.total // 3)
        seen += pmids(part)
    assert seen == pmids(everything)
    assert find(index, "patients", per_page=3, page=99).hits == []


def test_facets_count_and_filters_narrow(index: Path) -> None:
    found = find(index, "patients", per_page=100)
    years = {f.value: f.count for f in found.facets["year"]}
    assert sum(years.values()) <= found.total and years
    year, count = next(iter(years.items()))
    narrowed = find(index, "patients", year_from=int(year), year_to=int(year))
    assert narrowed.total == count and all(h.year == int(year) for h in narrowed.hits)
    design = found.facets["design"][0]
    by_design = find(index, "patients", design=design.value)
    assert by_design.total == design.count
    assert all(design.value in h.designs for h in by_design.hits)
    mesh = found.facets["mesh"][0]
    assert mesh.label and find(index, "patients", mesh=mesh.value).total == mesh.count
    big = find(index, "patients", min_sample_size=100)
    assert 0 < big.total < found.total
    assert all(h.sample_size is not None and h.sample_size >= 100 for h in big.hits)


def test_newest_first(index: Path) -> None:
    years = [h.year for h in find(index, "patients", sort="newest", per_page=100).hits]
    dated = [y for y in years if y is not None]
    assert dated == sorted(dated, reverse=True) and years[: len(dated)] == dated


@pytest.mark.parametrize(
    "text",
    ['"AND OR (', "NEAR(a b)", "title:x", "*", '"', "a AND", "^x", "x OR y NOT z", "-x", "—"],
)
def test_fts5_syntax_from_users_is_only_words(index: Path, text: str) -> None:
    find(index, text)  # no sqlite3.OperationalError


def test_a_second_build_keeps_the_index_exact(tmp_path: Path) -> None:
    """A changed record is indexed anew, a deleted one leaves the index, and the index equals
    one made from scratch of the same store."""
    store = tmp_path / "store"
    build(store, SEED, *GOLD_RECORDS)
    gone = "29768149"  # "Inhaled Combined Budesonide-Formoterol as Needed in Mild Asthma."
    record = re.search(r"<PubmedArticle>[\s\S]*?</PubmedArticle>",
                       (DATA / "gold" / "records" / "1638586.xml").read_text("utf-8"))
    assert record is not None
    changed = record[0].replace("<ArticleTitle>Ofloxacin", "<ArticleTitle>Zebracorn ofloxacin")
    update = tmp_path / "update.xml"
    update.write_text(
        '<?xml version="1.0"?>\n<PubmedArticleSet>\n' + changed + "\n"
        f'<DeleteCitation><PMID Version="1">{gone}</PMID></DeleteCitation>\n'
        "</PubmedArticleSet>\n",
        encoding="utf-8",
    )
    version = current_version(store)
    assert version is not None
    before = searches.index_of(version)
    assert before is not None and find(before, "budesonide formoterol").total == 1
    build(store, update)
    after_version = current_version(store)
    assert after_version is not None and after_version != version
    after = searches.index_of(after_version)
    assert after is not None
    assert find(after, "budesonide formoterol").total == 0
    assert pmids(find(after, "zebracorn")) == ["1638586"]
    assert pmids(find(after, "ofloxacin")) == ["1638586"]
    assert pmids(find(after, "IVIg")) == [SEED_PMID]
    # the same as an index made from scratch of that version
    scratch = tmp_path / "scratch.sqlite"
    with KgStore(store) as kg:
        searches.refresh(kg.store, scratch, None)

    def dump(path: Path) -> list[tuple[object, ...]]:
        """Every row of every table, with the article's graph for its number."""
        with contextlib.closing(sqlite3.connect(path)) as db:
            return sorted(db.execute(
                "SELECT a.graph, a.iri, a.pmid, a.title, a.year, a.sample_size, t.abstract,"
                " t.mesh, t.entry, t.design,"
                " (SELECT group_concat(term, '|') FROM (SELECT term FROM designs d"
                "   WHERE d.id = a.id ORDER BY term)),"
                " (SELECT group_concat(ui || ' ' || how, '|') FROM (SELECT ui, how FROM mesh m"
                "   WHERE m.id = a.id ORDER BY ui, how))"
                " FROM articles a JOIN text t ON t.rowid = a.id"
            ).fetchall())

    rows = dump(after)
    assert rows == dump(scratch) and len(rows) == 13 - 1
    assert gone not in {row[2] for row in rows}


# --- /search over HTTP -----------------------------------------------------------------------------


def test_search_page_ranks_snippets_and_pages(server: str) -> None:
    r = requests.get(f"{server}/search", params={"q": "IVIg"}, timeout=10)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert 'href="/pubmed/23906502"' in r.text and "<mark>IVIg</mark>" in r.text
    paged = requests.get(f"{server}/search", params={"q": "patients", "per_page": "3"}, timeout=10)
    assert paged.status_code == 200 and 'rel="next"' in paged.text
    assert paged.text.count('<span class="snippet">') == 3
    second = requests.get(f"{server}/search", params={"q": "patients", "per_page": "3", "page": "2"},
                          timeout=10)
    assert 'rel="prev"' in second.text and '<ol class="results" start="4">' in second.text


def test_search_as_json(server: str) -> None:
    by_accept = requests.get(f"{server}/search", params={"q": "gamimune"},
                             headers={"Accept": "application/json"}, timeout=10)
    by_format = requests.get(f"{server}/search", params={"q": "gamimune", "format": "json"},
                             timeout=10)
    for r in (by_accept, by_format):
        assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    body = by_accept.json()
    assert body == by_format.json()
    assert body["index"] == "full-text" and body["total"] == 1 and body["pages"] == 1
    assert body["query"]["text"] == "gamimune" and body["query"]["match"] == '"gamimune"'
    (hit,) = body["results"]
    assert hit["pmid"] == SEED_PMID and hit["href"] == "/pubmed/23906502"
    assert hit["sample_size"] == 27 and "<mark>" in hit["snippet"]
    assert set(body["facets"]) == {"year", "design", "mesh"}
    assert {"value": "D016756", "count": 1, "label": "Immunoglobulins, Intravenous"} in body[
        "facets"]["mesh"]
    filtered = requests.get(
        f"{server}/search", params={"q": "patients", "min_n": "100", "sort": "newest",
                                    "format": "json"}, timeout=10,
    ).json()
    assert filtered["total"] > 0
    assert all(h["sample_size"] >= 100 for h in filtered["results"])


def test_hostile_and_bad_input(server: str) -> None:
    for hostile in ('"AND OR (', "NEAR(", "title: x*", "<script>alert(1)</script>", '"'):
        r = requests.get(f"{server}/search", params={"q": hostile}, timeout=10)
        assert r.status_code == 200, hostile
        assert "<script>alert" not in r.text
        j = requests.get(f"{server}/search", params={"q": hostile, "format": "json"}, timeout=10)
        assert j.status_code == 200 and isinstance(j.json()["total"], int), hostile
    for params in ({"page": "0"}, {"per_page": "1000"}, {"year_from": "x"}, {"sort": "random"},
                   {"mesh": "'; DROP"}, {"format": "xml"}, {"q": "x" * 501}):
        r = requests.get(f"{server}/search", params={"q": "patients", **params}, timeout=10)
        assert r.status_code == 400, params


def test_a_store_without_an_index_searches_titles(
    store_dir: Path, tmp_path: Path, kg_serve: Callable[..., AbstractContextManager[str]]
) -> None:
    copy = tmp_path / "store"
    shutil.copytree(store_dir, copy, symlinks=True)
    version = current_version(copy)
    assert version is not None
    searches.search_path(version).unlink()
    with kg_serve(copy, "--query-workers", "1") as url:
        r = requests.get(f"{url}/search", params={"q": "immunoglobulins"}, timeout=10)
        assert r.status_code == 200 and 'href="/pubmed/23906502"' in r.text
        assert "no full-text index" in r.text
        j = requests.get(f"{url}/search", params={"q": "immunoglobulins", "format": "json"},
                         timeout=10).json()
        assert j["index"] == "titles" and j["results"][0]["pmid"] == SEED_PMID
        # IVIg is in the abstract only: titles do not have it
        none = requests.get(f"{url}/search", params={"q": "IVIg", "format": "json"}, timeout=10)
        assert none.json()["total"] == 0


# --- the MeSH page's articles and counts, from the index -----------------------------------------


def test_the_mesh_page_rows_from_the_index_are_the_stores(store_dir: Path, index: Path) -> None:
    """What ``/mesh/{ui}`` reads from the index is what its SPARQL questions answer (rows in
    the same order, duplicates aside), for every term the index holds."""
    import pyoxigraph

    from kg.rdf.namespaces import PREFIXES
    from kg.web.pages import mesh_plot_tasks, mesh_task, text

    def run(store: pyoxigraph.Store, task: object) -> list[tuple[str, ...]]:
        rows = store.query(
            task.query, prefixes=PREFIXES, use_default_graph_as_union=True,  # type: ignore[attr-defined]
            substitutions={pyoxigraph.Variable(k): v for k, v in task.bindings},  # type: ignore[attr-defined]
        )
        assert isinstance(rows, pyoxigraph.QuerySolutions)
        return [tuple(text(x) for x in row) for row in rows]

    with KgStore(store_dir) as kg, contextlib.closing(sqlite3.connect(index)) as db:
        uis = [ui for (ui,) in db.execute("SELECT DISTINCT ui FROM mesh ORDER BY ui")]
        assert "D016756" in uis and len(uis) > 100
        for ui in uis:
            asked = list(dict.fromkeys(r[:5] for r in run(kg.store, mesh_task(ui, limit=1000))))
            read = [(iri, pmid, title, "" if year is None else f"{year:04d}", how)
                    for iri, pmid, title, year, how in searches.mesh_articles(index, ui,
                                                                              limit=6000)]
            assert read == asked, ui
            counts = sorted(r[:3] for r in run(kg.store, mesh_plot_tasks(ui)[1]))
            assert sorted((f, v, str(n)) for f, v, n in searches.mesh_facets(index, ui)) == counts


def test_mesh_page_over_the_index(server: str) -> None:
    r = requests.get(f"{server}/mesh/D016756", timeout=10)
    assert r.status_code == 200 and 'href="/pubmed/23906502"' in r.text and "intervention" in r.text
    assert 'aria-label="Articles by year"' in r.text or "Articles by design" in r.text
