"""Does extraction give byte-identical output to a saved baseline? For speed work on the rules.

Extracts every abstract of the shared PubMed records (``../shared/data/pubmed/xml``) and of
``tests/data`` and writes one line per article: its source, PMID, the ``repr`` of the Evidence
and the N-Quads :func:`kg.rdf.evidence.evidence_quads` makes of it. Save a baseline from a clean
checkout of the commit before the change, then compare the working tree against it:

    git worktree add --detach /tmp/wt-base HEAD
    PYTHONPATH=/tmp/wt-base python benchmarks/check_extract_identical.py --write /tmp/base.txt
    python benchmarks/check_extract_identical.py --against /tmp/base.txt

Exits 1 and prints the first differing records when any line differs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

import kg
from kg.errors import KgError
from kg.extract import extract
from kg.mesh import MeshTable
from kg.models import Article
from kg.rdf.evidence import evidence_quads
from kg.rdf.iris import Iris
from kg.sources.files import expand, read_file

ROOT = Path(__file__).resolve().parent.parent
CORPORA = (ROOT.parent / "shared" / "data" / "pubmed" / "xml", ROOT / "tests" / "data")
IRIS = Iris("https://w3id.org/kg/id/")


def articles(corpora: tuple[Path, ...] = CORPORA) -> Iterator[tuple[str, Article]]:
    """Every article with an abstract under ``corpora``, with the file it came from."""
    for corpus in corpora:
        for path in expand([corpus], recursive=True):
            try:
                for record in read_file(path):
                    if isinstance(record, Article) and record.abstract:
                        yield str(path.relative_to(corpus.parent)), record
            except KgError:
                continue  # a deliberately broken input of tests/data


def lines(mesh: MeshTable) -> Iterator[str]:
    for source, article in articles():
        evidence = extract(article, mesh=mesh)
        quads = sorted(str(q) for q in evidence_quads(evidence, iris=IRIS))
        yield f"{source}\t{article.pmid}\t{evidence!r}\t{quads!r}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    what = ap.add_mutually_exclusive_group(required=True)
    what.add_argument("--write", type=Path, help="save the dump here (the baseline)")
    what.add_argument("--against", type=Path, help="compare with this saved dump")
    args = ap.parse_args()
    print(f"kg from {Path(kg.__file__).parent}", file=sys.stderr)
    mesh = MeshTable.default()
    got = list(lines(mesh))
    if args.write:
        args.write.write_text("\n".join(got) + "\n", encoding="utf-8")
        print(f"wrote {len(got)} records to {args.write}")
        return
    want = args.against.read_text(encoding="utf-8").splitlines()
    differ = [(w, g) for w, g in zip(want, got, strict=False) if w != g]
    print(f"{len(got)} records extracted, {len(want)} in the baseline, {len(differ)} differ")
    for w, g in differ[:3]:
        print(f"- {w[:2000]}\n+ {g[:2000]}")
    if differ or len(want) != len(got):
        sys.exit(1)


if __name__ == "__main__":
    main()
