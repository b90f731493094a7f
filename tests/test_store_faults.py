"""Faults around the store and the server: each is one line and exit 3, never a traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
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
    (store / "CURRENT").write_text("junk\n")  # RocksDB's pointer to its manifest
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
