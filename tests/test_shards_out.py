"""kg build --shards-out: shards for another store's loader hold exactly what kg's store holds.

A first file of articles, then an update that deletes one of them, brings a new version of
another and deletes a PMID never seen: the shards loaded into an empty store, in any order,
give the same N-Quads dump as ``kg build`` of the same files; and a store holding the first
file's shards, given the update's ``drop-graphs.ru`` and then its shards, holds the article
graphs that ``kg build`` of both files in turn holds. (The Oxigraph server's own loader reads
them in tests/test_publish.py.)
"""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pyoxigraph
import pytest
from click.testing import CliRunner

from kg.cli import main

DATA = Path(__file__).parent / "data"
FIRST = DATA / "xml" / "Pubmed_Author_Ranking__pubmed_result.xml"
BASE = "https://w3id.org/kg/id/"
META = f"<{BASE}graph/metadata>"


def kg(*args: str, expect: int = 0) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == expect, (result.output, result.exception)
    assert "Traceback" not in result.output
    return result.output


def _articles(raw: str) -> dict[str, str]:
    blocks = re.findall(r"<PubmedArticle>[\s\S]*?</PubmedArticle>", raw)
    return {re.search(r"<PMID[^>]*>(\d+)</PMID>", b)[1]: b for b in blocks}  # type: ignore[index]


@pytest.fixture(scope="module")
def update(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """An update file: deletes the first article of FIRST, brings a new title for the second,
    and deletes PMID 1 (in no file)."""
    raw = FIRST.read_text(encoding="utf-8")
    pmids = sorted(_articles(raw))
    gone, changed = pmids[0], pmids[1]
    block = re.sub(r"<ArticleTitle>[\s\S]*?</ArticleTitle>",
                   "<ArticleTitle>A corrected title.</ArticleTitle>", _articles(raw)[changed])
    path = tmp_path_factory.mktemp("update") / "update.xml"
    path.write_text(
        '<?xml version="1.0"?>\n<PubmedArticleSet>\n' + block + "\n<DeleteCitation>"
        f'<PMID Version="1">{gone}</PMID><PMID Version="1">1</PMID></DeleteCitation>\n'
        "</PubmedArticleSet>\n",
        encoding="utf-8",
    )
    return path, gone, changed


def _load(store: pyoxigraph.Store, directory: Path, *, metadata: bool = True) -> None:
    files = sorted(directory.glob("*.nq.gz"), reverse=True)  # any order will do
    for f in files:
        if metadata or f.name != "metadata.nq.gz":
            store.bulk_load(gzip.decompress(f.read_bytes()), format=pyoxigraph.RdfFormat.N_QUADS)


def _dump(store: pyoxigraph.Store, *, metadata: bool = True) -> list[str]:
    lines = {f"{q} .\n" for q in store}
    return sorted(line for line in lines if metadata or not line.endswith(f"{META} .\n"))


def test_shards_loaded_anywhere_equal_the_store(tmp_path: Path, update: tuple[Path, str, str]) -> None:
    path, gone, changed = update
    out = tmp_path / "shards"
    said = kg("build", str(FIRST), str(path), "--shards-out", str(out), "-j", "2")
    assert "2 replaced by a later file" in said
    kg("build", str(FIRST), str(path), "--store", str(tmp_path / "store"))
    kg("export", "--store", str(tmp_path / "store"), "-o", str(tmp_path / "kg.nq"))
    loaded = pyoxigraph.Store()
    _load(loaded, out)
    assert "".join(_dump(loaded)) == (tmp_path / "kg.nq").read_text(encoding="utf-8")

    manifest = json.loads((out / "manifest.json").read_text())
    first, second = manifest["shards"]
    assert first["superseded"] == 2 and first["graphs"] == 5 and second["graphs"] == 1
    assert manifest["graphs"] == 6 and manifest["quads"] == len(loaded)
    for entry in manifest["shards"]:
        shard = out / entry["file"]
        assert gzip.decompress(shard.read_bytes()).count(b"\n") == entry["quads"]
        lines = gzip.decompress(shard.read_bytes()).splitlines()
        assert lines == sorted(set(lines))
    listed = (out / first["pmids"]).read_text().split()
    assert f"~{gone}" in listed and f"~{changed}" in listed and f"+{gone}" not in listed
    assert (out / second["pmids"]).read_text().split() == [f"+{changed}", "-1", f"-{gone}"]
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no scratch left


def test_drop_list_then_shards_update_a_store(tmp_path: Path, update: tuple[Path, str, str]) -> None:
    path, gone, changed = update
    kg("build", str(FIRST), "--shards-out", str(tmp_path / "a"))
    kg("build", str(path), "--shards-out", str(tmp_path / "b"))
    server = pyoxigraph.Store()
    _load(server, tmp_path / "a")
    server.update((tmp_path / "b" / "drop-graphs.ru").read_text())
    _load(server, tmp_path / "b")

    store = tmp_path / "store"
    kg("build", str(FIRST), "--store", str(store))
    kg("build", str(path), "--store", str(store))
    kg("export", "--store", str(store), "-o", str(tmp_path / "kg.nq"))
    want = [line for line in (tmp_path / "kg.nq").read_text().splitlines(True)
            if not line.endswith(f"{META} .\n")]
    assert _dump(server, metadata=False) == want
    graphs = {str(g) for g in server.named_graphs()}
    assert f"<{BASE}graph/pubmed/{gone}>" not in graphs
    assert f"<{BASE}graph/pubmed/{changed}>" in graphs


def test_refuses_a_directory_in_use_and_leaves_nothing_when_stopped(tmp_path: Path) -> None:
    used = tmp_path / "used"
    used.mkdir()
    (used / "mine.txt").write_text("keep me")
    said = kg("build", str(FIRST), "--shards-out", str(used), expect=2)
    assert "not an empty directory" in said and (used / "mine.txt").read_text() == "keep me"

    bad = tmp_path / "bad.xml"
    bad.write_text("<PubmedArticleSet><PubmedArticle><MedlineCitation>")
    out = tmp_path / "out"
    kg("build", str(FIRST), str(bad), "--shards-out", str(out), "--strict", expect=3)
    assert not out.exists()


def test_a_run_killed_midway_leaves_no_output_and_the_next_run_finishes(tmp_path: Path) -> None:
    """kill -9 while the shards are built: no manifest, nothing but scratch in the directory;
    running again into it gives the shards a clean run gives."""
    inputs = [str(DATA / "xml" / "nlm_medsample1.xml.gz"), str(FIRST)]
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "kg", "build", *inputs, "--shards-out",
                                str(out), "-j", "1"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not (out.exists() and any(out.glob(".kg-shards-*/*"))):
        assert process.poll() is None and time.monotonic() < deadline, "the build ended first"
        time.sleep(0.02)
    process.kill()
    process.wait()
    assert not (out / "manifest.json").exists()
    assert all(p.name.startswith(".kg-shards-") for p in out.iterdir())

    kg("build", *inputs, "--shards-out", str(out))
    kg("build", *inputs, "--shards-out", str(tmp_path / "clean"))
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(p.name for p in (tmp_path / "clean").iterdir())
    for name in names:
        if name != "manifest.json":  # which names the inputs and output as given
            assert (out / name).read_bytes() == (tmp_path / "clean" / name).read_bytes(), name
