"""Faults around the store, the server and an interrupted build: one line and an exit code, never a traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "tests" / "data" / "seed"


def kg(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kg", *args],
        capture_output=True, text=True, timeout=timeout, cwd=ROOT,
        env={**os.environ, "PYTHONSAFEPATH": "1"},
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("good") / "store"
    done = kg("build", "-r", str(SEED), "--store", str(store))
    assert done.returncode == 0, done.stderr
    return store


COMMANDS = [
    ("export", "-o", "{tmp}/dump.nq"),
    ("query", "--name", "mentions"),
    ("validate",),
    ("evidence", "23906502"),
    ("build", "-r", str(SEED)),
    ("serve", "--port", "0"),
]


@pytest.mark.parametrize("command", COMMANDS, ids=[c[0] for c in COMMANDS])
def test_junk_current_file_is_one_line_and_exit_3(built: Path, tmp_path: Path, command: tuple[str, ...]) -> None:
    store = tmp_path / "store"
    shutil.copytree(built, store)
    (store / "current" / "CURRENT").write_text("junk\n")  # RocksDB's pointer to its manifest
    args = [a.replace("{tmp}", str(tmp_path)) for a in command]
    done = kg(*args, "--store", str(store))
    assert done.returncode == 3, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert str(store) in lines[0] and "not a readable Oxigraph store" in lines[0]
    assert "Corruption" in lines[0]
    assert not (tmp_path / "dump.nq").exists()  # nothing half-written


def test_serve_on_a_port_in_use_is_one_line_and_says_nothing_of_serving(built: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = kg("serve", "--store", str(built), "--port", str(port))
    assert done.returncode == 3, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert lines == [f"kg: error: cannot listen on 127.0.0.1:{port}: Address already in use"]


def _articles(dump: Path) -> set[str]:
    """The dump's quads but the metadata graph's (which records each build, with its time)."""
    return {q for q in dump.read_text(encoding="utf-8").splitlines() if not q.endswith("graph/metadata> .")}


def test_ctrl_c_during_a_build_is_one_line_exit_130_and_a_rerun_finishes_it(tmp_path: Path) -> None:
    import signal

    inputs = tmp_path / "in"
    for copy in "abc":  # the same records three times over: a build long enough to interrupt
        shutil.copytree(ROOT / "tests" / "data" / "xml", inputs / copy)
    store = tmp_path / "store"
    args = [sys.executable, "-m", "kg", "build", "-r", str(inputs), "--store", str(store)]
    process = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as from a terminal
    )
    time.sleep(4)
    assert process.poll() is None, "the build ended before it could be interrupted"
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert err.strip().splitlines() == ["kg: interrupted"]  # no worker's traceback
    assert not list(tmp_path.rglob(".kg-shards-*"))
    again = kg("build", "-r", str(inputs), "--store", str(store), timeout=300)
    assert again.returncode == 0, again.stderr
    clean = tmp_path / "clean"
    assert kg("build", "-r", str(inputs), "--store", str(clean), timeout=300).returncode == 0
    for s in (store, clean):
        assert kg("export", "--store", str(s), "-o", str(s) + ".nq").returncode == 0
    assert _articles(Path(str(store) + ".nq")) == _articles(Path(str(clean) + ".nq"))


@pytest.mark.parametrize("command", [
    ("query", "--format", "tsv", "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"),
    ("export", "-o", "-", "--format", "nq"),
], ids=["query", "export"])
def test_a_reader_that_goes_away_is_exit_141_and_no_message(built: Path, command: tuple[str, ...]) -> None:
    """`kg query … | head`: click said exit 1 ("does not conform"), export "cannot write: Broken pipe"."""
    process = subprocess.Popen(
        [sys.executable, "-m", "kg", *command, "--store", str(built)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
        env={**os.environ, "PYTHONSAFEPATH": "1"},
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # gone before kg writes a byte (head, once it has its lines, alike)
    err = process.stderr.read().decode()
    assert process.wait(timeout=120) == 141, err
    assert err == ""
