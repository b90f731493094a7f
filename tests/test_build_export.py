"""kg build / kg export end to end: through click's runner and as a real subprocess."""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pyoxigraph
import pytest
import rdflib
from click.testing import CliRunner

from kg.cli import main

TESTS = Path(__file__).parent
DATA = TESTS / "data"
SEED = DATA / "seed" / "000_e84263704ca7bb66.txt"
GOLD = json.loads((DATA / "gold" / "23906502.json").read_text())
SHARED = TESTS.resolve().parent.parent / "shared" / "data" / "pubmed"
BASE = "https://w3id.org/kg/id/"


def kg(*args: str, expect: int = 0) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == expect, (result.output, result.exception)
    assert "Traceback" not in result.output
    return result.output


def select(store: Path, query: str) -> list[tuple[str, ...]]:
    st = pyoxigraph.Store.read_only(str(store / "current"))
    from kg.rdf.namespaces import PREFIXES

    res = st.query(query, prefixes=PREFIXES, use_default_graph_as_union=True)
    names = [v.value for v in res.variables]
    return [tuple(sol[n].value if sol[n] is not None else "" for n in names) for sol in res]


@pytest.fixture(scope="module")
def seed_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("seed") / "store"
    out = kg("build", str(SEED), "--store", str(store))
    assert "1 articles" in out
    return store


def test_seed_page_facts_in_graph(seed_store: Path) -> None:
    a = f"<{BASE}pubmed/23906502>"
    (row,) = select(
        seed_store,
        f"SELECT ?pmid ?doi ?title ?rights WHERE {{ {a} fabio:hasPubMedId ?pmid ; prism:doi ?doi ; dcterms:title ?title ; dcterms:rights ?rights }}",
    )
    assert row == (GOLD["pmid"], GOLD["doi"], GOLD["title"], GOLD["copyright"])
    labels = select(
        seed_store,
        f"SELECT ?l WHERE {{ {a} kg:abstractSection ?s . ?s kg:sectionLabel ?l ; kg:sectionIndex ?i }} ORDER BY ?i",
    )
    assert [r[0] for r in labels] == GOLD["abstract_sections"]
    similar = select(
        seed_store, f"SELECT ?p WHERE {{ {a} kg:similarTo ?r . ?r fabio:hasPubMedId ?p }}"
    )
    assert sorted(r[0] for r in similar) == sorted(GOLD["similar_articles"])
    cited = select(seed_store, f"SELECT ?p WHERE {{ ?r cito:cites {a} ; fabio:hasPubMedId ?p }}")
    assert sorted(r[0] for r in cited) == sorted(GOLD["cited_by"])
    for pmid, facts in GOLD["related_article_facts"].items():
        r = f"<{BASE}pubmed/{pmid}>"
        rows = select(
            seed_store,
            f"""SELECT ?j ?y ?doi ?t ?free WHERE {{ {r} fabio:hasPublicationYear ?y .
            OPTIONAL {{ {r} kg:journalTitle ?j }} OPTIONAL {{ {r} prism:doi ?doi }}
            OPTIONAL {{ {r} kg:publicationTypeName ?t }} OPTIONAL {{ {r} kg:freePmcArticle ?free }} }}""",
        )
        assert rows, pmid
        j, y, doi, _, free = rows[0]
        assert int(y) == facts["year"]
        if "journal" in facts:
            assert j == facts["journal"]
        if "doi" in facts:
            assert doi == facts["doi"]
        if "publication_type" in facts:
            assert facts["publication_type"] in {row[3] for row in rows}
        if facts.get("free_pmc"):
            assert free == "true"


def test_section_offsets_point_into_abstract(seed_store: Path) -> None:
    rows = select(
        seed_store,
        """SELECT ?abs ?text ?start ?end WHERE {
        ?a dcterms:abstract ?abs ; kg:abstractSection ?s . ?s rdf:value ?text ; kg:startOffset ?start ; kg:endOffset ?end }""",
    )
    assert len(rows) == 4
    for abstract, text, start, end in rows:
        assert abstract[int(start) : int(end)] == text


