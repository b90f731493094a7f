"""Versions of the store: readers see it as it was before a build or after, never between; a
failed or killed build changes nothing; one writer at a time; what no one holds is cleaned up."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pyoxigraph
import pytest
import requests

from kg.errors import StoreError
from kg.store import MANIFEST, POINTER, KgStore, current_version, read_applied

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
SEED = DATA / "seed"


def graph(n: int) -> dict[pyoxigraph.NamedNode, list[pyoxigraph.Quad]]:
    g = pyoxigraph.NamedNode(f"https://example.org/graph/{n}")
    s = pyoxigraph.NamedNode(f"https://example.org/article/{n}")
    return {g: [pyoxigraph.Quad(s, pyoxigraph.NamedNode("https://example.org/p"), pyoxigraph.Literal(str(n)), g)]}


def graphs(store: KgStore) -> set[str]:
    return {g.value.rsplit("/", 1)[1] for g in store.named_graphs()}


def versions(path: Path) -> list[str]:
    return sorted(p.name for p in path.iterdir() if p.name.startswith("v"))


def test_a_reader_keeps_its_version_while_builds_switch_and_old_ones_go_once_unread(tmp_path: Path) -> None:
    path = tmp_path / "store"
    with KgStore.writing(path) as w:
        w.replace_graphs(graph(1))
    reader = KgStore(path)
    with KgStore.writing(path) as w:
        w.replace_graphs(graph(2))
        assert graphs(KgStore(path)) == {"1"}  # a reader during the build: the version before
    assert graphs(reader) == {"1"}  # its version does not change under it
    assert graphs(KgStore(path)) == {"1", "2"}  # a new reader: the version after
    with KgStore.writing(path) as w:
        w.replace_graphs(graph(3))
    assert versions(path) == ["v000001", "v000003"]  # v000001 is still read: it stays
    assert os.readlink(path / POINTER) == "v000003"
    reader.close()
    with KgStore.writing(path) as w:
        w.remove_graphs([*graph(1)])
    assert versions(path) == ["v000004"]
    assert graphs(KgStore(path)) == {"2", "3"}


def test_a_failed_build_changes_nothing_and_a_failed_first_build_leaves_no_store(tmp_path: Path) -> None:
    path = tmp_path / "store"
    with pytest.raises(RuntimeError), KgStore.writing(path) as w:
        w.replace_graphs(graph(1))
        raise RuntimeError("the build failed")
    assert not path.exists()
    with KgStore.writing(path) as w:
        w.replace_graphs(graph(1))
    with pytest.raises(KeyboardInterrupt), KgStore.writing(path) as w:
        w.replace_graphs(graph(2))
        raise KeyboardInterrupt
    assert versions(path) == ["v000001"] and graphs(KgStore(path)) == {"1"}


def test_one_writer_at_a_time(tmp_path: Path) -> None:
    path = tmp_path / "store"
    with KgStore.writing(path) as w:
        w.replace_graphs(graph(1))
        with pytest.raises(StoreError, match="another kg build or kg fetch is writing"), KgStore.writing(path):
            pass
    assert graphs(KgStore(path)) == {"1"}


def test_a_store_from_before_versions_is_read_then_taken_over_by_the_first_build(tmp_path: Path) -> None:
    path = tmp_path / "store"
    old = pyoxigraph.Store(str(path))  # what kg wrote before versions: the store in the directory
    old.bulk_extend(graph(1)[pyoxigraph.NamedNode("https://example.org/graph/1")])
    old.flush()
    del old
    (path / MANIFEST).write_text('{"applied": [{"name": "a.xml", "sha256": "ab", "size": 1, "applied_at": "x"}]}')
    assert current_version(path) == path and graphs(KgStore(path)) == {"1"}
    assert set(read_applied(path)) == {"ab"}
    with KgStore.writing(path) as w:
        w.replace_graphs(graph(2))
    assert sorted(p.name for p in path.iterdir()) == [".kg-writer.lock", POINTER, "v000001"]
    assert graphs(KgStore(path)) == {"1", "2"} and set(read_applied(path)) == {"ab"}


def test_a_copy_made_without_keeping_symlinks_is_read_and_built_on(tmp_path: Path) -> None:
    path = tmp_path / "store"
    with KgStore.writing(path) as w:
        w.replace_graphs(graph(1))
    copy = tmp_path / "copy"
    shutil.copytree(path, copy)  # like cp -r: ``current`` becomes a directory
    assert not (copy / POINTER).is_symlink() and graphs(KgStore(copy)) == {"1"}
    with KgStore.writing(copy) as w:
        w.replace_graphs(graph(2))
    assert (copy / POINTER).is_symlink() and graphs(KgStore(copy)) == {"1", "2"}


def test_a_query_worker_holds_its_version_after_the_app_lets_go(tmp_path: Path) -> None:
    from kg.web.pool import QueryPool
    from kg.web.runner import Task

    path = tmp_path / "store"
    with KgStore.writing(path) as w:
        w.replace_graphs(graph(1))
    with KgStore(path) as reader:
        pool = QueryPool(reader.version, size=1, timeout=30, max_bytes=1 << 20)
        pool.start()
    try:
        for n in (2, 3):  # two builds: the second removes what nobody holds
            with KgStore.writing(path) as w:
                w.replace_graphs(graph(n))
        assert versions(path) == ["v000001", "v000003"]  # the worker's version stays
        answer = pool.run(Task("ASK { GRAPH <https://example.org/graph/1> { ?s ?p ?o } }",
                               accept="application/sparql-results+json"))
        assert answer.ok and b"true" in answer.body
    finally:
        pool.close()
    with KgStore.writing(path) as w:
        w.replace_graphs(graph(4))
    assert versions(path) == ["v000004"]


# --- real builds, real readers ------------------------------------------------------------------


def kg(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kg", *args],
        capture_output=True, text=True, timeout=timeout, cwd=ROOT,
        env={**os.environ, "PYTHONSAFEPATH": "1"},
    )


def state(path: Path) -> tuple[int, str]:
    """What a reader sees: the number of named graphs and a checksum of every quad."""
    with KgStore(path) as store:
        quads = sorted(str(q) for q in store.quads())
        count = sum(1 for _ in store.named_graphs())
    return count, hashlib.sha256("\n".join(quads).encode()).hexdigest()


def long_input(tmp_path: Path) -> Path:
    inputs = tmp_path / "in"
    for copy in "abc":  # the same records three times over: a build that lasts some seconds
        shutil.copytree(DATA / "xml", inputs / copy)
    return inputs


def start_build(inputs: Path, store: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "kg", "build", "-r", str(inputs), "--store", str(store)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        env={**os.environ, "PYTHONSAFEPATH": "1"},
    )


COUNT = "SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"


def served_count(url: str) -> int:
    answer = requests.get(f"{url}/sparql", params={"query": COUNT},
                          headers={"Accept": "application/sparql-results+json"}, timeout=60)
    assert answer.status_code == 200, answer.text
    return int(answer.json()["results"]["bindings"][0]["n"]["value"])


def test_readers_see_the_store_before_or_after_a_build_never_between(
    tmp_path: Path, fake: tuple[str, Any], kg_serve: Callable[..., AbstractContextManager[str]]
) -> None:
    endpoint, recorder = fake
    store = tmp_path / "store"
    assert kg("build", "-r", str(SEED), "--store", str(store)).returncode == 0
    before = state(store)
    with kg_serve(store) as url:
        _readers_during_a_build(tmp_path, store, before, endpoint, recorder, url)


def _readers_during_a_build(
    tmp_path: Path, store: Path, before: tuple[int, str], endpoint: str, recorder: Any, url: str
) -> None:
    served_before = served_count(url)
    dump_before = tmp_path / "before.nq"
    assert kg("export", "--store", str(store), "-o", str(dump_before)).returncode == 0
    record = tmp_path / "published.json"
    assert kg("publish", "--store", str(store), "--endpoint", endpoint, "--record", str(record)).returncode == 0
    recorder.seen.clear()

    seen: list[tuple[int, str]] = []
    stop = threading.Event()

    def observe() -> None:
        while not stop.is_set():
            seen.append(state(store))

    watcher = threading.Thread(target=observe)
    build = start_build(long_input(tmp_path), store)
    watcher.start()
    exports: list[bytes] = []
    publishes = 0
    served: list[int] = []
    counted: list[str] = []
    try:
        while build.poll() is None:
            served.append(served_count(url))
            counted.append(kg("query", "--store", str(store), "--format", "tsv", COUNT).stdout)
            dump = tmp_path / f"during-{len(exports)}.nq"
            done = kg("export", "--store", str(store), "-o", str(dump))
            assert done.returncode == 0, done.stderr
            exports.append(dump.read_bytes())
            if build.poll() is None:
                published = kg("publish", "--store", str(store), "--endpoint", endpoint, "--record", str(record))
                assert published.returncode == 0, published.stderr
                publishes += 1
    finally:
        build.wait(timeout=300)
        stop.set()
        watcher.join()
    assert build.returncode == 0, build.stderr
    after = state(store)
    dump_after = tmp_path / "after.nq"
    assert kg("export", "--store", str(store), "-o", str(dump_after)).returncode == 0

    assert before != after
    assert seen and set(seen) <= {before, after}, "a reader saw a half-built store"
    assert seen.count(before) > 1  # observed while the build ran, not only after it
    assert exports and set(exports) <= {dump_before.read_bytes(), dump_after.read_bytes()}
    assert publishes and all(method != "DELETE" for method, _, _ in recorder.seen)
    assert served and set(served) <= {served_before, after[0]}
    assert set(counted) <= {f"?n\n{served_before}\n", f"?n\n{after[0]}\n"}
    assert served_count(url) == after[0]  # the server follows the build, without a restart
    assert requests.get(f"{url}/pubmed/32887691", timeout=60).status_code == 200  # pages too


def test_kill_9_during_a_build_leaves_the_store_as_it_was_and_a_rerun_finishes_it(tmp_path: Path) -> None:
    store = tmp_path / "store"
    assert kg("build", "-r", str(SEED), "--store", str(store)).returncode == 0
    before = state(store)
    inputs = long_input(tmp_path)
    build = start_build(inputs, store)
    deadline = time.monotonic() + 120
    while not any(store.glob(".kg-shards-*/*")) and time.monotonic() < deadline:  # mid-build
        time.sleep(0.05)
    assert build.poll() is None, "the build ended before it could be killed"
    build.send_signal(signal.SIGKILL)
    build.communicate(timeout=60)  # its workers die with it: they held its stderr open too
    assert state(store) == before
    assert versions(store) == ["v000001", "v000002"]  # the killed build's, not current

    again = kg("build", "-r", str(SEED), str(inputs), "--store", str(store))
    assert again.returncode == 0, again.stderr
    clean = tmp_path / "clean"
    assert kg("build", "-r", str(SEED), "--store", str(clean)).returncode == 0
    assert kg("build", "-r", str(SEED), str(inputs), "--store", str(clean)).returncode == 0
    dumps = []
    for s in (store, clean):
        assert kg("export", "--store", str(s), "-o", str(s) + ".nq").returncode == 0
        dumps.append({q for q in Path(str(s) + ".nq").read_text().splitlines() if "graph/metadata>" not in q})
    assert dumps[0] == dumps[1]
    assert not list(store.glob(".kg-shards-*")) and versions(store) == ["v000002"]  # made anew


def _can_mount_tmpfs() -> bool:
    """A user (and mount) namespace where tmpfs can be mounted: how a test fills a disk
    without root."""
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt"],
                           capture_output=True, check=False)
    return probe.returncode == 0


@pytest.mark.skipif(not _can_mount_tmpfs(), reason="cannot mount a tmpfs in a user namespace here")
def test_a_full_disk_is_one_line_changes_nothing_and_a_rerun_with_room_finishes(tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    inputs = tmp_path / "in"
    shutil.copytree(DATA / "xml", inputs)
    kg_ = f"PYTHONSAFEPATH=1 {sys.executable} -m kg"
    script = f"""
    cd {ROOT}
    mount -t tmpfs -o size=6m tmpfs {disk}
    {kg_} build -r {SEED} --store {disk}/store > /dev/null 2> {tmp_path}/seed.err; echo $? > {tmp_path}/seed.rc
    {kg_} query --store {disk}/store --format tsv 'SELECT (COUNT(*) AS ?n) {{ GRAPH ?g {{ ?s ?p ?o }} }}' > {tmp_path}/before.tsv
    {kg_} build -r {inputs} --store {disk}/store > /dev/null 2> {tmp_path}/full.err; echo $? > {tmp_path}/full.rc
    {kg_} query --store {disk}/store --format tsv 'SELECT (COUNT(*) AS ?n) {{ GRAPH ?g {{ ?s ?p ?o }} }}' > {tmp_path}/after.tsv
    ls -A {disk}/store > {tmp_path}/left.txt
    {kg_} build -r {inputs} --workers 1 --store {tmp_path}/other --shard-dir {disk} > /dev/null 2> {tmp_path}/shards.err; echo $? > {tmp_path}/shards.rc
    mount -o remount,size=400m {disk}
    {kg_} build -r {inputs} --store {disk}/store > /dev/null 2> {tmp_path}/again.err; echo $? > {tmp_path}/again.rc
    {kg_} export --store {disk}/store -o {tmp_path}/again.nq
    """
    subprocess.run(["unshare", "-rm", "sh", "-c", script], check=True, timeout=900)

    def read(name: str) -> str:
        return (tmp_path / name).read_text()

    assert read("seed.rc").strip() == "0", read("seed.err")
    assert read("full.rc").strip() == "3"
    (line,) = read("full.err").strip().splitlines()  # one line, no traceback
    assert line.startswith(f"kg: error: {disk}/store") and "No space left on device" in line
    assert "cannot write the store" in line or "cannot write shards" in line  # whichever filled it
    assert read("after.tsv") == read("before.tsv")  # the store as it was
    assert read("left.txt").split() == [".kg-writer.lock", "current", "v000001"]  # nothing left over
    assert read("shards.rc").strip() == "3"
    (line,) = read("shards.err").strip().splitlines()
    assert f"kg: error: {disk}/.kg-shards-" in line and "cannot write shards: No space left on device" in line
    assert not (tmp_path / "other").exists()  # a first build that failed leaves no store
    assert read("again.rc").strip() == "0", read("again.err")

    clean = tmp_path / "clean"
    for args in (("-r", str(SEED)), ("-r", str(inputs))):
        assert kg("build", *args, "--store", str(clean)).returncode == 0
    assert kg("export", "--store", str(clean), "-o", str(tmp_path / "clean.nq")).returncode == 0
    dumps = [{q for q in (tmp_path / n).read_text().splitlines() if "graph/metadata>" not in q}
             for n in ("again.nq", "clean.nq")]
    assert dumps[0] == dumps[1]
