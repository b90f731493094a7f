"""The per-record stages the build benchmarks time (bench_build, bench_scale), one definition.

Each benchmark runs them in a child process of its own (``python -c`` from the project root,
``from benchmarks._stages import …``), so that peak RSS is the stage's alone.
"""

from __future__ import annotations

from pathlib import Path

from kg.extract import extract
from kg.mesh import MeshTable
from kg.models import Article
from kg.rdf.evidence import evidence_quads
from kg.rdf.iris import Iris
from kg.rdf.mapping import article_nquads
from kg.sources.files import read_file

IRIS = Iris("https://w3id.org/kg/id/")
MODES = ("parse", "map", "extract")


def warm() -> MeshTable:
    """The MeSH table with its matching index built: once per process, outside the timing."""
    mesh = MeshTable.default()
    mesh.lookup("warm")
    return mesh


def count(mode: str, path: Path, mesh: MeshTable) -> tuple[int, int]:
    """Articles read and quads made by ``mode``: parse only, parse + map, parse+extract+map."""
    if mode not in MODES:
        raise ValueError(f"mode {mode!r} is not one of {MODES}")
    n = q = 0
    for r in read_file(path):
        if isinstance(r, Article):
            n += 1
            if mode in ("map", "extract"):
                q += article_nquads(r, iris=IRIS).count("\n")
            if mode == "extract":
                q += len(evidence_quads(extract(r, mesh=mesh), iris=IRIS))
    return n, q