def test_export_every_format_parses_with_other_parsers(seed_store: Path, tmp_path: Path) -> None:
    for ext, fmt in [
        ("ttl", "turtle"),
        ("nt", "nt"),
        ("nq", "nquads"),
        ("trig", "trig"),
        ("jsonld", "json-ld"),
    ]:
        out = tmp_path / f"kg.{ext}"
        kg("export", "--store", str(seed_store), "-o", str(out))
        assert out.stat().st_size > 0
        parsed = list(
            pyoxigraph.parse(path=str(out), format=pyoxigraph.RdfFormat.from_extension(ext))
        )
        ds = rdflib.Dataset()
        ds.parse(str(out), format=fmt)
        assert len(parsed) > 100
        assert (
            len(ds)
            + sum(len(g) for g in ds.graphs() if g.identifier != ds.default_graph.identifier)
            >= 100
        )
    assert not list(tmp_path.glob(".kg.*"))  # no temporary files left behind


def test_export_to_stdout_defaults_to_nquads(seed_store: Path) -> None:
    out = kg("export", "--store", str(seed_store), "-o", "-")
    lines = out.splitlines()
    assert lines == sorted(lines) and all(line.endswith(" .") for line in lines)
    assert all(len(re.findall(r"<[^>]*>", line)) >= 2 for line in lines)


def test_same_input_twice_gives_identical_ntriples(tmp_path: Path) -> None:
    inputs = [str(SEED), str(DATA / "xml" / "nlm_medsample1.xml.gz")]
    dumps = []
    for i in (1, 2):
        store = tmp_path / f"s{i}"
        kg("build", *inputs, "--store", str(store))
        if i == 2:  # and building again into the same store changes nothing
            kg("build", *inputs, "--store", str(store))
        out = tmp_path / f"d{i}.nt"
        kg("export", "--store", str(store), "-o", str(out))
        dumps.append(out.read_bytes())
    assert dumps[0] == dumps[1]


def test_deletion_removes_exactly_that_article(tmp_path: Path) -> None:
    store = tmp_path / "store"
    kg(
        "build",
        str(DATA / "xml" / "Pubmed_Author_Ranking__pubmed_result.xml"),
        "--store",
        str(store),
    )
    before = {r[0] for r in select(store, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")}
    victim = sorted(before - {f"{BASE}graph/metadata"})[0]
    pmid = victim.rsplit("/", 1)[1]
    victim_quads = select(store, f"SELECT ?s ?p ?o WHERE {{ GRAPH <{victim}> {{ ?s ?p ?o }} }}")
    others = select(
        store,
        f"SELECT ?g ?s ?p ?o WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(?g NOT IN (<{victim}>, <{BASE}graph/metadata>)) }}",
    )
    update = tmp_path / "update.xml"
    update.write_text(
        '<?xml version="1.0"?>\n<PubmedArticleSet>\n'
        f'<DeleteCitation><PMID Version="1">{pmid}</PMID></DeleteCitation>\n</PubmedArticleSet>\n'
    )
    out = kg("build", str(update), "--store", str(store))
    assert "1 deletions (1 removed)" in out
    after = {r[0] for r in select(store, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")}
    assert after == before - {victim} and victim_quads
    assert (
        select(
            store,
            f"SELECT ?g ?s ?p ?o WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(?g NOT IN (<{victim}>, <{BASE}graph/metadata>)) }}",
        )
        == others
    )


def _file(name: str, content: bytes):
    def make(p: Path) -> Path:
        (p / name).write_bytes(content)
        return p / name

    return make


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "missing.xml", "no such file"),
        (_file("empty.xml", b""), "file is empty"),
        (_file("blank.txt", b"\n  \n"), "file is empty"),
        (_file("x.png", b"\x89PNG\r\n\x1a\n...."), "not PubMed XML"),
        (_file("notes.txt", b"just some notes\n"), "not PubMed XML"),
        (lambda p: p, "is a directory"),
        (_file("e.gz", gzip.compress(b"")), "file is empty"),
        (_file("bad.gz", b"\x1f\x8b\x08garbage"), "cannot read"),
    ],
)
def test_bad_input_one_line_error_exit_3(tmp_path: Path, make, message: str) -> None:
    bad = make(tmp_path)
    result = CliRunner().invoke(
        main, ["build", str(bad), str(SEED), "--store", str(tmp_path / "s")]
    )
    assert result.exit_code == 3, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("kg: error:")]
    assert len(errors) == 1 and message in errors[0] and str(bad) in errors[0]
    assert "1 articles" in result.output  # the good file still went through
    assert "Traceback" not in result.output


