"""Writing what ``-o`` names (and every other file kg writes) without destroying it.

Real targets, no mocks: a FIFO read by a thread, a character device (/dev/null), a symbolic
link, a directory, files whose modes must survive, new files under a set umask, and an
interruption (KeyboardInterrupt) in the middle of a write.
"""

from __future__ import annotations

import gzip
import json
import os
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from kg.atomic import atomic_output, atomic_write
from kg.cli import main
from kg.publish import save_record
from kg.sources.eutils import ResponseCache
from kg.store import MANIFEST, KgStore

TESTS = Path(__file__).parent
SEED = TESTS / "data" / "seed" / "000_e84263704ca7bb66.txt"


@pytest.fixture()
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("atomic") / "store"
    result = CliRunner().invoke(main, ["build", str(SEED), "--store", str(path)])
    assert result.exit_code == 0, result.output
    return path


def export(store: Path, target: str, *extra: str) -> subprocess.CompletedProcess[str]:
    """``kg export`` as a real process (a FIFO needs a reader in another thread meanwhile)."""
    return subprocess.run(
        [sys.executable, "-m", "kg", "export", "--store", str(store), "-o", target, *extra],
        capture_output=True,
        text=True,
        timeout=120,
    )


# --- the helper itself ---------------------------------------------------------------------


def test_new_file_follows_umask(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        with atomic_write(tmp_path / "a.bin") as fh:
            fh.write(b"x")
    finally:
        os.umask(old)
    assert mode(tmp_path / "a.bin") == 0o640
    old = os.umask(0o002)
    try:
        with atomic_write(tmp_path / "b.txt", "w") as fh:
            fh.write("é")
    finally:
        os.umask(old)
    assert mode(tmp_path / "b.txt") == 0o664
    assert (tmp_path / "b.txt").read_text(encoding="utf-8") == "é"


def test_existing_file_keeps_its_mode(tmp_path: Path, umask_022: None) -> None:
    for bits in (0o644, 0o600, 0o664, 0o444):
        path = tmp_path / f"f{bits:o}"
        path.write_bytes(b"old")
        path.chmod(bits)
        with atomic_write(path) as fh:
            fh.write(b"new")
        assert path.read_bytes() == b"new" and mode(path) == bits
    assert leftovers(tmp_path) == []


def test_interrupted_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "dump.nq"
    path.write_bytes(b"old\n")
    for fault in (KeyboardInterrupt, RuntimeError, OSError):
        with pytest.raises(fault), atomic_write(path) as fh:
            fh.write(b"half of the new")
            raise fault()
        assert path.read_bytes() == b"old\n"
        assert leftovers(tmp_path) == []


def test_symlink_is_followed_and_stays_a_link(tmp_path: Path) -> None:
    real = tmp_path / "data" / "real.nq"
    real.parent.mkdir()
    real.write_bytes(b"old\n")
    real.chmod(0o644)
    link = tmp_path / "link.nq"
    link.symlink_to(real)
    with atomic_write(link) as fh:
        fh.write(b"new\n")
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_bytes() == b"new\n" and mode(real) == 0o644
    assert leftovers(tmp_path) == [] and leftovers(real.parent) == []
    dangling = tmp_path / "dangling.nq"
    dangling.symlink_to(tmp_path / "data" / "made.nq")
    with atomic_write(dangling) as fh:
        fh.write(b"made\n")
    assert dangling.is_symlink() and (tmp_path / "data" / "made.nq").read_bytes() == b"made\n"


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError), atomic_write(tmp_path) as fh:
        fh.write(b"x")
    assert leftovers(tmp_path) == []


