"""Building at scale: the per-file shard function, local processes, Dask, daily updates."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pyoxigraph
import pytest
from click.testing import CliRunner

from kg import shard as kg_shard
from kg.cli import main
from kg.shard import build_shard
from kg.store import MANIFEST

TESTS = Path(__file__).parent
DATA = TESTS / "data"
XML = DATA / "xml"
SEED = DATA / "seed" / "000_e84263704ca7bb66.txt"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "pubmed"
BASE = "https://w3id.org/kg/id/"
RANKING = XML / "Pubmed_Author_Ranking__pubmed_result.xml"
UPDATES = [XML / "ncbiutils__pubmed22n1115.xml", DATA / "updates" / "ncbiutils__pubmed22n1313.xml"]


@pytest.fixture(autouse=True)
def _fixed_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")


def kg(*args: str, expect: int = 0) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == expect, (result.output, result.exception)
    assert "Traceback" not in result.output
    return result.output


def build_and_export(store: Path, *inputs: Path | str, options: tuple[str, ...] = ()) -> bytes:
    kg("build", *map(str, inputs), "--store", str(store), *options)
    out = store.parent / f"{store.name}.nq"
    kg("export", "--store", str(store), "-o", str(out))
    return out.read_bytes()


def select(store: Path, query: str) -> list[tuple[str, ...]]:
    st = pyoxigraph.Store.read_only(str(store / "current"))
    res = st.query(query, use_default_graph_as_union=True)
    names = [v.value for v in res.variables]
    return [tuple(sol[n].value if sol[n] is not None else "" for n in names) for sol in res]


def titles(store: Path, pmid: str) -> list[str]:
    rows = select(
        store, f"SELECT ?t WHERE {{ <{BASE}pubmed/{pmid}> <http://purl.org/dc/terms/title> ?t }}"
    )
    return [r[0] for r in rows]


def graphs(store: Path) -> set[str]:
    return {r[0] for r in select(store, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")}


# --- records cut from a real file, for updates made in the test ----------------------------

_RECORDS = re.findall(rb"<PubmedArticle>.*?</PubmedArticle>", RANKING.read_bytes(), re.S)


def pmid_of(record: bytes) -> str:
    m = re.search(rb"<PMID Version=\"\d+\">(\d+)</PMID>", record)
    assert m
    return m.group(1).decode()


def retitled(record: bytes, title: str) -> bytes:
    return re.sub(rb"<ArticleTitle>.*?</ArticleTitle>", f"<ArticleTitle>{title}</ArticleTitle>"
                  .encode(), record, count=1, flags=re.S)


def deletion(*pmids: str) -> bytes:
    inner = "".join(f'<PMID Version="1">{p}</PMID>' for p in pmids)
    return f"<DeleteCitation>{inner}</DeleteCitation>".encode()


def pubmed_file(path: Path, *parts: bytes) -> Path:
    path.write_bytes(b'<?xml version="1.0"?>\n<PubmedArticleSet>\n' + b"\n".join(parts)
                     + b"\n</PubmedArticleSet>\n")
    return path


# --- the shard function ---------------------------------------------------------------------


def test_shard_is_deterministic_sorted_and_unique(tmp_path: Path) -> None:
    src = XML / "nlm_medsample1.xml.gz"
    (tmp_path / "a").mkdir()
    a = build_shard(src, base_iri=BASE, out_dir=tmp_path / "a")
    assert a.shard is not None
    assert [p.name for p in (tmp_path / "a").iterdir()] == [a.shard.name]  # the runs are gone
    lines = gzip.decompress(a.shard.read_bytes()).splitlines()
    assert lines == sorted(set(lines)) and len(lines) == a.quads
    assert a.articles == len(a.pmids) == 170 and a.deletions == 7
    assert a.deleted == tuple(sorted(a.deleted_unseen)) and a.deleted_here == 0
    assert {ln.rsplit(b" ", 2)[1] for ln in lines} == {
        f"<{BASE}graph/pubmed/{p}>".encode() for p in a.pmids
    }
    # the same bytes again, even when memory is tiny: many sorted runs, merged in several passes
    (tmp_path / "b").mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(kg_shard, "RUN_BYTES", 20_000)
        mp.setattr(kg_shard, "MAX_FANIN", 3)
        b = build_shard(src, base_iri=BASE, out_dir=tmp_path / "b")
    assert b.shard is not None and b.shard.read_bytes() == a.shard.read_bytes()
    assert [p.name for p in (tmp_path / "b").iterdir()] == [b.shard.name]
    assert b == a.__class__(**{**{f: getattr(a, f) for f in a.__slots__}, "shard": b.shard})


def test_shard_keeps_the_last_record_of_a_pmid_across_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    r1, r2, r3, r4 = _RECORDS[:4]
    src = pubmed_file(
        tmp_path / "u.xml",
        r1, r2, r3,
        retitled(r1, "Second version"),  # replaces r1 (its first version is in an earlier run)
        deletion(pmid_of(r2)),  # drops r2, read earlier in the file
        deletion(pmid_of(r4)),  # r4 not in this file: the store decides whether it is removed
        r4,  # ...and comes back
        deletion(pmid_of(r3)), retitled(r3, "Third, again"),
    )
    monkeypatch.setattr(kg_shard, "RUN_BYTES", 1)  # one run per article
    res = build_shard(src, base_iri=BASE, out_dir=tmp_path)
    assert res.articles == 6 and res.deletions == 3
    assert res.pmids == tuple(sorted(map(pmid_of, (r1, r3, r4))))
    assert res.deleted == (pmid_of(r2),)
    assert res.deleted_here == 2 and res.deleted_unseen == (pmid_of(r4),)
    assert res.shard is not None
    text = gzip.decompress(res.shard.read_bytes()).decode()
    assert "Second version" in text and "Third, again" in text
    assert f"graph/pubmed/{pmid_of(r2)}>" not in text
    r1_titles = [ln for ln in text.splitlines() if f"pubmed/{pmid_of(r1)}> <http://purl.org/dc/terms/title>" in ln]
    assert len(r1_titles) == 1 and "Second version" in r1_titles[0]


def test_unreadable_file_gives_an_error_not_an_exception(tmp_path: Path) -> None:
    res = build_shard(tmp_path / "missing.xml", base_iri=BASE, out_dir=tmp_path)
    assert res.shard is None and res.error is not None and "no such file" in res.error.message
    assert "missing.xml" in str(res.input_error())


# --- local processes and Dask give the same store -------------------------------------------


@pytest.fixture(scope="module")
def one_worker(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOURCE_DATE_EPOCH", "1700000000")
        store = tmp_path_factory.mktemp("w1") / "store"
        return build_and_export(store, XML, SEED, options=("-r", "--workers", "1"))


def test_two_workers_give_the_same_export_as_one(one_worker: bytes, tmp_path: Path) -> None:
    two = build_and_export(tmp_path / "store", XML, SEED, options=("-r", "--workers", "2"))
    assert two == one_worker and len(one_worker.splitlines()) > 40_000


def test_dask_cluster_gives_the_same_export_as_local(one_worker: bytes, tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        out = build_and_export(
            tmp_path / "store", XML, SEED,
            options=("-r", "--engine", "dask", "--scheduler", cluster.scheduler_address,
                     "--shard-dir", str(tmp_path)),
        )
    assert out == one_worker
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".kg-shards")] == []


def test_shard_dir_that_is_not_there_is_named(tmp_path: Path) -> None:
    out = kg("build", str(RANKING), "--store", str(tmp_path / "s"), "--shard-dir",
             str(tmp_path / "nowhere"), expect=3)
    assert f"kg: error: {tmp_path / 'nowhere'}: cannot write shards there" in out


def test_dask_options_are_checked(tmp_path: Path) -> None:
    out = kg("build", str(RANKING), "--engine", "dask", "--store", str(tmp_path / "s"), expect=2)
    assert "--scheduler" in out
    out = kg("build", str(RANKING), "--scheduler", "tcp://127.0.0.1:1", "--store", str(tmp_path / "s"), expect=2)
    assert "--engine dask" in out


@pytest.mark.shared
@pytest.mark.skipif(not SHARED.exists(), reason="needs ../shared/data")
def test_shared_single_record_files_same_export_with_one_and_two_workers(tmp_path: Path) -> None:
    # 182 files of one record each: many small shards, loaded together
    single = SHARED / "xml" / "single"
    one = build_and_export(tmp_path / "one", single, options=("-r", "--workers", "1"))
    two = build_and_export(tmp_path / "two", single, options=("-r", "--workers", "2"))
    assert one == two and len(one.splitlines()) > 40_000


# --- what a later file does to an earlier one, in both modes ---------------------------------


@pytest.mark.parametrize("workers", ["1", "2"])
def test_later_file_wins_and_deletes(tmp_path: Path, workers: str) -> None:
    r1, r2, r3 = _RECORDS[:3]
    p1, p2, p3 = map(pmid_of, (r1, r2, r3))
    first = pubmed_file(tmp_path / "first.xml", r1, r2, r3)
    second = pubmed_file(tmp_path / "second.xml", retitled(r1, "Newer title"), deletion(p2))
    store = tmp_path / "store"
    out = kg("build", str(first), str(second), "--store", str(store), "--workers", workers)
    assert "1 deletions (1 removed)" in out and "2 article graphs" in out
    assert titles(store, p1) == ["Newer title"]
    assert f"{BASE}graph/pubmed/{p2}" not in graphs(store) and titles(store, p3)
    # and the other order: the first file's version wins, the deletion removed what was there
    other = tmp_path / "other"
    out = kg("build", str(second), str(first), "--store", str(other), "--workers", workers)
    assert "1 deletions (0 removed)" in out and "3 article graphs" in out
    assert titles(other, p1) != ["Newer title"]


def test_deletion_in_a_later_build_removes_a_graph_of_an_earlier_one(tmp_path: Path) -> None:
    r1, r2 = _RECORDS[:2]
    store = tmp_path / "store"
    kg("build", str(pubmed_file(tmp_path / "base.xml", r1, r2)), "--store", str(store))
    out = kg("build", str(pubmed_file(tmp_path / "upd.xml", deletion(pmid_of(r1)))), "--store", str(store))
    assert "1 deletions (1 removed)" in out and "1 article graphs" in out
    assert graphs(store) == {f"{BASE}graph/pubmed/{pmid_of(r2)}", f"{BASE}graph/metadata"}


# --- daily updates: each file applied once ------------------------------------------------------


def test_updates_applied_twice_change_nothing(tmp_path: Path) -> None:
    r1, r2 = _RECORDS[:2]
    mine = pubmed_file(tmp_path / "pubmed99n0001.xml", retitled(r1, "Updated"), deletion(pmid_of(r2)))
    updates = [*UPDATES, mine]
    store = tmp_path / "store"
    kg("build", str(RANKING), "--store", str(store))
    first = build_and_export(store, *updates, options=("--workers", "2"))
    assert titles(store, pmid_of(r1)) == ["Updated"]
    out = kg("build", *map(str, updates), "--store", str(store))
    assert out.count("already applied") == 3 and "0 files" in out
    kg("export", "--store", str(store), "-o", str(tmp_path / "again.nq"))
    assert (tmp_path / "again.nq").read_bytes() == first
    # --force applies them again: the same files in the same order give the same store
    out = kg("build", *map(str, updates), "--store", str(store), "--force")
    assert "3 files" in out and "already applied" not in out
    kg("export", "--store", str(store), "-o", str(tmp_path / "forced.nq"))
    assert (tmp_path / "forced.nq").read_bytes() == first
    applied = json.loads((store / "current" / MANIFEST).read_text())["applied"]
    names = [a["name"] for a in applied]
    assert names == [RANKING.name, *(u.name for u in updates)]
    assert len({a["sha256"] for a in applied}) == len(applied)


def test_one_new_file_among_applied_ones_is_applied(tmp_path: Path) -> None:
    r1 = _RECORDS[0]
    store = tmp_path / "store"
    kg("build", str(RANKING), "--store", str(store))
    new = pubmed_file(tmp_path / "new.xml", retitled(r1, "From the new file"))
    out = kg("build", str(RANKING), str(new), "--store", str(store))
    assert "1 files" in out and out.count("already applied") == 1
    assert titles(store, pmid_of(r1)) == ["From the new file"]


def test_nlm_files_out_of_order_are_refused(tmp_path: Path) -> None:
    r1 = _RECORDS[0]
    older = pubmed_file(tmp_path / "pubmed26n1301.xml", retitled(r1, "Older"))
    newer = pubmed_file(tmp_path / "pubmed26n1302.xml", retitled(r1, "Newer"))
    store = tmp_path / "store"
    out = kg("build", str(newer), str(older), "--store", str(store), expect=2)
    assert "pubmed26n1301.xml comes before pubmed26n1302.xml (given before it)" in out
    assert not store.exists() or not graphs(store)
    kg("build", str(newer), "--store", str(store))
    out = kg("build", str(older), "--store", str(store), expect=2)
    assert "comes before pubmed26n1302.xml (applied to this store on" in out and "--force" in out
    assert titles(store, pmid_of(r1)) == ["Newer"]
    # a newer file goes on; a file applied before is skipped, not refused; --force overrides
    newest = tmp_path / "pubmed26n1303.xml.gz"
    newest.write_bytes(gzip.compress(pubmed_file(tmp_path / "n.xml", retitled(r1, "Newest")).read_bytes()))
    out = kg("build", str(newer), str(newest), "--store", str(store))
    assert "1 files" in out and titles(store, pmid_of(r1)) == ["Newest"]
    kg("build", str(older), "--store", str(store), "--force")
    assert titles(store, pmid_of(r1)) == ["Older"]