def test_truncated_file_names_position_and_keeps_records(tmp_path: Path) -> None:
    raw = (DATA / "xml" / "Pubmed_Author_Ranking__pubmed_result.xml").read_bytes()
    cut = raw[: raw.index(b"</PubmedArticle>", len(raw) // 2) + 300]
    broken = tmp_path / "broken.xml"
    broken.write_bytes(cut)
    result = CliRunner().invoke(main, ["build", str(broken), "--store", str(tmp_path / "s")])
    assert result.exit_code == 3
    complete = cut.count(b"</PubmedArticle>")
    assert f"{complete} articles" in result.output
    assert re.search(rf"kg: error: {re.escape(str(broken))}: line \d+, column \d+", result.output)


def test_strict_stops_at_first_problem(tmp_path: Path) -> None:
    broken = tmp_path / "broken.xml"
    raw = (DATA / "xml" / "Pubmed_Author_Ranking__pubmed_result.xml").read_bytes()
    broken.write_bytes(raw[: len(raw) // 2])
    result = CliRunner().invoke(
        main, ["build", "--strict", str(broken), str(SEED), "--store", str(tmp_path / "s")]
    )
    assert result.exit_code == 3 and "broken.xml" in result.output
    assert not (tmp_path / "s").exists()  # nothing of a build --strict stopped is kept


def test_hostile_literals_never_make_invalid_rdf(tmp_path: Path) -> None:
    title = 'Quotes " and \\ backslash\nnewline <tag> & ünïcödé 中文 \u2028 "}; DROP'
    xml = (
        '<?xml version="1.0"?>\n<PubmedArticleSet><PubmedArticle><MedlineCitation Status="MEDLINE">'
        '<PMID Version="1">999999</PMID><Article><Journal><Title>J &lt;"x"&gt;</Title></Journal>'
        f"<ArticleTitle>{title.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')}</ArticleTitle>"
        "</Article></MedlineCitation><PubmedData><ArticleIdList>"
        '<ArticleId IdType="doi">10.1000/a b"c&lt;d&gt;{e}\\f</ArticleId>'
        "</ArticleIdList></PubmedData></PubmedArticle></PubmedArticleSet>"
    )
    src = tmp_path / "hostile.xml"
    src.write_text(xml, encoding="utf-8")
    store = tmp_path / "s"
    kg("build", str(src), "--store", str(store))
    for ext in ("nt", "nq", "ttl", "trig", "jsonld"):
        out = tmp_path / f"h.{ext}"
        kg("export", "--store", str(store), "-o", str(out))
        quads = list(
            pyoxigraph.parse(path=str(out), format=pyoxigraph.RdfFormat.from_extension(ext))
        )
        titles = [
            q.object.value
            for q in quads
            if q.predicate.value.endswith("/title") and "Quotes" in q.object.value
        ]
        assert titles == [" ".join(title.split())]  # whitespace runs collapse, nothing else changes


def test_cli_as_real_subprocess(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(TESTS.parent)}
    store = tmp_path / "store"
    run = subprocess.run(
        [sys.executable, "-m", "kg", "build", str(SEED), "--store", str(store)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "1 articles" in run.stdout and run.stderr == ""
    q = subprocess.run(
        [
            sys.executable,
            "-m",
            "kg",
            "query",
            "--store",
            str(store),
            "--format",
            "csv",
            "SELECT ?t WHERE { ?a fabio:hasPubMedId '23906502' ; dcterms:title ?t }",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert q.returncode == 0 and GOLD["title"] in q.stdout
    missing = subprocess.run(
        [sys.executable, "-m", "kg", "export", "--store", str(tmp_path / "nope"), "-o", "-"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert (
        missing.returncode == 3
        and "kg build" in missing.stderr
        and "Traceback" not in missing.stderr
    )


def _independent_counts(root: Path) -> tuple[int, int, int]:
    """Articles, books and DeleteCitation PMIDs counted with regexes, not the parsers."""
    arts = books = dels = 0
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.suffix not in (".xml", ".gz", ".txt", ".nbib"):
            continue
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        if path.parent.name == "medline":
            arts += len(re.findall(rb"^PMID- ", raw, flags=re.M))
            continue
        books += raw.count(b"</PubmedBookArticle>")
        arts += raw.count(b"</PubmedArticle>") + raw.count(b"</PubmedBookArticle>")
        if b"<MedlineCitationSet" in raw:
            arts += raw.count(b"</MedlineCitation>")
        for block in re.findall(rb"<DeleteCitation>([\s\S]*?)</DeleteCitation>", raw):
            dels += block.count(b"<PMID")
    return arts, books, dels


@pytest.mark.skipif(not SHARED.exists(), reason="needs ../shared/data")
def test_build_whole_shared_corpus_counts(tmp_path: Path) -> None:
    store = tmp_path / "store"
    result = CliRunner().invoke(
        main, ["build", "-r", str(SHARED), str(SEED), "--store", str(store)]
    )
    assert result.exit_code == 3  # the truncated file is reported
    arts, books, dels = _independent_counts(SHARED)
    m = re.search(
        r"(\d+) files · (\d+) articles \((\d+) books\) · (\d+) deletions \((\d+) removed\) · (\d+) article graphs · (\d+) triples",
        result.output,
    )
    assert m, result.output
    assert int(m.group(2)) == arts + 1 and int(m.group(3)) == books and int(m.group(4)) == dels
    errors = [line for line in result.output.splitlines() if line.startswith("kg: error:")]
    assert len(errors) == 1 and "malformed" in errors[0]
    n_graphs = int(m.group(6))
    assert n_graphs == len(select(store, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")) - 1
    (triples,) = select(store, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")[0]
    assert int(triples) == int(m.group(7))
    for ext in ("nt", "nq", "ttl", "trig", "jsonld"):
        out = tmp_path / f"all.{ext}"
        kg("export", "--store", str(store), "-o", str(out))
        n = sum(
            1
            for _ in pyoxigraph.parse(
                path=str(out), format=pyoxigraph.RdfFormat.from_extension(ext)
            )
        )
        assert n > 100_000


def test_build_compacts_the_store_unless_told_not_to(tmp_path: Path) -> None:
    """Each bulk load leaves its own index files, which every lookup searches; a build ends with
    a full compaction (one set of files), and --no-optimize leaves them as loaded. Same data."""
    inputs = [str(p) for p in sorted((DATA / "xml").glob("*.xml"))]
    kg("build", *inputs, "--store", str(tmp_path / "a"))
    kg("build", *inputs, "--store", str(tmp_path / "b"), "--no-optimize")
    compacted = len(list((tmp_path / "a" / "current").glob("*.sst")))
    as_loaded = len(list((tmp_path / "b" / "current").glob("*.sst")))
    assert compacted < as_loaded
    dumps = []
    for name in "ab":
        kg("export", "--store", str(tmp_path / name), "-o", str(tmp_path / f"{name}.nq"))
        dumps.append((tmp_path / f"{name}.nq").read_bytes())
    assert dumps[0] == dumps[1]


def test_build_json_summary_for_scripts(tmp_path: Path) -> None:
    """--json: one JSON object on stdout (the counts, what was left out, ok), errors on stderr."""
    raw = (DATA / "xml" / "Pubmed_Author_Ranking__pubmed_result.xml").read_bytes()
    cut = raw[: raw.index(b"</PubmedArticle>", len(raw) // 2) + 300]
    broken = tmp_path / "broken.xml"
    broken.write_bytes(cut)
    run = subprocess.run(
        [sys.executable, "-m", "kg", "build", str(SEED), str(broken), "--store",
         str(tmp_path / "s"), "--json"],
        capture_output=True, text=True, check=False,
    )
    assert run.returncode == 3, run.stderr
    data = json.loads(run.stdout)  # stdout is the object alone
    assert data["command"] == "build" and data["ok"] is False
    assert data["files"] == 2 and data["articles"] == cut.count(b"</PubmedArticle>") + 1
    assert data["article_graphs"] == data["articles"] and data["triples"] > 500
    (broke,) = [p for p in data["problems"] if p["kind"] == "broke off"]
    assert broke["source"] == str(broken) and "line" in (broke["where"] or "") + broke["message"]
    assert "kg: error:" in run.stderr


def test_build_says_what_it_is_doing(tmp_path: Path) -> None:
    """The progress display's phase labels: each file k/n, loading, compacting, then what the
    store does before it switches (search index, summary)."""
    from kg.config import Settings
    from kg.pipeline import build
    from kg.store import KgStore

    heard: list[str] = []
    files = [SEED, *sorted((DATA / "gold" / "records").glob("*.xml"))[:2]]
    with KgStore.writing(tmp_path / "s", on_phase=heard.append) as store:
        build(files, store=store, settings=Settings(store=tmp_path / "s"), on_phase=heard.append)
    assert heard[:3] == ["file 1/3", "file 2/3", "file 3/3"]
    assert heard[3:] == ["loading into the store", "compacting the store", "indexing for search",
                         "summarising (co-occurrences, outcomes, studies, adverse events)"]
