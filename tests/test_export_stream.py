"""Streaming export: the external sort, canonical bytes in flat memory, gzip by name, Turtle,
TriG, RDF/XML and JSON-LD that parse back to the store's statements, and failures that leave
no half-written file."""

from __future__ import annotations

import errno
import gzip
import json
import random
import resource
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from click.testing import CliRunner
from pyoxigraph import DefaultGraph

from kg import extsort
from kg.cli import main
from kg.errors import KgError
from kg.export import export, sorted_statements
from kg.extsort import ExternalSort
from kg.formats import FORMATS, format_for_path
from kg.rdf.namespaces import PREFIXES
from kg.store import KgStore

DATA = Path(__file__).parent / "data"
INPUTS = (DATA / "seed" / "000_e84263704ca7bb66.txt", DATA / "xml" / "nlm_medsample1.xml.gz")
SMALL_RUN = 20_000  # bytes: the store's ~10 MB of N-Quads make hundreds of runs


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("stream") / "store"
    result = CliRunner().invoke(main, ["build", *map(str, INPUTS), "--store", str(path)])
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture(scope="module")
def store(store_path: Path) -> KgStore:
    return KgStore(store_path)


def in_memory_canonical(store: KgStore, *, quads: bool) -> bytes:
    """The export as kg made it before the external sort: a set of lines, sorted in memory."""
    lines: set[bytes] = set()
    for q in store.quads():
        s, p, o = str(q.subject), str(q.predicate), str(q.object)
        g = q.graph_name
        if quads and not isinstance(g, DefaultGraph):
            lines.add(f"{s} {p} {o} {g} .\n".encode())
        else:
            lines.add(f"{s} {p} {o} .\n".encode())
    return b"".join(sorted(lines))


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("."))


# --- the external sort ---------------------------------------------------------------------


@pytest.mark.parametrize(("run_bytes", "max_fanin"), [(1 << 20, 64), (300, 64), (97, 2)])
def test_external_sort_gives_sorted_unique_lines(
    tmp_path: Path, run_bytes: int, max_fanin: int
) -> None:
    rng = random.Random(13)
    words = [f"<http://x/{rng.randrange(500)}> \"é{rng.random()}\"" for _ in range(300)]
    lines = [w.encode() for w in words + words[:50]]  # repeated lines
    text = b"".join(line + b"\n" for line in lines)
    with ExternalSort(tmp_path, run_bytes=run_bytes, max_fanin=max_fanin) as sort:
        i = 0
        while i < len(text):  # chunks cut anywhere, mid-line and mid-character included
            step = rng.randrange(1, 200)
            sort.write(text[i : i + step])
            i += step
        got = list(sort.lines())
    assert got == sorted({line + b"\n" for line in lines})
    assert list(tmp_path.iterdir()) == []  # the runs are gone


def test_external_sort_last_line_without_break_and_nothing_at_all(tmp_path: Path) -> None:
    with ExternalSort(tmp_path, run_bytes=4) as sort:
        sort.write(b"b\na\nc")
        assert list(sort.lines()) == [b"a\n", b"b\n", b"c\n"]
    with ExternalSort(tmp_path) as sort:
        assert list(sort.lines()) == []
    assert list(tmp_path.iterdir()) == []


# --- canonical N-Quads / N-Triples ---------------------------------------------------------


@pytest.mark.parametrize("name", ["nq", "nt"])
def test_streaming_export_has_the_bytes_of_the_in_memory_export(
    store: KgStore, tmp_path: Path, name: str
) -> None:
    reference = in_memory_canonical(store, quads=name == "nq")
    # hundreds of runs, merged a few at a time in several passes
    with sorted_statements(
        store, quads=name == "nq", directory=tmp_path, run_bytes=SMALL_RUN, max_fanin=8
    ) as lines:
        assert b"".join(lines) == reference
    assert list(tmp_path.iterdir()) == []
    out = tmp_path / f"kg.{name}"
    n = export(store, out, FORMATS[name], run_bytes=SMALL_RUN)
    assert out.read_bytes() == reference and n == reference.count(b"\n")
    assert leftovers(tmp_path) == []  # neither the scratch directory nor a temporary file
    export(store, out, FORMATS[name])  # one run held in memory: the same bytes
    assert out.read_bytes() == reference