def test_fifo_is_written_directly(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    with atomic_write(fifo) as fh:
        fh.write(b"through the pipe\n")
    reader.join(10)
    assert got == [b"through the pipe\n"]
    assert stat.S_ISFIFO(fifo.lstat().st_mode)  # still a FIFO, not a file
    assert leftovers(tmp_path) == []


# --- every writer of kg uses it ------------------------------------------------------------


def test_every_writer_keeps_modes_and_follows_umask(tmp_path: Path, umask_022: None) -> None:
    # publish record: an existing one keeps 0o640
    record = tmp_path / "store.published.json"
    record.write_text("{}")
    record.chmod(0o640)
    save_record(record, {"version": 1, "targets": {}})
    assert mode(record) == 0o640 and json.loads(record.read_text())["version"] == 1
    # the E-utilities cache: new files follow the umask
    cache = ResponseCache(tmp_path / "cache")
    cache.put("efetch.fcgi", {"id": "1"}, b"<x/>")
    assert mode(cache.path("efetch.fcgi", {"id": "1"})) == 0o644
    # kg fetch -o: gzip or not, through the same helper
    for name in ("out.xml", "out.xml.gz"):
        target = tmp_path / name
        target.write_bytes(b"")
        target.chmod(0o660)
        with atomic_output(target) as out:
            out.write(b"<PubmedArticleSet/>\n")
        assert mode(target) == 0o660
    assert gzip.decompress((tmp_path / "out.xml.gz").read_bytes()) == b"<PubmedArticleSet/>\n"
    # the record of applied files, inside the store
    class Input:
        name, sha256, size = "x.xml", "0" * 64, 1

    with KgStore.writing(tmp_path / "store") as store:
        store.mark_applied([Input()])
        assert mode(store.version / MANIFEST) == 0o644
        (store.version / MANIFEST).chmod(0o600)
        store.mark_applied([Input()])
        assert mode(store.version / MANIFEST) == 0o600
        assert leftovers(tmp_path) == [] and leftovers(store.version) == []


# --- kg export -o ----------------------------------------------------------------------------


def test_export_to_a_character_device(store: Path) -> None:
    before = os.stat("/dev/null")
    result = export(store, "/dev/null", "--format", "nq")
    assert result.returncode == 0, result.stderr
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev


def test_export_to_a_device_node_outside_dev(store: Path, tmp_path: Path) -> None:
    """``mknod null-copy c 1 3`` needs root; where it cannot be made, /dev/null covers it."""
    node = tmp_path / "null-copy"
    try:
        os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("making a device node needs root")
    result = export(store, str(node), "--format", "nq")
    assert result.returncode == 0, result.stderr
    assert stat.S_ISCHR(node.lstat().st_mode)
    assert leftovers(tmp_path) == []


def test_export_to_a_fifo(store: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "dump.nq"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    result = export(store, str(fifo), "--format", "nq")
    reader.join(30)
    assert result.returncode == 0, result.stderr
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    regular = tmp_path / "regular.nq"
    assert export(store, str(regular)).returncode == 0
    assert got == [regular.read_bytes()] and got[0].count(b"\n") > 100


def test_export_to_dev_stdout_appends_to_the_open_file(store: Path, tmp_path: Path) -> None:
    """``-o /dev/stdout >> file`` writes into the file the shell opened, never replaces it."""
    log = tmp_path / "log.nq"
    log.write_bytes(b"# before\n")
    with log.open("ab") as out:
        result = subprocess.run(
            [sys.executable, "-m", "kg", "export", "--store", str(store), "-o", "/dev/stdout",
             "--format", "nq"],
            stdout=out, stderr=subprocess.PIPE, text=True, timeout=120,
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = log.read_bytes()
    assert data.startswith(b"# before\n<") and data.count(b"\n") > 100
    assert leftovers(tmp_path) == []


def test_export_through_a_symlink_keeps_link_and_mode(
    store: Path, tmp_path: Path, umask_022: None
) -> None:
    real = tmp_path / "real.nq"
    real.write_bytes(b"old\n")
    real.chmod(0o664)
    link = tmp_path / "latest.nq"
    link.symlink_to(real.name)  # relative, as people make them
    result = export(store, str(link))
    assert result.returncode == 0, result.stderr
    assert link.is_symlink() and os.readlink(link) == "real.nq"
    assert real.read_bytes().count(b"\n") > 100 and mode(real) == 0o664
    new = tmp_path / "new.ttl"
    assert export(store, str(new)).returncode == 0
    assert mode(new) == 0o644  # a new file: the umask's mode (was 0o600)
    assert leftovers(tmp_path) == []


def test_export_to_a_directory_is_one_line_exit_3(store: Path, tmp_path: Path) -> None:
    result = export(store, str(tmp_path), "--format", "nq")
    assert result.returncode == 3
    assert result.stderr.count("\n") == 1 and "Is a directory" in result.stderr
    assert "Traceback" not in result.stderr and leftovers(tmp_path) == []