def test_many_runs_really_are_written(
    store: KgStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    added: list[int] = []
    where: set[Path] = set()
    real = extsort.Runs.add

    def add(self: extsort.Runs, lines: list[bytes]) -> None:
        added.append(len(lines))
        where.add(self.directory.parent)
        real(self, lines)

    monkeypatch.setattr(extsort.Runs, "add", add)
    export(store, tmp_path / "kg.nq", FORMATS["nq"], run_bytes=SMALL_RUN)
    assert len(added) > 100 and sum(added) == len(store)
    assert where == {tmp_path}  # beside the output
    (tmp_path / "scratch").mkdir()
    export(store, "/dev/null", FORMATS["nq"], run_bytes=SMALL_RUN, tmp_dir=tmp_path / "scratch")
    assert where == {tmp_path, tmp_path / "scratch"} and not any((tmp_path / "scratch").iterdir())


# --- gzip by name ---------------------------------------------------------------------------


def test_gz_output_round_trips_and_is_deterministic(store_path: Path, tmp_path: Path) -> None:
    plain, first, second = tmp_path / "kg.nq", tmp_path / "a" / "kg.nq.gz", tmp_path / "kg.nq.gz"
    for out in (plain, first, second):
        result = CliRunner().invoke(main, ["export", "--store", str(store_path), "-o", str(out)])
        assert result.exit_code == 0, result.output
        assert "(nq)" in result.output  # the format seen through .gz
    assert first.read_bytes()[:2] == b"\x1f\x8b"
    assert gzip.decompress(first.read_bytes()) == plain.read_bytes()
    assert first.read_bytes() == second.read_bytes()  # no time or name in the gzip header
    assert format_for_path(Path("kg.ttl.gz")) == FORMATS["ttl"]
    assert format_for_path(Path("dump.rdf")) == FORMATS["rdfxml"]


# --- Turtle, TriG, RDF/XML, JSON-LD ---------------------------------------------------------


def parsed(path: Path, fmt: ox.RdfFormat) -> set[ox.Quad]:
    return set(ox.parse(path=str(path), format=fmt))


@pytest.mark.parametrize(("name", "ext"), [("ttl", "ttl"), ("rdfxml", "rdf")])
def test_triple_formats_parse_back_to_the_union_of_graphs(
    store: KgStore, tmp_path: Path, name: str, ext: str
) -> None:
    out = tmp_path / f"kg.{ext}"
    n = export(store, out, FORMATS[name], run_bytes=SMALL_RUN)
    triples = {q.triple for q in store.quads()}
    assert {q.triple for q in parsed(out, FORMATS[name].rdf_format)} == triples
    assert n == len(triples)
    graph = rdflib.Graph().parse(str(out), format="turtle" if name == "ttl" else "xml")
    assert len(graph) == len(triples)
    # the same bytes whatever the run size (written a chunk of subjects at a time)
    again = tmp_path / f"again.{ext}"
    export(store, again, FORMATS[name])
    assert again.read_bytes() == out.read_bytes()


def test_turtle_declares_prefixes_once_and_uses_them(store: KgStore, tmp_path: Path) -> None:
    out = tmp_path / "kg.ttl"
    export(store, out, FORMATS["ttl"], run_bytes=SMALL_RUN)
    text = out.read_text()
    assert text.count("@prefix ") == len(PREFIXES)
    assert text.startswith("@prefix ") and " dcterms:title " in text


def test_trig_parses_back_to_the_same_quads(store: KgStore, tmp_path: Path) -> None:
    out = tmp_path / "kg.trig"
    n = export(store, out, FORMATS["trig"], run_bytes=SMALL_RUN)
    assert parsed(out, ox.RdfFormat.TRIG) == set(store.quads()) and n == len(store)
    ds = rdflib.Dataset()
    ds.parse(str(out), format="trig")
    assert sum(len(g) for g in ds.graphs()) == len(store)


def test_jsonld_is_compact_one_object_per_graph_and_round_trips(
    store: KgStore, tmp_path: Path
) -> None:
    out = tmp_path / "kg.jsonld"
    n = export(store, out, FORMATS["jsonld"], run_bytes=SMALL_RUN)
    doc = json.loads(out.read_text())
    assert set(doc) == {"@context", "@graph"} and doc["@context"] == PREFIXES
    graphs = [item["@id"] for item in doc["@graph"]]
    assert graphs == sorted(graphs) and all(set(i) == {"@id", "@graph"} for i in doc["@graph"])
    assert set(graphs) == {g.value for g in store.named_graphs()}
    assert '"@type":"fabio:' in out.read_text()  # compacted with kg's prefixes
    quads = set(store.quads())
    assert parsed(out, ox.RdfFormat.JSON_LD) == quads and n == len(quads)
    # and another JSON-LD processor reads the same statements
    ds = rdflib.Dataset()
    ds.parse(str(out), format="json-ld")
    nq = rdflib.Dataset()
    nq.parse(data=in_memory_canonical(store, quads=True).decode(), format="nquads")
    assert set(ds.quads()) == set(nq.quads())


# --- failures -------------------------------------------------------------------------------


def test_a_full_disk_while_sorting_is_one_line_and_leaves_the_old_file(
    store: KgStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "kg.nq"
    out.write_bytes(b"old\n")
    calls = 0
    real = extsort.Runs.add

    def add(self: extsort.Runs, lines: list[bytes]) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(self, lines)

    monkeypatch.setattr(extsort.Runs, "add", add)
    with pytest.raises(KgError) as caught:
        export(store, out, FORMATS["nq"], run_bytes=SMALL_RUN)
    assert str(caught.value) == f"{out}: cannot write: No space left on device"
    assert out.read_bytes() == b"old\n" and leftovers(tmp_path) == []


def test_a_file_size_limit_mid_write_is_exit_3_one_line_no_file(
    store_path: Path, tmp_path: Path
) -> None:
    """A real process whose writes fail part-way (RLIMIT_FSIZE: EFBIG, as a full disk fails)."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (256 << 10, 256 << 10))

    for name in ("kg.nq", "kg.ttl.gz", "kg.jsonld"):
        out = tmp_path / name
        result = subprocess.run(
            [sys.executable, "-m", "kg", "export", "--store", str(store_path), "-o", str(out)],
            capture_output=True, text=True, preexec_fn=limit, timeout=300, check=False,
        )
        assert result.returncode == 3, result.stderr
        assert result.stderr.count("\n") == 1 and "cannot write" in result.stderr, result.stderr
        assert not out.exists() and leftovers(tmp_path) == []


def test_an_unwritable_target_is_one_line(store: KgStore, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(KgError, match="cannot write: Not a directory"):
        export(store, tmp_path / "file" / "kg.nq", FORMATS["nq"])
    with pytest.raises(KgError, match="No space left on device"):
        export(store, "/dev/full", FORMATS["ttl"])
    assert leftovers(tmp_path) == []


# --- progress -------------------------------------------------------------------------------


def test_progress_only_when_asked(store_path: Path, tmp_path: Path) -> None:
    def run(*extra: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "kg", "export", "--store", str(store_path),
             "-o", str(tmp_path / "kg.ttl"), *extra],
            capture_output=True, text=True, timeout=300, check=True,
        )
        assert result.stdout == ""
        return result.stderr

    assert "export ttl" not in run()  # standard error is not a terminal
    assert "export ttl" in run("--progress")
